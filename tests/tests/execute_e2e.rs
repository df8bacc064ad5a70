//! `execute` (rlxc's init as pid 1) and `start -F`: exit status, signals,
//! zombies, identity and environment, with and without a rootfs.

use rlxc_tests::{stderr, stdout, Lab};

#[test]
fn execute_without_a_rootfs_runs_on_the_host_tree_as_pid_1() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.name("app");
    // No container directory at all: an application container.
    let out = lab.ok(&[
        "execute",
        "-n",
        &c,
        "-s",
        "lxc.uts.name=appbox",
        "--",
        "sh",
        "-c",
        "echo $$; hostname; ls /proc | grep -c '^[0-9]'",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "2",
        "the command is the child of rlxc's init (pid 1): {out}"
    );
    assert_eq!(lines[1], "appbox");
    let procs: u32 = lines[2].parse().unwrap();
    assert!(procs <= 4, "/proc shows only the new pid namespace: {out}");
    assert_ne!(
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap()
            .trim(),
        "appbox"
    );
    lab.assert_clean(&c);
}

#[test]
fn execute_passes_status_signals_identity_and_environment() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("exec");
    assert_eq!(
        lab.run(&["execute", "-n", &c, "--", "sh", "-c", "exit 3"])
            .status
            .code(),
        Some(3)
    );
    // Killed by a signal: 128+N, as a shell reports it.
    assert_eq!(
        lab.run(&["execute", "-n", &c, "--", "sh", "-c", "kill -TERM $$"])
            .status
            .code(),
        Some(143)
    );
    // An orphan is reaped by our init and the command's status still wins.
    assert_eq!(
        lab.run(&[
            "execute",
            "-n",
            &c,
            "--",
            "sh",
            "-c",
            "(sleep 0.2 &); exit 4"
        ])
        .status
        .code(),
        Some(4)
    );
    // stdin/stdout are the caller's.
    let mut cmd = lab.cmd(&["execute", "-n", &c, "--", "cat"]);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"through stdin\n")
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "through stdin\n");
    // init.uid/gid/cwd and environment.
    let out = lab.ok(&[
        "execute",
        "-n",
        &c,
        "-s",
        "lxc.init.uid=1000",
        "-s",
        "lxc.init.gid=100",
        "-s",
        "lxc.init.cwd=/tmp",
        "-s",
        "lxc.environment=GREETING=hello",
        "--",
        "sh",
        "-c",
        "id -u; id -g; pwd; echo $GREETING $container; cat /etc/hostname 2>/dev/null; hostname",
    ]);
    assert_eq!(out, format!("1000\n100\n/tmp\nhello lxc\n{c}\n"));
    // lxc.execute.cmd is the default command.
    lab.configure(&c, "lxc.execute.cmd = /bin/sh -c 'echo from-config'\n");
    assert_eq!(lab.ok(&["execute", "-n", &c]), "from-config\n");
    lab.assert_clean(&c);
}

#[test]
fn start_in_the_foreground_passes_status_and_forwards_sigterm() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("fg");
    let o = lab.run(&[
        "start",
        "-n",
        &c,
        "-F",
        "--",
        "/bin/sh",
        "-c",
        "echo up; exit 5",
    ]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(stdout(&o).contains("up"));
    let mut child = lab
        .cmd(&[
            "start",
            "-n",
            &c,
            "-F",
            "--",
            "/bin/sh",
            "-c",
            "trap 'echo got-term; exit 9' TERM; echo ready; while :; do sleep 0.1; done",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(child.stdout.as_mut().unwrap()).lines();
        assert!(lines
            .by_ref()
            .map_while(Result::ok)
            .any(|l| l.contains("ready")));
    }
    rlxc_tests::kill(child.id() as i32, 15);
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(9));
    lab.assert_clean(&c);
}

#[test]
fn network_none_shares_the_host_network_and_empty_gets_its_own() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("netns");
    let host = std::fs::read_link("/proc/self/ns/net").unwrap();
    let ns = |t: &str| {
        let out = lab.ok(&[
            "execute",
            "-n",
            &c,
            "-s",
            "lxc.net.0.type=",
            "-s",
            &format!("lxc.net.0.type={t}"),
            "--",
            "readlink",
            "/proc/1/ns/net",
        ]);
        std::path::PathBuf::from(out.trim())
    };
    assert_eq!(ns("none"), host);
    assert_ne!(ns("empty"), host);
    // An empty network has lo, and it is up.
    let out = lab.ok(&[
        "execute",
        "-n",
        &c,
        "--",
        "cat",
        "/sys/class/net/lo/operstate",
        "/proc/net/dev",
    ]);
    assert!(out.starts_with("unknown\n") && out.contains("lo:"), "{out}");
}

#[test]
fn fstab_entries_are_mounted() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("fstab");
    std::fs::write(
        std::path::Path::new(&lab.lxcpath).join(&c).join("fstab"),
        "# comment\ntmpfs mnt/scratch tmpfs size=1m,create=dir 0 0\n",
    )
    .unwrap();
    lab.configure(&c, "lxc.mount.fstab = fstab\n");
    let out = lab.ok(&[
        "execute",
        "-n",
        &c,
        "--",
        "grep",
        " /mnt/scratch ",
        "/proc/mounts",
    ]);
    assert!(out.contains("tmpfs /mnt/scratch tmpfs"), "{out}");
}

#[test]
fn cgroup_dir_is_honoured_and_removed_with_its_parents() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("cgdir");
    let site = format!("rlxc-e2e-{}", std::process::id());
    let out = lab.ok(&[
        "execute",
        "-n",
        &c,
        "-s",
        &format!("lxc.cgroup.dir={site}/{c}"),
        "--",
        "cat",
        "/proc/self/cgroup",
    ]);
    // Inside its cgroup namespace the container sees its own cgroup as /.
    assert!(out.lines().all(|l| l.ends_with(":/")), "{out}");
    let left: Vec<_> = std::fs::read_dir("/sys/fs/cgroup")
        .unwrap()
        .flatten()
        .map(|h| h.path().join(&site))
        .filter(|p| p.exists())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn executes_own_init_is_closed_to_the_container() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("dumpable");
    // Without CAP_SYS_PTRACE a container process cannot reach pid 1's exe
    // (rlxc's own init is the host's binary).
    let out = lab.ok(&[
        "execute",
        "-n",
        &c,
        "-s",
        "lxc.cap.drop=sys_ptrace",
        "--",
        "sh",
        "-c",
        "readlink /proc/1/exe || echo denied",
    ]);
    assert_eq!(out.trim(), "denied");
}
