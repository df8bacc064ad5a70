//! A busybox container's whole life from the built binary, with the effects
//! checked from outside: namespaces, hostname, cgroup membership and limits,
//! the freezer, devices in the rootfs, attach, console, stop and cleanup.

use std::path::Path;

use rlxc_tests::{stdout, Lab};

fn ns(pid: &str, kind: &str) -> std::path::PathBuf {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).unwrap()
}

#[test]
fn start_info_attach_freeze_cgroup_stop_destroy() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("life");
    lab.configure(&c, "lxc.cgroup.memory.limit_in_bytes = 320000000\nlxc.tty.max = 2\nlxc.tty.dir = lxc\nlxc.pty.max = 16\n");
    assert_eq!(lab.state(&c), "STOPPED");
    lab.ok(&["start", "-n", &c]);
    assert_eq!(lab.state(&c), "RUNNING");
    let pid = lab.pid(&c).to_string();

    // Its own namespaces.
    for kind in ["pid", "mnt", "uts", "ipc", "net", "cgroup"] {
        assert_ne!(
            ns(&pid, kind),
            ns("self", kind),
            "{kind} namespace is the host's"
        );
    }
    // Init is pid 1 inside, with the container's hostname.
    assert_eq!(lab.ok(&["attach", "-n", &c, "--", "hostname"]).trim(), c);
    let inside = lab.attach_sh(&c, "cat /proc/1/comm; echo $$");
    assert!(inside.starts_with("init\n"), "{inside}");

    // cgroup membership and the limit, seen from the host.
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(cg.contains(&format!("rlxc.payload.{c}")), "{cg}");
    let limit =
        Path::new("/sys/fs/cgroup/memory").join(format!("rlxc.payload.{c}/memory.limit_in_bytes"));
    if limit.exists() {
        assert_eq!(std::fs::read_to_string(&limit).unwrap().trim(), "320000000");
        lab.ok(&["cgroup", "-n", &c, "memory.limit_in_bytes", "100000000"]);
        assert_eq!(std::fs::read_to_string(&limit).unwrap().trim(), "99999744");
        assert_eq!(
            lab.ok(&["cgroup", "-n", &c, "memory.limit_in_bytes"])
                .trim(),
            "99999744"
        );
        // The v2 name is translated on a v1 memory controller.
        lab.ok(&["cgroup", "-n", &c, "memory.max", "200000000"]);
        assert_eq!(std::fs::read_to_string(&limit).unwrap().trim(), "199999488");
    }

    // Devices, devpts and ttys in the rootfs.
    let dev = lab.attach_sh(
        &c,
        "ls /dev /dev/lxc; readlink /dev/tty1; grep devpts /proc/mounts",
    );
    for n in [
        "null", "zero", "full", "random", "urandom", "tty", "console", "ptmx", "pts", "tty1",
        "tty2",
    ] {
        assert!(dev.lines().any(|l| l == n), "/dev/{n} missing: {dev}");
    }
    assert!(dev.contains("lxc/tty1"), "{dev}");
    assert!(dev.contains("max=16"), "{dev}");

    // ps and ls see it.
    let ps = lab.ok(&["ps", "-n", &c, "--", "-o", "pid="]);
    assert!(ps.split_whitespace().any(|p| p == pid), "{ps}");
    let ls = lab.ok(&["ls", "--fancy"]);
    assert!(
        ls.lines()
            .any(|l| l.starts_with(&c) && l.contains("RUNNING")),
        "{ls}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&lab.ok(&["info", "-n", &c, "--format", "json"])).unwrap();
    assert_eq!(json["state"], "RUNNING");
    assert_eq!(json["pid"].to_string(), pid);
    assert!(json["stats"]["memory_bytes"].as_u64().unwrap() > 0);

    assert_eq!(
        lab.ok(&["info", "-n", &c, "-c", "lxc.tty.max"]),
        "lxc.tty.max = 2\n"
    );
    let raw = lab.ok(&["info", "-n", &c, "-S", "-H"]);
    assert!(
        raw.lines().any(|l| l.starts_with("Memory use:")
            && l.split_whitespace().last().unwrap().parse::<u64>().is_ok()),
        "{raw}"
    );

    // Freeze and thaw, seen in the freezer.
    lab.ok(&["freeze", "-n", &c]);
    assert_eq!(lab.state(&c), "FROZEN");
    let fz = Path::new("/sys/fs/cgroup/freezer").join(format!("rlxc.payload.{c}/freezer.state"));
    if fz.exists() {
        assert_eq!(std::fs::read_to_string(&fz).unwrap().trim(), "FROZEN");
    }
    lab.ok(&["unfreeze", "-n", &c]);
    assert_eq!(lab.state(&c), "RUNNING");

    // Starting it again is refused; destroying it without -f too.
    assert!(lab
        .fails(&["start", "-n", &c], 1)
        .contains("already running"));
    assert!(lab
        .fails(&["destroy", "-n", &c], 1)
        .contains("stop it first"));

    lab.ok(&["stop", "-n", &c, "-t", "10"]);
    assert_eq!(lab.state(&c), "STOPPED");
    lab.assert_clean(&c);
    lab.ok(&["destroy", "-n", &c]);
    assert!(!Path::new(&lab.lxcpath).join(&c).exists());
}

#[test]
fn attach_environment_ids_capabilities_and_status() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("attach");
    lab.ok(&["start", "-n", &c]);
    // Exit status passes through.
    let o = lab.run(&["attach", "-n", &c, "--", "sh", "-c", "exit 7"]);
    assert_eq!(o.status.code(), Some(7));
    // A clean environment by default, -v adds, --keep-env keeps.
    let mut cmd = lab.cmd(&["attach", "-n", &c, "-v", "FOO=bar", "--", "env"]);
    let env = stdout(&rlxc_tests::run(cmd.env("HOST_ONLY", "1")));
    assert!(
        env.contains("FOO=bar") && env.contains("container=lxc") && !env.contains("HOST_ONLY"),
        "{env}"
    );
    let mut cmd = lab.cmd(&["attach", "-n", &c, "--keep-env", "--", "env"]);
    assert!(stdout(&rlxc_tests::run(cmd.env("HOST_ONLY", "1"))).contains("HOST_ONLY=1"));
    // Ids.
    assert_eq!(
        lab.ok(&[
            "attach",
            "-n",
            &c,
            "-u",
            "1000",
            "-g",
            "1000",
            "--",
            "sh",
            "-c",
            "id -u; id -g"
        ]),
        "1000\n1000\n"
    );
    // The config drops sys_module (16): gone from the bounding set; -e keeps it.
    let bnd = |extra: &[&str]| {
        let mut args = vec!["attach", "-n", &c];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "grep", "CapBnd", "/proc/self/status"]);
        let out = lab.ok(&args);
        u64::from_str_radix(out.split_whitespace().nth(1).unwrap(), 16).unwrap()
    };
    assert_eq!(bnd(&[]) & (1 << 16), 0);
    assert_ne!(bnd(&["-e"]) & (1 << 16), 0);
    // Only some namespaces: -s UTSNAME keeps the host's mount namespace.
    let out = lab.ok(&[
        "attach",
        "-n",
        &c,
        "-s",
        "UTSNAME",
        "--",
        "sh",
        "-c",
        "hostname; test -d /proc/1 && echo host-tree",
    ]);
    assert_eq!(out, format!("{c}\nhost-tree\n"));
    // A missing command: 127 and a message naming the container.
    let o = lab.run(&["attach", "-n", &c, "--", "/no/such/cmd"]);
    assert_eq!(o.status.code(), Some(127));
    assert!(rlxc_tests::stderr(&o).contains(&c));
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

#[test]
fn console_reaches_the_shell_on_dev_console() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("console");
    lab.ok(&["start", "-n", &c]);
    let mut child = lab
        .cmd(&["console", "-n", &c, "-t", "0"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::{BufRead, Write};
    let mut input = child.stdin.take().unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // busybox's askfirst waits for Enter, then the shell runs our line.
    input.write_all(b"\n").unwrap();
    input.write_all(b"echo marker-$((6*7))\n").unwrap();
    let found = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("marker-42"));
    assert!(found, "the console did not echo the command's output");
    input.write_all(b"\x01q").unwrap();
    assert!(child.wait().unwrap().success());
    lab.ok(&["stop", "-n", &c, "-k"]);
}

#[test]
fn host_mount_table_is_untouched() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("mounts");
    let before = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .count();
    // No unshare wrapper here: the monitor runs in the host's mount namespace.
    let o = rlxc_tests::run(&mut lab.cmd_host(&["start", "-n", &c]));
    assert!(o.status.success(), "{}", rlxc_tests::stderr(&o));
    let during = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !during.contains(&lab.lxcpath),
        "container mounts leaked to the host: {during}"
    );
    let o = rlxc_tests::run(&mut lab.cmd_host(&["stop", "-n", &c, "-k"]));
    assert!(o.status.success());
    let after = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .count();
    assert_eq!(before, after);
    lab.assert_clean(&c);
}

#[test]
fn mount_entries_bind_host_directories_and_stay_inside_the_rootfs() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("mounts2");
    let host = lab.path().join("shared");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("hello"), "from the host\n").unwrap();
    // A symlink in the rootfs pointing out of it must not take a mount along:
    // the target resolves as if the rootfs were / (a mount point made
    // through a symlink is refused: mount_entry_e2e).
    std::os::unix::fs::symlink("/", lab.rootfs(&c).join("escape")).unwrap();
    std::fs::create_dir_all(lab.rootfs(&c).join("evil")).unwrap();
    lab.configure(
        &c,
        &format!(
            "lxc.mount.entry = {} mnt/shared none ro,bind,create=dir 0 0\nlxc.mount.entry = tmpfs escape/evil tmpfs defaults 0 0\n",
            host.display()
        ),
    );
    let out = lab.ok(&["execute", "-n", &c, "--", "sh", "-c", "cat /mnt/shared/hello; touch /mnt/shared/x || echo read-only; grep -c ' /evil ' /proc/mounts"]);
    assert_eq!(out, "from the host\nread-only\n1\n");
    assert!(
        !Path::new("/evil").exists(),
        "a mount target escaped the rootfs"
    );
    assert!(lab.rootfs(&c).join("evil").is_dir());
    lab.assert_clean(&c);
}

#[test]
fn pidfile_console_log_and_container_log() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("logs");
    let pidfile = lab.path().join("init.pid");
    let console = lab.path().join("console.log");
    lab.ok(&[
        "start",
        "-n",
        &c,
        "-p",
        pidfile.to_str().unwrap(),
        "-L",
        console.to_str().unwrap(),
    ]);
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pid, lab.pid(&c));
    // busybox's askfirst prompt is written on /dev/console, and so to -L.
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&console).unwrap_or_default();
        if text.contains("Please press Enter") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(text.contains("Please press Enter"), "console log: {text:?}");
    lab.ok(&["stop", "-n", &c, "-k"]);
    assert!(!pidfile.exists(), "the pid file outlived the container");
    // A failed start is written to <lxcpath>/<name>/<name>.log, as LXC does.
    lab.fails(&["start", "-n", &c, "-s", "lxc.init.cmd=/no/init"], 1);
    let log =
        std::fs::read_to_string(Path::new(&lab.lxcpath).join(&c).join(format!("{c}.log"))).unwrap();
    assert!(log.contains("cannot run `/no/init`"), "{log}");
}

#[test]
fn console_on_a_tty_reaches_getty_and_a_busy_tty_is_refused() {
    use std::io::{Read, Write};
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("ttys");
    lab.ok(&["start", "-n", &c]);
    let mut child = lab
        .cmd(&["console", "-n", &c, "-t", "1"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut out = child.stdout.take().unwrap();
    input.write_all(b"\n").unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains("login:") {
        let n = out.read(&mut buf).unwrap();
        assert!(
            n > 0,
            "console closed before getty's prompt: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    // tty1 is taken: a second console on it is refused, naming it.
    let e = lab.fails(&["console", "-n", &c, "-t", "1"], 1);
    assert!(e.contains("tty 1 is in use"), "{e}");
    let e = lab.fails(&["console", "-n", &c, "-t", "9"], 1);
    assert!(e.contains("tty 9 does not exist"), "{e}");
    input.write_all(b"\x01q").unwrap();
    drop(input);
    assert!(child.wait().unwrap().success());
    lab.ok(&["stop", "-n", &c, "-k"]);
}
