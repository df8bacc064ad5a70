//! Bad input and faults at start and stop: each gets an error naming the
//! container and the cause, a correct state, and nothing left behind.

use std::path::Path;

use rlxc_tests::{stderr, Lab};

#[test]
fn bad_names_unknown_and_stopped_containers() {
    let Some(lab) = Lab::new() else { return };
    assert!(lab.fails(&["start", "-n", "../etc"], 1).contains("../etc"));
    let e = lab.fails(&["start", "-n", "nosuch"], 1);
    assert!(e.contains("`nosuch` does not exist"), "{e}");
    assert!(lab.fails(&["info", "-n", "nosuch"], 1).contains("nosuch"));
    let c = lab.busybox("stopped");
    let e = lab.fails(&["stop", "-n", &c], 2);
    assert!(e.contains("is not running"), "{e}");
    assert!(lab
        .fails(&["attach", "-n", &c, "--", "true"], 1)
        .contains("is not running"));
    assert!(lab
        .fails(&["freeze", "-n", &c], 1)
        .contains("is not running"));
}

#[test]
fn a_config_that_fails_at_start_leaves_nothing() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("badstart");
    let cases: &[(&[&str], &str)] = &[
        (
            &["-s", "lxc.init.cmd=/no/such/init"],
            "cannot run `/no/such/init` (lxc.init.cmd)",
        ),
        (
            &["-s", "lxc.mount.entry=/no/such/dir mnt none bind 0 0"],
            "source `/no/such/dir` does not exist",
        ),
        (
            &["-s", "lxc.mount.entry=tmpfs mnt/x nosuchfs defaults 0 0"],
            "lxc.mount.entry",
        ),
        (
            &["-s", "lxc.cgroup2.io.max=250:250 rbps=1"],
            "lxc.cgroup2.io.max",
        ),
        (&["-s", "lxc.cgroup.pids.max=-5"], "lxc.cgroup.pids.max"),
        (&["-s", "lxc.init.cwd=/no/such/dir"], "lxc.init.cwd"),
    ];
    for (extra, why) in cases {
        let mut args = vec!["start", "-n", c.as_str()];
        args.extend_from_slice(extra);
        let e = lab.fails(&args, 1);
        assert!(e.contains(&c) && e.contains(why), "{extra:?}: {e}");
        assert_eq!(lab.state(&c), "STOPPED");
        lab.assert_clean(&c);
    }
    // A missing /sbin/init, in the daemon and in the foreground.
    std::fs::remove_file(lab.rootfs(&c).join("sbin/init")).unwrap();
    let e = lab.fails(&["start", "-n", &c], 1);
    assert!(e.contains("cannot run `/sbin/init`"), "{e}");
    let e = lab.fails(&["start", "-n", &c, "-F"], 1);
    assert!(e.contains("cannot run `/sbin/init`"), "{e}");
    lab.assert_clean(&c);
    // And it starts once the config is right again.
    lab.ok(&["start", "-n", &c, "--", "/bin/sh", "-c", "sleep 1000"]);
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

fn alive(pid: i32) -> bool {
    // A zombie counts as dead (this machine's pid 1 may not reap orphans).
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next())
                != Some("Z")
        })
        .unwrap_or(false)
}

fn wait_until(what: &str, f: impl FnMut() -> bool) {
    assert!(rlxc_tests::within(5, f), "timed out waiting for {what}");
}

#[test]
fn a_killed_monitor_takes_the_container_along_and_the_next_start_cleans_up() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("killmon");
    lab.ok(&["start", "-n", &c]);
    let init = lab.pid(&c);
    let monitor = monitor_of(init);
    rlxc_tests::kill(monitor, 9);
    wait_until("init to die with its monitor", || !alive(init));
    assert_eq!(lab.state(&c), "STOPPED");
    // The dead monitor's cgroups are still there; the next start removes them.
    assert!(!Lab::cgroup_dirs(&c).is_empty());
    lab.ok(&["start", "-n", &c]);
    assert_eq!(lab.state(&c), "RUNNING");
    // Killed again, then destroyed: destroy removes the leftovers too.
    let init = lab.pid(&c);
    rlxc_tests::kill(monitor_of(init), 9);
    wait_until("init to die with its monitor", || !alive(init));
    lab.ok(&["destroy", "-n", &c]);
    lab.assert_clean(&c);
}

fn monitor_of(init: i32) -> i32 {
    rlxc_tests::parent_of(init)
}

#[test]
fn a_killed_init_stops_the_container_cleanly() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("killinit");
    lab.ok(&["start", "-n", &c]);
    let init = lab.pid(&c);
    let mut watch = lab
        .cmd(&["wait", "-n", &c, "-s", "STOPPED", "-t", "10"])
        .spawn()
        .unwrap();
    rlxc_tests::kill(init, 9);
    assert!(watch.wait().unwrap().success());
    assert_eq!(lab.state(&c), "STOPPED");
    lab.assert_clean(&c);
}

/// A client that asks while a stop is still being undone (here during a slow
/// post-stop hook) is answered at its end, when nothing is left: a `wait` or
/// an `info` that said STOPPED earlier would let a script start again into
/// the last run's cgroups.
#[test]
fn clients_during_the_undo_of_a_stop_are_answered_at_its_end() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("slowstop");
    let (began, ended) = (lab.path().join("began"), lab.path().join("ended"));
    let hook = lab.path().join("slow-post-stop.sh");
    let body = format!(
        "#!/bin/sh\ntouch {}\nsleep 1\ntouch {}\n",
        began.display(),
        ended.display()
    );
    std::fs::write(&hook, body).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    lab.configure(&c, &format!("lxc.hook.post-stop = {}\n", hook.display()));
    lab.ok(&["start", "-n", &c]);
    rlxc_tests::kill(lab.pid(&c), 9);
    wait_until("the post-stop hook to begin", || began.exists());
    let mut watch = lab
        .cmd(&["wait", "-n", &c, "-s", "STOPPED", "-t", "10"])
        .spawn()
        .unwrap();
    let state = lab.state(&c);
    assert!(ended.exists(), "info said {state} before post-stop ended");
    assert_eq!(state, "STOPPED");
    assert!(watch.wait().unwrap().success());
    lab.assert_clean(&c);
    // And the container starts again at once.
    lab.ok(&["start", "-n", &c]);
    lab.ok(&["stop", "-n", &c, "-k"]);
}

#[test]
fn stop_times_out_kills_and_nokill_refuses() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("stubborn");
    // An init that ignores the halt signal (SIGUSR1 for busybox containers).
    let init = [
        "--",
        "/bin/sh",
        "-c",
        "trap '' USR1; while :; do sleep 1; done",
    ];
    let mut args = vec!["start", "-n", c.as_str()];
    args.extend_from_slice(&init);
    lab.ok(&args);
    let e = lab.fails(&["stop", "-n", &c, "-t", "1", "--nokill"], 1);
    assert!(e.contains("timed out"), "{e}");
    assert_eq!(lab.state(&c), "STOPPING");
    let t = std::time::Instant::now();
    lab.ok(&["stop", "-n", &c, "-t", "1"]);
    assert!(t.elapsed() >= std::time::Duration::from_millis(900));
    assert_eq!(lab.state(&c), "STOPPED");
    lab.assert_clean(&c);
    // destroy -f stops a running container first.
    lab.ok(&args);
    lab.ok(&["destroy", "-n", &c, "-f"]);
    assert!(!Path::new(&lab.lxcpath).join(&c).exists());
    lab.assert_clean(&c);
}

#[test]
fn kill_sends_a_signal_to_init() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("kill");
    lab.ok(&[
        "start",
        "-n",
        &c,
        "--",
        "/bin/sh",
        "-c",
        "trap 'exit 0' HUP; while :; do sleep 1; done",
    ]);
    let o = lab.run(&["kill", "-n", &c, "SIGBOGUS"]);
    assert!(!o.status.success() && stderr(&o).contains("SIGBOGUS"));
    let mut watch = lab
        .cmd(&["wait", "-n", &c, "-s", "STOPPED", "-t", "10"])
        .spawn()
        .unwrap();
    lab.ok(&["kill", "-n", &c, "SIGHUP"]);
    assert!(watch.wait().unwrap().success());
    lab.assert_clean(&c);
}

#[test]
fn a_full_disk_fails_create_cleanly() {
    let Some(lab) = Lab::new() else { return };
    // A 200 KiB tmpfs as the lxcpath, mounted in a private mount namespace.
    let small = lab.path().join("small");
    std::fs::create_dir_all(&small).unwrap();
    let script = format!(
        "mount -t tmpfs -o size=200k tmpfs {d} && {bin} create -P {d} -n full -t busybox; echo \"rc=$?\"; ls -A {d}",
        d = small.display(),
        bin = rlxc_tests::rlxc_bin().display()
    );
    let o = rlxc_tests::run(
        std::process::Command::new("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
                &script,
            ])
            .env("RLXC_RUNDIR", &lab.rundir)
            .env("RLXC_SYSTEM_CONFIG", lab.path().join("lxc.conf")),
    );
    let out = rlxc_tests::stdout(&o);
    let err = stderr(&o);
    assert!(out.starts_with("rc=1\n"), "{out}{err}");
    assert!(
        err.contains("full") && err.contains("No space left"),
        "{err}"
    );
    // Nothing left but the (empty) staging area.
    let left: Vec<&str> = out
        .lines()
        .skip(1)
        .filter(|l| *l != ".rlxc-staging")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn reboot_restarts_init_and_shutdown_stops_cleanly() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("reboot");
    lab.ok(&["start", "-n", &c]);
    let first = lab.pid(&c);
    // busybox init reboots on SIGTERM (the template's lxc.signal.reboot):
    // reboot(2) in a pid namespace ends init with SIGHUP, and the monitor
    // starts the container again.
    lab.ok(&["stop", "-n", &c, "-r"]);
    wait_until("the container to come back with a new init", || {
        lab.run(&["info", "-n", &c, "-p"]).status.success() && {
            let out = rlxc_tests::stdout(&lab.run(&["info", "-n", &c, "-p"]));
            out.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<i32>().ok())
                .is_some_and(|p| p != first)
        }
    });
    assert_eq!(lab.state(&c), "RUNNING");
    lab.ok(&["shutdown", "-n", &c, "-t", "20"]);
    assert_eq!(lab.state(&c), "STOPPED");
    lab.assert_clean(&c);
}
