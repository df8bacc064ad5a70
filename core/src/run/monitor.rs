//! The monitor: runs a [`Launch`] (the staged start), then serves the command
//! socket until init exits and runs the launch's teardown; a container whose
//! init rebooted is launched again from the same plan. `start -d` forks it
//! into the background first.
//!
//! All of the launch runs in one thread, before any runtime exists: the clone
//! needs a single-threaded process. The event loop after it is a tokio
//! `current_thread` runtime.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::sync::Arc;

use super::protocol::{broadcast, Event};
use super::server;
use super::warmup::Warmup;
use crate::cgroups::{CgroupLayout, ContainerCgroups};
use crate::container::lock::ContainerLock;
use crate::container::state::State;
use crate::container::Paths;
use crate::start::launch::cgroup_record;
use crate::start::runtime::{self, block_on};
use crate::start::{Launch, StartError, StartPlan};
use crate::sys::Sys;

/// Removes what a monitor killed with SIGKILL left behind: its socket, its
/// recorded cgroups (refused while they still have processes), its rootfs
/// mount point and its run directory. A live monitor means the container is
/// running: an error.
pub fn clean_stale(paths: &Paths, name: &str, sys: &dyn Sys) -> Result<(), StartError> {
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
        stale.remove_unused(sys)?;
        let _ = std::fs::remove_file(&record);
    }
    // The mount lived in the dead monitor's namespace; only the directory is
    // left. (The NIC record was read by the start that called this, if any.)
    let _ = std::fs::remove_dir(run_dir.join("rootfs"));
    let _ = std::fs::remove_file(crate::start::launch::nic_record(&run_dir));
    let _ = std::fs::remove_dir(&run_dir);
    Ok(())
}

fn event(paths: &Paths, name: &str, state: State) {
    broadcast(
        &paths.run_root(),
        &Event {
            name: name.to_string(),
            state,
        },
    );
}

/// Runs the staged start of `plan`. Must run in a single-threaded process
/// (but for `warm`'s helper thread, which the launch joins before the clone).
pub fn launch(plan: StartPlan, sys: Arc<dyn Sys>, warm: Warmup) -> Result<Launch, StartError> {
    let (paths, name) = (plan.paths.clone(), plan.name.clone());
    event(&paths, &name, State::Starting);
    let result = Launch::new(plan, sys, warm).run();
    if result.is_err() {
        event(&paths, &name, State::Aborting);
        event(&paths, &name, State::Stopped);
    }
    result
}

/// Serves a launched container until its init exits, then undoes every
/// stage; a container that rebooted is started again. `ready` (the waiting
/// `start -d`) is told "ok" first. Returns init's exit code (128+N for a signal).
pub fn serve(l: Launch, lock: ContainerLock, ready: Option<std::fs::File>) -> i32 {
    let warnings = &l.plan.warnings;
    match ready {
        // The waiting `start` prints the warnings: our stderr is /dev/null.
        Some(mut r) => {
            let _ = r.write_all(format!("ok\n{}", warnings.join("\n")).as_bytes());
        }
        None => warnings.iter().for_each(|w| tracing::warn!("{w}")),
    }
    if l.plan.spec.ephemeral {
        super::ephemeral::spawn_reaper(&l.plan);
    }
    let (mut l, mut lock) = (l, lock);
    loop {
        let (plan, sys) = (l.plan.clone(), l.sys());
        let (exit, kept) = serve_once(l, lock);
        let (true, Some(kept)) = (exit.reboot, kept) else {
            return exit.code;
        };
        match launch(plan, sys, Warmup::none()) {
            Ok(next) => (l, lock) = (next, kept),
            Err(e) => {
                tracing::error!("reboot failed: {e}");
                return 1;
            }
        }
    }
}

/// One run of the event loop; the lock comes back when init rebooted.
fn serve_once(mut l: Launch, lock: ContainerLock) -> (server::Exit, Option<ContainerLock>) {
    let name = l.plan.name.clone();
    event(&l.plan.paths, &name, State::Running);
    let failed = server::Exit {
        code: 1,
        reboot: false,
    };
    let (Some(child), Some(listener)) = (l.child.take(), l.listener.take()) else {
        tracing::error!("container `{name}`: launched without a child or a socket");
        return (failed, None);
    };
    let (spec, options) = (&l.plan.spec, &l.plan.options);
    let ptys = l.ptys.take().unwrap_or_default();
    let cgroups = l
        .cgroups
        .clone()
        .unwrap_or_else(|| ContainerCgroups::plan(&CgroupLayout::default(), &name, ""));
    let setup = server::Setup {
        name: name.clone(),
        run_root: l.plan.paths.run_root(),
        pid: child.pid,
        pidfd: child.pidfd,
        cgroups,
        console_to_stdout: options.foreground && ptys.console.is_some(),
        ptys,
        listener,
        console_log: options.console_log.clone().or(spec.console_log.clone()),
        forward_signals: options.foreground,
        signals: [spec.halt_signal, spec.reboot_signal, spec.stop_signal],
        sys: l.sys(),
        host_links: l
            .nic_states
            .iter()
            .filter_map(|s| s.host_ifname.clone())
            .collect(),
        seccomp: l.seccomp.clone(),
    };
    // The event loop runs on the runtime the stages used.
    let (exit, mut stopping) = match block_on(server::serve(setup)) {
        Ok(served) => served,
        Err(e) => {
            tracing::error!("container `{name}`: cannot build the event loop: {e}");
            l.teardown();
            return (failed, None);
        }
    };
    // Outside the event loop: the undos run backends on runtimes of their own.
    // The command socket goes last: until then a client waits for the end.
    let mut errors = l.teardown_but_socket();
    // An ephemeral container goes before STOPPED, under its lock.
    if !exit.reboot && l.plan.spec.ephemeral {
        super::ephemeral::destroy_now(&l.plan);
    }
    errors.extend(l.teardown());
    stopping.close_socket();
    for e in errors {
        tracing::warn!("{e}");
    }
    // The lock survives a reboot; otherwise it goes before the final STOPPED
    // (and after the socket, which a new start would bind again).
    let lock = exit.reboot.then_some(lock);
    let _ = block_on(stopping.stopped());
    // Its tasks (watchers, consoles) end with it: their clients see the end.
    runtime::reset();
    (exit, lock)
}

/// `start -d`: forks the monitor into the background and returns once the
/// container runs (or with the reason it did not start).
pub fn start_daemon(
    plan: StartPlan,
    sys: Arc<dyn Sys>,
    lock: ContainerLock,
    warm: Warmup,
) -> Result<i32, StartError> {
    let name = plan.name.clone();
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
            let code = match launch(plan, sys, Warmup::none()) {
                Ok(l) => serve(l, lock, Some(ready)),
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
