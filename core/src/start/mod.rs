//! The start pipeline: one path through every backend.
//!
//! ```text
//! Container::start ─ StartPlan::build(config, registry, layout)   pure: every backend resolved,
//!                    │                                           every NIC validated, limits placed
//!                    └ Launch::run  (the monitor, one thread until the clone)
//!                        RunDir → Cgroups → Rootfs (own mount ns + Storage::mount)
//!                        → Ptys → Socket → Clone (+ cgroup attach)
//!                        → Nic(i): Network::setup_host with the netns handle, per NIC
//!                        → Release: ToChild::Go { nic states } ─────────┐
//!                                                                       ▼
//!                    [container's first process, run::child]  mounts, /dev, pivot (while the
//!                        monitor works) → waits for Go → Network::setup_container per NIC
//!                        → ToMonitor::NetworkReady → cgroup ns, hostname, console, env,
//!                        capabilities, ids → exec (end of file on the report pipe)
//!                    └ serve (run::server) until init exits → Launch::teardown (the same undos)
//! ```
//!
//! A failure at any stage undoes the stages done, in reverse, gathering every
//! error ([`launch::Launch::run`]); stop runs the same undos.

mod child_link;
mod hook_stages;
pub mod launch;
mod lsm_stage;
pub mod message;
pub mod plan;
pub mod runtime;
mod shmounts;

#[cfg(test)]
mod launch_tests;

pub use launch::{Launch, Stage};
pub use plan::{NicPlan, PlanError, RootfsPlan, StartOptions, StartPlan};

use crate::cgroups::CgroupError;
use crate::container::lock::LockError;
use crate::network::NetworkError;
use crate::storage::StorageError;
use crate::sys::SysError;

/// Why a start failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// It runs already.
    #[error("container `{name}` is already running")]
    AlreadyRunning {
        /// Container.
        name: String,
    },
    /// Locked by another command.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The plan could not be made.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A cgroup step failed.
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    /// The storage backend failed.
    #[error("container `{name}`: storage `{backend}`: {source}")]
    Storage {
        /// Container.
        name: String,
        /// Backend name.
        backend: &'static str,
        /// The error.
        source: Box<StorageError>,
    },
    /// A network backend failed.
    #[error("container `{name}`: lxc.net.{index} (type `{backend}`): {what}: {message}")]
    Network {
        /// Container.
        name: String,
        /// NIC index.
        index: u32,
        /// Backend name.
        backend: &'static str,
        /// What was being done.
        what: &'static str,
        /// The backend's error, without the NIC prefix it repeats.
        message: String,
    },
    /// A syscall through the boundary failed.
    #[error("container `{name}`: {what}: {source}")]
    Sys {
        /// Container.
        name: String,
        /// What was being done.
        what: String,
        /// The error.
        source: SysError,
    },
    /// A host-side step failed.
    #[error("container `{name}`: {what}: {source}")]
    Io {
        /// Container.
        name: String,
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// A hook the monitor runs failed.
    #[error("container `{name}`: {why}")]
    Hook {
        /// Container.
        name: String,
        /// The hook, its status and output.
        why: String,
    },
    /// The container's own setup or init failed.
    #[error("container `{name}` failed to start: {message}")]
    Child {
        /// Container.
        name: String,
        /// What the container's process reported.
        message: String,
    },
    /// A start failed and undoing it failed too.
    #[error("{error} (and undoing the start failed: {})", undo.join("; "))]
    Undo {
        /// The first failure.
        error: Box<StartError>,
        /// Every undo failure.
        undo: Vec<String>,
    },
}

impl StartError {
    /// `error`, with the undo failures if there were any.
    pub fn with_undo(error: StartError, undo: Vec<String>) -> StartError {
        if undo.is_empty() {
            error
        } else {
            StartError::Undo {
                error: Box::new(error),
                undo,
            }
        }
    }

    /// A network backend's failure for NIC `np`.
    pub fn network(name: &str, np: &NicPlan, what: &'static str, e: &NetworkError) -> StartError {
        // The backend's text names the NIC again: say it once.
        let text = e.to_string();
        let tag = format!("lxc.net.{}", np.nic.index);
        let own = format!(" ({}): ", np.backend.name());
        let message = match text.strip_prefix(&tag) {
            Some(rest) => rest
                .strip_prefix(own.as_str())
                .or_else(|| rest.strip_prefix(": "))
                .unwrap_or(rest.trim_start())
                .to_string(),
            None => text.clone(),
        };
        StartError::Network {
            name: name.to_string(),
            index: np.nic.index,
            backend: np.backend.name(),
            what,
            message,
        }
    }
}

pub use runtime::block_on;
