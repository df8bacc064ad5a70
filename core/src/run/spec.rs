//! What the container's first process does, read from its config in one
//! pass: the namespaces, the command, identity, ttys, mounts and signals. The
//! backends (rootfs, NICs) and cgroup limits are the [`StartPlan`]'s
//! (`crate::start::plan`), which holds this spec; nothing after the plan reads
//! the config again.
//!
//! [`StartPlan`]: crate::start::StartPlan

use std::path::{Path, PathBuf};

use super::automount::{ProcMode, SysMode};
use super::cgroup_mount::CgroupMode;
use super::privs::Privileges;
use super::prlimit::Prlimit;
use crate::config::Config;
use crate::storage::RootfsSpec;

use super::kernel_keys::KernelKeys;
pub use super::mount_entry::MountEntry;
pub use super::namespaces::Namespaces;
use super::spec_reader::Reader;
pub use super::spec_reader::{cap_number, split_command, SpecError};

/// What `lxc.mount.auto` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoMounts {
    /// How `/proc` is mounted.
    pub proc: ProcMode,
    /// How `/sys` is mounted, if at all.
    pub sys: Option<SysMode>,
    /// How the container's cgroups appear at `/sys/fs/cgroup`.
    pub cgroup: CgroupMode,
    /// `shmounts:HOST[:CONTAINER]`: a shared tmpfs at HOST on the host, bound
    /// at CONTAINER (default `/dev/.lxc-mounts`), so mounts the host makes
    /// below HOST appear in the container.
    pub shmounts: Option<(PathBuf, String)>,
}

impl AutoMounts {
    pub(crate) fn parse(v: &str) -> AutoMounts {
        let mut a = AutoMounts {
            proc: ProcMode::Off,
            sys: None,
            cgroup: CgroupMode::Off,
            shmounts: None,
        };
        for tok in v.split_whitespace() {
            let (head, opt) = tok.split_once(':').unwrap_or((tok, ""));
            match head {
                // Values are checked at load; an unchecked one gets the tight mode.
                "proc" => a.proc = ProcMode::parse(opt).unwrap_or(ProcMode::Mixed),
                "sys" => a.sys = Some(SysMode::parse(opt)),
                "cgroup" | "cgroup-full" => a.cgroup = CgroupMode::parse(opt),
                "shmounts" if !opt.is_empty() => {
                    let (host, cont) = opt.split_once(':').unwrap_or((opt, "/dev/.lxc-mounts"));
                    a.shmounts = Some((PathBuf::from(host), cont.to_string()));
                }
                _ => {}
            }
        }
        a
    }
}

/// Everything one start needs.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// Container name.
    pub name: String,
    /// The container directory.
    pub dir: PathBuf,
    /// The rootfs location as configured (mount targets under it, such as
    /// the guide's `/var/lib/lxc/CN/rootfs/proc`, are taken relative to it);
    /// `None` runs on the host's tree.
    pub rootfs: Option<PathBuf>,
    /// `lxc.rootfs.options`, split at commas.
    pub rootfs_options: Vec<String>,
    /// Namespaces.
    pub ns: Namespaces,
    /// Hostname (`lxc.uts.name`, default the container name).
    pub hostname: String,
    /// `lxc.init.cmd` split into words (default `/sbin/init`).
    pub init_cmd: Vec<String>,
    /// `lxc.execute.cmd` split into words, if set.
    pub execute_cmd: Option<Vec<String>>,
    /// `lxc.init.uid` / `lxc.init.gid`.
    pub uid: u32,
    /// See `uid`.
    pub gid: u32,
    /// `lxc.init.cwd` (default `/`).
    pub cwd: PathBuf,
    /// `lxc.environment` as `VAR=VALUE` (a bare `VAR` takes the caller's value).
    pub env: Vec<String>,
    /// `lxc.tty.max`.
    pub ttys: u32,
    /// `lxc.tty.dir` (ttys go to `/dev/<dir>/ttyN` with symlinks).
    pub tty_dir: Option<String>,
    /// `lxc.pty.max` (0 = no limit given).
    pub pty_max: u32,
    /// `lxc.console.path` is not `none`.
    pub console: bool,
    /// `lxc.console.logfile`.
    pub console_log: Option<PathBuf>,
    /// `lxc.autodev` (default on).
    pub autodev: bool,
    /// `lxc.autodev.tmpfs.size`: the `/dev` tmpfs's size in bytes.
    pub autodev_size: u32,
    /// `lxc.mount.auto`; without the key rlxc mounts a mixed `/proc` and a
    /// read-only `/sys` so a rootfs is usable.
    pub auto_mounts: AutoMounts,
    /// `lxc.mount.entry` lines, then `lxc.mount.fstab` lines.
    pub mounts: Vec<MountEntry>,
    /// `lxc.cap.drop`, `lxc.cap.keep` and `lxc.no_new_privs`.
    pub privs: Privileges,
    /// `lxc.prlimit.*`, for init.
    pub prlimits: Vec<Prlimit>,
    /// The seccomp filter init loads, set by the start plan
    /// ([`seccomp_filter`]) so that a compiled filter is cached per run dir.
    pub seccomp: Option<crate::seccomp::Seccomp>,
    /// `lxc.seccomp.notify.proxy` and `.cookie`, for `notify` rules.
    pub seccomp_proxy: crate::seccomp::notify::Proxy,
    /// `lxc.hook.*`, with the environment they get.
    pub hooks: super::hooks::Hooks,
    /// AppArmor / SELinux for init, as this host can apply them.
    pub lsm: super::lsm::LsmPlan,
    /// `lxc.sysctl.*`, `lxc.proc.*`, `lxc.arch`, `lxc.keyring.session`.
    pub kernel: KernelKeys,
    /// Signals: halt (stop), reboot, and the final stop signal.
    pub halt_signal: i32,
    /// `lxc.signal.reboot`.
    pub reboot_signal: i32,
    /// `lxc.signal.stop`.
    pub stop_signal: i32,
    /// `lxc.monitor.signal.pdeath`: sent to init when the monitor dies (0 = none).
    pub pdeath_signal: i32,
    /// `lxc.idmap`: the container runs in a user namespace with these maps.
    pub idmap: Option<crate::userns::Maps>,
    /// `lxc.namespace.share.net`: a container name, a pid or a namespace
    /// `lxc.namespace.share.NS = TARGET` for net, ipc, uts, cgroup, time and pid:
    /// the namespace joined (a container name, a pid or a namespace file).
    pub share: Vec<(String, String)>,
    /// `lxc.log.file`.
    pub log_file: Option<PathBuf>,
    /// `lxc.log.level`.
    pub log_level: Option<String>,
    /// `lxc.ephemeral`: destroyed when it stops.
    pub ephemeral: bool,
}

/// The namespaces `lxc.namespace.share.*` can join (their flags:
/// [`super::namespaces::flag_of`]). `pid` is joined by the monitor around the
/// clone: a pid namespace is entered by the children of whoever joins it.
pub const SHAREABLE: &[&str] = &["net", "ipc", "uts", "cgroup", "time", "pid"];

impl RunSpec {
    /// The maps the rootfs is mounted through (`lxc.rootfs.options =
    /// idmap=container` with `lxc.idmap`).
    pub fn rootfs_idmap(&self) -> Option<&crate::userns::Maps> {
        self.idmap
            .as_ref()
            .filter(|_| crate::userns::idmapped::asks_idmap(&self.rootfs_options))
    }

    /// What `lxc.namespace.share.NS` names, if set.
    pub fn share_of(&self, ns: &str) -> Option<&str> {
        self.share
            .iter()
            .find(|(n, _)| n == ns)
            .map(|(_, t)| t.as_str())
    }

    /// Reads the spec of container `name` in `dir` from its loaded config.
    pub fn from_config(name: &str, dir: &Path, cfg: &Config) -> Result<RunSpec, SpecError> {
        let r = Reader { name, cfg };
        let (num, sig, words) = (|k, d| r.num(k, d), |k, d| r.signal(k, d), |k| r.words(k));
        let mut mounts = r.mounts(dir)?;
        let ns = namespaces(cfg);
        let auto_mounts = cfg.get("lxc.mount.auto").map_or(
            AutoMounts {
                proc: ProcMode::Mixed,
                sys: Some(SysMode::Ro),
                cgroup: CgroupMode::Off,
                shmounts: None,
            },
            AutoMounts::parse,
        );
        // shmounts' container side is a bind of the host side (made by the
        // monitor before the rootfs), as LXC adds it.
        if let Some((host, cont)) = &auto_mounts.shmounts {
            mounts.push(MountEntry {
                source: host.display().to_string(),
                target: cont.trim_start_matches('/').to_string(),
                fstype: "none".into(),
                options: vec!["bind".into(), "create=dir".into()],
            });
        }
        let kernel = KernelKeys::from_config(cfg, &ns, auto_mounts.proc != ProcMode::Off)
            .map_err(|(k, why)| r.bad(&k, why))?;
        Ok(RunSpec {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            rootfs: cfg
                .rootfs_path()
                .filter(|r| !r.is_empty())
                .map(|r| PathBuf::from(RootfsSpec::parse(&r).location)),
            rootfs_options: cfg
                .get("lxc.rootfs.options")
                .map(|o| o.split(',').map(|w| w.trim().to_string()).collect())
                .unwrap_or_default(),
            ns,
            hostname: cfg.get("lxc.uts.name").unwrap_or(name).to_string(),
            init_cmd: words("lxc.init.cmd").unwrap_or_else(|| vec!["/sbin/init".into()]),
            execute_cmd: words("lxc.execute.cmd"),
            uid: num("lxc.init.uid", 0)?,
            gid: num("lxc.init.gid", 0)?,
            cwd: PathBuf::from(cfg.get("lxc.init.cwd").unwrap_or("/")),
            env: cfg
                .get_all("lxc.environment")
                .iter()
                .map(|s| s.to_string())
                .collect(),
            ttys: num("lxc.tty.max", 0)?,
            tty_dir: cfg.get("lxc.tty.dir").map(str::to_string),
            pty_max: num("lxc.pty.max", 0)?,
            console: cfg.get("lxc.console.path") != Some("none"),
            console_log: cfg.get("lxc.console.logfile").map(PathBuf::from),
            autodev: cfg.get_bool("lxc.autodev").unwrap_or(true),
            autodev_size: num("lxc.autodev.tmpfs.size", 500_000)?,
            auto_mounts,
            mounts,
            privs: r.privileges()?,
            prlimits: r.prlimits()?,
            seccomp: None,
            seccomp_proxy: crate::seccomp::notify::Proxy {
                address: cfg.get("lxc.seccomp.notify.proxy").map(str::to_string),
                cookie: cfg.get("lxc.seccomp.notify.cookie").map(str::to_string),
            },
            hooks: super::hooks::Hooks::from_config(name, &dir.join("config"), cfg),
            lsm: super::lsm::plan(
                name,
                dir.parent().unwrap_or(dir),
                cfg,
                super::lsm::HostLsm::detect(),
            )
            .map_err(|why| r.bad("lxc.apparmor.profile", why))?,
            kernel,
            halt_signal: sig("lxc.signal.halt", libc::SIGPWR)?,
            reboot_signal: sig("lxc.signal.reboot", libc::SIGINT)?,
            stop_signal: sig("lxc.signal.stop", libc::SIGKILL)?,
            pdeath_signal: sig("lxc.monitor.signal.pdeath", libc::SIGKILL)?,
            idmap: match cfg.idmaps() {
                m if m.is_empty() => None,
                m => Some(
                    crate::userns::Maps::from_idmaps(&m).map_err(|why| r.bad("lxc.idmap", why))?,
                ),
            },
            share: SHAREABLE
                .iter()
                .filter_map(|ns| {
                    cfg.get(&format!("lxc.namespace.share.{ns}"))
                        .map(|t| (ns.to_string(), t.to_string()))
                })
                .collect(),
            log_file: cfg.get("lxc.log.file").map(PathBuf::from),
            log_level: cfg.get("lxc.log.level").map(str::to_string),
            ephemeral: cfg.get_bool("lxc.ephemeral").unwrap_or(false),
        })
    }
}

/// The seccomp filter for container `name`'s config (`lxc.seccomp.profile`,
/// or rlxc's default deny list), compiled or taken from `cache_dir`; a bad
/// policy names the key, the file and the line.
pub fn seccomp_filter(
    name: &str,
    cfg: &Config,
    cache_dir: &Path,
) -> Result<Option<crate::seccomp::Seccomp>, SpecError> {
    crate::seccomp::for_config(cfg.get("lxc.seccomp.profile"), Some(cache_dir)).map_err(|e| {
        SpecError::Key {
            name: name.to_string(),
            key: "lxc.seccomp.profile".into(),
            why: e.to_string(),
        }
    })
}

/// Namespaces from `lxc.namespace.clone`/`keep` and the NIC types: a NIC of
/// type `none` shares the host's network namespace.
fn namespaces(cfg: &Config) -> Namespaces {
    let mut ns = Namespaces::ALL;
    if let Some(clone) = cfg.get("lxc.namespace.clone") {
        ns = Namespaces {
            mnt: false,
            pid: false,
            uts: false,
            ipc: false,
            net: false,
            cgroup: false,
        };
        for n in clone.split_whitespace() {
            ns.set(n, true);
        }
    }
    if let Some(keep) = cfg.get("lxc.namespace.keep") {
        for n in keep.split_whitespace() {
            ns.set(n, false);
        }
    }
    // `none` uses the host's network namespace, `share.net` another's: no new one.
    if cfg.nics().iter().any(|n| n.kind.as_deref() == Some("none")) {
        ns.net = false;
    }
    for name in SHAREABLE {
        if cfg.get(&format!("lxc.namespace.share.{name}")).is_some() {
            ns.set(name, false);
        }
    }
    // rlxc always needs its own mount namespace to set up a rootfs.
    ns.mnt = true;
    ns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::load_text;

    fn spec(text: &str) -> RunSpec {
        let cfg = load_text(text.as_bytes(), Path::new("config")).unwrap();
        RunSpec::from_config("c1", Path::new("/var/lib/lxc/c1"), &cfg).unwrap()
    }

    #[test]
    fn defaults_follow_lxc() {
        let s = spec("lxc.rootfs.path = dir:/var/lib/lxc/c1/rootfs\n");
        assert_eq!(s.rootfs, Some(PathBuf::from("/var/lib/lxc/c1/rootfs")));
        assert_eq!(s.hostname, "c1");
        assert_eq!(s.init_cmd, vec!["/sbin/init"]);
        assert_eq!(s.halt_signal, libc::SIGPWR);
        assert_eq!(s.pdeath_signal, libc::SIGKILL);
        assert_eq!(s.ns, Namespaces::ALL);
        assert!(s.console && s.autodev);
    }

    #[test]
    fn reads_the_privilege_keys() {
        let s = spec("lxc.cap.keep = none\nlxc.no_new_privs = 1\n");
        assert_eq!(s.privs.cap_keep, Some(vec![]));
        assert!(s.privs.no_new_privs);
        let s = spec("lxc.cap.keep = sys_chroot kill\n");
        assert_eq!(s.privs.cap_keep, Some(vec![18, 5]));
        assert_eq!(spec("").privs, Privileges::default());
        let s = spec("lxc.prlimit.nofile = 512:1024\nlxc.limit.core = unlimited\n");
        assert_eq!(s.prlimits.len(), 2, "the legacy lxc.limit.* too");
        assert_eq!((s.prlimits[0].soft, s.prlimits[0].hard), (512, 1024));
    }

    #[test]
    fn reads_the_guide_keys_in_both_dialects() {
        let s = spec(
            "lxc.utsname = web\nlxc.tty = 3\nlxc.pts = 16\nlxc.devttydir = lxc\n\
             lxc.cap.drop = sys_module CAP_MAC_ADMIN\nlxc.init.cmd = /bin/sh -c 'echo hi'\n\
             lxc.environment = A=1\nlxc.network.type = none\nlxc.signal.halt = SIGUSR1\n\
             lxc.mount.entry = proc proc proc nodev,noexec 0 0\nlxc.mount.auto = sys:rw\n",
        );
        assert_eq!(s.hostname, "web");
        assert_eq!((s.ttys, s.pty_max), (3, 16));
        assert_eq!(s.tty_dir.as_deref(), Some("lxc"));
        assert_eq!(s.privs.cap_drop, vec![16, 33]);
        assert_eq!(s.init_cmd, vec!["/bin/sh", "-c", "echo hi"]);
        assert_eq!(s.env, vec!["A=1"]);
        assert!(!s.ns.net, "type none shares the host network");
        assert_eq!(s.halt_signal, libc::SIGUSR1);
        assert_eq!(s.mounts[0].fstype, "proc");
        assert!(s.mounts[0].has("noexec"));
        assert_eq!(s.auto_mounts.sys, Some(SysMode::Rw));
        assert_eq!(s.auto_mounts.proc, ProcMode::Off);
    }

    #[test]
    fn splits_commands() {
        assert_eq!(split_command("a  b 'c d' \"\""), vec!["a", "b", "c d", ""]);
        assert_eq!(cap_number("sys_admin"), Some(21));
        assert_eq!(cap_number("nope"), None);
    }
}
