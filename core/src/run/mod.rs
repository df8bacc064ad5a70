//! Running containers: the launcher and monitor (`start`, `execute`), the
//! container's first process, rlxc's own init, cgroups, ptys, the command
//! socket protocol with its server and client, and `attach`.
//!
//! Processes (see DESIGN.md): the CLI (or, with `start -d`, a forked daemon)
//! is the monitor. It prepares cgroups and ptys, `clone`s the container's first
//! process into new namespaces, releases it once it is in its cgroups, and
//! serves the command socket until init exits; then it removes everything it
//! made. Privileges: root (namespaces, mounts, cgroups).

pub mod attach;
pub mod cgroups;
pub mod child;
pub mod client;
pub mod clone;
pub mod dev;
pub mod init;
pub mod monitor;
pub mod mounts;
pub mod netinfo;
pub mod protocol;
pub mod pty;
pub mod server;
pub mod spec;
pub mod warmup;

pub use client::{Client, ClientError};
pub use monitor::{launch, serve, start_daemon, StartError, StartRequest};
pub use spec::RunSpec;
