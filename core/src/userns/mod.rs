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

/// Takes `uid` and `gid` for real, effective and saved ids, after dropping
/// the supplementary groups (inside a user namespace they are not mapped,
/// and would show as nogroup).
pub fn take_ids(uid: u32, gid: u32) -> Result<(), String> {
    let _ = nix::unistd::setgroups(&[]);
    let (g, u) = (
        nix::unistd::Gid::from_raw(gid),
        nix::unistd::Uid::from_raw(uid),
    );
    nix::unistd::setresgid(g, g, g).map_err(|e| format!("setresgid {gid}: {}", e.desc()))?;
    nix::unistd::setresuid(u, u, u).map_err(|e| format!("setresuid {uid}: {}", e.desc()))
}

/// Whether this process is in the host's (the initial) user namespace,
/// whose map is the identity over every id.
pub fn in_initial_userns() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .is_ok_and(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
}
