//! `lxc.mount.entry` semantics from inside a container: a read-only
//! recursive bind is read-only all the way down, `relative` sources come
//! from the rootfs, propagation options land on the mount, and a created
//! mount point through a symlink, or an `idmap=` entry, is refused by entry
//! with nothing left behind.

use rlxc_tests::{run, Lab};

#[test]
fn rbind_ro_is_read_only_below_too_and_relative_and_shared_work() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("mentry");
    let src = lab.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    let o = run(std::process::Command::new("mount")
        .args(["-t", "tmpfs", "tmpfs"])
        .arg(src.join("sub")));
    assert!(o.status.success());
    lab.configure(
        &c,
        &format!(
            "lxc.mount.entry = {} mnt/r none rbind,ro,noatime,create=dir 0 0\n\
             lxc.mount.entry = etc mnt/etc none bind,relative,create=dir 0 0\n\
             lxc.mount.entry = tmpfs mnt/s tmpfs create=dir,shared 0 0\n",
            src.display()
        ),
    );
    let probe = "(touch /mnt/r/top) 2>/dev/null && echo top-written; \
                 (touch /mnt/r/sub/below) 2>/dev/null && echo below-written; \
                 [ -f /mnt/etc/passwd ] && echo relative-seen; \
                 grep ' /mnt/s ' /proc/self/mountinfo | grep -q 'shared:' && echo shared; true";
    let out = lab.ok(&["execute", "-n", &c, "--", "sh", "-c", probe]);
    assert_eq!(out, "relative-seen\nshared\n");
    let _ = run(std::process::Command::new("umount").arg(src.join("sub")));
    lab.assert_clean(&c);
}

#[test]
fn a_mount_point_made_through_a_symlink_or_an_idmap_is_refused() {
    let Some(lab) = Lab::new() else { return };
    for (name, entry, want) in [
        (
            "mlink",
            "tmpfs lnk/x tmpfs create=dir 0 0",
            "`/lnk` is a symlink: refusing to create a mount point through it",
        ),
        (
            "midmap",
            "/etc mnt/e none bind,idmap=container,create=dir 0 0",
            "idmap=container maps through the container's lxc.idmap, which it does not have",
        ),
    ] {
        let c = lab.busybox(name);
        let outside = lab.path().join(format!("outside-{name}"));
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, lab.rootfs(&c).join("lnk")).unwrap();
        lab.configure(&c, &format!("lxc.mount.entry = {entry}\n"));
        let err = lab.fails(&["start", "-n", &c], 1);
        assert!(err.contains("lxc.mount.entry"), "{err}");
        assert!(err.contains(want), "{err}");
        assert!(
            !outside.join("x").exists(),
            "nothing was made where the link points"
        );
        lab.assert_clean(&c);
    }
}

#[test]
fn shmounts_propagates_what_the_host_mounts_later() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("shmounts");
    let host = lab.path().join("shm");
    lab.configure(
        &c,
        &format!(
            "lxc.mount.auto = proc:mixed sys:ro shmounts:{}:/mnt/shm\n",
            host.display()
        ),
    );
    // In this process's own mount namespace, which is the host side here.
    let host_ok = |args: &[&str]| {
        let o = run(&mut lab.cmd_host(args));
        assert!(o.status.success(), "{args:?}: {}", rlxc_tests::stderr(&o));
        rlxc_tests::stdout(&o)
    };
    host_ok(&["start", "-n", &c]);
    // A mount made on the host after the start appears inside.
    let inj = host.join("inj");
    std::fs::create_dir(&inj).unwrap();
    assert!(run(std::process::Command::new("mount")
        .args(["-t", "tmpfs", "tmpfs"])
        .arg(&inj))
    .status
    .success());
    std::fs::write(inj.join("hello"), "injected\n").unwrap();
    let out = host_ok(&["attach", "-n", &c, "--", "cat", "/mnt/shm/inj/hello"]);
    host_ok(&["stop", "-n", &c, "-k"]);
    let _ = run(std::process::Command::new("umount").arg(&inj));
    let _ = run(std::process::Command::new("umount").arg(&host));
    assert_eq!(out, "injected\n");
    lab.assert_clean(&c);
}
