//! The native debian template, live: debootstrap against the Debian
//! archive into a template cache that later runs reuse
//! (`/var/tmp/rlxc-test-cache`: the first run takes a minute, the next ones
//! copy it), then a container that boots systemd to `running` with a getty
//! on each tty, and stops at once on `rlxc stop`.

use std::path::Path;

use rlxc_tests::{run, Lab};

const CACHE: &str = "/var/tmp/rlxc-test-cache";

fn with_cache(lab: &Lab) {
    let conf = lab.path().join("lxc.conf");
    let mut sys = std::fs::read_to_string(&conf).unwrap();
    sys.push_str(&format!("lxc.cache_dir = {CACHE}\n"));
    std::fs::write(conf, sys).unwrap();
}

/// A lab with the shared cache, when debootstrap is there.
fn debootstrap_lab() -> Option<Lab> {
    let lab = Lab::new()?;
    let have = run(std::process::Command::new("sh").args([
        "-c",
        "command -v debootstrap || test -x /usr/sbin/debootstrap",
    ]))
    .status
    .success();
    if !rlxc_tests::require(have, "debootstrap") {
        return None;
    }
    with_cache(&lab);
    Some(lab)
}

#[test]
fn a_debian_guest_boots_to_running_and_stops_cleanly() {
    let Some(lab) = debootstrap_lab() else { return };
    let c = lab.name("deb");
    lab.ok(&["create", "-n", &c, "-t", "debian"]);
    let entry = Path::new(CACHE).join("debian/rootfs-bookworm-amd64");
    assert!(
        entry.join("etc/debian_version").is_file(),
        "the cache is filled"
    );
    let cfg = std::fs::read_to_string(Path::new(&lab.lxcpath).join(&c).join("config")).unwrap();
    assert!(
        cfg.contains("lxc.tty.max = 4\n") && cfg.contains("lxc.arch = amd64\n"),
        "{cfg}"
    );
    let root = lab.rootfs(&c);
    assert_eq!(
        std::fs::read_to_string(root.join("etc/hostname")).unwrap(),
        format!("{c}\n")
    );
    // The lab's NIC is `empty`: no DHCP stanza to fail at boot.
    assert_eq!(
        std::fs::read_to_string(root.join("etc/network/interfaces")).unwrap(),
        "auto lo\niface lo inet loopback\n"
    );
    lab.ok(&["start", "-n", &c, "-d"]);
    // systemd's bus comes up a moment after init starts.
    let state = lab.attach_sh(
        &c,
        "for i in $(seq 100); do s=$(systemctl is-system-running --wait 2>/dev/null) && break; sleep 0.1; done; echo $s",
    );
    assert_eq!(state, "running\n", "systemd's state");
    let gettys = lab.attach_sh(
        &c,
        "systemctl list-units --no-legend --state=running 'getty@*' | wc -l",
    );
    assert_eq!(gettys.trim(), "4");
    assert_eq!(lab.attach_sh(&c, "hostname"), format!("{c}\n"));
    // SIGPWR powers it off (not the 60 s timeout then SIGKILL).
    let o = run(&mut lab.cmd(&["stop", "-n", &c, "-t", "20", "--nokill"]));
    assert!(
        o.status.success(),
        "a clean stop: {}",
        rlxc_tests::stderr(&o)
    );
    // A second create copies the cache: debootstrap does not run again.
    let before = std::fs::metadata(&entry).unwrap().modified().unwrap();
    let c2 = lab.name("deb2");
    lab.ok(&["create", "-n", &c2, "-t", "debian"]);
    assert_eq!(
        std::fs::metadata(&entry).unwrap().modified().unwrap(),
        before
    );
    assert!(lab.rootfs(&c2).join("usr/bin/apt").is_file());
    // A config's own tty count stays, and the gettys follow it.
    let f = lab.path().join("two-ttys.conf");
    std::fs::write(&f, "lxc.net.0.type = empty\nlxc.tty.max = 2\n").unwrap();
    let c3 = lab.name("deb3");
    lab.ok(&[
        "create",
        "-n",
        &c3,
        "-t",
        "debian",
        "-f",
        &f.display().to_string(),
    ]);
    let cfg3 = std::fs::read_to_string(Path::new(&lab.lxcpath).join(&c3).join("config")).unwrap();
    assert_eq!(cfg3.matches("lxc.tty.max").count(), 1, "{cfg3}");
    let wants = lab
        .rootfs(&c3)
        .join("etc/systemd/system/getty.target.wants");
    // (links to a path inside the guest: looked at, not followed)
    let linked =
        |n: u32| std::fs::symlink_metadata(wants.join(format!("getty@tty{n}.service"))).is_ok();
    assert!(linked(2) && !linked(3));
    lab.ok(&["destroy", "-n", &c3]);
    for n in [&c, &c2] {
        lab.ok(&["destroy", "-n", n]);
        lab.assert_clean(n);
    }
}

#[test]
fn a_sysvinit_guest_runs_its_gettys_and_halts_on_stop() {
    let Some(lab) = debootstrap_lab() else { return };
    // sysvinit instead of systemd: what old suites boot, asked for here on
    // bookworm (the old suites' archive is not needed for the init's part).
    let c = lab.name("sysv");
    lab.ok(&[
        "create",
        "-n",
        &c,
        "-t",
        "debian",
        "--",
        "--packages",
        "sysvinit-core",
    ]);
    let root = lab.rootfs(&c);
    let inittab = std::fs::read_to_string(root.join("etc/inittab")).unwrap();
    assert!(
        inittab.contains("c4:12345:respawn:/sbin/getty 38400 tty4 linux"),
        "{inittab}"
    );
    assert!(!root.join("lib/systemd/systemd").exists(), "no systemd");
    lab.ok(&["start", "-n", &c, "-d"]);
    let state = lab.attach_sh(
        &c,
        "for i in $(seq 100); do r=$(runlevel) && [ \"$r\" = 'N 3' ] && break; sleep 0.1; done; echo $r",
    );
    assert_eq!(state, "N 3\n", "sysvinit's runlevel");
    let gettys = lab.attach_sh(
        &c,
        "for i in $(seq 50); do n=$(for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done | grep -c '^/sbin/getty 38400 tty'); [ $n = 4 ] && break; sleep 0.1; done; echo $n",
    );
    assert_eq!(gettys.trim(), "4");
    // SIGPWR: powerfail, `init 0`, a clean halt well inside the timeout.
    let o = run(&mut lab.cmd(&["stop", "-n", &c, "-t", "20", "--nokill"]));
    assert!(
        o.status.success(),
        "a clean stop: {}",
        rlxc_tests::stderr(&o)
    );
    lab.ok(&["destroy", "-n", &c]);
    lab.assert_clean(&c);
}

#[test]
fn a_debian_guest_in_a_user_namespace_boots_systemd_to_running() {
    let Some(lab) = debootstrap_lab() else { return };
    // lxc.idmap: the rootfs is mounted idmapped (the tree is not chowned),
    // and systemd runs as 100000 on the host, with the container's cgroups
    // its own.
    let f = lab.path().join("map.conf");
    std::fs::write(
        &f,
        "lxc.net.0.type = empty\nlxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n",
    )
    .unwrap();
    let c = lab.name("debmap");
    lab.ok(&[
        "create",
        "-n",
        &c,
        "-f",
        &f.display().to_string(),
        "-t",
        "debian",
    ]);
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(lab.rootfs(&c).join("usr/bin/apt"))
            .unwrap()
            .uid(),
        0
    );
    lab.ok(&["start", "-n", &c, "-d"]);
    let state = lab.attach_sh(
        &c,
        "for i in $(seq 100); do s=$(systemctl is-system-running --wait 2>/dev/null) && break; sleep 0.1; done; echo $s",
    );
    assert_eq!(state, "running\n", "systemd's state in the user namespace");
    assert_eq!(lab.attach_sh(&c, "stat -c %u /usr/bin/apt"), "0\n");
    let pid = lab.pid(&c);
    assert_eq!(
        std::fs::metadata(format!("/proc/{pid}")).unwrap().uid(),
        100_000
    );
    let o = run(&mut lab.cmd(&["stop", "-n", &c, "-t", "20", "--nokill"]));
    assert!(
        o.status.success(),
        "a clean stop: {}",
        rlxc_tests::stderr(&o)
    );
    lab.ok(&["destroy", "-n", &c]);
    lab.assert_clean(&c);
}
