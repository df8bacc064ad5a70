//! The last steps of the container's first process before init, in LXC's
//! order: [`confine`] (limits, personality, time namespace, session keyring,
//! LSM label, no_new_privs, seccomp), then the `start` hook, then
//! [`drop_privileges`] (capabilities, ids, cwd, parent-death signal), then
//! [`exec_through`] the sealed exec program (never as the host's rlxc).

use std::os::fd::OwnedFd;

use super::spec::RunSpec;

/// `execvp(argv)`; returns only when it failed, with why.
pub fn execvp(argv: &[String]) -> String {
    let c: Result<Vec<std::ffi::CString>, _> = argv
        .iter()
        .map(|a| std::ffi::CString::new(a.as_bytes()))
        .collect();
    match c {
        Ok(c) if !c.is_empty() => nix::unistd::execvp(&c[0], &c)
            .unwrap_err()
            .desc()
            .to_string(),
        Ok(_) => "there is no command".to_string(),
        Err(_) => "it contains a NUL byte".to_string(),
    }
}

/// Our own init is the host's rlxc image inside the container: non-dumpable,
/// its `/proc/1/exe`, memory and fds are closed to container processes that
/// lack CAP_SYS_PTRACE in the host's user namespace.
pub fn not_dumpable() {
    // SAFETY: prctl with constant arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
}

pub(super) fn set_pdeath(sig: i32) {
    if sig > 0 {
        // SAFETY: prctl with a signal number.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, sig as libc::c_ulong) };
    }
}

/// The sealed programs the container's first process execs through, made
/// before anything of the container runs (and before a seccomp allowlist
/// could refuse `memfd_create`).
#[derive(Debug)]
pub struct Sealed {
    /// The exec program ([`super::trampoline::sealed`]).
    pub exec: OwnedFd,
    /// `execute`'s pid 1 supervisor.
    pub supervisor: Option<OwnedFd>,
}

impl Sealed {
    /// Both programs (the supervisor only for `execute`).
    pub fn make(execute: bool) -> Result<Sealed, String> {
        Ok(Sealed {
            exec: super::trampoline::sealed()?,
            supervisor: execute.then(super::trampoline::supervisor).transpose()?,
        })
    }
}

/// The restrictions that hold from here on, as LXC applies them before the
/// `start` hook: limits, personality, time namespace, session keyring, the
/// LSM label for the next exec (written through the host's `/proc`, opened
/// before the pivot), the bounding set, no_new_privs, the seccomp filter.
/// The other capability sets and the ids come after the hook
/// ([`drop_privileges`]).
pub(super) fn confine(
    spec: &RunSpec,
    host_proc: Option<&OwnedFd>,
) -> Result<Option<OwnedFd>, String> {
    // Limits first: raising a hard one needs CAP_SYS_RESOURCE.
    if let Some(m) = spec.prlimits.iter().find_map(|l| l.apply().err()) {
        return Err(m);
    }
    if let Some(m) = kernel_state(spec) {
        return Err(m);
    }
    // The label before no_new_privs, under which AppArmor refuses most
    // profile changes; opened by the process that writes it (the kernel
    // takes a label only from its own task).
    if let (Some(dir), Some((module, label))) = (host_proc, &spec.lsm.exec_label) {
        let fd = super::lsm::open_exec_attr_at(dir, *module)?;
        super::lsm::set_exec_label(&fd, *module, label)?;
    }
    // The bounding set before the start hook (LXC drops it in its setup):
    // the hook, a program of the container's, gets no dropped capability.
    spec.privs.drop_bounding()?;
    if spec.privs.no_new_privs {
        // SAFETY: prctl with constants.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(format!(
                "setting no_new_privs: {}",
                nix::Error::last().desc()
            ));
        }
    }
    // Before the capability drop: loading needs CAP_SYS_ADMIN unless
    // no_new_privs is set, and the drop may take it. The listener of a
    // filter with `notify` rules goes to the monitor.
    match &spec.seccomp {
        Some(s) => s.load(),
        None => Ok(None),
    }
}

/// Capabilities, ids, the working directory and the parent-death signal.
pub(super) fn drop_privileges(spec: &RunSpec) -> Result<(), String> {
    spec.privs.apply(true, spec.uid, spec.gid)?;
    nix::unistd::chdir(&spec.cwd).map_err(|e| {
        format!(
            "changing to {} (lxc.init.cwd): {}",
            spec.cwd.display(),
            e.desc()
        )
    })?;
    // After the id change: a credential change clears the parent-death signal.
    set_pdeath(spec.pdeath_signal);
    Ok(())
}

/// Execs `argv` through the sealed exec program, so the container's program
/// never gets the host's rlxc as `/proc/self/exe`; a failed exec there
/// reaches the monitor as a bare errno on `report`. Returns the reason only
/// when it failed here. Under an SELinux label the exec is direct: policies
/// refuse a memfd as a domain's entrypoint (runc met this with runc-dmz).
pub(super) fn exec_through(
    spec: &RunSpec,
    sealed: &OwnedFd,
    argv: &[String],
    what: &str,
    report: &OwnedFd,
) -> String {
    let Some(prog) = argv.first() else {
        return format!("no command to run ({what} is empty)");
    };
    let cannot = |why: &str| format!("cannot run `{prog}` ({what}) in the container: {why}");
    if matches!(spec.lsm.exec_label, Some((super::lsm::Module::SeLinux, _))) {
        return cannot(&execvp(argv));
    }
    let path = std::env::var("PATH").ok();
    let Some(resolved) = super::trampoline::resolve(prog, path.as_deref()) else {
        return cannot(nix::Error::ENOENT.desc());
    };
    let env: Vec<std::ffi::CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = k.into_encoded_bytes();
            kv.push(b'=');
            kv.extend(v.into_encoded_bytes());
            std::ffi::CString::new(kv).ok()
        })
        .collect();
    cannot(&super::trampoline::exec(
        sealed, report, &resolved, argv, &env,
    ))
}

/// `lxc.arch`'s personality and `lxc.keyring.session`'s new session keyring
/// (a kernel without keyrings, or one that refuses it, is no reason to fail,
/// as in LXC); the reason when one failed.
fn kernel_state(spec: &RunSpec) -> Option<String> {
    if let Some(p) = spec.kernel.personality {
        // SAFETY: personality(2) with a constant.
        if unsafe { libc::personality(p) } < 0 {
            return Some(format!(
                "setting the personality of lxc.arch: {}",
                nix::Error::last().desc()
            ));
        }
    }
    if let Some((mono, boot)) = spec.kernel.time_offsets {
        if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::from_bits_retain(
            libc::CLONE_NEWTIME,
        )) {
            return Some(format!(
                "a time namespace for lxc.time.offset.*: {}",
                e.desc()
            ));
        }
        let text = super::kernel_keys::timens_offsets(mono, boot);
        if let Err(e) = std::fs::write("/proc/self/timens_offsets", text) {
            return Some(format!(
                "setting lxc.time.offset.*: /proc/self/timens_offsets: {e}"
            ));
        }
    }
    if spec.kernel.sched_core {
        const PR_SCHED_CORE: libc::c_int = 62;
        const CREATE: libc::c_ulong = 1;
        const THREAD_GROUP: libc::c_ulong = 1;
        // SAFETY: prctl with constants; pid 0 is this process.
        if unsafe { libc::prctl(PR_SCHED_CORE, CREATE, 0, THREAD_GROUP, 0) } != 0 {
            let e = nix::Error::last();
            let why = if e == nix::Error::EINVAL {
                "this kernel has no core scheduling (CONFIG_SCHED_CORE)".to_string()
            } else {
                e.desc().to_string()
            };
            return Some(format!("lxc.sched.core = 1: {why}"));
        }
    }
    if spec.kernel.session_keyring {
        const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
        // SAFETY: keyctl with a NULL name: a new anonymous session keyring.
        let r = unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0usize) };
        let e = nix::Error::last();
        if r < 0 && ![nix::Error::ENOSYS, nix::Error::EACCES, nix::Error::EPERM].contains(&e) {
            return Some(format!(
                "a session keyring for init (lxc.keyring.session): {}",
                e.desc()
            ));
        }
    }
    None
}
