//! The real implementation of [`Sys`].

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;

use async_trait::async_trait;
use nix::mount::MntFlags;
use tokio::io::AsyncWriteExt;

use super::{MountRequest, Sys, SysError, Tool, ToolOutput};

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
        let mut child = cmd.spawn().map_err(spawn_err)?;
        if let (Some(input), Some(mut pipe)) = (&tool.stdin, child.stdin.take()) {
            // A program that exits without reading all input is not an error here;
            // its exit status says what happened.
            let _ = pipe.write_all(input).await;
        }
        let out = child.wait_with_output().await.map_err(spawn_err)?;
        let status = out
            .status
            .code()
            .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0));
        Ok(ToolOutput {
            status,
            stdout: out.stdout,
            stderr: out.stderr,
        })
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
