//! Linux security modules for a container: `lxc.apparmor.profile` (legacy
//! `lxc.aa_profile`) and `lxc.selinux.context` (`lxc.se_context`).
//!
//! The plan is made before anything exists ([`plan`]): which label init
//! gets on exec, whether a generated AppArmor profile must be loaded first
//! (its text: [`super::apparmor_profile`]), and the notices for what this
//! host cannot apply. On a host without the module a requested label is not
//! applied and the start says so once; with AppArmor but without its mount
//! mediation a confining profile is refused unless
//! `lxc.apparmor.allow_incomplete = 1`, as in LXC.
//!
//! The label is written to `/proc/self/attr/…/exec` through an fd opened
//! before the pivot and checked to be on procfs (CVE-2019-16884: a
//! container's own `/proc` could be a fake that swallows the write).

use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

pub use super::apparmor_profile::Generated;
use crate::config::Config;

/// What `lxc.apparmor.profile` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppArmor {
    /// `unconfined`.
    Unconfined,
    /// `unchanged`: keep the caller's.
    Unchanged,
    /// `generated`: rlxc writes and loads a profile for the container.
    Generated,
    /// A profile loaded by the admin.
    Named(String),
}

impl AppArmor {
    fn parse(v: &str) -> AppArmor {
        match v {
            "unconfined" => AppArmor::Unconfined,
            "unchanged" => AppArmor::Unchanged,
            "generated" => AppArmor::Generated,
            other => AppArmor::Named(other.to_string()),
        }
    }
}

/// The security modules this host runs, read from securityfs and selinuxfs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostLsm {
    /// AppArmor is enabled.
    pub apparmor: bool,
    /// Its policy can mediate mounts (needed for a complete container profile).
    pub apparmor_mount: bool,
    /// SELinux is enabled.
    pub selinux: bool,
}

impl HostLsm {
    /// This host's.
    pub fn detect() -> HostLsm {
        HostLsm::at(Path::new("/"))
    }

    /// The modules of a host whose root is `root` (a fake tree in tests).
    pub fn at(root: &Path) -> HostLsm {
        let aa = root.join("sys/kernel/security/apparmor");
        HostLsm {
            apparmor: aa.is_dir(),
            apparmor_mount: aa.join("features/mount").exists(),
            selinux: root.join("sys/fs/selinux/enforce").exists(),
        }
    }
}

/// Which attr file a label goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Module {
    /// `attr/apparmor/exec` (or the older shared `attr/exec`).
    AppArmor,
    /// `attr/exec`.
    SeLinux,
}

/// What a start does about security modules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LsmPlan {
    /// The label init execs into.
    pub exec_label: Option<(Module, String)>,
    /// A profile to load first (and unload at stop).
    pub load: Option<Generated>,
    /// What was asked for and is not applied on this host, one line each.
    pub notices: Vec<String>,
}

/// The plan for container `name` in `lxcpath` on `host`; an error when a
/// confining profile cannot be complete and the config does not allow that.
pub fn plan(name: &str, lxcpath: &Path, cfg: &Config, host: HostLsm) -> Result<LsmPlan, String> {
    let mut p = LsmPlan::default();
    let asked = cfg.get("lxc.apparmor.profile").map(AppArmor::parse);
    let aa = match (&asked, host.apparmor) {
        (Some(a), _) => a.clone(),
        // rlxc's default where AppArmor runs: a profile of the container's own.
        (None, true) => AppArmor::Generated,
        (None, false) => AppArmor::Unchanged,
    };
    match (&aa, host.apparmor) {
        (AppArmor::Unchanged, _) | (AppArmor::Unconfined, false) => {}
        (AppArmor::Unconfined, true) => p.exec_label = Some((Module::AppArmor, "unconfined".into())),
        (a, false) => p.notices.push(format!(
            "lxc.apparmor.profile = {}: not applied, this host has no AppArmor (no /sys/kernel/security/apparmor)",
            cfg.get("lxc.apparmor.profile").unwrap_or(if *a == AppArmor::Generated { "generated" } else { "?" })
        )),
        (a, true) => {
            if !host.apparmor_mount && !cfg.get_bool("lxc.apparmor.allow_incomplete").unwrap_or(false) {
                return Err("this kernel's AppArmor cannot mediate mounts, so the profile would be incomplete; set lxc.apparmor.allow_incomplete = 1 to start anyway".into());
            }
            let label = match a {
                AppArmor::Named(n) => n.clone(),
                _ => {
                    let g = super::apparmor_profile::generate(name, lxcpath, cfg);
                    let n = g.name.clone();
                    p.load = Some(g);
                    n
                }
            };
            p.exec_label = Some((Module::AppArmor, label));
        }
    }
    if let Some(ctx) = cfg.get("lxc.selinux.context") {
        if host.selinux {
            p.exec_label
                .get_or_insert((Module::SeLinux, ctx.to_string()));
        } else {
            p.notices.push(format!(
                "lxc.selinux.context = {ctx}: not applied, this host has no SELinux (no /sys/fs/selinux)"
            ));
        }
    }
    Ok(p)
}

/// `PROC_SUPER_MAGIC`.
const PROC_MAGIC: i64 = 0x9fa0;

/// Opens the exec-label file of `module` in the procfs directory
/// `proc_root` (the host's `/proc`, opened before the pivot or `setns` into
/// the container's mount namespace) and checks it is on procfs. `self` there
/// is the caller, whatever pid namespace it is in now.
pub fn open_exec_attr_at(proc_root: &OwnedFd, module: Module) -> Result<OwnedFd, String> {
    let candidates: &[&str] = match module {
        Module::AppArmor => &["self/attr/apparmor/exec", "self/attr/exec"],
        Module::SeLinux => &["self/attr/exec"],
    };
    let mut last = String::new();
    for c in candidates {
        let flags = nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_CLOEXEC;
        match nix::fcntl::openat(
            Some(proc_root.as_raw_fd()),
            *c,
            flags,
            nix::sys::stat::Mode::empty(),
        ) {
            Ok(raw) => {
                // SAFETY: a new fd, ours.
                let f: OwnedFd = unsafe { std::os::fd::FromRawFd::from_raw_fd(raw) };
                // SAFETY: fstatfs on an fd we own.
                let fs = unsafe {
                    let mut st: libc::statfs = std::mem::zeroed();
                    (libc::fstatfs(f.as_raw_fd(), &mut st) == 0).then_some(st.f_type as i64)
                };
                if fs != Some(PROC_MAGIC) {
                    return Err(format!(
                        "{c} is not on procfs: refusing to write a security label there"
                    ));
                }
                return Ok(f);
            }
            Err(e) => last = format!("{c}: {}", e.desc()),
        }
    }
    Err(format!("opening the security label file: {last}"))
}

/// Writes the label for the next exec to an fd from [`open_exec_attr`].
pub fn set_exec_label(fd: &OwnedFd, module: Module, label: &str) -> Result<(), String> {
    let text = match module {
        Module::AppArmor => format!("exec {label}"),
        Module::SeLinux => label.to_string(),
    };
    let mut f = std::fs::File::from(fd.try_clone().map_err(|e| e.to_string())?);
    f.write_all(text.as_bytes())
        .map_err(|e| format!("setting the security label `{label}` for init: {e}"))
}

#[cfg(test)]
#[path = "lsm_tests.rs"]
mod tests;
