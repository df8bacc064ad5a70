//! What makes a copy of the cached rootfs this container's: its hostname
//! and `/etc/hosts`, DHCP through ifupdown on each NIC its config gives, the archive's sources,
//! a machine id of its own at first boot, C.UTF-8, root's password locked.
//! Every write goes through core's `write_in`, which refuses a path that
//! leaves the rootfs through a symlink.

use std::path::Path;

use rlxc_core::templates::guest_files::{
    hosts, lock_root, systemd_in_container, sysvinit_in_container, write_in,
};

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
        ("etc/hosts", hosts(name)),
        ("etc/network/interfaces", interfaces(nics)),
        ("etc/apt/sources.list", sources.to_string()),
        // Empty: systemd makes one at first boot, so no two guests share it.
        ("etc/machine-id", String::new()),
        ("etc/default/locale", "LANG=C.UTF-8\n".to_string()),
    ]
}

/// On a sysvinit guest, lxc-debian's `update-rc.d -f … remove` of the
/// boot scripts that touch what a container does not own (the root
/// filesystem's check, unmounting everything, the hardware clock). A guest
/// without them, or without sysvinit, is left as it is.
pub async fn sysvinit_services(sys: &dyn rlxc_core::sys::Sys, rootfs: &Path) {
    if rlxc_core::templates::guest_files::read_in(rootfs, "etc/inittab").is_none() {
        return;
    }
    for s in ["checkroot.sh", "umountfs", "hwclock.sh", "hwclockfirst.sh"] {
        if !rootfs.join("etc/init.d").join(s).exists() {
            continue;
        }
        let tool = rlxc_core::sys::Tool::new(
            "chroot",
            [
                rootfs.display().to_string(),
                "/usr/sbin/update-rc.d".into(),
                "-f".into(),
                s.into(),
                "remove".into(),
            ],
        )
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        match sys.run(&tool).await {
            Ok(o) if o.status == 0 => {}
            _ => tracing::warn!("debian template: `{tool}` failed; {s} stays in the guest's boot"),
        }
    }
}

/// Applies [`files`], then locks root and sets the guest's init (systemd
/// or sysvinit) up for a container.
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
    systemd_in_container(rootfs, ttys)?;
    sysvinit_in_container(rootfs, ttys)
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
