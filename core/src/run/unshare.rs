//! `lxc-unshare`: run a command as pid 1 of new namespaces. With `-M` it
//! mounts a /proc of the new pid namespace (LXC's leaves /proc empty and
//! exits 1).
//!
//! The caller must be single-threaded (no runtime built yet), which
//! `unshare(CLONE_NEWUSER)` requires.

use std::ffi::CString;

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{execvp, fork, setgid, setgroups, sethostname, setuid, ForkResult, Gid, Uid};

/// What to run and how (`lxc-unshare`'s options).
#[derive(Debug, Clone, Default)]
pub struct UnshareArgs {
    /// `-s 'MOUNT|PID|…'`.
    pub namespaces: String,
    /// `-u USER` (name or uid).
    pub user: Option<String>,
    /// `-H HOSTNAME`.
    pub hostname: Option<String>,
    /// `-M`: a /proc of the new pid namespace (and /sys of a new net namespace).
    pub remount: bool,
    /// The command.
    pub command: Vec<String>,
}

/// Why the command could not be run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UnshareError(String);

macro_rules! bail {
    ($($t:tt)*) => { return Err(UnshareError(format!($($t)*))) };
}

trait Context<T> {
    fn context(self, what: &str) -> Result<T, UnshareError>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: &str) -> Result<T, UnshareError> {
        self.map_err(|e| UnshareError(format!("{what}: {e}")))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: &str) -> Result<T, UnshareError> {
        self.ok_or_else(|| UnshareError(what.to_string()))
    }
}

/// Parses LXC's `-s` namespace list.
pub fn parse_namespaces(spec: &str) -> Result<CloneFlags, UnshareError> {
    let mut flags = CloneFlags::empty();
    for word in spec.split('|').map(str::trim).filter(|w| !w.is_empty()) {
        flags |= match word.to_ascii_uppercase().as_str() {
            "MOUNT" | "MNT" => CloneFlags::CLONE_NEWNS,
            "PID" => CloneFlags::CLONE_NEWPID,
            "UTSNAME" | "UTS" => CloneFlags::CLONE_NEWUTS,
            "IPC" => CloneFlags::CLONE_NEWIPC,
            "NETWORK" | "NET" => CloneFlags::CLONE_NEWNET,
            "USER" => CloneFlags::CLONE_NEWUSER,
            "CGROUP" => CloneFlags::CLONE_NEWCGROUP,
            other => bail!(
                "`{other}` is not a namespace (MOUNT, PID, UTSNAME, IPC, NETWORK, USER, CGROUP)"
            ),
        };
    }
    if flags.is_empty() {
        bail!("no namespace given to -s");
    }
    Ok(flags)
}

fn exit_code(status: WaitStatus) -> i32 {
    match status {
        WaitStatus::Exited(_, code) => code,
        WaitStatus::Signaled(_, sig, _) => 128 + sig as i32,
        _ => 1,
    }
}

fn wait_for(pid: nix::unistd::Pid) -> i32 {
    loop {
        match waitpid(pid, None) {
            Ok(s @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => return exit_code(s),
            Ok(_) | Err(nix::Error::EINTR) => continue,
            Err(_) => return 1,
        }
    }
}

/// Runs the command; returns its exit status.
pub fn run(args: &UnshareArgs) -> Result<i32, UnshareError> {
    let flags = parse_namespaces(&args.namespaces)?;
    if args.remount && !flags.contains(CloneFlags::CLONE_NEWNS) {
        bail!("-M needs the MOUNT namespace (-s 'MOUNT|PID')");
    }
    if args.hostname.is_some() && !flags.contains(CloneFlags::CLONE_NEWUTS) {
        bail!("-H needs the UTSNAME namespace");
    }
    let user = match &args.user {
        Some(u) => Some(lookup_user(u)?),
        None => None,
    };
    let argv: Vec<CString> = args
        .command
        .iter()
        .map(|a| CString::new(a.as_bytes()).context("an argument contains a NUL byte"))
        .collect::<Result<_, _>>()?;
    let (uid, gid) = (Uid::current(), Gid::current());
    unshare(flags).context("unshare")?;
    if flags.contains(CloneFlags::CLONE_NEWUSER) {
        map_self(uid, gid)?;
    }
    // SAFETY: single-threaded process; the child only makes syscalls and execs.
    let code = match unsafe { fork() }.context("fork")? {
        ForkResult::Parent { child } => wait_for(child),
        ForkResult::Child => {
            let err = child(args, flags, user.as_ref(), &argv);
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "rlxc unshare: {err}");
            std::process::exit(127);
        }
    };
    Ok(code)
}

/// A user of `/etc/passwd` by name or uid: its uid and gid. (Read directly:
/// the release binary is static, and glibc's NSS lookups from a static
/// binary crash.)
fn lookup_user(u: &str) -> Result<User, UnshareError> {
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            let (uid, gid) = (f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?);
            (f[0] == u || u.parse::<u32>() == Ok(uid)).then(|| User {
                uid: Uid::from_raw(uid),
                gid: Gid::from_raw(gid),
            })
        })
        .context(&format!("no such user `{u}`"))
}

/// The ids `-u` asks for.
#[derive(Debug, Clone, Copy)]
struct User {
    uid: Uid,
    gid: Gid,
}

fn map_self(uid: Uid, gid: Gid) -> Result<(), UnshareError> {
    std::fs::write("/proc/self/uid_map", format!("0 {uid} 1\n")).context("writing uid_map")?;
    std::fs::write("/proc/self/setgroups", "deny\n").context("writing setgroups")?;
    std::fs::write("/proc/self/gid_map", format!("0 {gid} 1\n")).context("writing gid_map")?;
    Ok(())
}

/// The child, pid 1 of a new pid namespace when one was asked for. Returns only on error.
fn child(
    args: &UnshareArgs,
    flags: CloneFlags,
    user: Option<&User>,
    argv: &[CString],
) -> UnshareError {
    let setup = || -> Result<(), UnshareError> {
        if flags.contains(CloneFlags::CLONE_NEWNS) {
            // Keep our mounts from propagating back to the host.
            mount(
                None::<&str>,
                "/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            )
            .context("making / private")?;
        }
        if args.remount {
            mount(
                Some("proc"),
                "/proc",
                Some("proc"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                None::<&str>,
            )
            .context("mounting /proc")?;
            if flags.contains(CloneFlags::CLONE_NEWNET) {
                // /sys shows the network namespace it was mounted in; best effort.
                let _ = mount(
                    Some("sysfs"),
                    "/sys",
                    Some("sysfs"),
                    MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                    None::<&str>,
                );
            }
        }
        if let Some(h) = &args.hostname {
            sethostname(h).context("setting the host name")?;
        }
        if let Some(u) = user {
            setgroups(&[u.gid]).context("setgroups")?;
            setgid(u.gid).context("setgid")?;
            setuid(u.uid).context("setuid")?;
        }
        Ok(())
    };
    if let Err(e) = setup() {
        return e;
    }
    match execvp(&argv[0], argv) {
        Err(e) => UnshareError(format!("cannot run `{}`: {e}", argv[0].to_string_lossy())),
        Ok(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_lists() {
        let f = parse_namespaces("MOUNT|PID|utsname").unwrap();
        assert!(f.contains(
            CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWUTS
        ));
        assert!(parse_namespaces("MOUNT|TIME_TRAVEL").is_err());
        assert!(parse_namespaces("").is_err());
    }
}
