//! The monitor's event loop: the command socket, init's exit (through its
//! pidfd), the console pump and, in the foreground, signal forwarding.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::broadcast;

mod console;
mod fdio;

use console::{console, pump_console};
use fdio::{async_fd, set_nonblocking};

use super::init::exit_code;
use super::protocol::{broadcast as broadcast_event, Event, Reply, Request, StopKind};
use super::pty::Ptys;
use crate::cgroups::ContainerCgroups;
use crate::container::state::State;
use crate::sys::Sys;

/// What the loop serves.
pub struct Setup {
    /// Container.
    pub name: String,
    /// The lxcpath's runtime directory (for event listeners).
    pub run_root: PathBuf,
    /// Init's pid.
    pub pid: i32,
    /// Init's pidfd.
    pub pidfd: OwnedFd,
    /// The cgroups.
    pub cgroups: ContainerCgroups,
    /// The ptys.
    pub ptys: Ptys,
    /// The command socket.
    pub listener: std::os::unix::net::UnixListener,
    /// Console output file.
    pub console_log: Option<PathBuf>,
    /// Copy console output to stdout (`start -F` off a terminal).
    pub console_to_stdout: bool,
    /// Forward SIGTERM/SIGINT/SIGHUP to init.
    pub forward_signals: bool,
    /// Halt, reboot and stop signals.
    pub signals: [i32; 3],
    /// The boundary for freeze and thaw.
    pub sys: std::sync::Arc<dyn Sys>,
    /// The host sides of the NICs, for their counters.
    pub host_links: Vec<String>,
    /// Seccomp supervision, for attached processes' listeners.
    pub seccomp: crate::seccomp::notify::Supervisor,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("name", &self.name)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

struct Shared {
    name: String,
    run_root: PathBuf,
    pid: i32,
    pidfd: OwnedFd,
    cgroups: ContainerCgroups,
    sys: std::sync::Arc<dyn Sys>,
    host_links: Vec<String>,
    seccomp: crate::seccomp::notify::Supervisor,
    ttys: u32,
    signals: [i32; 3],
    state: Mutex<State>,
    events: broadcast::Sender<State>,
    console_out: broadcast::Sender<Vec<u8>>,
    console: Option<Arc<AsyncFd<OwnedFd>>>,
    tty_masters: Vec<Arc<AsyncFd<OwnedFd>>>,
    tty_busy: Mutex<Vec<bool>>,
}

impl Shared {
    fn state(&self) -> State {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_state(&self, s: State) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = s;
        let _ = self.events.send(s);
        broadcast_event(
            &self.run_root,
            &Event {
                name: self.name.clone(),
                state: s,
            },
        );
    }

    fn signal(&self, sig: i32) -> std::io::Result<()> {
        // SAFETY: pidfd_send_signal with our pidfd and no siginfo.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.as_raw_fd(),
                sig,
                0,
                0,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
}

/// How init ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    /// Its exit code (128+N for signal N).
    pub code: i32,
    /// It called reboot(2): the kernel ends a pid namespace's init with
    /// SIGHUP for a restart (SIGINT for halt/power-off).
    pub reboot: bool,
}

/// Serves until init exits; the container is then STOPPING.
pub async fn serve(setup: Setup) -> (Exit, Stopping) {
    let Setup {
        name,
        run_root,
        pid,
        pidfd,
        cgroups,
        ptys,
        listener,
        console_log,
        console_to_stdout,
        forward_signals,
        signals,
        sys,
        host_links,
        seccomp,
    } = setup;
    let master = |fd: &OwnedFd| -> Option<Arc<AsyncFd<OwnedFd>>> {
        let dup = fd.try_clone().ok()?;
        set_nonblocking(&dup);
        async_fd(dup).ok().map(Arc::new)
    };
    let shared = Arc::new(Shared {
        name: name.clone(),
        run_root,
        pid,
        cgroups,
        sys,
        host_links,
        seccomp,
        ttys: ptys.ttys.len() as u32,
        signals,
        state: Mutex::new(State::Running),
        events: broadcast::channel(64).0,
        console_out: broadcast::channel(256).0,
        console: ptys.console.as_ref().and_then(|p| master(&p.master)),
        tty_masters: ptys.ttys.iter().filter_map(|p| master(&p.master)).collect(),
        tty_busy: Mutex::new(vec![false; ptys.ttys.len()]),
        pidfd,
    });
    if let Some(c) = shared.console.clone() {
        tokio::spawn(pump_console(
            c,
            shared.clone(),
            console_log,
            console_to_stdout,
        ));
    }
    if forward_signals {
        if let Some(sfd) = forward_signal_fd() {
            tokio::spawn(forward(sfd, shared.clone()));
        }
    }
    let listener = match listener
        .set_nonblocking(true)
        .and_then(|()| UnixListener::from_std(listener))
    {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::error!("container `{name}`: command socket: {e}");
            None
        }
    };
    let exited = match shared.pidfd.try_clone().map(async_fd) {
        Ok(Ok(fd)) => fd,
        _ => {
            tracing::error!("container `{name}`: cannot watch init");
            let exit = Exit {
                code: 1,
                reboot: false,
            };
            return (exit, Stopping::new(shared, ptys, listener));
        }
    };
    loop {
        tokio::select! {
            conn = accept(listener.as_ref()) => {
                if let Some(c) = conn {
                    tokio::spawn(handle(c, shared.clone()));
                }
            }
            _ = exited.readable() => break,
        }
    }
    let status = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
    let code = status.ok().and_then(exit_code).unwrap_or(1);
    let reboot = shared.state() != State::Stopping
        && matches!(
            status,
            Ok(nix::sys::wait::WaitStatus::Signaled(
                _,
                nix::sys::signal::Signal::SIGHUP,
                _
            ))
        );
    tracing::info!(
        "container `{name}`: init exited ({code}){}",
        if reboot { ", rebooting" } else { "" }
    );
    if shared.state() != State::Stopping {
        shared.set_state(State::Stopping);
    }
    (Exit { code, reboot }, Stopping::new(shared, ptys, listener))
}

/// A container whose init exited: STOPPING until the monitor has undone the
/// start (outside the event loop, whose thread the undo's runtimes need),
/// then [`Stopping::stopped`]. The command socket stays open meanwhile, so
/// a client that connects during the undo waits for its end instead of
/// taking the container for stopped while its cgroups and mounts are still
/// there.
pub struct Stopping {
    shared: Arc<Shared>,
    ptys: Ptys,
    listener: Option<UnixListener>,
    queued: Vec<std::os::unix::net::UnixStream>,
}

impl std::fmt::Debug for Stopping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stopping").finish_non_exhaustive()
    }
}

impl Stopping {
    fn new(shared: Arc<Shared>, ptys: Ptys, listener: Option<UnixListener>) -> Stopping {
        Stopping {
            shared,
            ptys,
            listener,
            queued: Vec::new(),
        }
    }

    /// Closes the command socket once the undo has removed its file. The
    /// clients queued on it are taken first, for [`stopped`](Self::stopped)
    /// to answer: closing a listener under them would reset them.
    pub fn close_socket(&mut self) {
        let Some(Ok(listener)) = self.listener.take().map(UnixListener::into_std) else {
            return;
        };
        let _ = listener.set_nonblocking(true);
        while let Ok((conn, _)) = listener.accept() {
            self.queued.push(conn);
        }
    }

    /// Reports STOPPED, answers the queued clients as a stopped container's
    /// (see [`handle`]), and lets the watchers write it before their
    /// connections close.
    pub async fn stopped(self) {
        self.shared.set_state(State::Stopped);
        let answers: Vec<_> = self
            .queued
            .into_iter()
            .filter_map(|c| {
                c.set_nonblocking(true).ok()?;
                UnixStream::from_std(c).ok()
            })
            .map(|c| tokio::spawn(handle(c, self.shared.clone())))
            .collect();
        // A client that never sends its request is not waited for long.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            for a in answers {
                let _ = a.await;
            }
        })
        .await;
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        drop(self.ptys);
    }
}

async fn accept(l: Option<&UnixListener>) -> Option<UnixStream> {
    match l {
        Some(l) => l.accept().await.ok().map(|(s, _)| s),
        None => std::future::pending().await,
    }
}

fn forward_signal_fd() -> Option<AsyncFd<nix::sys::signalfd::SignalFd>> {
    use nix::sys::signal::{SigSet, SigmaskHow, Signal};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    let mut set = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(s);
    }
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None).ok()?;
    let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC).ok()?;
    async_fd(fd).ok()
}

async fn forward(mut sfd: AsyncFd<nix::sys::signalfd::SignalFd>, sh: Arc<Shared>) {
    loop {
        let Ok(mut g) = sfd.readable_mut().await else {
            return;
        };
        // read_signal reports "nothing now" as Ok(None); turn that into
        // WouldBlock so the readiness is cleared instead of spinning.
        let read = g.try_io(|f| match f.get_mut().read_signal() {
            Ok(Some(info)) => Ok(info),
            Ok(None) => Err(std::io::ErrorKind::WouldBlock.into()),
            Err(e) => Err(e.into()),
        });
        if let Ok(Ok(info)) = read {
            tracing::info!(
                "container `{}`: forwarding signal {} to init",
                sh.name,
                info.ssi_signo
            );
            let _ = sh.signal(info.ssi_signo as i32);
        }
    }
}

async fn handle(conn: UnixStream, sh: Arc<Shared>) {
    let allowed = conn
        .peer_cred()
        .is_ok_and(|c| c.uid() == 0 || c.uid() == nix::unistd::geteuid().as_raw());
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
        return;
    }
    if sh.state() == State::Stopped {
        // A client queued while the start was undone: to it, as to any later
        // one, the container is not running, which the end of the
        // connection says (its request is read, so the close is no reset).
        return;
    }
    let mut conn = reader.into_inner();
    let req: Request = match serde_json::from_str(&line) {
        Ok(r) if allowed => r,
        Ok(_) => return reply(
            &mut conn,
            Reply::error(
                "permission denied: only root or the container's owner may use its command socket",
            ),
        )
        .await,
        Err(e) => return reply(&mut conn, Reply::error(format!("bad request: {e}"))).await,
    };
    match req {
        Request::State => {
            reply(
                &mut conn,
                Reply {
                    state: Some(sh.state()),
                    pid: Some(sh.pid),
                    ..Reply::default()
                },
            )
            .await
        }
        Request::Info => {
            let r = Reply {
                state: Some(sh.state()),
                pid: Some(sh.pid),
                cgroups: Some(sh.cgroups.clone()),
                ttys: Some(sh.ttys),
                links: Some(super::netinfo::link_stats(
                    &std::fs::read_to_string("/proc/self/net/dev").unwrap_or_default(),
                    &sh.host_links,
                )),
                ..Reply::default()
            };
            reply(&mut conn, r).await
        }
        Request::Kill { signal } => reply(&mut conn, signal_reply(&sh, signal)).await,
        Request::Stop { how } => {
            let [halt, reboot, stop] = sh.signals;
            let sig = match how {
                StopKind::Halt => halt,
                StopKind::Reboot => reboot,
                StopKind::Kill => stop,
            };
            if how != StopKind::Reboot && sh.state() != State::Stopping {
                if sh.state() == State::Frozen {
                    // A frozen init cannot act on a signal: thaw it first.
                    let _ = sh.cgroups.set_frozen(&*sh.sys, false);
                }
                sh.set_state(State::Stopping);
            }
            reply(&mut conn, signal_reply(&sh, sig)).await
        }
        Request::Freeze => reply(&mut conn, freeze(&sh, true)).await,
        Request::Thaw => reply(&mut conn, freeze(&sh, false)).await,
        Request::Watch => watch(conn, &sh).await,
        Request::Console { tty } => console(conn, &sh, tty).await,
        Request::SeccompListener => seccomp_listener(conn, &sh).await,
    }
}

/// Takes an attached process's seccomp listener (see
/// [`Request::SeccompListener`]) and answers its notifications with init's.
async fn seccomp_listener(mut conn: UnixStream, sh: &Shared) {
    reply(&mut conn, Reply::default()).await;
    let received = loop {
        if let Err(e) = conn.readable().await {
            break Err(e);
        }
        let mut byte = [0u8; 1];
        match conn.try_io(tokio::io::Interest::READABLE, || {
            super::fd_passing::recv_fd(std::os::fd::AsFd::as_fd(&conn), &mut byte)
        }) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            other => break other,
        }
    };
    let r = match received {
        Ok((_, Some(listener))) => match sh.seccomp.supervise(listener, sh.pid) {
            Ok(()) => Reply::default(),
            Err(e) => Reply::error(e),
        },
        Ok((_, None)) => Reply::error("no seccomp listener came with the request"),
        Err(e) => Reply::error(format!("receiving the seccomp listener: {e}")),
    };
    reply(&mut conn, r).await;
}

async fn reply(conn: &mut UnixStream, r: Reply) {
    let _ = conn.write_all(r.line().as_bytes()).await;
}

fn signal_reply(sh: &Shared, sig: i32) -> Reply {
    match sh.signal(sig) {
        Ok(()) => Reply {
            state: Some(sh.state()),
            ..Reply::default()
        },
        Err(e) => Reply::error(format!(
            "sending signal {sig} to init (pid {}): {e}",
            sh.pid
        )),
    }
}

fn freeze(sh: &Shared, on: bool) -> Reply {
    let st = sh.state();
    if !matches!(st, State::Running | State::Frozen) {
        return Reply::error(format!(
            "cannot {} a container that is {}",
            if on { "freeze" } else { "thaw" },
            st.as_str()
        ));
    }
    if on {
        sh.set_state(State::Freezing);
    }
    match sh.cgroups.set_frozen(&*sh.sys, on) {
        Ok(()) if on => sh.set_state(State::Frozen),
        Ok(()) => {
            sh.set_state(State::Thawed);
            sh.set_state(State::Running);
        }
        Err(e) => {
            sh.set_state(st);
            return Reply::error(e.to_string());
        }
    }
    Reply {
        state: Some(sh.state()),
        ..Reply::default()
    }
}

async fn watch(mut conn: UnixStream, sh: &Shared) {
    let mut rx = sh.events.subscribe();
    let line = |s: State| {
        Reply {
            state: Some(s),
            ..Reply::default()
        }
        .line()
    };
    if conn.write_all(line(sh.state()).as_bytes()).await.is_err() {
        return;
    }
    loop {
        match rx.recv().await {
            Ok(s) => {
                if conn.write_all(line(s).as_bytes()).await.is_err() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
