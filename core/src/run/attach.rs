//! `attach`: run a command inside a running container. The caller opens the
//! container's namespaces and `cgroup.procs` files, enters the namespaces
//! (one thread, so even a user namespace is allowed), forks; the child joins
//! the cgroups and the cgroup namespace, takes the container's environment,
//! capabilities and ids, and execs. The caller waits and passes the status.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;

use std::os::fd::AsFd;

use nix::sched::CloneFlags;

use crate::sys::Sys;

use super::child::{cloexec_above_stdio, execvp, not_dumpable, replace_env, DEFAULT_PATH};
use super::client::ListenerHandover;
use super::init::exit_code;
use super::privs::Privileges;
use super::trampoline;
use crate::cgroups::ContainerCgroups;

pub use super::namespaces::NAMESPACES;

/// What to run and how.
#[derive(Debug, Clone)]
pub struct AttachRequest {
    /// Container (for messages).
    pub name: String,
    /// The container's init.
    pub pid: i32,
    /// Its cgroups.
    pub cgroups: ContainerCgroups,
    /// Namespaces to enter, by attach's names (`MOUNT`, `PID` …); all by default.
    pub namespaces: Vec<String>,
    /// The command; empty runs the user's shell from the container's passwd.
    pub argv: Vec<String>,
    /// Keep the caller's environment (`--keep-env`).
    pub keep_env: bool,
    /// `-v VAR=VALUE` extras.
    pub extra_env: Vec<String>,
    /// `-e`: no cgroup, no capability drop.
    pub elevated: bool,
    /// User and group to run as.
    pub uid: u32,
    /// See `uid`.
    pub gid: u32,
    /// The config's capability limits and `no_new_privs`.
    pub privs: Privileges,
    /// The container's seccomp filter (not loaded with `-e`).
    pub seccomp: Option<crate::seccomp::Seccomp>,
    /// The container's AppArmor / SELinux label (not applied with `-e`).
    pub lsm_label: Option<(super::lsm::Module, String)>,
}

/// Why attach failed.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// A setup step failed.
    #[error("container `{name}`: attach: {what}")]
    Setup {
        /// Container.
        name: String,
        /// What failed, with why.
        what: String,
    },
}

/// Runs the command; returns its exit code (128+N when killed by signal N).
/// With `supervisor` (a connection to the monitor, made before the
/// namespaces are entered), the seccomp filter's `notify` calls are answered
/// by the monitor; without, they fail with ENOSYS.
pub fn attach(
    sys: &dyn Sys,
    req: &AttachRequest,
    supervisor: Option<ListenerHandover>,
) -> Result<i32, AttachError> {
    let fail = |what: String| AttachError::Setup {
        name: req.name.clone(),
        what,
    };
    // Made here, in the host's pid namespace, where a container cannot have
    // set vm.memfd_noexec against it.
    let program = trampoline::sealed().map_err(fail)?;
    let mut cgroup_ns = None;
    let mut enter = Vec::new();
    for (label, ns, flag) in NAMESPACES {
        if !req.namespaces.iter().any(|n| n.eq_ignore_ascii_case(label)) {
            continue;
        }
        let theirs = format!("/proc/{}/ns/{ns}", req.pid);
        let same = std::fs::metadata(&theirs)
            .and_then(|t| {
                std::fs::metadata(format!("/proc/self/ns/{ns}")).map(|m| m.ino() == t.ino())
            })
            .map_err(|e| fail(format!("{theirs}: {e}")))?;
        if same {
            continue;
        }
        let fd: OwnedFd = std::fs::File::open(&theirs)
            .map_err(|e| fail(format!("{theirs}: {e}")))?
            .into();
        if *flag == CloneFlags::CLONE_NEWCGROUP {
            cgroup_ns = Some(fd);
        } else {
            enter.push((fd, *flag, *ns));
        }
    }
    // The host's /proc, before its mount namespace is left behind.
    let host_proc: Option<OwnedFd> = match (&req.lsm_label, req.elevated) {
        (Some(_), false) => Some(
            std::fs::File::open("/proc")
                .map_err(|e| fail(format!("/proc: {e}")))?
                .into(),
        ),
        _ => None,
    };
    let mut procs = if req.elevated {
        Vec::new()
    } else {
        req.cgroups.open_procs().map_err(|e| fail(e.to_string()))?
    };
    // A user may move a process into its cgroups (v1) only while that
    // process has the user's own ids: this one joins them before it takes
    // the namespace's root ids, and its child is born there.
    if !nix::unistd::geteuid().is_root() {
        for mut f in procs.drain(..) {
            f.write_all(b"0")
                .map_err(|e| fail(format!("joining the container's cgroup: {e}")))?;
        }
    }
    for (fd, flag, ns) in &enter {
        sys.setns(fd.as_fd(), flag.bits())
            .map_err(|e| fail(format!("entering the {ns} namespace: {e}")))?;
    }
    // In the container's user namespace (lxc.idmap), host root is nobody:
    // the namespace's root ids are taken (the requested ones come later).
    if enter
        .iter()
        .any(|(_, f, _)| *f == CloneFlags::CLONE_NEWUSER)
    {
        crate::userns::take_ids(0, 0)
            .map_err(|e| fail(format!("taking root's ids in the user namespace: {e}")))?;
    }
    let argv = if req.argv.is_empty() {
        vec![login_shell(req.uid)]
    } else {
        req.argv.clone()
    };
    let env = environment(req);
    // The child's seccomp listener comes back on this pair.
    let listener_link = match &supervisor {
        Some(_) => Some(
            std::os::unix::net::UnixStream::pair().map_err(|e| fail(format!("socketpair: {e}")))?,
        ),
        None => None,
    };
    // The exec's errno, from the sealed exec program (see `trampoline`).
    let (report_r, report_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| fail(format!("pipe: {}", e.desc())))?;
    // SAFETY: the CLI is single-threaded; the child only execs.
    match unsafe { nix::unistd::fork() }.map_err(|e| fail(format!("fork: {}", e.desc())))? {
        nix::unistd::ForkResult::Child => {
            let child = Child {
                listener_link: listener_link.map(|(_, theirs)| theirs),
                procs: &procs,
                cgroup_ns: cgroup_ns.as_ref(),
                report: &report_w,
                host_proc: host_proc.as_ref(),
                program: &program,
            };
            let msg = run_child(sys, req, &child, &argv, &env);
            let _ = writeln!(
                std::io::stderr(),
                "rlxc: container `{}`: attach: {msg}",
                req.name
            );
            // SAFETY: leave the forked child.
            unsafe {
                libc::_exit(if msg.contains("No such file") {
                    127
                } else {
                    126
                })
            }
        }
        nix::unistd::ForkResult::Parent { child } => {
            drop(report_w);
            if let (Some((ours, theirs)), Some(handover)) = (listener_link, supervisor) {
                drop(theirs);
                hand_over_listener(&req.name, &ours, handover, child);
            }
            if let Some(errno) = exec_errno(&report_r) {
                let why = nix::Error::from_raw(errno).desc();
                let _ = writeln!(
                    std::io::stderr(),
                    "rlxc: container `{}`: attach: cannot run `{}`: {why}",
                    req.name,
                    argv[0]
                );
                let _ = wait_for(child);
                return Ok(if errno == libc::ENOENT { 127 } else { 126 });
            }
            for s in [
                nix::sys::signal::Signal::SIGINT,
                nix::sys::signal::Signal::SIGQUIT,
            ] {
                // SAFETY: ignoring a signal in the waiting parent only.
                unsafe {
                    let _ = nix::sys::signal::signal(s, nix::sys::signal::SigHandler::SigIgn);
                }
            }
            wait_for(child).map_err(|e| fail(format!("waiting for the command: {}", e.desc())))
        }
    }
}

/// Passes the child's seccomp listener (when it sends one) to the monitor.
/// A failure is only a warning: the listener then closes, and the
/// process's `notify` calls fail with ENOSYS.
fn hand_over_listener(
    name: &str,
    link: &std::os::unix::net::UnixStream,
    handover: ListenerHandover,
    child: nix::unistd::Pid,
) {
    // A policy that notifies the calls the child makes to send it (sendmsg,
    // close…) would stop it on its own listener for good: it is killed.
    let mut pfd = libc::pollfd {
        fd: std::os::fd::AsRawFd::as_raw_fd(link),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: poll on our socket for up to 10 s.
    if unsafe { libc::poll(&mut pfd, 1, 10_000) } == 0 {
        let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
        tracing::error!(
            "container `{name}`: the attached process did not hand over its seccomp listener in 10 s (does a notify rule catch sendmsg?); it was killed"
        );
        return;
    }
    let mut byte = [0u8; 1];
    match super::fd_passing::recv_fd(link.as_fd(), &mut byte) {
        Ok((_, Some(listener))) => {
            if let Err(e) = handover.give(&listener) {
                tracing::warn!(
                    "container `{name}`: seccomp notifications of the attached process get ENOSYS: {e}"
                );
            }
        }
        // No listener: the child failed before it loaded the filter.
        Ok((_, None)) => {}
        Err(e) => tracing::warn!("container `{name}`: receiving the seccomp listener: {e}"),
    }
}

/// What the forked child holds for its setup.
struct Child<'a> {
    /// Where the seccomp listener goes (when the monitor supervises it).
    listener_link: Option<std::os::unix::net::UnixStream>,
    /// The container's `cgroup.procs` files, open for writing.
    procs: &'a [std::fs::File],
    /// The container's cgroup namespace, entered last.
    cgroup_ns: Option<&'a OwnedFd>,
    /// The pipe the exec program reports a failed exec on.
    report: &'a OwnedFd,
    /// The host's /proc, for the security label (when there is one).
    host_proc: Option<&'a OwnedFd>,
    /// The sealed exec program.
    program: &'a OwnedFd,
}

/// The errno a failed exec reported, or `None` once the program runs.
fn exec_errno(report: &OwnedFd) -> Option<i32> {
    let mut buf = [0u8; 4];
    let mut f = std::fs::File::from(report.try_clone().ok()?);
    std::io::Read::read_exact(&mut f, &mut buf).ok()?;
    trampoline::decode_errno(buf)
}

fn run_child(
    sys: &dyn Sys,
    req: &AttachRequest,
    child: &Child<'_>,
    argv: &[String],
    env: &[(String, String)],
) -> String {
    // Until the exec, this is the host's rlxc inside the container.
    not_dumpable();
    for mut f in child.procs {
        if let Err(e) = f.write_all(b"0") {
            return format!("joining the container's cgroup: {e}");
        }
    }
    if let Some(fd) = child.cgroup_ns {
        if let Err(e) = sys.setns(fd.as_fd(), CloneFlags::CLONE_NEWCGROUP.bits()) {
            return format!("entering the cgroup namespace: {e}");
        }
    }
    let _ = nix::unistd::chdir("/");
    replace_env(env);
    if let (Some(proc_root), Some((module, label))) = (child.host_proc, &req.lsm_label) {
        let set = super::lsm::open_exec_attr_at(proc_root, *module)
            .and_then(|fd| super::lsm::set_exec_label(&fd, *module, label));
        if let Err(m) = set {
            return m;
        }
    }
    if let Some(s) = req.seccomp.as_ref().filter(|_| !req.elevated) {
        if let Err(m) = load_seccomp(s, child.listener_link.as_ref()) {
            return m;
        }
    }
    // `-e` keeps capabilities, never no_new_privs (as LXC's attach).
    if let Err(m) = req.privs.apply(!req.elevated, req.uid, req.gid) {
        return m;
    }
    let path = env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.as_str());
    let Some(resolved) = trampoline::resolve(&argv[0], path) else {
        return format!("cannot run `{}`: {}", argv[0], nix::Error::ENOENT.desc());
    };
    let env: Vec<std::ffi::CString> = env
        .iter()
        .filter_map(|(k, v)| std::ffi::CString::new(format!("{k}={v}")).ok())
        .collect();
    cloexec_above_stdio();
    // Under an SELinux label, a direct exec (policies refuse a memfd as a
    // domain's entrypoint; see init_exec::exec_through).
    if matches!(req.lsm_label, Some((super::lsm::Module::SeLinux, _))) && !req.elevated {
        return format!("cannot run `{}`: {}", argv[0], execvp(argv));
    }
    // Not execvp: the program exec'd must not see this binary as /proc/self/exe.
    let why = trampoline::exec(child.program, child.report, &resolved, argv, &env);
    format!("cannot run `{}`: {why}", argv[0])
}

/// Loads the filter; with a link to the parent, a listener for its `notify`
/// rules goes there (and on to the monitor), and this copy closes.
fn load_seccomp(
    s: &crate::seccomp::Seccomp,
    link: Option<&std::os::unix::net::UnixStream>,
) -> Result<(), String> {
    let Some(link) = link else {
        return s.load_unsupervised();
    };
    if let Some(listener) = s.load()? {
        super::fd_passing::send_fds(link.as_fd(), b"L", &[listener.as_fd()])
            .map_err(|e| format!("handing the seccomp listener to rlxc: {e}"))?;
    }
    Ok(())
}

/// The environment: clean by default (`container=lxc`, a standard PATH,
/// TERM and HOME), the caller's with `--keep-env`, plus `-v` extras.
fn environment(req: &AttachRequest) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = if req.keep_env {
        std::env::vars().collect()
    } else {
        let mut e = vec![("PATH".to_string(), DEFAULT_PATH.to_string())];
        if let Ok(t) = std::env::var("TERM") {
            e.push(("TERM".into(), t));
        }
        e.push((
            "HOME".into(),
            if req.uid == 0 {
                "/root".into()
            } else {
                "/".into()
            },
        ));
        e
    };
    env.push(("container".into(), "lxc".into()));
    for v in &req.extra_env {
        match v.split_once('=') {
            Some((k, val)) => env.push((k.to_string(), val.to_string())),
            None => {
                if let Ok(val) = std::env::var(v) {
                    env.push((v.clone(), val));
                }
            }
        }
    }
    env
}

/// The user's shell from the (already entered) container's `/etc/passwd`.
fn login_shell(uid: u32) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() >= 7 && f[2].parse::<u32>() == Ok(uid) && !f[6].is_empty())
                    .then(|| f[6].to_string())
            })
        })
        .unwrap_or_else(|| "/bin/sh".into())
}

/// Runs the first of `programs` that exists, with `args`, in the network
/// namespace `netns` (a forked child enters it; the caller stays); returns
/// its exit status.
pub fn in_netns(
    sys: &dyn Sys,
    netns: &OwnedFd,
    programs: &[&str],
    args: &[String],
) -> Result<i32, String> {
    // SAFETY: the CLI is single-threaded; the child only enters and execs.
    match unsafe { nix::unistd::fork() }.map_err(|e| format!("fork: {}", e.desc()))? {
        nix::unistd::ForkResult::Child => {
            let why = match sys.setns(netns.as_fd(), CloneFlags::CLONE_NEWNET.bits()) {
                Err(e) => format!("entering the network namespace: {e}"),
                Ok(()) => {
                    let mut last = String::new();
                    for p in programs {
                        let mut argv = vec![p.to_string()];
                        argv.extend(args.iter().cloned());
                        last = format!("cannot run `{p}`: {}", execvp(&argv));
                    }
                    last
                }
            };
            let _ = writeln!(std::io::stderr(), "rlxc: {why}");
            // SAFETY: leave the forked child.
            unsafe { libc::_exit(127) }
        }
        nix::unistd::ForkResult::Parent { child } => {
            wait_for(child).map_err(|e| format!("waiting for {}: {}", programs[0], e.desc()))
        }
    }
}

/// Waits for `child` to end; its exit code (128+N for signal N).
fn wait_for(child: nix::unistd::Pid) -> Result<i32, nix::Error> {
    loop {
        match nix::sys::wait::waitpid(child, None) {
            Ok(st) => {
                if let Some(code) = exit_code(st) {
                    return Ok(code);
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
}
