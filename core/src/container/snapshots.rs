//! `lxc-snapshot`: a container's snapshots, laid out as LXC lays them out.
//! Snapshot N of `CN` is the container `snapN` of the lxcpath
//! `<lxcpath>/CN/snaps` (or an old LXC's `<lxcpath>snaps/CN` when that
//! exists), with `ts` (`YYYY:MM:DD HH:MM:SS`, local time, no newline) and
//! `comment` beside its config. It is a native snapshot where the backend
//! has them (btrfs, overlay) and a full copy otherwise (dir), with the
//! container's name and MAC addresses kept.
//!
//! Restoring `snapN` as `CN` itself replaces CN's rootfs and config and
//! keeps its snapshots; as another name it is a copy of the snapshot.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::copy::{copy, CopyJob};
use super::handle::{Container, ContainerError};
use super::state::State;
use super::Paths;
use crate::registry::Registry;
use crate::start::block_on;
use crate::storage::{CreateRequest, RootfsSpec, Storage};
use crate::sys::RealSys;

/// One snapshot, as `snapshot -L` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// `snapN`.
    pub name: String,
    /// The snapshots' lxcpath (`<lxcpath>/CN/snaps`).
    pub lxcpath: PathBuf,
    /// The `ts` file.
    pub timestamp: String,
    /// The `comment` file, if any.
    pub comment: Option<String>,
}

fn invalid(name: &str, why: String) -> ContainerError {
    ContainerError::Invalid {
        name: name.to_string(),
        why,
    }
}

/// The local time as LXC writes it in `ts`.
fn timestamp_now() -> String {
    // SAFETY: time(NULL) and localtime_r into our struct; strftime into our buffer.
    unsafe {
        let t = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&t, &mut tm);
        let mut buf = [0u8; 64];
        let n = libc::strftime(
            buf.as_mut_ptr().cast(),
            buf.len(),
            c"%Y:%m:%d %H:%M:%S".as_ptr(),
            &tm,
        );
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }
}

/// `snapN` names in numeric order.
fn snap_number(name: &str) -> Option<u32> {
    name.strip_prefix("snap")?.parse().ok()
}

impl Container {
    /// Where this container's snapshots live.
    pub fn snapshots_path(&self) -> PathBuf {
        let lxcpath = self.paths.lxcpath.display().to_string();
        let legacy = PathBuf::from(format!("{}snaps", lxcpath.trim_end_matches('/')));
        if legacy.is_dir() {
            return legacy.join(&self.name);
        }
        self.paths.lxcpath.join(&self.name).join("snaps")
    }

    /// Its snapshots, in number order.
    pub fn snapshot_list(&self) -> Result<Vec<SnapshotInfo>, ContainerError> {
        let dir = self.snapshots_path();
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(invalid(&self.name, format!("{}: {e}", dir.display()))),
        };
        let mut out: Vec<SnapshotInfo> = rd
            .flatten()
            .filter(|e| e.path().join("config").is_file())
            .map(|e| {
                let p = e.path();
                SnapshotInfo {
                    name: e.file_name().to_string_lossy().into_owned(),
                    lxcpath: dir.clone(),
                    timestamp: std::fs::read_to_string(p.join("ts")).unwrap_or_default(),
                    comment: std::fs::read_to_string(p.join("comment")).ok(),
                }
            })
            .collect();
        out.sort_by_key(|s| (snap_number(&s.name).unwrap_or(u32::MAX), s.name.clone()));
        Ok(out)
    }

    /// Takes a snapshot (the container must be stopped); returns its name.
    pub fn snapshot_create(
        &self,
        registry: &Registry,
        comment: Option<&Path>,
    ) -> Result<String, ContainerError> {
        self.require_stopped("snapshot")?;
        let comment_text = comment
            .map(|c| {
                std::fs::read(c)
                    .map_err(|e| invalid(&self.name, format!("-c {}: {e}", c.display())))
            })
            .transpose()?;
        let (storage, spec) = self.rootfs(registry)?;
        let snaps = self.snapshots_path();
        std::fs::create_dir_all(&snaps)
            .map_err(|e| invalid(&self.name, format!("{}: {e}", snaps.display())))?;
        let n = (0..)
            .find(|i| !snaps.join(format!("snap{i}")).exists())
            .unwrap_or(0);
        let name = format!("snap{n}");
        let job = CopyJob {
            src_paths: self.paths.clone(),
            src: self.name.clone(),
            snapshot: storage.caps().snapshot,
            target: self.snapshot_backend(registry, &storage)?,
            src_rootfs: (storage, spec),
            dst_paths: Paths::new(&snaps),
            new: name.clone(),
            // `snap0` is every container's first: a volume is named for both.
            storage_request: CreateRequest {
                options: [("volume".to_string(), format!("{}-{name}", self.name))].into(),
                ..CreateRequest::default()
            },
            keep_name: true,
            keep_mac: true,
            hook_args: Vec::new(),
            record_deps: false,
        };
        self.run_copy(job)?;
        let dir = snaps.join(&name);
        let write = |file: &str, data: &[u8]| {
            std::fs::write(dir.join(file), data)
                .map_err(|e| invalid(&self.name, format!("{}: {e}", dir.join(file).display())))
        };
        write("ts", timestamp_now().as_bytes())?;
        if let Some(c) = comment_text {
            write("comment", &c)?;
        }
        Ok(name)
    }

    /// Restores snapshot `snap`: as this container (its rootfs and config
    /// replaced, its snapshots kept) or as `new_name`.
    pub fn snapshot_restore(
        &self,
        registry: &Registry,
        snap: &str,
        new_name: Option<&str>,
    ) -> Result<(), ContainerError> {
        let snaps = Paths::new(self.snapshots_path());
        let from = Container::load(&snaps, snap, None, &[], false)
            .map_err(|_| invalid(&self.name, format!("it has no snapshot `{snap}`")))?;
        let (storage, spec) = from.rootfs(registry)?;
        let target = match new_name.filter(|n| *n != self.name) {
            Some(n) => n.to_string(),
            None => return self.restore_in_place(registry, &from, &storage, &spec),
        };
        let job = CopyJob {
            src_paths: snaps,
            src: snap.to_string(),
            snapshot: storage.caps().snapshot,
            target: self.snapshot_backend(registry, &storage)?,
            src_rootfs: (storage, spec),
            dst_paths: self.paths.clone(),
            new: target,
            storage_request: CreateRequest::default(),
            keep_name: false,
            keep_mac: false,
            hook_args: Vec::new(),
            record_deps: true,
        };
        self.run_copy(job).map(|_| ())
    }

    /// Destroys snapshot `snap`, or all of them for any prefix of `ALL`.
    pub fn snapshot_destroy(&self, registry: &Registry, snap: &str) -> Result<(), ContainerError> {
        let snaps = Paths::new(self.snapshots_path());
        let names: Vec<String> = if !snap.is_empty() && "ALL".starts_with(snap) {
            self.snapshot_list()?.into_iter().map(|s| s.name).collect()
        } else {
            vec![snap.to_string()]
        };
        for n in &names {
            Container::named(&snaps, n)?.destroy(registry, false, false)?;
        }
        // The directory goes with its last snapshot.
        let _ = std::fs::remove_dir(&snaps.lxcpath);
        Ok(())
    }

    fn require_stopped(&self, what: &str) -> Result<(), ContainerError> {
        match self.state() {
            State::Stopped => Ok(()),
            s => Err(invalid(
                &self.name,
                format!("it is {}; stop it before you {what} it", s.as_str()),
            )),
        }
    }

    /// The rootfs backend and spec of its config.
    pub(super) fn rootfs(
        &self,
        registry: &Registry,
    ) -> Result<(Arc<dyn Storage>, RootfsSpec), ContainerError> {
        let raw = self
            .config
            .as_ref()
            .and_then(|c| c.rootfs_path())
            .filter(|r| !r.is_empty())
            .ok_or_else(|| invalid(&self.name, "it has no lxc.rootfs.path".into()))?;
        registry
            .rootfs(&raw)
            .map_err(|e| invalid(&self.name, e.to_string()))
    }

    /// A snapshot's backend: the origin's own when it snapshots or copies,
    /// else dir (a layering backend such as overlay cannot copy).
    fn snapshot_backend(
        &self,
        registry: &Registry,
        storage: &Arc<dyn Storage>,
    ) -> Result<Arc<dyn Storage>, ContainerError> {
        let c = storage.caps();
        if c.snapshot || c.copy {
            return Ok(storage.clone());
        }
        registry
            .storage("dir")
            .map_err(|e| invalid(&self.name, e.to_string()))
    }

    fn run_copy(&self, job: CopyJob) -> Result<PathBuf, ContainerError> {
        let made = block_on(copy(&RealSys, job))
            .map_err(|e| invalid(&self.name, format!("cannot start the I/O runtime: {e}")))?;
        Ok(made?)
    }
}
