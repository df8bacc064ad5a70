//! `lxc-usernsexec`: a command run as root (or `-u`/`-g`) in a new user
//! namespace with the maps given, or by default the caller's own id mapped
//! to root and its subordinate range from 1 (`-s`: the range from 0 and the
//! caller's ids mapped to themselves).
//!
//! The child unshares its user namespace and waits on a pipe; the parent,
//! still outside, writes its maps (root directly, anyone else through
//! newuidmap/newgidmap, the ranges checked first), then lets it go on to
//! take the ids and exec. The exit status is the command's.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

use super::maps::{IdMap, Maps};
use super::subid;

/// What to run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsernsExec {
    /// `-m` maps; empty: the defaults.
    pub maps: Vec<IdMap>,
    /// `-s`: map the caller's own ids to themselves.
    pub map_self: bool,
    /// `-u`: the uid inside (default 0).
    pub uid: u32,
    /// `-g`: the gid inside (default 0).
    pub gid: u32,
    /// The command (default `/bin/sh`).
    pub cmd: Vec<String>,
}

/// Why it could not run.
#[derive(Debug, thiserror::Error)]
pub enum UsernsError {
    /// The maps are wrong or not granted.
    #[error("{0}")]
    Maps(String),
    /// A tool is missing.
    #[error("{tool} is missing: {hint}")]
    Missing {
        /// The tool.
        tool: String,
        /// How to get it.
        hint: String,
    },
    /// A system call or tool failed.
    #[error("{what}: {why}")]
    Sys {
        /// What was being done.
        what: String,
        /// Why it failed.
        why: String,
    },
}

fn maps_err(s: String) -> UsernsError {
    UsernsError::Maps(s)
}

/// The caller's login name, for the subordinate id files.
fn caller_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The default maps: the caller's first subordinate ranges, and its own
/// ids (to root, or with `map_self` to themselves).
pub fn default_maps(
    uid: u32,
    gid: u32,
    name: &str,
    subuid: &str,
    subgid: &str,
    map_self: bool,
) -> Result<Vec<IdMap>, String> {
    let first = |text: &str, file: &str, id: u32| {
        subid::grants(text, name, id).first().copied().ok_or_else(|| {
            format!("{file} grants {name} no ids to map; add a line such as `{name}:100000:65536` to {file}")
        })
    };
    let (su, sg) = (
        first(subuid, "/etc/subuid", uid)?,
        first(subgid, "/etc/subgid", uid)?,
    );
    let m = |kind, ns_start, host_start, count| IdMap {
        kind,
        ns_start,
        host_start,
        count,
    };
    Ok(if map_self {
        vec![
            m('u', 0, su.start, su.count.min(uid.max(1))),
            m('g', 0, sg.start, sg.count.min(gid.max(1))),
            m('u', uid, uid, 1),
            m('g', gid, gid, 1),
        ]
    } else {
        vec![
            m('u', 0, uid, 1),
            m('g', 0, gid, 1),
            m('u', 1, su.start, su.count),
            m('g', 1, sg.start, sg.count),
        ]
    })
}

/// The maps to write for `req`, checked: well formed, the ids to take
/// mapped, and (for a caller other than root) inside its grants.
pub fn plan(req: &UsernsExec, uid: u32, gid: u32) -> Result<Maps, UsernsError> {
    let name = caller_name(uid);
    let mut lines = if req.maps.is_empty() {
        default_maps(
            uid,
            gid,
            &name,
            &read("/etc/subuid"),
            &read("/etc/subgid"),
            req.map_self,
        )
        .map_err(maps_err)?
    } else {
        req.maps.clone()
    };
    if req.map_self && !req.maps.is_empty() {
        lines.push(IdMap {
            kind: 'u',
            ns_start: uid,
            host_start: uid,
            count: 1,
        });
        lines.push(IdMap {
            kind: 'g',
            ns_start: gid,
            host_start: gid,
            count: 1,
        });
    }
    let maps = Maps::from_idmaps(&lines).map_err(maps_err)?;
    for (what, ranges, id, flag) in [
        ("uid", &maps.uid, req.uid, "-u"),
        ("gid", &maps.gid, req.gid, "-g"),
    ] {
        if !ranges.iter().any(|r| r.has_ns(id)) {
            return Err(maps_err(format!(
                "{what} {id} ({flag}) is not mapped in the namespace: give a map for it (-m)"
            )));
        }
    }
    check_grants(&maps, uid, gid)?;
    Ok(maps)
}

/// Checks `maps` against what the caller (`uid`) is granted in
/// `/etc/subuid` and `/etc/subgid`; root may map anything.
pub fn check_grants(maps: &Maps, uid: u32, gid: u32) -> Result<(), UsernsError> {
    if uid == 0 {
        return Ok(());
    }
    let name = caller_name(uid);
    let granted = |file: &str| subid::grants(&read(file), &name, uid);
    subid::check(
        &maps.uid,
        uid,
        &granted("/etc/subuid"),
        "/etc/subuid",
        &name,
    )
    .map_err(maps_err)?;
    subid::check(
        &maps.gid,
        gid,
        &granted("/etc/subgid"),
        "/etc/subgid",
        &name,
    )
    .map_err(maps_err)
}

fn sys(what: &str, e: impl std::fmt::Display) -> UsernsError {
    UsernsError::Sys {
        what: what.into(),
        why: e.to_string(),
    }
}

/// Writes the child's maps: root directly, others through the setuid helpers.
pub fn write_maps(pid: i32, maps: &Maps, root: bool) -> Result<(), UsernsError> {
    if root {
        for (file, ranges) in [("uid_map", &maps.uid), ("gid_map", &maps.gid)] {
            let p = format!("/proc/{pid}/{file}");
            std::fs::write(&p, Maps::text(ranges)).map_err(|e| sys(&p, e))?;
        }
        return Ok(());
    }
    for (tool, ranges) in [("newuidmap", &maps.uid), ("newgidmap", &maps.gid)] {
        let out = std::process::Command::new(tool)
            .arg(pid.to_string())
            .args(Maps::args(ranges))
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => UsernsError::Missing {
                    tool: tool.into(),
                    hint: "install uidmap (`apt-get install uidmap`)".into(),
                },
                _ => sys(tool, e),
            })?;
        if !out.status.success() {
            return Err(sys(
                &format!("{tool} {pid} {}", Maps::args(ranges).join(" ")),
                String::from_utf8_lossy(&out.stderr).trim(),
            ));
        }
    }
    Ok(())
}

/// Runs the command; returns its exit status (128 + N for a signal).
pub fn usernsexec(req: &UsernsExec) -> Result<i32, UsernsError> {
    let (uid, gid) = (
        nix::unistd::getuid().as_raw(),
        nix::unistd::getgid().as_raw(),
    );
    let maps = plan(req, uid, gid)?;
    let cmd = if req.cmd.is_empty() {
        vec!["/bin/sh".to_string()]
    } else {
        req.cmd.clone()
    };
    let argv: Vec<CString> = cmd
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| maps_err("a command argument holds a NUL byte".into()))?;
    let (u, g) = (req.uid, req.gid);
    in_userns(&maps, uid == 0, move || {
        take_ids(u, g);
        let e = nix::unistd::execvp(&argv[0], &argv).unwrap_err();
        fail(&format!("exec {}", argv[0].to_string_lossy()), e)
    })
}

/// Runs `body` in a forked child inside a new user namespace with `maps`
/// (written by the parent: directly when `root`, else through
/// newuidmap/newgidmap); returns the child's exit status. `body` runs with
/// every capability in the namespace; it execs, or returns the status the
/// child exits with.
pub fn in_userns(maps: &Maps, root: bool, body: impl FnOnce() -> i32) -> Result<i32, UsernsError> {
    let (ready_r, ready_w) = nix::unistd::pipe().map_err(|e| sys("pipe", e))?;
    let (go_r, go_w) = nix::unistd::pipe().map_err(|e| sys("pipe", e))?;
    // SAFETY: the child only makes system calls, then execs or exits.
    match unsafe { nix::unistd::fork() }.map_err(|e| sys("fork", e))? {
        nix::unistd::ForkResult::Child => {
            drop((ready_r, go_w));
            child(&ready_w, &go_r);
            let code = body();
            // SAFETY: leaving the forked child without the parent's atexit work.
            unsafe { libc::_exit(code) }
        }
        nix::unistd::ForkResult::Parent { child } => {
            drop((ready_w, go_r));
            parent(child, &ready_r, &go_w, maps, root)
        }
    }
}

/// Leaves the forked child with a message on stderr.
fn fail(what: &str, e: nix::errno::Errno) -> ! {
    let msg = format!("rlxc: {what}: {e}\n");
    let _ = nix::unistd::write(std::io::stderr(), msg.as_bytes());
    // SAFETY: leaving the forked child without running the parent's atexit work.
    unsafe { libc::_exit(127) }
}

/// Takes `uid` and `gid` inside, or leaves the forked child saying why.
fn take_ids(uid: u32, gid: u32) {
    if let Err(m) = super::take_ids(uid, gid) {
        let _ = nix::unistd::write(std::io::stderr(), format!("rlxc: {m}\n").as_bytes());
        // SAFETY: leaving the forked child without running the parent's atexit work.
        unsafe { libc::_exit(127) }
    }
}

fn parent(
    child: nix::unistd::Pid,
    ready: &OwnedFd,
    go: &OwnedFd,
    maps: &Maps,
    root: bool,
) -> Result<i32, UsernsError> {
    let mut b = [0u8; 1];
    let unshared = nix::unistd::read(ready.as_raw_fd(), &mut b).unwrap_or(0) == 1;
    let written = if unshared {
        write_maps(child.as_raw(), maps, root)
    } else {
        Err(sys("the child", "could not make its user namespace"))
    };
    if let Err(e) = written {
        let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
        let _ = nix::sys::wait::waitpid(child, None);
        return Err(e);
    }
    let _ = nix::unistd::write(go, &[1]);
    loop {
        match nix::sys::wait::waitpid(child, None) {
            Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => return Ok(code),
            Ok(nix::sys::wait::WaitStatus::Signaled(_, s, _)) => return Ok(128 + s as i32),
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(sys("waitpid", e)),
        }
    }
}

/// The child's side: unshares, tells the parent, waits until its maps are written.
fn child(ready: &OwnedFd, go: &OwnedFd) {
    if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER) {
        fail("unshare(CLONE_NEWUSER)", e);
    }
    let _ = nix::unistd::write(ready, &[1]);
    let mut b = [0u8; 1];
    if nix::unistd::read(go.as_raw_fd(), &mut b).unwrap_or(0) != 1 {
        // SAFETY: as above; the parent gave up.
        unsafe { libc::_exit(127) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_maps() {
        let sub = "jo:165536:65536\n";
        let m = default_maps(1000, 1000, "jo", sub, sub, false).unwrap();
        let maps = Maps::from_idmaps(&m).unwrap();
        assert_eq!(Maps::text(&maps.uid), "0 1000 1\n1 165536 65536\n");
        let m = default_maps(1000, 1000, "jo", sub, sub, true).unwrap();
        let maps = Maps::from_idmaps(&m).unwrap();
        assert_eq!(Maps::text(&maps.uid), "0 165536 1000\n1000 1000 1\n");
        let e = default_maps(1000, 1000, "ann", sub, sub, false).unwrap_err();
        assert!(
            e.contains(
                "/etc/subuid grants ann no ids to map; add a line such as `ann:100000:65536`"
            ),
            "{e}"
        );
    }
}
