//! `stop`, `shutdown`, `kill`, `freeze`/`unfreeze` and `wait`: requests to a
//! running container's monitor.

use std::time::Duration;

use anyhow::Context;
use rlxc_core::config::value::signal;
use rlxc_core::container::state::{query, State};
use rlxc_core::container::{Container, ContainerError};
use rlxc_core::run::protocol::{events_dir, Event, StopKind};
use rlxc_core::run::ClientError;

use super::{Ctx, Failure};
use crate::args::control::{KillArgs, NameArgs, ShutdownArgs, StopArgs, WaitArgs};
use crate::args::Common;

/// Container `-n NAME` under `-P` (its config is not read); an error when
/// it is neither defined nor running.
pub fn existing(ctx: &Ctx, common: &Common, name: &str) -> anyhow::Result<Container> {
    let paths = ctx.paths(common.lxcpath.as_deref());
    let c = Container::named(&paths, name)?;
    if !c.exists() {
        anyhow::bail!(
            "container `{name}` does not exist in {}",
            paths.lxcpath.display()
        );
    }
    Ok(c)
}

/// A timeout in LXC's convention: negative means forever.
fn timeout(secs: i64) -> Option<Duration> {
    u64::try_from(secs).ok().map(Duration::from_secs)
}

/// `rlxc stop`: the halt signal, SIGKILL after `-t`; `-k` kills now; `-r` reboots.
pub fn stop(a: &StopArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let c = existing(ctx, &a.common, &a.name)?;
    let how = if a.reboot {
        StopKind::Reboot
    } else if a.kill || a.timeout == 0 {
        StopKind::Kill
    } else {
        StopKind::Halt
    };
    match c.stop(how, timeout(a.timeout), a.nokill) {
        Err(ContainerError::Client(ClientError::NotRunning { .. })) => Err(Failure {
            code: 2,
            message: Some(format!("container `{}` is not running", a.name)),
        }
        .into()),
        other => Ok(other?),
    }
}

/// `rlxc shutdown` (LXC 0.x): a clean stop, waiting `-t` seconds (or forever).
pub fn shutdown(a: &ShutdownArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let c = existing(ctx, &a.common, &a.name)?;
    let how = if a.reboot {
        StopKind::Reboot
    } else {
        StopKind::Halt
    };
    let t = a.timeout.and_then(timeout);
    Ok(c.stop(how, t, false)?)
}

/// `rlxc kill -n NAME [SIGNAL]`.
pub fn kill(a: &KillArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let sig = signal(&a.signal).map_err(anyhow::Error::msg)?;
    Ok(existing(ctx, &a.common, &a.name)?.kill(sig)?)
}

/// `rlxc freeze` / `rlxc unfreeze`.
pub fn freeze(a: &NameArgs, ctx: &Ctx, on: bool) -> anyhow::Result<()> {
    let c = existing(ctx, &a.common, &a.name)?;
    if on {
        c.freeze()?;
    } else {
        c.thaw()?;
    }
    Ok(())
}

/// `rlxc wait -n NAME -s STATES [-t T]`: fed by the event listeners of the
/// lxcpath, so it also sees a stopped container start.
pub fn wait(a: &WaitArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let want: Vec<State> = a
        .state
        .split('|')
        .map(|s| {
            State::parse(s.trim())
                .with_context(|| format!("`{s}` is not a state (STOPPED, RUNNING, FROZEN …)"))
        })
        .collect::<anyhow::Result<_>>()?;
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let listener = Listener::bind(&paths.run_root())?;
    if want.contains(&query(&paths.command_socket(&a.name)?).state) {
        return Ok(());
    }
    let deadline = timeout(a.timeout).map(|t| std::time::Instant::now() + t);
    loop {
        let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        if left == Some(Duration::ZERO) {
            return Err(Failure {
                code: 1,
                message: Some(format!(
                    "container `{}`: timed out waiting for {}",
                    a.name, a.state
                )),
            }
            .into());
        }
        if let Some(e) = listener.next(left)? {
            if e.name == a.name && want.contains(&e.state) {
                return Ok(());
            }
        }
    }
}

/// A datagram socket in `<rundir>/<lxcpath>/events/` that monitors send
/// state events to; removed on drop.
pub struct Listener {
    sock: std::os::unix::net::UnixDatagram,
    path: std::path::PathBuf,
}

impl Listener {
    /// Binds a new listener.
    pub fn bind(run_root: &std::path::Path) -> anyhow::Result<Listener> {
        let dir = events_dir(run_root);
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
        let path = dir.join(format!("{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let sock = std::os::unix::net::UnixDatagram::bind(&path)
            .with_context(|| format!("cannot listen on {}", path.display()))?;
        Ok(Listener { sock, path })
    }

    /// The next event, `None` when `timeout` passes.
    pub fn next(&self, timeout: Option<Duration>) -> anyhow::Result<Option<Event>> {
        self.sock
            .set_read_timeout(timeout.map(|t| t.max(Duration::from_millis(1))))?;
        let mut buf = [0u8; 4096];
        match self.sock.recv(&mut buf) {
            Ok(n) => Ok(serde_json::from_slice(&buf[..n]).ok()),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
