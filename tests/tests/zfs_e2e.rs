//! The zfs backend against real ZFS: a zfs-fuse pool on a file, made by the
//! test (and zfs-fuse started when it is not running), destroyed at the
//! end. A container is a dataset; `copy -s` a snapshot and a clone that the
//! origin's destroy then refuses to break; `snapshot`; copies to and from
//! dir; nothing is left.
//!
//! zfs-fuse mounts datasets from its daemon, in the host's mount namespace:
//! these commands run there (not in the lab's private namespace, which
//! would not see the mounts).

use std::path::Path;

use rlxc_tests::{run, Lab};

/// A pool on a file; zfs-fuse started for it when none runs. Both go on
/// drop, also when the test fails.
struct Pool {
    name: String,
    daemon: Option<std::process::Child>,
}

fn ok(cmd: &mut std::process::Command) -> bool {
    run(cmd).status.success()
}

impl Pool {
    fn new(dir: &Path) -> Option<Pool> {
        if !rlxc_tests::require(
            ok(std::process::Command::new("sh").args(["-c", "command -v zfs-fuse"])),
            "zfs-fuse",
        ) {
            return None;
        }
        let running = ok(std::process::Command::new("pgrep").args(["-x", "zfs-fuse"]));
        let daemon = if running {
            None
        } else {
            let child = std::process::Command::new("zfs-fuse")
                .arg("--no-daemon")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("zfs-fuse");
            Some(child)
        };
        let mut pool = Pool {
            name: format!("rlxct{}", std::process::id()),
            daemon,
        };
        let img = dir.join("pool.img");
        assert!(ok(std::process::Command::new("truncate")
            .args(["-s", "512M"])
            .arg(&img)));
        // The daemon takes a moment to answer.
        let mut made = false;
        for _ in 0..50 {
            if ok(std::process::Command::new("zpool")
                .args(["create", "-o", "cachefile=none", "-m", "none", &pool.name])
                .arg(&img))
            {
                made = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(made, "zpool create on {}", img.display());
        pool.name = pool.name.clone();
        Some(pool)
    }

    fn datasets(&self) -> Vec<String> {
        let o = run(std::process::Command::new("zfs")
            .args(["list", "-H", "-t", "all", "-o", "name", "-r", &self.name]));
        rlxc_tests::stdout(&o).lines().map(str::to_string).collect()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Busy for a moment after its last user when a test failed half-way.
        for _ in 0..30 {
            if ok(std::process::Command::new("zpool").args(["destroy", "-f", &self.name])) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        if let Some(mut d) = self.daemon.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
    }
}

/// `rlxc ARGS` in the host's mount namespace; must succeed.
fn host_ok(lab: &Lab, args: &[&str]) -> String {
    let o = run(&mut lab.cmd_host(args));
    assert!(
        o.status.success(),
        "rlxc {args:?}: {}",
        rlxc_tests::stderr(&o)
    );
    rlxc_tests::stdout(&o)
}

#[test]
fn containers_are_datasets_and_clones_are_zfs_clones() {
    // The pool outlives the lab (dropped after it): the lab's containers go first.
    let pool_dir = tempfile::tempdir().unwrap();
    let Some(pool) = Pool::new(pool_dir.path()) else {
        return;
    };
    let Some(lab) = Lab::new() else { return };
    let lp = Path::new(&lab.lxcpath);
    let z1 = lab.name("z1");
    host_ok(
        &lab,
        &[
            "create",
            "-n",
            &z1,
            "-t",
            "busybox",
            "-B",
            "zfs",
            "--zfsroot",
            &pool.name,
        ],
    );
    let cfg = std::fs::read_to_string(lp.join(&z1).join("config")).unwrap();
    assert!(
        cfg.contains(&format!("lxc.rootfs.path = zfs:{}/{z1}\n", pool.name)),
        "{cfg}"
    );
    assert!(
        lab.rootfs(&z1).join("bin/busybox").is_file(),
        "the dataset is mounted at the rootfs"
    );
    let out = host_ok(&lab, &["execute", "-n", &z1, "--", "sh", "-c", "hostname"]);
    assert_eq!(out, format!("{z1}\n"));
    // A snapshot clone: a zfs snapshot and a clone of it.
    let z2 = lab.name("z2");
    host_ok(&lab, &["copy", "-n", &z1, "-N", &z2, "-s"]);
    let ds = pool.datasets();
    assert!(ds.contains(&format!("{}/{z1}@{z2}", pool.name)), "{ds:?}");
    assert!(ds.contains(&format!("{}/{z2}", pool.name)), "{ds:?}");
    host_ok(&lab, &["execute", "-n", &z2, "--", "touch", "/mine"]);
    assert!(lab.rootfs(&z2).join("mine").exists() && !lab.rootfs(&z1).join("mine").exists());
    // ZFS refuses to destroy the origin of a clone; the error names it.
    let o = run(&mut lab.cmd_host(&["destroy", "-n", &z1]));
    assert_eq!(o.status.code(), Some(1));
    let err = rlxc_tests::stderr(&o);
    assert!(
        err.contains("dependent clones") && err.contains(&z2),
        "{err}"
    );
    assert!(
        lab.rootfs(&z1).join("bin/busybox").is_file(),
        "the origin is whole again"
    );
    // lxc-snapshot on zfs, then the clone goes with its snapshot.
    host_ok(&lab, &["snapshot", "-n", &z2]);
    assert!(pool
        .datasets()
        .contains(&format!("{}/{z2}-snap0", pool.name)));
    host_ok(&lab, &["destroy", "-n", &z2, "-s"]);
    // An ephemeral clone: a zfs clone, destroyed (with its snapshot) when it stops.
    let before = pool.datasets();
    host_ok(
        &lab,
        &[
            "copy",
            "-n",
            &z1,
            "-e",
            "-N",
            &lab.name("zeph"),
            "--",
            "true",
        ],
    );
    assert_eq!(
        pool.datasets(),
        before,
        "the ephemeral clone and its snapshot are gone"
    );
    // zfs → dir and dir → zfs.
    let d = lab.name("zdir");
    host_ok(&lab, &["copy", "-n", &z1, "-N", &d, "-B", "dir"]);
    assert!(lab.rootfs(&d).join("bin/busybox").is_file());
    let back = lab.name("zback");
    host_ok(
        &lab,
        &[
            "copy",
            "-n",
            &d,
            "-N",
            &back,
            "-B",
            "zfs",
            "--zfsroot",
            &pool.name,
        ],
    );
    assert!(lab.rootfs(&back).join("bin/busybox").is_file());
    for n in [&back, &d, &z1] {
        host_ok(&lab, &["destroy", "-n", n]);
    }
    assert_eq!(
        pool.datasets(),
        vec![pool.name.clone()],
        "only the pool is left"
    );
    for n in [&z1, &z2, &d, &back] {
        lab.assert_clean(n);
    }
}
