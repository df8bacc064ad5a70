//! A user other than root gets LXC's own places: containers in
//! `~/.local/share/lxc`, the config in `~/.config/lxc/` (`lxc.conf`,
//! `default.conf`), the cache in `~/.cache/lxc`, runtime files under
//! `$XDG_RUNTIME_DIR/rlxc` or `~/.cache/rlxc/run`. Before, a user's create
//! failed on root's lock directory.

use std::path::Path;

use rlxc_tests::{stderr, stdout, TestUser};

#[test]
fn a_user_creates_lists_and_destroys_in_its_own_places() {
    let have = rlxc_tests::is_root() && Path::new("/bin/busybox").exists();
    if !rlxc_tests::require(have, "root (to make a user) and busybox") {
        return;
    }
    let Some(u) = TestUser::new("p") else { return };
    let home = format!("/home/{}", u.name);
    let ok = |o: &std::process::Output| {
        assert!(o.status.success(), "{}{}", stdout(o), stderr(o));
        stdout(o)
    };
    for (key, want) in [
        ("lxc.lxcpath", format!("{home}/.local/share/lxc")),
        (
            "lxc.default_config",
            format!("{home}/.config/lxc/default.conf"),
        ),
        ("lxc.cache_dir", format!("{home}/.cache/lxc")),
    ] {
        assert_eq!(
            ok(&u.rlxc(&[], &["config", key])),
            format!("{want}\n"),
            "{key}"
        );
    }
    // No default.conf yet: an empty start, as LXC makes it.
    ok(&u.rlxc(&[], &["create", "-n", "c1", "-t", "busybox"]));
    let dir = Path::new(&home).join(".local/share/lxc/c1");
    assert!(dir.join("rootfs/bin/busybox").exists());
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(&dir).unwrap().uid(),
        u.uid,
        "the user's own"
    );
    // Runtime files: the private fallback without XDG_RUNTIME_DIR.
    assert!(Path::new(&home).join(".cache/rlxc/run").is_dir());
    let ls = ok(&u.rlxc(&[], &["ls"]));
    assert_eq!(ls.split_whitespace().collect::<Vec<_>>(), ["c1"]);
    assert!(ok(&u.rlxc(&[], &["info", "-n", "c1"])).contains("STOPPED"));
    // With XDG_RUNTIME_DIR: rlxc's files go under it.
    let xdg = Path::new(&home).join("xdg-run");
    std::fs::create_dir(&xdg).unwrap();
    std::os::unix::fs::chown(&xdg, Some(u.uid), Some(u.uid)).unwrap();
    let x = xdg.display().to_string();
    ok(&u.rlxc(&[("XDG_RUNTIME_DIR", &x)], &["info", "-n", "c1"]));
    ok(&u.rlxc(
        &[("XDG_RUNTIME_DIR", &x)],
        &["create", "-n", "c2", "-t", "busybox"],
    ));
    assert!(xdg.join("rlxc").is_dir());
    // The user's lxc.conf moves the lxcpath; its default.conf is used.
    let cfg = Path::new(&home).join(".config/lxc");
    let ct = Path::new(&home).join("ct");
    for d in [&cfg, &ct] {
        std::fs::create_dir_all(d).unwrap();
        std::os::unix::fs::chown(d, Some(u.uid), Some(u.uid)).unwrap();
    }
    std::fs::write(
        cfg.join("lxc.conf"),
        format!("lxc.lxcpath = {}\n", ct.display()),
    )
    .unwrap();
    std::fs::write(
        cfg.join("default.conf"),
        "lxc.net.0.type = empty\nlxc.tty.max = 1\n",
    )
    .unwrap();
    ok(&u.rlxc(&[], &["create", "-n", "c3", "-t", "busybox"]));
    let c3 = std::fs::read_to_string(ct.join("c3/config")).unwrap();
    assert!(c3.contains("lxc.net.0.type = empty\n"), "{c3}");
    assert_eq!(ok(&u.rlxc(&[], &["ls"])).trim(), "c3");
    ok(&u.rlxc(&[], &["destroy", "-n", "c3"]));
    std::fs::remove_file(cfg.join("lxc.conf")).unwrap();
    for c in ["c1", "c2"] {
        ok(&u.rlxc(&[], &["destroy", "-n", c]));
    }
    assert!(!dir.exists());
}

#[test]
fn a_users_container_runs_in_its_user_namespace_and_is_destroyed_from_it() {
    let Some(u) = TestUser::for_containers("m", "lxc.net.0.type = empty\n") else {
        return;
    };
    let home = format!("/home/{}", u.name);
    let ok = |o: &std::process::Output| {
        assert!(o.status.success(), "{}{}", stdout(o), stderr(o));
    };
    ok(&u.rlxc(&[], &["create", "-n", "m1", "-t", "busybox"]));
    let root = Path::new(&home).join(".local/share/lxc/m1/rootfs");
    use std::os::unix::fs::MetadataExt;
    let m = |p: &str| std::fs::symlink_metadata(root.join(p)).unwrap();
    // What the user's template wrote is the container root's: the
    // user's first subordinate id on the host.
    assert_eq!(
        (m("").uid(), m("etc/passwd").uid(), m("bin/busybox").gid()),
        (u.sub, u.sub, u.sub)
    );
    assert_eq!(m("bin/busybox").mode() & 0o4000, 0o4000, "set-user-id kept");
    // The user starts it: in a user namespace with its maps (written by
    // newuidmap/newgidmap), as the mapped ids on the host; twice.
    for _ in 0..2 {
        ok(&u.rlxc(&[], &["start", "-n", "m1"]));
        let pid: i32 = stdout(&u.rlxc(&[], &["info", "-n", "m1", "-p", "-H"]))
            .trim()
            .parse()
            .unwrap();
        let map = std::fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap();
        assert_eq!(
            map.split_whitespace().collect::<Vec<_>>(),
            ["0", &u.sub.to_string(), "65536"]
        );
        assert_eq!(
            std::fs::metadata(format!("/proc/{pid}")).unwrap().uid(),
            u.sub
        );
        let o = u.rlxc(
            &[],
            &[
                "attach",
                "-n",
                "m1",
                "--",
                "sh",
                "-c",
                "id -u; touch /root/by-attach",
            ],
        );
        assert_eq!(stdout(&o), "0\n", "{}", stderr(&o));
        assert_eq!(m("root/by-attach").uid(), u.sub);
        assert!(stdout(&u.rlxc(&[], &["info", "-n", "m1"])).contains("RUNNING"));
        ok(&u.rlxc(&[], &["stop", "-n", "m1", "-k"]));
        assert!(stdout(&u.rlxc(&[], &["info", "-n", "m1"])).contains("STOPPED"));
    }
    // What a user's container cannot have here is named: a cgroup limit
    // (no delegated cgroup), a veth NIC (no rlxc-user-nic installed).
    let conf = Path::new(&home).join(".local/share/lxc/m1/config");
    let base = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(
        &conf,
        format!("{base}lxc.cgroup.memory.limit_in_bytes = 100000000\n"),
    )
    .unwrap();
    let o = u.rlxc(&[], &["start", "-n", "m1"]);
    assert!(stderr(&o).contains("no delegated cgroup"), "{}", stderr(&o));
    std::fs::write(
        &conf,
        base.replace(
            "lxc.net.0.type = empty",
            "lxc.net.0.type = veth\nlxc.net.0.link = lxcbr0",
        ),
    )
    .unwrap();
    let o = u.rlxc(&[], &["start", "-n", "m1"]);
    assert!(
        stderr(&o).contains("no rlxc-user-nic: install it set-user-id root"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&conf, base).unwrap();
    // Files the user may not remove itself go from the namespace.
    ok(&u.rlxc(&[], &["destroy", "-n", "m1"]));
    assert!(!root.exists());
    // A map the user is not granted is named before anything is made.
    std::fs::write(
        Path::new(&home).join(".config/lxc/default.conf"),
        "lxc.net.0.type = empty\nlxc.idmap = u 0 50000 10\nlxc.idmap = g 0 50000 10\n",
    )
    .unwrap();
    let o = u.rlxc(&[], &["create", "-n", "m2", "-t", "busybox"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("may not map host ids 50000 to 50009"),
        "{}",
        stderr(&o)
    );
    assert!(!Path::new(&home).join(".local/share/lxc/m2").exists());
}
