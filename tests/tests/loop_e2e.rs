//! The loop backend: a filesystem image made by `create -B loop`, filled by
//! the template through a mount in a private namespace, attached to a loop
//! device at start and detached at stop, also after a SIGKILLed monitor;
//! copies in and out of it; no loop device or mount left.

use std::path::{Path, PathBuf};

use rlxc_tests::Lab;

/// The loop devices backed by `image`.
fn attached(image: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir("/sys/block") else {
        return Vec::new();
    };
    rd.flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path().join("loop/backing_file"))
                .is_ok_and(|b| Path::new(b.trim()) == image)
        })
        .map(|e| e.path())
        .collect()
}

fn detached_within(image: &Path, secs: u64) -> bool {
    rlxc_tests::within(secs, || attached(image).is_empty())
}

#[test]
fn an_image_rootfs_is_attached_only_while_it_runs() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.name("loop1");
    lab.ok(&[
        "create", "-n", &c, "-t", "busybox", "-B", "loop", "--fssize", "64M",
    ]);
    let dir = Path::new(&lab.lxcpath).join(&c);
    let image = dir.join("rootdev");
    let cfg = std::fs::read_to_string(dir.join("config")).unwrap();
    assert!(
        cfg.contains(&format!("lxc.rootfs.path = loop:{}\n", image.display())),
        "{cfg}"
    );
    assert_eq!(std::fs::metadata(&image).unwrap().len(), 64 << 20);
    assert!(attached(&image).is_empty(), "not attached while stopped");
    lab.ok(&["start", "-n", &c, "-d"]);
    assert_eq!(attached(&image).len(), 1);
    let out = lab.attach_sh(
        &c,
        "echo kept > /root/f; grep -c '^/dev/loop[0-9]* / ' /proc/mounts",
    );
    assert_eq!(out, "1\n");
    lab.ok(&["stop", "-n", &c, "-k"]);
    assert!(detached_within(&image, 5), "detached at stop");
    // A SIGKILLed monitor: its mount namespace goes, and the device with it.
    lab.ok(&["start", "-n", &c, "-d"]);
    rlxc_tests::kill(rlxc_tests::parent_of(lab.pid(&c)), 9);
    assert!(
        detached_within(&image, 10),
        "detached after the monitor was killed"
    );
    assert_eq!(
        lab.ok(&["execute", "-n", &c, "--", "cat", "/root/f"]),
        "kept\n"
    );
    // Copies out of and into an image.
    let d = lab.name("loopdir");
    lab.ok(&["copy", "-n", &c, "-N", &d, "-B", "dir"]);
    assert_eq!(
        std::fs::read_to_string(lab.rootfs(&d).join("root/f")).unwrap(),
        "kept\n"
    );
    let back = lab.name("loopback");
    lab.ok(&["copy", "-n", &d, "-N", &back, "-B", "loop", "-L", "32M"]);
    assert_eq!(
        lab.ok(&["execute", "-n", &back, "--", "cat", "/root/f"]),
        "kept\n"
    );
    for n in [&back, &d, &c] {
        lab.ok(&["destroy", "-n", n]);
        lab.assert_clean(n);
    }
    assert!(attached(&image).is_empty());
}
