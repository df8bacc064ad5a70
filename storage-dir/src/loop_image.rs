//! The `loop` backend: the rootfs is a filesystem in an image file,
//! `<container dir>/rootdev` as LXC names it (`loop:<path>`), made with
//! `--fssize` (default 1 GiB, sparse) and `--fstype` (default ext4). A start
//! attaches it to a loop device ([`crate::loopdev`], auto-clearing) and
//! mounts it; the device goes with the mount, at stop or with a SIGKILLed
//! monitor's mount namespace. No snapshots (as in LXC); copies into and
//! out of it are full copies.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rlxc_core::storage::{CreateRequest, RootfsSpec, Storage, StorageCaps, StorageError};
use rlxc_core::sys::{run_checked, MountRequest, Sys, Tool};

/// The backend name.
pub const NAME: &str = "loop";
/// LXC's default size of a new image.
pub const DEFAULT_SIZE: u64 = 1 << 30;

/// The loop backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct Loop;

fn invalid(spec: &RootfsSpec, reason: impl Into<String>) -> StorageError {
    StorageError::Invalid {
        rootfs: spec.to_string(),
        reason: reason.into(),
    }
}

fn sys_err(spec: &RootfsSpec) -> impl FnOnce(rlxc_core::sys::SysError) -> StorageError + '_ {
    move |source| StorageError::Sys {
        rootfs: spec.to_string(),
        source,
    }
}

/// The image's filesystem type, as `blkid` probes it.
async fn fstype(sys: &dyn Sys, spec: &RootfsSpec) -> Result<String, StorageError> {
    let out = run_checked(
        sys,
        &Tool::new(
            "blkid",
            ["-p", "-o", "value", "-s", "TYPE", spec.location.as_str()],
        ),
    )
    .await
    .map_err(sys_err(spec))?;
    let t = out.stdout_text().trim().to_string();
    if t.is_empty() {
        return Err(invalid(spec, "blkid finds no filesystem in the image"));
    }
    Ok(t)
}

#[async_trait]
impl Storage for Loop {
    fn name(&self) -> &'static str {
        NAME
    }

    fn caps(&self) -> StorageCaps {
        StorageCaps {
            snapshot: false,
            copy: true,
            resize: false,
            needs_mount: true,
            snapshot_depends: false,
        }
    }

    async fn create(&self, sys: &dyn Sys, req: &CreateRequest) -> Result<RootfsSpec, StorageError> {
        let image = req.container_dir.join("rootdev");
        let spec = RootfsSpec::new(NAME, image.display().to_string());
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&image)
            .map_err(|e| StorageError::io(&image, e))?;
        f.set_len(req.size.unwrap_or(DEFAULT_SIZE))
            .map_err(|e| StorageError::io(&image, e))?;
        drop(f);
        let fs = req.fstype.as_deref().unwrap_or("ext4");
        let made = run_checked(
            sys,
            &Tool::new("mkfs", ["-t", fs, "-q", spec.location.as_str()]),
        )
        .await;
        if let Err(e) = made {
            let _ = std::fs::remove_file(&image);
            return Err(sys_err(&spec)(e));
        }
        let mnt = req.container_dir.join("rootfs");
        std::fs::create_dir_all(&mnt).map_err(|e| StorageError::io(&mnt, e))?;
        Ok(spec)
    }

    async fn host_path(
        &self,
        _sys: &dyn Sys,
        _spec: &RootfsSpec,
    ) -> Result<Option<PathBuf>, StorageError> {
        Ok(None)
    }

    async fn copy(
        &self,
        sys: &dyn Sys,
        src_path: &Path,
        req: &CreateRequest,
    ) -> Result<RootfsSpec, StorageError> {
        let spec = self.create(sys, req).await?;
        // Mounted for the copy in a private mount namespace: nothing to undo
        // in the host's if the copy is killed half-way.
        let copied = rlxc_core::storage::fill_by_mount(
            std::sync::Arc::new(Self),
            &spec,
            &req.container_dir.join("rootfs"),
            src_path,
        );
        if let Err(why) = copied {
            let _ = std::fs::remove_file(&spec.location);
            return Err(invalid(&spec, why));
        }
        Ok(spec)
    }

    async fn mount(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
        target: &Path,
    ) -> Result<(), StorageError> {
        let fs = fstype(sys, spec).await?;
        let image = Path::new(&spec.location);
        let dev = crate::loopdev::attach(image).map_err(|e| StorageError::io(image, e))?;
        let req = MountRequest {
            source: Some(dev.path.clone()),
            target: target.to_path_buf(),
            fstype: Some(fs),
            flags: nix::mount::MsFlags::empty(),
            data: None,
        };
        // The mount holds the device from now on; `dev` closing lets the
        // kernel detach it when the mount goes.
        sys.mount(&req).map_err(sys_err(spec))
    }

    async fn umount(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
        target: &Path,
    ) -> Result<(), StorageError> {
        rlxc_core::storage::umount_quietly(sys, spec, target)
    }

    async fn destroy(&self, _sys: &dyn Sys, spec: &RootfsSpec) -> Result<(), StorageError> {
        let image = Path::new(&spec.location);
        let users = crate::loopdev::users_of(image);
        if !users.is_empty() {
            let list: Vec<String> = users.iter().map(|p| p.display().to_string()).collect();
            return Err(invalid(
                spec,
                format!(
                    "the image is still attached as {} (does the container run?)",
                    list.join(", ")
                ),
            ));
        }
        match std::fs::remove_file(image) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StorageError::io(image, e)),
            _ => Ok(()),
        }
    }

    async fn size(&self, _sys: &dyn Sys, spec: &RootfsSpec) -> Result<u64, StorageError> {
        use std::os::unix::fs::MetadataExt;
        let image = Path::new(&spec.location);
        std::fs::metadata(image)
            .map(|m| m.blocks() * 512)
            .map_err(|e| StorageError::io(image, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_makes_a_sparse_image_and_runs_mkfs() {
        let d = tempfile::tempdir().unwrap();
        let sys = rlxc_core::sys::FakeSys::new();
        let req = CreateRequest {
            container_dir: d.path().to_path_buf(),
            size: Some(64 << 20),
            fstype: Some("xfs".into()),
            ..CreateRequest::default()
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let spec = rt.block_on(Loop.create(&sys, &req)).unwrap();
        let image = d.path().join("rootdev");
        assert_eq!(spec.to_string(), format!("loop:{}", image.display()));
        assert_eq!(std::fs::metadata(&image).unwrap().len(), 64 << 20);
        assert_eq!(
            sys.command_lines(),
            vec![format!("mkfs -t xfs -q {}", image.display())]
        );
        rt.block_on(Loop.destroy(&sys, &spec)).unwrap();
        assert!(!image.exists());
    }
}
