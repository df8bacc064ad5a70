//! Writing into a guest's rootfs from the host, as the distribution
//! templates do after copying their cache: every write goes through
//! [`write_in`], which refuses a path that leaves the rootfs through a
//! symlink (the rootfs is the container's, its links point inside it).

use std::path::{Component, Path};

/// Writes `text` to `rel` inside `rootfs` with `mode`, refusing a symlink
/// anywhere on the way but at the end (a link there, such as
/// `resolv.conf`, is replaced).
pub fn write_mode(rootfs: &Path, rel: &str, text: &str, mode: u32) -> Result<(), String> {
    let p = make_parents(rootfs, rel)?;
    if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
        std::fs::remove_file(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", p.display()))
}

/// [`write_mode`] with mode 0644.
pub fn write_in(rootfs: &Path, rel: &str, text: &str) -> Result<(), String> {
    write_mode(rootfs, rel, text, 0o644)
}

/// The directories on the way to `rel` in `rootfs`, made where missing and
/// refused where one is a symlink; returns the full path of `rel`.
pub fn make_parents(rootfs: &Path, rel: &str) -> Result<std::path::PathBuf, String> {
    let mut p = rootfs.to_path_buf();
    let parts: Vec<Component<'_>> = Path::new(rel.trim_start_matches('/'))
        .components()
        .collect();
    for (i, c) in parts.iter().enumerate() {
        let Component::Normal(n) = c else {
            return Err(format!("{rel}: not a plain relative path"));
        };
        p.push(n);
        if i + 1 == parts.len() {
            break;
        }
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "{}: a symlink on the way into the rootfs",
                    p.display()
                ))
            }
            Ok(_) => {}
            Err(_) => std::fs::create_dir(&p).map_err(|e| format!("{}: {e}", p.display()))?,
        }
    }
    Ok(p)
}

/// A symlink `rel` inside `rootfs` pointing at `target` (replacing one).
pub fn link_in(rootfs: &Path, rel: &str, target: &str) -> Result<(), String> {
    let p = make_parents(rootfs, rel)?;
    if std::fs::symlink_metadata(&p).is_ok() {
        std::fs::remove_file(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    std::os::unix::fs::symlink(target, &p).map_err(|e| format!("{}: {e}", p.display()))
}

/// Appends `text` to `rel` inside `rootfs` (which must exist and not be a
/// symlink).
pub fn append_in(rootfs: &Path, rel: &str, text: &str) -> Result<(), String> {
    let p = make_parents(rootfs, rel)?;
    if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!("{}: a symlink", p.display()));
    }
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&p)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("{}: {e}", p.display()))
}

/// `/etc/hosts` for a guest named `name`.
pub fn hosts(name: &str) -> String {
    format!("127.0.0.1 localhost\n127.0.1.1 {name}\n::1 localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n")
}

/// Locks root's password in `etc/shadow` (`!` before the hash); `*` (no
/// password) stays as it is.
pub fn lock_root(rootfs: &Path) -> Result<(), String> {
    let shadow = rootfs.join("etc/shadow");
    if std::fs::symlink_metadata(&shadow).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!("{}: a symlink", shadow.display()));
    }
    let text =
        std::fs::read_to_string(&shadow).map_err(|e| format!("{}: {e}", shadow.display()))?;
    let locked: String = text
        .lines()
        .map(|l| match l.split_once(':') {
            Some(("root", rest)) if !rest.starts_with('!') && !rest.starts_with('*') => {
                format!("root:!{rest}\n")
            }
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(&shadow, locked).map_err(|e| format!("{}: {e}", shadow.display()))
}

/// systemd in a container, as LXC's templates set it up: SIGPWR (the halt
/// signal `rlxc stop` sends) powers the guest off, and a getty runs on each
/// of the `ttys` the config gives (getty@'s device condition does not hold
/// for a container's ttys, so a copy of the unit drops it). A guest without
/// systemd is left alone.
pub fn systemd_in_container(rootfs: &Path, ttys: u32) -> Result<(), String> {
    let units = ["lib/systemd/system", "usr/lib/systemd/system"]
        .iter()
        .map(|d| rootfs.join(d).join("getty@.service"))
        .find(|p| p.is_file());
    let Some(getty) = units.and_then(|p| std::fs::read_to_string(p).ok()) else {
        return Ok(());
    };
    let own: String = getty
        .lines()
        .map(|l| {
            if l.starts_with("ConditionPathExists=") {
                format!("# {l}")
            } else if l.starts_with("After=dev-%i.device") {
                "After=".to_string()
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect();
    write_in(rootfs, "etc/systemd/system/getty@.service", &own)?;
    link_in(
        rootfs,
        "etc/systemd/system/sigpwr.target",
        "/lib/systemd/system/poweroff.target",
    )?;
    for n in 1..=ttys {
        link_in(
            rootfs,
            &format!("etc/systemd/system/getty.target.wants/getty@tty{n}.service"),
            "/etc/systemd/system/getty@.service",
        )?;
    }
    Ok(())
}

/// sysvinit in a container, as LXC's lxc-debian sets it up: an inittab
/// with a getty on the console and on each of the `ttys`, and SIGPWR (the
/// halt signal `rlxc stop` sends) running `init 0`. A guest without
/// sysvinit's inittab is left alone.
pub fn sysvinit_in_container(rootfs: &Path, ttys: u32) -> Result<(), String> {
    if !rootfs.join("etc/inittab").is_file() {
        return Ok(());
    }
    write_in(rootfs, "etc/inittab", &inittab(ttys))
}

/// lxc-debian's inittab for `ttys` ttys.
pub fn inittab(ttys: u32) -> String {
    let mut t = String::from("id:3:initdefault:\nsi::sysinit:/etc/init.d/rcS\n");
    for l in 0..=6 {
        t.push_str(&format!("l{l}:{l}:wait:/etc/init.d/rc {l}\n"));
    }
    t.push_str("# Normally not reached, but fallthrough in case of emergency.\nz6:6:respawn:/sbin/sulogin\n");
    t.push_str("1:2345:respawn:/sbin/getty 38400 console\n");
    for n in 1..=ttys {
        t.push_str(&format!(
            "c{n}:12345:respawn:/sbin/getty 38400 tty{n} linux\n"
        ));
    }
    t.push_str("p6::ctrlaltdel:/sbin/init 6\np0::powerfail:/sbin/init 0\n");
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_stay_inside_and_systemd_gets_gettys() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::write(
            r.join("etc/shadow"),
            "root:$6$abc:19000::::::\nbin:*:1::::::\n",
        )
        .unwrap();
        lock_root(r).unwrap();
        assert_eq!(
            std::fs::read_to_string(r.join("etc/shadow")).unwrap(),
            "root:!$6$abc:19000::::::\nbin:*:1::::::\n"
        );
        std::fs::create_dir_all(r.join("lib/systemd/system")).unwrap();
        std::fs::write(
            r.join("lib/systemd/system/getty@.service"),
            "[Unit]\nAfter=dev-%i.device\nConditionPathExists=/dev/tty0\n[Service]\nExecStart=-/sbin/agetty %I\n",
        )
        .unwrap();
        systemd_in_container(r, 4).unwrap();
        let unit = std::fs::read_to_string(r.join("etc/systemd/system/getty@.service")).unwrap();
        assert!(unit.contains("After=\n# ConditionPathExists"), "{unit}");
        assert_eq!(
            std::fs::read_link(r.join("etc/systemd/system/getty.target.wants/getty@tty4.service"))
                .unwrap(),
            Path::new("/etc/systemd/system/getty@.service")
        );
        assert_eq!(
            std::fs::read_link(r.join("etc/systemd/system/sigpwr.target")).unwrap(),
            Path::new("/lib/systemd/system/poweroff.target")
        );
        write_mode(r, "etc/netplan/10-lxc.yaml", "x", 0o600).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(r.join("etc/netplan/10-lxc.yaml"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
        append_in(r, "etc/netplan/10-lxc.yaml", "y").unwrap();
        assert_eq!(
            std::fs::read_to_string(r.join("etc/netplan/10-lxc.yaml")).unwrap(),
            "xy"
        );
        // A symlink on the way out of the rootfs is refused; one at the
        // end is replaced.
        std::os::unix::fs::symlink("/tmp", r.join("etc/network")).unwrap();
        assert!(write_in(r, "etc/network/interfaces", "x")
            .unwrap_err()
            .contains("a symlink on the way"));
        std::os::unix::fs::symlink("/etc/passwd", r.join("etc/resolv.conf")).unwrap();
        write_in(r, "etc/resolv.conf", "nameserver 10.0.3.1\n").unwrap();
        assert!(!std::fs::symlink_metadata(r.join("etc/resolv.conf"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(write_in(r, "../x", "x").is_err());
        // sysvinit: only where its inittab is.
        sysvinit_in_container(r, 2).unwrap();
        assert!(!r.join("etc/inittab").exists());
        std::fs::write(r.join("etc/inittab"), "id:2:initdefault:\n").unwrap();
        sysvinit_in_container(r, 2).unwrap();
        let t = std::fs::read_to_string(r.join("etc/inittab")).unwrap();
        assert!(
            t.contains("c2:12345:respawn:/sbin/getty 38400 tty2 linux\n") && !t.contains("tty3")
        );
        assert!(t.contains("p0::powerfail:/sbin/init 0\n"));
    }
}
