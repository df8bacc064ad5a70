//! The `overlay` backend: a snapshot clone of a dir container, as LXC lays
//! it out. `lxc.rootfs.path = overlay:LOWER:UPPER` with LOWER the origin's
//! rootfs (several layers joined by `:` are passed on as they are) and UPPER
//! `<clone dir>/overlay/delta`; the kernel's work directory is
//! `<clone dir>/overlay/work`.
//!
//! - `snapshot` of a dir rootfs makes the empty delta; of an overlay one, it
//!   reuses the origin's lower layer and copies its delta (no stacking, as
//!   LXC), so the new clone depends on the same dir rootfs.
//! - `mount` mounts the overlay at the start's target; `destroy` removes the
//!   delta and work directories only: the lower layer is the origin's.
//! - `create` and `copy` are refused: an overlay is only ever a snapshot.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rlxc_core::storage::{
    CreateRequest, RootfsSpec, Storage, StorageCaps, StorageError, UsernsMount,
};
use rlxc_core::sys::{MountRequest, Sys};

/// The backend name.
pub const NAME: &str = "overlay";

/// The overlay backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct Overlay;

fn invalid(spec: &RootfsSpec, reason: impl Into<String>) -> StorageError {
    StorageError::Invalid {
        rootfs: spec.to_string(),
        reason: reason.into(),
    }
}

/// `LOWER:UPPER` split at the last `:/` (a lower may hold several layers).
pub fn layers(spec: &RootfsSpec) -> Result<(String, PathBuf), StorageError> {
    let loc = &spec.location;
    match loc.rfind(":/") {
        Some(i) if i > 0 => Ok((loc[..i].to_string(), PathBuf::from(&loc[i + 1..]))),
        _ => Err(invalid(
            spec,
            "an overlay rootfs is `overlay:LOWER:UPPER`, both absolute paths",
        )),
    }
}

/// The work directory next to `upper`.
fn work_dir(upper: &Path) -> PathBuf {
    upper.parent().unwrap_or(Path::new("/")).join("work")
}

fn mkdir_all(p: &Path) -> Result<(), StorageError> {
    std::fs::create_dir_all(p).map_err(|e| StorageError::io(p, e))
}

#[async_trait]
impl Storage for Overlay {
    fn name(&self) -> &'static str {
        NAME
    }

    fn caps(&self) -> StorageCaps {
        StorageCaps {
            snapshot: true,
            copy: false,
            resize: false,
            needs_mount: true,
            snapshot_depends: true,
        }
    }

    async fn create(
        &self,
        _sys: &dyn Sys,
        _req: &CreateRequest,
    ) -> Result<RootfsSpec, StorageError> {
        Err(StorageError::Invalid {
            rootfs: "overlay".into(),
            reason: "the overlay storage driver can only be used for snapshots (copy -s of a dir container)".into(),
        })
    }

    async fn snapshot(
        &self,
        _sys: &dyn Sys,
        src: &RootfsSpec,
        req: &CreateRequest,
    ) -> Result<RootfsSpec, StorageError> {
        let overlay_dir = req.container_dir.join("overlay");
        let upper = overlay_dir.join("delta");
        let lower = match src.backend.as_deref() {
            Some("dir") | None => src.location.clone(),
            Some(NAME) => {
                let (lower, src_upper) = layers(src)?;
                mkdir_all(&overlay_dir)?;
                rlxc_core::storage::copy_tree(&src_upper, &upper)
                    .map_err(|e| StorageError::io(&e.path, e.source))?;
                lower
            }
            Some(other) => {
                return Err(invalid(
                    src,
                    format!(
                    "an overlay snapshot of a {other} rootfs is not supported; copy it without -s"
                ),
                ))
            }
        };
        mkdir_all(&upper)?;
        mkdir_all(&work_dir(&upper))?;
        mkdir_all(&req.container_dir.join("rootfs"))?;
        Ok(RootfsSpec::new(
            NAME,
            format!("{lower}:{}", upper.display()),
        ))
    }

    async fn host_path(
        &self,
        _sys: &dyn Sys,
        _spec: &RootfsSpec,
    ) -> Result<Option<PathBuf>, StorageError> {
        Ok(None)
    }

    fn userns_mount(&self, spec: &RootfsSpec) -> Option<UsernsMount> {
        let (lower, upper) = layers(spec).ok()?;
        Some(UsernsMount {
            fstype: "overlay".into(),
            dirs: vec![
                (
                    "lowerdir".into(),
                    lower.split(':').map(PathBuf::from).collect(),
                ),
                ("upperdir".into(), vec![upper.clone()]),
                ("workdir".into(), vec![work_dir(&upper)]),
            ],
            flags: vec!["userxattr".into()],
        })
    }

    async fn mount(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
        target: &Path,
    ) -> Result<(), StorageError> {
        let (lower, upper) = layers(spec)?;
        for l in lower.split(':') {
            if !Path::new(l).is_dir() {
                return Err(invalid(spec, format!("the lower layer {l} does not exist")));
            }
        }
        let work = work_dir(&upper);
        mkdir_all(&upper)?;
        mkdir_all(&work)?;
        let req = MountRequest {
            source: Some(PathBuf::from("overlay")),
            target: target.to_path_buf(),
            fstype: Some("overlay".into()),
            flags: nix::mount::MsFlags::empty(),
            data: Some(format!(
                "lowerdir={lower},upperdir={},workdir={}{}",
                upper.display(),
                work.display(),
                // A user's overlay (mounted in its container's user
                // namespace) keeps its whiteouts and opaque marks in
                // `user.overlay.*`: `trusted.*` needs the host's root.
                if rlxc_core::userns::in_initial_userns() {
                    ""
                } else {
                    ",userxattr"
                }
            )),
        };
        sys.mount(&req).map_err(|source| StorageError::Sys {
            rootfs: spec.to_string(),
            source,
        })
    }

    async fn umount(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
        target: &Path,
    ) -> Result<(), StorageError> {
        rlxc_core::storage::umount_quietly(sys, spec, target)
    }

    async fn destroy(&self, _sys: &dyn Sys, spec: &RootfsSpec) -> Result<(), StorageError> {
        let (_, upper) = layers(spec)?;
        let work = work_dir(&upper);
        for d in [&upper, &work] {
            let mounted = super::mounts_below(Path::new("/proc/self/mountinfo"), d)
                .map_err(|e| StorageError::io(d, e))?;
            if !mounted.is_empty() {
                return Err(invalid(
                    spec,
                    format!("refusing to delete {}: still mounted", d.display()),
                ));
            }
            match std::fs::remove_dir_all(d) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(StorageError::io(d, e))
                }
                _ => {}
            }
        }
        // `<clone>/overlay`, when it held only these two.
        if let Some(parent) = upper.parent().filter(|p| p.ends_with("overlay")) {
            let _ = std::fs::remove_dir(parent);
        }
        Ok(())
    }

    async fn size(&self, _sys: &dyn Sys, spec: &RootfsSpec) -> Result<u64, StorageError> {
        let (_, upper) = layers(spec)?;
        super::tree_size(&upper).map_err(|e| StorageError::io(&upper, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lower_and_upper_at_the_last_absolute_path() {
        let s = RootfsSpec::parse("overlay:/var/lib/lxc/c1/rootfs:/var/lib/lxc/c2/overlay/delta");
        let (l, u) = layers(&s).unwrap();
        assert_eq!(l, "/var/lib/lxc/c1/rootfs");
        assert_eq!(u, Path::new("/var/lib/lxc/c2/overlay/delta"));
        assert_eq!(work_dir(&u), Path::new("/var/lib/lxc/c2/overlay/work"));
        let multi = RootfsSpec::parse("overlay:/a:/b:/c/delta");
        assert_eq!(layers(&multi).unwrap().0, "/a:/b");
        assert!(layers(&RootfsSpec::parse("overlay:/only")).is_err());
    }

    #[test]
    fn a_snapshot_of_a_dir_makes_lxcs_layout() {
        let d = tempfile::tempdir().unwrap();
        let req = CreateRequest {
            container_dir: d.path().join("c2"),
            ..CreateRequest::default()
        };
        let src = RootfsSpec::new("dir", "/var/lib/lxc/c1/rootfs");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let sys = rlxc_core::sys::FakeSys::new();
        let spec = rt.block_on(Overlay.snapshot(&sys, &src, &req)).unwrap();
        assert_eq!(
            spec.to_string(),
            format!(
                "overlay:/var/lib/lxc/c1/rootfs:{}/c2/overlay/delta",
                d.path().display()
            )
        );
        for sub in ["overlay/delta", "overlay/work", "rootfs"] {
            assert!(d.path().join("c2").join(sub).is_dir(), "{sub}");
        }
        rt.block_on(Overlay.destroy(&sys, &spec)).unwrap();
        assert!(!d.path().join("c2/overlay").exists());
    }
}
