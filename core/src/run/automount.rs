//! `lxc.mount.auto`'s `/proc` and `/sys`, mounted into the rootfs by the
//! child before the pivot.
//!
//! `proc:mixed` (rlxc's default, and what a bare `proc` means, as in LXC):
//! `/proc/sys` and `/proc/sysrq-trigger` are bind-mounted onto themselves
//! read-only, so a root container cannot retune the host's kernel or crash
//! it, while `/proc/sys/net` (the container's own network namespace) stays
//! writable. Each bind is made, then reopened, then remounted through the new
//! fd: the read-only flag lands on the bind itself and never on a path the
//! container could have swapped.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::Path;

use nix::mount::MsFlags;

use super::kernel_keys::Sysctl;
use super::mounts::{do_mount, fd_path, open_dir, open_in_root, Fail};
use crate::sys::Sys;

/// How `/proc` is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcMode {
    /// Not at all (`lxc.mount.auto` without `proc`).
    Off,
    /// `proc` or `proc:mixed`: `/proc/sys` and `/proc/sysrq-trigger` read-only.
    #[default]
    Mixed,
    /// `proc:rw`: all of it writable.
    Rw,
}

impl ProcMode {
    /// The mode a `proc[:OPT]` token names; `None` for an unknown option.
    pub fn parse(opt: &str) -> Option<ProcMode> {
        match opt {
            "" | "mixed" => Some(ProcMode::Mixed),
            "rw" => Some(ProcMode::Rw),
            _ => None,
        }
    }
}

/// How `/sys` is mounted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysMode {
    /// `sys:ro` (and a bare `sys`): all of it read-only.
    Ro,
    /// `sys:mixed`: read-only but `/sys/devices/virtual/net`, where the
    /// container's own network devices are.
    Mixed,
    /// `sys:rw`.
    Rw,
}

impl SysMode {
    /// The mode a `sys[:OPT]` token names (an unknown option is the tight one).
    pub fn parse(opt: &str) -> SysMode {
        match opt {
            "rw" => SysMode::Rw,
            "mixed" => SysMode::Mixed,
            _ => SysMode::Ro,
        }
    }
}

/// Paths of a mixed `/proc` made read-only, and the one kept writable below.
const PROC_READ_ONLY: &[&str] = &["sys", "sysrq-trigger"];
const PROC_WRITABLE: &str = "sys/net";

const BASE: MsFlags = MsFlags::MS_NOSUID
    .union(MsFlags::MS_NODEV)
    .union(MsFlags::MS_NOEXEC);

/// Mounts `/proc` and `/sys` (read-only unless `sys` is `Some(true)`)
/// inside `root`, making their mount points if the rootfs lacks them; the
/// `lxc.sysctl.*` values are written into the new `/proc/sys` before a
/// mixed `/proc` makes it read-only.
pub fn mount_proc_sys(
    kernel: &dyn Sys,
    root: &OwnedFd,
    proc_: ProcMode,
    sys: Option<SysMode>,
    sysctls: &[Sysctl],
) -> Result<(), Fail> {
    if proc_ != ProcMode::Off {
        let t = open_dir(root, "proc")?;
        do_mount(
            kernel,
            Some("proc"),
            &fd_path(&t),
            Some("proc"),
            BASE,
            None,
            "/proc",
        )?;
        write_sysctls(root, sysctls)?;
        if proc_ == ProcMode::Mixed {
            mix_proc(kernel, root)?;
        }
    }
    if let Some(mode) = sys {
        let t = open_dir(root, "sys")?;
        // Mounted writable, then made read-only as a mount: a read-only
        // superblock would keep the mixed mode's writable bind read-only.
        do_mount(
            kernel,
            Some("sysfs"),
            &fd_path(&t),
            Some("sysfs"),
            BASE,
            None,
            "/sys",
        )?;
        if mode != SysMode::Rw {
            let fresh = open_dir(root, "sys")?;
            let ro = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | BASE | MsFlags::MS_RDONLY;
            do_mount(
                kernel,
                None,
                &fd_path(&fresh),
                None,
                ro,
                None,
                "/sys read-only",
            )?;
        }
        if mode == SysMode::Mixed {
            rebind(kernel, root, "sys", "devices/virtual/net", BASE)?;
        }
    }
    Ok(())
}

/// Each `lxc.sysctl.*` into the container's `/proc/sys` (its namespaces'
/// values: the key was checked to be one of theirs).
fn write_sysctls(root: &OwnedFd, sysctls: &[Sysctl]) -> Result<(), Fail> {
    for s in sysctls {
        let rel = Path::new("proc/sys").join(s.path());
        let err = |e: std::io::Error| {
            format!(
                "lxc.sysctl.{} = {}: writing /{}: {e}",
                s.key,
                s.value,
                rel.display()
            )
        };
        let fd = open_in_root(root, &rel, libc::O_WRONLY | libc::O_TRUNC).map_err(err)?;
        std::fs::File::from(fd)
            .write_all(s.value.as_bytes())
            .map_err(err)?;
    }
    Ok(())
}

/// The read-only binds of a mixed `/proc`, then `/proc/sys/net` writable
/// again (a bind made inside a read-only bind starts read-only).
fn mix_proc(kernel: &dyn Sys, root: &OwnedFd) -> Result<(), Fail> {
    for rel in PROC_READ_ONLY {
        rebind(kernel, root, "proc", rel, BASE | MsFlags::MS_RDONLY)?;
    }
    rebind(kernel, root, "proc", PROC_WRITABLE, BASE)
}

/// Binds `/TOP/REL` onto itself, then sets the new bind's flags.
fn rebind(
    kernel: &dyn Sys,
    root: &OwnedFd,
    top: &str,
    rel: &str,
    flags: MsFlags,
) -> Result<(), Fail> {
    let what = format!("/{top}/{rel} ({top}:mixed)");
    let path = Path::new(top).join(rel);
    let err = |e: std::io::Error| format!("opening /{top}/{rel} in the container: {e}");
    // A kernel without the file (no CONFIG_MAGIC_SYSRQ) has nothing to guard.
    let before = match open_in_root(root, &path, libc::O_PATH) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(()),
        other => other.map_err(err)?,
    };
    let p = fd_path(&before);
    do_mount(kernel, Some(&p), &p, None, MsFlags::MS_BIND, None, &what)?;
    let bound = open_in_root(root, &path, libc::O_PATH).map_err(err)?;
    let remount = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | flags;
    do_mount(kernel, None, &fd_path(&bound), None, remount, None, &what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_proc_is_mixed_as_in_lxc() {
        assert_eq!(ProcMode::parse(""), Some(ProcMode::Mixed));
        assert_eq!(ProcMode::parse("mixed"), Some(ProcMode::Mixed));
        assert_eq!(ProcMode::parse("rw"), Some(ProcMode::Rw));
        assert_eq!(ProcMode::parse("ro"), None);
        assert_eq!(ProcMode::default(), ProcMode::Mixed);
    }
}
