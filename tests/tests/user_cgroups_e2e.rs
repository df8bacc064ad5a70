//! A user's container in the cgroups delegated to the user: root makes a
//! cgroup of the user's in every hierarchy of this host, as `pam_cgfs` or
//! systemd's `Delegate=yes` do, and starts the user's `rlxc` from inside
//! them. The container's cgroups go below, with its limits; freeze, the
//! `cgroup` command and stop work; device rules are left out with a note.
//! Without a delegated cgroup, a limit is refused by key; `unpriv-start`
//! (lxc-unpriv-start) is the start itself with one, and goes through
//! `systemd-run --user --scope -p Delegate=yes` without.

use std::path::{Path, PathBuf};
use std::process::Command;

use rlxc_tests::{run, stderr, stdout, TestUser};

/// A cgroup of the user's in every hierarchy; removed on drop.
struct Delegated(Vec<PathBuf>);

impl Delegated {
    fn new(u: &TestUser) -> Delegated {
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let roots: Vec<PathBuf> = mounts
            .lines()
            .filter_map(|l| {
                let (pre, post) = l.split_once(" - ")?;
                let fstype = post.split_whitespace().next()?;
                let at = pre.split_whitespace().nth(4)?;
                (fstype == "cgroup" || fstype == "cgroup2").then(|| PathBuf::from(at))
            })
            .collect();
        let mut dirs = Vec::new();
        for r in roots {
            let d = r.join(format!("rlxc-deleg-{}", u.name));
            std::fs::create_dir(&d).unwrap();
            for f in ["cpuset.cpus", "cpuset.mems"] {
                if let Ok(v) = std::fs::read_to_string(r.join(f)) {
                    std::fs::write(d.join(f), v.trim()).unwrap();
                }
            }
            for p in std::iter::once(d.clone()).chain(
                [
                    "cgroup.procs",
                    "tasks",
                    "cgroup.subtree_control",
                    "cgroup.threads",
                ]
                .iter()
                .map(|f| d.join(f))
                .filter(|p| p.exists()),
            ) {
                std::os::unix::fs::chown(&p, Some(u.uid), Some(u.uid)).unwrap();
            }
            dirs.push(d);
        }
        Delegated(dirs)
    }

    /// `rlxc ARGS` as the user, from inside its cgroups.
    fn rlxc(&self, u: &TestUser, args: &[&str]) -> std::process::Output {
        let joins: String = self
            .0
            .iter()
            .map(|d| format!("echo $$ > {}/cgroup.procs && ", d.display()))
            .collect();
        let script = format!("{joins}exec runuser -u {} -- env -i HOME=/home/{} PATH=/usr/sbin:/usr/bin:/sbin:/bin \"$0\" \"$@\"", u.name, u.name);
        run(Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&u.bin)
            .args(args)
            .current_dir(format!("/home/{}", u.name)))
    }
}

impl Drop for Delegated {
    fn drop(&mut self) {
        // After a failed test the container may still run below: its
        // processes are killed and its cgroups removed, deepest first.
        for d in self.0.iter().rev() {
            let mut dirs: Vec<PathBuf> = vec![d.clone()];
            let mut i = 0;
            while i < dirs.len() {
                if let Ok(rd) = std::fs::read_dir(&dirs[i]) {
                    dirs.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
                }
                i += 1;
            }
            let root = d.parent().unwrap().join("cgroup.procs");
            for dir in dirs.iter().rev() {
                if let Ok(p) = std::fs::read_to_string(dir.join("cgroup.procs")) {
                    for pid in p.lines().filter_map(|l| l.parse::<i32>().ok()) {
                        rlxc_tests::kill(pid, 9);
                        let _ = std::fs::write(&root, pid.to_string());
                    }
                }
                for _ in 0..50 {
                    if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        }
    }
}

#[test]
fn a_users_container_gets_its_cgroups_below_the_users_delegated_ones() {
    let have = rlxc_tests::is_root()
        && Path::new("/bin/busybox").exists()
        && Path::new("/usr/bin/newuidmap").exists()
        && Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists();
    if !rlxc_tests::require(
        have,
        "root, busybox, newuidmap (uidmap) and a v1 memory hierarchy",
    ) {
        return;
    }
    let Some(u) = TestUser::new("g") else { return };
    let home = format!("/home/{}", u.name);
    u.default_conf("lxc.net.0.type = empty\n");
    let o = u.rlxc(&[], &["create", "-n", "g1", "-t", "busybox"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let conf = Path::new(&home).join(".local/share/lxc/g1/config");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("lxc.cgroup.memory.limit_in_bytes = 64M\nlxc.cgroup.pids.max = 40\nlxc.cgroup.devices.deny = a\n");
    std::fs::write(&conf, text).unwrap();

    // Without a delegated cgroup: the limit is refused by key.
    let o = u.rlxc(&[], &["start", "-n", "g1"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("lxc.cgroup.memory.limit_in_bytes")
            && stderr(&o).contains("no delegated cgroup"),
        "{}",
        stderr(&o)
    );

    // lxc-unpriv-start without a delegated cgroup: through systemd-run
    // (a stand-in here, which records its command line: this host has no
    // systemd), or, with none, an error that says what to do.
    let o = u.rlxc(&[("PATH", "/nonexistent")], &["unpriv-start", "-n", "g1"]);
    assert!(stderr(&o).contains("no systemd-run"), "{}", stderr(&o));
    let fake = tempfile::tempdir().unwrap();
    let log = fake.path().join("args");
    let sr = fake.path().join("systemd-run");
    std::fs::write(&sr, format!("#!/bin/sh\necho \"$@\" > {}\n", log.display())).unwrap();
    for (p, mode) in [(fake.path(), 0o777), (sr.as_path(), 0o755)] {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    }
    let path = format!("{}:/usr/sbin:/usr/bin:/sbin:/bin", fake.path().display());
    let o = u.rlxc(&[("PATH", &path)], &["unpriv-start", "-n", "g1", "-d"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&log).unwrap().trim(),
        format!(
            "--scope --quiet --user --property=Delegate=yes {} start -n g1 -d",
            u.bin.display()
        )
    );

    let deleg = Delegated::new(&u);
    let ok = |args: &[&str]| {
        let o = deleg.rlxc(&u, args);
        assert!(o.status.success(), "{args:?}: {}{}", stdout(&o), stderr(&o));
        (stdout(&o), stderr(&o))
    };
    // With one, lxc-unpriv-start is the start itself.
    let (_, notes) = ok(&["unpriv-start", "-n", "g1"]);
    assert!(notes.contains("1 device rule(s)"), "{notes}");
    let pid: i32 = ok(&["info", "-n", "g1", "-p", "-H"])
        .0
        .trim()
        .parse()
        .unwrap();
    let mem = deleg
        .0
        .iter()
        .find(|d| d.starts_with("/sys/fs/cgroup/memory"))
        .unwrap();
    let payload = mem.join("rlxc.payload.g1");
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    let want = format!(":memory:/rlxc-deleg-{}/rlxc.payload.g1", u.name);
    assert!(own.lines().any(|l| l.ends_with(&want)), "{own}");
    assert_eq!(
        std::fs::read_to_string(payload.join("memory.limit_in_bytes"))
            .unwrap()
            .trim(),
        "67108864"
    );
    assert_eq!(ok(&["cgroup", "-n", "g1", "pids.max"]).0.trim(), "40");
    assert_eq!(
        ok(&["unpriv-attach", "-n", "g1", "--", "id", "-u"])
            .0
            .trim(),
        "0"
    );
    ok(&["freeze", "-n", "g1"]);
    assert!(ok(&["info", "-n", "g1", "-s"]).0.contains("FROZEN"));
    ok(&["unfreeze", "-n", "g1"]);
    assert!(ok(&["info", "-n", "g1", "-s"]).0.contains("RUNNING"));
    ok(&["stop", "-n", "g1", "-k"]);
    assert!(!payload.exists(), "the container's cgroups go with it");
    ok(&["destroy", "-n", "g1"]);
}
