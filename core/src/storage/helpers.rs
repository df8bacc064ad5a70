//! What several backends do the same way: bind a rootfs directory, undo a
//! mount quietly, and fill a new volume that must be mounted to be written.

use std::path::Path;
use std::sync::Arc;

use super::{RootfsSpec, Storage, StorageError};
use crate::sys::{MountRequest, Sys, SysError};

/// Bind-mounts the rootfs directory `src` (recursively) at `target`.
pub fn bind_rootfs(
    sys: &dyn Sys,
    spec: &RootfsSpec,
    src: &Path,
    target: &Path,
) -> Result<(), StorageError> {
    if !src.is_dir() {
        return Err(StorageError::Invalid {
            rootfs: spec.to_string(),
            reason: format!("the rootfs directory {} does not exist", src.display()),
        });
    }
    let req = MountRequest {
        source: Some(src.to_path_buf()),
        target: target.to_path_buf(),
        fstype: None,
        flags: nix::mount::MsFlags::MS_BIND | nix::mount::MsFlags::MS_REC,
        data: None,
    };
    sys.mount(&req).map_err(|source| StorageError::Sys {
        rootfs: spec.to_string(),
        source,
    })
}

/// Unmounts `target`; not mounted (EINVAL) or gone (ENOENT) is nothing to undo.
pub fn umount_quietly(sys: &dyn Sys, spec: &RootfsSpec, target: &Path) -> Result<(), StorageError> {
    match sys.umount(target, true) {
        Ok(()) => Ok(()),
        Err(SysError::Syscall { source, .. })
            if source == nix::Error::EINVAL || source == nix::Error::ENOENT =>
        {
            Ok(())
        }
        Err(source) => Err(StorageError::Sys {
            rootfs: spec.to_string(),
            source,
        }),
    }
}

/// Copies the tree at `src` into the new rootfs `spec` of `storage`, which
/// must be mounted to be written (an image, a volume): mounted at `mnt` in a
/// private mount namespace, so nothing stays mounted when the copy fails or
/// rlxc is killed.
pub fn fill_by_mount(
    storage: Arc<dyn Storage>,
    spec: &RootfsSpec,
    mnt: &Path,
    src: &Path,
) -> Result<(), String> {
    use crate::container::private_mounts::{block_on_forked, in_private_mounts};
    let (spec, mnt, src) = (spec.clone(), mnt.to_path_buf(), src.to_path_buf());
    in_private_mounts("filling the new rootfs", move || {
        let sys = crate::sys::RealSys;
        block_on_forked(storage.mount(&sys, &spec, &mnt))?.map_err(|e| e.to_string())?;
        super::copy_tree_into(&src, &mnt).map_err(|e| e.to_string())?;
        Ok(String::new())
    })
    .map(|_| ())
}

/// The rootfs readable at a path here: its host path, or mounted at `mnt`
/// (the caller is in a private mount namespace).
pub fn reach_rootfs(
    storage: &Arc<dyn Storage>,
    spec: &RootfsSpec,
    mnt: &Path,
) -> Result<std::path::PathBuf, String> {
    use crate::container::private_mounts::block_on_forked;
    let sys = crate::sys::RealSys;
    if let Some(p) = block_on_forked(storage.host_path(&sys, spec))?.map_err(|e| e.to_string())? {
        return Ok(p);
    }
    std::fs::create_dir_all(mnt).map_err(|e| format!("{}: {e}", mnt.display()))?;
    block_on_forked(storage.mount(&sys, spec, mnt))?.map_err(|e| e.to_string())?;
    Ok(mnt.to_path_buf())
}
