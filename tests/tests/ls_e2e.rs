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
    assert_eq!(
        stdout(&fancy),
        "NAME  STATE   AUTOSTART GROUPS IPV4 IPV6 UNPRIVILEGED \n\
         c0001 STOPPED 0         -      -    -    false        \n\
         c0002 STOPPED 0         -      -    -    false        \n"
    );
    let running = rlxc(&["ls", "-1", "-P", lxcpath, "--running"]);
    assert_eq!(stdout(&running), "");
    // Not on a terminal: one name a line, padded to the longest.
    let plain = rlxc(&["ls", "-P", lxcpath, "c000[12]"]);
    assert_eq!(stdout(&plain), "c0001\nc0002\n");
}

/// An lxcpath of `c1` (groups `a b` and `c`, autostart), `c2` (group `a`),
/// `longername` and `priv` (unprivileged).
fn small_lxcpath() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, extra) in [
        ("c1", "lxc.group = a b\nlxc.group = c\nlxc.start.auto = 1\n"),
        ("c2", "lxc.group = a\n"),
        ("longername", ""),
        (
            "priv",
            "lxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n",
        ),
    ] {
        let dir = d.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let config = format!("lxc.uts.name = {name}\n{extra}");
        std::fs::write(dir.join("config"), config).unwrap();
    }
    d
}

/// `rlxc ls -P LXCPATH ARGS…`: (stdout, stderr), after checking it exits 0.
fn ls(lxcpath: &std::path::Path, args: &[&str]) -> (String, String) {
    let mut all = vec!["ls", "-P", lxcpath.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = rlxc(&all);
    assert_eq!(out.status.code(), Some(0), "ls {args:?}: {}", stderr(&out));
    (stdout(&out), stderr(&out))
}

#[test]
fn fancy_output_is_lxcs_byte_for_byte() {
    let d = small_lxcpath();
    let p = d.path();
    // Every cell is `%-*s ` in LXC, so every line ends with a space.
    assert_eq!(
        ls(p, &["-f"]).0,
        "NAME       STATE   AUTOSTART GROUPS  IPV4 IPV6 UNPRIVILEGED \n\
         c1         STOPPED 1         a, b, c -    -    false        \n\
         c2         STOPPED 0         a       -    -    false        \n\
         longername STOPPED 0         -       -    -    false        \n\
         priv       STOPPED 0         -       -    -    true         \n"
    );
    // -F: any case, any order, repeats and empty items allowed.
    assert_eq!(
        ls(p, &["-f", "-F", "pid,name,,NAME", "c2"]).0,
        "PID NAME NAME \n-   c2   c2   \n"
    );
    assert_eq!(
        ls(
            p,
            &["--fancy", "--fancy-format", "RAM,SWAP,INTERFACE", "c2"]
        )
        .0,
        "RAM    SWAP   INTERFACE \n-      -      -         \n"
    );
    assert_eq!(ls(p, &["-f", "-F", "", "c"]).0, "\n\n\n");
    // -f wins over -1.
    assert!(ls(p, &["-1", "-f"]).0.starts_with("NAME "));
    // A bad key: LXC's message on stderr, nothing on stdout, exit 0; and no
    // check at all when no container is listed.
    let (out, err) = ls(p, &["-f", "-F", "NAME,BOGUS"]);
    assert_eq!((out.as_str(), err.as_str()), ("", "Invalid key: BOGUS\n"));
    assert_eq!(
        ls(p, &["-f", "-F", "BOGUS", "nomatch"]),
        (String::new(), String::new())
    );
    // No container, no header.
    assert_eq!(ls(p, &["-f", "nomatch"]).0, "");
    assert_eq!(ls(&p.join("missing"), &["-f"]).0, "");
}

#[test]
fn plain_listing_and_filters() {
    let d = small_lxcpath();
    let p = d.path();
    let plain = "c1        \nc2        \nlongername\npriv      \n";
    assert_eq!(ls(p, &[]).0, plain);
    // -F means nothing without -f.
    assert_eq!(ls(p, &["-F", "NAME,STATE"]).0, plain);
    assert_eq!(ls(p, &["-F", "BOGUS"]), (plain.to_string(), String::new()));
    assert_eq!(ls(p, &["-1", "c"]).0, "c1\nc2\n");
    // Filters are ANDed: a container is never both running and stopped.
    assert_eq!(ls(p, &["--running", "--stopped"]).0, "");
    assert_eq!(ls(p, &["-1", "--stopped", "--filter", "^c"]).0, "c1\nc2\n");
    // --filter wins over the positional filter; an invalid regex lists nothing.
    assert_eq!(ls(p, &["-1", "--filter", "priv", "c1"]).0, "priv\n");
    assert_eq!(ls(p, &["-1", "c1("]), (String::new(), String::new()));
    // -g needs every group; `lxc.group = a b` is two groups.
    assert_eq!(ls(p, &["-1", "-g", "a,b"]).0, "c1\n");
    assert_eq!(ls(p, &["-1", "-g", " a , c "]).0, "c1\n");
    assert_eq!(ls(p, &["-1", "-g", "a"]).0, "c1\nc2\n");
    assert_eq!(ls(p, &["-g", "a,b"]).0, "c1  \n");
    assert_eq!(ls(p, &["-f", "-F", "NAME", "-g", "b"]).0, "NAME \nc1   \n");
    // Given twice, an option keeps its last value (LXC's getopt).
    assert_eq!(ls(p, &["-1", "-g", "c", "-g", "a", "-1"]).0, "c1\nc2\n");
}

#[test]
fn running_containers_in_the_table() {
    let Some(lab) = rlxc_tests::Lab::new() else {
        return;
    };
    let up = lab.busybox("up");
    let down = lab.busybox("down");
    lab.ok(&["start", "-n", &up]);
    let pid = lab.pid(&up).to_string();
    let ls = |args: &[&str]| {
        let mut all = vec!["ls"];
        all.extend_from_slice(args);
        lab.ok(&all)
    };
    let w = up.len().max(down.len());

    // RAM: `%*.2fMB ` when running, `-` and three spaces when stopped.
    let t = ls(&["-f", "-F", "NAME,STATE,PID,RAM"]);
    let lines: Vec<&str> = t.split_inclusive('\n').collect();
    assert_eq!(lines.len(), 3, "{t}");
    // Names sort bytewise: `t<pid>-down` first.
    let (stopped, running) = (lines[1], lines[2]);
    let ram_w = running.trim_end().rsplit(' ').next().unwrap().len() - 2;
    let ram_header = format!("{:<width$} ", "RAM", width = ram_w + 2);
    assert_eq!(
        lines[0],
        format!(
            "{:<w$} STATE   {:<pw$} {ram_header}\n",
            "NAME",
            "PID",
            pw = pid.len()
        )
    );
    assert!(
        running.starts_with(&format!("{up:<w$} RUNNING {pid} ")),
        "{running:?}"
    );
    assert!(running.ends_with("MB \n"), "{running:?}");
    let mib = running.trim_end().rsplit(' ').next().unwrap();
    assert!(
        mib.trim_end_matches("MB").parse::<f64>().unwrap() > 0.0,
        "{mib}"
    );
    assert!(
        stopped.ends_with(&format!(
            "STOPPED {:<pw$} {:<ram_w$}   \n",
            "-",
            "-",
            pw = pid.len()
        )),
        "{stopped:?}"
    );
    // An empty network: only lo, and no address (lo's are not listed).
    let net = ls(&["-f", "-F", "INTERFACE,IPV4,IPV6", &up]);
    assert_eq!(net, "INTERFACE IPV4 IPV6 \nlo        -    -    \n");

    // --running lists FROZEN too; filters are ANDed.
    assert_eq!(ls(&["-1", "--running"]), format!("{up}\n"));
    assert_eq!(ls(&["-1", "--active"]), format!("{up}\n"));
    assert_eq!(ls(&["-1", "--stopped"]), format!("{down}\n"));
    assert_eq!(ls(&["--running", "--stopped"]), "");
    lab.ok(&["freeze", "-n", &up]);
    assert_eq!(ls(&["-1", "--running", "--frozen"]), format!("{up}\n"));
    let frozen = ls(&["-f", "-F", "STATE,RAM", &up]);
    assert!(frozen.starts_with("STATE  RAM"), "{frozen}");
    assert!(
        frozen.contains("\nFROZEN ") && frozen.ends_with("MB \n"),
        "{frozen}"
    );
    lab.ok(&["unfreeze", "-n", &up]);

    lab.ok(&["stop", "-n", &up, "-k"]);
    assert_eq!(ls(&["-1", "--running"]), "");
    lab.assert_clean(&up);
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
