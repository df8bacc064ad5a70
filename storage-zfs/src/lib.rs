//! ZFS storage for rlxc: a dataset per container under `lxc.bdev.zfs.root`
//! (or `--zfsroot`, default `lxc`), snapshot + clone for `copy -s`, through
//! our own wrapper of the `zfs` tool ([`cmd`]: pure argument builders and
//! parsers of `zfs list -H`, for current OpenZFS and for zfs-fuse's older
//! ZFS alike).
//!
//! - `create`: `zfs create -o mountpoint=<container dir>/rootfs ROOT/NAME`
//!   (`zfs:ROOT/NAME`); the mountpoint follows the directory when a create
//!   or copy is committed ([`Storage::relocate`]). The dataset stays mounted
//!   there (zfs-fuse has no legacy mounts); a start binds it.
//! - `snapshot`: `zfs snapshot ORIGIN@NEW` and `zfs clone` of it; `copy`
//!   from another backend: a new dataset filled by rlxc's tree copy.
//! - `destroy`: unmounts the dataset where it is mounted now, `zfs destroy
//!   -r` (retried while "dataset is busy", then a clear error), then the
//!   snapshot a clone was made from. A dataset with clones is refused by
//!   ZFS, and the error names them.
//!
//! Privileges: root. Depends on `rlxc-core` only.

pub mod cmd;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rlxc_core::storage::{CreateRequest, RootfsSpec, Storage, StorageCaps, StorageError};
use rlxc_core::sys::{run_checked, Sys, SysError, Tool};

/// The backend name.
pub const NAME: &str = "zfs";
/// LXC's default `lxc.bdev.zfs.root`.
pub const DEFAULT_ROOT: &str = "lxc";

/// The ZFS backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct Zfs;

/// Registers the `zfs` backend.
pub fn register(r: &mut rlxc_core::registry::Registry) {
    r.add_storage(std::sync::Arc::new(Zfs));
}

fn err(spec: &str) -> impl FnOnce(SysError) -> StorageError + '_ {
    move |source| StorageError::Sys {
        rootfs: spec.to_string(),
        source,
    }
}

fn invalid(rootfs: &str, reason: impl Into<String>) -> StorageError {
    StorageError::Invalid {
        rootfs: rootfs.to_string(),
        reason: reason.into(),
    }
}

async fn zfs(sys: &dyn Sys, args: Vec<String>, rootfs: &str) -> Result<String, StorageError> {
    let out = run_checked(sys, &Tool::new("zfs", args))
        .await
        .map_err(err(rootfs))?;
    Ok(out.stdout_text())
}

/// The datasets at and below `dataset`, in the dialect this `zfs` speaks.
async fn list(sys: &dyn Sys, dataset: &str) -> Result<Vec<cmd::Dataset>, StorageError> {
    let spec = format!("zfs:{dataset}");
    let exact = sys
        .run(&Tool::new("zfs", cmd::list(dataset, true)))
        .await
        .map_err(err(&spec))?;
    let text = if exact.status == 0 {
        exact.stdout_text()
    } else if cmd::unknown_option(&String::from_utf8_lossy(&exact.stderr)) {
        zfs(sys, cmd::list(dataset, false), &spec).await?
    } else {
        return Err(err(&spec)(SysError::Failed {
            command: format!("zfs {}", cmd::list(dataset, true).join(" ")),
            status: format!("exit status {}", exact.status),
            stderr: String::from_utf8_lossy(&exact.stderr).trim().to_string(),
        }));
    };
    cmd::parse_list(&text).map_err(|e| invalid(&spec, e))
}

/// The datasets of `dataset`'s pool cloned from one of its snapshots.
async fn clones_of(sys: &dyn Sys, dataset: &str) -> Result<Vec<String>, StorageError> {
    let pool = dataset.split('/').next().unwrap_or(dataset);
    let prefix = format!("{dataset}@");
    Ok(list(sys, pool)
        .await?
        .into_iter()
        .filter(|d| d.origin.as_deref().is_some_and(|o| o.starts_with(&prefix)))
        .map(|d| d.name)
        .collect())
}

/// Where a new rootfs is mounted: `<container dir>/rootfs`.
fn mountpoint(req: &CreateRequest) -> PathBuf {
    req.container_dir.join("rootfs")
}

fn dataset_for(req: &CreateRequest) -> String {
    let root = req
        .options
        .get("zfsroot")
        .map_or(DEFAULT_ROOT, String::as_str);
    format!("{}/{}", root.trim_end_matches('/'), volume(req))
}

/// The dataset's own name: `volume` when the caller gives one, else the container's.
fn volume(req: &CreateRequest) -> &str {
    req.options
        .get("volume")
        .map_or(req.name.as_str(), String::as_str)
}

/// Where `dataset` is mounted now, from this namespace's mount table.
fn mounted_at(dataset: &str) -> Vec<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let source = right.split_whitespace().nth(1)?;
            let point = left.split_whitespace().nth(4)?;
            (source == dataset).then(|| PathBuf::from(point.replace("\\040", " ")))
        })
        .collect()
}

/// Makes sure `dataset` is mounted at `mp`. zfs-fuse's daemon finishes an
/// unmount after `zfs` has returned, so the remount that `zfs set
/// mountpoint` does can fail with "mountpoint or dataset is busy" and leave
/// the dataset unmounted (seen here one time in twenty, most times under
/// load); a copy would then fill the bare directory under the mount. When
/// the mount table does not show it there, `zfs mount` is run, and run again
/// while the dataset is busy, for up to 5 s.
async fn ensure_mounted(sys: &dyn Sys, dataset: &str, mp: &Path) -> Result<(), StorageError> {
    if mounted_at(dataset).iter().any(|at| at == mp) {
        return Ok(());
    }
    let spec = format!("zfs:{dataset}");
    let mut why = String::new();
    for attempt in 0..50 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let out = sys
            .run(&Tool::new("zfs", cmd::mount(dataset)))
            .await
            .map_err(err(&spec))?;
        why = String::from_utf8_lossy(&out.stderr).trim().to_string();
        if out.status == 0 || why.contains("already mounted") {
            return Ok(());
        }
        if !why.contains("busy") {
            break;
        }
    }
    Err(invalid(
        &spec,
        format!("cannot mount the dataset at {}: {why}", mp.display()),
    ))
}

#[async_trait]
impl Storage for Zfs {
    fn name(&self) -> &'static str {
        NAME
    }

    fn caps(&self) -> StorageCaps {
        StorageCaps {
            snapshot: true,
            copy: true,
            resize: false,
            needs_mount: false,
            snapshot_depends: false,
        }
    }

    fn usable_in(&self, _lxcpath: &Path) -> bool {
        // `-B best`: only where the default root dataset exists.
        std::process::Command::new("zfs")
            .args(["list", "-H", "-o", "name", DEFAULT_ROOT])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    async fn create(&self, sys: &dyn Sys, req: &CreateRequest) -> Result<RootfsSpec, StorageError> {
        let ds = dataset_for(req);
        let mp = mountpoint(req);
        zfs(
            sys,
            cmd::create(&ds, &mp.display().to_string()),
            &format!("zfs:{ds}"),
        )
        .await?;
        let made = RootfsSpec::new(NAME, ds);
        use std::os::unix::fs::PermissionsExt;
        let ready = match ensure_mounted(sys, &made.location, &mp).await {
            Ok(()) => std::fs::set_permissions(&mp, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| StorageError::io(&mp, e)),
            Err(e) => Err(e),
        };
        if let Err(e) = ready {
            let _ = self.destroy(sys, &made).await;
            return Err(e);
        }
        Ok(made)
    }

    async fn copy(
        &self,
        sys: &dyn Sys,
        src_path: &Path,
        req: &CreateRequest,
    ) -> Result<RootfsSpec, StorageError> {
        let spec = self.create(sys, req).await?;
        if let Err(e) = rlxc_core::storage::copy_tree_into(src_path, &mountpoint(req)) {
            let _ = self.destroy(sys, &spec).await;
            return Err(StorageError::io(&e.path, e.source));
        }
        Ok(spec)
    }

    async fn snapshot(
        &self,
        sys: &dyn Sys,
        src: &RootfsSpec,
        req: &CreateRequest,
    ) -> Result<RootfsSpec, StorageError> {
        if src.backend.as_deref() != Some(NAME) {
            return Err(invalid(
                &src.to_string(),
                "a zfs snapshot needs a zfs origin; copy it without -s",
            ));
        }
        let origin = src.location.as_str();
        // The clone goes next to its origin unless --zfsroot says otherwise.
        let parent = origin.rsplit_once('/').map_or(DEFAULT_ROOT, |(p, _)| p);
        let ds = match req.options.get("zfsroot") {
            Some(_) => dataset_for(req),
            None => format!("{parent}/{}", volume(req)),
        };
        let spec = format!("zfs:{ds}");
        let snap = volume(req);
        zfs(sys, cmd::snapshot(origin, snap), &spec).await?;
        let made = zfs(
            sys,
            cmd::clone(origin, snap, &ds, &mountpoint(req).display().to_string()),
            &spec,
        )
        .await;
        if let Err(e) = made {
            let _ = zfs(
                sys,
                cmd::destroy_snapshot(&format!("{origin}@{snap}")),
                &spec,
            )
            .await;
            return Err(e);
        }
        let made = RootfsSpec::new(NAME, ds);
        if let Err(e) = ensure_mounted(sys, &made.location, &mountpoint(req)).await {
            let _ = self.destroy(sys, &made).await;
            return Err(e);
        }
        Ok(made)
    }

    async fn relocate(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
        container_dir: &Path,
    ) -> Result<(), StorageError> {
        let mp = container_dir.join("rootfs");
        let args = cmd::set_mountpoint(&spec.location, &mp.display().to_string());
        let out = sys
            .run(&Tool::new("zfs", args.clone()))
            .await
            .map_err(err(&spec.to_string()))?;
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        // The property set but the remount failed: mounted again below.
        if out.status != 0 && !stderr.contains("unable to remount") {
            return Err(err(&spec.to_string())(SysError::Failed {
                command: format!("zfs {}", args.join(" ")),
                status: format!("exit status {}", out.status),
                stderr,
            }));
        }
        ensure_mounted(sys, &spec.location, &mp).await
    }

    async fn host_path(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
    ) -> Result<Option<PathBuf>, StorageError> {
        let ds = list(sys, &spec.location).await?;
        let mp = ds
            .iter()
            .find(|d| d.name == spec.location)
            .and_then(|d| d.mountpoint.clone())
            .ok_or_else(|| invalid(&spec.to_string(), "the dataset has no mountpoint"))?;
        // Not mounted (after a reboot without `zfs mount -a`): its mountpoint
        // would be an empty directory, so it is mounted first.
        ensure_mounted(sys, &spec.location, Path::new(&mp)).await?;
        Ok(Some(PathBuf::from(mp)))
    }

    async fn mount(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
        target: &Path,
    ) -> Result<(), StorageError> {
        let src = self
            .host_path(sys, spec)
            .await?
            .ok_or_else(|| invalid(&spec.to_string(), "the dataset has no mountpoint"))?;
        rlxc_core::storage::bind_rootfs(sys, spec, &src, target)
    }

    async fn umount(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
        target: &Path,
    ) -> Result<(), StorageError> {
        rlxc_core::storage::umount_quietly(sys, spec, target)
    }

    async fn destroy(&self, sys: &dyn Sys, spec: &RootfsSpec) -> Result<(), StorageError> {
        let name = spec.to_string();
        let ds = match list(sys, &spec.location).await {
            Ok(ds) => ds,
            // Gone already: nothing to do.
            Err(StorageError::Sys {
                source: SysError::Failed { stderr, .. },
                ..
            }) if stderr.contains("does not exist") => return Ok(()),
            Err(e) => return Err(e),
        };
        // Clones of its snapshots: refused before anything is unmounted.
        let clones = clones_of(sys, &spec.location).await?;
        if !clones.is_empty() {
            return Err(invalid(
                &name,
                format!(
                    "zfs destroy: the dataset has dependent clones: {} (destroy those containers first)",
                    clones.join(", ")
                ),
            ));
        }
        let origin = ds
            .iter()
            .find(|d| d.name == spec.location)
            .and_then(|d| d.origin.clone());
        // Mounted where the container's directory is now (a destroy moves it away first).
        for at in mounted_at(&spec.location) {
            let _ = sys.umount(&at, true);
        }
        let mut last = None;
        for _ in 0..10 {
            let out = sys
                .run(&Tool::new("zfs", cmd::destroy(&spec.location)))
                .await
                .map_err(err(&name))?;
            if out.status == 0 {
                last = None;
                break;
            }
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
            if !cmd::busy(&stderr) {
                return Err(invalid(&name, format!("zfs destroy: {stderr}")));
            }
            last = Some(stderr);
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        if let Some(stderr) = last {
            return Err(invalid(
                &name,
                format!("zfs destroy: {stderr} (still, after 2 s)"),
            ));
        }
        // The snapshot this clone was made from, unless another clone uses it.
        if let Some(o) = origin {
            let _ = sys.run(&Tool::new("zfs", cmd::destroy_snapshot(&o))).await;
        }
        Ok(())
    }

    async fn size(&self, sys: &dyn Sys, spec: &RootfsSpec) -> Result<u64, StorageError> {
        let ds = list(sys, &spec.location).await?;
        ds.iter()
            .find(|d| d.name == spec.location)
            .map(|d| d.used)
            .ok_or_else(|| invalid(&spec.to_string(), "not listed by zfs"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rlxc_core::sys::{FakeSys, ToolOutput};

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_snapshot_clone_is_a_snapshot_and_a_clone_next_to_its_origin() {
        let sys = FakeSys::new();
        let req = CreateRequest {
            name: "c2".into(),
            container_dir: PathBuf::from("/l/.rlxc-staging/c2.1"),
            ..CreateRequest::default()
        };
        let spec =
            block_on(Zfs.snapshot(&sys, &RootfsSpec::new("zfs", "tank/lxc/c1"), &req)).unwrap();
        assert_eq!(spec.to_string(), "zfs:tank/lxc/c2");
        assert_eq!(
            sys.command_lines(),
            vec![
                "zfs snapshot tank/lxc/c1@c2",
                "zfs clone -o mountpoint=/l/.rlxc-staging/c2.1/rootfs tank/lxc/c1@c2 tank/lxc/c2",
                // Not in this process's mount table: mounted to be sure.
                "zfs mount tank/lxc/c2"
            ]
        );
    }

    fn failed(stderr: &str) -> ToolOutput {
        ToolOutput {
            status: 1,
            stdout: vec![],
            stderr: stderr.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_remount_that_zfs_fuse_found_busy_is_tried_again() {
        let sys = FakeSys::new();
        sys.answer(
            "zfs",
            failed("cannot mount 'tank/lxc/c2': mountpoint or dataset is busy\nproperty may be set but unable to remount filesystem"),
        );
        sys.answer(
            "zfs",
            failed("cannot mount 'tank/lxc/c2': mountpoint or dataset is busy"),
        );
        let spec = RootfsSpec::new("zfs", "tank/lxc/c2");
        block_on(Zfs.relocate(&sys, &spec, Path::new("/l/c2"))).unwrap();
        assert_eq!(
            sys.command_lines(),
            vec![
                "zfs set mountpoint=/l/c2/rootfs tank/lxc/c2",
                "zfs mount tank/lxc/c2",
                "zfs mount tank/lxc/c2"
            ]
        );
        // "Already mounted" is as good as mounted.
        let sys = FakeSys::new();
        sys.answer("zfs", ToolOutput::ok(""));
        sys.answer(
            "zfs",
            failed("cannot mount 'tank/lxc/c2': filesystem already mounted"),
        );
        block_on(Zfs.relocate(&sys, &spec, Path::new("/l/c2"))).unwrap();
    }

    #[test]
    fn a_failed_mountpoint_or_mount_is_an_error_and_a_new_dataset_goes_again() {
        let spec = RootfsSpec::new("zfs", "tank/lxc/c2");
        let sys = FakeSys::new();
        sys.answer(
            "zfs",
            failed("cannot set property for 'tank/lxc/c2': permission denied"),
        );
        let e = block_on(Zfs.relocate(&sys, &spec, Path::new("/l/c2")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("permission denied"), "{e}");
        assert_eq!(sys.command_lines().len(), 1, "no mount after a failed set");
        // A create whose dataset cannot be mounted destroys it.
        let sys = FakeSys::new();
        sys.answer("zfs", ToolOutput::ok(""));
        sys.answer("zfs", failed("cannot mount 'lxc/c2': no such pool"));
        let req = CreateRequest {
            name: "c2".into(),
            container_dir: PathBuf::from("/l/c2"),
            ..CreateRequest::default()
        };
        let e = block_on(Zfs.create(&sys, &req)).unwrap_err().to_string();
        assert!(
            e.contains(
                "cannot mount the dataset at /l/c2/rootfs: cannot mount 'lxc/c2': no such pool"
            ),
            "{e}"
        );
        let lines = sys.command_lines();
        assert_eq!(
            lines[..2],
            [
                "zfs create -o mountpoint=/l/c2/rootfs lxc/c2",
                "zfs mount lxc/c2"
            ]
        );
        assert!(
            lines.iter().any(|l| l == "zfs destroy -r lxc/c2"),
            "{lines:?}"
        );
    }

    #[test]
    fn destroy_retries_a_busy_dataset_then_removes_the_clones_snapshot() {
        let sys = FakeSys::new();
        let listed = "tank/lxc/c2\ttank/lxc/c1@c2\t/l/c2/rootfs\t1024\n";
        // The dataset, then its pool (for clones of its snapshots).
        sys.answer("zfs", ToolOutput::ok(listed));
        sys.answer("zfs", ToolOutput::ok(listed));
        sys.answer(
            "zfs",
            ToolOutput {
                status: 1,
                stdout: vec![],
                stderr: b"cannot destroy 'tank/lxc/c2': dataset is busy".to_vec(),
            },
        );
        block_on(Zfs.destroy(&sys, &RootfsSpec::new("zfs", "tank/lxc/c2"))).unwrap();
        let lines = sys.command_lines();
        assert_eq!(
            lines
                .iter()
                .filter(|l| *l == "zfs destroy -r tank/lxc/c2")
                .count(),
            2,
            "{lines:?}"
        );
        assert_eq!(
            lines.last().map(String::as_str),
            Some("zfs destroy tank/lxc/c1@c2")
        );
    }

    #[test]
    fn zfs_fuse_lists_without_p() {
        let sys = FakeSys::new();
        sys.answer(
            "zfs",
            ToolOutput {
                status: 2,
                stdout: vec![],
                stderr: b"invalid option 'p'\nusage:".to_vec(),
            },
        );
        sys.answer(
            "zfs",
            ToolOutput::ok("tank/lxc/c1\t-\t/l/c1/rootfs\t112K\n"),
        );
        assert_eq!(
            block_on(Zfs.size(&sys, &RootfsSpec::new("zfs", "tank/lxc/c1"))).unwrap(),
            112 << 10
        );
        let a_clone_is_refused = {
            let sys = FakeSys::new();
            sys.answer("zfs", ToolOutput::ok("tank/lxc/c1\t-\t/l/c1/rootfs\t1\n"));
            sys.answer(
                "zfs",
                ToolOutput::ok("tank\t-\tnone\t1\ntank/lxc/c1\t-\t/l/c1/rootfs\t1\ntank/lxc/c2\ttank/lxc/c1@c2\t/l/c2/rootfs\t1\n"),
            );
            let e = block_on(Zfs.destroy(&sys, &RootfsSpec::new("zfs", "tank/lxc/c1")))
                .unwrap_err()
                .to_string();
            assert!(
                !sys.command_lines()
                    .iter()
                    .any(|l| l.starts_with("zfs destroy")),
                "refused before anything is destroyed"
            );
            e
        };
        assert!(
            a_clone_is_refused.contains("dependent clones")
                && a_clone_is_refused.contains("tank/lxc/c2"),
            "{a_clone_is_refused}"
        );
    }
}
