//! `rlxc usernsexec` (lxc-usernsexec): a command as root in a new user
//! namespace, as root and as a throwaway user with subordinate ranges
//! (through newuidmap/newgidmap), with several map sets; the owners the
//! files it makes get on the host are checked.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use rlxc_tests::{run, stderr, stdout, TestUser as User};

fn owner(p: &Path) -> (u32, u32) {
    let m = std::fs::metadata(p).unwrap();
    (m.uid(), m.gid())
}

#[test]
fn usernsexec_maps_ids_as_asked_and_refuses_what_is_not_granted() {
    let have = rlxc_tests::is_root()
        && run(Command::new("sh").args(["-c", "command -v newuidmap && command -v runuser"]))
            .status
            .success();
    if !rlxc_tests::require(have, "root, newuidmap (uidmap) and runuser") {
        return;
    }
    let Some(u) = User::new("n") else { return };
    let dir = tempfile::tempdir().unwrap();
    let d: PathBuf = dir.path().join("w");
    std::fs::create_dir(&d).unwrap();
    std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o1777)).unwrap();
    let ok = |o: &std::process::Output| assert!(o.status.success(), "{}{}", stdout(o), stderr(o));

    // Root, a map of its choosing: written directly.
    let o = run(Command::new(rlxc_tests::rlxc_bin())
        .args([
            "usernsexec",
            "-m",
            "b:0:100000:65536",
            "--",
            "sh",
            "-c",
            "id -u; touch root-made",
        ])
        .current_dir(&d));
    ok(&o);
    assert_eq!(stdout(&o), "0\n");
    assert_eq!(owner(&d.join("root-made")), (100_000, 100_000));

    // The default: the user's own id as root, its range from 1.
    let o = u.exec(
        &d,
        &[
            "--",
            "sh",
            "-c",
            "touch a; touch b; chown 1:1 b; cat /proc/self/uid_map",
        ],
    );
    ok(&o);
    assert_eq!(owner(&d.join("a")), (u.uid, u.uid));
    assert_eq!(owner(&d.join("b")), (u.sub, u.sub), "{}", stdout(&o));
    // Its own id only: id 1 is not mapped, so chown to it fails.
    let own = format!("b:0:{}:1", u.uid);
    let o = u.exec(&d, &["-m", &own, "--", "sh", "-c", "touch c; chown 1 c"]);
    assert!(!o.status.success());
    assert_eq!(owner(&d.join("c")), (u.uid, u.uid));
    // Its range only: root inside is the range's first id.
    let range = format!("b:0:{}:65536", u.sub);
    let o = u.exec(&d, &["-m", &range, "--", "touch", "e"]);
    ok(&o);
    assert_eq!(owner(&d.join("e")), (u.sub, u.sub));
    // Crossed: uid 0 is the user, gid 0 the range's first, and back.
    let (u0, g0, u1, g1) = (
        format!("u:0:{}:1", u.uid),
        format!("g:0:{}:1", u.sub),
        format!("u:1:{}:1", u.sub),
        format!("g:1:{}:1", u.uid),
    );
    let o = u.exec(
        &d,
        &[
            "-m",
            &u0,
            "-m",
            &g0,
            "-m",
            &u1,
            "-m",
            &g1,
            "--",
            "sh",
            "-c",
            "touch x; chown 1:1 y 2>/dev/null; touch y; chown 1:1 y",
        ],
    );
    ok(&o);
    assert_eq!(owner(&d.join("x")), (u.uid, u.sub));
    assert_eq!(owner(&d.join("y")), (u.sub, u.uid));
    // -u/-g: another id inside.
    let o = u.exec(
        &d,
        &[
            "-u",
            "7",
            "-g",
            "7",
            "--",
            "sh",
            "-c",
            "id -u; id -g; touch seven",
        ],
    );
    ok(&o);
    assert_eq!(stdout(&o), "7\n7\n");
    assert_eq!(owner(&d.join("seven")), (u.sub + 6, u.sub + 6));
    // -s: the user's own ids map to themselves.
    let uid = u.uid.to_string();
    let o = u.exec(
        &d,
        &[
            "-s",
            "-u",
            &uid,
            "-g",
            &uid,
            "--",
            "sh",
            "-c",
            "id -u; touch self",
        ],
    );
    ok(&o);
    assert_eq!(stdout(&o), format!("{}\n", u.uid));
    assert_eq!(owner(&d.join("self")), (u.uid, u.uid));

    // Not granted: named, with the line that would grant it; nothing runs.
    let o = u.exec(&d, &["-m", "b:0:50000:10", "--", "touch", "never"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!(
            "{} may not map host ids 50000 to 50009: /etc/subuid grants {}:65536",
            u.name, u.sub
        )),
        "{}",
        stderr(&o)
    );
    assert!(!d.join("never").exists());
    // Bad maps, an unmapped -u, overlapping lines: clear errors.
    for (args, says) in [
        (vec!["-m", "b:0:1"], "is not `u|g|b:NSID:HOSTID:RANGE`"),
        (vec!["-m", "q:0:1:1"], "not u, g or b"),
        (
            vec!["-m", &range, "-u", "70000"],
            "uid 70000 (-u) is not mapped",
        ),
        (vec!["-m", &range, "-m", &own], "overlap"),
    ] {
        let o = u.exec(&d, &args);
        assert!(!o.status.success(), "{args:?}");
        assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
    }
    // The command's exit status comes back.
    assert_eq!(
        u.exec(&d, &["--", "sh", "-c", "exit 5"]).status.code(),
        Some(5)
    );
}
