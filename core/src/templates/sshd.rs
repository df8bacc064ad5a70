//! The `sshd` template: an application container that runs the host's
//! sshd, as LXC's `lxc-sshd` makes it, but tighter: the host's binaries and
//! libraries are bound read-only (never `/home`, `/root` or `/etc`), the
//! container has its own small `/etc` with host keys of its own, and login
//! is by key only (`-S key.pub` for root's `authorized_keys`; LXC's lets
//! root in with an empty password).
//!
//! Its init is a small script in the rootfs: DHCP on each NIC of the config
//! that has no address yet (busybox's udhcpc or dhclient, whichever the
//! host has), then `exec sshd -D`. `rlxc stop` sends it SIGTERM.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use async_trait::async_trait;

use super::guest_files::{hosts, write_in, write_mode};
use crate::sys::{Sys, Tool};
use crate::template::{Template, TemplateError, TemplateOutput, TemplateRequest};

/// The sshd template.
#[derive(Debug, Default, Clone, Copy)]
pub struct Sshd;

const NAME: &str = "sshd";

/// The host's sshd.
const SSHD: &str = "/usr/sbin/sshd";

/// The init script's place in the rootfs (outside the bound host trees).
const INIT: &str = "/sshd-init";

const HELP: &str = "sshd template: the host's sshd in an application container

  -S, --auth-key FILE   public key for root's ~/.ssh/authorized_keys (login is by key only)
";

/// The host trees the container shares, read-only; a host where one is a
/// symlink (merged /usr) gets the same link.
const HOST_TREES: &[&str] = &["usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"];

const SSHD_CONFIG: &str = "# rlxc's sshd template: key login only.
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
HostKey /etc/ssh/ssh_host_rsa_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
UsePAM no
PrintMotd no
PidFile /run/sshd.pid
Subsystem sftp internal-sftp
";

fn usage(reason: impl Into<String>) -> TemplateError {
    TemplateError::Usage {
        template: NAME.into(),
        reason: reason.into(),
    }
}

/// `-S FILE` (the template's only argument).
fn parse(args: &[String]) -> Result<Option<String>, TemplateError> {
    let mut key = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-S" | "--auth-key" => {
                key = Some(
                    it.next()
                        .cloned()
                        .ok_or_else(|| usage("`-S` needs a value"))?,
                )
            }
            s if s.starts_with("--auth-key=") => key = Some(s["--auth-key=".len()..].to_string()),
            other => {
                return Err(usage(format!(
                    "unknown argument `{other}` (see `create -t sshd -h`)"
                )))
            }
        }
    }
    Ok(key)
}

/// The init script: DHCP on `nics` without an address, then sshd.
pub fn init_script(nics: &[String], dhcp: Option<&str>) -> String {
    let mut t = String::from("#!/bin/sh\n# rlxc's sshd template: the container's init.\n");
    if let Some(client) = dhcp {
        for n in nics {
            t.push_str(&format!(
                "ip -4 addr show dev {n} 2>/dev/null | grep -q inet || {}\n",
                client.replace("{nic}", n)
            ));
        }
    }
    t.push_str(&format!("exec {SSHD} -D -e\n"));
    t
}

/// The DHCP client command the host offers (`{nic}` for the NIC's name).
fn dhcp_client() -> Option<&'static str> {
    if Path::new("/bin/busybox").exists() {
        Some("/bin/busybox udhcpc -b -i {nic} -s /etc/udhcpc.script -x hostname:$(hostname) >/dev/null 2>&1")
    } else if super::prerequisites::on_path("dhclient") {
        Some("dhclient -nw {nic}")
    } else {
        None
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TemplateError + '_ {
    move |source| TemplateError::Io {
        template: NAME.into(),
        path: path.to_path_buf(),
        source,
    }
}

/// The host trees: a link where the host has one, else a mount point and
/// a read-only bind. Returns the config lines.
fn share_host_trees(root: &Path) -> Result<Vec<String>, TemplateError> {
    let mut lines = Vec::new();
    for t in HOST_TREES {
        let host = Path::new("/").join(t);
        let Ok(m) = std::fs::symlink_metadata(&host) else {
            continue;
        };
        let inside = root.join(t);
        if m.file_type().is_symlink() {
            let target = std::fs::read_link(&host).map_err(io(&host))?;
            std::os::unix::fs::symlink(&target, &inside).map_err(io(&inside))?;
        } else if m.is_dir() {
            std::fs::create_dir_all(&inside).map_err(io(&inside))?;
            lines.push(format!("lxc.mount.entry = /{t} {t} none ro,bind 0 0"));
        }
    }
    Ok(lines)
}

/// The container's own /etc and the directories sshd needs.
fn own_tree(root: &Path, name: &str) -> Result<(), TemplateError> {
    for (d, mode) in [
        ("dev", 0o755),
        ("proc", 0o555),
        ("sys", 0o555),
        ("tmp", 0o1777),
        ("run", 0o755),
        ("run/sshd", 0o755),
        ("var", 0o755),
        ("var/log", 0o755),
        ("root", 0o700),
        ("root/.ssh", 0o700),
        ("etc", 0o755),
        ("etc/ssh", 0o755),
    ] {
        let p = root.join(d);
        std::fs::create_dir_all(&p).map_err(io(&p))?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).map_err(io(&p))?;
    }
    let w = |rel: &str, text: &str| write_in(root, rel, text).map_err(usage);
    w("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nsshd:x:74:65534:privilege separation:/run/sshd:/usr/sbin/nologin\n")?;
    w("etc/group", "root:x:0:\nnogroup:x:65534:\n")?;
    // `*`: no password; a key still logs in (`!` would lock the account).
    write_mode(
        root,
        "etc/shadow",
        "root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\n",
        0o640,
    )
    .map_err(usage)?;
    w("etc/hostname", &format!("{name}\n"))?;
    w("etc/hosts", &hosts(name))?;
    w("etc/ssh/sshd_config", SSHD_CONFIG)?;
    w("etc/udhcpc.script", super::busybox::UDHCPC_SCRIPT)?;
    let script = root.join("etc/udhcpc.script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .map_err(io(&script))?;
    // The loader's cache and sshd's moduli, copied (the host's /etc stays out).
    for f in ["etc/ld.so.cache", "etc/ssh/moduli", "etc/nsswitch.conf"] {
        let host = Path::new("/").join(f);
        if host.is_file() {
            std::fs::copy(&host, root.join(f)).map_err(io(&host))?;
        }
    }
    Ok(())
}

#[async_trait]
impl Template for Sshd {
    fn name(&self) -> &str {
        NAME
    }

    fn help(&self) -> String {
        HELP.to_string()
    }

    async fn create(
        &self,
        sys: &dyn Sys,
        req: &TemplateRequest,
    ) -> Result<TemplateOutput, TemplateError> {
        let key = parse(&req.args)?;
        if req.mapped_uid.is_some() {
            return Err(usage(
                "an unprivileged container cannot share the host's sshd (use a distribution template)",
            ));
        }
        if !Path::new(SSHD).is_file() {
            return Err(TemplateError::Missing {
                template: NAME.into(),
                what: SSHD.into(),
                hint: "install openssh-server".into(),
            });
        }
        let key_text = key
            .as_deref()
            .map(|k| std::fs::read_to_string(k).map_err(io(Path::new(k))))
            .transpose()?;
        let root = &req.rootfs;
        let mut lines = share_host_trees(root)?;
        own_tree(root, &req.name)?;
        if let Some(k) = &key_text {
            write_mode(root, "root/.ssh/authorized_keys", k, 0o600).map_err(usage)?;
        } else {
            tracing::warn!("sshd template: no -S key: nobody can log in until a key is in /root/.ssh/authorized_keys");
        }
        let dhcp = dhcp_client();
        write_mode(
            root,
            INIT.trim_start_matches('/'),
            &init_script(&req.nics, dhcp),
            0o755,
        )
        .map_err(usage)?;
        let keygen = Tool::new(
            "ssh-keygen",
            ["-A".to_string(), "-f".into(), root.display().to_string()],
        );
        super::debootstrap::run_ok(sys, NAME, &keygen).await?;
        lines.extend([
            format!("lxc.init.cmd = {INIT}"),
            "lxc.signal.halt = SIGTERM".into(),
            "lxc.autodev = 1".into(),
            "lxc.pty.max = 1024".into(),
            "lxc.mount.auto = cgroup:mixed proc:mixed sys:mixed".into(),
            // sshd needs none of these; without sys_admin root cannot remount
            // the host's trees writable.
            "lxc.cap.drop = sys_module mac_admin mac_override sys_time sys_admin sys_rawio mknod"
                .into(),
        ]);
        Ok(TemplateOutput {
            config_lines: lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_and_init() {
        assert_eq!(
            parse(&["-S".into(), "/k".into()]).unwrap().as_deref(),
            Some("/k")
        );
        assert_eq!(
            parse(&["--auth-key=/k".into()]).unwrap().as_deref(),
            Some("/k")
        );
        assert!(parse(&["-x".into()]).is_err());
        assert!(parse(&["-S".into()]).is_err());
        let s = init_script(&["eth0".into()], Some("dhclient -nw {nic}"));
        assert!(s.contains("grep -q inet || dhclient -nw eth0\n"), "{s}");
        assert!(s.ends_with("exec /usr/sbin/sshd -D -e\n"));
        assert!(!init_script(&["eth0".into()], None).contains("eth0"));
    }
}
