//! `lxc.mount.auto = shmounts:HOST[:CONTAINER]`, the host side: a small
//! tmpfs at HOST in the host's mount namespace, made shared, so that what the
//! host (a container manager injecting mounts) later mounts below it
//! propagates into the container, where the child binds it at CONTAINER.
//! Made once and then reused by every container naming the same HOST; like
//! LXC, a stop leaves it (other containers may share it).

use std::path::Path;

use nix::mount::MsFlags;

use super::launch::Launch;
use super::StartError;
use crate::sys::MountRequest;

/// Whether `path` is a mount point in this process's mount namespace.
fn is_mount_point(path: &Path) -> bool {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let want = path.display().to_string();
    text.lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .any(|m| m == want)
}

impl Launch {
    /// Runs in the host's mount namespace, before the monitor makes its own.
    pub(super) fn prepare_shmount(&mut self) -> Result<(), StartError> {
        let Some((host, _)) = self.plan.spec.auto_mounts.shmounts.clone() else {
            return Ok(());
        };
        std::fs::create_dir_all(&host).map_err(self.io(&format!(
            "making {} (lxc.mount.auto shmounts)",
            host.display()
        )))?;
        if !is_mount_point(&host) {
            self.sys
                .mount(&MountRequest {
                    source: Some("tmpfs".into()),
                    target: host.clone(),
                    fstype: Some("tmpfs".into()),
                    flags: MsFlags::empty(),
                    data: Some("size=100k,mode=0711".into()),
                })
                .map_err(self.sys_err("mounting the shmounts tmpfs"))?;
        }
        self.sys
            .mount(&MountRequest {
                source: None,
                target: host,
                fstype: None,
                flags: MsFlags::MS_SHARED,
                data: None,
            })
            .map_err(self.sys_err("making the shmounts tmpfs shared"))
    }
}
