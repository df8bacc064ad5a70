//! `lxc.idmap`: at create a built-in template's tree stays as it is and the
//! rootfs is mounted idmapped (`idmap=container`) where the filesystem
//! takes it (here), else shifted through the maps; an idmapped bind of a
//! host directory; an LXC script is told `--mapped-uid`/`--mapped-gid` and
//! maps its files itself; root starts such a container in a user namespace
//! (its processes are the mapped ids on the host), attaches into it, and
//! stops it.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rlxc_tests::{stderr, Lab};

const MAPS: &str =
    "lxc.net.0.type = empty\nlxc.idmap = u 0 100000 65536\nlxc.idmap = g 0 100000 65536\n";

#[test]
fn a_mapped_container_owns_its_rootfs_and_runs_in_a_user_namespace() {
    let Some(lab) = Lab::new() else { return };
    let f = lab.path().join("map.conf");
    std::fs::write(&f, MAPS).unwrap();
    let fs = f.display().to_string();
    let c = lab.name("map");
    lab.ok(&["create", "-n", &c, "-f", &fs, "-t", "busybox"]);
    let root = lab.rootfs(&c);
    let m = |p: &str| std::fs::symlink_metadata(root.join(p)).unwrap();
    // This filesystem takes idmapped mounts: the tree is not chowned, the
    // config asks for the rootfs to be mounted through the maps.
    assert_eq!((m("").uid(), m("etc/passwd").uid()), (0, 0));
    let cfg = std::fs::read_to_string(root.parent().unwrap().join("config")).unwrap();
    assert!(
        cfg.contains("lxc.rootfs.options = idmap=container\n"),
        "{cfg}"
    );
    // The modes the template gives, set-user-id included, are kept.
    let plain = lab.busybox("plain");
    let mode = |c: &str| {
        std::fs::metadata(lab.rootfs(c).join("bin/busybox"))
            .unwrap()
            .mode()
    };
    assert_eq!(mode(&c), mode(&plain));
    // A host directory of root's, bound idmapped: root's inside too.
    let shared = lab.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("f"), "host\n").unwrap();
    let entry = format!(
        "lxc.mount.entry = {} mnt/shared none bind,create=dir,idmap=container 0 0\n",
        shared.display()
    );
    // Not for a container without lxc.idmap: refused by key.
    lab.configure(&plain, &entry);
    let o = lab.run(&["start", "-n", &plain, "-d"]);
    assert!(
        stderr(&o).contains("lxc.mount.entry") && stderr(&o).contains("does not have"),
        "{}",
        stderr(&o)
    );
    lab.ok(&["destroy", "-n", &plain]);
    lab.configure(&c, &entry);
    let ls = lab.ok(&["ls", "-f"]);
    assert!(
        ls.lines()
            .any(|l| l.starts_with(&c) && l.trim_end().ends_with("true")),
        "{ls}"
    );
    // It starts in a user namespace: its processes are the mapped ids on
    // the host, root inside.
    lab.ok(&["start", "-n", &c, "-d"]);
    let pid = lab.pid(&c);
    let map = std::fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap();
    assert_eq!(
        map.split_whitespace().collect::<Vec<_>>(),
        ["0", "100000", "65536"]
    );
    assert_eq!(
        std::fs::metadata(format!("/proc/{pid}")).unwrap().uid(),
        100_000,
        "init is the mapped root"
    );
    assert_eq!(lab.attach_sh(&c, "id -u; id -g"), "0\n0\n");
    // Inside, root owns the tree; what it makes is the host's 0 on disk.
    assert_eq!(
        lab.attach_sh(&c, "stat -c %u:%g /etc/passwd /bin/busybox"),
        "0:0\n0:0\n"
    );
    lab.attach_sh(&c, "touch /root/made-inside");
    assert_eq!(m("root/made-inside").uid(), 0);
    assert_eq!(
        lab.attach_sh(
            &c,
            "stat -c %u /mnt/shared/f; cat /mnt/shared/f; touch /mnt/shared/g"
        ),
        "0\nhost\n"
    );
    assert_eq!(std::fs::metadata(shared.join("g")).unwrap().uid(), 0);
    // What a user namespace refuses, it refuses (mknod), and a user inside
    // is the mapped one.
    assert!(!lab
        .run(&["attach", "-n", &c, "--", "mknod", "/tmp/n", "c", "1", "3"])
        .status
        .success());
    assert_eq!(
        lab.ok(&["attach", "-n", &c, "-u", "1000", "-g", "1000", "--", "id", "-u"]),
        "1000\n"
    );
    lab.ok(&["stop", "-n", &c]);
    assert_eq!(lab.state(&c), "STOPPED");
    // A snapshot clone (an overlay, which cannot be idmapped itself) runs
    // over its idmapped lower layer; what it writes is the mapped root's.
    let s = lab.name("mapsnap");
    lab.ok(&["copy", "-n", &c, "-N", &s, "-s"]);
    lab.ok(&["start", "-n", &s, "-d"]);
    assert_eq!(
        lab.attach_sh(&s, "stat -c %u / /bin/busybox; touch /made"),
        "0\n0\n"
    );
    let delta = Path::new(&lab.lxcpath).join(&s).join("overlay/delta");
    assert_eq!(
        std::fs::metadata(delta.join("made")).unwrap().uid(),
        100_000
    );
    lab.ok(&["stop", "-n", &s, "-k"]);
    lab.ok(&["destroy", "-n", &s]);
    lab.assert_clean(&s);
    lab.ok(&["destroy", "-n", &c]);
    lab.assert_clean(&c);

    // An LXC script is told the map and left to apply it.
    let script = lab.path().join("lxc-args");
    let log = lab.path().join("args.log");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" > {}\nfor a; do case $a in --rootfs=*) r=${{a#--rootfs=}};; esac; done\nexit 0\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let c2 = lab.name("mapscript");
    lab.ok(&[
        "create",
        "-n",
        &c2,
        "-f",
        &fs,
        "-t",
        &script.display().to_string(),
    ]);
    let args = std::fs::read_to_string(&log).unwrap();
    assert!(
        args.contains("--mapped-uid 100000 --mapped-gid 100000"),
        "{args}"
    );
    assert_eq!(
        std::fs::metadata(lab.rootfs(&c2)).unwrap().uid(),
        0,
        "not shifted a second time"
    );
    lab.ok(&["destroy", "-n", &c2]);
    // A map that does not cover what the tree holds is refused, naming the file.
    let bad = lab.path().join("bad.conf");
    std::fs::write(
        &bad,
        "lxc.net.0.type = empty\nlxc.idmap = u 1 100000 10\nlxc.idmap = g 1 100000 10\n",
    )
    .unwrap();
    let c3 = lab.name("badmap");
    let o = lab.run(&[
        "create",
        "-n",
        &c3,
        "-f",
        &bad.display().to_string(),
        "-t",
        "busybox",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("owner 0:0 is not mapped by lxc.idmap"),
        "{}",
        stderr(&o)
    );
    assert!(!Path::new(&lab.lxcpath).join(&c3).exists());
}
