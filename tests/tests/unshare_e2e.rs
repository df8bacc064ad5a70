//! `rlxc unshare` (lxc-unshare) from the built binary, as root.

use rlxc_tests::{is_root, require, rlxc, stderr, stdout};

#[test]
fn runs_in_new_namespaces_with_a_working_proc() {
    if !require(is_root(), "root (namespaces)") {
        return;
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let out = rlxc(&[
        "unshare",
        "-s",
        "MOUNT|PID|UTSNAME|IPC|NETWORK",
        "-H",
        "rlxc-test",
        "-M",
        "--",
        "sh",
        "-c",
        "echo $$; hostname; ls /proc | grep -c '^[0-9]'; ip -o link | wc -l; exit 7",
    ]);
    assert_eq!(
        out.status.code(),
        Some(7),
        "exit status passed through: {}",
        stderr(&out)
    );
    let lines: Vec<String> = stdout(&out).lines().map(|l| l.trim().to_string()).collect();
    assert_eq!(
        lines[0], "1",
        "the command is pid 1 of the new pid namespace"
    );
    assert_eq!(lines[1], "rlxc-test");
    let pids: u32 = lines[2].parse().unwrap();
    assert!(
        (1..=5).contains(&pids),
        "/proc shows only the new namespace's processes, saw {pids}"
    );
    assert_eq!(lines[3], "1", "only loopback in a new network namespace");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
        host,
        "host name untouched"
    );
    let missing = rlxc(&["unshare", "-s", "PID", "--", "/nonexistent/cmd"]);
    assert_eq!(missing.status.code(), Some(127));
    assert!(stderr(&missing).contains("cannot run `/nonexistent/cmd`"));
    let bad = rlxc(&["unshare", "-s", "PID", "-M", "--", "true"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("-M needs the MOUNT namespace"));
}
