//! The registry of compiled backends.
//!
//! Core names no backend: the binary builds a [`Registry`] and registers what
//! its Cargo features compiled in. Names the build knows about but lacks are
//! recorded too, so that naming them gives a precise error instead of "unknown".
//!
//! A downstream crate adds a backend by implementing the trait and registering it:
//!
//! ```
//! use std::path::Path;
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use rlxc_core::registry::Registry;
//! use rlxc_core::storage::{CreateRequest, RootfsSpec, Storage, StorageCaps, StorageError};
//! use rlxc_core::sys::Sys;
//!
//! #[derive(Debug)]
//! struct Tmpfs;
//!
//! #[async_trait]
//! impl Storage for Tmpfs {
//!     fn name(&self) -> &'static str { "tmpfs" }
//!     fn caps(&self) -> StorageCaps { StorageCaps { needs_mount: true, ..Default::default() } }
//!     async fn create(&self, _: &dyn Sys, req: &CreateRequest) -> Result<RootfsSpec, StorageError> {
//!         Ok(RootfsSpec::new("tmpfs", req.container_dir.join("rootfs").display().to_string()))
//!     }
//!     async fn mount(&self, _: &dyn Sys, _: &RootfsSpec, _: &Path) -> Result<(), StorageError> { Ok(()) }
//!     async fn umount(&self, _: &dyn Sys, _: &RootfsSpec, _: &Path) -> Result<(), StorageError> { Ok(()) }
//!     async fn destroy(&self, _: &dyn Sys, _: &RootfsSpec) -> Result<(), StorageError> { Ok(()) }
//! }
//!
//! let mut registry = Registry::new();
//! registry.add_storage(Arc::new(Tmpfs));
//! assert_eq!(registry.storage("tmpfs").unwrap().name(), "tmpfs");
//! let err = registry.storage("zfs").unwrap_err();
//! assert!(err.to_string().contains("unknown storage backend `zfs`"));
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::network::Network;
use crate::storage::{RootfsSpec, Storage};
use crate::template::Template;

/// The three kinds of backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A [`Storage`] backend.
    Storage,
    /// A [`Network`] backend.
    Network,
    /// A [`Template`].
    Template,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Storage => "storage backend",
            Kind::Network => "network type",
            Kind::Template => "template",
        })
    }
}

/// Why a known name has no working backend in this build.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Absence {
    /// The Cargo feature that would compile it was off.
    NotCompiled {
        /// The feature to turn on.
        feature: &'static str,
    },
    /// The crate is compiled but the backend does not work yet.
    NotAvailable {
        /// Why, in a sentence.
        reason: &'static str,
    },
}

/// A lookup failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// A backend this build knows of but lacks.
    #[error("{kind} `{name}` is not compiled into this build (feature `{feature}`)")]
    NotCompiled {
        /// Which kind.
        kind: Kind,
        /// Name asked for.
        name: String,
        /// The feature that would add it.
        feature: &'static str,
    },
    /// A backend compiled in but not working yet.
    #[error("{kind} `{name}` is not available in this version: {reason}")]
    NotAvailable {
        /// Which kind.
        kind: Kind,
        /// Name asked for.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A name nobody knows.
    #[error("unknown {kind} `{name}` (this build has: {known})")]
    Unknown {
        /// Which kind.
        kind: Kind,
        /// Name asked for.
        name: String,
        /// The working names, comma separated.
        known: String,
    },
}

/// The backends of one build.
#[derive(Default, Clone)]
pub struct Registry {
    storage: BTreeMap<String, Arc<dyn Storage>>,
    network: BTreeMap<String, Arc<dyn Network>>,
    templates: BTreeMap<String, Arc<dyn Template>>,
    absent: BTreeMap<(Kind, String), Absence>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("storage", &self.storage.keys().collect::<Vec<_>>())
            .field("network", &self.network.keys().collect::<Vec<_>>())
            .field("templates", &self.templates.keys().collect::<Vec<_>>())
            .field("absent", &self.absent)
            .finish()
    }
}

/// One row of [`Registry::entries`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    /// Which kind.
    pub kind: Kind,
    /// Backend name.
    pub name: String,
    /// `None` when it works, otherwise why not.
    pub absence: Option<Absence>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The backends core itself has: the `empty` and `none` network types and
    /// the `busybox`, `sshd` and `download` templates. A build adds its backend crates to this.
    pub fn core() -> Self {
        let mut r = Self::new();
        r.add_network(Arc::new(crate::network::EMPTY));
        r.add_network(Arc::new(crate::network::NONE));
        r.add_template(Arc::new(crate::templates::Busybox::new()));
        r.add_template(Arc::new(crate::templates::Sshd));
        r.add_template(Arc::new(crate::templates::Download));
        r
    }

    /// Registers a working storage backend.
    pub fn add_storage(&mut self, backend: Arc<dyn Storage>) {
        self.storage.insert(backend.name().to_string(), backend);
    }

    /// Registers a working network backend.
    pub fn add_network(&mut self, backend: Arc<dyn Network>) {
        self.network.insert(backend.name().to_string(), backend);
    }

    /// Registers a working template.
    pub fn add_template(&mut self, template: Arc<dyn Template>) {
        self.templates.insert(template.name().to_string(), template);
    }

    /// Records a backend that this build lacks, and why.
    pub fn add_absent(&mut self, kind: Kind, name: &str, absence: Absence) {
        self.absent.insert((kind, name.to_string()), absence);
    }

    /// Records backends that are compiled in but do not work yet.
    pub fn add_unavailable(&mut self, kind: Kind, names: &[&str], reason: &'static str) {
        for n in names {
            self.add_absent(kind, n, Absence::NotAvailable { reason });
        }
    }

    /// Records backends whose crate this build left out.
    pub fn add_not_compiled(&mut self, kind: Kind, names: &[&str], feature: &'static str) {
        for n in names {
            self.add_absent(kind, n, Absence::NotCompiled { feature });
        }
    }

    /// Looks up a storage backend by name.
    pub fn storage(&self, name: &str) -> Result<Arc<dyn Storage>, RegistryError> {
        lookup(&self.storage, &self.absent, Kind::Storage, name)
    }

    /// Looks up a network backend by `lxc.net.N.type`.
    pub fn network(&self, name: &str) -> Result<Arc<dyn Network>, RegistryError> {
        lookup(&self.network, &self.absent, Kind::Network, name)
    }

    /// Looks up a built-in template by name.
    pub fn template(&self, name: &str) -> Result<Arc<dyn Template>, RegistryError> {
        lookup(&self.templates, &self.absent, Kind::Template, name)
    }

    /// The storage backend for a rootfs: its prefix, or the first backend whose
    /// `detect` claims it.
    pub fn storage_for(&self, spec: &RootfsSpec) -> Result<Arc<dyn Storage>, RegistryError> {
        if let Some(b) = &spec.backend {
            return self.storage(b);
        }
        self.storage
            .values()
            .find(|s| s.detect(spec))
            .cloned()
            .ok_or_else(|| RegistryError::Unknown {
                kind: Kind::Storage,
                name: spec.location.clone(),
                known: known(&self.storage),
            })
    }

    /// The backend and spec of an `lxc.rootfs.path` value: LXC's prefixes,
    /// a registered backend's own name as a prefix (a downstream crate's
    /// `NAME:location`), or whoever `detect`s an unprefixed value.
    pub fn rootfs(&self, raw: &str) -> Result<(Arc<dyn Storage>, RootfsSpec), RegistryError> {
        let mut spec = RootfsSpec::parse(raw);
        if spec.backend.is_none() {
            if let Some((prefix, rest)) = raw.split_once(':') {
                if self.storage.contains_key(prefix) {
                    spec = RootfsSpec::new(prefix, rest);
                }
            }
        }
        Ok((self.storage_for(&spec)?, spec))
    }

    /// Every backend, working or not, sorted by kind and name.
    pub fn entries(&self) -> Vec<Entry> {
        let mut rows: Vec<Entry> = Vec::new();
        fn working(kind: Kind, names: Vec<&String>) -> Vec<Entry> {
            names
                .into_iter()
                .map(|n| Entry {
                    kind,
                    name: n.clone(),
                    absence: None,
                })
                .collect()
        }
        rows.extend(working(Kind::Storage, self.storage.keys().collect()));
        rows.extend(working(Kind::Network, self.network.keys().collect()));
        rows.extend(working(Kind::Template, self.templates.keys().collect()));
        rows.extend(self.absent.iter().map(|((kind, name), a)| Entry {
            kind: *kind,
            name: name.clone(),
            absence: Some(a.clone()),
        }));
        rows.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        rows
    }
}

fn known<T: ?Sized>(map: &BTreeMap<String, Arc<T>>) -> String {
    if map.is_empty() {
        "none".to_string()
    } else {
        map.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

fn lookup<T: ?Sized>(
    map: &BTreeMap<String, Arc<T>>,
    absent: &BTreeMap<(Kind, String), Absence>,
    kind: Kind,
    name: &str,
) -> Result<Arc<T>, RegistryError> {
    if let Some(b) = map.get(name) {
        return Ok(b.clone());
    }
    match absent.get(&(kind, name.to_string())) {
        Some(Absence::NotCompiled { feature }) => Err(RegistryError::NotCompiled {
            kind,
            name: name.to_string(),
            feature,
        }),
        Some(Absence::NotAvailable { reason }) => Err(RegistryError::NotAvailable {
            kind,
            name: name.to_string(),
            reason,
        }),
        None => Err(RegistryError::Unknown {
            kind,
            name: name.to_string(),
            known: known(map),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_backends_explain_themselves() {
        let mut r = Registry::new();
        r.add_absent(
            Kind::Storage,
            "zfs",
            Absence::NotCompiled {
                feature: "storage-zfs",
            },
        );
        r.add_absent(
            Kind::Network,
            "macvlan",
            Absence::NotAvailable {
                reason: "not implemented yet",
            },
        );
        assert_eq!(
            r.storage("zfs").unwrap_err().to_string(),
            "storage backend `zfs` is not compiled into this build (feature `storage-zfs`)"
        );
        assert_eq!(
            r.network("macvlan").unwrap_err().to_string(),
            "network type `macvlan` is not available in this version: not implemented yet"
        );
        assert_eq!(
            r.template("nope").unwrap_err().to_string(),
            "unknown template `nope` (this build has: none)"
        );
        assert_eq!(r.entries().len(), 2);
    }
}
