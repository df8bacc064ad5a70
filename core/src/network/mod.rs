//! The network backend trait: one implementation per `lxc.net.N.type`.
//!
//! Set-up is split as LXC splits it: a host half that runs in the host's network
//! namespace while the container's init waits, and a container half that runs
//! inside the new network namespace. Teardown is best effort and reports every
//! failure instead of stopping at the first.

mod builtin;
pub mod ip;

pub use builtin::{Unwired, EMPTY, NONE};

use std::fmt;
use std::os::fd::BorrowedFd;

use async_trait::async_trait;

use crate::config::Nic;
use crate::sys::{Sys, SysError};

/// What the host half created, handed to the container half and to teardown.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NicState {
    /// Index of the NIC in the config (`lxc.net.N`).
    pub index: u32,
    /// Interface name on the host side (veth peer), if any.
    pub host_ifname: Option<String>,
    /// Name the interface has before it is renamed inside the container.
    pub transit_ifname: Option<String>,
    /// Gateways the host half worked out (`ipv4.gateway = auto`: the
    /// bridge's address), for the container half.
    #[serde(default)]
    pub gateways: Vec<std::net::IpAddr>,
    /// Made by `rlxc-user-nic` for a user's container, which names the
    /// container's end but sets nothing else: the container half sets its
    /// MAC and MTU too.
    #[serde(default)]
    pub bare: bool,
}

/// Where the set-up runs.
#[derive(Debug, Clone, Copy)]
pub struct NetContext<'a> {
    /// The boundary for syscalls and tools.
    pub sys: &'a dyn Sys,
    /// Container name (for generated interface names and hook environment).
    pub container: &'a str,
    /// PID of the container's init, whose network namespace is the target.
    pub init_pid: i32,
    /// The container's network namespace, open (`/proc/PID/ns/net`): on the
    /// host side the target for moving a link in (`IFLA_NET_NS_FD`) and for
    /// `setns`; `None` inside the container, where it is the current one, and
    /// for a container that shares the host's network (`none`).
    pub netns: Option<BorrowedFd<'a>>,
}

/// A network failure, naming the NIC.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// The NIC's configuration is not usable by this backend.
    #[error("lxc.net.{index}: {reason}")]
    Invalid {
        /// NIC index.
        index: u32,
        /// What is wrong.
        reason: String,
    },
    /// A netlink request, tool or syscall failed.
    #[error("lxc.net.{index} ({what}): {source}")]
    Sys {
        /// NIC index.
        index: u32,
        /// What was being done.
        what: String,
        /// The error.
        source: SysError,
    },
    /// The backend refused or failed, in its own words (backends outside
    /// this workspace use this).
    #[error("lxc.net.{index} ({driver}): {reason}")]
    Backend {
        /// NIC index.
        index: u32,
        /// Backend name.
        driver: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// The backend does not do this operation.
    #[error("network type `{driver}` does not support {op}")]
    Unsupported {
        /// Backend name.
        driver: &'static str,
        /// The operation asked for.
        op: &'static str,
    },
}

/// A network backend.
#[async_trait]
pub trait Network: Send + Sync + fmt::Debug {
    /// The `lxc.net.N.type` value this backend serves.
    fn name(&self) -> &'static str;

    /// Checks the NIC's configuration without side effects.
    fn validate(&self, nic: &Nic) -> Result<(), NetworkError>;

    /// Whether [`Network::setup_container`] has work to do inside the
    /// container's network namespace; `false` spares the container's first
    /// process the runtime it would need (`empty`, `none`).
    fn container_side(&self) -> bool {
        true
    }

    /// Host half: create the link, attach it, run `script.up`. Runs in the host
    /// network namespace. Not idempotent: call once per start.
    async fn setup_host(&self, ctx: NetContext<'_>, nic: &Nic) -> Result<NicState, NetworkError>;

    /// Container half: rename, address, routes, link up. Runs inside the
    /// container's network namespace.
    async fn setup_container(
        &self,
        ctx: NetContext<'_>,
        nic: &Nic,
        state: &NicState,
    ) -> Result<(), NetworkError>;

    /// Removes what `setup_host` made. Idempotent and best effort: returns every
    /// failure, an empty list when all went well.
    async fn teardown(&self, ctx: NetContext<'_>, nic: &Nic, state: &NicState)
        -> Vec<NetworkError>;
}
