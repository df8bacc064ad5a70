//! `lxc.sysctl.*`, `lxc.proc.*` and `lxc.arch` from inside a container: the
//! container's own sysctls are set (and stay read-only under a mixed
//! `/proc`), the host's are untouched, a sysctl of the host alone is
//! refused before anything starts, init's `/proc/PID` file is written, and a
//! 32-bit personality is what `uname -m` reports.

use rlxc_tests::Lab;

#[test]
fn sysctls_proc_files_and_the_personality_take_effect_inside_only() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("kkeys");
    lab.configure(
        &c,
        "lxc.sysctl.net.ipv4.ip_forward = 1\nlxc.sysctl.kernel.shmmax = 12345678\n\
         lxc.proc.oom_score_adj = 321\nlxc.arch = i686\n",
    );
    let host_shmmax = std::fs::read_to_string("/proc/sys/kernel/shmmax").unwrap();
    let host_fwd = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
    let probe = "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/1/oom_score_adj; uname -m; \
                 (echo 1 > /proc/sys/kernel/shmmax) 2>/dev/null && echo shm-written; true";
    let out = lab.ok(&["execute", "-n", &c, "--", "sh", "-c", probe]);
    assert_eq!(
        out, "1\n12345678\n321\ni686\n",
        "mixed /proc keeps /proc/sys read-only afterwards"
    );
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/shmmax").unwrap(),
        host_shmmax
    );
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
        host_fwd
    );
    lab.assert_clean(&c);
}

#[test]
fn a_sysctl_of_the_host_alone_is_refused_by_key() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("kkeysbad");
    lab.configure(&c, "lxc.sysctl.vm.swappiness = 5\n");
    let before = std::fs::read_to_string("/proc/sys/vm/swappiness").unwrap();
    let err = lab.fails(&["start", "-n", &c], 1);
    assert!(
        err.contains(
            "key `lxc.sysctl.vm.swappiness`: not a sysctl of the container's own namespaces"
        ),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string("/proc/sys/vm/swappiness").unwrap(),
        before
    );
    lab.assert_clean(&c);
}

fn uptime(text: &str) -> f64 {
    text.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn time_offsets_move_the_containers_clocks_and_attach_sees_them() {
    let Some(lab) = Lab::new() else { return };
    let has_timens = std::path::Path::new("/proc/self/ns/time").exists();
    if !rlxc_tests::require(has_timens, "time namespaces (Linux 5.6+)") {
        return;
    }
    let c = lab.busybox("timens");
    lab.configure(
        &c,
        "lxc.time.offset.boot = 100h\nlxc.autodev.tmpfs.size = 1048576\n",
    );
    let host = uptime(&std::fs::read_to_string("/proc/uptime").unwrap());
    let out = lab.ok(&["execute", "-n", &c, "--", "cat", "/proc/uptime"]);
    let shift = uptime(&out) - host;
    assert!(
        (359_990.0..360_100.0).contains(&shift),
        "boot clock moved by {shift}s"
    );
    lab.ok(&["start", "-n", &c]);
    let out = lab.ok(&["attach", "-n", &c, "--", "cat", "/proc/uptime"]);
    assert!(
        uptime(&out) - host > 359_990.0,
        "attach joins the time namespace: {out}"
    );
    let dev = lab.ok(&["attach", "-n", &c, "--", "grep", " /dev ", "/proc/mounts"]);
    assert!(dev.contains("size=1024k"), "lxc.autodev.tmpfs.size: {dev}");
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

#[test]
fn sched_core_needs_a_kernel_with_core_scheduling() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("schedcore");
    lab.configure(&c, "lxc.sched.core = 1\n");
    let out = rlxc_tests::run(std::process::Command::new("sh").args([
        "-c",
        "zcat /proc/config.gz 2>/dev/null | grep -c '^CONFIG_SCHED_CORE=y'",
    ]));
    let has = rlxc_tests::stdout(&out).trim() == "1";
    let o = lab.run(&["execute", "-n", &c, "--", "true"]);
    if has {
        assert!(o.status.success(), "{}", rlxc_tests::stderr(&o));
    } else {
        let err = rlxc_tests::stderr(&o);
        assert!(
            err.contains("lxc.sched.core = 1: this kernel has no core scheduling"),
            "{err}"
        );
    }
    lab.assert_clean(&c);
}

/// Builds `keyring_probe.c` to `bin`; false (skipped) without gcc.
fn keyring_probe(bin: &std::path::Path) -> bool {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keyring_probe.c");
    let o = rlxc_tests::run(
        std::process::Command::new("gcc")
            .args(["-static", "-O1", "-o"])
            .arg(bin)
            .arg(src),
    );
    rlxc_tests::require(o.status.success(), "gcc -static (gcc, libc6-dev)")
}

#[test]
fn keyring_session_gives_init_a_session_keyring_of_its_own() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("keyring");
    if !keyring_probe(&lab.rootfs(&c).join("bin/keyprobe")) {
        return;
    }
    // The default seccomp list denies keyctl: a policy that denies nothing.
    let policy = lab.path().join("none.policy");
    std::fs::write(&policy, "2\ndenylist\n").unwrap();
    lab.configure(&c, &format!("lxc.seccomp.profile = {}\n", policy.display()));
    let host_bin = lab.path().join("keyprobe");
    assert!(keyring_probe(&host_bin));
    // The caller's own keyring, as the execute below inherits it.
    let host = rlxc_tests::stdout(&rlxc_tests::run(&mut std::process::Command::new(&host_bin)));
    let own = lab.ok(&["execute", "-n", &c, "--", "/bin/keyprobe"]);
    assert_ne!(
        own, host,
        "lxc.keyring.session = 1 (default): a new session keyring"
    );
    lab.configure(&c, "lxc.keyring.session = 0\n");
    let kept = lab.ok(&["execute", "-n", &c, "--", "/bin/keyprobe"]);
    assert_eq!(kept, host, "lxc.keyring.session = 0: the caller's");
    lab.assert_clean(&c);
}
