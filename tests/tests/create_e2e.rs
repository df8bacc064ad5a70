//! `create` and `destroy` from the built binary: the busybox template on dir
//! storage, and failures that must leave nothing behind.

use std::path::Path;

use rlxc_tests::{require, rlxc, stderr, stdout};

fn busybox_present() -> bool {
    Path::new("/bin/busybox").exists() || Path::new("/usr/bin/busybox").exists()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn busybox_container_is_created_and_destroyed() {
    if !require(
        busybox_present(),
        "busybox (apt-get install busybox-static)",
    ) {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let lxcpath = d.path().to_str().unwrap();
    let sys = d.path().join("lxc.conf");
    let default = d.path().join("default.conf");
    std::fs::write(
        &default,
        "# site default\nlxc.net.0.type = empty\nlxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n",
    )
    .unwrap();
    std::fs::write(
        &sys,
        format!("lxc.default_config = {}\n", default.display()),
    )
    .unwrap();
    let run = |args: &[&str]| {
        rlxc_tests::run(
            std::process::Command::new(rlxc_tests::rlxc_bin())
                .args(args)
                .env("RLXC_SYSTEM_CONFIG", &sys),
        )
    };
    let out = run(&["create", "-n", "bb", "-t", "busybox", "-P", lxcpath]);
    assert!(out.status.success(), "{}", stderr(&out));
    let root = d.path().join("bb/rootfs");
    assert_eq!(
        std::fs::read_link(root.join("bin/sh")).unwrap(),
        Path::new("/bin/busybox")
    );
    assert!(root.join("sbin/init").is_file());
    assert!(root.join("etc/inittab").is_file());
    let config = std::fs::read_to_string(d.path().join("bb/config")).unwrap();
    assert!(config.contains("# site default\n"), "{config}");
    assert!(
        config.contains(&format!("lxc.rootfs.path = dir:{}", root.display())),
        "{config}"
    );
    assert!(config.contains("lxc.uts.name = bb\n"));
    let mac = config.lines().find(|l| l.contains("hwaddr")).unwrap();
    assert!(
        !mac.rsplit(' ').next().unwrap().contains('x'),
        "hwaddr not randomised: {mac}"
    );
    let check = run(&["config", "check", "-P", lxcpath, "-n", "bb"]);
    assert!(check.status.success(), "{}", stderr(&check));
    let ls = run(&["ls", "-1", "-P", lxcpath]);
    assert_eq!(stdout(&ls), "bb\n");

    let again = run(&["create", "-n", "bb", "-t", "busybox", "-P", lxcpath]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("container `bb` already exists"),
        "{}",
        stderr(&again)
    );

    let gone = run(&["destroy", "-n", "bb", "-P", lxcpath]);
    assert!(gone.status.success(), "{}", stderr(&gone));
    assert_eq!(
        entries(d.path()),
        vec![".rlxc-staging", "default.conf", "lxc.conf"]
    );
    assert!(entries(&d.path().join(".rlxc-staging")).is_empty());
    let twice = run(&["destroy", "-n", "bb", "-P", lxcpath]);
    assert_eq!(twice.status.code(), Some(1));
    assert!(stderr(&twice).contains("container `bb` does not exist"));
}

#[test]
fn failed_creates_leave_nothing() {
    let d = tempfile::tempdir().unwrap();
    let lxcpath = d.path().to_str().unwrap();
    let bad_conf = d.path().join("bad.conf");
    std::fs::write(&bad_conf, "lxc.tty.max = lots\n").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "create",
                "-n",
                "c1",
                "-t",
                "busybox",
                "-P",
                lxcpath,
                "--",
                "--busybox-path",
                "/nonexistent/busybox",
            ],
            "/nonexistent/busybox",
        ),
        (
            vec![
                "create", "-n", "c2", "-t", "busybox", "-P", lxcpath, "--", "--bogus",
            ],
            "unknown argument `--bogus`",
        ),
        (
            vec!["create", "-n", "c3", "-t", "nosuch", "-P", lxcpath],
            "unknown template `nosuch`",
        ),
        (
            vec![
                "create",
                "-n",
                "c4",
                "-f",
                bad_conf.to_str().unwrap(),
                "-P",
                lxcpath,
            ],
            "key `lxc.tty.max`",
        ),
        (
            vec!["create", "-n", "../c5", "-P", lxcpath],
            "invalid container name",
        ),
        (
            vec!["create", "-n", "c6", "-B", "zfs", "-P", lxcpath],
            "zfs",
        ),
    ];
    for (args, expected) in cases {
        let out = rlxc(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: expected `{expected}` in {}",
            stderr(&out)
        );
        let left: Vec<String> = entries(d.path())
            .into_iter()
            .filter(|e| e != "bad.conf" && e != ".rlxc-staging")
            .collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
        assert!(
            entries(&d.path().join(".rlxc-staging")).is_empty(),
            "{args:?} left staging entries"
        );
    }
}
