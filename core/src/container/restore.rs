//! Restoring a snapshot over its own container (`snapshot -r snapN`): the
//! new rootfs and config are built in a staging directory first; then the
//! old rootfs entries move aside, the new ones move in and the config is
//! replaced atomically, and only then is the old rootfs destroyed. The
//! container's `snaps` stay. A failure before the swap leaves the container
//! as it was.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::create::STAGING;
use super::handle::{Container, ContainerError};
use super::lock::ContainerLock;
use crate::config::clone::{clone_config, replace_dir, CloneNames};
use crate::config::document::Document;
use crate::config::net::kernel_random;
use crate::registry::Registry;
use crate::start::block_on;
use crate::storage::{CreateRequest, RootfsSpec, Storage};
use crate::sys::RealSys;

/// The entries of a container directory that hold its rootfs.
const ROOTFS_ENTRIES: &[&str] = &["rootfs", "overlay"];

fn fail(name: &str, why: impl Into<String>) -> ContainerError {
    ContainerError::Invalid {
        name: name.to_string(),
        why: why.into(),
    }
}

impl Container {
    /// Replaces this container's rootfs and config with snapshot `from`'s.
    pub(super) fn restore_in_place(
        &self,
        registry: &Registry,
        from: &Container,
        snap_storage: &Arc<dyn Storage>,
        snap_spec: &RootfsSpec,
    ) -> Result<(), ContainerError> {
        let name = self.name.as_str();
        self.require_stopped_for_restore()?;
        let dir = self.paths.container_dir(name)?;
        let _lock = ContainerLock::try_acquire(name, &self.paths.lock_file(name)?)
            .map_err(|e| fail(name, e.to_string()))?;
        let clones = super::deps::live_clones(&dir).unwrap_or_default();
        if !clones.deps.is_empty() || clones.legacy_count > 0 {
            return Err(fail(
                name,
                "its rootfs has dependent clones: it cannot be replaced",
            ));
        }
        let (cur_storage, cur_spec) = self.rootfs(registry)?;
        let staging = self
            .paths
            .lxcpath
            .join(STAGING)
            .join(format!("{name}.restore.{}", std::process::id()));
        std::fs::create_dir_all(&staging)
            .map_err(|e| fail(name, format!("{}: {e}", staging.display())))?;
        let built =
            self.build_restored(&staging, &dir, from, snap_storage, snap_spec, &cur_storage);
        let (spec, doc) = match built {
            Ok(b) => b,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        let old = staging.join("old");
        swap(&dir, &staging, &old, &doc).map_err(|e| fail(name, e))?;
        // Now the old rootfs, moved aside, can go.
        let old_spec = RootfsSpec {
            backend: cur_spec.backend.clone(),
            location: replace_dir(&cur_spec.location, &dir, &old),
        };
        let gone = block_on(cur_storage.destroy(&RealSys, &old_spec));
        if let Ok(Err(e)) | Err(e) = gone.map_err(|e| crate::storage::StorageError::io(&old, e)) {
            tracing::warn!("container `{name}`: removing the replaced rootfs {old_spec}: {e}");
        }
        let _ = std::fs::remove_dir_all(&staging);
        tracing::info!("container `{name}`: restored {} ({spec})", from.name);
        Ok(())
    }

    fn require_stopped_for_restore(&self) -> Result<(), ContainerError> {
        let s = self.state();
        if s == super::state::State::Stopped {
            return Ok(());
        }
        Err(fail(
            &self.name,
            format!(
                "it is {}; stop it before you restore a snapshot over it",
                s.as_str()
            ),
        ))
    }

    /// The new rootfs in `staging` and the new config.
    fn build_restored(
        &self,
        staging: &Path,
        dir: &Path,
        from: &Container,
        snap_storage: &Arc<dyn Storage>,
        snap_spec: &RootfsSpec,
        cur_storage: &Arc<dyn Storage>,
    ) -> Result<(RootfsSpec, Document), ContainerError> {
        let name = self.name.as_str();
        // A volume backend names the new rootfs apart from the live one.
        let req = CreateRequest {
            name: name.into(),
            container_dir: staging.to_path_buf(),
            options: [(
                "volume".to_string(),
                format!("{name}-restored-{}", std::process::id()),
            )]
            .into(),
            ..CreateRequest::default()
        };
        let same = snap_storage.name() == cur_storage.name();
        let made = if same && cur_storage.caps().snapshot {
            block_on(cur_storage.snapshot(&RealSys, snap_spec, &req))
        } else if let (Ok(Ok(Some(from_path))), true) = (
            block_on(snap_storage.host_path(&RealSys, snap_spec)),
            cur_storage.caps().copy,
        ) {
            block_on(cur_storage.copy(&RealSys, &from_path, &req))
        } else {
            return Err(fail(
                name,
                format!(
                    "a {} snapshot cannot be restored onto its {} rootfs: restore it under another name (-N)",
                    snap_storage.name(),
                    cur_storage.name()
                ),
            ));
        };
        let spec = made
            .map_err(|e| fail(name, e.to_string()))?
            .map_err(|e| fail(name, e.to_string()))?;
        let final_spec = RootfsSpec {
            backend: spec.backend.clone(),
            location: replace_dir(&spec.location, staging, dir),
        };
        let snap_dir = from.paths.container_dir(&from.name)?;
        let snap_doc =
            Document::read(&snap_dir.join("config")).map_err(|e| fail(name, e.to_string()))?;
        let rootfs = final_spec.to_string();
        let out = clone_config(
            &snap_doc,
            &CloneNames {
                old_dir: &snap_dir,
                new_name: name,
                new_dir: dir,
                rootfs: &rootfs,
                keep_name: false,
                keep_mac: true,
            },
            &mut kernel_random(),
        );
        crate::config::load_text(&out.doc.to_bytes(), &dir.join("config"))
            .map_err(|e| fail(name, format!("the restored config has errors:\n{e}")))?;
        Ok((final_spec, out.doc))
    }
}

/// Moves the old rootfs entries of `dir` into `old`, the new ones from
/// `staging` into `dir`, and writes the config.
fn swap(dir: &Path, staging: &Path, old: &Path, doc: &Document) -> Result<(), String> {
    std::fs::create_dir_all(old).map_err(|e| format!("{}: {e}", old.display()))?;
    let mv = |a: &Path, b: &Path| {
        std::fs::rename(a, b).map_err(|e| format!("moving {} to {}: {e}", a.display(), b.display()))
    };
    // Every move is undone when a later one fails: the container keeps its
    // old rootfs then.
    let mut done: Vec<(PathBuf, PathBuf)> = Vec::new();
    let moves = ROOTFS_ENTRIES
        .iter()
        .map(|e| (dir.join(e), old.join(e)))
        .chain(
            ROOTFS_ENTRIES
                .iter()
                .map(|e| (staging.join(e), dir.join(e))),
        );
    for (a, b) in moves {
        if !a.exists() {
            continue;
        }
        if let Err(e) = mv(&a, &b) {
            for (x, y) in done.iter().rev() {
                let _ = std::fs::rename(y, x);
            }
            return Err(e);
        }
        done.push((a, b));
    }
    doc.write_atomic(&dir.join("config"))
        .map_err(|e| e.to_string())
}
