//! rlxc's own init for `execute`: pid 1 forks the command, forwards every
//! signal it gets to it, reaps every zombie, and exits with the command's
//! status (128+N when the command died of signal N). Once the command is
//! forked, pid 1 execs the sealed 200-byte supervisor that does exactly this
//! ([`super::trampoline::SUPERVISOR`]), so no rlxc image stays in the
//! container as its init (the CVE-2019-5736 class: `/proc/1/exe` would be
//! the host's binary); the loop here is the fallback if that exec fails.

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

/// Exit code for a wait status, as a shell reports it.
pub fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

/// Runs as pid 1: `command` runs in a forked child (it execs and only returns
/// on failure, with a message that `on_error` delivers). pid 1 closes `err`
/// (the monitor's error pipe) so only the command holds it. Never returns.
pub fn run(
    command: impl FnOnce() -> String,
    on_error: impl FnOnce(&str),
    err: std::os::fd::OwnedFd,
    supervisor: Option<std::os::fd::OwnedFd>,
) -> ! {
    let all = SigSet::all();
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&all), None);
    // SAFETY: single-threaded process (the container's first process).
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&all), None);
            let msg = command();
            on_error(&msg);
            // SAFETY: leave without running the parent's destructors.
            unsafe { libc::_exit(127) }
        }
        Ok(ForkResult::Parent { child }) => {
            // pid 1 keeps no copy of the error pipe: the monitor sees its
            // end when the command execs.
            drop(err);
            drop(on_error);
            // Nor of the command's copy (the closure holds one).
            drop(command);
            if let Some(program) = supervisor {
                let pid = std::ffi::CString::new(child.to_string()).expect("digits");
                let argv = [c"rlxc-init".to_owned(), pid];
                let env: [std::ffi::CString; 0] = [];
                let fd = std::os::fd::AsRawFd::as_raw_fd(&program);
                let _ = nix::unistd::fexecve(fd, &argv, &env);
            }
            // The fallback loop needs no fd: a copy of the monitor's report
            // pipe left open here would keep the start waiting for its end.
            // SAFETY: closing every fd above stdio of this process.
            unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
            supervise(child, &all)
        }
        Err(e) => {
            on_error(&format!("init: fork: {}", e.desc()));
            // SAFETY: as above.
            unsafe { libc::_exit(127) }
        }
    }
}

fn supervise(child: Pid, set: &SigSet) -> ! {
    loop {
        let Ok(sig) = set.wait() else { continue };
        if sig != Signal::SIGCHLD {
            let _ = nix::sys::signal::kill(child, sig);
            continue;
        }
        while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            if status == WaitStatus::StillAlive {
                break;
            }
            if status.pid() == Some(child) {
                if let Some(code) = exit_code(status) {
                    // SAFETY: pid 1 leaving; the kernel kills what is left.
                    unsafe { libc::_exit(code) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell() {
        let p = Pid::from_raw(5);
        assert_eq!(exit_code(WaitStatus::Exited(p, 7)), Some(7));
        assert_eq!(
            exit_code(WaitStatus::Signaled(p, Signal::SIGTERM, false)),
            Some(143)
        );
        assert_eq!(exit_code(WaitStatus::StillAlive), None);
    }
}
