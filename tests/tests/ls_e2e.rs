//! `rlxc ls` and the lxc-* names, from the built binary.

use rlxc_tests::{rlxc, rlxc_bin, run, stderr, stdout};

fn make_containers(root: &std::path::Path, n: usize) {
    for i in 0..n {
        let dir = root.join(format!("c{i:04}"));
        std::fs::create_dir_all(&dir).unwrap();
        let extra = if i % 10 == 0 {
            "lxc.start.auto = 1\nlxc.group = onboot\n"
        } else {
            ""
        };
        std::fs::write(dir.join("config"), format!("lxc.uts.name = c{i}\n{extra}")).unwrap();
    }
}

#[test]
fn lists_a_thousand_containers() {
    let d = tempfile::tempdir().unwrap();
    make_containers(d.path(), 1000);
    std::fs::create_dir(d.path().join("not-a-container")).unwrap();
    let lxcpath = d.path().to_str().unwrap();
    let out = rlxc(&["ls", "-1", "-P", lxcpath]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let names: Vec<&str> = text.lines().collect();
    assert_eq!(text.lines().count(), 1000);
    assert_eq!(text.lines().next(), Some("c0000"));
    assert!(!names.contains(&"not-a-container"));
    let json = rlxc(&["ls", "-P", lxcpath, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1000);
    assert_eq!(v[0]["state"], "STOPPED");
    assert_eq!(v[0]["autostart"], true);
    let group = rlxc(&["ls", "-1", "-P", lxcpath, "-g", "onboot"]);
    assert_eq!(stdout(&group).lines().count(), 100);
    let fancy = rlxc(&["ls", "-P", lxcpath, "--fancy", "c000[12]"]);
    let t = stdout(&fancy);
    assert!(
        t.starts_with("NAME  STATE   AUTOSTART GROUPS IPV4 IPV6 UNPRIVILEGED\n"),
        "{t}"
    );
    assert_eq!(t.lines().count(), 3);
    let running = rlxc(&["ls", "-1", "-P", lxcpath, "--running"]);
    assert_eq!(stdout(&running), "");
}

#[test]
fn lxc_names_through_symlinks() {
    let d = tempfile::tempdir().unwrap();
    let bin = d.path().join("bin");
    let out = rlxc(&["install-links", bin.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(bin.join("lxc-ls").exists());
    assert!(bin.join("lxc-update-config").exists());
    let lxcpath = d.path().join("lxc");
    make_containers(&lxcpath, 3);
    let via_link = run(std::process::Command::new(bin.join("lxc-ls")).args([
        "-1",
        "-P",
        lxcpath.to_str().unwrap(),
    ]));
    let direct = rlxc(&["ls", "-1", "-P", lxcpath.to_str().unwrap()]);
    assert!(via_link.status.success(), "{}", stderr(&via_link));
    assert_eq!(via_link.stdout, direct.stdout);
    let version = run(&mut std::process::Command::new(bin.join("lxc-version")));
    assert!(stdout(&version).starts_with("rlxc "));
    // A name this build has no command for says so.
    std::os::unix::fs::symlink(rlxc_bin(), d.path().join("lxc-top")).unwrap();
    let top = run(&mut std::process::Command::new(d.path().join("lxc-top")));
    assert_eq!(top.status.code(), Some(1));
    assert!(stderr(&top).contains("not implemented"), "{}", stderr(&top));
}

#[test]
fn checkconfig_reports_this_kernel() {
    let out = rlxc(&["checkconfig", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    for n in [
        "mount",
        "pid",
        "network",
        "cgroup filesystem",
        "veth",
        "bridge",
        "macvlan",
        "vlan",
        "overlay",
        "btrfs",
        "seccomp",
        "apparmor",
    ] {
        assert!(names.contains(&n), "{n} not reported");
    }
}

#[test]
fn bad_names_and_unknown_backends_are_clear() {
    let out = rlxc(&["config", "check", "-n", "../etc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid container name `../etc`"),
        "{}",
        stderr(&out)
    );
    let b = rlxc(&["backends", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&b.stdout).unwrap();
    assert!(v.as_array().unwrap().iter().any(|e| e["name"] == "zfs"));
}
