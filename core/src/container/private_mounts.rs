//! Work that needs a rootfs mounted outside a start (copying an overlay
//! clone, the clone hook, a new hostname): done in a forked child with a
//! mount namespace of its own, so whatever it mounts goes away with it, even
//! when rlxc is killed half-way. The host never sees those mounts.

use std::io::{Read, Write};
use std::path::Path;

use crate::userns::container_root::ContainerRoot;

/// Runs `f` in a forked child in a private mount namespace (its mounts do
/// not propagate back); returns what `f` returned. The caller must be
/// single-threaded (the CLI is).
pub fn in_private_mounts<F>(what: &str, f: F) -> Result<String, String>
where
    F: FnOnce() -> Result<String, String>,
{
    let (r, w) =
        std::os::unix::net::UnixStream::pair().map_err(|e| format!("{what}: socketpair: {e}"))?;
    // SAFETY: the CLI is single-threaded; the child runs `f` and exits.
    match unsafe { nix::unistd::fork() }.map_err(|e| format!("{what}: fork: {}", e.desc()))? {
        nix::unistd::ForkResult::Child => {
            drop(r);
            // A panic must not unwind into the parent's frames: this is a fork.
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                enter().and_then(|()| f())
            }))
            .unwrap_or_else(|_| Err(format!("{what}: the helper process panicked")));
            let (code, text) = match out {
                Ok(t) => (0, t),
                Err(t) => (1, t),
            };
            let mut w = w;
            let _ = w.write_all(text.as_bytes());
            drop(w);
            // SAFETY: leave the forked child without running the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        nix::unistd::ForkResult::Parent { child } => {
            drop(w);
            let mut text = String::new();
            let mut r = r;
            let _ = r.read_to_string(&mut text);
            let status = loop {
                match nix::sys::wait::waitpid(child, None) {
                    Err(nix::Error::EINTR) => continue,
                    other => break other,
                }
            };
            match status {
                Ok(nix::sys::wait::WaitStatus::Exited(_, 0)) => Ok(text),
                Ok(nix::sys::wait::WaitStatus::Exited(_, code)) if text.is_empty() => Err(format!(
                    "{what}: the helper process failed (exit status {code})"
                )),
                Ok(nix::sys::wait::WaitStatus::Exited(..)) => Err(text),
                other => Err(format!("{what}: the helper process ended: {other:?}")),
            }
        }
    }
}

/// [`in_private_mounts`], or for a user's mapped container as its root
/// ([`ContainerRoot::run`], which has a mount namespace of its own too).
pub fn in_private_mounts_as<F>(
    as_root: Option<&ContainerRoot>,
    what: &str,
    f: F,
) -> Result<String, String>
where
    F: FnOnce() -> Result<String, String>,
{
    match as_root {
        Some(cr) => cr.run(what, f),
        None => in_private_mounts(what, f),
    }
}

/// Removes the tree `dir`, as the container's root for a user's mapped one.
pub fn remove_tree_as(as_root: Option<&ContainerRoot>, dir: &Path) -> Result<(), String> {
    let gone = |d: &Path| match std::fs::remove_dir_all(d) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("{}: {e}", d.display())),
        _ => Ok(()),
    };
    match as_root {
        Some(cr) => {
            let d = dir.to_path_buf();
            cr.run("removing it as the container's root", move || {
                gone(&d).map(|()| String::new())
            })
            .map(|_| ())
        }
        None => gone(dir),
    }
}

/// A mount namespace of our own, receiving the host's mounts but sending none.
pub(crate) fn enter() -> Result<(), String> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|e| format!("a private mount namespace: {}", e.desc()))?;
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        nix::mount::MsFlags::MS_SLAVE | nix::mount::MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| format!("making / a slave mount: {}", e.desc()))
}

/// Runs `f` to completion from inside [`in_private_mounts`]'s child: on a
/// runtime of its own, on a thread of its own (the child was forked from
/// inside the caller's runtime, whose context the forking thread still has).
pub fn block_on_forked<F>(f: F) -> Result<F::Output, String>
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|s| {
        s.spawn(|| {
            // Built and dropped on this thread, outside the caller's runtime.
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build()
                .map_err(|e| format!("an I/O runtime: {e}"))?;
            Ok(rt.block_on(f))
        })
        .join()
        .map_err(|_| "the helper thread panicked".to_string())?
    })
}
