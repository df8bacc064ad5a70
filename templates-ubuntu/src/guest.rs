//! What makes a copy of the cached Ubuntu rootfs this container's: its
//! hostname and hosts, DHCP on each NIC of its config (netplan where the
//! release has it, ifupdown before), the archive's sources, a machine id of
//! its own at first boot, a locale, root locked, and the user: `ubuntu`
//! (password `ubuntu`, in group sudo) or, with `-b`, the host user's own
//! account with its home bound in at start.

use std::path::Path;

use rlxc_core::sys::{Sys, Tool};
use rlxc_core::template::TemplateError;
use rlxc_core::templates::debootstrap::run_ok;
use rlxc_core::templates::guest_files::{append_in, hosts, make_parents, write_in, write_mode};

use crate::NAME;

fn failed(why: impl Into<String>) -> TemplateError {
    TemplateError::Usage {
        template: NAME.into(),
        reason: why.into(),
    }
}

/// netplan's config: DHCP on each of `nics` (lxc-ubuntu's `10-lxc.yaml`).
pub fn netplan(nics: &[String]) -> String {
    let mut t = String::from("network:\n  version: 2\n");
    if !nics.is_empty() {
        t.push_str("  ethernets:\n");
        for n in nics {
            t.push_str(&format!("    {n}: {{dhcp4: true}}\n"));
        }
    }
    t
}

/// ifupdown's config (releases before netplan).
pub fn interfaces(nics: &[String]) -> String {
    let mut t = String::from("auto lo\niface lo inet loopback\n");
    for n in nics {
        t.push_str(&format!("\nauto {n}\niface {n} inet dhcp\n"));
    }
    t
}

/// The files every guest gets.
pub fn configure_files(
    rootfs: &Path,
    name: &str,
    sources: &str,
    nics: &[String],
) -> Result<(), String> {
    write_in(rootfs, "etc/hostname", &format!("{name}\n"))?;
    write_in(rootfs, "etc/hosts", &hosts(name))?;
    write_in(rootfs, "etc/apt/sources.list", sources)?;
    // Empty: systemd makes one at first boot, so no two guests share it.
    write_in(rootfs, "etc/machine-id", "")?;
    write_in(rootfs, "etc/default/locale", "LANG=C.UTF-8\n")?;
    let has_netplan = ["usr/sbin/netplan", "sbin/netplan"]
        .iter()
        .any(|p| rootfs.join(p).exists());
    if has_netplan {
        // 0600: netplan warns about a config others can read.
        write_mode(rootfs, "etc/netplan/10-lxc.yaml", &netplan(nics), 0o600)
    } else {
        write_in(rootfs, "etc/network/interfaces", &interfaces(nics))
    }
}

/// A command run in the guest's rootfs with chroot, as lxc-ubuntu makes
/// its user (the guest's own useradd and chpasswd know its files).
fn in_guest(rootfs: &Path, args: &[&str]) -> Tool {
    let mut v = vec![rootfs.display().to_string()];
    v.extend(args.iter().map(|a| (*a).to_string()));
    Tool::new("chroot", v).env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
}

/// Whether the guest's `etc/<db>` has an entry named `name`.
fn has_entry(rootfs: &Path, db: &str, name: &str) -> bool {
    rlxc_core::templates::guest_files::read_in(rootfs, &format!("etc/{db}"))
        .unwrap_or_default()
        .lines()
        .any(|l| l.split(':').next() == Some(name))
}

/// Makes `user` with `password` (lxc-ubuntu's `ubuntu`/`ubuntu`).
pub async fn make_user(
    sys: &dyn Sys,
    rootfs: &Path,
    user: &str,
    password: &str,
) -> Result<(), TemplateError> {
    if !has_entry(rootfs, "passwd", user) {
        let add = in_guest(
            rootfs,
            &["useradd", "--create-home", "-s", "/bin/bash", user],
        );
        run_ok(sys, NAME, &add).await?;
    }
    let mut set = in_guest(rootfs, &["chpasswd"]);
    set.stdin = Some(format!("{user}:{password}\n").into_bytes());
    run_ok(sys, NAME, &set).await.map(|_| ())
}

/// Puts `user` in group sudo (made if the guest lacks it).
pub async fn sudoer(sys: &dyn Sys, rootfs: &Path, user: &str) -> Result<(), TemplateError> {
    if !has_entry(rootfs, "group", "sudo") {
        run_ok(
            sys,
            NAME,
            &in_guest(rootfs, &["groupadd", "--system", "sudo"]),
        )
        .await?;
    }
    run_ok(
        sys,
        NAME,
        &in_guest(rootfs, &["usermod", "-aG", "sudo", user]),
    )
    .await
    .map(|_| ())
}

/// A host account as `getent` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostAccount {
    /// The passwd line.
    pub passwd: String,
    /// The shadow line (a locked one when the host has none for it).
    pub shadow: String,
    /// The primary group's line, when the host has one.
    pub group: Option<String>,
}

impl HostAccount {
    fn field(&self, n: usize) -> &str {
        self.passwd.split(':').nth(n).unwrap_or("")
    }
    /// The login name.
    pub fn name(&self) -> &str {
        self.field(0)
    }
    /// The home directory.
    pub fn home(&self) -> &str {
        self.field(5)
    }
    /// The login shell.
    pub fn shell(&self) -> &str {
        self.field(6)
    }
}

async fn getent(sys: &dyn Sys, db: &str, key: &str) -> Result<Option<String>, TemplateError> {
    let out = sys
        .run(&Tool::new("getent", [db, key]))
        .await
        .map_err(|source| TemplateError::Sys {
            template: NAME.into(),
            source,
        })?;
    Ok((out.status == 0)
        .then(|| out.stdout_text().lines().next().unwrap_or("").to_string())
        .filter(|l| !l.is_empty()))
}

/// The host's account of `user` (`-b`), or an error naming it.
pub async fn host_account(sys: &dyn Sys, user: &str) -> Result<HostAccount, TemplateError> {
    let passwd = getent(sys, "passwd", user)
        .await?
        .filter(|l| l.split(':').count() == 7)
        .ok_or_else(|| failed(format!("-b {user}: no such user on this host")))?;
    let shadow = getent(sys, "shadow", user)
        .await?
        .unwrap_or_else(|| format!("{user}:!:::::::"));
    let gid = passwd.split(':').nth(3).unwrap_or("");
    let group = getent(sys, "group", gid).await?;
    Ok(HostAccount {
        passwd,
        shadow,
        group,
    })
}

/// Gives the guest the host account (lxc-ubuntu's `-b`): its passwd,
/// shadow and group entries and the mount point of its home; returns the
/// config line that binds the home at start.
pub fn bind_home(rootfs: &Path, a: &HostAccount) -> Result<String, TemplateError> {
    let home = a.home().trim_start_matches('/');
    if home.is_empty() || home.split('/').any(|c| c == "..") {
        return Err(failed(format!(
            "-b {}: its home `{}` cannot be bound",
            a.name(),
            a.home()
        )));
    }
    let shell = a.shell();
    if !shell.is_empty()
        && std::fs::symlink_metadata(rootfs.join(shell.trim_start_matches('/'))).is_err()
    {
        return Err(failed(format!(
            "-b {}: its shell {shell} is not in the guest; add its package with --packages",
            a.name()
        )));
    }
    if has_entry(rootfs, "passwd", a.name()) {
        return Err(failed(format!(
            "-b {}: the guest has that user already",
            a.name()
        )));
    }
    append_in(rootfs, "etc/passwd", &format!("{}\n", a.passwd)).map_err(failed)?;
    append_in(rootfs, "etc/shadow", &format!("{}\n", a.shadow)).map_err(failed)?;
    if let Some(g) = &a.group {
        let name = g.split(':').next().unwrap_or("");
        if !has_entry(rootfs, "group", name) {
            append_in(rootfs, "etc/group", &format!("{g}\n")).map_err(failed)?;
        }
    }
    // The mount point (the parents of a name inside it are made).
    make_parents(rootfs, &format!("{home}/.mountpoint")).map_err(failed)?;
    Ok(format!(
        "lxc.mount.entry = {} {home} none bind,create=dir 0 0",
        a.home()
    ))
}

/// The guest's uid and gid of `user`, from its passwd.
fn guest_ids(rootfs: &Path, user: &str) -> Option<(u32, u32)> {
    let text = rlxc_core::templates::guest_files::read_in(rootfs, "etc/passwd")?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&user) && f.len() == 7)
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))?
    })
}

/// `-S FILE`: the key as the user's `~/.ssh/authorized_keys`, owned by it.
pub fn authorize_key(rootfs: &Path, user: &str, key_file: &Path) -> Result<(), TemplateError> {
    let key = std::fs::read_to_string(key_file).map_err(|source| TemplateError::Io {
        template: NAME.into(),
        path: key_file.to_path_buf(),
        source,
    })?;
    let (uid, gid) =
        guest_ids(rootfs, user).ok_or_else(|| failed(format!("no user `{user}` in the guest")))?;
    let rel = format!("home/{user}/.ssh/authorized_keys");
    write_mode(rootfs, &rel, &key, 0o600).map_err(failed)?;
    let ssh = rootfs.join(format!("home/{user}/.ssh"));
    use std::os::unix::fs::PermissionsExt;
    let own = |p: &Path| {
        std::os::unix::fs::lchown(p, Some(uid), Some(gid)).map_err(|source| TemplateError::Io {
            template: NAME.into(),
            path: p.to_path_buf(),
            source,
        })
    };
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o700)).map_err(|source| {
        TemplateError::Io {
            template: NAME.into(),
            path: ssh.clone(),
            source,
        }
    })?;
    own(&ssh)?;
    own(&ssh.join("authorized_keys"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_config_follows_the_nics_and_the_release() {
        assert_eq!(
            netplan(&["eth0".into(), "eth1".into()]),
            "network:\n  version: 2\n  ethernets:\n    eth0: {dhcp4: true}\n    eth1: {dhcp4: true}\n"
        );
        assert_eq!(netplan(&[]), "network:\n  version: 2\n");
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("usr/sbin")).unwrap();
        configure_files(r, "u1", "deb x noble main\n", &["eth0".into()]).unwrap();
        assert!(
            r.join("etc/network/interfaces").is_file(),
            "no netplan: ifupdown"
        );
        std::fs::write(r.join("usr/sbin/netplan"), "").unwrap();
        configure_files(r, "u1", "deb x noble main\n", &["eth0".into()]).unwrap();
        assert!(std::fs::read_to_string(r.join("etc/netplan/10-lxc.yaml"))
            .unwrap()
            .contains("eth0: {dhcp4: true}"));
        assert_eq!(
            std::fs::read_to_string(r.join("etc/hostname")).unwrap(),
            "u1\n"
        );
    }

    #[test]
    fn a_host_account_is_copied_and_its_home_bound() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::create_dir_all(r.join("bin")).unwrap();
        std::fs::write(r.join("bin/bash"), "").unwrap();
        std::fs::write(r.join("etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n").unwrap();
        std::fs::write(r.join("etc/shadow"), "root:*:1::::::\n").unwrap();
        std::fs::write(r.join("etc/group"), "root:x:0:\n").unwrap();
        let a = HostAccount {
            passwd: "jo:x:1000:1000:Jo,,,:/home/jo:/bin/bash".into(),
            shadow: "jo:$6$x:19000:0:99999:7:::".into(),
            group: Some("jo:x:1000:".into()),
        };
        let line = bind_home(r, &a).unwrap();
        assert_eq!(
            line,
            "lxc.mount.entry = /home/jo home/jo none bind,create=dir 0 0"
        );
        assert!(std::fs::read_to_string(r.join("etc/passwd"))
            .unwrap()
            .ends_with("jo:x:1000:1000:Jo,,,:/home/jo:/bin/bash\n"));
        assert!(std::fs::read_to_string(r.join("etc/group"))
            .unwrap()
            .contains("jo:x:1000:\n"));
        assert!(r.join("home/jo").is_dir());
        assert!(bind_home(r, &a)
            .unwrap_err()
            .to_string()
            .contains("has that user already"));
        let zsh = HostAccount {
            passwd: "zo:x:1001:1001::/home/zo:/usr/bin/zsh".into(),
            ..a.clone()
        };
        assert!(bind_home(r, &zsh)
            .unwrap_err()
            .to_string()
            .contains("/usr/bin/zsh is not in the guest"));
        // SAFETY: a plain getter.
        if unsafe { libc::geteuid() } != 0 {
            return; // the key's chown needs root
        }
        let k = r.join("k.pub");
        std::fs::write(&k, "ssh-ed25519 AAAA test\n").unwrap();
        authorize_key(r, "jo", &k).unwrap();
        assert_eq!(
            std::fs::read_to_string(r.join("home/jo/.ssh/authorized_keys")).unwrap(),
            "ssh-ed25519 AAAA test\n"
        );
        assert!(authorize_key(r, "nobody", &k).is_err());
    }
}
