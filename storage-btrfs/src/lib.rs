//! btrfs storage for rlxc: a subvolume per container and native snapshots,
//! through the kernel's ioctls ([`ioctl`]; no `btrfs` tool, no btrfsutil).
//!
//! - `create` makes the subvolume `<container dir>/rootfs`
//!   (`btrfs:<path>`); it is the backend a `create` without `-B` (and
//!   `-B best`) picks when the lxcpath is on btrfs.
//! - `snapshot` (`copy -s`) snapshots the origin's subvolume; so does a
//!   plain `copy` between subvolumes of one filesystem, as in LXC.
//! - `copy` from any other rootfs makes a real subvolume and copies into it
//!   (LXC writes `btrfs:` over a plain directory there, which its destroy
//!   then cannot remove).
//! - `mount` is a bind, as for dir; `destroy` deletes nested subvolumes
//!   bottom-up, then the container's.
//!
//! Privileges: root (subvolume ioctls need `CAP_SYS_ADMIN` unless the
//! filesystem is mounted `user_subvol_rm_allowed`). Depends on `rlxc-core`
//! only.

pub mod ioctl;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rlxc_core::storage::{CreateRequest, RootfsSpec, Storage, StorageCaps, StorageError};
use rlxc_core::sys::Sys;

/// The backend name.
pub const NAME: &str = "btrfs";

/// The btrfs backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct Btrfs;

/// Registers the `btrfs` backend.
pub fn register(r: &mut rlxc_core::registry::Registry) {
    r.add_storage(std::sync::Arc::new(Btrfs));
}

fn invalid(rootfs: &str, reason: impl Into<String>) -> StorageError {
    StorageError::Invalid {
        rootfs: rootfs.to_string(),
        reason: reason.into(),
    }
}

/// Where the new rootfs goes: `--dir`, else `<container dir>/rootfs`.
fn target(req: &CreateRequest) -> PathBuf {
    req.options
        .get("dir")
        .map_or_else(|| req.container_dir.join("rootfs"), PathBuf::from)
}

/// `(parent, name)` of a subvolume path.
fn split(p: &Path) -> Result<(&Path, &std::ffi::OsStr), StorageError> {
    match (p.parent(), p.file_name()) {
        (Some(d), Some(n)) => Ok((d, n)),
        _ => Err(invalid(&p.display().to_string(), "not a subvolume path")),
    }
}

fn new_subvolume(path: &Path) -> Result<(), StorageError> {
    let (parent, name) = split(path)?;
    if !ioctl::on_btrfs(parent) {
        return Err(invalid(
            &format!("btrfs:{}", path.display()),
            format!("{} is not on a btrfs filesystem", parent.display()),
        ));
    }
    ioctl::create_subvolume(parent, name).map_err(|e| StorageError::io(path, e))
}

fn spec(path: &Path) -> RootfsSpec {
    RootfsSpec::new(NAME, path.display().to_string())
}

#[async_trait]
impl Storage for Btrfs {
    fn name(&self) -> &'static str {
        NAME
    }

    fn caps(&self) -> StorageCaps {
        StorageCaps {
            snapshot: true,
            copy: true,
            resize: false,
            needs_mount: false,
            snapshot_depends: false,
        }
    }

    fn detect(&self, spec: &RootfsSpec) -> bool {
        spec.backend.as_deref() == Some(NAME)
            || (spec.backend.is_none() && ioctl::is_subvolume(Path::new(&spec.location)))
    }

    fn usable_in(&self, lxcpath: &Path) -> bool {
        ioctl::on_btrfs(lxcpath)
    }

    async fn create(
        &self,
        _sys: &dyn Sys,
        req: &CreateRequest,
    ) -> Result<RootfsSpec, StorageError> {
        let path = target(req);
        new_subvolume(&path)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| StorageError::io(&path, e))?;
        Ok(spec(&path))
    }

    async fn copy(
        &self,
        _sys: &dyn Sys,
        src_path: &Path,
        req: &CreateRequest,
    ) -> Result<RootfsSpec, StorageError> {
        let path = target(req);
        // Between subvolumes of one filesystem a copy is a snapshot, as in
        // LXC; the kernel says EXDEV when they are not on one.
        if ioctl::is_subvolume(src_path) {
            let (parent, name) = split(&path)?;
            match ioctl::snapshot(src_path, parent, name) {
                Ok(()) => return Ok(spec(&path)),
                Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {}
                Err(e) => return Err(StorageError::io(&path, e)),
            }
        }
        new_subvolume(&path)?;
        if let Err(e) = rlxc_core::storage::copy_tree_into(src_path, &path) {
            let _ = ioctl::destroy_recursive(&path);
            return Err(StorageError::io(&e.path, e.source));
        }
        Ok(spec(&path))
    }

    async fn snapshot(
        &self,
        _sys: &dyn Sys,
        src: &RootfsSpec,
        req: &CreateRequest,
    ) -> Result<RootfsSpec, StorageError> {
        let from = Path::new(&src.location);
        if !ioctl::is_subvolume(from) {
            return Err(invalid(
                &src.to_string(),
                "not a btrfs subvolume: it cannot be snapshotted",
            ));
        }
        let path = target(req);
        let (parent, name) = split(&path)?;
        ioctl::snapshot(from, parent, name).map_err(|e| match e.raw_os_error() {
            Some(libc::EXDEV) => StorageError::Io {
                path: path.clone(),
                source: std::io::Error::new(
                    e.kind(),
                    format!(
                        "a snapshot of {} must be on its btrfs filesystem: {e}",
                        from.display()
                    ),
                ),
            },
            _ => StorageError::io(&path, e),
        })?;
        Ok(spec(&path))
    }

    fn make_cache_tree(&self, dir: &Path) -> Result<bool, StorageError> {
        let (parent, name) = split(dir)?;
        if !ioctl::on_btrfs(parent) {
            return Ok(false);
        }
        ioctl::create_subvolume(parent, name).map_err(|e| StorageError::io(dir, e))?;
        Ok(true)
    }

    async fn fill_from_tree(
        &self,
        _sys: &dyn Sys,
        spec: &RootfsSpec,
        src: &Path,
    ) -> Result<bool, StorageError> {
        let path = PathBuf::from(&spec.location);
        let empty = std::fs::read_dir(&path)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !ioctl::is_subvolume(src) || !ioctl::is_subvolume(&path) || !empty {
            return Ok(false);
        }
        // The empty subvolume gives way to a snapshot of the tree; the kernel
        // says EXDEV before anything changes when the two are on different
        // filesystems, so that is checked first with a snapshot aside.
        let (parent, name) = split(&path)?;
        let aside = std::ffi::OsString::from(format!(
            ".{}.fill-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        match ioctl::snapshot(src, parent, &aside) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => return Ok(false),
            Err(e) => return Err(StorageError::io(&path, e)),
        }
        let swap = ioctl::destroy_subvolume(parent, name)
            .and_then(|()| std::fs::rename(parent.join(&aside), &path));
        if let Err(e) = swap {
            let _ = ioctl::destroy_subvolume(parent, &aside);
            if !path.exists() {
                let _ = ioctl::create_subvolume(parent, name);
            }
            return Err(StorageError::io(&path, e));
        }
        Ok(true)
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
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StorageError::io(path, e)),
            Ok(m) if !m.is_dir() => {
                return Err(invalid(&spec.to_string(), "the rootfs is not a directory"))
            }
            Ok(_) => {}
        }
        // As for dir: never `/`, never a tree with something mounted in it
        // (a bind of a host directory, of another btrfs: not ours to delete).
        let canonical = std::fs::canonicalize(path).map_err(|e| StorageError::io(path, e))?;
        if canonical == Path::new("/") {
            return Err(invalid(&spec.to_string(), "refusing to delete `/`"));
        }
        let mounted =
            rlxc_core::storage::mounts_below(Path::new("/proc/self/mountinfo"), &canonical)
                .map_err(|e| StorageError::io(path, e))?;
        if !mounted.is_empty() {
            let list: Vec<String> = mounted.iter().map(|p| p.display().to_string()).collect();
            return Err(invalid(
                &spec.to_string(),
                format!(
                    "refusing to delete: still mounted below it: {}",
                    list.join(", ")
                ),
            ));
        }
        if ioctl::is_subvolume(&canonical) {
            return ioctl::destroy_recursive(&canonical).map_err(|e| StorageError::io(path, e));
        }
        // A plain directory under a `btrfs:` name (what LXC's copy from dir
        // leaves): removed as a directory.
        std::fs::remove_dir_all(path).map_err(|e| StorageError::io(path, e))
    }

    async fn size(&self, _sys: &dyn Sys, spec: &RootfsSpec) -> Result<u64, StorageError> {
        let path = Path::new(&spec.location);
        rlxc_core::storage::tree_size(path).map_err(|e| StorageError::io(path, e))
    }
}
