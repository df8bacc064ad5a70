//! Ephemeral containers from the built binary: `copy -e` with a command
//! (its exit status passed back, the clone gone afterwards), in the
//! background (gone when stopped, and when its monitor is SIGKILLed), `-D`
//! keeping it, `-t` and `-m bind=…` mounts, and the guide's
//! `start-ephemeral -o`.

use std::path::Path;

use rlxc_tests::{run, within, Lab};

#[test]
fn an_ephemeral_clone_runs_its_command_and_goes() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("eph");
    let e = lab.name("eph1");
    let o = run(&mut lab.cmd(&[
        "copy",
        "-n",
        &c,
        "-e",
        "-N",
        &e,
        "--",
        "sh",
        "-c",
        "hostname; touch /root/mark; exit 7",
    ]));
    assert_eq!(o.status.code(), Some(7), "{}", rlxc_tests::stderr(&o));
    assert_eq!(rlxc_tests::stdout(&o), format!("{e}\n"));
    let lp = Path::new(&lab.lxcpath);
    assert!(!lp.join(&e).exists(), "destroyed when it stopped");
    assert!(
        !lp.join(&c).join("lxc_snapshots").exists(),
        "and out of the origin's books"
    );
    assert!(
        !lab.rootfs(&c).join("root/mark").exists(),
        "the origin is untouched"
    );
    // -m bind, read-only, and -t (the delta on a tmpfs).
    let shared = lab.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("f"), "host").unwrap();
    let out = lab.ok(&[
        "copy",
        "-n",
        &c,
        "-e",
        "-t",
        "-m",
        &format!("bind={}:mnt/shared:ro", shared.display()),
        "--",
        "sh",
        "-c",
        "cat /mnt/shared/f; touch /mnt/shared/g 2>/dev/null || echo read-only",
    ]);
    assert_eq!(out, "hostread-only\n");
    assert!(!shared.join("g").exists());
    let left: Vec<_> = std::fs::read_dir(lp)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        left.len(),
        2,
        "only the origin (and staging) remain: {left:?}"
    );
    lab.assert_clean(&e);
}

#[test]
fn a_background_ephemeral_goes_when_stopped_or_when_its_monitor_is_killed() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("ephbg");
    let lp = Path::new(&lab.lxcpath);
    let e = lab.name("ephbg1");
    let out = lab.ok(&["copy", "-n", &c, "-e", "-N", &e]);
    assert_eq!(out, format!("Created {e} as clone of {c}\n"));
    assert!(std::fs::read_to_string(lp.join(&e).join("config"))
        .unwrap()
        .contains("lxc.ephemeral = 1\n"));
    assert_eq!(lab.state(&e), "RUNNING");
    lab.ok(&["stop", "-n", &e, "-k"]);
    assert!(!lp.join(&e).exists(), "gone once stop returns");
    // Its monitor SIGKILLed: the reaper it left destroys it.
    let k = lab.name("ephkill");
    lab.ok(&["copy", "-n", &c, "-e", "-N", &k]);
    let monitor = rlxc_tests::parent_of(lab.pid(&k));
    rlxc_tests::kill(monitor, 9);
    assert!(
        within(15, || !lp.join(&k).exists()),
        "destroyed after its monitor was killed"
    );
    // The reaper's destroy takes the directory away first and then its
    // line in the origin's lxc_snapshots (a line left by a destroy cut
    // short names no live clone): wait for the whole of it.
    assert!(
        within(5, || !lp.join(&c).join("lxc_snapshots").exists()),
        "the origin's lxc_snapshots still names the reaped clone"
    );
    // -D keeps it.
    let kept = lab.name("ephkept");
    lab.ok(&["copy", "-n", &c, "-e", "-D", "-N", &kept]);
    lab.ok(&["stop", "-n", &kept, "-k"]);
    assert!(lp.join(&kept).join("config").is_file(), "kept with -D");
    lab.ok(&["destroy", "-n", &kept]);
    for n in [&e, &k, &kept] {
        lab.assert_clean(n);
    }
}

#[test]
fn start_ephemeral_passes_the_commands_status() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("ephguide");
    let o = run(&mut lab.cmd(&[
        "start-ephemeral",
        "-o",
        &c,
        "--",
        "sh",
        "-c",
        "cat /etc/hostname 2>/dev/null; exit 3",
    ]));
    assert_eq!(o.status.code(), Some(3), "{}", rlxc_tests::stderr(&o));
    // -b USER: the command runs as that user (its home bound in when it has one).
    let o = run(&mut lab.cmd(&[
        "start-ephemeral",
        "-o",
        &c,
        "-b",
        "nobody",
        "--",
        "id",
        "-u",
    ]));
    assert!(o.status.success(), "{}", rlxc_tests::stderr(&o));
    assert_eq!(rlxc_tests::stdout(&o), "65534\n");
    let left: Vec<_> = std::fs::read_dir(&lab.lxcpath)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".rlxc-staging")
        .collect();
    assert_eq!(left, vec![c.clone()]);
}
