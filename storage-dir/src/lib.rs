//! Directory storage for rlxc: the rootfs is a plain directory (`dir:/path`),
//! the backend LXC uses by default.
//!
//! - `create` makes `<container dir>/rootfs` (or `--dir DIR`), mode 0755.
//! - `mount` bind-mounts the directory where the launcher wants it; `umount` undoes it.
//! - `destroy` removes the tree, but refuses a path that has anything mounted
//!   below it (so a leftover bind of the host's `/proc` or `/home` can never be
//!   deleted through a container) and refuses `/` outright.
//!
//! - `copy` copies another rootfs (of any backend, mounted) into a new
//!   directory with rlxc's own tree copy ([`rlxc_core::storage::copy_tree`]).
//!
//! The [`overlay`] driver, for snapshot clones of dir containers, lives here
//! too (its lower layer is a dir rootfs), and the [`loop_image`] driver, a
//! filesystem image in the container's directory.
//!
//! Privileges: `create`/`destroy` need write access to the lxcpath; `mount` needs
//! `CAP_SYS_ADMIN`. Depends on `rlxc-core` only.

pub mod loop_image;
pub mod loopdev;
pub mod overlay;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rlxc_core::storage::{CreateRequest, RootfsSpec, Storage, StorageCaps, StorageError};
use rlxc_core::sys::Sys;

pub use rlxc_core::storage::{mounts_below, tree_size};

/// The backend name.
pub const NAME: &str = "dir";

/// The directory backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct Driver;

/// Registers the `dir` and `overlay` backends.
pub fn register(r: &mut rlxc_core::registry::Registry) {
    r.add_storage(std::sync::Arc::new(Driver::new()));
    r.add_storage(std::sync::Arc::new(overlay::Overlay));
    r.add_storage(std::sync::Arc::new(loop_image::Loop));
}

impl Driver {
    /// The driver.
    pub fn new() -> Self {
        Driver
    }
}

fn invalid(spec: &RootfsSpec, reason: impl Into<String>) -> StorageError {
    StorageError::Invalid {
        rootfs: spec.to_string(),
        reason: reason.into(),
    }
}

#[async_trait]
impl Storage for Driver {
    fn name(&self) -> &'static str {
        NAME
    }

    fn caps(&self) -> StorageCaps {
        StorageCaps {
            snapshot: false,
            copy: true,
            resize: false,
            needs_mount: false,
            snapshot_depends: false,
        }
    }

    fn detect(&self, spec: &RootfsSpec) -> bool {
        spec.backend.as_deref() == Some(NAME)
            || (spec.backend.is_none() && Path::new(&spec.location).is_dir())
    }

    async fn create(
        &self,
        _sys: &dyn Sys,
        req: &CreateRequest,
    ) -> Result<RootfsSpec, StorageError> {
        let path = req
            .options
            .get("dir")
            .map_or_else(|| req.container_dir.join("rootfs"), PathBuf::from);
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new("/")))
            .map_err(|e| StorageError::io(&path, e))?;
        match std::fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && is_empty_dir(&path) => {}
            Err(e) => return Err(StorageError::io(&path, e)),
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| StorageError::io(&path, e))?;
        Ok(RootfsSpec::new(NAME, path.display().to_string()))
    }

    async fn copy(
        &self,
        _sys: &dyn Sys,
        src_path: &Path,
        req: &CreateRequest,
    ) -> Result<RootfsSpec, StorageError> {
        let path = req
            .options
            .get("dir")
            .map_or_else(|| req.container_dir.join("rootfs"), PathBuf::from);
        if let Err(e) = rlxc_core::storage::copy_tree(src_path, &path) {
            // Nothing half-copied stays behind.
            let _ = std::fs::remove_dir_all(&path);
            return Err(StorageError::io(&e.path, e.source));
        }
        Ok(RootfsSpec::new(NAME, path.display().to_string()))
    }

    async fn mount(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
        target: &Path,
    ) -> Result<(), StorageError> {
        rlxc_core::storage::bind_rootfs(sys, spec, Path::new(&spec.location), target)
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
        let path = Path::new(&spec.location);
        let canonical = match std::fs::canonicalize(path) {
            Ok(p) => p,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StorageError::io(path, e)),
        };
        if canonical == Path::new("/") {
            return Err(invalid(spec, "refusing to delete `/`"));
        }
        let mounted = mounts_below(Path::new("/proc/self/mountinfo"), &canonical)
            .map_err(|e| StorageError::io(path, e))?;
        if !mounted.is_empty() {
            let list: Vec<String> = mounted.iter().map(|p| p.display().to_string()).collect();
            return Err(invalid(
                spec,
                format!(
                    "refusing to delete: still mounted below it: {}",
                    list.join(", ")
                ),
            ));
        }
        std::fs::remove_dir_all(&canonical).map_err(|e| StorageError::io(&canonical, e))
    }

    async fn size(&self, _sys: &dyn Sys, spec: &RootfsSpec) -> Result<u64, StorageError> {
        let path = Path::new(&spec.location);
        tree_size(path).map_err(|e| StorageError::io(path, e))
    }
}

fn is_empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p).is_ok_and(|mut d| d.next().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rlxc_core::sys::{FakeSys, SysCall};

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn create_size_destroy() {
        let d = tempfile::tempdir().unwrap();
        let req = CreateRequest {
            name: "c1".into(),
            container_dir: d.path().join("c1"),
            ..CreateRequest::default()
        };
        let sys = FakeSys::new();
        let spec = block_on(Driver.create(&sys, &req)).unwrap();
        assert_eq!(
            spec.to_string(),
            format!("dir:{}/c1/rootfs", d.path().display())
        );
        std::fs::write(d.path().join("c1/rootfs/f"), b"12345").unwrap();
        assert!(block_on(Driver.size(&sys, &spec)).unwrap() >= 5);
        assert!(Driver.detect(&RootfsSpec::parse(&spec.location)));
        block_on(Driver.destroy(&sys, &spec)).unwrap();
        assert!(!d.path().join("c1/rootfs").exists());
        block_on(Driver.destroy(&sys, &spec)).unwrap();
        assert!(sys.calls().is_empty());
    }

    #[test]
    fn mount_is_a_recursive_bind() {
        let d = tempfile::tempdir().unwrap();
        let sys = FakeSys::new();
        let spec = RootfsSpec::new(NAME, d.path().display().to_string());
        block_on(Driver.mount(&sys, &spec, Path::new("/mnt/target"))).unwrap();
        let SysCall::Mount(m) = &sys.calls()[0] else {
            panic!("no mount")
        };
        assert_eq!(m.source.as_deref(), Some(d.path()));
        assert!(m
            .flags
            .contains(nix::mount::MsFlags::MS_BIND | nix::mount::MsFlags::MS_REC));
        let missing = RootfsSpec::new(NAME, "/nonexistent/rootfs");
        assert!(block_on(Driver.mount(&sys, &missing, Path::new("/mnt"))).is_err());
    }

    #[test]
    fn refuses_to_delete_root() {
        let err =
            block_on(Driver.destroy(&FakeSys::new(), &RootfsSpec::new(NAME, "/"))).unwrap_err();
        assert!(err.to_string().contains("refusing to delete `/`"), "{err}");
    }
}
