//! `lxc.hook.*` from a user's side: every hook of a start and a stop runs
//! once, in LXC's order, with LXC's arguments (version 0) or variables
//! (version 1) and where it belongs (the mount hook sees the rootfs before
//! the pivot, the start hook runs inside, the stop hook gets the
//! namespaces); a failing hook fails the start, says why and leaves nothing;
//! a failing destroy hook keeps the container.

use std::path::{Path, PathBuf};

use rlxc_tests::Lab;

/// A hook script that logs one line per call to `log`.
fn hook(dir: &Path, name: &str, log: &Path) -> PathBuf {
    let p = dir.join(name);
    let body = format!(
        "#!/bin/sh\n\
         ns=; for a in \"$@\"; do case $a in net:*) [ -e \"${{a#net:}}\" ] && ns=net-open;; esac; done\n\
         [ -n \"$LXC_NET_NS\" ] && [ -e \"$LXC_NET_NS\" ] && ns=net-open\n\
         seen=; [ -e \"$LXC_ROOTFS_MOUNT/bin/busybox\" ] && seen=rootfs-seen\n\
         echo \"$LXC_HOOK_TYPE [$1 $2 $3] $LXC_NAME ${{LXC_TARGET:-}} $seen $ns\" >> {}\n",
        log.display()
    );
    std::fs::write(&p, body).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn hook_config(h: &Path, inner: &str) -> String {
    let h = h.display();
    format!(
        "lxc.hook.pre-start = {h}\nlxc.hook.pre-mount = {h}\nlxc.hook.mount = {h}\n\
         lxc.hook.autodev = {h}\nlxc.hook.start-host = {h}\nlxc.hook.start = {inner}\n\
         lxc.hook.stop = {h}\nlxc.hook.post-stop = {h}\n"
    )
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn every_hook_runs_once_in_order_with_version_0_arguments() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("hooks0");
    let log = lab.path().join("hooks.log");
    let h = hook(lab.path(), "hook.sh", &log);
    // The start hook is a path inside the container.
    hook(&lab.rootfs(&c), "inner.sh", Path::new("/inner.log"));
    lab.configure(&c, &hook_config(&h, "/inner.sh"));
    lab.ok(&["start", "-n", &c]);
    lab.ok(&["stop", "-n", &c, "-k"]);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(words).collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l[0]).collect();
    assert_eq!(
        kinds,
        [
            "pre-start",
            "pre-mount",
            "mount",
            "autodev",
            "start-host",
            "stop",
            "post-stop"
        ],
        "{text}"
    );
    for l in &lines {
        assert_eq!(
            l[1..4],
            ["[".to_string() + &c, "lxc".into(), format!("{}]", l[0])],
            "{text}"
        );
        assert_eq!(l[4], c, "LXC_NAME: {text}");
    }
    assert!(
        lines[2].contains(&"rootfs-seen"),
        "the mount hook sees the rootfs: {text}"
    );
    assert!(
        lines[5].contains(&"net-open"),
        "the stop hook gets the netns: {text}"
    );
    assert!(lines[6].contains(&"stop"), "LXC_TARGET: {text}");
    let inner = std::fs::read_to_string(lab.rootfs(&c).join("inner.log")).unwrap();
    assert_eq!(words(&inner)[0], "start", "{inner}");
    lab.assert_clean(&c);
}

#[test]
fn version_1_passes_no_arguments_and_the_namespaces_as_variables() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("hooks1");
    let log = lab.path().join("hooks1.log");
    let h = hook(lab.path(), "hook1.sh", &log);
    lab.configure(
        &c,
        &format!("lxc.hook.version = 1\nlxc.hook.stop = {}\n", h.display()),
    );
    lab.ok(&["start", "-n", &c]);
    lab.ok(&["stop", "-n", &c, "-k"]);
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(words(&text)[..4], ["stop", "[", "]", c.as_str()], "{text}");
    assert!(text.contains("net-open"), "LXC_NET_NS: {text}");
    lab.assert_clean(&c);
}

#[test]
fn a_failing_hook_fails_the_start_and_leaves_nothing() {
    let Some(lab) = Lab::new() else { return };
    for (kind, at) in [("pre-start", "monitor"), ("mount", "container")] {
        let c = lab.busybox(&format!("hookfail-{kind}"));
        let log = lab.path().join(format!("{kind}.log"));
        let post = hook(lab.path(), &format!("post-{kind}.sh"), &log);
        let bad = lab.path().join(format!("bad-{kind}.sh"));
        std::fs::write(&bad, "echo the disk is locked >&2; exit 3\n").unwrap();
        lab.configure(
            &c,
            &format!(
                "lxc.hook.{kind} = sh {}\nlxc.hook.post-stop = {}\n",
                bad.display(),
                post.display()
            ),
        );
        let err = lab.fails(&["start", "-n", &c], 1);
        let want = format!(
            "lxc.hook.{kind} `sh {}` failed with exit status 3: the disk is locked",
            bad.display()
        );
        assert!(err.contains(&want), "{at}: {err}");
        assert_eq!(lab.state(&c), "STOPPED");
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            words(&text)[0],
            "post-stop",
            "post-stop runs after a failed start: {text}"
        );
        lab.assert_clean(&c);
    }
}

#[test]
fn a_failing_destroy_hook_keeps_the_container() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("hookdestroy");
    lab.configure(&c, "lxc.hook.destroy = false\n");
    let err = lab.fails(&["destroy", "-n", &c], 1);
    assert!(
        err.contains("lxc.hook.destroy `false` failed with exit status 1"),
        "{err}"
    );
    assert!(lab.rootfs(&c).join("bin/busybox").exists());
    let config = Path::new(&lab.lxcpath).join(&c).join("config");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("lxc.hook.destroy = false\n", "lxc.hook.destroy = true\n");
    std::fs::write(&config, text).unwrap();
    lab.ok(&["destroy", "-n", &c]);
    assert!(!Path::new(&lab.lxcpath).join(&c).exists());
}
