//! `create` and `destroy` from the built binary: the busybox template on dir
//! storage, and failures that must leave nothing behind.

use std::path::Path;

use rlxc_tests::{require, stderr, stdout};

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
    // Locks go to a runtime directory of the test's own, not /run/rlxc.
    let rundir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        rlxc_tests::run(
            std::process::Command::new(rlxc_tests::rlxc_bin())
                .args(args)
                .env("RLXC_SYSTEM_CONFIG", &sys)
                .env("RLXC_RUNDIR", rundir.path()),
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
    let rundir = tempfile::tempdir().unwrap();
    for (args, expected) in cases {
        let out = rlxc_tests::run(
            std::process::Command::new(rlxc_tests::rlxc_bin())
                .args(&args)
                .env("RLXC_RUNDIR", rundir.path()),
        );
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

#[test]
fn lxc_template_scripts_run_unchanged_and_fail_cleanly() {
    use std::os::unix::fs::PermissionsExt;
    let Some(lab) = rlxc_tests::Lab::new() else {
        return;
    };
    let lxc_busybox = Path::new("/usr/share/lxc/templates/lxc-busybox");
    if !require(
        lxc_busybox.exists(),
        "LXC's template scripts (lxc-templates)",
    ) {
        return;
    }
    // LXC's own busybox script, then a real start of what it made.
    let c = lab.name("script");
    lab.ok(&["create", "-n", &c, "-t", lxc_busybox.to_str().unwrap()]);
    let config = std::fs::read_to_string(Path::new(&lab.lxcpath).join(&c).join("config")).unwrap();
    assert!(config.contains(
        "# Template used to create this container: /usr/share/lxc/templates/lxc-busybox"
    ));
    assert!(config.contains("lxc.signal.halt = SIGUSR1"), "{config}");
    assert!(!config.contains(".rlxc-staging"), "{config}");
    lab.ok(&["start", "-n", &c]);
    assert_eq!(lab.ok(&["attach", "-n", &c, "--", "hostname"]).trim(), c);
    lab.ok(&["stop", "-n", &c, "-k"]);

    // A script that names its --path in the config: the final path is kept.
    let script = lab.path().join("lxc-mine");
    std::fs::write(
        &script,
        "#!/bin/sh\nwhile [ $# -gt 0 ]; do case $1 in --path) p=$2; shift;; --rootfs) r=$2; shift;; esac; shift; done\n\
         mkdir -p \"$r/bin\" && echo \"lxc.mount.fstab = $p/fstab\" >> \"$p/config\" && echo made\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let m = lab.name("mine");
    lab.ok(&["create", "-n", &m, "-t", script.to_str().unwrap()]);
    let config = std::fs::read_to_string(Path::new(&lab.lxcpath).join(&m).join("config")).unwrap();
    let want = format!("lxc.mount.fstab = {}/{m}/fstab", lab.lxcpath);
    assert!(config.contains(&want), "{config}");

    // A failing script: its stderr in the error, nothing left.
    std::fs::write(&script, "#!/bin/sh\necho 'no network here' >&2\nexit 3\n").unwrap();
    let f = lab.name("fails");
    let e = lab.fails(&["create", "-n", &f, "-t", script.to_str().unwrap()], 1);
    assert!(
        e.contains(&f) && e.contains("no network here") && e.contains("exit status 3"),
        "{e}"
    );
    assert!(!Path::new(&lab.lxcpath).join(&f).exists());
    assert_eq!(
        entries(&Path::new(&lab.lxcpath).join(".rlxc-staging")),
        Vec::<String>::new()
    );
    // An unknown name says where it looked.
    let e = lab.fails(&["create", "-n", &f, "-t", "nosuch"], 1);
    assert!(e.contains("/usr/share/lxc/templates/lxc-nosuch"), "{e}");
}

#[test]
fn a_busybox_guest_matches_its_config_and_lets_users_ping() {
    let Some(lab) = rlxc_tests::Lab::new() else {
        return;
    };
    let c = lab.busybox("bbguest");
    let cfg = std::fs::read_to_string(Path::new(&lab.lxcpath).join(&c).join("config")).unwrap();
    let ttys: u32 = cfg
        .lines()
        .find_map(|l| l.strip_prefix("lxc.tty.max = "))
        .and_then(|v| v.parse().ok())
        .unwrap();
    let inittab = std::fs::read_to_string(lab.rootfs(&c).join("etc/inittab")).unwrap();
    for n in 1..=ttys {
        assert!(
            inittab.contains(&format!("tty{n}::respawn:/sbin/getty -L tty{n} ")),
            "{inittab}"
        );
    }
    assert!(inittab.contains("console::askfirst:/bin/sh"), "{inittab}");
    lab.ok(&["start", "-n", &c, "-d"]);
    // A getty on every tty; busybox's SUID handling: a user keeps their
    // ids, and ping (which needs a raw socket) works for them.
    // (init starts them once rcS is done: waited for, up to 3 s)
    let gettys = lab.attach_sh(
        &c,
        &format!("for i in $(seq 30); do n=$(ps | grep -c '[g]etty -L tty'); [ $n -ge {ttys} ] && break; sleep 0.1; done; echo $n"),
    );
    assert_eq!(gettys.trim(), ttys.to_string());
    let id = lab.ok(&[
        "attach", "-n", &c, "-u", "1000", "-g", "1000", "--", "id", "-u",
    ]);
    assert_eq!(id, "1000\n");
    lab.ok(&[
        "attach",
        "-n",
        &c,
        "-u",
        "1000",
        "-g",
        "1000",
        "--",
        "ping",
        "-c1",
        "-W2",
        "127.0.0.1",
    ]);
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

#[test]
fn an_lxc_script_whose_host_tools_are_missing_is_not_started() {
    let Some(lab) = rlxc_tests::Lab::new() else {
        return;
    };
    if !Path::new("/usr/share/lxc/templates/lxc-download").exists() {
        assert!(rlxc_tests::require(false, "lxc-templates"));
        return;
    }
    // A PATH without wget and gpg (they live in /usr/bin here). LXC's
    // script by its path: `-t download` is rlxc's own template.
    let script = "/usr/share/lxc/templates/lxc-download";
    let name = lab.name("dl");
    let o = rlxc_tests::run(
        lab.cmd_host(&["create", "-n", &name, "-t", script])
            .env("PATH", "/nonexistent"),
    );
    assert_eq!(o.status.code(), Some(1));
    let err = rlxc_tests::stderr(&o);
    assert!(
        err.contains("missing on this host: wget and gpg; LXC's lxc-download runs them: install them first (`apt-get install wget gpg`)"),
        "{err}"
    );
    let o = rlxc_tests::run(
        lab.cmd_host(&["create", "-n", &name, "-t", script, "--", "--no-validate"])
            .env("PATH", "/nonexistent"),
    );
    let err = rlxc_tests::stderr(&o);
    assert!(err.contains("missing on this host: wget; "), "{err}");
    assert!(
        !Path::new(&lab.lxcpath).join(&name).exists(),
        "nothing made"
    );
}

#[test]
fn create_h_prints_the_templates_own_options_after_rlxcs() {
    let o = rlxc_tests::rlxc(&["create", "-t", "busybox", "-h"]);
    assert!(o.status.success());
    let out = rlxc_tests::stdout(&o);
    let (ours, theirs) = out
        .split_once("Options of template `busybox` (after `--`):")
        .expect("both parts");
    assert!(
        ours.contains("--bdev") && ours.contains("--fssize"),
        "{ours}"
    );
    assert!(theirs.contains("--busybox-path PATH"), "{theirs}");
    if Path::new("/usr/share/lxc/templates/lxc-debian").exists() {
        let out = rlxc_tests::stdout(&rlxc_tests::rlxc(&["create", "-t", "debian", "-h"]));
        assert!(
            out.contains("Options of template `debian`") && out.contains("MIRROR"),
            "{out}"
        );
    }
    // An option the template does not take is named, and nothing is made.
    let Some(lab) = rlxc_tests::Lab::new() else {
        return;
    };
    let err = lab.fails(
        &["create", "-n", "never", "-t", "busybox", "--", "--bogus"],
        1,
    );
    assert!(err.contains("unknown argument `--bogus`"), "{err}");
    assert!(!Path::new(&lab.lxcpath).join("never").exists());
}

#[test]
fn the_template_cache_is_listed_and_freed() {
    let Some(lab) = rlxc_tests::Lab::new() else {
        return;
    };
    let cache = lab.path().join("cache");
    let entry = cache.join("debian/rootfs-bookworm-amd64");
    std::fs::create_dir_all(entry.join("etc")).unwrap();
    std::fs::write(entry.join("etc/big"), vec![1u8; 200_000]).unwrap();
    let mut sys = std::fs::read_to_string(lab.path().join("lxc.conf")).unwrap();
    sys.push_str(&format!("lxc.cache_dir = {}\n", cache.display()));
    std::fs::write(lab.path().join("lxc.conf"), sys).unwrap();
    // `cache` takes no lxcpath: run without the lab's `-P`.
    let cache_cmd = |args: &[&str]| {
        rlxc_tests::run(
            std::process::Command::new(rlxc_tests::rlxc_bin())
                .arg("cache")
                .args(args)
                .env("RLXC_SYSTEM_CONFIG", lab.path().join("lxc.conf")),
        )
    };
    let out = rlxc_tests::stdout(&cache_cmd(&["ls"]));
    assert!(
        out.starts_with("debian       rootfs-bookworm-amd64"),
        "{out}"
    );
    assert!(out.contains(&entry.display().to_string()), "{out}");
    let o = cache_cmd(&["rm", "debian", "rootfs-sid-amd64"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(rlxc_tests::stderr(&o).contains("no cache entry debian/rootfs-sid-amd64"));
    assert!(cache_cmd(&["rm", "debian"]).status.success());
    assert!(!entry.exists());
    assert!(rlxc_tests::stdout(&cache_cmd(&["ls"])).contains("is empty"));
}
