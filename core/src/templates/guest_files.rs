//! Writing into a guest's rootfs from the host, as the distribution
//! templates do after copying their cache: every write goes through
//! [`write_in`], which refuses a path that leaves the rootfs through a
//! symlink (the rootfs is the container's, its links point inside it).

use std::path::{Component, Path};

/// Writes `text` to `rel` inside `rootfs` with `mode`, refusing a symlink
/// anywhere on the way. What stands at the end and is not a regular file
/// (a symlink such as `resolv.conf`, or a device node or fifo an image
/// shipped there) is replaced, never written through: the file is made
/// afresh, without following links.
pub fn write_mode(rootfs: &Path, rel: &str, text: &str, mode: u32) -> Result<(), String> {
    write_bytes(rootfs, rel, text.as_bytes(), mode)
}

/// [`write_mode`] for bytes.
pub fn write_bytes(rootfs: &Path, rel: &str, bytes: &[u8], mode: u32) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let p = make_parents(rootfs, rel)?;
    match std::fs::symlink_metadata(&p) {
        Ok(m) if m.is_dir() => return Err(format!("{}: a directory", p.display())),
        Ok(_) => std::fs::remove_file(&p).map_err(|e| format!("{}: {e}", p.display()))?,
        Err(_) => {}
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&p)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| format!("{}: {e}", p.display()))?;
    use std::os::unix::fs::PermissionsExt;
    // The umask took bits off at creation.
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", p.display()))
}

/// The text of `rel` inside `rootfs`, when it is a regular file reached
/// without a symlink on the way (a guest's own file, never the host's).
pub fn read_in(rootfs: &Path, rel: &str) -> Option<String> {
    let p = existing_path(rootfs, rel)?;
    std::fs::symlink_metadata(&p)
        .is_ok_and(|m| m.is_file())
        .then(|| std::fs::read_to_string(&p).ok())?
}

/// The path of `rel` in `rootfs` when every directory on the way exists
/// and none is a symlink (nothing is made).
pub fn existing_path(rootfs: &Path, rel: &str) -> Option<std::path::PathBuf> {
    let mut p = rootfs.to_path_buf();
    let parts: Vec<Component<'_>> = Path::new(rel.trim_start_matches('/'))
        .components()
        .collect();
    for (i, c) in parts.iter().enumerate() {
        let Component::Normal(n) = c else {
            return None;
        };
        p.push(n);
        if i + 1 < parts.len() && !std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_dir()) {
            return None;
        }
    }
    (!parts.is_empty()).then_some(p)
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
    if !std::fs::symlink_metadata(&p).is_ok_and(|m| m.is_file()) {
        return Err(format!("{}: not a regular file", p.display()));
    }
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .append(true)
        .custom_flags(libc::O_NOFOLLOW)
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
    let text = read_in(rootfs, "etc/shadow")
        .ok_or_else(|| format!("{}: not a regular file of the guest", shadow.display()))?;
    let locked: String = text
        .lines()
        .map(|l| match l.split_once(':') {
            Some(("root", rest)) if !rest.starts_with('!') && !rest.starts_with('*') => {
                format!("root:!{rest}\n")
            }
            _ => format!("{l}\n"),
        })
        .collect();
    write_mode(rootfs, "etc/shadow", &locked, 0o640)
}

/// systemd in a container, as LXC's templates set it up: SIGPWR (the halt
/// signal `rlxc stop` sends) powers the guest off, and a getty runs on each
/// of the `ttys` the config gives (getty@'s device condition does not hold
/// for a container's ttys, so a copy of the unit drops it). A guest without
/// systemd is left alone.
pub fn systemd_in_container(rootfs: &Path, ttys: u32) -> Result<(), String> {
    // Read only through the guest's own directories (`lib` is a link on a
    // merged-/usr guest; `usr/lib` is then the way).
    let unit = ["usr/lib/systemd/system", "lib/systemd/system"]
        .iter()
        .find_map(|d| read_in(rootfs, &format!("{d}/getty@.service")));
    let Some(getty) = unit else {
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
    if read_in(rootfs, "etc/inittab").is_none() {
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
        // A fifo where a file is written is replaced, not written through
        // (a device node would be the host's disk).
        nix::unistd::mkfifo(
            &r.join("etc/hostname"),
            nix::sys::stat::Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        write_in(r, "etc/hostname", "c1\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(r.join("etc/hostname")).unwrap(),
            "c1\n"
        );
        // A unit that is a link to a host file is not read.
        let host = d.path().join("host-secret");
        std::fs::write(&host, "secret").unwrap();
        std::fs::create_dir_all(r.join("usr/lib/systemd/system")).unwrap();
        std::os::unix::fs::symlink(&host, r.join("usr/lib/systemd/system/getty@.service")).unwrap();
        assert_eq!(read_in(r, "usr/lib/systemd/system/getty@.service"), None);
        assert!(append_in(r, "usr/lib/systemd/system/getty@.service", "x").is_err());
        assert_eq!(std::fs::read_to_string(&host).unwrap(), "secret");
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
