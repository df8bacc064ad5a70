//! The monitor: prepares a start (cgroups, ptys, command socket), clones the
//! container's first process into its namespaces, releases it once it is in
//! its cgroups, learns from a close-on-exec pipe whether init was exec'd, then
//! serves the command socket until init exits and removes everything it made.
//!
//! All of the preparation runs in one thread, before any runtime exists: the
//! clone needs a single-threaded process. The event loop after it is a tokio
//! `current_thread` runtime.

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use super::cgroups::{CgroupError, ContainerCgroups};
use super::child::{self, ChildPlan};
use super::clone::{clone_into, thread_count, Cloned};
use super::protocol::{broadcast, Event};
use super::pty::Ptys;
use super::server;
use super::spec::RunSpec;
use super::warmup::Warmup;
use crate::container::lock::{ContainerLock, LockError};
use crate::container::state::State;
use crate::container::Paths;
use crate::host::cgroup::CgroupLayout;

/// What to start and how.
#[derive(Debug)]
pub struct StartRequest {
    /// The run spec.
    pub spec: RunSpec,
    /// The lxcpath's paths.
    pub paths: Paths,
    /// What to exec: init (start) or the command (execute).
    pub argv: Vec<String>,
    /// `execute`: rlxc's init is pid 1 and the caller's stdio is used.
    pub execute: bool,
    /// Stay in the foreground (`start -F`, `execute`), forwarding signals.
    pub foreground: bool,
    /// Where console output also goes (`-L`, `lxc.console.logfile`).
    pub console_log: Option<PathBuf>,
    /// Where to write init's pid (`-p`).
    pub pidfile: Option<PathBuf>,
    /// Variables from the caller's environment for the container.
    pub inherited: Vec<(String, String)>,
}

/// Why a start failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// It runs already.
    #[error("container `{name}` is already running")]
    AlreadyRunning {
        /// Container.
        name: String,
    },
    /// Locked by another command.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// A cgroup step failed.
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    /// A host-side step failed.
    #[error("container `{name}`: {what}: {source}")]
    Io {
        /// Container.
        name: String,
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The container's own setup or init failed.
    #[error("container `{name}` failed to start: {message}")]
    Child {
        /// Container.
        name: String,
        /// What the container's process reported.
        message: String,
    },
}

/// A container whose init runs, ready to be served.
#[derive(Debug)]
pub struct Launched {
    /// The request.
    pub req: StartRequest,
    /// The container lock, held while the monitor lives.
    pub lock: ContainerLock,
    /// Init's pid.
    pub pid: i32,
    /// A pidfd of init.
    pub pidfd: OwnedFd,
    /// The cgroups.
    pub cgroups: ContainerCgroups,
    /// Console and tty ptys (masters are served; slaves stay open so a
    /// master never sees a hang-up while init reopens its tty).
    pub ptys: Ptys,
    /// The command socket.
    pub listener: std::os::unix::net::UnixListener,
    /// Console output goes to the monitor's stdout (`start -F` without a tty).
    pub console_to_stdout: bool,
    /// Warnings for the user (cgroup keys translated for this host); a
    /// daemon hands them to the waiting `start`.
    pub warnings: Vec<String>,
    run_dir: PathBuf,
}

/// Removes what a monitor killed with SIGKILL left behind: its socket, its
/// recorded cgroups (refused while they still have processes) and its run
/// directory. A live monitor means the container is running: an error.
pub fn clean_stale(paths: &Paths, name: &str) -> Result<(), StartError> {
    let Ok(run_dir) = paths.run_dir(name) else {
        return Ok(());
    };
    let socket = run_dir.join("command");
    if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
        return Err(StartError::AlreadyRunning { name: name.into() });
    }
    let _ = std::fs::remove_file(&socket);
    let record = cgroup_record(&run_dir);
    if let Some(stale) = ContainerCgroups::recorded(&record) {
        stale.remove_unused()?;
        let _ = std::fs::remove_file(&record);
    }
    let _ = std::fs::remove_dir(&run_dir);
    Ok(())
}

/// Files a run leaves under the runtime directory.
fn cgroup_record(run_dir: &std::path::Path) -> PathBuf {
    run_dir.join("cgroups")
}

/// Prepares and clones. Must run in a single-threaded process.
pub fn launch(
    req: StartRequest,
    lock: ContainerLock,
    warm: Warmup,
) -> Result<Launched, StartError> {
    let name = req.spec.name.clone();
    let io = |what: &str| {
        let (name, what) = (name.clone(), what.to_string());
        move |source| StartError::Io { name, what, source }
    };
    let run_dir = req
        .paths
        .run_dir(&name)
        .map_err(|e| io("run directory")(std::io::Error::other(e)))?;
    clean_stale(&req.paths, &name)?;
    std::fs::create_dir_all(&run_dir).map_err(io("making the run directory"))?;
    let _ = std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o700));
    let socket = run_dir.join("command");
    let run_root = req.paths.run_root();
    broadcast(
        &run_root,
        &Event {
            name: name.clone(),
            state: State::Starting,
        },
    );
    let layout = CgroupLayout::host().map_err(io("reading /proc/self/mountinfo"))?;
    let mut cgroups = ContainerCgroups::plan(&layout, &name, &req.spec.cgroup_name());
    let undo = |e: StartError, cg: &ContainerCgroups| {
        for err in cg.remove() {
            tracing::warn!("{err}");
        }
        let _ = std::fs::remove_file(cgroup_record(&run_dir));
        let _ = std::fs::remove_file(run_dir.join("command"));
        let _ = std::fs::remove_dir(&run_dir);
        for state in [State::Aborting, State::Stopped] {
            broadcast(
                &run_root,
                &Event {
                    name: name.clone(),
                    state,
                },
            );
        }
        e
    };
    if let Err(e) = cgroups.create() {
        return Err(undo(e.into(), &cgroups));
    }
    if let Err(e) = cgroups.record(&cgroup_record(&run_dir)) {
        return Err(undo(io("recording the cgroups")(e), &cgroups));
    }
    let warnings: Vec<String> = match cgroups.apply(&req.spec.cgroup) {
        Ok(notes) => notes
            .iter()
            .map(|n| format!("container `{name}`: {n}"))
            .collect(),
        Err(e) => return Err(undo(e.into(), &cgroups)),
    };
    match clone_container(req, &socket, &cgroups, warm) {
        Ok((req, pid, pidfd, ptys, listener, console_to_stdout)) => Ok(Launched {
            req,
            lock,
            pid,
            pidfd,
            cgroups,
            ptys,
            listener,
            console_to_stdout,
            warnings,
            run_dir,
        }),
        Err(e) => Err(undo(e, &cgroups)),
    }
}

type Cloneout = (
    StartRequest,
    i32,
    OwnedFd,
    Ptys,
    std::os::unix::net::UnixListener,
    bool,
);

fn clone_container(
    req: StartRequest,
    socket: &std::path::Path,
    cgroups: &ContainerCgroups,
    warm: Warmup,
) -> Result<Cloneout, StartError> {
    let name = req.spec.name.clone();
    let io = |what: &str| {
        let (name, what) = (name.clone(), what.to_string());
        move |source| StartError::Io { name, what, source }
    };
    let stdin_tty = nix::unistd::isatty(0).unwrap_or(false);
    // The console: the caller's terminal when in the foreground on one, else a
    // pty served by the monitor (none for execute off a terminal).
    let terminal = (req.foreground && stdin_tty && req.spec.rootfs.is_some())
        .then(|| nix::unistd::dup(0).ok())
        .flatten()
        .map(|fd| unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) });
    // execute runs a command on the caller's terminal: no console, no ttys.
    let want_pty = req.spec.console && terminal.is_none() && !req.execute;
    let ttys = if req.execute { 0 } else { req.spec.ttys };
    let ptys = Ptys::open(want_pty, ttys).map_err(io("allocating ptys"))?;
    let listener =
        std::os::unix::net::UnixListener::bind(socket).map_err(io("binding the command socket"))?;
    let _ = std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600));
    let (go_r, go_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| io("pipe")(e.into()))?;
    let (err_r, err_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| io("pipe")(e.into()))?;
    warm.finish();
    let threads = thread_count();
    if threads != 1 {
        return Err(io("clone")(std::io::Error::other(format!(
            "the monitor has {threads} threads; namespaces need a single-threaded process"
        ))));
    }
    let console = terminal
        .as_ref()
        .or(ptys.console.as_ref().map(|p| &p.slave));
    let cloned = clone_into(req.spec.ns.clone_flags()).map_err(io("clone with new namespaces"))?;
    let (pid, pidfd) = match cloned {
        Cloned::Child => child::main(ChildPlan {
            spec: &req.spec,
            argv: req.argv.clone(),
            own_init: req.execute,
            console,
            ttys: ptys.ttys.iter().map(|p| &p.slave).collect(),
            console_stdio: terminal.is_none() && !req.execute,
            inherited: req.inherited.clone(),
            go: go_r,
            err: err_w,
        }),
        Cloned::Parent { pid, pidfd } => (pid, pidfd),
    };
    drop((go_r, err_w, terminal));
    let abort = |e: StartError| {
        // SAFETY: pidfd_send_signal on our own child's pidfd.
        unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                pidfd.as_raw_fd(),
                libc::SIGKILL,
                0,
                0,
            )
        };
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
        e
    };
    // The child builds its mounts meanwhile; it waits for go only before it
    // enters its cgroup namespace and execs.
    let attached = cgroups.attach(pid);
    let released = match &attached {
        Ok(()) => std::fs::File::from(go_w).write_all(b"g"),
        // Dropping go_w tells a waiting child to leave quietly.
        Err(_) => Ok(()),
    };
    let mut message = String::new();
    let _ = std::fs::File::from(err_r).read_to_string(&mut message);
    // The child's own report says most about what went wrong.
    if !message.is_empty() {
        return Err(abort(StartError::Child { name, message }));
    }
    if let Err(e) = attached {
        return Err(abort(e.into()));
    }
    if let Err(e) = released {
        return Err(abort(io("releasing the container")(e)));
    }
    if let Some(p) = &req.pidfile {
        if let Err(e) = std::fs::write(p, format!("{pid}\n")) {
            return Err(abort(io(&format!("writing the pid file {}", p.display()))(
                e,
            )));
        }
    }
    let console_to_stdout = req.foreground && ptys.console.is_some();
    Ok((req, pid, pidfd, ptys, listener, console_to_stdout))
}

/// Serves a launched container until its init exits, then removes
/// everything the start made; a container that rebooted is started again.
/// `ready` (the waiting `start -d`) is told "ok" first. Returns init's exit
/// code (128+N for a signal).
pub fn serve(l: Launched, ready: Option<std::fs::File>) -> i32 {
    match ready {
        // The waiting `start` prints the warnings: our stderr is /dev/null.
        Some(mut r) => {
            let _ = r.write_all(format!("ok\n{}", l.warnings.join("\n")).as_bytes());
        }
        None => l.warnings.iter().for_each(|w| tracing::warn!("{w}")),
    }
    let mut l = l;
    loop {
        let name = l.req.spec.name.clone();
        let (exit, req, lock) = serve_once(l);
        if !exit.reboot {
            return exit.code;
        }
        let Some(lock) = lock else { return exit.code };
        match launch(req, lock, Warmup::none()) {
            Ok(next) => l = next,
            Err(e) => {
                tracing::error!("container `{name}`: reboot failed: {e}");
                return 1;
            }
        }
    }
}

type Served = (server::Exit, StartRequest, Option<ContainerLock>);

fn serve_once(l: Launched) -> Served {
    let name = l.req.spec.name.clone();
    let run_root = l.req.paths.run_root();
    broadcast(
        &run_root,
        &Event {
            name: name.clone(),
            state: State::Running,
        },
    );
    let Launched {
        req,
        lock,
        pid,
        pidfd,
        cgroups,
        ptys,
        listener,
        console_to_stdout,
        run_dir,
        ..
    } = l;
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("container `{name}`: cannot build the event loop: {e}");
            return (
                server::Exit {
                    code: 1,
                    reboot: false,
                },
                req,
                None,
            );
        }
    };
    // The lock survives a reboot; otherwise it goes before the final STOPPED.
    let slot = std::rc::Rc::new(std::cell::RefCell::new(Some(lock)));
    let kept = slot.clone();
    let pidfile = req.pidfile.clone();
    let exit = rt.block_on(server::serve(server::Setup {
        name: name.clone(),
        run_root: run_root.clone(),
        pid,
        pidfd,
        cgroups: cgroups.clone(),
        ptys,
        listener,
        console_log: req.console_log.clone().or(req.spec.console_log.clone()),
        console_to_stdout,
        forward_signals: req.foreground,
        signals: [
            req.spec.halt_signal,
            req.spec.reboot_signal,
            req.spec.stop_signal,
        ],
        teardown: Box::new(move |reboot| {
            for e in cgroups.remove() {
                tracing::warn!("{e}");
            }
            let _ = std::fs::remove_file(cgroup_record(&run_dir));
            let _ = std::fs::remove_file(run_dir.join("command"));
            if let Some(p) = &pidfile {
                let _ = std::fs::remove_file(p);
            }
            let _ = std::fs::remove_dir(&run_dir);
            if !reboot {
                slot.borrow_mut().take();
            }
        }),
    }));
    drop(rt);
    let lock = kept.borrow_mut().take();
    (exit, req, lock)
}

/// `start -d`: forks the monitor into the background and returns once the
/// container runs (or with the reason it did not start).
pub fn start_daemon(
    req: StartRequest,
    lock: ContainerLock,
    warm: Warmup,
) -> Result<i32, StartError> {
    let name = req.spec.name.clone();
    let io = |what: &'static str| {
        let name = name.clone();
        move |source| StartError::Io {
            name,
            what: what.into(),
            source,
        }
    };
    let (r, w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| io("pipe")(e.into()))?;
    // SAFETY: the CLI is single-threaded here.
    match unsafe { nix::unistd::fork() }.map_err(|e| io("fork")(e.into()))? {
        nix::unistd::ForkResult::Child => {
            drop(r);
            let _ = nix::unistd::setsid();
            detach_stdio();
            let mut ready = std::fs::File::from(w);
            // The helper thread exists only in the parent; its head start
            // on the kernel's grace period helps the child all the same.
            warm.forget();
            let code = match launch(req, lock, Warmup::none()) {
                Ok(l) => serve(l, Some(ready)),
                Err(e) => {
                    let _ = ready.write_all(format!("error: {e}").as_bytes());
                    1
                }
            };
            // SAFETY: the monitor ends here.
            unsafe { libc::_exit(code) }
        }
        nix::unistd::ForkResult::Parent { .. } => {
            drop((w, lock));
            let mut answer = String::new();
            let _ = std::fs::File::from(r).read_to_string(&mut answer);
            warm.finish();
            match answer.as_str() {
                a if a.starts_with("ok\n") => {
                    a.lines()
                        .skip(1)
                        .filter(|w| !w.is_empty())
                        .for_each(|w| tracing::warn!("{w}"));
                    Ok(0)
                }
                a => Err(StartError::Child {
                    message: daemon_message(&name, a),
                    name,
                }),
            }
        }
    }
}

/// What the forked monitor reported, without the prefixes the parent's own
/// error adds again.
fn daemon_message(name: &str, answer: &str) -> String {
    let Some(m) = answer.strip_prefix("error: ") else {
        return "the monitor died before the container ran (see the container log)".into();
    };
    let m = m
        .strip_prefix(&format!("container `{name}` failed to start: "))
        .unwrap_or(m);
    m.strip_prefix(&format!("container `{name}`: "))
        .unwrap_or(m)
        .to_string()
}

/// A daemon's stdin/stdout go to /dev/null; stderr too unless it is a log file.
fn detach_stdio() {
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        for fd in [0, 1, 2] {
            let keep = fd == 2 && !nix::unistd::isatty(2).unwrap_or(false) && is_regular(2);
            if !keep {
                let _ = nix::unistd::dup2(null.as_raw_fd(), fd);
            }
        }
    }
}

fn is_regular(fd: i32) -> bool {
    nix::sys::stat::fstat(fd).is_ok_and(|s| s.st_mode & libc::S_IFMT == libc::S_IFREG)
}
