//! rlxc core: everything that is not a backend.
//!
//! - [`config`] — the LXC config language, legacy and modern dialects, includes,
//!   byte-exact saving, `update-config`, cgroup v1/v2 translation, the system config.
//! - [`container`] — names, on-disk paths (LXC's layout), locks, listing.
//! - [`storage`], [`network`], [`template`] — the backend traits, used as `Arc<dyn …>`.
//! - [`start`] — the start pipeline: the plan, its stages with rollback, the typed messages.
//! - [`run`] — the monitor, the container's first process, the command socket, attach.
//! - [`registry`] — the backends of one build (filled by the binary; core names none).
//! - [`sys`] — the boundary for syscalls and external tools, real and recording fake.
//! - [`cgroups`] — the host's cgroup layout, v1⇄v2 translation, one container's cgroups.
//! - [`host`] — the kernel features (`checkconfig`).
//!
//! Privileges: parsing and listing need none; the `Sys` calls need root (or the
//! capabilities of the operation). Nothing in this crate prints; it logs with `tracing`.

pub mod cgroups;
pub mod config;
pub mod container;
pub mod host;
pub mod netlink;
pub mod network;
pub mod registry;
pub mod run;
pub mod seccomp;
pub mod start;
pub mod storage;
pub mod sys;
pub mod template;
pub mod templates;
pub mod usernic;
pub mod userns;

/// The version of rlxc.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The LXC version whose commands and config rlxc follows.
pub const LXC_COMPAT_VERSION: &str = "5.0";
