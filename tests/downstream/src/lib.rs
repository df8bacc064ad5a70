//! An example of a downstream crate: it is none of rlxc's backend crates,
//! depends on `rlxc-core` (the traits) and `rlxc` (the command line), and
//! adds a storage backend and a network type of its own. The end-to-end test
//! `downstream_e2e` starts containers through them.
//!
//! Both backends write what they are asked to do, one line per call, to a
//! journal (the file named by `RLXC_JOURNAL`), so a test can check the order
//! in which the start pipeline calls them. `RLXC_JOURNAL_FAIL=setup_host`
//! makes the network type fail its host half.
//!
//! - storage `journal`: `lxc.rootfs.path = journal:/some/dir`, a directory
//!   bind-mounted where the monitor asks.
//! - network type `journal`: nothing on the wire, only the journal.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rlxc_core::config::Nic;
use rlxc_core::network::{NetContext, Network, NetworkError, NicState};
use rlxc_core::registry::Registry;
use rlxc_core::storage::{CreateRequest, RootfsSpec, Storage, StorageCaps, StorageError};
use rlxc_core::sys::{MountRequest, Sys};

/// The journal both backends write to. The file is opened once, before any
/// start: the container's first process still holds it when it runs
/// `setup_container` (after its pivot, where the path is out of reach).
#[derive(Debug, Clone, Default)]
pub struct Journal(Option<Arc<Mutex<File>>>);

impl Journal {
    /// The journal named by `RLXC_JOURNAL`, if set.
    pub fn from_env() -> Journal {
        let file = std::env::var_os("RLXC_JOURNAL").and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
        });
        Journal(file.map(|f| Arc::new(Mutex::new(f))))
    }

    fn note(&self, line: &str) {
        if let Some(f) = &self.0 {
            if let Ok(mut f) = f.lock() {
                let _ = writeln!(f, "{line}");
            }
        }
    }
}

/// Storage `journal`: a directory, bind-mounted.
#[derive(Debug)]
pub struct JournalStorage(pub Journal);

fn sys_err(spec: &RootfsSpec, source: rlxc_core::sys::SysError) -> StorageError {
    StorageError::Sys {
        rootfs: spec.to_string(),
        source,
    }
}

#[async_trait]
impl Storage for JournalStorage {
    fn name(&self) -> &'static str {
        "journal"
    }

    fn caps(&self) -> StorageCaps {
        StorageCaps::default()
    }

    fn detect(&self, _: &RootfsSpec) -> bool {
        false
    }

    async fn create(&self, _: &dyn Sys, req: &CreateRequest) -> Result<RootfsSpec, StorageError> {
        let dir = req.container_dir.join("rootfs");
        std::fs::create_dir_all(&dir).map_err(|e| StorageError::io(&dir, e))?;
        Ok(RootfsSpec::new("journal", dir.display().to_string()))
    }

    async fn mount(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
        target: &Path,
    ) -> Result<(), StorageError> {
        self.0.note("mount");
        sys.mount(&MountRequest {
            source: Some(spec.location.clone().into()),
            target: target.to_path_buf(),
            fstype: None,
            flags: nix::mount::MsFlags::MS_BIND | nix::mount::MsFlags::MS_REC,
            data: None,
        })
        .map_err(|e| sys_err(spec, e))
    }

    async fn umount(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
        target: &Path,
    ) -> Result<(), StorageError> {
        self.0.note("umount");
        match sys.umount(target, true) {
            Err(e) if e.errno() != Some(nix::Error::EINVAL) => Err(sys_err(spec, e)),
            _ => Ok(()),
        }
    }

    async fn destroy(&self, _: &dyn Sys, spec: &RootfsSpec) -> Result<(), StorageError> {
        let dir = Path::new(&spec.location);
        match std::fs::remove_dir_all(dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StorageError::io(dir, e)),
            _ => Ok(()),
        }
    }
}

/// Network type `journal`.
#[derive(Debug)]
pub struct JournalNet(pub Journal);

#[async_trait]
impl Network for JournalNet {
    fn name(&self) -> &'static str {
        "journal"
    }

    fn validate(&self, _: &Nic) -> Result<(), NetworkError> {
        Ok(())
    }

    async fn setup_host(&self, ctx: NetContext<'_>, nic: &Nic) -> Result<NicState, NetworkError> {
        self.0.note(&format!("setup_host lxc.net.{}", nic.index));
        if ctx.netns.is_none() {
            return Err(NetworkError::Backend {
                index: nic.index,
                driver: "journal",
                reason: "no handle on the container's network namespace".into(),
            });
        }
        if std::env::var("RLXC_JOURNAL_FAIL").as_deref() == Ok("setup_host") {
            return Err(NetworkError::Backend {
                index: nic.index,
                driver: "journal",
                reason: "injected failure (RLXC_JOURNAL_FAIL=setup_host)".into(),
            });
        }
        Ok(NicState {
            index: nic.index,
            ..NicState::default()
        })
    }

    async fn setup_container(
        &self,
        _: NetContext<'_>,
        nic: &Nic,
        _: &NicState,
    ) -> Result<(), NetworkError> {
        self.0
            .note(&format!("setup_container lxc.net.{}", nic.index));
        Ok(())
    }

    async fn teardown(&self, _: NetContext<'_>, nic: &Nic, _: &NicState) -> Vec<NetworkError> {
        self.0.note(&format!("teardown lxc.net.{}", nic.index));
        Vec::new()
    }
}

/// Adds this crate's backends to a registry.
pub fn register(r: &mut Registry) {
    let journal = Journal::from_env();
    r.add_storage(Arc::new(JournalStorage(journal.clone())));
    r.add_network(Arc::new(JournalNet(journal)));
}
