//! The storage backend trait: where a container's root filesystem lives.
//!
//! A rootfs is named as LXC names it, `backend:location` (`dir:/var/lib/lxc/c1/rootfs`,
//! `btrfs:/path`, `zfs:pool/ds`, `lvm:/dev/vg/lv`, `overlay:lower:upper`, `loop:/file`);
//! with no known prefix each compiled backend's [`Storage::detect`] is asked in turn.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

pub mod copy_tree;
pub mod helpers;
pub mod mounts;
pub mod tree_digest;

pub use copy_tree::{copy_tree, copy_tree_into, tree_size, CopyError, CopyStats};
pub use helpers::{bind_rootfs, fill_by_mount, reach_rootfs, umount_quietly};
pub use mounts::mounts_below;
pub use tree_digest::tree_digest;

use crate::sys::{Sys, SysError};

/// Backend prefixes LXC writes in `lxc.rootfs.path`.
pub const KNOWN_PREFIXES: &[&str] = &[
    "dir",
    "btrfs",
    "zfs",
    "lvm",
    "overlay",
    "overlayfs",
    "aufs",
    "loop",
    "nbd",
    "rbd",
];

/// A parsed `lxc.rootfs.path` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootfsSpec {
    /// The backend named by the prefix, if there was one.
    pub backend: Option<String>,
    /// Everything after the prefix (for overlay: `lower:upper`).
    pub location: String,
}

impl RootfsSpec {
    /// Splits a known `backend:` prefix off `value`. An unknown prefix is part of
    /// the location (a path may contain `:`).
    pub fn parse(value: &str) -> Self {
        if let Some((prefix, rest)) = value.split_once(':') {
            if KNOWN_PREFIXES.contains(&prefix) {
                let backend = if prefix == "overlayfs" {
                    "overlay"
                } else {
                    prefix
                };
                return RootfsSpec {
                    backend: Some(backend.to_string()),
                    location: rest.to_string(),
                };
            }
        }
        RootfsSpec {
            backend: None,
            location: value.to_string(),
        }
    }

    /// A spec with an explicit backend.
    pub fn new(backend: &str, location: impl Into<String>) -> Self {
        RootfsSpec {
            backend: Some(backend.to_string()),
            location: location.into(),
        }
    }
}

impl fmt::Display for RootfsSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.backend {
            Some(b) => write!(f, "{b}:{}", self.location),
            None => f.write_str(&self.location),
        }
    }
}

/// What a backend can do, as data (not as optional methods).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StorageCaps {
    /// Cheap copy-on-write clone (`copy -s`, `snapshot`).
    pub snapshot: bool,
    /// Full copy to a new rootfs of this backend.
    pub copy: bool,
    /// The rootfs can be grown.
    pub resize: bool,
    /// The rootfs must be mounted before start (a block device, a dataset…).
    pub needs_mount: bool,
    /// A snapshot reads its origin's data (an overlay on it, an LVM
    /// snapshot): the origin must outlive it, which LXC's `lxc_snapshots`
    /// and `lxc_rdepends` record.
    pub snapshot_depends: bool,
}

/// What `create`, `copy` and `snapshot` are asked to make.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateRequest {
    /// Container name.
    pub name: String,
    /// The container directory (`<lxcpath>/<name>`).
    pub container_dir: PathBuf,
    /// Size in bytes (`--fssize`), where the backend has one.
    pub size: Option<u64>,
    /// Filesystem to make (`--fstype`), where the backend makes one.
    pub fstype: Option<String>,
    /// Backend options by LXC flag name (`vgname`, `lvname`, `thinpool`, `zfsroot`, `dir`),
    /// and `volume`: the name a volume backend gives the rootfs (a dataset,
    /// an LV) when the container's own name would not be unique (`snap0`).
    pub options: BTreeMap<String, String>,
}

/// A storage failure, naming the rootfs or path.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The backend does not do this operation.
    #[error("storage backend `{driver}` does not support {op}")]
    Unsupported {
        /// Backend name.
        driver: &'static str,
        /// The operation asked for.
        op: &'static str,
    },
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// An external tool or syscall failed.
    #[error("{rootfs}: {source}")]
    Sys {
        /// The rootfs involved.
        rootfs: String,
        /// The error.
        source: SysError,
    },
    /// The request is wrong for this backend.
    #[error("{rootfs}: {reason}")]
    Invalid {
        /// The rootfs involved.
        rootfs: String,
        /// What is wrong.
        reason: String,
    },
}

impl StorageError {
    /// Wraps an I/O error with its path.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        StorageError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A mount a user's container makes of its rootfs (an overlay clone's):
/// the filesystem type, options naming directories (each a list, joined by
/// `:`), and flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsernsMount {
    /// `overlay`.
    pub fstype: String,
    /// `lowerdir`, `upperdir`, `workdir` and their directories.
    pub dirs: Vec<(String, Vec<PathBuf>)>,
    /// Flag options (`userxattr`).
    pub flags: Vec<String>,
}

/// A storage backend. Every method runs on the host side; `create`, `destroy`
/// and `umount` must leave nothing behind when they fail.
#[async_trait]
pub trait Storage: Send + Sync + fmt::Debug {
    /// The name used in `-B NAME` and as the `lxc.rootfs.path` prefix.
    fn name(&self) -> &'static str;

    /// What this backend can do.
    fn caps(&self) -> StorageCaps;

    /// Whether a rootfs value belongs to this backend: by default, one with
    /// its prefix. A backend that can tell an unprefixed value by probing
    /// the host (a directory, a subvolume) says so here; side effects are
    /// not allowed.
    fn detect(&self, spec: &RootfsSpec) -> bool {
        spec.backend.as_deref() == Some(self.name())
    }

    /// Whether this host can make a rootfs of this backend for a container
    /// of `lxcpath` (btrfs: the lxcpath is on btrfs). `-B best` and a
    /// `create` without `-B` take the first backend that can.
    fn usable_in(&self, _lxcpath: &Path) -> bool {
        true
    }

    /// Makes a new, empty rootfs for `req` and returns its spec. Not idempotent.
    async fn create(&self, sys: &dyn Sys, req: &CreateRequest) -> Result<RootfsSpec, StorageError>;

    /// Makes the rootfs visible at `target`. Idempotent for directory backends.
    async fn mount(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
        target: &Path,
    ) -> Result<(), StorageError>;

    /// How a user's container mounts this rootfs in its own user namespace,
    /// when it is more than a directory to bind: a filesystem whose
    /// directory options its first process opens with the user's ids and
    /// mounts as the namespace's root (see [`UsernsMount`]). `None` (the
    /// default): the rootfs is bound as it is, or is not for users.
    fn userns_mount(&self, _spec: &RootfsSpec) -> Option<UsernsMount> {
        None
    }

    /// Where the rootfs can be read and written on the host without a mount
    /// (a template fills it there, a copy reads it there): its location for
    /// a directory-like backend, a dataset's mountpoint; `None` when it must
    /// be mounted first (an overlay).
    async fn host_path(
        &self,
        _sys: &dyn Sys,
        spec: &RootfsSpec,
    ) -> Result<Option<PathBuf>, StorageError> {
        Ok(Some(PathBuf::from(&spec.location)))
    }

    /// After a create or copy is committed (the container's directory
    /// renamed to `container_dir`): a backend whose rootfs records a path of
    /// the directory (a ZFS mountpoint) follows it. A failure leaves a
    /// complete container whose rootfs is still reachable, and is reported.
    async fn relocate(
        &self,
        _sys: &dyn Sys,
        _spec: &RootfsSpec,
        _container_dir: &Path,
    ) -> Result<(), StorageError> {
        Ok(())
    }

    /// Undoes [`Storage::mount`]. Idempotent.
    async fn umount(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
        target: &Path,
    ) -> Result<(), StorageError>;

    /// Removes the rootfs and everything it holds. Idempotent: a missing rootfs is not an error.
    async fn destroy(&self, sys: &dyn Sys, spec: &RootfsSpec) -> Result<(), StorageError>;

    /// Full copy of `src` (of any backend, mounted at `src_path`) into a new rootfs.
    async fn copy(
        &self,
        _sys: &dyn Sys,
        _src_path: &Path,
        _req: &CreateRequest,
    ) -> Result<RootfsSpec, StorageError> {
        Err(StorageError::Unsupported {
            driver: self.name(),
            op: "copy",
        })
    }

    /// Cheap copy-on-write clone of `src`: one of this backend's, or (for a
    /// layering backend such as overlay) one it can stack on.
    async fn snapshot(
        &self,
        _sys: &dyn Sys,
        _src: &RootfsSpec,
        _req: &CreateRequest,
    ) -> Result<RootfsSpec, StorageError> {
        Err(StorageError::Unsupported {
            driver: self.name(),
            op: "snapshot",
        })
    }

    /// Makes `dir` (which must not exist) as a volume of this backend's
    /// kind where its filesystem allows (btrfs: a subvolume), so that a
    /// rootfs of this backend can later be a snapshot of what is built in
    /// it ([`Storage::fill_from_tree`]): a template's cache entry. `Ok(false)`
    /// when it made nothing, and the caller makes a plain directory.
    fn make_cache_tree(&self, _dir: &Path) -> Result<bool, StorageError> {
        Ok(false)
    }

    /// Fills `spec`, a new and empty rootfs of this backend, with the tree
    /// at `src` by a snapshot, when `src` is a volume
    /// [`Storage::make_cache_tree`] made on the same filesystem. `Ok(false)`
    /// when it cannot (the rootfs is untouched and the caller copies).
    async fn fill_from_tree(
        &self,
        _sys: &dyn Sys,
        _spec: &RootfsSpec,
        _src: &Path,
    ) -> Result<bool, StorageError> {
        Ok(false)
    }

    /// Bytes used by the rootfs.
    async fn size(&self, _sys: &dyn Sys, _spec: &RootfsSpec) -> Result<u64, StorageError> {
        Err(StorageError::Unsupported {
            driver: self.name(),
            op: "size",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rootfs_prefixes() {
        let s = RootfsSpec::parse("dir:/var/lib/lxc/c1/rootfs");
        assert_eq!(s.backend.as_deref(), Some("dir"));
        assert_eq!(s.location, "/var/lib/lxc/c1/rootfs");
        assert_eq!(s.to_string(), "dir:/var/lib/lxc/c1/rootfs");
        let o = RootfsSpec::parse("overlayfs:/a:/b");
        assert_eq!(o.backend.as_deref(), Some("overlay"));
        assert_eq!(o.location, "/a:/b");
        let plain = RootfsSpec::parse("/srv/odd:name");
        assert_eq!(plain.backend, None);
        assert_eq!(plain.location, "/srv/odd:name");
    }
}
