//! Freezing and thawing a container: the v1 freezer, or cgroup2's
//! `cgroup.freeze`, waiting until the kernel reports it done.

use std::path::Path;

use super::manager::{read_trim, CgroupError, ContainerCgroups};
use crate::sys::Sys;

impl ContainerCgroups {
    /// Freezes (`true`) or thaws every process, and waits until the kernel says
    /// it is done.
    pub fn set_frozen(&self, sys: &dyn Sys, frozen: bool) -> Result<(), CgroupError> {
        if let Some(d) = self
            .dirs
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == "freezer"))
        {
            let f = d.path.join("freezer.state");
            let want = if frozen { "FROZEN" } else { "THAWED" };
            sys.write_file(&f, want.as_bytes())
                .map_err(self.sys_err("freezing"))?;
            // The v1 freezer has no notification: reading the state drives the
            // freeze forward, so re-read it (bounded, with short pauses).
            for _ in 0..2000 {
                if read_trim(&f).as_deref() == Some(want) {
                    return Ok(());
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            return Err(CgroupError::Io {
                name: self.name.clone(),
                path: f,
                what: "waiting for the freezer",
                source: std::io::Error::from(std::io::ErrorKind::TimedOut),
            });
        }
        let d = self
            .dirs
            .iter()
            .find(|d| d.unified)
            .ok_or_else(|| CgroupError::Setting {
                name: self.name.clone(),
                key: "freezer".into(),
                why: "this host has neither a v1 freezer nor cgroup2".into(),
            })?;
        let f = d.path.join("cgroup.freeze");
        sys.write_file(&f, if frozen { b"1" } else { b"0" })
            .map_err(self.sys_err("freezing"))?;
        wait_v2_frozen(&d.path.join("cgroup.events"), frozen)
            .map_err(self.io(&f, "waiting for the freeze"))
    }
}

/// Waits for `frozen 0|1` in cgroup2's `cgroup.events`, which the kernel
/// signals with POLLPRI.
fn wait_v2_frozen(events: &Path, frozen: bool) -> std::io::Result<()> {
    use std::io::{Read, Seek};
    use std::os::fd::AsRawFd;
    let want = if frozen { "frozen 1" } else { "frozen 0" };
    let mut f = std::fs::File::open(events)?;
    for _ in 0..100 {
        let mut s = String::new();
        f.seek(std::io::SeekFrom::Start(0))?;
        f.read_to_string(&mut s)?;
        if s.lines().any(|l| l == want) {
            return Ok(());
        }
        let mut pfd = libc::pollfd {
            fd: f.as_raw_fd(),
            events: libc::POLLPRI,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 100) };
    }
    Err(std::io::Error::from(std::io::ErrorKind::TimedOut))
}
