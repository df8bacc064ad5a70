//! A user's work on its own container's files as that container's root:
//! a clone's rootfs, a snapshot's delta, a rootfs to remove are owned by the
//! mapped ids, which the user itself may not read, chown or remove. The
//! work runs in a forked child in a user namespace with the container's
//! maps and the user's own ids beside them (written through newuidmap and
//! newgidmap), as uid 0 there, in a mount namespace of its own (what it
//! mounts goes with it).

use std::io::{Read, Write};

use super::shift::in_users_namespace;
use super::Maps;

/// The container's maps and the user who works as its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRoot {
    /// The container's `lxc.idmap`.
    pub maps: Maps,
    /// The user's own uid.
    pub uid: u32,
    /// The user's own gid.
    pub gid: u32,
}

impl ContainerRoot {
    /// For a user other than root whose container has maps; `None` for root
    /// (who reaches every file as it is) and for a container without maps.
    pub fn for_caller(maps: &Maps) -> Option<ContainerRoot> {
        if nix::unistd::geteuid().is_root() || maps.uid.is_empty() {
            return None;
        }
        Some(ContainerRoot {
            maps: maps.clone(),
            uid: nix::unistd::getuid().as_raw(),
            gid: nix::unistd::getgid().as_raw(),
        })
    }

    /// Runs `f` as the container's root (see the module); returns its text.
    /// The caller must be single-threaded (the CLI and the monitor's
    /// clean-up are).
    pub fn run<F>(&self, what: &str, f: F) -> Result<String, String>
    where
        F: FnOnce() -> Result<String, String>,
    {
        let (mut r, w) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| format!("{what}: socketpair: {e}"))?;
        let done = in_users_namespace(&self.maps, self.uid, self.gid, move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // uid and gid 0 there: what is made is the container root's.
                super::take_ids(0, 0)
                    .and_then(|()| crate::container::private_mounts::enter())
                    .and_then(|()| f())
            }))
            .unwrap_or_else(|_| Err("the helper process panicked".into()));
            let (code, text) = match out {
                Ok(t) => (0, t),
                Err(t) => (1, t),
            };
            let mut w = w;
            let _ = w.write_all(text.as_bytes());
            code
        });
        let mut text = String::new();
        let _ = r.read_to_string(&mut text);
        match done {
            Ok(()) => Ok(text),
            Err(_) if !text.is_empty() => Err(format!("{what}: {text}")),
            Err(e) => Err(format!("{what}: {e}")),
        }
    }
}
