//! The `Sys` boundary: every side-effecting syscall and every external program
//! that rlxc uses goes through a [`Sys`] value passed in explicitly.
//!
//! [`RealSys`] does the work; [`FakeSys`] records typed calls and answers with
//! scripted output so unit tests run unprivileged and without the tools.
//! Argument lists for tools are built by pure functions in the backends and
//! unit-tested there; this module only runs them.

mod bpf;
mod fake;
mod real;
mod tool;

pub use fake::{FakeSys, Fault, FAKE_CHILD, FAKE_IFINDEX};
pub use real::RealSys;
pub use tool::{Tool, ToolOutput};

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use async_trait::async_trait;

/// A failed syscall or external program.
#[derive(Debug, thiserror::Error)]
pub enum SysError {
    /// The program could not be started at all (not installed, not executable).
    #[error("cannot run `{program}`: {source} (is it installed?)")]
    Spawn {
        /// Program name as given.
        program: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The program ran and exited non-zero.
    #[error("`{command}` failed with {status}: {stderr}")]
    Failed {
        /// The command line, for the message.
        command: String,
        /// Exit status description.
        status: String,
        /// Trimmed standard error of the program.
        stderr: String,
    },
    /// A syscall failed.
    #[error("{op} {path}: {source}")]
    Syscall {
        /// What was attempted (`mount`, `umount`, `kill` …).
        op: &'static str,
        /// The path or object it was attempted on.
        path: String,
        /// The errno.
        source: nix::Error,
    },
}

/// A mount request, as typed data so the fake can record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountRequest {
    /// Source (device, directory, or a pseudo name such as `proc`).
    pub source: Option<PathBuf>,
    /// Target directory or file.
    pub target: PathBuf,
    /// Filesystem type, `None` for binds and remounts.
    pub fstype: Option<String>,
    /// `MS_*` flags.
    pub flags: nix::mount::MsFlags,
    /// Filesystem-specific data (`-o` options the kernel parses).
    pub data: Option<String>,
}

/// One call the boundary saw; [`FakeSys`] records these in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SysCall {
    /// An external program ran.
    Run(Tool),
    /// `mount(2)`.
    Mount(MountRequest),
    /// `umount2(2)`; `detach` means `MNT_DETACH`.
    Umount {
        /// What was unmounted.
        target: PathBuf,
        /// Lazy unmount.
        detach: bool,
    },
    /// `kill(2)`.
    Kill {
        /// Target process.
        pid: i32,
        /// Signal number.
        signal: i32,
    },
    /// `mkdir(2)` (mode 0755).
    Mkdir(PathBuf),
    /// `rmdir(2)`.
    Rmdir(PathBuf),
    /// A write to an existing file (a cgroup or proc file).
    Write {
        /// The file.
        path: PathBuf,
        /// What was written.
        data: String,
    },
    /// `unshare(2)` with these `CLONE_*` flags.
    Unshare(i32),
    /// `clone(2)` with these `CLONE_NEW*` flags (a pidfd is always asked for).
    Clone(i32),
    /// Opening a process's network namespace (`/proc/PID/ns/net`).
    OpenNetns(i32),
    /// `pidfd_send_signal(2)` to a child.
    PidfdSignal {
        /// The child's pid (for the record).
        pid: i32,
        /// Signal number.
        signal: i32,
    },
    /// `waitpid(2)` for a child that is known to be ending.
    Reap(i32),
    /// `mknodat(2)` of a character device.
    Mknod {
        /// Node name in its directory.
        name: String,
        /// Major number.
        major: u64,
        /// Minor number.
        minor: u64,
    },
    /// `pivot_root(2)`.
    PivotRoot(PathBuf),
    /// `setns(2)` with this `CLONE_NEW*` type.
    Setns(i32),
    /// A cgroup2 device program attached to a directory.
    DeviceProgram {
        /// The cgroup2 directory.
        cgroup: std::path::PathBuf,
        /// Its length in instructions.
        insns: usize,
    },
    /// An rtnetlink request in the current network namespace.
    Netlink {
        /// What it does.
        kind: crate::netlink::Kind,
        /// Its description (`adding veth pair vethX / eth0`).
        what: String,
    },
}

/// What [`Sys::clone_process`] returned.
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

/// Side effects on the host. Object safe; shared as `&dyn Sys` or `Arc<dyn Sys>`.
#[async_trait]
pub trait Sys: Send + Sync + std::fmt::Debug {
    /// Runs an external program to completion and returns its output, whatever
    /// its exit status. Use [`run_checked`] when non-zero means failure.
    async fn run(&self, tool: &Tool) -> Result<ToolOutput, SysError>;
    /// [`Sys::run`] without a runtime, for a process that has none (the
    /// container's first process, the monitor between its stages): hooks.
    fn run_blocking(&self, tool: &Tool) -> Result<ToolOutput, SysError>;
    /// `mount(2)`.
    fn mount(&self, req: &MountRequest) -> Result<(), SysError>;
    /// `umount2(2)`, with `MNT_DETACH` when `detach`.
    fn umount(&self, target: &Path, detach: bool) -> Result<(), SysError>;
    /// `kill(2)`.
    fn kill(&self, pid: i32, signal: i32) -> Result<(), SysError>;
    /// `mkdir(2)` with mode 0755; an existing directory is `EEXIST`.
    fn mkdir(&self, path: &Path) -> Result<(), SysError>;
    /// `rmdir(2)`.
    fn rmdir(&self, path: &Path) -> Result<(), SysError>;
    /// Writes `data` to a file in one `write(2)`, as `std::fs::write` does
    /// (cgroup and proc files take one value per write).
    fn write_file(&self, path: &Path, data: &[u8]) -> Result<(), SysError>;
    /// Writes each of `items` to one open file, one `write(2)` each (a cgroup
    /// file takes one rule per write); a failure gives the item's index.
    fn write_each(&self, path: &Path, items: &[&[u8]]) -> Result<(), (usize, SysError)>;
    /// `unshare(2)`.
    fn unshare(&self, flags: i32) -> Result<(), SysError>;
    /// `clone(2)` fork-style into the namespaces in `flags`, with a pidfd.
    /// The caller must be single-threaded. The fake never returns `Child`.
    fn clone_process(&self, flags: i32) -> Result<Cloned, SysError>;
    /// Opens the network namespace of process `pid`, for `setns` and for
    /// moving links into it (`IFLA_NET_NS_FD`).
    fn open_netns(&self, pid: i32) -> Result<OwnedFd, SysError>;
    /// `pidfd_send_signal(2)`: never reaches a recycled pid.
    fn pidfd_signal(&self, pid: i32, pidfd: BorrowedFd<'_>, signal: i32) -> Result<(), SysError>;
    /// Waits for child `pid` to end (after it was killed); returns its wait status.
    fn reap(&self, pid: i32) -> Result<Option<nix::sys::wait::WaitStatus>, SysError>;
    /// `mknodat(2)`: character device `major:minor` named `name` in `dir`, mode 0666.
    fn mknod_char(
        &self,
        dir: BorrowedFd<'_>,
        name: &str,
        major: u64,
        minor: u64,
    ) -> Result<(), SysError>;
    /// `pivot_root(2)` with the old root stacked on the new one (`put_old` = `new_root`).
    fn pivot_root(&self, new_root: &Path) -> Result<(), SysError>;
    /// `setns(2)` into the namespace `fd` refers to, of type `nstype` (`CLONE_NEW*`).
    fn setns(&self, fd: BorrowedFd<'_>, nstype: i32) -> Result<(), SysError>;
    /// Sends an rtnetlink request in this process's network namespace and
    /// returns the bodies of the messages answered (none for a plain ack); a
    /// refusal is the errno, named after the request.
    fn netlink(&self, req: &crate::netlink::Request) -> Result<Vec<Vec<u8>>, SysError>;
    /// [`Sys::netlink`] in the network namespace `netns` (an open fd): the
    /// socket is made there, the caller stays where it is.
    fn netlink_in(
        &self,
        netns: BorrowedFd<'_>,
        req: &crate::netlink::Request,
    ) -> Result<Vec<Vec<u8>>, SysError>;
    /// Loads `insns` (a `bpf_insn` array) as a `BPF_CGROUP_DEVICE` program
    /// and attaches it to cgroup2 directory `cgroup`, replacing the one there.
    fn attach_device_program(&self, cgroup: &Path, insns: &[u8]) -> Result<(), SysError>;
}

impl SysError {
    /// A failed syscall on `path`, from an I/O error.
    pub fn io(op: &'static str, path: &Path, e: &std::io::Error) -> SysError {
        SysError::Syscall {
            op,
            path: path.display().to_string(),
            source: nix::Error::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        }
    }

    /// The errno of a failed syscall, if that is what this is.
    pub fn errno(&self) -> Option<nix::Error> {
        match self {
            SysError::Syscall { source, .. } => Some(*source),
            _ => None,
        }
    }
}

/// Runs `tool` and turns a non-zero exit into [`SysError::Failed`] with its stderr.
pub async fn run_checked(sys: &dyn Sys, tool: &Tool) -> Result<ToolOutput, SysError> {
    let out = sys.run(tool).await?;
    if out.status == 0 {
        Ok(out)
    } else {
        Err(SysError::Failed {
            command: tool.command_line(),
            status: format!("exit status {}", out.status),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}
