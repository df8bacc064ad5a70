//! The container's first process, from `clone` to `exec`: it builds its
//! mounts and `/dev` and pivots (while the monitor joins it to its cgroups and
//! sets up each NIC's host half), waits for the monitor's typed go message,
//! sets up each NIC's container half inside its network namespace, enters its
//! cgroup namespace, sets the hostname, the console, the environment, applies
//! the privilege limits, drops ids, and execs init (or becomes rlxc's own init for
//! `execute`). Any failure is reported to the monitor as one typed message
//! and the process exits.

use std::io::BufReader;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::mount::MsFlags;

use super::cgroup_mount::CgroupMode;
use super::hooks::HookKind;
use super::init_exec::{confine, drop_privileges, exec_through, set_pdeath, Sealed};
pub use super::init_exec::{execvp, not_dumpable};
use super::spec::RunSpec;
use super::{dev, init, mounts};
use crate::network::{NetContext, NicState};
use crate::start::message::{receive, send, ToChild, ToMonitor};
use crate::start::runtime::{block_on_in_child, forget_inherited};
use crate::start::StartPlan;
use crate::sys::{RealSys, Sys};

/// Everything the child needs, prepared by the monitor before `clone`.
#[derive(Debug)]
pub struct ChildPlan<'a> {
    /// The start plan (spec, rootfs target, NICs, argv, options).
    pub plan: &'a StartPlan,
    /// The boundary the mounts, nodes and pivot go through (the monitor's).
    pub sys: &'a dyn Sys,
    /// The namespaces of `lxc.namespace.share.*`, with their flags.
    pub shared_ns: Vec<(i32, &'a OwnedFd)>,
    /// Console pty slave, bind-mounted on `/dev/console`.
    pub console: Option<&'a OwnedFd>,
    /// tty pty slaves, bind-mounted on `/dev/ttyN`.
    pub ttys: Vec<&'a OwnedFd>,
    /// Give init the console as stdin/stdout/stderr (start), or keep the
    /// caller's (execute).
    pub console_stdio: bool,
    /// Read end of the monitor's go pipe.
    pub go: OwnedFd,
    /// Write end of the report pipe (close-on-exec: exec closes it).
    pub err: OwnedFd,
    /// `lxc.idmap`: read end of the pipe the monitor writes to once this
    /// process's maps are written.
    pub mapped: Option<OwnedFd>,
    /// The idmapped trees of `idmap=container` binds, by mount entry.
    pub idmapped: &'a [Option<OwnedFd>],
}

/// The child's body. Never returns.
pub fn main(plan: ChildPlan<'_>) -> ! {
    forget_inherited();
    let err = match plan.err.try_clone() {
        Ok(e) => e,
        // SAFETY: nothing to report to; leave.
        Err(_) => unsafe { libc::_exit(1) },
    };
    let msg = match setup(plan, err.as_raw_fd()) {
        Ok(never) => match never {},
        Err(m) => m,
    };
    report(&err, &msg);
    // SAFETY: leave without running destructors of the monitor's copy.
    unsafe { libc::_exit(1) }
}

/// Tells the monitor why this process failed (the stage is in the text).
fn report(err: &OwnedFd, msg: &str) {
    tell(
        err,
        &ToMonitor::Failed {
            stage: "setup".into(),
            message: msg.to_string(),
        },
    );
}

fn tell(err: &OwnedFd, msg: &ToMonitor) {
    if let Ok(fd) = err.try_clone() {
        let _ = send(&mut std::fs::File::from(fd), msg);
    }
}

/// Waits for the monitor's go; the NIC states its host halves made. The
/// pipe closing without a message means the monitor gave up.
fn wait_for_go(go: &OwnedFd) -> Result<Vec<NicState>, String> {
    let f = std::fs::File::from(go.try_clone().map_err(|e| e.to_string())?);
    match receive::<ToChild>(&mut BufReader::new(f)) {
        Ok(Some(ToChild::Go { nics })) => Ok(nics),
        Ok(Some(other)) => Err(format!("waiting for the monitor: unexpected {other:?}")),
        // SAFETY: nothing to report to anyone; leave quietly.
        Ok(None) => unsafe { libc::_exit(1) },
        Err(e) => Err(format!("waiting for the monitor: {e}")),
    }
}

/// Gives the monitor the seccomp listener and waits until it holds a copy:
/// this process's own must be closed before init runs.
fn hand_over_listener(plan: &ChildPlan<'_>, listener: &OwnedFd) -> Result<(), String> {
    tell(
        &plan.err,
        &ToMonitor::SeccompListener {
            fd: listener.as_raw_fd(),
        },
    );
    let f = std::fs::File::from(plan.go.try_clone().map_err(|e| e.to_string())?);
    match receive::<ToChild>(&mut BufReader::new(f)) {
        Ok(Some(ToChild::ListenerTaken)) => Ok(()),
        other => Err(format!(
            "handing the seccomp listener to the monitor: {other:?}"
        )),
    }
}

/// Every NIC's container half, inside this process's network namespace.
fn setup_nics(plan: &StartPlan, states: &[NicState]) -> Result<(), String> {
    // Only the NICs whose type has work inside the container cost a runtime.
    if !plan.nics.iter().any(|n| n.backend.container_side()) {
        return Ok(());
    }
    let ctx = NetContext {
        sys: &RealSys,
        container: &plan.name,
        init_pid: std::process::id() as i32,
        netns: None,
    };
    block_on_in_child(async {
        for (np, st) in plan.nics.iter().zip(states) {
            if !np.backend.container_side() {
                continue;
            }
            np.backend
                .setup_container(ctx, &np.nic, st)
                .await
                .map_err(|e| {
                    crate::start::StartError::network(
                        &plan.name,
                        np,
                        "setting up the container side",
                        &e,
                    )
                    .to_string()
                })?;
        }
        Ok(())
    })
    .map_err(|e| format!("starting the I/O runtime: {e}"))?
}

/// In a user namespace (`lxc.idmap`): waits until the monitor wrote the maps.
fn wait_mapped(mapped: &OwnedFd) {
    let mut b = [0u8; 1];
    if nix::unistd::read(mapped.as_raw_fd(), &mut b).unwrap_or(0) != 1 {
        // SAFETY: the monitor gave up; nothing to report to.
        unsafe { libc::_exit(1) }
    }
}

/// The rootfs bound onto itself in this mount namespace: the monitor's
/// mount is locked in this user namespace's copy of the tree (and a user's
/// monitor makes none), and pivot_root refuses a locked mount.
fn bind_rootfs_here(sys: &dyn Sys, target: &Path) -> Result<(), String> {
    let t = target.display().to_string();
    mounts::do_mount(
        sys,
        Some(&t),
        &t,
        None,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None,
        "the rootfs in the user namespace",
    )
}

/// In a user namespace (`lxc.idmap`): once the maps are written, the
/// rootfs is readied with the caller's ids, which reach its directory, and
/// the namespace's root ids are taken. Returns the rootfs's descriptor for a
/// user's container.
fn enter_mapped(plan: &ChildPlan<'_>, mapped: &OwnedFd) -> Result<Option<OwnedFd>, String> {
    wait_mapped(mapped);
    let user = plan.plan.unprivileged;
    let Some(r) = &plan.plan.rootfs else {
        take_root()?;
        return Ok(None);
    };
    // A user's filesystem of its own (an overlay clone): its directories
    // opened as the user, mounted as root here.
    if let Some(desc) = user.then(|| r.storage.userns_mount(&r.spec)).flatten() {
        let opened = super::userns_mount::open(&desc, &r.target)?;
        take_root()?;
        let fd = opened
            .mount()
            .map_err(|e| format!("mounting the rootfs {}: {e}", r.spec))?;
        return Ok(Some(fd));
    }
    bind_rootfs_here(plan.sys, &r.target)?;
    let fd = if user {
        let f = std::fs::File::open(&r.target)
            .map_err(|e| format!("opening the rootfs at {}: {e}", r.target.display()))?;
        Some(f.into())
    } else {
        None
    };
    take_root()?;
    Ok(fd)
}

/// Takes the namespace's root ids, which the rest of the setup and init run
/// as (the host sees the mapped ones).
fn take_root() -> Result<(), String> {
    crate::userns::take_ids(0, 0)
        .map_err(|e| format!("lxc.idmap: taking root's ids in the user namespace: {e}"))
}

/// `report_fd` is the monitor's pipe this process reports a failure on.
fn setup(plan: ChildPlan<'_>, report_fd: i32) -> Result<std::convert::Infallible, String> {
    let spec = &plan.plan.spec;
    // The rootfs as this process reaches it: by its path, or in a user's
    // container through a descriptor opened before the ids change (the
    // namespace's root may not search the user's home on the way).
    let rootfs_fd = match &plan.mapped {
        Some(m) => enter_mapped(&plan, m)?,
        None => None,
    };
    // Until the exec, this is the host's rlxc inside the container's
    // namespaces: closed to container processes that lack CAP_SYS_PTRACE.
    not_dumpable();
    for (flag, fd) in &plan.shared_ns {
        plan.sys
            .setns(std::os::fd::AsFd::as_fd(*fd), *flag)
            .map_err(|e| format!("joining a namespace of lxc.namespace.share.*: {e}"))?;
    }
    // The mounts come first: they need no cgroup, and they run while the
    // monitor puts this process into its cgroups (whose first write waits
    // for an RCU grace period in the kernel).
    mounts::do_mount(
        plan.sys,
        None,
        "/",
        None,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None,
        "/ as a slave",
    )?;
    // The host's /proc, opened before the container's can stand in for it
    // (for the LSM label, written later by this same process).
    let host_proc: Option<OwnedFd> = match &spec.lsm.exec_label {
        Some(_) => Some(
            std::fs::File::open("/proc")
                .map_err(|e| format!("opening /proc: {e}"))?
                .into(),
        ),
        None => None,
    };
    let sealed = Sealed::make(plan.plan.options.execute)?;
    match (&plan.plan.rootfs, &spec.rootfs) {
        (Some(r), Some(location)) => {
            let target = rootfs_fd.as_ref().map_or_else(
                || r.target.clone(),
                |fd| std::path::PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd())),
            );
            setup_rootfs(&plan, location, &target)?;
        }
        _ => setup_host_tree(&plan)?,
    }
    drop(rootfs_fd);
    if spec.hooks.has(HookKind::StartHost) {
        tell(&plan.err, &ToMonitor::Prepared);
    }
    let nic_states = wait_for_go(&plan.go)?;
    if spec.ns.net {
        loopback_up()?;
    }
    setup_nics(plan.plan, &nic_states)?;
    if !plan.plan.nics.is_empty() {
        tell(&plan.err, &ToMonitor::NetworkReady);
    }
    // Only now: a runtime for the NICs needs the process-wide fds the
    // monitor's runtime made (tokio's signal pipe). Nothing of the monitor's
    // (its socket, the pty masters) may reach init.
    let mut keep = vec![report_fd, sealed.exec.as_raw_fd()];
    keep.extend(sealed.supervisor.as_ref().map(|f| f.as_raw_fd()));
    keep.extend(host_proc.as_ref().map(|f| f.as_raw_fd()));
    close_fds_but(&plan, &keep);
    // After joining the cgroups, so the namespace's root is the container's.
    if spec.ns.cgroup {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWCGROUP)
            .map_err(|e| format!("making the cgroup namespace: {}", e.desc()))?;
    }
    if spec.auto_mounts.cgroup != CgroupMode::Off && plan.plan.rootfs.is_some() {
        if !spec.ns.cgroup {
            return Err("lxc.mount.auto cgroup: rlxc mounts the container's cgroups from its own cgroup namespace, which lxc.namespace.keep/clone leave out".into());
        }
        super::cgroup_mount::mount_cgroups(spec.auto_mounts.cgroup, &plan.plan.layout)?;
    }
    if spec.ns.uts {
        nix::unistd::sethostname(&spec.hostname).map_err(|e| {
            format!(
                "setting the hostname `{}` (lxc.uts.name): {}",
                spec.hostname,
                e.desc()
            )
        })?;
    }
    if plan.console_stdio && plan.console.is_some() {
        console_as_stdio()?;
    }
    set_env(&plan);
    if let Some(listener) = confine(spec, host_proc.as_ref())? {
        hand_over_listener(&plan, &listener)?;
    }
    drop(host_proc);
    // The last step before init, in the container's tree and environment,
    // under its label, no_new_privs and seccomp (as LXC runs it).
    spec.hooks.run(plan.sys, HookKind::Start, &[], &[])?;
    drop_privileges(spec)?;
    if plan.plan.options.execute {
        // pid 1 holds every restriction above: the command it forks, and
        // the supervisor it becomes, inherit them.
        let argv = plan.plan.argv.clone();
        let err_for_cmd = plan.err.try_clone().map_err(|e| e.to_string())?;
        let to_monitor = plan.err.try_clone().map_err(|e| e.to_string())?;
        // Under an SELinux label the memfd supervisor would be the domain's
        // entrypoint, which policies refuse: pid 1 then supervises itself.
        let selinux = matches!(spec.lsm.exec_label, Some((super::lsm::Module::SeLinux, _)));
        let supervisor = sealed.supervisor.filter(|_| !selinux);
        let pdeath = spec.pdeath_signal;
        init::run(
            move || {
                // A fork clears the parent-death signal: the command's own.
                set_pdeath(pdeath);
                exec_through(spec, &sealed.exec, &argv, "the command", &to_monitor)
            },
            |m| report(&err_for_cmd, m),
            plan.err,
            supervisor,
        );
    }
    Err(exec_through(
        spec,
        &sealed.exec,
        &plan.plan.argv,
        "lxc.init.cmd",
        &plan.err,
    ))
}

/// The rootfs the monitor mounted at `target`; `location` is where the config
/// says it is (mount targets under it are taken relative to it).
fn setup_rootfs(plan: &ChildPlan<'_>, location: &Path, target: &Path) -> Result<(), String> {
    prepare_rootfs(
        plan.sys,
        &plan.plan.spec,
        location,
        target,
        plan.console,
        &plan.ttys,
        plan.idmapped,
    )
}

/// The rootfs's mounts and `/dev`, then the pivot into it; `idmapped` holds
/// the idmapped trees of `idmap=container` binds, by mount entry.
pub fn prepare_rootfs(
    sys: &dyn Sys,
    spec: &RunSpec,
    location: &Path,
    target: &Path,
    console: Option<&OwnedFd>,
    ttys: &[&OwnedFd],
    idmapped: &[Option<OwnedFd>],
) -> Result<(), String> {
    let root: OwnedFd = std::fs::File::open(target)
        .map_err(|e| format!("opening the rootfs at {}: {e}", target.display()))?
        .into();
    super::automount::mount_proc_sys(
        sys,
        &root,
        spec.auto_mounts.proc,
        spec.auto_mounts.sys,
        &spec.kernel.sysctls,
    )?;
    if spec.autodev {
        dev::mount_tmpfs(sys, &root, spec.autodev_size)?;
    }
    for (i, e) in spec.mounts.iter().enumerate() {
        let tree = idmapped.get(i).and_then(Option::as_ref);
        super::mount_entry::mount_entry(sys, &root, location, e, tree)?;
    }
    spec.hooks.run(sys, HookKind::Mount, &[], &[])?;
    if spec.autodev {
        spec.hooks.run(sys, HookKind::Autodev, &[], &[])?;
        dev::fill(
            sys,
            &root,
            spec.pty_max,
            console,
            ttys,
            spec.tty_dir.as_deref(),
        )?;
    }
    super::mount_entry::remount_rootfs(sys, &root, &spec.rootfs_options)?;
    mounts::pivot_into(sys, target)
}

/// An application container without a rootfs: the host's tree, with a /proc
/// of the new pid namespace and the mount entries on top.
fn setup_host_tree(plan: &ChildPlan<'_>) -> Result<(), String> {
    let spec = &plan.plan.spec;
    let root: OwnedFd = std::fs::File::open("/").map_err(|e| e.to_string())?.into();
    if spec.ns.pid {
        mounts::do_mount(
            plan.sys,
            Some("proc"),
            "/proc",
            Some("proc"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            None,
            "/proc of the new pid namespace",
        )?;
    }
    for e in &spec.mounts {
        super::mount_entry::mount_entry(plan.sys, &root, Path::new("/"), e, None)?;
    }
    spec.hooks.run(plan.sys, HookKind::Mount, &[], &[])?;
    nix::unistd::chdir("/").map_err(|e| e.to_string())?;
    Ok(())
}

/// Brings `lo` up in the new network namespace, as LXC does.
fn loopback_up() -> Result<(), String> {
    // SAFETY: a datagram socket and SIOCGIFFLAGS/SIOCSIFFLAGS on a zeroed,
    // NUL-terminated ifreq naming "lo".
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if s < 0 {
            return Err(format!(
                "socket for lo: {}",
                std::io::Error::last_os_error()
            ));
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo".iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        let mut rc = libc::ioctl(s, libc::SIOCGIFFLAGS, &mut req);
        if rc == 0 {
            req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            rc = libc::ioctl(s, libc::SIOCSIFFLAGS, &req);
        }
        let err = std::io::Error::last_os_error();
        libc::close(s);
        if rc != 0 {
            return Err(format!("bringing lo up: {err}"));
        }
    }
    Ok(())
}

fn console_as_stdio() -> Result<(), String> {
    let _ = nix::unistd::setsid();
    let fd = nix::fcntl::open(
        "/dev/console",
        nix::fcntl::OFlag::O_RDWR,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| format!("opening /dev/console: {}", e.desc()))?;
    // SAFETY: TIOCSCTTY on a terminal fd we just opened.
    unsafe { libc::ioctl(fd, libc::TIOCSCTTY, 0) };
    for target in 0..3 {
        nix::unistd::dup2(fd, target).map_err(|e| format!("console as stdio: {}", e.desc()))?;
    }
    if fd > 2 {
        let _ = nix::unistd::close(fd);
    }
    Ok(())
}

/// The PATH a container's processes start with.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Replaces this process's environment with `vars` (a later entry wins).
pub fn replace_env(vars: &[(String, String)]) {
    for (k, _) in std::env::vars_os().collect::<Vec<_>>() {
        std::env::remove_var(k);
    }
    for (k, v) in vars {
        std::env::set_var(k, v);
    }
}

fn set_env(plan: &ChildPlan<'_>) {
    let spec = &plan.plan.spec;
    let ttys: Vec<String> = (1..=spec.ttys).map(|n| format!("tty{n}")).collect();
    let mut vars = vec![
        ("PATH".to_string(), DEFAULT_PATH.to_string()),
        ("container".to_string(), "lxc".to_string()),
        ("container_ttys".to_string(), ttys.join(" ")),
    ];
    vars.extend(plan.plan.options.inherited.iter().cloned());
    vars.extend(
        spec.env
            .iter()
            .filter_map(|e| e.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    replace_env(&vars);
}

fn close_fds_but(plan: &ChildPlan<'_>, also: &[i32]) {
    let mut keep: Vec<i32> = vec![0, 1, 2, plan.go.as_raw_fd(), plan.err.as_raw_fd()];
    keep.extend_from_slice(also);
    keep.extend(plan.console.map(|f| f.as_raw_fd()));
    keep.extend(plan.ttys.iter().map(|f| f.as_raw_fd()));
    close_other_fds(&keep);
}

/// Closes every fd except `keep` (the container must not inherit the
/// monitor's socket or the pty masters).
fn close_other_fds(keep: &[i32]) {
    let mut keep = keep.to_vec();
    keep.sort_unstable();
    keep.dedup();
    // close_range(2) over the gaps between the fds to keep: no /proc walk.
    let mut from: u32 = 0;
    for &k in keep.iter().filter(|k| **k >= 0) {
        let k = k as u32;
        if k > from {
            close_range(from, k - 1, 0);
        }
        from = k + 1;
    }
    close_range(from, u32::MAX, 0);
}

/// Marks every fd from 3 up close-on-exec: an exec into the container takes
/// none of the caller's descriptors (the CVE-2024-21626 class: a host fd, or
/// one on a host directory, inside the container), while a failed exec can
/// still report through its pipe.
pub fn cloexec_above_stdio() {
    if close_range(3, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) {
        return;
    }
    // Kernels before 5.11: each open fd by name.
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    for fd in fds.into_iter().filter(|fd| *fd > 2) {
        // SAFETY: setting FD_CLOEXEC on a descriptor number; a stale one fails harmlessly.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
}

/// close_range(2); true when the kernel did it.
fn close_range(first: u32, last: u32, flags: libc::c_uint) -> bool {
    // SAFETY: close_range only closes descriptors (or marks them
    // close-on-exec); none that it closes is used afterwards.
    unsafe { libc::syscall(libc::SYS_close_range, first, last, flags) == 0 }
}

#[cfg(test)]
#[path = "rootfs_tests.rs"]
mod rootfs_tests;
