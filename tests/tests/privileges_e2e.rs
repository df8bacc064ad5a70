//! Privilege limits from the config, seen by the kernel: `lxc.cap.drop` and
//! `lxc.cap.keep` on every capability set of init and of attached processes
//! (even when the caller hands down inheritable and ambient capabilities),
//! and `lxc.no_new_privs` against a setuid-root binary.

use std::path::Path;

use rlxc_tests::{rlxc_bin, run, stderr, stdout, Lab};

const SYS_ADMIN: u64 = 1 << 21;
const SYS_MODULE: u64 = 1 << 16;
const KILL: u64 = 1 << 5;

/// The capability sets of a `/proc/PID/status` text, by line name.
fn caps(status: &str) -> [(String, u64); 5] {
    ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"].map(|name| {
        let line = status
            .lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} in {status}"));
        let hex = line.split_whitespace().nth(1).unwrap();
        (name.to_string(), u64::from_str_radix(hex, 16).unwrap())
    })
}

/// A command run with `sys_admin` raised in the inheritable and ambient
/// sets: a root exec keeps both, so only rlxc itself can take them away.
fn with_raised_caps(lab: &Lab, args: &[&str]) -> String {
    let wrapper = [
        "setpriv",
        "--inh-caps",
        "+sys_admin",
        "--ambient-caps",
        "+sys_admin",
        "--",
    ];
    let o = run(&mut lab.cmd_under(&wrapper, &rlxc_bin(), args));
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

#[test]
fn dropped_capabilities_leave_every_set_of_init_and_attach() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("capdrop");
    lab.configure(&c, "lxc.cap.drop = sys_admin sys_module\n");
    with_raised_caps(&lab, &["start", "-n", &c]);
    let init = std::fs::read_to_string(format!("/proc/{}/status", lab.pid(&c))).unwrap();
    let attached = with_raised_caps(
        &lab,
        &["attach", "-n", &c, "--", "cat", "/proc/self/status"],
    );
    for (who, status) in [("init", &init), ("attach", &attached)] {
        for (set, mask) in caps(status) {
            assert_eq!(mask & (SYS_ADMIN | SYS_MODULE), 0, "{who} {set}: {mask:x}");
        }
        let [_, (_, prm), _, (_, bnd), (_, amb)] = caps(status);
        assert_eq!(amb, 0, "{who}: ambient set cleared");
        assert_ne!(prm & KILL, 0, "{who} keeps what was not dropped");
        assert_eq!(prm, bnd, "{who}: root holds its whole bounding set");
    }
    // The caller's own sets still hold sys_admin: the drop was the container's.
    let host = with_raised_caps(
        &lab,
        &["attach", "-n", &c, "-e", "--", "cat", "/proc/self/status"],
    );
    assert_ne!(caps(&host)[3].1 & SYS_ADMIN, 0, "-e keeps the capabilities");
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

#[test]
fn cap_keep_leaves_only_what_it_names() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("capkeep");
    lab.configure(&c, "lxc.cap.keep = kill\n");
    with_raised_caps(&lab, &["start", "-n", &c]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", lab.pid(&c))).unwrap();
    let [(_, inh), (_, prm), (_, eff), (_, bnd), (_, amb)] = caps(&status);
    assert_eq!((prm, eff, bnd), (KILL, KILL, KILL), "{status}");
    assert_eq!((inh, amb), (0, 0), "{status}");
    // setuid/setgid are not kept, yet the id change still happens: it comes
    // after the bounding drop and before the other sets lose them.
    let ids = lab.ok(&[
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
        "id -u; id -g",
    ]);
    assert_eq!(ids, "1000\n1000\n");
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

#[test]
fn an_unknown_capability_fails_the_start_naming_it() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("capbad");
    lab.configure(&c, "lxc.cap.drop = sys_admn\n");
    let err = lab.fails(&["start", "-n", &c], 1);
    assert!(
        err.contains("lxc.cap.drop") && err.contains("sys_admn"),
        "{err}"
    );
    lab.assert_clean(&c);
}

/// A static program that prints its effective uid, installed setuid root.
fn install_euid(rootfs: &Path) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("euid.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\n#include <unistd.h>\n\
         int main(void) { printf(\"%d\\n\", (int)geteuid()); return 0; }\n",
    )
    .unwrap();
    let bin = rootfs.join("bin/euid");
    let o = run(std::process::Command::new("gcc")
        .args(["-static", "-o"])
        .arg(&bin)
        .arg(&src));
    if !rlxc_tests::require(o.status.success(), "gcc -static (gcc, libc6-dev)") {
        return false;
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o4755)).unwrap();
    true
}

#[test]
fn no_new_privs_stops_a_setuid_gain_in_attached_processes() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("nnp");
    if !install_euid(&lab.rootfs(&c)) {
        return;
    }
    let euid = |extra: &[&str]| {
        let mut args = vec!["attach", "-n", &c, "-u", "1000", "-g", "1000"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "/bin/euid"]);
        lab.ok(&args).trim().to_string()
    };
    let nnp = |pid: i32| {
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        s.lines()
            .any(|l| l.split_whitespace().eq(["NoNewPrivs:", "1"]))
    };
    // Without the key the setuid bit works, as on any Linux system.
    lab.ok(&["start", "-n", &c]);
    assert_eq!(euid(&[]), "0", "setuid root works without no_new_privs");
    assert!(!nnp(lab.pid(&c)));
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.configure(&c, "lxc.no_new_privs = 1\n");
    lab.ok(&["start", "-n", &c]);
    assert!(nnp(lab.pid(&c)), "init runs with no_new_privs");
    assert_eq!(euid(&[]), "1000", "no setuid gain under no_new_privs");
    assert_eq!(
        euid(&["-e"]),
        "1000",
        "-e keeps capabilities, not setuid gains"
    );
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

#[test]
fn no_host_descriptor_or_directory_reaches_the_container() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("fdleak");
    let secret = lab.path().join("host-secret");
    std::fs::write(&secret, "host only\n").unwrap();
    // The caller holds fd 7 on a host file (no close-on-exec), as a careless
    // script or a runtime's leaked fd would.
    let holding_fd7 = [
        "sh",
        "-c",
        "exec 7<\"$0\" && exec \"$@\"",
        secret.to_str().unwrap(),
    ];
    let o = run(&mut lab.cmd_under(&holding_fd7, &rlxc_bin(), &["start", "-n", &c]));
    assert!(o.status.success(), "{}", stderr(&o));
    let mut init_fds: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", lab.pid(&c)))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    init_fds.sort();
    assert_eq!(init_fds, ["0", "1", "2"], "init holds only its console");
    let probe = [
        "attach",
        "-n",
        &c,
        "--",
        "sh",
        "-c",
        "ls /proc/$$/fd; readlink /proc/$$/cwd",
    ];
    let o = run(&mut lab.cmd_under(&holding_fd7, &rlxc_bin(), &probe));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "0\n1\n2\n/\n",
        "attach passes stdio only, cwd in the container"
    );
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

#[test]
fn prlimits_reach_init_in_both_dialects() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("prlimit");
    // Below the caller's hard limit: raising one needs CAP_SYS_RESOURCE,
    // which root lacks on some hosts (this CI's among them).
    let own = std::fs::read_to_string("/proc/self/limits").unwrap();
    let hard: u64 = own
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(4)?.parse().ok())
        .unwrap();
    let ceiling = (hard / 2).to_string();
    let ceiling = ceiling.as_str();
    lab.configure(
        &c,
        &format!("lxc.prlimit.nofile = 512:{ceiling}\nlxc.limit.core = 0\n"),
    );
    lab.ok(&["start", "-n", &c]);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", lab.pid(&c))).unwrap();
    let row = |name: &str| -> Vec<String> {
        let line = limits.lines().find(|l| l.starts_with(name)).unwrap();
        line[name.len()..]
            .split_whitespace()
            .take(2)
            .map(str::to_string)
            .collect()
    };
    assert_eq!(row("Max open files"), ["512", ceiling], "{limits}");
    assert_eq!(row("Max core file size"), ["0", "0"], "{limits}");
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}
