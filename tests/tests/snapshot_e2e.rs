//! `snapshot` from the built binary, laid out and printed as LXC's
//! lxc-snapshot: `snaps/snapN` with `ts` and `comment`, `-L [-C]`, restore
//! over the container (its snapshots kept) and as a new one, `-d`, and
//! destroy refusing a container with snapshots unless `-s`.

use std::path::Path;

use rlxc_tests::Lab;

#[test]
fn snapshots_are_taken_listed_restored_and_destroyed_as_lxc_does() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("snapme");
    let lp = Path::new(&lab.lxcpath);
    let snaps = lp.join(&c).join("snaps");
    assert_eq!(lab.ok(&["snapshot", "-n", &c, "-L"]), "No snapshots\n");
    let comment = lab.path().join("comment");
    std::fs::write(&comment, "before the upgrade\n").unwrap();
    lab.ok(&["snapshot", "-n", &c, "-c", &comment.display().to_string()]);
    std::fs::write(lab.rootfs(&c).join("root/v"), "2").unwrap();
    lab.ok(&["snapshot", "-n", &c]);
    let ts = std::fs::read_to_string(snaps.join("snap0/ts")).unwrap();
    assert_eq!(
        ts.len(),
        19,
        "YYYY:MM:DD HH:MM:SS without a newline: {ts:?}"
    );
    assert_eq!(&ts[4..5], ":");
    let list = lab.ok(&["snapshot", "-n", &c, "-L"]);
    let want = |n: &str| {
        let ts = std::fs::read_to_string(snaps.join(n).join("ts")).unwrap();
        format!("{n} ({}) {ts}\n", snaps.display())
    };
    assert_eq!(list, format!("{}{}", want("snap0"), want("snap1")));
    let with = lab.ok(&["snapshot", "-n", &c, "-L", "-C"]);
    assert_eq!(
        with,
        format!("{}before the upgrade\n{}", want("snap0"), want("snap1"))
    );
    // A snapshot is a container of the snaps lxcpath, keeping the name.
    let cfg = std::fs::read_to_string(snaps.join("snap0/config")).unwrap();
    assert!(
        cfg.contains(&format!(
            "lxc.rootfs.path = dir:{}\n",
            snaps.join("snap0/rootfs").display()
        )),
        "{cfg}"
    );
    assert!(cfg.contains(&format!("lxc.uts.name = {c}\n")), "{cfg}");
    // Restored over the container: snap0 had no /root/v; the snapshots stay.
    lab.ok(&["snapshot", "-n", &c, "-r", "snap0"]);
    assert!(!lab.rootfs(&c).join("root/v").exists());
    assert!(snaps.join("snap1/rootfs/root/v").is_file());
    let out = lab.ok(&["execute", "-n", &c, "--", "sh", "-c", "ls /root; hostname"]);
    assert_eq!(out, format!("{c}\n"));
    // Restored as another container (the positional form too).
    let other = lab.name("fromsnap");
    lab.ok(&["snapshot", "-n", &c, "-r", "snap1", &other]);
    assert_eq!(
        std::fs::read_to_string(lab.rootfs(&other).join("root/v")).unwrap(),
        "2"
    );
    let ocfg = std::fs::read_to_string(lp.join(&other).join("config")).unwrap();
    assert!(
        ocfg.contains(&format!("lxc.uts.name = {other}\n")),
        "{ocfg}"
    );
    // Destroy: refused with snapshots, -d one, -s the rest.
    let err = lab.fails(&["destroy", "-n", &c], 1);
    assert!(err.contains("it has snapshots (snap0, snap1)"), "{err}");
    lab.ok(&["snapshot", "-n", &c, "-d", "snap0"]);
    assert_eq!(lab.ok(&["snapshot", "-n", &c, "-L"]), want("snap1"));
    let err = lab.fails(&["snapshot", "-n", &c, "-r", "snap7"], 1);
    assert!(err.contains("no snapshot `snap7`"), "{err}");
    lab.ok(&["destroy", "-n", &c, "-s"]);
    assert!(!lp.join(&c).exists());
    lab.ok(&["destroy", "-n", &other]);
    let staged: Vec<_> = std::fs::read_dir(lp.join(".rlxc-staging"))
        .map(|r| r.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(staged.is_empty(), "{staged:?}");
    lab.assert_clean(&c);
}

#[test]
fn a_snapshot_of_an_overlay_clone_is_an_overlay_and_restores() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("ovorig");
    let clone = lab.name("ovclone");
    lab.ok(&["copy", "-n", &c, "-N", &clone, "-s"]);
    let lp = Path::new(&lab.lxcpath);
    std::fs::write(lp.join(&clone).join("overlay/delta/marker"), "1").unwrap();
    lab.ok(&["snapshot", "-n", &clone]);
    let snap = lp.join(&clone).join("snaps/snap0");
    let cfg = std::fs::read_to_string(snap.join("config")).unwrap();
    assert!(
        cfg.contains(&format!(
            "lxc.rootfs.path = overlay:{}:{}\n",
            lab.rootfs(&c).display(),
            snap.join("overlay/delta").display()
        )),
        "{cfg}"
    );
    assert!(
        snap.join("overlay/delta/marker").is_file(),
        "the delta was copied"
    );
    // Its own snapshot is no clone of the origin's rootfs in LXC's books.
    let pairs = std::fs::read_to_string(lp.join(&c).join("lxc_snapshots")).unwrap();
    assert_eq!(pairs, format!("{}\n{clone}\n", lp.display()));
    std::fs::remove_file(lp.join(&clone).join("overlay/delta/marker")).unwrap();
    lab.ok(&["snapshot", "-n", &clone, "-r", "snap0"]);
    assert!(lp.join(&clone).join("overlay/delta/marker").is_file());
    lab.ok(&["execute", "-n", &clone, "--", "cat", "/marker"]);
    lab.ok(&["destroy", "-n", &c, "-s"]);
    assert!(!lp.join(&clone).exists() && !lp.join(&c).exists());
    lab.assert_clean(&clone);
}
