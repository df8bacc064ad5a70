//! `clone(2)` with new namespaces and a pidfd, fork-style (no new stack).
//!
//! It must be called from a process with one thread: the child is a copy of
//! it, and namespaces such as the user namespace refuse threaded callers.

use std::os::fd::{FromRawFd, OwnedFd};

/// What `clone` returned.
#[derive(Debug)]
pub enum Cloned {
    /// In the parent: the child's pid (in our namespace) and a pidfd for it.
    Parent {
        /// The child's pid.
        pid: i32,
        /// A pidfd: safe signalling and readiness on exit.
        pidfd: OwnedFd,
    },
    /// In the child.
    Child,
}

/// Clones the calling process into the namespaces in `flags` (`CLONE_NEW*`).
pub fn clone_into(flags: libc::c_int) -> std::io::Result<Cloned> {
    let mut pidfd: libc::c_int = -1;
    let all = (flags | libc::CLONE_PIDFD | libc::SIGCHLD) as libc::c_ulong;
    // SAFETY: fork-style clone (null stack): the child continues here with a
    // copy of the address space, as after fork(2). The caller is single-threaded.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            all,
            std::ptr::null_mut::<libc::c_void>(),
            &mut pidfd as *mut libc::c_int,
            std::ptr::null_mut::<libc::c_void>(),
            0usize,
        )
    };
    match ret {
        -1 => Err(std::io::Error::last_os_error()),
        0 => Ok(Cloned::Child),
        pid => Ok(Cloned::Parent {
            pid: pid as i32,
            // SAFETY: CLONE_PIDFD stored a new fd we own.
            pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) },
        }),
    }
}

/// The number of threads of this process (from /proc/self/status).
pub fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(1)
}
