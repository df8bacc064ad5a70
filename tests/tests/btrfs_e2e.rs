//! The btrfs backend on a real btrfs: a loop-mounted image made by the test
//! (mkfs.btrfs from btrfs-progs), unmounted and removed at the end. A
//! container created on it gets a subvolume without `-B`; `copy -s` and a
//! plain `copy` are snapshots; a copy from a dir container is a real
//! subvolume; destroy removes nested subvolumes; nothing is left.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rlxc_tests::{run, Lab, LoopBtrfs};

/// `(subvolume root?)` of a path: inode 256 on btrfs.
fn is_subvolume(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.ino() == 256)
}

fn rootfs_path(lp: &Path, name: &str) -> String {
    let cfg = std::fs::read_to_string(lp.join(name).join("config")).unwrap();
    cfg.lines()
        .find_map(|l| l.strip_prefix("lxc.rootfs.path = "))
        .unwrap()
        .to_string()
}

#[test]
fn containers_on_btrfs_are_subvolumes_and_clones_are_snapshots() {
    let Some(lab) = Lab::new() else { return };
    let Some(fs) = LoopBtrfs::new(lab.path(), "256M") else {
        return;
    };
    let lp = fs.mnt.join("lxc");
    std::fs::create_dir(&lp).unwrap();
    let at = |args: &[&str]| {
        let o = run(&mut lab.cmd_at(&lp, args));
        assert!(o.status.success(), "{args:?}: {}", rlxc_tests::stderr(&o));
        rlxc_tests::stdout(&o)
    };
    let b1 = lab.name("b1");
    at(&["create", "-n", &b1, "-t", "busybox"]);
    assert_eq!(
        rootfs_path(&lp, &b1),
        format!("btrfs:{}", lp.join(&b1).join("rootfs").display())
    );
    assert!(
        is_subvolume(&lp.join(&b1).join("rootfs")),
        "a subvolume without -B"
    );
    // The guide's backup: a subvolume snapshot beside the rootfs, and back.
    at(&["backup", "-n", &b1]);
    assert!(
        is_subvolume(&lp.join(&b1).join("rootfs.backup.1")),
        "the backup is a subvolume"
    );
    std::fs::write(lp.join(&b1).join("rootfs/after"), "x").unwrap();
    at(&["restore", "-n", &b1]);
    assert!(!lp.join(&b1).join("rootfs/after").exists());
    assert!(
        is_subvolume(&lp.join(&b1).join("rootfs")),
        "still a subvolume"
    );
    // `snapshot` takes a native one.
    at(&["snapshot", "-n", &b1]);
    assert!(
        is_subvolume(&lp.join(&b1).join("snaps/snap0/rootfs")),
        "snap0 is a subvolume"
    );
    // A snapshot, and a plain copy (a snapshot too, as in LXC); each writes its own.
    let (s, c) = (lab.name("b1snap"), lab.name("b1copy"));
    at(&["copy", "-n", &b1, "-N", &s, "-s"]);
    at(&["copy", "-n", &b1, "-N", &c]);
    for n in [&s, &c] {
        assert_eq!(
            rootfs_path(&lp, n),
            format!("btrfs:{}", lp.join(n).join("rootfs").display())
        );
        assert!(is_subvolume(&lp.join(n).join("rootfs")), "{n}");
    }
    assert!(
        !lp.join(&b1).join("lxc_snapshots").exists(),
        "btrfs snapshots do not depend on the origin"
    );
    let out = at(&[
        "execute",
        "-n",
        &s,
        "--",
        "sh",
        "-c",
        "echo mine > /note; cat /note",
    ]);
    assert_eq!(out, "mine\n");
    assert!(!lp.join(&b1).join("rootfs/note").exists());
    // The origin can go first (with its snapshots): a snapshot owns its data.
    at(&["destroy", "-n", &b1, "-s"]);
    // Nested subvolumes, deleted bottom-up.
    let nested = lp.join(&s).join("rootfs/var/nested");
    for p in [nested.clone(), nested.join("deeper")] {
        let o = run(std::process::Command::new("btrfs")
            .args(["subvolume", "create"])
            .arg(&p));
        assert!(o.status.success(), "{}", rlxc_tests::stderr(&o));
    }
    at(&["destroy", "-n", &s]);
    assert!(!lp.join(&s).exists());
    // From a dir container (the lab's lxcpath) to btrfs: a real subvolume.
    let d = lab.busybox("fromdir");
    let on = lab.name("ondisk");
    lab.ok(&[
        "copy",
        "-n",
        &d,
        "-N",
        &on,
        "-p",
        &lp.display().to_string(),
        "-B",
        "btrfs",
    ]);
    assert!(is_subvolume(&lp.join(&on).join("rootfs")));
    assert!(lp.join(&on).join("rootfs/bin/busybox").is_file());
    at(&["destroy", "-n", &on]);
    at(&["destroy", "-n", &c]);
    let list = run(std::process::Command::new("btrfs")
        .args(["subvolume", "list"])
        .arg(&fs.mnt));
    assert_eq!(rlxc_tests::stdout(&list), "", "no subvolume left");
    // -B btrfs where the lxcpath is not on btrfs: a clear error, nothing made.
    let err = lab.fails(
        &[
            "create",
            "-n",
            &lab.name("notbtrfs"),
            "-t",
            "busybox",
            "-B",
            "btrfs",
        ],
        1,
    );
    assert!(err.contains("is not on a btrfs filesystem"), "{err}");
    for n in [&b1, &s, &c, &on] {
        lab.assert_clean(n);
    }
}
