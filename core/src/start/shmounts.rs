//! `lxc.mount.auto = shmounts:HOST[:CONTAINER]`, the host side: a small
//! tmpfs at HOST in the host's mount namespace, made shared, so that what the
//! host (a container manager injecting mounts) later mounts below it
//! propagates into the container, where the child binds it at CONTAINER.
//! Made once and then reused by every container naming the same HOST; like
//! LXC, a stop leaves it (other containers may share it).

use std::path::Path;

use nix::mount::MsFlags;

use super::launch::Launch;
use super::StartError;
use crate::sys::MountRequest;

/// Whether `path` (canonical) is a mount point in this mount namespace
/// (mountinfo escapes spaces and the like as `\NNN`).
fn is_mount_point(path: &Path) -> bool {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let want = path.display().to_string();
    text.lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .any(|m| unescape(m) == want)
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b
            .get(i + 1..i + 4)
            .and_then(|d| std::str::from_utf8(d).ok());
        match (b[i], oct.and_then(|d| u8::from_str_radix(d, 8).ok())) {
            (b'\\', Some(c)) => {
                out.push(c);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `TMPFS_MAGIC`.
const TMPFS: i64 = 0x0102_1994;

fn is_tmpfs(path: &Path) -> bool {
    nix::sys::statfs::statfs(path).is_ok_and(|s| s.filesystem_type().0 == TMPFS)
}

impl Launch {
    /// Runs in the host's mount namespace, before the monitor makes its own.
    pub(super) fn prepare_shmount(&mut self) -> Result<(), StartError> {
        let Some((host, _)) = self.plan.spec.auto_mounts.shmounts.clone() else {
            return Ok(());
        };
        std::fs::create_dir_all(&host).map_err(self.io(&format!(
            "making {} (lxc.mount.auto shmounts)",
            host.display()
        )))?;
        let host = std::fs::canonicalize(&host).map_err(self.io("resolving the shmounts path"))?;
        let mounted = is_mount_point(&host);
        if mounted && !is_tmpfs(&host) {
            // Making someone else's mount shared would change the host's propagation.
            return Err(StartError::Hook {
                name: self.plan.name.clone(),
                why: format!(
                    "lxc.mount.auto shmounts: {} is already a mount of another filesystem, not rlxc's tmpfs",
                    host.display()
                ),
            });
        }
        if !mounted {
            self.sys
                .mount(&MountRequest {
                    source: Some("tmpfs".into()),
                    target: host.clone(),
                    fstype: Some("tmpfs".into()),
                    flags: MsFlags::empty(),
                    data: Some("size=100k,mode=0711".into()),
                })
                .map_err(self.sys_err("mounting the shmounts tmpfs"))?;
        }
        self.sys
            .mount(&MountRequest {
                source: None,
                target: host,
                fstype: None,
                flags: MsFlags::MS_SHARED,
                data: None,
            })
            .map_err(self.sys_err("making the shmounts tmpfs shared"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_read_back() {
        assert_eq!(unescape("/a\\040b"), "/a b");
        assert_eq!(unescape("/plain"), "/plain");
        assert!(is_mount_point(Path::new("/")));
    }
}
