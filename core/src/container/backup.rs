//! The guide's `lxc-backup` / `lxc-restore`: a copy of a (stopped)
//! container's rootfs kept beside it as `<dir>/rootfs.backup.N`, and put
//! back on request. A btrfs rootfs is backed up as a subvolume snapshot; any
//! other (lvm and loop ones too, which the guide's script left out) as a
//! directory copy of the mounted rootfs. Each backup is made under a
//! temporary name and renamed when complete.

use std::path::{Path, PathBuf};

use super::handle::{Container, ContainerError};
use super::private_mounts::{in_private_mounts_as, remove_tree_as};
use crate::registry::Registry;
use crate::start::block_on;
use crate::storage::{copy_tree, copy_tree_into, CreateRequest, RootfsSpec};
use crate::sys::RealSys;

const PREFIX: &str = "rootfs.backup.";

fn fail(name: &str, why: impl Into<String>) -> ContainerError {
    ContainerError::Invalid {
        name: name.to_string(),
        why: why.into(),
    }
}

/// The backups in `dir`, by number.
pub fn backups(dir: &Path) -> Vec<(u32, PathBuf)> {
    let mut v: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let n = e.file_name().to_str()?.strip_prefix(PREFIX)?.parse().ok()?;
                    Some((n, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

impl Container {
    /// Backs the rootfs up as the next `rootfs.backup.N`; returns N.
    pub fn backup_local(&self, registry: &Registry) -> Result<u32, ContainerError> {
        let name = self.name.as_str();
        self.require_stopped_to("back it up")?;
        // Held throughout: a start waits for it, and so sees a whole rootfs.
        let _lock = self.hold_lock()?;
        let dir = self.paths.container_dir(name)?;
        let (storage, spec) = self.rootfs(registry)?;
        let as_root = as_root_of(&dir);
        let n = backups(&dir).last().map_or(1, |(n, _)| n + 1);
        let tmp = dir.join(format!(".{PREFIX}{n}.tmp"));
        let done = dir.join(format!("{PREFIX}{n}"));
        let subvolume = storage.name() == "btrfs"
            && std::fs::symlink_metadata(&spec.location).is_ok_and(|m| {
                use std::os::unix::fs::MetadataExt;
                m.ino() == 256
            });
        let made = if subvolume {
            let req = CreateRequest {
                container_dir: dir.clone(),
                options: [("dir".to_string(), tmp.display().to_string())].into(),
                ..CreateRequest::default()
            };
            block_on(storage.snapshot(&RealSys, &spec, &req))
                .map_err(|e| e.to_string())
                .and_then(|r| r.map(|_| ()).map_err(|e| e.to_string()))
        } else {
            let (s, tmp2) = (spec.clone(), tmp.clone());
            in_private_mounts_as(as_root.as_ref(), "the backup", move || {
                let root = crate::storage::reach_rootfs(&storage, &s, &tmp2.with_extension("mnt"))?;
                copy_tree(&root, &tmp2)
                    .map(|_| String::new())
                    .map_err(|e| e.to_string())
            })
            .map(|_| ())
        };
        let _ = std::fs::remove_dir(tmp.with_extension("mnt"));
        if let Err(why) =
            made.and_then(|()| std::fs::rename(&tmp, &done).map_err(|e| e.to_string()))
        {
            let _ = remove_tree_as(as_root.as_ref(), &tmp);
            return Err(fail(name, format!("backup: {why}")));
        }
        Ok(n)
    }

    /// Puts backup `n` (default: the newest) back as the rootfs.
    pub fn restore_local(
        &self,
        registry: &Registry,
        n: Option<u32>,
    ) -> Result<u32, ContainerError> {
        let name = self.name.as_str();
        self.require_stopped_to("restore a backup over it")?;
        let _lock = self.hold_lock()?;
        let dir = self.paths.container_dir(name)?;
        let all = backups(&dir);
        let (n, backup) = match n {
            Some(n) => all
                .into_iter()
                .find(|(k, _)| *k == n)
                .ok_or_else(|| fail(name, format!("it has no backup {n} ({PREFIX}{n})")))?,
            None => all
                .into_iter()
                .last()
                .ok_or_else(|| fail(name, "it has no backup"))?,
        };
        let (storage, spec) = self.rootfs(registry)?;
        let rootfs = PathBuf::from(&spec.location);
        let swap = matches!(storage.name(), "dir" | "btrfs") && rootfs.is_dir();
        let as_root = as_root_of(&dir);
        let restored = if swap && as_root.is_none() {
            swap_in(&storage, &spec, &rootfs, &backup)
        } else if swap {
            let (s, b) = (spec.clone(), backup.clone());
            in_private_mounts_as(as_root.as_ref(), "the restore", move || {
                swap_in(&storage, &s, &rootfs, &b).map(|()| String::new())
            })
            .map(|_| ())
        } else {
            let (s, b, mnt) = (spec.clone(), backup.clone(), dir.join(".restore.mnt"));
            let r = in_private_mounts_as(as_root.as_ref(), "the restore", move || {
                let root = crate::storage::reach_rootfs(&storage, &s, &mnt)?;
                empty_dir(&root)?;
                copy_tree_into(&b, &root)
                    .map(|_| String::new())
                    .map_err(|e| e.to_string())
            });
            let _ = std::fs::remove_dir(dir.join(".restore.mnt"));
            r.map(|_| ())
        };
        restored.map_err(|why| fail(name, format!("restore of {}: {why}", backup.display())))?;
        Ok(n)
    }

    /// The container's lock, for an operation on its stopped rootfs.
    pub(super) fn hold_lock(&self) -> Result<super::lock::ContainerLock, ContainerError> {
        Ok(super::lock::ContainerLock::try_acquire(
            &self.name,
            &self.paths.lock_file(&self.name)?,
        )?)
    }

    fn require_stopped_to(&self, what: &str) -> Result<(), ContainerError> {
        let s = self.state();
        if s == super::state::State::Stopped {
            return Ok(());
        }
        Err(fail(
            &self.name,
            format!("it is {}; stop it before you {what}", s.as_str()),
        ))
    }
}

/// The root of a user's mapped container in `dir` (see
/// [`ContainerRoot`](crate::userns::container_root::ContainerRoot)).
fn as_root_of(dir: &Path) -> Option<crate::userns::container_root::ContainerRoot> {
    let cfg = crate::config::load_file(&dir.join("config")).ok()?;
    super::create::container_root_of(&cfg)
}

/// A dir or btrfs rootfs: a copy (a snapshot on btrfs) of the backup made
/// beside it, then swapped in by two renames; the old one removed last.
fn swap_in(
    storage: &std::sync::Arc<dyn crate::storage::Storage>,
    spec: &RootfsSpec,
    rootfs: &Path,
    backup: &Path,
) -> Result<(), String> {
    let parent = rootfs
        .parent()
        .ok_or("the rootfs has no parent directory")?;
    let (new, old) = (
        parent.join(".rootfs.restored"),
        parent.join(".rootfs.replaced"),
    );
    if storage.name() == "btrfs" {
        let req = CreateRequest {
            container_dir: parent.to_path_buf(),
            options: [("dir".to_string(), new.display().to_string())].into(),
            ..CreateRequest::default()
        };
        let from = RootfsSpec::new("btrfs", backup.display().to_string());
        block_on(storage.snapshot(&RealSys, &from, &req))
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    } else {
        copy_tree(backup, &new).map_err(|e| e.to_string())?;
    }
    std::fs::rename(rootfs, &old).map_err(|e| format!("{}: {e}", rootfs.display()))?;
    if let Err(e) = std::fs::rename(&new, rootfs) {
        let _ = std::fs::rename(&old, rootfs);
        return Err(format!("{}: {e}", rootfs.display()));
    }
    let old_spec = RootfsSpec {
        backend: spec.backend.clone(),
        location: old.display().to_string(),
    };
    block_on(storage.destroy(&RealSys, &old_spec))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// Removes everything inside `dir`, not `dir` itself.
fn empty_dir(dir: &Path) -> Result<(), String> {
    for e in std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
    {
        let p = e.path();
        let r = if e.file_type().is_ok_and(|t| t.is_dir()) {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        r.map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(())
}
