//! A downstream crate's own backends (`tests/downstream`: storage and network
//! type `journal`) driven through the whole start pipeline by its own build
//! of the command line: the calls come in the pipeline's order, and a
//! failure in a NIC's host half leaves nothing behind.

use std::path::{Path, PathBuf};

use rlxc_tests::{built_bin, run, stderr, stdout, Lab};

fn example() -> PathBuf {
    built_bin("rlxc-example", "rlxc-example-backends")
}

fn journal(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// `rlxc-example ARGS…` in the lab, writing its journal to `journal`.
fn cmd(lab: &Lab, journal: &Path, fail: bool, args: &[&str]) -> std::process::Output {
    let mut c = lab.cmd_of(&example(), args);
    c.env("RLXC_JOURNAL", journal);
    if fail {
        c.env("RLXC_JOURNAL_FAIL", "setup_host");
    }
    run(&mut c)
}

#[test]
fn downstream_backends_run_in_pipeline_order_and_a_failure_leaves_nothing() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("downstream");
    // The busybox rootfs, served by the downstream storage; NIC 1 is the
    // downstream network type.
    let rootfs = lab.rootfs(&c);
    let moved = lab.path().join("journal-rootfs");
    std::fs::rename(&rootfs, &moved).unwrap();
    std::fs::create_dir(&rootfs).unwrap();
    lab.configure(
        &c,
        &format!(
            "lxc.rootfs.path = journal:{}\nlxc.net.1.type = journal\n",
            moved.display()
        ),
    );
    let j = lab.path().join("journal");
    let o = cmd(
        &lab,
        &j,
        false,
        &["start", "-n", &c, "--", "/bin/sh", "-c", "sleep 1000"],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(lab.state(&c), "RUNNING");
    let o = cmd(&lab, &j, false, &["stop", "-n", &c, "-k"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        journal(&j),
        [
            "mount",
            "setup_host lxc.net.1",
            "setup_container lxc.net.1",
            "teardown lxc.net.1",
            "umount"
        ]
    );
    lab.assert_clean(&c);

    // A failure injected in the host half of lxc.net.1.
    std::fs::remove_file(&j).unwrap();
    for extra in [&[][..], &["-F"][..]] {
        let mut args = vec!["start", "-n", c.as_str()];
        args.extend_from_slice(extra);
        let o = cmd(&lab, &j, true, &args);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{extra:?}: {e}");
        assert!(
            e.contains("lxc.net.1 (type `journal`)") && e.contains("injected failure"),
            "{extra:?}: {e}"
        );
        assert_eq!(lab.state(&c), "STOPPED");
        // No cgroup (so no process in it), no run directory (so no socket),
        // no mount in the host's table.
        lab.assert_clean(&c);
    }
    assert_eq!(
        journal(&j),
        ["mount", "setup_host lxc.net.1", "umount"].repeat(2),
        "the rootfs is unmounted; the failed NIC has nothing to tear down"
    );
}
