//! The container's own mounts: `/proc` and `/sys` as `lxc.mount.auto` asks
//! (a mixed `/proc` by default: `/proc/sys` read-only, the container's own
//! `/proc/sys/net` writable; `proc:rw` on request; mount points made when the
//! rootfs lacks them) and `lxc.rootfs.options`.

use rlxc_tests::Lab;

/// Tries to set the container's hostname through `/proc/sys` (UTS-namespaced,
/// so the host's is never touched) and a net sysctl of its own namespace.
const PROBE: &str = "echo probe > /proc/sys/kernel/hostname 2>/dev/null && echo uts-written; \
                     echo 0 > /proc/sys/net/ipv4/ip_forward && echo net-written; \
                     grep ' /proc/sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1";

fn host_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap()
}

#[test]
fn proc_sys_is_read_only_by_default_but_its_net_part_is_not() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("procmixed");
    // A rootfs without /proc and /sys still starts: rlxc makes them.
    for d in ["proc", "sys"] {
        std::fs::remove_dir_all(lab.rootfs(&c).join(d)).unwrap();
    }
    let before = host_hostname();
    lab.ok(&["start", "-n", &c]);
    let out = lab.attach_sh(&c, PROBE);
    assert_eq!(out, "net-written\nro\n", "mixed /proc");
    assert_eq!(host_hostname(), before);
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

#[test]
fn proc_rw_leaves_proc_sys_writable() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("procrw");
    lab.configure(&c, "lxc.mount.auto = proc:rw sys:ro\n");
    let before = host_hostname();
    lab.ok(&["start", "-n", &c]);
    let out = lab.attach_sh(&c, PROBE);
    assert_eq!(
        out, "uts-written\nnet-written\n",
        "no /proc/sys bind under proc:rw"
    );
    let name = lab.ok(&["attach", "-n", &c, "--", "hostname"]);
    assert_eq!(name, "probe\n");
    assert_eq!(
        host_hostname(),
        before,
        "the write stayed in the container's UTS namespace"
    );
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

#[test]
fn rootfs_options_ro_makes_the_rootfs_read_only_inside_only() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("rootro");
    lab.configure(&c, "lxc.rootfs.options = ro,nosuid\n");
    lab.ok(&["start", "-n", &c]);
    let probe = "touch /probe 2>/dev/null && echo root-written; \
                 touch /dev/probe && echo dev-written; \
                 grep ' / ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1-2";
    let out = lab.attach_sh(&c, probe);
    assert_eq!(
        out, "dev-written\nro,nosuid\n",
        "only the rootfs mount is read-only"
    );
    assert!(!lab.rootfs(&c).join("probe").exists());
    lab.ok(&["stop", "-n", &c, "-k"]);
    // The host's directory stays writable: the flag was on the container's mount.
    std::fs::write(lab.rootfs(&c).join("probe"), "host").unwrap();
    lab.assert_clean(&c);
}

#[test]
fn a_symlinked_proc_or_sys_in_the_rootfs_is_refused_and_nothing_is_left() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("symproc");
    let rootfs = lab.rootfs(&c);
    for d in ["proc", "sys"] {
        // Inside the rootfs even: the mount would still land where no one looks.
        std::fs::remove_dir_all(rootfs.join(d)).unwrap();
        std::os::unix::fs::symlink("/tmp", rootfs.join(d)).unwrap();
        let err = lab.fails(&["start", "-n", &c], 1);
        assert!(
            err.contains(&format!("/{d} in the rootfs is a symlink")),
            "{err}"
        );
        assert!(err.contains(&c), "the message names the container: {err}");
        lab.assert_clean(&c);
        std::fs::remove_file(rootfs.join(d)).unwrap();
        std::fs::create_dir(rootfs.join(d)).unwrap();
    }
    assert_eq!(std::fs::read_dir(rootfs.join("tmp")).unwrap().count(), 0);
    lab.ok(&["start", "-n", &c]);
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

/// Lists /sys/fs/cgroup, init's memory cgroup as the container sees it, and
/// whether the own limit and the tmpfs take writes.
const CGROUP_PROBE: &str = "ls /sys/fs/cgroup | tr '\\n' ' '; echo; \
     grep ':memory:' /proc/self/cgroup; \
     cat /sys/fs/cgroup/memory/cgroup.procs | head -1; \
     (echo 200000000 > /sys/fs/cgroup/memory/memory.limit_in_bytes) 2>/dev/null && echo limit-written; \
     mkdir /sys/fs/cgroup/x 2>/dev/null && echo tmpfs-written; true";

#[test]
fn cgroup_automount_shows_the_containers_own_cgroups_only() {
    let Some(lab) = Lab::new() else { return };
    let has_memory = std::path::Path::new("/sys/fs/cgroup/memory/cgroup.procs").exists();
    if !rlxc_tests::require(has_memory, "a v1 memory hierarchy at /sys/fs/cgroup/memory") {
        return;
    }
    for (mode, writes) in [("mixed", "limit-written\n"), ("ro", "")] {
        let c = lab.busybox(&format!("cgmount-{mode}"));
        lab.configure(
            &c,
            &format!("lxc.mount.auto = proc:mixed sys:ro cgroup:{mode}\n"),
        );
        let out = lab.ok(&["execute", "-n", &c, "--", "sh", "-c", CGROUP_PROBE]);
        let mut lines = out.lines();
        let dirs = lines.next().unwrap();
        assert!(
            dirs.contains("memory") && dirs.contains("devices"),
            "{mode}: {out}"
        );
        assert!(
            lines.next().unwrap().ends_with(":memory:/"),
            "{mode}: its cgroup is the namespace root: {out}"
        );
        assert_eq!(lines.next(), Some("1"), "{mode}: init is in it: {out}");
        assert_eq!(
            lines.collect::<Vec<_>>().join("\n") + if writes.is_empty() { "" } else { "\n" },
            writes,
            "{mode}: {out}"
        );
        lab.assert_clean(&c);
    }
}

#[test]
fn sys_mixed_leaves_only_the_containers_network_devices_writable() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("sysmixed");
    lab.configure(&c, "lxc.mount.auto = proc:mixed sys:mixed\n");
    let probe = "grep -E ' /sys(/devices/virtual/net)? ' /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1; \
                 (touch /sys/kernel/probe) 2>/dev/null && echo sys-written; \
                 (echo 1 > /sys/devices/virtual/net/lo/flags) 2>/dev/null && echo net-written; true";
    let out = lab.ok(&["execute", "-n", &c, "--", "sh", "-c", probe]);
    assert_eq!(out, "/sys ro\n/sys/devices/virtual/net rw\nnet-written\n");
    lab.assert_clean(&c);
}

#[test]
fn rootfs_mount_borrows_the_named_directory_in_the_monitors_namespace_only() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("rootmount");
    let at = lab.path().join("rootfs-mount");
    lab.configure(&c, &format!("lxc.rootfs.mount = {}\n", at.display()));
    let err = lab.fails(&["start", "-n", &c], 1);
    assert!(
        err.contains("key `lxc.rootfs.mount`") && err.contains("is not a directory"),
        "{err}"
    );
    std::fs::create_dir(&at).unwrap();
    lab.ok(&["start", "-n", &c]);
    assert_eq!(
        lab.ok(&["attach", "-n", &c, "--", "ls", "/bin/busybox"]),
        "/bin/busybox\n"
    );
    let host_mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !host_mounts.contains(at.to_str().unwrap()),
        "the rootfs shows on the host"
    );
    lab.ok(&["stop", "-n", &c, "-k"]);
    assert!(at.is_dir(), "the named directory stays");
    assert_eq!(std::fs::read_dir(&at).unwrap().count(), 0);
    lab.assert_clean(&c);
}

#[test]
fn an_lxcpath_that_is_a_symlink_works() {
    let Some(lab) = Lab::new() else { return };
    let link = lab.path().join("lxc-link");
    std::os::unix::fs::symlink(&lab.lxcpath, &link).unwrap();
    let c = lab.name("symlp");
    let ok = |args: &[&str]| {
        let o = rlxc_tests::run(&mut lab.cmd_at(&link, args));
        assert!(o.status.success(), "{args:?}: {}", rlxc_tests::stderr(&o));
        rlxc_tests::stdout(&o)
    };
    ok(&["create", "-n", &c, "-t", "busybox"]);
    ok(&["start", "-n", &c]);
    assert_eq!(ok(&["attach", "-n", &c, "--", "echo", "in"]), "in\n");
    ok(&["stop", "-n", &c, "-k"]);
    ok(&["destroy", "-n", &c]);
    assert!(!std::path::Path::new(&lab.lxcpath).join(&c).exists());
    lab.assert_clean(&c);
}
