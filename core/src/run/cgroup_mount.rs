//! `lxc.mount.auto = cgroup[:mixed|:ro|:rw][:force]` (and `cgroup-full…`):
//! the container's own cgroups at `/sys/fs/cgroup`, laid out as the host's
//! (one directory per v1 hierarchy, cgroup2 at `unified` on a hybrid host,
//! cgroup2 alone on a v2 host).
//!
//! They are mounted from inside the container's cgroup namespace, after the
//! pivot: each mount's root is then the container's own cgroup, so the
//! container sees nothing above it. `mixed` and `rw` leave the container's
//! own cgroups writable (under a namespace root there is nothing else to
//! write) and `ro` makes them read-only; the tmpfs holding the hierarchy
//! directories is read-only except for `rw`.

use nix::mount::MsFlags;

use crate::cgroups::CgroupLayout;

/// How `/sys/fs/cgroup` is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CgroupMode {
    /// Not at all.
    #[default]
    Off,
    /// `cgroup:ro`.
    Ro,
    /// `cgroup` or `cgroup:mixed`.
    Mixed,
    /// `cgroup:rw`.
    Rw,
}

impl CgroupMode {
    /// The mode of a `cgroup[-full][:OPT…]` token's options.
    pub fn parse(opts: &str) -> CgroupMode {
        let mut m = CgroupMode::Mixed;
        for o in opts.split(':') {
            match o {
                "ro" => m = CgroupMode::Ro,
                "rw" => m = CgroupMode::Rw,
                "mixed" => m = CgroupMode::Mixed,
                _ => {} // `force`, and the empty option of a bare token
            }
        }
        m
    }
}

const BASE: MsFlags = MsFlags::MS_NOSUID
    .union(MsFlags::MS_NODEV)
    .union(MsFlags::MS_NOEXEC);

/// One mount to make below `/sys/fs/cgroup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMount {
    /// Directory below `/sys/fs/cgroup` (`""`: `/sys/fs/cgroup` itself).
    pub dir: String,
    /// `cgroup` or `cgroup2`.
    pub fstype: &'static str,
    /// Mount data (`memory`, `none,name=systemd`).
    pub data: Option<String>,
}

/// The mounts for a host with `layout`, in order.
pub fn mounts(layout: &CgroupLayout) -> Vec<CgroupMount> {
    let mut out: Vec<CgroupMount> = layout
        .v1
        .iter()
        .map(|h| {
            let dir = h
                .mountpoint
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| h.controllers.join(","));
            let named: Vec<&String> = h
                .controllers
                .iter()
                .filter(|c| c.starts_with("name="))
                .collect();
            let data = if named.is_empty() {
                h.controllers.join(",")
            } else {
                format!("none,{}", h.controllers.join(","))
            };
            CgroupMount {
                dir,
                fstype: "cgroup",
                data: Some(data),
            }
        })
        .collect();
    if let Some(u) = &layout.unified {
        let dir = if layout.v1.is_empty() {
            String::new()
        } else {
            u.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or("unified".into())
        };
        out.push(CgroupMount {
            dir,
            fstype: "cgroup2",
            data: None,
        });
    }
    out
}

fn mount(
    source: &str,
    target: &str,
    fstype: &str,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), String> {
    nix::mount::mount(Some(source), target, Some(fstype), flags, data).map_err(|e| {
        format!(
            "lxc.mount.auto cgroup: mounting {fstype} at {target}: {}",
            e.desc()
        )
    })
}

/// Mounts the container's cgroups at `/sys/fs/cgroup` (call inside its
/// cgroup namespace, after the pivot).
pub fn mount_cgroups(mode: CgroupMode, layout: &CgroupLayout) -> Result<(), String> {
    if mode == CgroupMode::Off {
        return Ok(());
    }
    let base = "/sys/fs/cgroup";
    let ro = if mode == CgroupMode::Ro {
        MsFlags::MS_RDONLY
    } else {
        MsFlags::empty()
    };
    let all = mounts(layout);
    // A v2 host: cgroup2 right at /sys/fs/cgroup, no tmpfs.
    if let [only] = all.as_slice() {
        if only.dir.is_empty() {
            return mount("cgroup2", base, "cgroup2", BASE | ro, None);
        }
    }
    mount("cgroup", base, "tmpfs", BASE, Some("mode=755,size=64k"))?;
    for m in &all {
        let target = format!("{base}/{}", m.dir);
        std::fs::create_dir_all(&target)
            .map_err(|e| format!("lxc.mount.auto cgroup: making {target}: {e}"))?;
        mount(m.fstype, &target, m.fstype, BASE | ro, m.data.as_deref())?;
    }
    if mode != CgroupMode::Rw {
        let flags = MsFlags::MS_REMOUNT | BASE | MsFlags::MS_RDONLY;
        nix::mount::mount(
            None::<&str>,
            base,
            None::<&str>,
            flags,
            Some("mode=755,size=64k"),
        )
        .map_err(|e| {
            format!(
                "lxc.mount.auto cgroup: making {base} read-only: {}",
                e.desc()
            )
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_follow_lxc() {
        assert_eq!(CgroupMode::parse(""), CgroupMode::Mixed);
        assert_eq!(CgroupMode::parse("mixed"), CgroupMode::Mixed);
        assert_eq!(CgroupMode::parse("ro:force"), CgroupMode::Ro);
        assert_eq!(CgroupMode::parse("rw"), CgroupMode::Rw);
    }

    #[test]
    fn the_layout_is_the_hosts() {
        let mut l = CgroupLayout::fake_legacy(&["memory", "name=systemd"]);
        l.v1[1].mountpoint = "/sys/fs/cgroup/systemd".into();
        l.unified = Some("/sys/fs/cgroup/unified".into());
        let m = mounts(&l);
        assert_eq!(
            m[0],
            CgroupMount {
                dir: "memory".into(),
                fstype: "cgroup",
                data: Some("memory".into())
            }
        );
        assert_eq!(m[1].dir, "systemd");
        assert_eq!(m[1].data.as_deref(), Some("none,name=systemd"));
        assert_eq!(
            m[2],
            CgroupMount {
                dir: "unified".into(),
                fstype: "cgroup2",
                data: None
            }
        );
        let v2 = mounts(&CgroupLayout::fake_unified(&["memory"]));
        assert_eq!(
            v2,
            [CgroupMount {
                dir: String::new(),
                fstype: "cgroup2",
                data: None
            }]
        );
    }
}
