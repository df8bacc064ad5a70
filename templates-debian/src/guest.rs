//! What makes a copy of the cached rootfs this container's: its hostname
//! and `/etc/hosts`, DHCP through ifupdown on each NIC its config gives, the archive's sources,
//! a machine id of its own at first boot, C.UTF-8, root's password locked.
//! Every write goes through [`write_in`], which refuses a path that leaves
//! the rootfs through a symlink.

use std::path::{Component, Path, PathBuf};

/// Writes `text` to `rel` inside `rootfs` (mode 0644), refusing a symlink
/// anywhere on the way: the rootfs is the container's.
pub fn write_in(rootfs: &Path, rel: &str, text: &str) -> Result<(), String> {
    let mut p = rootfs.to_path_buf();
    let parts: Vec<Component<'_>> = Path::new(rel).components().collect();
    for (i, c) in parts.iter().enumerate() {
        let Component::Normal(n) = c else {
            return Err(format!("{rel}: not a plain relative path"));
        };
        p.push(n);
        let last = i + 1 == parts.len();
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                // A symlink to be replaced is fine at the end (resolv.conf).
                if last {
                    std::fs::remove_file(&p).map_err(|e| format!("{}: {e}", p.display()))?;
                } else {
                    return Err(format!(
                        "{}: a symlink on the way into the rootfs",
                        p.display()
                    ));
                }
            }
            Ok(_) => {}
            Err(_) if !last => {
                std::fs::create_dir(&p).map_err(|e| format!("{}: {e}", p.display()))?
            }
            Err(_) => {}
        }
    }
    std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644))
        .map_err(|e| format!("{}: {e}", p.display()))
}

/// ifupdown's config: the loopback, and DHCP on each of `nics`.
pub fn interfaces(nics: &[String]) -> String {
    let mut t = String::from("auto lo\niface lo inet loopback\n");
    for n in nics {
        t.push_str(&format!("\nauto {n}\niface {n} inet dhcp\n"));
    }
    t
}

/// The files the guest gets, as `(path in the rootfs, text)`.
pub fn files(name: &str, sources: &str, nics: &[String]) -> Vec<(&'static str, String)> {
    vec![
        ("etc/hostname", format!("{name}\n")),
        (
            "etc/hosts",
            format!("127.0.0.1 localhost\n127.0.1.1 {name}\n::1 localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n"),
        ),
        ("etc/network/interfaces", interfaces(nics)),
        ("etc/apt/sources.list", sources.to_string()),
        // Empty: systemd makes one at first boot, so no two guests share it.
        ("etc/machine-id", String::new()),
        ("etc/default/locale", "LANG=C.UTF-8\n".to_string()),
    ]
}

/// Locks root's password in `etc/shadow` (`!` before the hash), as a
/// template must say and do; returns whether it was set before.
pub fn lock_root(rootfs: &Path) -> Result<(), String> {
    let shadow: PathBuf = rootfs.join("etc/shadow");
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

/// systemd in a container, as LXC's lxc-debian sets it up: SIGPWR (the
/// halt signal `rlxc stop` sends) powers the guest off, and a getty runs
/// on each of the `ttys` the config gives (getty@'s device condition does
/// not hold for a container's ttys, so a copy of the unit drops it).
pub fn systemd(rootfs: &Path, ttys: u32) -> Result<(), String> {
    let units = rootfs.join("lib/systemd/system");
    let Ok(getty) = std::fs::read_to_string(units.join("getty@.service")) else {
        return Ok(()); // not systemd (sysvinit on an old release)
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

/// A symlink `rel` inside `rootfs` pointing at `target` (replacing one).
fn link_in(rootfs: &Path, rel: &str, target: &str) -> Result<(), String> {
    // The directories on the way, checked as for a file.
    let parent = Path::new(rel)
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    if !parent.is_empty() {
        write_in(rootfs, &format!("{parent}/.rlxc"), "")?;
        let _ = std::fs::remove_file(rootfs.join(&parent).join(".rlxc"));
    }
    let p = rootfs.join(rel);
    if std::fs::symlink_metadata(&p).is_ok() {
        std::fs::remove_file(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    std::os::unix::fs::symlink(target, &p).map_err(|e| format!("{}: {e}", p.display()))
}

/// Applies [`files`], [`lock_root`] and [`systemd`] to `rootfs`.
pub fn configure(
    rootfs: &Path,
    name: &str,
    sources: &str,
    nics: &[String],
    ttys: u32,
) -> Result<(), String> {
    for (rel, text) in files(name, sources, nics) {
        write_in(rootfs, rel, &text)?;
    }
    lock_root(rootfs)?;
    systemd(rootfs, ttys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guest_is_named_and_networked_and_symlinks_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::write(
            r.join("etc/shadow"),
            "root:*:19000:0:99999:7:::\nbin:*:1::::::\n",
        )
        .unwrap();
        std::fs::create_dir_all(r.join("lib/systemd/system")).unwrap();
        std::fs::write(
            r.join("lib/systemd/system/getty@.service"),
            "[Unit]\nAfter=dev-%i.device\nConditionPathExists=/dev/tty0\n[Service]\nExecStart=-/sbin/agetty %I\n",
        )
        .unwrap();
        configure(r, "c1", "deb http://m bookworm main\n", &["eth0".into()], 4).unwrap();
        let unit = std::fs::read_to_string(r.join("etc/systemd/system/getty@.service")).unwrap();
        assert!(
            unit.contains("# ConditionPathExists=/dev/tty0\nAfter=\n")
                || unit.contains("After=\n# ConditionPathExists"),
            "{unit}"
        );
        assert_eq!(
            std::fs::read_link(r.join("etc/systemd/system/getty.target.wants/getty@tty4.service"))
                .unwrap(),
            Path::new("/etc/systemd/system/getty@.service")
        );
        assert_eq!(
            std::fs::read_link(r.join("etc/systemd/system/sigpwr.target")).unwrap(),
            Path::new("/lib/systemd/system/poweroff.target")
        );
        assert_eq!(
            std::fs::read_to_string(r.join("etc/hostname")).unwrap(),
            "c1\n"
        );
        assert!(std::fs::read_to_string(r.join("etc/network/interfaces"))
            .unwrap()
            .contains("iface eth0 inet dhcp"));
        assert!(std::fs::read_to_string(r.join("etc/hosts"))
            .unwrap()
            .contains("127.0.1.1 c1\n"));
        assert_eq!(
            std::fs::read_to_string(r.join("etc/machine-id")).unwrap(),
            ""
        );
        // A hash is locked; `*` (no password) stays.
        std::fs::write(r.join("etc/shadow"), "root:$6$abc:19000::::::\n").unwrap();
        lock_root(r).unwrap();
        assert_eq!(
            std::fs::read_to_string(r.join("etc/shadow")).unwrap(),
            "root:!$6$abc:19000::::::\n"
        );
        // A symlink on the way out of the rootfs is refused.
        std::fs::remove_dir_all(r.join("etc/network")).unwrap();
        std::os::unix::fs::symlink("/tmp", r.join("etc/network")).unwrap();
        assert!(write_in(r, "etc/network/interfaces", "x")
            .unwrap_err()
            .contains("a symlink on the way"));
    }
}
