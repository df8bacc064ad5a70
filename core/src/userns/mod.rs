//! User namespaces: id maps (`lxc.idmap`, `lxc-usernsexec -m`), the
//! subordinate id ranges a user is granted (`/etc/subuid`, `/etc/subgid`),
//! and running a command as root in a new user namespace
//! (`lxc-usernsexec`). The maps are written by the kernel's rules: directly
//! by root, through the setuid `newuidmap`/`newgidmap` (package uidmap) for
//! anyone else, after the ranges were checked here so that a missing one
//! is named with the line that grants it.

pub mod container_root;
pub mod exec;
pub mod idmapped;
pub mod maps;
pub mod shift;
pub mod subid;

pub use exec::{usernsexec, UsernsError};
pub use maps::{parse_cli_map, Maps};

/// Whether this process is in the host's (the initial) user namespace,
/// whose map is the identity over every id.
pub fn in_initial_userns() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
}
