//! `copy` / `clone` from the built binary: a full dir copy that keeps every
//! kind of file and rewrites the config, runs `lxc.hook.clone` and the new
//! hostname; overlay snapshot clones that start, write only their delta and
//! keep LXC's `lxc_snapshots` / `lxc_rdepends` exact; destroy refusing to
//! break clones and `-s` taking them along; a failing clone hook leaving
//! nothing.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rlxc_tests::{run, Lab};

/// Path, type, mode, owner, size, link count and target of every entry.
fn listing(root: &Path) -> String {
    let o = run(std::process::Command::new("find")
        .arg(".")
        .args(["-printf", "%p %y %m %u:%g %s %n %l %T@\\n"])
        .current_dir(root));
    let text = rlxc_tests::stdout(&o);
    let mut v: Vec<&str> = text.lines().map(str::trim).collect::<Vec<_>>();
    v.sort_unstable();
    v.join("\n")
}

#[test]
fn a_copy_keeps_every_file_and_rewrites_what_names_the_origin() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("cporig");
    let root = lab.rootfs(&c);
    let dir = root.parent().unwrap().to_path_buf();
    std::fs::write(root.join("etc/hostname"), format!("{c}\n")).unwrap();
    std::fs::write(root.join("bin/suid"), "x").unwrap();
    run(std::process::Command::new("chown")
        .args(["1000:1000"])
        .arg(root.join("bin/suid")));
    run(std::process::Command::new("chmod")
        .args(["4755"])
        .arg(root.join("bin/suid")));
    std::fs::hard_link(root.join("bin/suid"), root.join("bin/suid2")).unwrap();
    run(std::process::Command::new("mknod")
        .arg(root.join("dev/null2"))
        .args(["c", "1", "3"]));
    run(std::process::Command::new("mkfifo").arg(root.join("tmp/fifo")));
    run(std::process::Command::new("truncate")
        .args(["-s", "100M"])
        .arg(root.join("sparse")));
    run(std::process::Command::new("setfattr")
        .args(["-n", "user.kept", "-v", "yes"])
        .arg(root.join("etc/passwd")));
    std::fs::write(
        dir.join("clone-hook"),
        "#!/bin/sh\necho \"$LXC_SRC_NAME $LXC_NAME $*\" > \"$LXC_ROOTFS_MOUNT/cloned\"\n",
    )
    .unwrap();
    run(std::process::Command::new("chmod")
        .arg("755")
        .arg(dir.join("clone-hook")));
    lab.configure(
        &c,
        &format!(
            "lxc.hook.version = 0\nlxc.hook.clone = {0}/clone-hook\n\
             lxc.mount.entry = tmpfs {0}/rootfs/mnt tmpfs defaults 0 0\n\
             lxc.net.0.hwaddr = 00:16:3e:12:34:56\n",
            dir.display()
        ),
    );
    let before = listing(&root);
    let new = lab.name("cpnew");
    lab.ok(&["copy", "-n", &c, "-N", &new, "--", "extra"]);
    let nroot = lab.rootfs(&new);
    let ndir = nroot.parent().unwrap();
    // The hook wrote `cloned`, and the hostname changed: the rest is equal.
    let copied: String = listing(&nroot)
        .lines()
        .filter(|l| {
            !l.starts_with("./cloned ")
                && !l.starts_with("./etc ")
                && !l.starts_with("./etc/hostname ")
                && l != &". d 755 root:root 4096 2 "
        })
        .filter(|l| !l.starts_with(". d"))
        .collect::<Vec<_>>()
        .join("\n");
    let orig: String = before
        .lines()
        .filter(|l| {
            !l.starts_with("./etc ") && !l.starts_with("./etc/hostname ") && !l.starts_with(". d")
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(copied, orig, "the copied tree");
    let (a, b) = (
        std::fs::metadata(nroot.join("bin/suid")).unwrap(),
        std::fs::metadata(nroot.join("bin/suid2")).unwrap(),
    );
    assert_eq!(a.ino(), b.ino(), "hard links stay links");
    assert!(
        std::fs::metadata(nroot.join("sparse")).unwrap().blocks() < 64,
        "holes stay holes"
    );
    let xattr = run(std::process::Command::new("getfattr")
        .args(["--only-values", "-n", "user.kept"])
        .arg(nroot.join("etc/passwd")));
    assert_eq!(rlxc_tests::stdout(&xattr), "yes");
    assert_eq!(
        std::fs::read_to_string(nroot.join("etc/hostname")).unwrap(),
        format!("{new}\n")
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/hostname")).unwrap(),
        format!("{c}\n")
    );
    assert_eq!(
        std::fs::read_to_string(nroot.join("cloned")).unwrap(),
        format!("{c} {new} {new} lxc clone extra\n")
    );
    let cfg = std::fs::read_to_string(ndir.join("config")).unwrap();
    for want in [
        format!("lxc.rootfs.path = dir:{}\n", nroot.display()),
        format!("lxc.uts.name = {new}\n"),
        format!("lxc.hook.clone = {}/clone-hook\n", ndir.display()),
        format!(
            "lxc.mount.entry = tmpfs {}/rootfs/mnt tmpfs",
            ndir.display()
        ),
        "lxc.net.0.hwaddr = 00:16:3e:".into(),
    ] {
        assert!(cfg.contains(&want), "{want} in\n{cfg}");
    }
    assert!(!cfg.contains("00:16:3e:12:34:56"), "a new MAC:\n{cfg}");
    assert!(
        !cfg.contains(&dir.display().to_string()),
        "nothing names the origin:\n{cfg}"
    );
    assert!(ndir.join("clone-hook").is_file());
    // The copy runs, with its mount entry inside its own rootfs.
    let out = lab.ok(&[
        "execute",
        "-n",
        &new,
        "--",
        "sh",
        "-c",
        "hostname; grep -c ' /mnt tmpfs' /proc/mounts",
    ]);
    assert_eq!(out, format!("{new}\n1\n"));
    // -K and -M keep the name and the MAC; the guide's `clone` form.
    let kept = lab.name("cpkept");
    // (The lab adds `-P LXCPATH`, which is lxc-clone's new lxcpath; `-p` its origin's.)
    lab.ok(&[
        "clone",
        "-p",
        &lab.lxcpath,
        "-o",
        &c,
        "-n",
        &kept,
        "-K",
        "-M",
    ]);
    let kcfg = std::fs::read_to_string(Path::new(&lab.lxcpath).join(&kept).join("config")).unwrap();
    assert!(
        kcfg.contains(&format!("lxc.uts.name = {c}\n")) && kcfg.contains("00:16:3e:12:34:56"),
        "{kcfg}"
    );
    // -R renames: a copy with the same MACs under the new name, the old one gone.
    let renamed = lab.name("cprenamed");
    lab.ok(&["copy", "-n", &kept, "-N", &renamed, "-R"]);
    assert!(!Path::new(&lab.lxcpath).join(&kept).exists());
    let rcfg =
        std::fs::read_to_string(Path::new(&lab.lxcpath).join(&renamed).join("config")).unwrap();
    assert!(
        rcfg.contains("00:16:3e:12:34:56") && rcfg.contains(&format!("lxc.uts.name = {renamed}\n")),
        "{rcfg}"
    );
    // An existing name is refused, and nothing of the origin changes.
    let err = lab.fails(&["copy", "-n", &c, "-N", &new], 1);
    assert!(err.contains("already exists"), "{err}");
    lab.assert_clean(&new);
}

#[test]
fn snapshot_clones_are_overlays_with_lxcs_dependency_files() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("snaporig");
    let lp = Path::new(&lab.lxcpath);
    let (s1, s2) = (lab.name("snap1"), lab.name("snap2"));
    lab.ok(&["copy", "-n", &c, "-N", &s1, "-s"]);
    let cfg = std::fs::read_to_string(lp.join(&s1).join("config")).unwrap();
    assert!(
        cfg.contains(&format!(
            "lxc.rootfs.path = overlay:{}:{}\n",
            lab.rootfs(&c).display(),
            lp.join(&s1).join("overlay/delta").display()
        )),
        "{cfg}"
    );
    let pair = |n: &str| format!("{}\n{n}\n", lp.display());
    assert_eq!(
        std::fs::read_to_string(lp.join(&c).join("lxc_snapshots")).unwrap(),
        pair(&s1)
    );
    assert_eq!(
        std::fs::read_to_string(lp.join(&s1).join("lxc_rdepends")).unwrap(),
        pair(&c)
    );
    // It starts on the overlay, and writes go to its delta only.
    lab.ok(&["start", "-n", &s1, "-d"]);
    let out = lab.attach_sh(
        &s1,
        "echo mine > /root/note; grep -c '^overlay / overlay' /proc/mounts",
    );
    assert_eq!(out, "1\n");
    lab.ok(&["stop", "-n", &s1, "-k"]);
    assert!(lp.join(&s1).join("overlay/delta/root/note").is_file());
    assert!(!lab.rootfs(&c).join("root/note").exists());
    // A full copy of the overlay clone (mounted in a private namespace for
    // the copy): a dir container with the delta's files, depending on no one.
    let full = lab.name("snapfull");
    lab.ok(&["copy", "-n", &s1, "-N", &full]);
    assert!(lab.rootfs(&full).join("root/note").is_file());
    assert!(lab.rootfs(&full).join("bin/busybox").is_file());
    assert!(std::fs::read_to_string(lp.join(&full).join("config"))
        .unwrap()
        .contains(&format!(
            "lxc.rootfs.path = dir:{}\n",
            lab.rootfs(&full).display()
        )));
    lab.ok(&["destroy", "-n", &full]);
    // A snapshot of the snapshot: the delta is copied, both origins listed.
    lab.ok(&["copy", "-n", &s1, "-N", &s2, "-s"]);
    assert!(lp.join(&s2).join("overlay/delta/root/note").is_file());
    assert_eq!(
        std::fs::read_to_string(lp.join(&s2).join("lxc_rdepends")).unwrap(),
        format!("{}{}", pair(&c), pair(&s1))
    );
    assert_eq!(
        std::fs::read_to_string(lp.join(&c).join("lxc_snapshots")).unwrap(),
        format!("{}{}", pair(&s1), pair(&s2))
    );
    // Nor be renamed.
    let err = lab.fails(&["copy", "-n", &c, "-N", &lab.name("snapren"), "-R"], 1);
    assert!(
        err.contains("renaming a container with snapshots or clones is not supported"),
        "{err}"
    );
    // The origin cannot go while clones depend on it.
    let err = lab.fails(&["destroy", "-n", &c], 1);
    assert!(
        err.contains(&format!("has clones that depend on its rootfs: {s1}, {s2}")),
        "{err}"
    );
    assert!(lab.rootfs(&c).join("bin/busybox").exists());
    // A clone going takes its pairs along.
    lab.ok(&["destroy", "-n", &s2]);
    assert_eq!(
        std::fs::read_to_string(lp.join(&c).join("lxc_snapshots")).unwrap(),
        pair(&s1)
    );
    assert!(
        !lp.join(&s1).join("lxc_snapshots").exists(),
        "s1's only clone went"
    );
    // -s takes the clones first.
    lab.ok(&["destroy", "-n", &c, "-s"]);
    for n in [&c, &s1, &s2] {
        assert!(!lp.join(n).exists(), "{n} is gone");
        lab.assert_clean(n);
    }
}

#[test]
fn a_failing_clone_hook_leaves_no_clone_and_the_origin_unchanged() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("hookfail");
    lab.configure(&c, "lxc.hook.version = 1\nlxc.hook.clone = exit 3\n");
    let new = lab.name("hookfail2");
    let err = lab.fails(&["copy", "-n", &c, "-N", &new, "-s"], 1);
    assert!(
        err.contains("lxc.hook.clone `exit 3` failed with exit status 3"),
        "{err}"
    );
    let lp = Path::new(&lab.lxcpath);
    assert!(!lp.join(&new).exists());
    assert!(
        !lp.join(&c).join("lxc_snapshots").exists(),
        "no pair left in the origin"
    );
    let staged: Vec<_> = std::fs::read_dir(lp.join(".rlxc-staging"))
        .map(|r| r.flatten().collect())
        .unwrap_or_default();
    assert!(staged.is_empty(), "staging left: {staged:?}");
    lab.ok(&["destroy", "-n", &c]);
    lab.assert_clean(&new);
}

#[test]
fn a_copy_killed_at_any_point_leaves_the_old_state_or_a_whole_clone() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("killcopy");
    let data = lab.rootfs(&c).join("data");
    std::fs::create_dir(&data).unwrap();
    for i in 0..40 {
        std::fs::write(data.join(format!("f{i}")), vec![i as u8; 1 << 20]).unwrap();
    }
    let lp = Path::new(&lab.lxcpath);
    let before = listing(&lab.rootfs(&c));
    for (i, wait_ms) in [5u64, 15, 30, 60].iter().enumerate() {
        let new = lab.name(&format!("killed{i}"));
        let mut child = lab.cmd(&["copy", "-n", &c, "-N", &new]).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(*wait_ms));
        let _ = child.kill();
        let _ = child.wait();
        let dir = lp.join(&new);
        if dir.exists() {
            // Renamed into place: then it is whole.
            assert!(
                dir.join("config").is_file(),
                "{new}: a directory without a config"
            );
            assert_eq!(
                listing(&lab.rootfs(&new)),
                before,
                "{new}: a partial rootfs"
            );
            lab.ok(&["destroy", "-n", &new]);
        }
    }
    assert_eq!(listing(&lab.rootfs(&c)), before, "the origin is untouched");
    // The next copy sweeps what the killed ones left in staging.
    let last = lab.name("afterkills");
    lab.ok(&["copy", "-n", &c, "-N", &last, "-s"]);
    let staged: Vec<_> = std::fs::read_dir(lp.join(".rlxc-staging"))
        .map(|r| r.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(staged.is_empty(), "staging left: {staged:?}");
    lab.ok(&["destroy", "-n", &c, "-s"]);
    lab.assert_clean(&c);
}

#[test]
fn a_full_disk_fails_a_copy_cleanly() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("fullsrc");
    // The copy goes to a 4 MiB tmpfs lxcpath (-p), in a private mount namespace.
    let small = lab.path().join("small");
    std::fs::create_dir_all(&small).unwrap();
    std::fs::write(lab.rootfs(&c).join("big"), vec![7u8; 8 << 20]).unwrap();
    let script = format!(
        "mount -t tmpfs -o size=4m tmpfs {d} && {bin} copy -P {lp} -n {c} -N full -p {d}; echo \"rc=$?\"; ls -A {d}; ls -A {d}/.rlxc-staging",
        d = small.display(),
        lp = lab.lxcpath,
        bin = rlxc_tests::rlxc_bin().display()
    );
    let o = run(std::process::Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .env("RLXC_RUNDIR", &lab.rundir)
        .env("RLXC_SYSTEM_CONFIG", lab.path().join("lxc.conf")));
    let out = rlxc_tests::stdout(&o);
    let err = rlxc_tests::stderr(&o);
    assert!(out.starts_with("rc=1\n"), "{out}{err}");
    assert!(err.contains("No space left"), "{err}");
    let left: Vec<&str> = out
        .lines()
        .skip(1)
        .filter(|l| *l != ".rlxc-staging")
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(!Path::new(&lab.lxcpath)
        .join(&c)
        .join("lxc_snapshots")
        .exists());
}

#[test]
fn concurrent_copies_and_a_racing_destroy_are_serialised_by_the_locks() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("race");
    let data = lab.rootfs(&c).join("data");
    std::fs::create_dir(&data).unwrap();
    for i in 0..20 {
        std::fs::write(data.join(format!("f{i}")), vec![1u8; 1 << 20]).unwrap();
    }
    let (a, b) = (lab.name("racea"), lab.name("raceb"));
    let spawn = |args: &[&str]| {
        lab.cmd(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let ca = spawn(&["copy", "-n", &c, "-N", &a]);
    let cb = spawn(&["copy", "-n", &c, "-N", &b, "-s"]);
    let d = spawn(&["destroy", "-n", &c]);
    let outs: Vec<_> = [ca, cb, d]
        .into_iter()
        .map(|p| p.wait_with_output().unwrap())
        .collect();
    let lp = Path::new(&lab.lxcpath);
    let destroyed = outs[2].status.success();
    for (o, what) in outs.iter().zip(["copy", "copy -s", "destroy"]) {
        if !o.status.success() {
            let err = String::from_utf8_lossy(&o.stderr);
            // The loser is told about the lock or the clone the other made; a copy that
            // came after a finished destroy is told the origin is gone.
            let gone = destroyed && what != "destroy" && err.contains("does not exist");
            assert!(
                err.contains("lock") || err.contains("has clones") || gone,
                "{what}: {err}"
            );
        }
    }
    // Whatever won, every container there is whole.
    for n in [&c, &a, &b] {
        let dir = lp.join(n);
        if dir.exists() {
            assert!(dir.join("config").is_file(), "{n} without a config");
            let cfg = std::fs::read_to_string(dir.join("config")).unwrap();
            assert!(cfg.contains("lxc.rootfs.path"), "{n}: {cfg}");
        }
    }
    if lp.join(&b).exists() {
        assert!(lp.join(&c).exists(), "an overlay clone outlived its origin");
    }
    for n in [&b, &a, &c] {
        let _ = lab.run(&["destroy", "-n", n]);
    }
}
