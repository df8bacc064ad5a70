//! A user's clones of its own mapped container, made and run by that user
//! (a throwaway one with subordinate ranges): a snapshot clone (an overlay,
//! mounted in the container's user namespace) that starts, renames itself
//! and changes files without touching the origin; a full copy, which only
//! the container's root may read, that starts; an ephemeral clone that runs
//! a command and is gone after; a snapshot restored as a new container;
//! everything destroyed by the user.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rlxc_tests::{stderr, stdout, TestUser};

#[test]
fn a_user_snapshots_copies_and_runs_clones_of_its_container() {
    let Some(u) = TestUser::for_containers("c", "lxc.net.0.type = empty\n") else {
        return;
    };
    let home = format!("/home/{}", u.name);
    let ok = |args: &[&str]| {
        let o = u.rlxc(&[], args);
        assert!(o.status.success(), "{args:?}: {}{}", stdout(&o), stderr(&o));
        stdout(&o)
    };
    let lxc = Path::new(&home).join(".local/share/lxc");
    ok(&["create", "-n", "o1", "-t", "busybox"]);

    // A snapshot clone: an overlay whose delta the container's root owns.
    ok(&["copy", "-n", "o1", "-N", "s1", "-s"]);
    let s1 = std::fs::read_to_string(lxc.join("s1/config")).unwrap();
    assert!(s1.contains("lxc.rootfs.path = overlay:"), "{s1}");
    let delta = lxc.join("s1/overlay/delta");
    assert_eq!(std::fs::metadata(&delta).unwrap().uid(), u.sub);
    ok(&["start", "-n", "s1"]);
    let inside = ok(&[
        "attach", "-n", "s1", "--", "sh", "-c",
        "hostname; id -u; echo hi > /root/new; rm /etc/fstab; rm -r /etc/init.d; mkdir /etc/init.d; ls -A /etc/init.d | wc -l",
    ]);
    assert_eq!(
        inside.split_whitespace().collect::<Vec<_>>(),
        ["s1", "0", "0"],
        "{inside}"
    );
    ok(&["stop", "-n", "s1", "-k"]);
    // The changes are the clone's, with the container root's ids; the
    // origin is as it was.
    assert_eq!(
        std::fs::metadata(delta.join("root/new")).unwrap().uid(),
        u.sub
    );
    let o1 = lxc.join("o1/rootfs");
    assert!(!o1.join("root/new").exists());
    assert!(o1.join("etc/fstab").exists() && o1.join("etc/init.d/rcS").exists());
    // It starts again with its changes (the whiteouts and the opaque
    // directory held).
    ok(&["start", "-n", "s1"]);
    let again = ok(&[
        "attach",
        "-n",
        "s1",
        "--",
        "sh",
        "-c",
        "cat /root/new; test -e /etc/fstab || echo gone; ls -A /etc/init.d | wc -l",
    ]);
    assert_eq!(
        again.split_whitespace().collect::<Vec<_>>(),
        ["hi", "gone", "0"],
        "{again}"
    );
    ok(&["stop", "-n", "s1", "-k"]);
    let refused = u.rlxc(&[], &["destroy", "-n", "o1"]);
    assert!(stderr(&refused).contains("s1"), "{}", stderr(&refused));

    // A full copy: read and written as the container's root.
    ok(&["copy", "-n", "o1", "-N", "f1"]);
    let f1 = lxc.join("f1/rootfs");
    let m = std::fs::symlink_metadata(f1.join("etc/shadow")).unwrap();
    assert_eq!((m.uid(), m.mode() & 0o777), (u.sub, 0o600));
    ok(&["start", "-n", "f1"]);
    assert_eq!(ok(&["attach", "-n", "f1", "--", "hostname"]).trim(), "f1");
    ok(&["stop", "-n", "f1", "-k"]);

    // An ephemeral clone with a command: its answer, then it is gone.
    let out = ok(&["copy", "-e", "-n", "o1", "-N", "e1", "--", "hostname"]);
    assert_eq!(out.trim(), "e1");
    assert!(!lxc.join("e1").exists(), "the ephemeral clone is gone");
    let t = u.rlxc(
        &[],
        &["copy", "-e", "-t", "-n", "o1", "-N", "e2", "--", "true"],
    );
    assert!(stderr(&t).contains("leave -t out"), "{}", stderr(&t));
    assert!(!lxc.join("e2").exists());

    // A snapshot of the container's own, restored as a new container.
    ok(&["snapshot", "-n", "o1"]);
    assert!(ok(&["snapshot", "-n", "o1", "-L"]).starts_with("snap0 "));
    ok(&["snapshot", "-n", "o1", "-r", "snap0", "-N", "r1"]);
    ok(&["start", "-n", "r1"]);
    assert_eq!(ok(&["attach", "-n", "r1", "--", "hostname"]).trim(), "r1");
    ok(&["stop", "-n", "r1", "-k"]);
    ok(&["snapshot", "-n", "o1", "-d", "snap0"]);

    // A backup beside the rootfs, restored over changes; destroy takes it too.
    assert!(ok(&["backup", "-n", "o1"]).contains("rootfs.backup.1"));
    assert_eq!(
        std::fs::metadata(lxc.join("o1/rootfs.backup.1/etc/shadow"))
            .unwrap()
            .uid(),
        u.sub
    );
    let marker = o1.join("etc/marker");
    std::fs::write(&marker, "x").unwrap();
    ok(&["restore", "-n", "o1"]);
    assert!(!marker.exists(), "restored over the change");
    let o = u.rlxc(&[], &["backup", "-n", "o1", "-o", "/tmp/never.tar"]);
    assert!(
        stderr(&o).contains("backup -o needs root"),
        "{}",
        stderr(&o)
    );

    for c in ["s1", "f1", "r1", "o1"] {
        ok(&["destroy", "-n", c]);
    }
    let left: Vec<_> = std::fs::read_dir(&lxc)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".rlxc-staging")
        .collect();
    assert!(left.is_empty(), "left: {left:?}");
}
