//! Device access from inside a container: rlxc's default list (LXC's
//! `common.conf`) in the v1 `devices` hierarchy, cgroup2 rules enforced by
//! an eBPF program on the container's cgroup2 directory (this host's
//! `/sys/fs/cgroup/unified` takes one), and `lxc-cgroup devices.allow` on a
//! running container replacing that program.

use rlxc_tests::Lab;

/// Makes a loop-device node (block 7:0) and `/dev/mem`'s (char 1:1) in the
/// container's /tmp, then opens each and /dev/null: one line per device.
const PROBE: &str =
    "rm -f /tmp/l0 /tmp/mem; mknod /tmp/l0 b 7 0 && mknod /tmp/mem c 1 1 && echo made; \
     for d in /tmp/l0 /tmp/mem /dev/null /dev/zero; do \
       if head -c1 $d >/dev/null 2>&1; then echo \"$d open\"; else echo \"$d refused\"; fi; \
     done";

fn probe(lab: &Lab, c: &str) -> String {
    lab.attach_sh(c, PROBE)
}

#[test]
fn the_default_list_lets_nodes_be_made_but_opens_only_the_safe_ones() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("devdefault");
    lab.ok(&["start", "-n", &c]);
    assert_eq!(
        probe(&lab, &c),
        "made\n/tmp/l0 refused\n/tmp/mem refused\n/dev/null open\n/dev/zero open\n"
    );
    // The guide's run-time change: the loop device becomes usable.
    lab.ok(&["cgroup", "-n", &c, "devices.allow", "b 7:* rwm"]);
    let out = probe(&lab, &c);
    assert!(out.contains("/tmp/l0 open"), "{out}");
    assert!(out.contains("/tmp/mem refused"), "{out}");
    let err = lab.fails(&["cgroup", "-n", &c, "devices.allow", "b 7"], 1);
    assert!(
        err.contains("key `devices.allow`: `b 7` is not a device rule"),
        "{err}"
    );
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

#[test]
fn cgroup2_rules_are_enforced_by_a_device_program_and_changed_at_run_time() {
    let Some(lab) = Lab::new() else { return };
    let unified = std::path::Path::new("/sys/fs/cgroup/unified/cgroup.procs").exists();
    if !rlxc_tests::require(unified, "a cgroup2 mount at /sys/fs/cgroup/unified") {
        return;
    }
    let c = lab.busybox("devbpf");
    // v1 allows everything, so whatever is refused is the program's doing.
    lab.configure(
        &c,
        "lxc.cgroup.devices.allow = a\n\
         lxc.cgroup2.devices.deny = a\n\
         lxc.cgroup2.devices.allow = c *:* m\n\
         lxc.cgroup2.devices.allow = b *:* m\n\
         lxc.cgroup2.devices.allow = c 1:3 rwm\n\
         lxc.cgroup2.devices.allow = c 136:* rwm\n\
         lxc.cgroup2.devices.allow = c 5:* rwm\n",
    );
    lab.ok(&["start", "-n", &c]);
    assert_eq!(
        probe(&lab, &c),
        "made\n/tmp/l0 refused\n/tmp/mem refused\n/dev/null open\n/dev/zero refused\n"
    );
    lab.ok(&["cgroup", "-n", &c, "devices.allow", "c 1:5 r"]);
    let out = probe(&lab, &c);
    assert!(out.contains("/dev/zero open"), "{out}");
    assert!(out.contains("/tmp/l0 refused"), "{out}");
    // Read only: a write to /dev/zero is still refused by the program.
    let w = lab.attach_sh(&c, "echo x > /dev/zero && echo written || echo refused");
    assert_eq!(w.trim_end().lines().last(), Some("refused"), "{w}");
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

#[test]
fn allow_a_lifts_the_default() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("devall");
    lab.configure(&c, "lxc.cgroup.devices.allow = a\n");
    lab.ok(&["start", "-n", &c]);
    let out = probe(&lab, &c);
    assert!(out.contains("/tmp/l0 open"), "{out}");
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}
