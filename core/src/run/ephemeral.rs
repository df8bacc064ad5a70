//! Ephemeral containers (`lxc.ephemeral = 1`, what `copy -e` makes) are
//! destroyed when they stop: by their monitor, after the teardown and
//! before it reports STOPPED (so whoever waits for STOPPED finds them gone);
//! and when the monitor itself is killed, by a small reaper process it forks
//! at the start, which waits for the monitor's end, cleans what it left and
//! destroys the container.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;

use std::os::unix::process::CommandExt;

use crate::container::create::destroy_holding_lock;
use crate::start::runtime::block_on;
use crate::start::StartPlan;
use crate::storage::Storage;
use crate::sys::RealSys;

/// The mount namespace rlxc was started in, before the monitor made its
/// own: a backend's volumes (a ZFS dataset) are mounted there, so the
/// destroy runs there.
static ORIGINAL_MNT_NS: std::sync::OnceLock<OwnedFd> = std::sync::OnceLock::new();

/// Keeps the current mount namespace (once per process: a reboot's launch
/// runs in the monitor's own already).
pub fn remember_mount_ns() {
    if ORIGINAL_MNT_NS.get().is_none() {
        if let Ok(f) = std::fs::File::open("/proc/self/ns/mnt") {
            let _ = ORIGINAL_MNT_NS.set(f.into());
        }
    }
}

/// Back into the namespace [`remember_mount_ns`] kept (a single-threaded
/// process only; otherwise this one stays, with a warning).
fn enter_original_mount_ns(name: &str) {
    let Some(fd) = ORIGINAL_MNT_NS.get() else {
        return;
    };
    if let Err(e) = nix::sched::setns(fd, nix::sched::CloneFlags::CLONE_NEWNS) {
        tracing::warn!(
            "container `{name}`: destroying it from the monitor's mount namespace ({})",
            e.desc()
        );
    }
}

fn storage_of(plan: &StartPlan) -> Option<Arc<dyn Storage>> {
    plan.rootfs.as_ref().map(|r| r.storage.clone())
}

/// Destroys the stopped container; the caller holds its lock. What the
/// container's hooks mounted in the monitor's own namespace (the `-t` tmpfs)
/// is unmounted first.
pub fn destroy_now(plan: &StartPlan) {
    if let Ok(dir) = plan.paths.container_dir(&plan.name) {
        unmount_below(&dir);
    }
    crate::start::runtime::shed_threads();
    enter_original_mount_ns(&plan.name);
    let storage = storage_of(plan);
    let done = block_on(destroy_holding_lock(
        &RealSys,
        &plan.paths,
        &plan.name,
        |_| storage.clone(),
    ));
    match done {
        Ok(Ok(())) => tracing::info!("container `{}`: ephemeral, destroyed", plan.name),
        Ok(Err(e)) => tracing::error!("ephemeral container `{}`: {e}", plan.name),
        Err(e) => tracing::error!("ephemeral container `{}`: {e}", plan.name),
    }
}

/// Forks the reaper: it outlives a killed monitor and destroys the
/// container then. It holds no fd of the monitor's (not its lock, not its
/// socket) but a pidfd of it.
pub fn spawn_reaper(plan: &StartPlan) {
    let monitor = std::process::id() as libc::pid_t;
    // A fork must come from a single thread: the stages' runtime may have
    // left blocking-pool threads, which this joins.
    crate::start::runtime::shed_threads();
    if super::clone::thread_count() > 1 {
        tracing::warn!(
            "container `{}`: no reaper for the ephemeral container (the monitor has threads): a killed monitor would leave it",
            plan.name
        );
        return;
    }
    // SAFETY: the monitor is single-threaded here; the child only waits,
    // then destroys and exits.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Child) => {
            reap(plan, monitor);
            // SAFETY: leave the forked child.
            unsafe { libc::_exit(0) }
        }
        Ok(nix::unistd::ForkResult::Parent { .. }) => {}
        Err(e) => tracing::warn!(
            "container `{}`: no reaper for the ephemeral container ({}): a killed monitor would leave it",
            plan.name,
            e.desc()
        ),
    }
}

fn reap(plan: &StartPlan, monitor: libc::pid_t) {
    // SAFETY: pidfd_open of our parent; a new fd of ours.
    let raw = unsafe { libc::syscall(libc::SYS_pidfd_open, monitor, 0) };
    if raw < 0 {
        return;
    }
    // SAFETY: ours.
    let pidfd = unsafe { OwnedFd::from_raw_fd(raw as i32) };
    let ns = ORIGINAL_MNT_NS.get().map(AsRawFd::as_raw_fd);
    close_all_but(&[Some(pidfd.as_raw_fd()), ns]);
    let _ = nix::unistd::setsid();
    let mut pfd = libc::pollfd {
        fd: pidfd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: poll on our pidfd; readable once the monitor has exited.
        let r = unsafe { libc::poll(&mut pfd, 1, -1) };
        if r > 0 || nix::Error::last() != nix::Error::EINTR {
            break;
        }
    }
    // A monitor that ended normally destroyed it already.
    if !plan.paths.config(&plan.name).is_ok_and(|c| c.exists()) {
        return;
    }
    // Init goes with its monitor (its parent-death signal) a moment later:
    // until then its cgroups may still be busy. A fresh `rlxc destroy` (this
    // binary, which has the monitor's backends) is tried for 10 s: this
    // forked copy of the monitor holds none of its state.
    // This process is still in the monitor's mount namespace, where the
    // rootfs is mounted (at the run directory's `rootfs`).
    for dir in [
        plan.paths.run_dir(&plan.name),
        plan.paths.container_dir(&plan.name),
    ]
    .into_iter()
    .flatten()
    {
        unmount_below(&dir);
    }
    enter_original_mount_ns(&plan.name);
    let lxcpath = plan.paths.lxcpath.display().to_string();
    for _ in 0..100 {
        let done = std::process::Command::new("/proc/self/exe")
            .arg0("rlxc")
            // Not -f: a container started again meanwhile is left to its own
            // monitor, which destroys it when it stops.
            .args(["destroy", "-P", &lxcpath, "-n", &plan.name, "-q"])
            .stdin(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if done || !plan.paths.config(&plan.name).is_ok_and(|c| c.exists()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The dead container's mount namespace may let go of the rootfs mount
    // point a moment after its init: the run directory goes then.
    let Ok(run_dir) = plan.paths.run_dir(&plan.name) else {
        return;
    };
    for _ in 0..50 {
        let _ = std::fs::remove_dir(run_dir.join("rootfs"));
        if std::fs::remove_dir(&run_dir).is_ok() || !run_dir.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Detaches every mount at or below `dir` in this (the monitor's private)
/// mount namespace, deepest first.
fn unmount_below(dir: &std::path::Path) {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<std::path::PathBuf> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .map(|m| std::path::PathBuf::from(m.replace("\\040", " ")))
        .filter(|m| m.starts_with(dir))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for p in points {
        let _ = nix::mount::umount2(&p, nix::mount::MntFlags::MNT_DETACH);
    }
}

/// Closes every fd above stdio but those in `keep` (the monitor's lock,
/// socket and pipes must not be held by the reaper).
fn close_all_but(keep: &[Option<i32>]) {
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
                .collect()
        })
        .unwrap_or_default();
    for fd in fds {
        if fd > 2 && !keep.contains(&Some(fd)) {
            // SAFETY: closing fds this forked child inherited and will not use.
            unsafe { libc::close(fd) };
        }
    }
}
