//! Running containers: the monitor (`start`, `execute`), the container's
//! first process, rlxc's own init, ptys, mounts and `/dev`, the command socket
//! protocol with its server and client, and `attach`. The staged start itself
//! is [`crate::start`].
//!
//! Processes (see DESIGN.md): the CLI (or, with `start -d`, a forked daemon)
//! is the monitor. It runs the start's stages, serves the command socket until
//! init exits, then undoes every stage. Privileges: root (namespaces, mounts,
//! cgroups).

pub mod apparmor_profile;
pub mod attach;
pub mod automount;
pub mod cgroup_mount;
pub mod child;
pub mod client;
pub mod clone;
pub mod dev;
pub mod ephemeral;
pub mod fd_passing;
pub mod hooks;
pub mod init;
pub mod init_exec;
pub mod kernel_keys;
pub mod lsm;
pub mod monitor;
pub mod mount_entry;
pub mod mounts;
pub mod namespaces;
pub mod netinfo;
pub mod privs;
pub mod prlimit;
pub mod protocol;
pub mod pty;
pub mod server;
pub mod spec;
mod spec_reader;
pub mod trampoline;
pub mod unshare;
pub mod userns_mount;
pub mod warmup;

pub use client::{Client, ClientError};
pub use monitor::{launch, serve, start_daemon};
pub use spec::RunSpec;
