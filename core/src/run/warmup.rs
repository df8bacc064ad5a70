//! A head start on the kernel's cgroup migration lock. The first write to a
//! `cgroup.procs` after a quiet spell waits for an RCU grace period (the
//! global threadgroup rwsem enters its writer mode), which on small VMs takes
//! 5–25 ms and is most of a start. Later writes within the same window are
//! quick. `start` and `execute` begin that wait on a helper thread before
//! anything else, by moving the process into the cgroup it is already in (a
//! no-op migration); the thread is joined before the clone, which needs a
//! single-threaded process.

use std::thread::JoinHandle;

use crate::cgroups::CgroupLayout;

/// A started (or absent) warm-up.
#[derive(Debug)]
pub struct Warmup(Option<JoinHandle<()>>);

impl Warmup {
    /// Starts it; never fails (without cgroups there is nothing to warm).
    pub fn start() -> Warmup {
        Warmup(
            std::thread::Builder::new()
                .name("cgroup-warm".into())
                .spawn(|| {
                    if let Some(procs) = own_procs_file() {
                        let _ = std::fs::write(procs, std::process::id().to_string());
                    }
                })
                .ok(),
        )
    }

    /// No warm-up.
    pub fn none() -> Warmup {
        Warmup(None)
    }

    /// Waits for the helper thread.
    pub fn finish(self) {
        if let Some(h) = self.0 {
            let _ = h.join();
        }
    }

    /// In a forked child, where the thread does not exist: drop the handle
    /// without touching the thread.
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

/// `cgroup.procs` of this process's own cgroup in the first v1 hierarchy (or
/// cgroup2 on a unified host).
fn own_procs_file() -> Option<std::path::PathBuf> {
    let layout = CgroupLayout::host().ok()?;
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let lines: Vec<(&str, &str)> = own
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let _ = f.next()?;
            Some((f.next()?, f.next()?))
        })
        .collect();
    let v1 = layout.v1.iter().find_map(|h| {
        let ctrls = h.controllers.join(",");
        lines
            .iter()
            .find(|(c, _)| *c == ctrls)
            .map(|(_, p)| h.mountpoint.join(p.trim_start_matches('/')))
    });
    let dir = v1.or_else(|| {
        let u = layout.unified.as_ref()?;
        lines
            .iter()
            .find(|(c, _)| c.is_empty())
            .map(|(_, p)| u.join(p.trim_start_matches('/')))
    })?;
    Some(dir.join("cgroup.procs"))
}
