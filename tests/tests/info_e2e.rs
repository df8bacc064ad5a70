//! What scripts written for LXC read: `lxc-info` with `-H` gives bare values
//! for a single field and raw numbers, `-c KEY` gives `KEY = VALUE`; and a
//! config that includes LXC's own common.conf (cgroup device rules in both
//! dialects) starts without a single translation warning.

use rlxc_tests::{stderr, Lab};

#[test]
fn info_prints_what_lxc_scripts_parse() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("infoh");
    lab.configure(&c, "lxc.include = /usr/share/lxc/config/common.conf\n");
    let o = lab.run(&["start", "-n", &c]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "",
        "LXC's common.conf must start without warnings"
    );
    let pid = lab.ok(&["info", "-n", &c, "-p", "-H"]);
    assert!(pid.trim().parse::<i32>().is_ok_and(|p| p > 1), "{pid:?}");
    assert_eq!(lab.ok(&["info", "-n", &c, "-s", "-H"]), "RUNNING\n");
    assert_eq!(
        lab.ok(&["info", "-n", &c, "-s"]),
        "State:          RUNNING\n"
    );
    // Two fields keep their labels, as in LXC.
    let two = lab.ok(&["info", "-n", &c, "-s", "-p", "-H"]);
    assert!(
        two.starts_with("State:          RUNNING\nPID:            "),
        "{two}"
    );
    // Raw numbers with -H, LXC's units without.
    let raw = lab.ok(&["info", "-n", &c, "-S", "-H"]);
    let mem = raw
        .lines()
        .find_map(|l| l.strip_prefix("Memory use:"))
        .expect("memory line");
    assert!(mem.trim().parse::<u64>().is_ok(), "{raw}");
    let human = lab.ok(&["info", "-n", &c, "-S"]);
    assert!(
        human.contains(" KiB\n") || human.contains(" MiB\n"),
        "{human}"
    );
    // -c: KEY = VALUE (without the dir: prefix), bare with -H and one key,
    // and an unknown key reported on stderr without failing.
    let rootfs = lab.rootfs(&c).display().to_string();
    assert_eq!(
        lab.ok(&["info", "-n", &c, "-c", "lxc.rootfs.path"]),
        format!("lxc.rootfs.path = {rootfs}\n")
    );
    assert_eq!(
        lab.ok(&["info", "-n", &c, "-c", "lxc.rootfs.path", "-H"]),
        format!("{rootfs}\n")
    );
    assert_eq!(
        lab.ok(&["info", "-n", &c, "-c", "lxc.init.cwd"]),
        "lxc.init.cwd =\n"
    );
    let o = lab.run(&["info", "-n", &c, "-c", "lxc.nosuch", "-c", "lxc.uts.name"]);
    assert!(o.status.success());
    assert_eq!(stderr(&o), "lxc.nosuch invalid\n");
    // -c comes after the fields (common.conf, included last, sets 4 ttys).
    let mixed = lab.ok(&["info", "-n", &c, "-c", "lxc.tty.max", "-s"]);
    assert_eq!(mixed, "State:          RUNNING\nlxc.tty.max = 4\n");
    lab.ok(&["stop", "-n", &c, "-k"]);
    // Stopped: no pid, the state bare.
    assert_eq!(lab.ok(&["info", "-n", &c, "-p", "-H"]), "");
    assert_eq!(lab.ok(&["info", "-n", &c, "-s", "-H"]), "STOPPED\n");
    lab.assert_clean(&c);
}

#[test]
fn netstat_shows_the_containers_sockets_not_the_hosts() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("netstat");
    lab.ok(&["start", "-n", &c]);
    lab.attach_sh(&c, "nc -l -p 8123 >/dev/null 2>&1 &");
    // A listener of the host's (this test's) that must not show.
    let host = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host_port = format!(":{}", host.local_addr().unwrap().port());
    let mut seen = String::new();
    for _ in 0..50 {
        seen = lab.ok(&["netstat", "-n", &c, "--", "-tln"]);
        if seen.contains(":8123") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(seen.contains(":8123"), "{seen}");
    assert!(
        !seen.contains(&host_port),
        "the host's socket shows: {seen}"
    );
    lab.ok(&["stop", "-n", &c, "-k"]);
    assert!(lab
        .fails(&["netstat", "-n", &c], 1)
        .contains("is not running"));
}

#[test]
fn namespace_share_net_joins_another_containers_network() {
    let Some(lab) = Lab::new() else { return };
    let (a, b) = (lab.busybox("shareA"), lab.busybox("shareB"));
    lab.ok(&["start", "-n", &a]);
    let netns = |c: &str| lab.ok(&["attach", "-n", c, "--", "readlink", "/proc/1/ns/net"]);
    // A container that joins another's network has no NICs of its own.
    lab.configure(&b, &format!("lxc.namespace.share.net = {a}\n"));
    let e = lab.fails(&["start", "-n", &b], 1);
    assert!(
        e.contains("lxc.net.0") && e.contains("lxc.namespace.share.net"),
        "{e}"
    );
    lab.configure(&b, "lxc.net =\n");
    lab.ok(&["start", "-n", &b]);
    assert_eq!(netns(&a), netns(&b));
    lab.ok(&["stop", "-n", &b, "-k"]);
    // By pid too.
    let pid = lab.pid(&a).to_string();
    lab.ok(&[
        "start",
        "-n",
        &b,
        "-s",
        &format!("lxc.namespace.share.net={pid}"),
    ]);
    assert_eq!(netns(&a), netns(&b));
    for c in [&b, &a] {
        lab.ok(&["stop", "-n", c, "-k"]);
        lab.assert_clean(c);
    }
}

#[test]
fn namespace_share_uts_ipc_and_cgroup_join_another_container() {
    let Some(lab) = Lab::new() else { return };
    let (a, b) = (lab.busybox("shuA"), lab.busybox("shuB"));
    lab.ok(&["start", "-n", &a]);
    lab.configure(
        &b,
        &format!("lxc.namespace.share.uts = {a}\nlxc.namespace.share.ipc = {a}\n"),
    );
    lab.ok(&["start", "-n", &b]);
    let ns = |c: &str, n: &str| {
        lab.ok(&[
            "attach",
            "-n",
            c,
            "--",
            "readlink",
            &format!("/proc/1/ns/{n}"),
        ])
    };
    assert_eq!(ns(&a, "uts"), ns(&b, "uts"));
    assert_eq!(ns(&a, "ipc"), ns(&b, "ipc"));
    assert_ne!(
        ns(&a, "mnt"),
        ns(&b, "mnt"),
        "only what was asked is shared"
    );
    // B's hostname is A's (it joined A's UTS namespace and sets none of its own).
    let host = |c: &str| lab.ok(&["attach", "-n", c, "--", "hostname"]);
    assert_eq!(host(&b), host(&a));
    for c in [&b, &a] {
        lab.ok(&["stop", "-n", c, "-k"]);
        lab.assert_clean(c);
    }
}

#[test]
fn namespace_share_pid_runs_in_another_containers_pid_namespace() {
    let Some(lab) = Lab::new() else { return };
    let (a, b) = (lab.busybox("shpA"), lab.busybox("shpB"));
    lab.ok(&["start", "-n", &a]);
    lab.configure(&b, &format!("lxc.namespace.share.pid = {a}\n"));
    let theirs = lab.ok(&["attach", "-n", &a, "--", "readlink", "/proc/1/ns/pid"]);
    let mine = lab.ok(&["execute", "-n", &b, "--", "readlink", "/proc/self/ns/pid"]);
    assert_eq!(mine, theirs);
    // Its /proc shows A's init as pid 1.
    let one = lab.ok(&["execute", "-n", &b, "--", "cat", "/proc/1/comm"]);
    assert_eq!(one, "init\n");
    lab.ok(&["stop", "-n", &a, "-k"]);
    lab.assert_clean(&a);
    lab.assert_clean(&b);
}
