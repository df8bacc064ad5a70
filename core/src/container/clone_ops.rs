//! The façade's copy: `Container::copy` picks the clone's backend as LXC's
//! `lxc-copy` does and builds the clone all-or-nothing ([`super::copy`]).
//!
//! The backend: `-B` when given; else with `-s` the origin's own when it
//! can snapshot, and overlay for a dir origin; else (a full copy) the
//! origin's own when it can copy into a new rootfs, otherwise dir. A dir
//! origin copied with `-B overlay` and no `-s` is refused, as in LXC.

use std::path::PathBuf;
use std::sync::Arc;

use super::copy::{copy, CopyJob};
use super::handle::{Container, ContainerError};
use super::state::State;
use super::Paths;
use crate::registry::Registry;
use crate::start::block_on;
use crate::storage::{CreateRequest, Storage};
use crate::sys::RealSys;

/// What `lxc-copy` was asked for.
#[derive(Debug, Clone, Default)]
pub struct CopyOptions {
    /// `-N NEWNAME`.
    pub new_name: String,
    /// `-P NEWPATH`: the clone's lxcpath (default: the origin's).
    pub new_lxcpath: Option<PathBuf>,
    /// `-s`.
    pub snapshot: bool,
    /// `-B TYPE`.
    pub backend: Option<String>,
    /// `-K`.
    pub keep_name: bool,
    /// `-M`.
    pub keep_mac: bool,
    /// Backend options by LXC flag name.
    pub storage_request: CreateRequest,
    /// Arguments after `--` (for `lxc.hook.clone`).
    pub hook_args: Vec<String>,
}

fn invalid(name: &str, why: String) -> ContainerError {
    ContainerError::Invalid {
        name: name.to_string(),
        why,
    }
}

impl Container {
    /// Copies this (stopped) container to `o.new_name`; returns the clone's
    /// directory.
    pub fn copy(&self, registry: &Registry, o: CopyOptions) -> Result<PathBuf, ContainerError> {
        let state = self.state();
        if state != State::Stopped {
            return Err(invalid(
                &self.name,
                format!("it is {}; stop it before copying it", state.as_str()),
            ));
        }
        let cfg = self
            .config
            .as_ref()
            .ok_or_else(|| ContainerError::Missing {
                name: self.name.clone(),
                config: self.paths.config(&self.name).unwrap_or_default(),
            })?;
        let raw = cfg
            .rootfs_path()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| invalid(&self.name, "it has no lxc.rootfs.path to copy".into()))?;
        let (src_storage, src_spec) = registry
            .rootfs(&raw)
            .map_err(|e| invalid(&self.name, e.to_string()))?;
        // Absolute: it is written into the origin's lxc_snapshots.
        let dst_paths = match &o.new_lxcpath {
            None => self.paths.clone(),
            Some(p) => Paths::new(
                std::path::absolute(p)
                    .map_err(|e| invalid(&self.name, format!("-p {}: {e}", p.display())))?,
            ),
        };
        let target = self.clone_backend(registry, &src_storage, &o)?;
        let job = CopyJob {
            src_paths: self.paths.clone(),
            src: self.name.clone(),
            src_rootfs: (src_storage, src_spec),
            dst_paths,
            new: o.new_name.clone(),
            target,
            snapshot: o.snapshot,
            storage_request: o.storage_request,
            keep_name: o.keep_name,
            keep_mac: o.keep_mac,
            hook_args: o.hook_args,
            record_deps: true,
        };
        let made = block_on(copy(&RealSys, job))
            .map_err(|e| invalid(&self.name, format!("cannot start the I/O runtime: {e}")))?;
        Ok(made?)
    }

    /// `copy -R`: a copy under the new name (same backend, same MACs), then
    /// the original destroyed. Refused for a container with snapshots or
    /// clones, as in LXC: they name the old one.
    pub fn rename(
        &self,
        registry: &Registry,
        mut o: CopyOptions,
    ) -> Result<PathBuf, ContainerError> {
        let dir = self.paths.container_dir(&self.name)?;
        let clones = super::deps::live_clones(&dir).unwrap_or_default();
        if !self.snapshot_list()?.is_empty() || !clones.deps.is_empty() || clones.legacy_count > 0 {
            return Err(invalid(
                &self.name,
                "renaming a container with snapshots or clones is not supported".into(),
            ));
        }
        o.keep_mac = true;
        o.snapshot = false;
        let made = self.copy(registry, o)?;
        self.destroy(registry, false, false)?;
        Ok(made)
    }

    fn clone_backend(
        &self,
        registry: &Registry,
        src: &Arc<dyn Storage>,
        o: &CopyOptions,
    ) -> Result<Arc<dyn Storage>, ContainerError> {
        let lookup = |n: &str| {
            registry
                .storage(n)
                .map_err(|e| invalid(&self.name, e.to_string()))
        };
        let chosen = match (&o.backend, o.snapshot) {
            (Some(b), _) => lookup(if "overlayfs".starts_with(b.as_str()) {
                "overlay"
            } else {
                b
            })?,
            (None, true) if src.caps().snapshot => src.clone(),
            (None, true) if src.name() == "dir" => lookup("overlay")?,
            (None, true) => {
                return Err(invalid(
                    &self.name,
                    format!(
                        "its {} rootfs has no snapshots; copy it without -s",
                        src.name()
                    ),
                ))
            }
            (None, false) if src.caps().copy => src.clone(),
            (None, false) => lookup("dir")?,
        };
        if o.snapshot && !chosen.caps().snapshot {
            return Err(invalid(
                &self.name,
                format!("storage backend `{}` cannot make snapshots", chosen.name()),
            ));
        }
        if !o.snapshot && !chosen.caps().copy {
            return Err(invalid(
                &self.name,
                format!(
                    "storage backend `{}` can only be used for snapshots (copy -s)",
                    chosen.name()
                ),
            ));
        }
        Ok(chosen)
    }
}
