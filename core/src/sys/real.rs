//! The real implementation of [`Sys`].

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;

use async_trait::async_trait;
use nix::mount::MntFlags;
use tokio::io::AsyncWriteExt;

use super::{Cloned, MountRequest, Sys, SysError, Tool, ToolOutput};

/// Performs the calls on this host.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealSys;

#[async_trait]
impl Sys for RealSys {
    async fn run(&self, tool: &Tool) -> Result<ToolOutput, SysError> {
        tracing::debug!(command = %tool, "running");
        let spawn_err = |source| SysError::Spawn {
            program: tool.program.clone(),
            source,
        };
        let mut cmd = tokio::process::Command::new(&tool.program);
        cmd.args(&tool.args)
            .envs(tool.env.iter().map(|(k, v)| (k, v)))
            .stdin(if tool.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if tool.show_output {
            // Both streams to our stderr, where a terminal shows them.
            use std::os::fd::AsFd;
            if let Ok(err) = std::io::stderr().as_fd().try_clone_to_owned() {
                cmd.stdout(Stdio::from(err)).stderr(Stdio::inherit());
            }
        }
        let mut child = cmd.spawn().map_err(spawn_err)?;
        if let (Some(input), Some(mut pipe)) = (&tool.stdin, child.stdin.take()) {
            // A program that exits without reading all input is not an error here;
            // its exit status says what happened.
            let _ = pipe.write_all(input).await;
        }
        let out = child.wait_with_output().await.map_err(spawn_err)?;
        Ok(tool_output(out))
    }

    fn run_blocking(&self, tool: &Tool) -> Result<ToolOutput, SysError> {
        tracing::debug!(command = %tool, "running");
        let spawn_err = |source| SysError::Spawn {
            program: tool.program.clone(),
            source,
        };
        let out = std::process::Command::new(&tool.program)
            .args(&tool.args)
            .envs(tool.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .map_err(spawn_err)?;
        Ok(tool_output(out))
    }

    fn mount(&self, req: &MountRequest) -> Result<(), SysError> {
        nix::mount::mount(
            req.source.as_deref(),
            &req.target,
            req.fstype.as_deref(),
            req.flags,
            req.data.as_deref(),
        )
        .map_err(|source| SysError::Syscall {
            op: "mount",
            path: req.target.display().to_string(),
            source,
        })
    }

    fn umount(&self, target: &Path, detach: bool) -> Result<(), SysError> {
        let flags = if detach {
            MntFlags::MNT_DETACH
        } else {
            MntFlags::empty()
        };
        nix::mount::umount2(target, flags).map_err(|source| SysError::Syscall {
            op: "umount",
            path: target.display().to_string(),
            source,
        })
    }

    fn kill(&self, pid: i32, signal: i32) -> Result<(), SysError> {
        // SAFETY: kill(2) has no memory-safety preconditions.
        let rc = unsafe { libc::kill(pid, signal) };
        if rc == 0 {
            Ok(())
        } else {
            Err(SysError::Syscall {
                op: "kill",
                path: format!("pid {pid}"),
                source: nix::Error::last(),
            })
        }
    }

    fn mkdir(&self, path: &Path) -> Result<(), SysError> {
        nix::unistd::mkdir(path, nix::sys::stat::Mode::from_bits_truncate(0o755))
            .map_err(|source| syscall("mkdir", path, source))
    }

    fn rmdir(&self, path: &Path) -> Result<(), SysError> {
        std::fs::remove_dir(path).map_err(|e| SysError::io("rmdir", path, &e))
    }

    fn write_file(&self, path: &Path, data: &[u8]) -> Result<(), SysError> {
        use std::io::Write;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .and_then(|mut f| f.write_all(data))
            .map_err(|e| SysError::io("write", path, &e))
    }

    fn write_each(&self, path: &Path, items: &[&[u8]]) -> Result<(), (usize, SysError)> {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| (0, SysError::io("open", path, &e)))?;
        for (i, data) in items.iter().enumerate() {
            f.write_all(data)
                .map_err(|e| (i, SysError::io("write", path, &e)))?;
        }
        Ok(())
    }

    fn unshare(&self, flags: i32) -> Result<(), SysError> {
        nix::sched::unshare(nix::sched::CloneFlags::from_bits_truncate(flags))
            .map_err(|source| syscall("unshare", Path::new("namespaces"), source))
    }

    fn clone_process(&self, flags: i32) -> Result<Cloned, SysError> {
        let threads = crate::run::clone::thread_count();
        if threads != 1 {
            return Err(SysError::Syscall {
                op: "clone (the monitor must be single-threaded for namespaces)",
                path: format!("a process with {threads} threads"),
                source: nix::Error::EINVAL,
            });
        }
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
            -1 => Err(syscall(
                "clone with new namespaces",
                Path::new("the container"),
                nix::Error::last(),
            )),
            0 => Ok(Cloned::Child),
            pid => Ok(Cloned::Parent {
                pid: pid as i32,
                // SAFETY: CLONE_PIDFD stored a new fd we own.
                pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) },
            }),
        }
    }

    fn open_netns(&self, pid: i32) -> Result<OwnedFd, SysError> {
        let path = format!("/proc/{pid}/ns/net");
        std::fs::File::open(&path)
            .map(OwnedFd::from)
            .map_err(|e| SysError::io("open", Path::new(&path), &e))
    }

    fn pidfd_signal(&self, pid: i32, pidfd: BorrowedFd<'_>, signal: i32) -> Result<(), SysError> {
        // SAFETY: pidfd_send_signal on a pidfd we hold, no siginfo.
        let rc =
            unsafe { libc::syscall(libc::SYS_pidfd_send_signal, pidfd.as_raw_fd(), signal, 0, 0) };
        if rc == 0 {
            Ok(())
        } else {
            Err(SysError::Syscall {
                op: "pidfd_send_signal",
                path: format!("pid {pid}"),
                source: nix::Error::last(),
            })
        }
    }

    fn reap(&self, pid: i32) -> Result<Option<nix::sys::wait::WaitStatus>, SysError> {
        loop {
            match nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None) {
                Ok(st) => return Ok(Some(st)),
                Err(nix::Error::EINTR) => continue,
                Err(nix::Error::ECHILD) => return Ok(None),
                Err(source) => {
                    return Err(SysError::Syscall {
                        op: "waitpid",
                        path: format!("pid {pid}"),
                        source,
                    })
                }
            }
        }
    }

    fn mknod_char(
        &self,
        dir: BorrowedFd<'_>,
        name: &str,
        major: u64,
        minor: u64,
    ) -> Result<(), SysError> {
        let mode = nix::sys::stat::Mode::from_bits_truncate(0o666);
        nix::sys::stat::mknodat(
            Some(dir.as_raw_fd()),
            name,
            nix::sys::stat::SFlag::S_IFCHR,
            mode,
            nix::sys::stat::makedev(major, minor),
        )
        .map_err(|source| syscall("mknod", Path::new(name), source))?;
        // mknod obeys the umask; the nodes must be 0666.
        let _ = nix::sys::stat::fchmodat(
            Some(dir.as_raw_fd()),
            name,
            mode,
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        );
        Ok(())
    }

    fn pivot_root(&self, new_root: &Path) -> Result<(), SysError> {
        nix::unistd::pivot_root(new_root, new_root)
            .map_err(|source| syscall("pivot_root into", new_root, source))
    }

    fn setns(&self, fd: BorrowedFd<'_>, nstype: i32) -> Result<(), SysError> {
        nix::sched::setns(fd, nix::sched::CloneFlags::from_bits_truncate(nstype))
            .map_err(|source| syscall("setns", Path::new("a namespace"), source))
    }

    fn netlink(&self, req: &crate::netlink::Request) -> Result<Vec<Vec<u8>>, SysError> {
        netlink_request(&netlink_socket().map_err(|e| netlink_err(req, e))?, req)
    }

    fn netlink_in(
        &self,
        netns: BorrowedFd<'_>,
        req: &crate::netlink::Request,
    ) -> Result<Vec<Vec<u8>>, SysError> {
        // A socket belongs to the netns it was made in: make it there, come back.
        let here = std::fs::File::open("/proc/thread-self/ns/net")
            .map_err(|e| SysError::io("open", Path::new("/proc/thread-self/ns/net"), &e))?;
        self.setns(netns, libc::CLONE_NEWNET)?;
        let sock = netlink_socket();
        self.setns(here.as_fd(), libc::CLONE_NEWNET)?;
        netlink_request(&sock.map_err(|e| netlink_err(req, e))?, req)
    }

    fn attach_device_program(&self, cgroup: &Path, insns: &[u8]) -> Result<(), SysError> {
        super::bpf::attach_device_program(cgroup, insns)
    }
}

fn netlink_err(req: &crate::netlink::Request, source: nix::Error) -> SysError {
    SysError::Syscall {
        op: "netlink",
        path: req.what.clone(),
        source,
    }
}

/// A `NETLINK_ROUTE` socket in this thread's network namespace.
fn netlink_socket() -> Result<OwnedFd, nix::Error> {
    // SAFETY: a new socket we own.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if fd < 0 {
        return Err(nix::Error::last());
    }
    // SAFETY: fd is ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends `req` on `sock` and reads the answers up to the ack (or the one answer).
fn netlink_request(
    sock: &OwnedFd,
    req: &crate::netlink::Request,
) -> Result<Vec<Vec<u8>>, SysError> {
    let fail = |source: nix::Error| netlink_err(req, source);
    // SAFETY: a zeroed sockaddr_nl is the kernel's address (pid 0).
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as u16;
    // SAFETY: sendto with our buffer and a valid sockaddr_nl.
    let sent = unsafe {
        libc::sendto(
            sock.as_raw_fd(),
            req.bytes.as_ptr().cast(),
            req.bytes.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if sent < 0 {
        return Err(fail(nix::Error::last()));
    }
    let flags = u16::from_ne_bytes([req.bytes[6], req.bytes[7]]);
    let wants_ack = flags & crate::netlink::F_ACK != 0;
    let dump = flags & libc::NLM_F_DUMP as u16 != 0;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        // SAFETY: recv into our buffer.
        let n = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(fail(nix::Error::last()));
        }
        for a in crate::netlink::parse_answers(&buf[..n as usize]) {
            match a {
                crate::netlink::Answer::Ack | crate::netlink::Answer::Done => return Ok(out),
                crate::netlink::Answer::Error(e) => return Err(fail(nix::Error::from_raw(e))),
                crate::netlink::Answer::Message(_, body) => {
                    out.push(body);
                    if !wants_ack && !dump {
                        return Ok(out);
                    }
                }
            }
        }
    }
}

/// A finished program's output, its status as a shell reports it (128+N
/// for signal N).
fn tool_output(out: std::process::Output) -> ToolOutput {
    let status = out
        .status
        .code()
        .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0));
    ToolOutput {
        status,
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

fn syscall(op: &'static str, path: &Path, source: nix::Error) -> SysError {
    SysError::Syscall {
        op,
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn runs_a_program_and_captures_output() {
        let out = RealSys
            .run(&Tool::new("sh", ["-c", "echo out; echo err >&2; exit 3"]))
            .await
            .unwrap();
        assert_eq!(out.status, 3);
        assert_eq!(out.stdout_text(), "out\n");
        assert_eq!(out.stderr, b"err\n");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn missing_program_names_it() {
        let err = RealSys
            .run(&Tool::new("rlxc-no-such-program", Vec::<String>::new()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("rlxc-no-such-program"), "{err}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn stdin_is_fed() {
        let mut t = Tool::new("cat", Vec::<String>::new());
        t.stdin = Some(b"hello".to_vec());
        assert_eq!(RealSys.run(&t).await.unwrap().stdout, b"hello");
    }
}
