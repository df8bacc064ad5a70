//! The keys that set kernel state for one container: `lxc.sysctl.*`,
//! `lxc.proc.*`, `lxc.arch` and `lxc.keyring.session`.
//!
//! `lxc.sysctl.*` is written into the container's own `/proc/sys` right
//! after it is mounted (before a mixed `/proc` makes it read-only), and only
//! for sysctls the container's own namespaces hold: `net.*` (its network
//! namespace), the IPC ones (`kernel.shm*`, `kernel.msg*`, `kernel.sem*`,
//! `fs.mqueue.*`) and `kernel.hostname`/`domainname`. LXC writes whatever
//! it is given, so `lxc.sysctl.vm.swappiness` retunes the host; rlxc refuses
//! that and says so.
//!
//! `lxc.proc.X = V` is written by the monitor to `/proc/PID/X` of init
//! (`oom_score_adj`, say) before init runs.
//!
//! `lxc.time.offset.boot` / `.monotonic` give the container a time
//! namespace of its own with those clock offsets: made just before init's
//! exec, which moves init into it (Linux 5.17+).

use super::namespaces::Namespaces;
use crate::config::Config;

/// One `lxc.sysctl.KEY = VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sysctl {
    /// `net.ipv4.ip_forward`.
    pub key: String,
    /// What is written.
    pub value: String,
}

impl Sysctl {
    /// Its file below `/proc/sys`.
    pub fn path(&self) -> String {
        self.key.replace('.', "/")
    }
}

/// The container's kernel settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelKeys {
    /// `lxc.sysctl.*`, in config order.
    pub sysctls: Vec<Sysctl>,
    /// `lxc.proc.*`: file below `/proc/PID`, value.
    pub proc: Vec<(String, String)>,
    /// `personality(2)` for `lxc.arch` (`PER_LINUX32` for a 32-bit x86).
    pub personality: Option<libc::c_ulong>,
    /// `lxc.keyring.session`: init gets a new session keyring (default).
    pub session_keyring: bool,
    /// `lxc.time.offset.monotonic` and `.boot` in nanoseconds, when set.
    pub time_offsets: Option<(i64, i64)>,
    /// `lxc.sched.core`: init's thread group gets a core-scheduling cookie
    /// of its own, inherited by everything it starts.
    pub sched_core: bool,
}

/// Nanoseconds of a time offset such as `10s`, `-1h` or `500ms` (checked at load).
fn nanos(v: &str) -> Option<i64> {
    let (neg, digits) = v.strip_prefix('-').map_or((false, v), |d| (true, d));
    let split = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let (num, unit) = digits.split_at(split);
    let per: i64 = match unit {
        "h" => 3_600_000_000_000,
        "m" => 60_000_000_000,
        "" | "s" => 1_000_000_000,
        "ms" => 1_000_000,
        "us" => 1_000,
        "ns" => 1,
        _ => return None,
    };
    let n = num.parse::<i64>().ok()?.checked_mul(per)?;
    Some(if neg { -n } else { n })
}

/// `/proc/self/timens_offsets` lines for `(monotonic, boot)` nanoseconds.
pub fn timens_offsets(monotonic: i64, boot: i64) -> String {
    let line = |clock: &str, ns: i64| {
        format!(
            "{clock} {} {}\n",
            ns.div_euclid(1_000_000_000),
            ns.rem_euclid(1_000_000_000)
        )
    };
    line("monotonic", monotonic) + &line("boottime", boot)
}

/// Which namespace a sysctl lives in, by its key; `None`: the host's alone.
fn owner(key: &str) -> Option<&'static str> {
    const IPC: &[&str] = &[
        "kernel.shmmax",
        "kernel.shmall",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
        "kernel.shm_next_id",
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.msg_next_id",
        "kernel.sem",
        "kernel.sem_next_id",
    ];
    if key.starts_with("net.") {
        Some("net")
    } else if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        Some("ipc")
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        Some("uts")
    } else {
        None
    }
}

/// The `personality(2)` value of `lxc.arch` on this host, or why it cannot run.
fn personality(arch: &str) -> Result<Option<libc::c_ulong>, String> {
    const PER_LINUX32: libc::c_ulong = 0x0008;
    match arch {
        "x86_64" | "amd64" | "linux64" => Ok(None),
        "x86" | "i386" | "i486" | "i586" | "i686" | "athlon" | "linux32"
            if cfg!(target_arch = "x86_64") =>
        {
            Ok(Some(PER_LINUX32))
        }
        other => Err(format!(
            "`{other}` containers cannot run on this {} host",
            std::env::consts::ARCH
        )),
    }
}

impl KernelKeys {
    /// The settings of `cfg` for a container with namespaces `ns`, whose
    /// `/proc` rlxc mounts when `proc`; an error is the key and why.
    pub fn from_config(
        cfg: &Config,
        ns: &Namespaces,
        proc: bool,
    ) -> Result<KernelKeys, (String, String)> {
        let mut k = KernelKeys {
            session_keyring: cfg.get_bool("lxc.keyring.session").unwrap_or(true),
            sched_core: cfg.get_bool("lxc.sched.core").unwrap_or(false),
            ..KernelKeys::default()
        };
        for i in cfg.items() {
            if let Some(key) = i.key.strip_prefix("lxc.sysctl.") {
                check_sysctl(key, ns, proc).map_err(|why| (i.key.clone(), why))?;
                k.sysctls.push(Sysctl {
                    key: key.to_string(),
                    value: i.value.clone(),
                });
            } else if let Some(file) = i.key.strip_prefix("lxc.proc.") {
                if file.is_empty() || file.contains('/') || file.starts_with('.') {
                    return Err((
                        i.key.clone(),
                        format!("`{file}` is not a file of /proc/PID"),
                    ));
                }
                k.proc.push((file.to_string(), i.value.clone()));
            }
        }
        let offset = |key: &str| -> Result<i64, (String, String)> {
            cfg.get(key).map_or(Ok(0), |v| {
                nanos(v).ok_or_else(|| (key.to_string(), format!("`{v}` is out of range")))
            })
        };
        if cfg.get("lxc.time.offset.monotonic").is_some()
            || cfg.get("lxc.time.offset.boot").is_some()
        {
            k.time_offsets = Some((
                offset("lxc.time.offset.monotonic")?,
                offset("lxc.time.offset.boot")?,
            ));
        }
        if let Some(arch) = cfg.get("lxc.arch") {
            k.personality = personality(arch).map_err(|why| ("lxc.arch".to_string(), why))?;
        }
        Ok(k)
    }
}

fn check_sysctl(key: &str, ns: &Namespaces, proc: bool) -> Result<(), String> {
    if key.is_empty() || key.split('.').any(|p| p.is_empty() || p == "..") {
        return Err(format!(
            "`{key}` is not a sysctl name like net.ipv4.ip_forward"
        ));
    }
    let Some(owner) = owner(key) else {
        return Err("not a sysctl of the container's own namespaces (net.*, the IPC ones, kernel.hostname): writing it would change the host's kernel".into());
    };
    let own = match owner {
        "net" => ns.net,
        "ipc" => ns.ipc,
        _ => ns.uts,
    };
    if !own {
        return Err(format!(
            "the container shares the host's {owner} namespace: writing it would change the host's"
        ));
    }
    if !proc {
        return Err(
            "rlxc writes sysctls through the container's /proc: add `proc` to lxc.mount.auto"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn keys(text: &str) -> Result<KernelKeys, (String, String)> {
        let cfg = crate::config::load_text(text.as_bytes(), Path::new("config")).unwrap();
        KernelKeys::from_config(&cfg, &Namespaces::ALL, true)
    }

    #[test]
    fn namespaced_sysctls_are_taken_and_host_ones_refused() {
        let k =
            keys("lxc.sysctl.net.ipv4.ip_forward = 1\nlxc.sysctl.kernel.shmmax = 4096\n").unwrap();
        assert_eq!(k.sysctls[0].path(), "net/ipv4/ip_forward");
        assert_eq!(k.sysctls[1].value, "4096");
        let (key, why) = keys("lxc.sysctl.vm.swappiness = 10\n").unwrap_err();
        assert_eq!(key, "lxc.sysctl.vm.swappiness");
        assert!(why.contains("would change the host's kernel"), "{why}");
        let cfg = crate::config::load_text(b"lxc.sysctl.net.ipv4.ip_forward = 1\n", Path::new("c"))
            .unwrap();
        let shared = Namespaces {
            net: false,
            ..Namespaces::ALL
        };
        let (_, why) = KernelKeys::from_config(&cfg, &shared, true).unwrap_err();
        assert!(why.contains("shares the host's net namespace"), "{why}");
        let (_, why) = KernelKeys::from_config(&cfg, &Namespaces::ALL, false).unwrap_err();
        assert!(why.contains("add `proc` to lxc.mount.auto"), "{why}");
    }

    #[test]
    fn proc_files_arch_and_keyring() {
        let k = keys("lxc.proc.oom_score_adj = 10\nlxc.arch = i686\nlxc.keyring.session = 0\n")
            .unwrap();
        assert_eq!(k.proc, [("oom_score_adj".to_string(), "10".to_string())]);
        assert_eq!(k.personality, Some(0x0008));
        assert!(!k.session_keyring);
        assert_eq!(keys("lxc.arch = amd64\n").unwrap().personality, None);
        assert!(keys("").unwrap().session_keyring);
        let k = keys("lxc.time.offset.boot = -1h\nlxc.time.offset.monotonic = 1500ms\n").unwrap();
        assert_eq!(k.time_offsets, Some((1_500_000_000, -3_600_000_000_000)));
        assert_eq!(
            timens_offsets(1_500_000_000, -3_600_000_000_000),
            "monotonic 1 500000000\nboottime -3600 0\n"
        );
        assert_eq!(
            timens_offsets(-1, 0),
            "monotonic -1 999999999\nboottime 0 0\n"
        );
        let (key, why) = keys("lxc.arch = arm64\n").unwrap_err();
        assert_eq!(key, "lxc.arch");
        assert!(why.contains("cannot run on this"), "{why}");
    }
}
