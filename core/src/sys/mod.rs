//! The `Sys` boundary: every side-effecting syscall and every external program
//! that rlxc uses goes through a [`Sys`] value passed in explicitly.
//!
//! [`RealSys`] does the work; [`FakeSys`] records typed calls and answers with
//! scripted output so unit tests run unprivileged and without the tools.
//! Argument lists for tools are built by pure functions in the backends and
//! unit-tested there; this module only runs them.

mod fake;
mod real;
mod tool;

pub use fake::FakeSys;
pub use real::RealSys;
pub use tool::{Tool, ToolOutput};

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
}

/// Side effects on the host. Object safe; shared as `&dyn Sys` or `Arc<dyn Sys>`.
#[async_trait]
pub trait Sys: Send + Sync + std::fmt::Debug {
    /// Runs an external program to completion and returns its output, whatever
    /// its exit status. Use [`run_checked`] when non-zero means failure.
    async fn run(&self, tool: &Tool) -> Result<ToolOutput, SysError>;
    /// `mount(2)`.
    fn mount(&self, req: &MountRequest) -> Result<(), SysError>;
    /// `umount2(2)`, with `MNT_DETACH` when `detach`.
    fn umount(&self, target: &Path, detach: bool) -> Result<(), SysError>;
    /// `kill(2)`.
    fn kill(&self, pid: i32, signal: i32) -> Result<(), SysError>;
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
