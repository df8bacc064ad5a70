//! User namespaces: id maps (`lxc.idmap`, `lxc-usernsexec -m`), the
//! subordinate id ranges a user is granted (`/etc/subuid`, `/etc/subgid`),
//! and running a command as root in a new user namespace
//! (`lxc-usernsexec`). The maps are written by the kernel's rules: directly
//! by root, through the setuid `newuidmap`/`newgidmap` (package uidmap) for
//! anyone else, after the ranges were checked here so that a missing one
//! is named with the line that grants it.

pub mod exec;
pub mod maps;
pub mod shift;
pub mod subid;

pub use exec::{usernsexec, UsernsError};
pub use maps::{parse_cli_map, Maps};
