//! Seccomp from inside a container: rlxc's default deny list on init and on
//! attached processes (through the x86_64, i386 and x32 entry points alike),
//! none under `attach -e` or with a policy that denies nothing, a policy file in LXC's
//! language, a bad one refused by file and line, and the compiled-filter
//! cache following the policy's text.

use rlxc_tests::{run, Lab};

// x86 errno numbers.
const EPERM: i32 = 1;
const EACCES: i32 = 13;
const ENOSYS: i32 = 38;

/// Builds the probe (`seccomp_probe.c`) into the container as `/bin/scprobe`.
fn install_probe(lab: &Lab, c: &str) -> bool {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/seccomp_probe.c");
    let bin = lab.rootfs(c).join("bin/scprobe");
    let o = run(std::process::Command::new("gcc")
        .args(["-static", "-O1", "-o"])
        .arg(&bin)
        .arg(src));
    rlxc_tests::require(o.status.success(), "gcc -static (gcc, libc6-dev)")
}

/// The probe's `name errno` lines as pairs.
fn errnos(out: &str) -> Vec<(String, i32)> {
    out.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(n, e)| (n.to_string(), e.parse().unwrap()))
        .collect()
}

fn errno_of(v: &[(String, i32)], name: &str) -> i32 {
    v.iter().find(|(n, _)| n == name).unwrap().1
}

const DENIED: &[&str] = &[
    "kexec_load",
    "kexec_file_load",
    "open_by_handle_at",
    "init_module",
    "finit_module",
    "delete_module",
    "keyctl",
    "add_key",
    "request_key",
    "swapon",
    "swapoff",
    "syslog",
    "keyctl-i386",
    "keyctl-x32",
];

fn assert_default_filter(v: &[(String, i32)], who: &str) {
    for name in DENIED {
        assert_eq!(errno_of(v, name), EPERM, "{who}: {name} in {v:?}");
    }
    assert_eq!(errno_of(v, "umount2-force"), EACCES, "{who}");
    assert_ne!(
        errno_of(v, "umount2"),
        EACCES,
        "{who}: a plain umount2 passes"
    );
    assert_eq!(errno_of(v, "getpid"), 0, "{who}");
}

#[test]
fn the_default_list_holds_for_init_and_attach_on_every_abi() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("scdefault");
    if !install_probe(&lab, &c) {
        return;
    }
    // init runs the probe itself (execute), then a started container's attach.
    let out = lab.ok(&["execute", "-n", &c, "--", "/bin/scprobe"]);
    assert_default_filter(&errnos(&out), "execute");
    // execute's pid 1 (the supervisor) is under it too, and non-dumpable.
    let st = lab.ok(&["execute", "-n", &c, "--", "cat", "/proc/1/status"]);
    assert!(
        st.lines()
            .any(|l| l.split_whitespace().eq(["Seccomp:", "2"])),
        "{st}"
    );
    lab.ok(&["start", "-n", &c]);
    let pid = lab.pid(&c);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        status
            .lines()
            .any(|l| l.split_whitespace().eq(["Seccomp:", "2"])),
        "{status}"
    );
    let out = lab.ok(&["attach", "-n", &c, "--", "/bin/scprobe"]);
    assert_default_filter(&errnos(&out), "attach");
    // -e (elevated) takes no filter: keyctl then runs, or fails for its own reasons.
    let out = lab.ok(&["attach", "-n", &c, "-e", "--", "/bin/scprobe"]);
    let v = errnos(&out);
    assert_ne!(errno_of(&v, "keyctl"), EPERM, "{v:?}");
    assert_eq!(
        errno_of(&v, "keyctl-x32"),
        ENOSYS,
        "no x32 ABI in this kernel: {v:?}"
    );
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}

#[test]
fn a_policy_that_denies_nothing_loads_no_filter() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("scnone");
    let policy = lab.path().join("none.policy");
    std::fs::write(&policy, "2\ndenylist\n").unwrap();
    lab.configure(&c, &format!("lxc.seccomp.profile = {}\n", policy.display()));
    let out = lab.ok(&[
        "execute",
        "-n",
        &c,
        "--",
        "grep",
        "^Seccomp:",
        "/proc/self/status",
    ]);
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["Seccomp:", "0"]
    );
    lab.assert_clean(&c);
}

#[test]
fn a_policy_file_replaces_the_default_and_its_changes_are_seen() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("scfile");
    let policy = lab.path().join("sc.policy");
    std::fs::write(&policy, "2\ndenylist\n[all]\nsethostname errno 42\n").unwrap();
    lab.configure(&c, &format!("lxc.seccomp.profile = {}\n", policy.display()));
    let try_hostname = "hostname probe 2>&1; dmesg >/dev/null 2>&1 && echo dmesg-ok";
    let out = lab.ok(&["execute", "-n", &c, "--", "sh", "-c", try_hostname]);
    assert!(
        out.contains("No message of desired type"),
        "errno 42 (ENOMSG): {out}"
    );
    assert!(
        out.contains("dmesg-ok"),
        "the default list is not loaded as well: {out}"
    );
    // The compiled filter was cached under the run directory, by text.
    let cache = lab.rundir.join("seccomp");
    assert!(std::fs::read_dir(&cache).unwrap().count() >= 1);
    // An edited policy is compiled afresh, never the stale cached one.
    std::fs::write(&policy, "2\ndenylist\n[all]\nsethostname errno 5\n").unwrap();
    let out = lab.ok(&["execute", "-n", &c, "--", "sh", "-c", try_hostname]);
    assert!(out.contains("Input/output error"), "errno 5 (EIO): {out}");
    lab.assert_clean(&c);
}

#[test]
fn a_bad_policy_is_refused_by_file_and_line_and_nothing_is_left() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("scbad");
    let policy = lab.path().join("bad.policy");
    std::fs::write(&policy, "2\ndenylist\nmount explode\n").unwrap();
    lab.configure(&c, &format!("lxc.seccomp.profile = {}\n", policy.display()));
    let err = lab.fails(&["start", "-n", &c], 1);
    let want = format!(
        "key `lxc.seccomp.profile`: seccomp policy {} line 3: unknown action `explode`",
        policy.display()
    );
    assert!(err.contains(&want), "{err}");
    lab.assert_clean(&c);
}

/// Builds `notify_proxy.c`; `None` (skipped) without gcc.
fn build_proxy(lab: &Lab) -> Option<std::path::PathBuf> {
    let proxy_bin = lab.path().join("notify_proxy");
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/notify_proxy.c");
    let o = run(std::process::Command::new("gcc")
        .args(["-O1", "-o"])
        .arg(&proxy_bin)
        .arg(src));
    rlxc_tests::require(o.status.success(), "gcc (gcc, libc6-dev)").then_some(proxy_bin)
}

/// Starts the proxy answering every call with -`errno` on `sock`, once it listens.
fn spawn_proxy(bin: &std::path::Path, sock: &std::path::Path, errno: i32) -> std::process::Child {
    let mut proxy = std::process::Command::new(bin)
        .arg(sock)
        .arg(errno.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(proxy.stdout.as_mut().unwrap()),
        &mut ready,
    )
    .unwrap();
    assert_eq!(ready, "ready\n");
    proxy
}

/// The proxy's log (one `nr=N cookie=C` line per call) once it is stopped.
fn proxy_log(mut proxy: std::process::Child) -> String {
    let _ = proxy.kill();
    let log = proxy.wait_with_output().unwrap();
    String::from_utf8_lossy(&log.stderr).into_owned()
}

fn notify_policy(lab: &Lab, c: &str, extra: &str) {
    let policy = lab.path().join("notify.policy");
    std::fs::write(&policy, "2\ndenylist\nmkdir notify\n").unwrap();
    lab.configure(
        c,
        &format!("lxc.seccomp.profile = {}\n{extra}", policy.display()),
    );
}

#[test]
fn notify_rules_reach_an_lxc_format_proxy_or_get_enosys() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("scnotify");
    let Some(proxy_bin) = build_proxy(&lab) else {
        return;
    };
    notify_policy(&lab, &c, "");
    let try_mkdir = "mkdir /tmp/notified 2>&1; true";
    // No proxy: the monitor answers ENOSYS, as LXC does.
    let out = lab.ok(&["execute", "-n", &c, "--", "sh", "-c", try_mkdir]);
    assert!(out.contains("Function not implemented"), "{out}");
    // A proxy answering errno 42 (ENOMSG), which also sees the cookie.
    let sock = lab.path().join("proxy.sock");
    let proxy = spawn_proxy(&proxy_bin, &sock, 42);
    lab.configure(
        &c,
        &format!(
            "lxc.seccomp.notify.proxy = unix:{}\nlxc.seccomp.notify.cookie = rlxc-test\n",
            sock.display()
        ),
    );
    let out = lab.ok(&["execute", "-n", &c, "--", "sh", "-c", try_mkdir]);
    let log = proxy_log(proxy);
    assert!(out.contains("No message of desired type"), "{out}");
    assert!(
        log.contains("nr=83 cookie=rlxc-test"),
        "mkdir (83) with the cookie: {log}"
    );
    assert!(!lab.rootfs(&c).join("tmp/notified").exists());
    lab.assert_clean(&c);
}

/// The monitor's open fds (init's parent), by number.
fn monitor_fds(lab: &Lab, c: &str) -> usize {
    let monitor = rlxc_tests::parent_of(lab.pid(c));
    std::fs::read_dir(format!("/proc/{monitor}/fd"))
        .unwrap()
        .count()
}

#[test]
fn an_attached_processs_notified_calls_reach_the_proxy_through_the_monitor() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("scnotifyatt");
    let Some(proxy_bin) = build_proxy(&lab) else {
        return;
    };
    let sock = lab.path().join("proxy-att.sock");
    let proxy = spawn_proxy(&proxy_bin, &sock, 42);
    notify_policy(
        &lab,
        &c,
        &format!(
            "lxc.seccomp.notify.proxy = unix:{}\nlxc.seccomp.notify.cookie = attached\n",
            sock.display()
        ),
    );
    lab.ok(&["start", "-n", &c, "-d"]);
    let before = monitor_fds(&lab, &c);
    // As LXC: the attach hands its listener to the monitor, whose one
    // connection to the proxy answers init's calls and the attached ones.
    for dir in ["/tmp/a1", "/tmp/a2"] {
        let out = lab.attach_sh(&c, &format!("mkdir {dir} 2>&1; true"));
        assert!(out.contains("No message of desired type"), "{out}");
    }
    // `-e` loads no filter: the call is the kernel's.
    lab.ok(&["attach", "-n", &c, "-e", "--", "mkdir", "/tmp/elevated"]);
    // Each attached process's listener closed with it.
    let mut after = monitor_fds(&lab, &c);
    for _ in 0..50 {
        if after <= before {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        after = monitor_fds(&lab, &c);
    }
    // (Not equal: a connection the monitor was serving when `before` was
    // counted may be gone; a leak would leave one more per attach.)
    assert!(
        after <= before,
        "the monitor's fds after two attaches: {after} > {before}"
    );
    lab.ok(&["stop", "-n", &c, "-k"]);
    let log = proxy_log(proxy);
    assert_eq!(
        log.matches("nr=83 cookie=attached").count(),
        2,
        "two mkdirs over one connection: {log}"
    );
    assert!(!lab.rootfs(&c).join("tmp/a1").exists());
    assert!(lab.rootfs(&c).join("tmp/elevated").exists());
    lab.assert_clean(&c);
}

#[test]
fn a_notified_call_in_the_start_hook_is_answered_not_left_waiting() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("scnotifyhook");
    notify_policy(
        &lab,
        &c,
        "lxc.hook.version = 1\nlxc.hook.start = mkdir /hooked\n",
    );
    // The hook runs after the filter is loaded: its mkdir is a notified call.
    let o = run(&mut lab.cmd_under(
        &["timeout", "30"],
        &rlxc_tests::rlxc_bin(),
        &["execute", "-n", &c, "--", "true"],
    ));
    let err = rlxc_tests::stderr(&o);
    assert_eq!(
        o.status.code(),
        Some(1),
        "answered (ENOSYS), not hung: {err}"
    );
    assert!(
        err.contains("lxc.hook.start `mkdir /hooked` failed"),
        "{err}"
    );
    lab.assert_clean(&c);
}
