//! The cgroups a user was given (delegated): in each hierarchy, the cgroup
//! the user's process is in, when the user may write there, as systemd's
//! `Delegate=yes` or a PAM module such as `pam_cgfs` leave them. A user's
//! container gets its cgroups below those, and only in those hierarchies.

use std::path::{Path, PathBuf};

use super::layout::{CgroupLayout, V1Hierarchy};

/// One line of `/proc/self/cgroup`: its controllers (empty for cgroup2)
/// and the path.
fn parse_line(line: &str) -> Option<(Vec<&str>, &str)> {
    let mut f = line.splitn(3, ':');
    let (_id, ctrls, path) = (f.next()?, f.next()?, f.next()?);
    let ctrls = ctrls.split(',').filter(|c| !c.is_empty()).collect();
    Some((ctrls, path))
}

/// Where the process of `proc_cgroup` (its `/proc/PID/cgroup`) is in the
/// hierarchy of `controllers` (empty: cgroup2), below `mountpoint`.
fn own_dir(proc_cgroup: &str, controllers: &[String], mountpoint: &Path) -> Option<PathBuf> {
    proc_cgroup
        .lines()
        .filter_map(parse_line)
        .find_map(|(c, path)| {
            let same = if controllers.is_empty() {
                c.is_empty()
            } else {
                !c.is_empty() && controllers.iter().all(|x| c.contains(&x.as_str()))
            };
            same.then(|| mountpoint.join(path.trim_start_matches('/')))
        })
}

/// The part of `layout` delegated to the process whose `/proc/PID/cgroup`
/// is `proc_cgroup`: each hierarchy whose own cgroup `writable` says the
/// caller may make cgroups in and move processes into, with that cgroup as
/// its "mount point". cgroup2's controllers are the delegated cgroup's.
pub fn delegated(
    layout: &CgroupLayout,
    proc_cgroup: &str,
    writable: impl Fn(&Path) -> bool,
) -> CgroupLayout {
    let v1 = layout
        .v1
        .iter()
        .filter_map(|h| {
            let dir = own_dir(proc_cgroup, &h.controllers, &h.mountpoint)?;
            writable(&dir).then(|| V1Hierarchy {
                mountpoint: dir,
                controllers: h.controllers.clone(),
            })
        })
        .collect();
    let unified = layout
        .unified
        .as_ref()
        .and_then(|u| own_dir(proc_cgroup, &[], u))
        .filter(|d| writable(d));
    let unified_controllers = unified
        .as_ref()
        .and_then(|d| std::fs::read_to_string(d.join("cgroup.controllers")).ok())
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    CgroupLayout {
        v1,
        unified,
        unified_controllers,
    }
}

/// Whether the caller may make cgroups in `dir` and move its processes
/// into them: the directory and its `cgroup.procs` are writable.
pub fn writable_by_caller(dir: &Path) -> bool {
    let w = |p: &Path| nix::unistd::access(p, nix::unistd::AccessFlags::W_OK).is_ok();
    w(dir) && w(&dir.join("cgroup.procs"))
}

/// This process's delegated cgroups.
pub fn of_caller(layout: &CgroupLayout) -> CgroupLayout {
    let text = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    delegated(layout, &text, writable_by_caller)
}

/// Whether nothing was delegated.
pub fn is_empty(layout: &CgroupLayout) -> bool {
    layout.v1.is_empty() && layout.unified.is_none()
}

/// The command line `lxc-unpriv-start` / `lxc-unpriv-attach` run for
/// `rlxc COMMAND ARGS` (`exe` is rlxc): the command itself for root, or for
/// a user that has delegated cgroups already; else the command in a new
/// systemd user scope with `Delegate=yes`, as Debian's wrappers do
/// (`systemd-run` looked up in `path`, the caller's `PATH`).
pub fn unpriv_argv(
    delegated_already: bool,
    path: Option<&str>,
    exe: &Path,
    command: &str,
    args: &[String],
) -> Result<Vec<String>, String> {
    let own = std::iter::once(exe.display().to_string())
        .chain(std::iter::once(command.to_string()))
        .chain(args.iter().cloned());
    if delegated_already {
        return Ok(own.collect());
    }
    let systemd_run = path
        .unwrap_or_default()
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join("systemd-run"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "you have no delegated cgroup, and there is no systemd-run to get one (Debian's lxc-unpriv-start runs `systemd-run --user --scope -p Delegate=yes`): run it from a cgroup that is yours to write, or use `start`, which runs without cgroups of its own".to_string()
        })?;
    Ok([
        systemd_run.display().to_string(),
        "--scope".into(),
        "--quiet".into(),
        "--user".into(),
        "--property=Delegate=yes".into(),
    ]
    .into_iter()
    .chain(own)
    .collect())
}

/// [`unpriv_argv`] for this process: root, or a user with delegated
/// cgroups in this host's layout, runs the command itself.
pub fn unpriv_argv_here(command: &str, args: &[String]) -> Result<Vec<String>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
    let already = nix::unistd::geteuid().is_root()
        || CgroupLayout::host().is_ok_and(|l| !is_empty(&of_caller(&l)));
    let path = std::env::var("PATH").ok();
    unpriv_argv(already, path.as_deref(), &exe, command, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_users_own_writable_cgroups_become_the_hierarchies() {
        let layout = CgroupLayout {
            v1: vec![
                V1Hierarchy {
                    mountpoint: "/sys/fs/cgroup/memory".into(),
                    controllers: vec!["memory".into()],
                },
                V1Hierarchy {
                    mountpoint: "/sys/fs/cgroup/cpu,cpuacct".into(),
                    controllers: vec!["cpu".into(), "cpuacct".into()],
                },
                V1Hierarchy {
                    mountpoint: "/sys/fs/cgroup/pids".into(),
                    controllers: vec!["pids".into()],
                },
            ],
            unified: Some("/sys/fs/cgroup/unified".into()),
            unified_controllers: vec!["pids".into()],
        };
        let proc = "12:pids:/user/jo/0\n4:cpu,cpuacct:/user/jo/0\n3:memory:/user/jo/0\n1:name=systemd:/user/jo\n0::/user.slice/user-1000.slice/session-1.scope\n";
        // memory and cpu,cpuacct delegated; pids and cgroup2 not.
        let ok = |p: &Path| {
            p.starts_with("/sys/fs/cgroup/memory/user/jo")
                || p.starts_with("/sys/fs/cgroup/cpu,cpuacct/user/jo")
        };
        let d = delegated(&layout, proc, ok);
        assert_eq!(
            d.v1.iter()
                .map(|h| h.mountpoint.clone())
                .collect::<Vec<_>>(),
            vec![
                PathBuf::from("/sys/fs/cgroup/memory/user/jo/0"),
                PathBuf::from("/sys/fs/cgroup/cpu,cpuacct/user/jo/0"),
            ]
        );
        assert_eq!(d.unified, None);
        assert!(d.unified_controllers.is_empty());
        let all = delegated(&layout, proc, |_| true);
        assert_eq!(
            all.unified,
            Some(PathBuf::from(
                "/sys/fs/cgroup/unified/user.slice/user-1000.slice/session-1.scope"
            ))
        );
        assert!(is_empty(&delegated(&layout, proc, |_| false)));
    }

    #[test]
    fn unpriv_start_runs_in_a_delegated_scope_or_itself() {
        let exe = Path::new("/usr/bin/rlxc");
        let args = vec!["-n".to_string(), "c1".to_string()];
        assert_eq!(
            unpriv_argv(true, None, exe, "start", &args).unwrap(),
            ["/usr/bin/rlxc", "start", "-n", "c1"]
        );
        let d = tempfile::tempdir().unwrap();
        let sr = d.path().join("systemd-run");
        std::fs::write(&sr, "").unwrap();
        let path = format!("/nonexistent:{}", d.path().display());
        let argv = unpriv_argv(false, Some(&path), exe, "attach", &args).unwrap();
        assert_eq!(argv[0], sr.display().to_string());
        assert_eq!(
            &argv[1..],
            [
                "--scope",
                "--quiet",
                "--user",
                "--property=Delegate=yes",
                "/usr/bin/rlxc",
                "attach",
                "-n",
                "c1"
            ]
        );
        let e = unpriv_argv(false, Some("/nonexistent"), exe, "start", &args).unwrap_err();
        assert!(e.contains("no systemd-run"), "{e}");
    }
}
