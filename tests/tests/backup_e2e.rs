//! `backup` and `restore` from the built binary: the guide's
//! `rootfs.backup.N` beside the container (one or every container, restore
//! of N or the newest), and the portable archive (`-o FILE`, zstd or gzip by
//! name) restored as a new container on dir or loop, verified by its
//! digest, never over an existing one, and leaving nothing when it fails.

use std::path::Path;

use rlxc_tests::{run, Lab};

#[test]
fn the_guides_backups_sit_beside_the_rootfs_and_come_back() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("bk");
    let other = lab.busybox("bk2");
    let dir = Path::new(&lab.lxcpath).join(&c);
    let v = lab.rootfs(&c).join("root/v");
    std::fs::write(&v, "1").unwrap();
    assert_eq!(
        lab.ok(&["backup", "-n", &c]),
        format!("{c}: rootfs.backup.1\n")
    );
    std::fs::write(&v, "2").unwrap();
    // No name: every container of the lxcpath.
    let all = lab.ok(&["backup"]);
    assert!(
        all.contains(&format!("{c}: rootfs.backup.2\n"))
            && all.contains(&format!("{other}: rootfs.backup.1\n")),
        "{all}"
    );
    std::fs::write(&v, "3").unwrap();
    lab.ok(&["restore", "-n", &c, "1"]);
    assert_eq!(std::fs::read_to_string(&v).unwrap(), "1");
    lab.ok(&["restore", "-n", &c]);
    assert_eq!(
        std::fs::read_to_string(&v).unwrap(),
        "2",
        "the newest by default"
    );
    assert!(
        dir.join("rootfs.backup.1").is_dir() && dir.join("rootfs.backup.2").is_dir(),
        "backups stay"
    );
    let err = lab.fails(&["restore", "-n", &c, "7"], 1);
    assert!(err.contains("no backup 7"), "{err}");
    lab.ok(&["start", "-n", &c, "-d"]);
    let err = lab.fails(&["backup", "-n", &c], 1);
    assert!(err.contains("stop it before you back it up"), "{err}");
    lab.ok(&["stop", "-n", &c, "-k"]);
    assert_eq!(lab.ok(&["execute", "-n", &c, "--", "cat", "/root/v"]), "2");
    lab.assert_clean(&c);
}

#[test]
fn an_archive_restores_as_a_new_container_checked_against_its_digest() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("arch");
    std::fs::write(lab.rootfs(&c).join("root/v"), "kept").unwrap();
    run(std::process::Command::new("truncate")
        .args(["-s", "50M"])
        .arg(lab.rootfs(&c).join("sparse")));
    let lp = Path::new(&lab.lxcpath);
    for (file, backend) in [("c.tar.zst", "dir"), ("c.tar.gz", "loop")] {
        let archive = lab.path().join(file);
        lab.ok(&["backup", "-n", &c, "-o", &archive.display().to_string()]);
        let listed = rlxc_tests::stdout(&run(std::process::Command::new("tar")
            .arg("-tf")
            .arg(&archive)));
        assert!(
            listed.starts_with("rlxc-backup\nconfig\nrootfs/"),
            "{listed}"
        );
        // Never over an existing container.
        let err = lab.fails(&["restore", "-i", &archive.display().to_string()], 1);
        assert!(
            err.contains("a restore never replaces a container"),
            "{err}"
        );
        let new = lab.name(&format!("from-{backend}"));
        lab.ok(&[
            "restore",
            "-i",
            &archive.display().to_string(),
            "-n",
            &new,
            "-B",
            backend,
        ]);
        assert_eq!(
            lab.ok(&[
                "execute",
                "-n",
                &new,
                "--",
                "sh",
                "-c",
                "cat /root/v; hostname"
            ]),
            format!("kept{new}\n")
        );
        let cfg = std::fs::read_to_string(lp.join(&new).join("config")).unwrap();
        assert!(cfg.contains(&format!("lxc.uts.name = {new}\n")), "{cfg}");
        assert!(
            !cfg.contains(&lp.join(&c).display().to_string()),
            "nothing names the origin:\n{cfg}"
        );
        lab.ok(&["destroy", "-n", &new]);
        lab.assert_clean(&new);
    }
    // A damaged archive: refused, nothing left.
    let archive = lab.path().join("bad.tar");
    lab.ok(&["backup", "-n", &c, "-o", &archive.display().to_string()]);
    let len = std::fs::metadata(&archive).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&archive)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let bad = lab.name("bad");
    let err = lab.fails(
        &["restore", "-i", &archive.display().to_string(), "-n", &bad],
        1,
    );
    assert!(err.contains("restore from"), "{err}");
    assert!(!lp.join(&bad).exists());
    let staged: Vec<_> = std::fs::read_dir(lp.join(".rlxc-staging"))
        .map(|r| r.flatten().collect())
        .unwrap_or_default();
    assert!(staged.is_empty(), "{staged:?}");
}
