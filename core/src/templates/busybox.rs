//! The `busybox` template: a tiny working system made from the host's busybox.
//!
//! It lays out the same tree as LXC's `lxc-busybox` script and writes the same
//! config lines, but makes the ~400 applet links itself instead of forking
//! `ln` once per applet, which is most of LXC's 400 ms. Init runs a getty on
//! every tty the config gives and a shell on the console; rcS takes a DHCP
//! lease on eth0; busybox is set-user-id so that `ping` works for users.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use crate::sys::{run_checked, Sys, Tool};
use crate::template::{Template, TemplateError, TemplateOutput, TemplateRequest};

/// The busybox template.
#[derive(Debug, Default, Clone, Copy)]
pub struct Busybox;

impl Busybox {
    /// The template.
    pub fn new() -> Self {
        Busybox
    }
}

const NAME: &str = "busybox";

const DIRS: &[&str] = &[
    "selinux",
    "dev",
    "home",
    "root",
    "etc",
    "etc/init.d",
    "bin",
    "usr/bin",
    "sbin",
    "usr/sbin",
    "proc",
    "sys",
    "mnt",
    "tmp",
    "var/log",
    "var/run",
    "dev/pts",
    "lib",
    "usr/lib",
    "lib64",
    "usr/lib64",
    "usr/share/udhcpc",
];

/// Boot: DHCP on eth0, in the background (a container without a server goes
/// on), unless the config gave eth0 a static address; with the script named
/// (Debian's busybox looks in /etc/udhcpc otherwise) and the hostname sent,
/// so dnsmasq on the bridge can resolve it.
const RCS: &str = "#!/bin/sh\nsyslogd\nmount -a\n\
ip -4 addr show eth0 2>/dev/null | grep -q inet || \
udhcpc -b -i eth0 -s /usr/share/udhcpc/default.script -x hostname:$(hostname) >/dev/null 2>&1\n";
/// The ttys the config gives (`lxc.tty.max` in [`config_lines`]); init runs
/// a getty on each, and a shell on the console.
const TTYS: u32 = 5;

fn inittab() -> String {
    let mut t = String::from("::sysinit:/etc/init.d/rcS\n");
    for n in 1..=TTYS {
        t.push_str(&format!(
            "tty{n}::respawn:/sbin/getty -L tty{n} 115200 vt100\n"
        ));
    }
    t.push_str("console::askfirst:/bin/sh\n");
    t
}
pub(crate) const UDHCPC_SCRIPT: &str = r#"#!/bin/sh
case "$1" in
  deconfig)
    ip addr flush dev $interface
    ;;
  renew|bound)
    [ -n "$router" ] && ip route del default 2> /dev/null
    [ -n "$broadcast" ] && broadcast="broadcast $broadcast"
    ip addr add $ip/$mask $broadcast dev $interface
    [ -n "$router" ] && ip route add default via $router dev $interface
    [ -n "$domain" ] && echo search $domain > /etc/resolv.conf
    for i in $dns ; do
      grep -q "nameserver $i" /etc/resolv.conf 2>/dev/null || echo nameserver $i >> /etc/resolv.conf
    done
    ;;
esac
exit 0
"#;

fn usage(reason: impl Into<String>) -> TemplateError {
    TemplateError::Usage {
        template: NAME.into(),
        reason: reason.into(),
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TemplateError + '_ {
    move |source| TemplateError::Io {
        template: NAME.into(),
        path: path.to_path_buf(),
        source,
    }
}

/// Parses the template's own arguments: `[--busybox-path PATH]`.
fn parse_args(args: &[String]) -> Result<Option<PathBuf>, TemplateError> {
    let mut path = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--busybox-path" => {
                path = Some(PathBuf::from(
                    it.next()
                        .ok_or_else(|| usage("--busybox-path needs a path"))?,
                ));
            }
            s if s.starts_with("--busybox-path=") => {
                path = Some(PathBuf::from(&s["--busybox-path=".len()..]))
            }
            other => {
                return Err(usage(format!(
                    "unknown argument `{other}` (this template takes --busybox-path PATH)"
                )))
            }
        }
    }
    Ok(path)
}

/// Finds busybox in `PATH`.
fn find_busybox() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join("busybox"))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether an ELF binary is statically linked (has no program interpreter).
fn is_static(bytes: &[u8]) -> bool {
    // ELF64 little endian: e_phoff at 0x20, e_phentsize at 0x36, e_phnum at 0x38; PT_INTERP = 3.
    if bytes.len() < 0x40 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap_or([0; 8])) as usize;
    let (size, num) = (u16_at(0x36), u16_at(0x38));
    (0..num).all(|i| {
        let o = phoff + i * size;
        bytes
            .get(o..o + 4)
            .is_some_and(|t| u32::from_le_bytes([t[0], t[1], t[2], t[3]]) != 3)
    })
}

/// Parses `busybox --list-full` output into rootfs-relative applet paths.
pub fn parse_applets(list: &str) -> Vec<String> {
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains("..") && !l.ends_with("/busybox"))
        .map(|l| l.trim_start_matches('/').to_string())
        .collect()
}

fn config_lines(name: &str, static_busybox: bool) -> Vec<String> {
    let mut lines: Vec<String> = [
        "lxc.signal.halt = SIGUSR1",
        "lxc.signal.reboot = SIGTERM",
        "lxc.autodev = 1",
        "lxc.tty.max = @TTYS@",
        "lxc.pty.max = 1",
        "lxc.cap.drop = sys_module mac_admin mac_override sys_time",
        "lxc.mount.auto = cgroup:mixed proc:mixed sys:ro",
        "lxc.mount.entry = shm dev/shm tmpfs defaults,create=dir 0 0",
        "lxc.mount.entry = mqueue dev/mqueue mqueue defaults,optional,create=dir 0 0",
    ]
    .iter()
    .map(|s| s.replace("@TTYS@", &TTYS.to_string()))
    .collect();
    lines.insert(2, format!("lxc.uts.name = {name}"));
    if !static_busybox {
        for dir in ["lib", "usr/lib", "lib64", "usr/lib64"] {
            if Path::new("/").join(dir).is_dir() {
                lines.push(format!("lxc.mount.entry = /{dir} {dir} none ro,bind 0 0"));
            }
        }
    }
    lines.push(
        "lxc.mount.entry = /sys/kernel/security sys/kernel/security none ro,bind,optional 0 0"
            .into(),
    );
    lines
}

/// Whether a busybox binary was built with FEATURE_SUID (its message for
/// applets that need the bit is in it).
fn has_suid_handling(bytes: &[u8]) -> bool {
    let needle = b"must be suid to work properly";
    bytes.windows(needle.len()).any(|w| w == needle)
}

fn write_file(path: &Path, text: impl AsRef<[u8]>, mode: u32) -> Result<(), TemplateError> {
    std::fs::write(path, text).map_err(io(path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io(path))
}

fn lay_out(rootfs: &Path) -> Result<(), TemplateError> {
    for d in DIRS {
        let p = rootfs.join(d);
        std::fs::create_dir_all(&p).map_err(io(&p))?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).map_err(io(&p))?;
    }
    let tmp = rootfs.join("tmp");
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).map_err(io(&tmp))?;
    write_file(
        &rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\n",
        0o644,
    )?;
    write_file(&rootfs.join("etc/group"), "root:x:0:root\n", 0o644)?;
    write_file(&rootfs.join("etc/shadow"), "", 0o600)?;
    write_file(&rootfs.join("etc/fstab"), "", 0o644)?;
    write_file(&rootfs.join("etc/init.d/rcS"), RCS, 0o744)?;
    write_file(&rootfs.join("etc/inittab"), inittab(), 0o644)?;
    write_file(
        &rootfs.join("usr/share/udhcpc/default.script"),
        UDHCPC_SCRIPT,
        0o744,
    )
}

fn link_applets(rootfs: &Path, applets: &[String]) -> Result<usize, TemplateError> {
    let mut made = 0;
    for a in applets {
        let link = rootfs.join(a);
        if link.symlink_metadata().is_ok() {
            continue;
        }
        if let Some(dir) = link.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        symlink("/bin/busybox", &link).map_err(io(&link))?;
        made += 1;
    }
    Ok(made)
}

#[async_trait]
impl Template for Busybox {
    fn name(&self) -> &str {
        NAME
    }

    fn help(&self) -> String {
        "busybox template: a minimal system from the host's busybox\n\n  --busybox-path PATH   busybox binary to copy (default: busybox in PATH)\n"
            .to_string()
    }

    async fn create(
        &self,
        sys: &dyn Sys,
        req: &TemplateRequest,
    ) -> Result<TemplateOutput, TemplateError> {
        let busybox = match parse_args(&req.args)? {
            Some(p) => p,
            None => find_busybox().ok_or_else(|| TemplateError::Missing {
                template: NAME.into(),
                what: "busybox".into(),
                hint:
                    "install it (`apt-get install busybox-static`) or pass `-- --busybox-path PATH`"
                        .into(),
            })?,
        };
        let bytes = std::fs::read(&busybox).map_err(io(&busybox))?;
        let list = run_checked(
            sys,
            &Tool::new(&busybox.display().to_string(), ["--list-full"]),
        )
        .await
        .map_err(|source| TemplateError::Sys {
            template: NAME.into(),
            source,
        })?;
        let applets = parse_applets(&list.stdout_text());
        lay_out(&req.rootfs)?;
        let dest = req.rootfs.join("bin/busybox");
        // Set-user-id only for a busybox built with its SUID handling
        // (FEATURE_SUID: it drops to the caller's ids for every applet but
        // those that need root, such as ping's raw socket), so users can
        // ping; any other busybox would run every applet as root.
        let suid = has_suid_handling(&bytes);
        if !suid {
            tracing::warn!("busybox template: {} has no SUID handling: not made set-user-id (ping is for root only)", busybox.display());
        }
        write_file(&dest, &bytes, if suid { 0o4755 } else { 0o755 })?;
        let init = req.rootfs.join("sbin/init");
        std::fs::hard_link(&dest, &init).map_err(io(&init))?;
        let n = link_applets(&req.rootfs, &applets)?;
        tracing::debug!(
            applets = n,
            "busybox rootfs made in {}",
            req.rootfs.display()
        );
        Ok(TemplateOutput {
            config_lines: config_lines(&req.name, is_static(&bytes)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{FakeSys, ToolOutput};

    #[test]
    fn only_a_busybox_with_suid_handling_is_made_set_user_id() {
        assert!(has_suid_handling(b"xx must be suid to work properly yy"));
        assert!(!has_suid_handling(b"a busybox built without FEATURE_SUID"));
    }

    #[test]
    fn applet_list() {
        let a = parse_applets("/bin/sh\nusr/bin/[\n\nbin/busybox\n../etc/evil\n");
        assert_eq!(a, vec!["bin/sh", "usr/bin/["]);
    }

    #[test]
    fn args() {
        assert_eq!(parse_args(&[]).unwrap(), None);
        assert_eq!(
            parse_args(&["--busybox-path".into(), "/x/busybox".into()]).unwrap(),
            Some(PathBuf::from("/x/busybox"))
        );
        assert!(parse_args(&["--release".into()])
            .unwrap_err()
            .to_string()
            .contains("unknown argument `--release`"));
    }

    #[test]
    fn static_detection_on_this_host() {
        let sh = std::fs::read("/bin/sh").unwrap();
        assert!(!is_static(&sh), "/bin/sh is dynamically linked");
        assert!(!is_static(b"#!/bin/sh\n"));
    }

    #[test]
    fn builds_a_rootfs_with_a_fake_busybox() {
        let d = tempfile::tempdir().unwrap();
        let fake_bb = d.path().join("busybox");
        std::fs::write(&fake_bb, b"not really busybox").unwrap();
        let sys = FakeSys::new();
        sys.answer(
            &fake_bb.display().to_string(),
            ToolOutput::ok("bin/sh\nsbin/init\nusr/bin/env\n"),
        );
        let req = TemplateRequest {
            name: "bb".into(),
            path: d.path().to_path_buf(),
            rootfs: d.path().join("rootfs"),
            args: vec!["--busybox-path".into(), fake_bb.display().to_string()],
            ..TemplateRequest::default()
        };
        std::fs::create_dir(&req.rootfs).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(Busybox.create(&sys, &req)).unwrap();
        let r = &req.rootfs;
        assert_eq!(
            std::fs::read_link(r.join("bin/sh")).unwrap(),
            PathBuf::from("/bin/busybox")
        );
        assert_eq!(
            std::fs::read(r.join("sbin/init")).unwrap(),
            b"not really busybox"
        );
        assert!(r.join("usr/bin/env").symlink_metadata().is_ok());
        assert_eq!(
            std::fs::metadata(r.join("tmp"))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777,
            0o1777
        );
        assert!(out.config_lines.contains(&"lxc.uts.name = bb".to_string()));
        let missing = TemplateRequest {
            args: vec!["--busybox-path".into(), "/nonexistent/busybox".into()],
            ..req.clone()
        };
        assert!(rt.block_on(Busybox.create(&sys, &missing)).is_err());
    }
}
