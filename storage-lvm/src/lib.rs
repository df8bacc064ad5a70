//! LVM storage for rlxc: a logical volume per container (`-B lvm --vgname
//! --lvname --thinpool --fssize --fstype`), thin volumes where the volume
//! group has the thin pool, LVM snapshots for `copy -s`, through the lvm2
//! tools ([`cmd`]: pure argument builders and parsers of their JSON
//! reports).
//!
//! - `create`: `lvcreate` (in the thin pool `--thinpool` or
//!   `lxc.bdev.lvm.thin_pool`, default `lxc`, when the VG has it; else a
//!   plain LV), then `mkfs -t FSTYPE` (default ext4); the rootfs is
//!   `lvm:/dev/VG/LV` and is mounted at start.
//! - `snapshot`: a thin snapshot of a thin volume, else a classic one of the
//!   origin's size (which reads its origin: recorded in `lxc_snapshots`).
//! - `destroy`: `lvremove -f`.
//!
//! Where the kernel has no device-mapper (this project's test machines),
//! `lvcreate` cannot activate a volume: the error says so plainly, and
//! nothing is left in the volume group.
//!
//! Privileges: root. Depends on `rlxc-core` only.

pub mod cmd;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rlxc_core::storage::{CreateRequest, RootfsSpec, Storage, StorageCaps, StorageError};
use rlxc_core::sys::{MountRequest, Sys, SysError, Tool};

/// The backend name.
pub const NAME: &str = "lvm";
/// LXC's defaults: volume group, thin pool, size, filesystem.
pub const DEFAULT_VG: &str = "lxc";
/// See [`DEFAULT_VG`].
pub const DEFAULT_THINPOOL: &str = "lxc";
/// See [`DEFAULT_VG`].
pub const DEFAULT_SIZE: u64 = 1 << 30;
/// See [`DEFAULT_VG`].
pub const DEFAULT_FSTYPE: &str = "ext4";

/// The LVM backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct Lvm;

/// Registers the `lvm` backend.
pub fn register(r: &mut rlxc_core::registry::Registry) {
    r.add_storage(std::sync::Arc::new(Lvm));
}

fn invalid(rootfs: &str, reason: impl Into<String>) -> StorageError {
    StorageError::Invalid {
        rootfs: rootfs.to_string(),
        reason: reason.into(),
    }
}

/// Runs an lvm2 tool; a failure names device-mapper when that is why.
async fn lvm(
    sys: &dyn Sys,
    program: &str,
    args: Vec<String>,
    rootfs: &str,
) -> Result<String, StorageError> {
    let mut tool = Tool::new(program, args);
    // lvm complains about every inherited fd on stderr otherwise.
    tool.env
        .push(("LVM_SUPPRESS_FD_WARNINGS".into(), "1".into()));
    let out = sys.run(&tool).await.map_err(|source| StorageError::Sys {
        rootfs: rootfs.to_string(),
        source,
    })?;
    if out.status == 0 {
        return Ok(out.stdout_text());
    }
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if cmd::no_device_mapper(&stderr) {
        return Err(invalid(
            rootfs,
            format!(
                "`{}` failed: this kernel has no device-mapper (dm_mod), so LVM cannot activate logical volumes here",
                tool.command_line()
            ),
        ));
    }
    Err(StorageError::Sys {
        rootfs: rootfs.to_string(),
        source: SysError::Failed {
            command: tool.command_line(),
            status: format!("exit status {}", out.status),
            stderr,
        },
    })
}

/// Whether the kernel has device-mapper (a `/dev/mapper/control` node alone
/// says nothing: lvm2's package makes it either way).
pub fn has_device_mapper() -> bool {
    std::fs::read_to_string("/proc/misc")
        .is_ok_and(|m| m.lines().any(|l| l.ends_with(" device-mapper")))
}

/// `/dev/VG/LV` split into its names.
fn names(spec: &RootfsSpec) -> Result<(String, String), StorageError> {
    let p = Path::new(&spec.location);
    match (
        p.parent().and_then(|d| d.file_name()),
        p.file_name(),
        p.starts_with("/dev"),
    ) {
        (Some(vg), Some(lv), true) => Ok((
            vg.to_string_lossy().into_owned(),
            lv.to_string_lossy().into_owned(),
        )),
        _ => Err(invalid(
            &spec.to_string(),
            "an lvm rootfs is lvm:/dev/VG/LV",
        )),
    }
}

fn spec_of(vg: &str, lv: &str) -> RootfsSpec {
    RootfsSpec::new(NAME, format!("/dev/{vg}/{lv}"))
}

async fn volumes(sys: &dyn Sys, vg: &str) -> Result<Vec<cmd::Lv>, StorageError> {
    let json = lvm(sys, "lvs", cmd::lvs(vg), &format!("lvm:/dev/{vg}")).await?;
    cmd::parse_lvs(&json).map_err(|e| invalid(&format!("lvm:/dev/{vg}"), e))
}

/// The filesystem type of a block device, as `blkid` probes it.
async fn fstype(sys: &dyn Sys, spec: &RootfsSpec) -> Result<String, StorageError> {
    let t = lvm(
        sys,
        "blkid",
        vec![
            "-p".into(),
            "-o".into(),
            "value".into(),
            "-s".into(),
            "TYPE".into(),
            spec.location.clone(),
        ],
        &spec.to_string(),
    )
    .await?;
    Ok(t.trim().to_string())
}

#[async_trait]
impl Storage for Lvm {
    fn name(&self) -> &'static str {
        NAME
    }

    fn caps(&self) -> StorageCaps {
        StorageCaps {
            snapshot: true,
            copy: true,
            resize: false,
            needs_mount: true,
            snapshot_depends: true,
        }
    }

    fn usable_in(&self, _lxcpath: &Path) -> bool {
        // `-B best`: where the default VG exists and volumes can be activated.
        has_device_mapper() && Path::new("/dev").join(DEFAULT_VG).is_dir()
    }

    async fn create(&self, sys: &dyn Sys, req: &CreateRequest) -> Result<RootfsSpec, StorageError> {
        let vg = req.options.get("vgname").map_or(DEFAULT_VG, String::as_str);
        let lv = req
            .options
            .get("lvname")
            .or(req.options.get("volume"))
            .map_or(req.name.as_str(), String::as_str);
        let pool = req
            .options
            .get("thinpool")
            .map_or(DEFAULT_THINPOOL, String::as_str);
        let size = req.size.unwrap_or(DEFAULT_SIZE);
        let spec = spec_of(vg, lv);
        let rootfs = spec.to_string();
        let thin = volumes(sys, vg)
            .await?
            .iter()
            .any(|l| l.name == pool && l.is_thin_pool());
        let args = if thin {
            cmd::lvcreate_thin(vg, pool, lv, size)
        } else {
            cmd::lvcreate(vg, lv, size)
        };
        lvm(sys, "lvcreate", args, &rootfs).await?;
        let fs = req.fstype.as_deref().unwrap_or(DEFAULT_FSTYPE);
        if let Err(e) = lvm(
            sys,
            "mkfs",
            vec!["-t".into(), fs.into(), "-q".into(), spec.location.clone()],
            &rootfs,
        )
        .await
        {
            let _ = lvm(sys, "lvremove", cmd::lvremove(vg, lv), &rootfs).await;
            return Err(e);
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
        let copied = rlxc_core::storage::fill_by_mount(
            std::sync::Arc::new(Self),
            &spec,
            &req.container_dir.join("rootfs"),
            src_path,
        );
        if let Err(why) = copied {
            let _ = self.destroy(sys, &spec).await;
            return Err(invalid(&spec.to_string(), why));
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
                "an lvm snapshot needs an lvm origin; copy it without -s",
            ));
        }
        let (vg, origin) = names(src)?;
        let new = req
            .options
            .get("volume")
            .map_or(req.name.as_str(), String::as_str);
        let lvs = volumes(sys, &vg).await?;
        let o = lvs
            .iter()
            .find(|l| l.name == origin)
            .ok_or_else(|| invalid(&src.to_string(), "no such logical volume"))?;
        // A thin volume's snapshot needs no size; a classic one gets the origin's.
        let size = o.pool.is_none().then_some(o.size);
        let spec = spec_of(&vg, new);
        lvm(
            sys,
            "lvcreate",
            cmd::snapshot(&vg, &origin, new, size),
            &spec.to_string(),
        )
        .await?;
        let mnt = req.container_dir.join("rootfs");
        std::fs::create_dir_all(&mnt).map_err(|e| StorageError::io(&mnt, e))?;
        Ok(spec)
    }

    async fn mount(
        &self,
        sys: &dyn Sys,
        spec: &RootfsSpec,
        target: &Path,
    ) -> Result<(), StorageError> {
        let fs = fstype(sys, spec).await?;
        let req = MountRequest {
            source: Some(PathBuf::from(&spec.location)),
            target: target.to_path_buf(),
            fstype: Some(fs),
            flags: nix::mount::MsFlags::empty(),
            data: None,
        };
        sys.mount(&req).map_err(|source| StorageError::Sys {
            rootfs: spec.to_string(),
            source,
        })
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
        let (vg, lv) = names(spec)?;
        if !volumes(sys, &vg).await?.iter().any(|l| l.name == lv) {
            return Ok(());
        }
        lvm(sys, "lvremove", cmd::lvremove(&vg, &lv), &spec.to_string())
            .await
            .map(|_| ())
    }

    async fn size(&self, sys: &dyn Sys, spec: &RootfsSpec) -> Result<u64, StorageError> {
        let (vg, lv) = names(spec)?;
        volumes(sys, &vg)
            .await?
            .iter()
            .find(|l| l.name == lv)
            .map(|l| l.size)
            .ok_or_else(|| invalid(&spec.to_string(), "no such logical volume"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rlxc_core::sys::{FakeSys, ToolOutput};

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    const THIN_VG: &str = r#"{"report":[{"lv":[{"lv_name":"lxc","vg_name":"vg0","lv_attr":"twi-aotz--","lv_size":"4294967296","pool_lv":"","origin":""},
        {"lv_name":"c1","vg_name":"vg0","lv_attr":"Vwi-a-tz--","lv_size":"1073741824","pool_lv":"lxc","origin":""}]}]}"#;
    const PLAIN_VG: &str = r#"{"report":[{"lv":[{"lv_name":"c1","vg_name":"vg0","lv_attr":"-wi-a-----","lv_size":"536870912","pool_lv":"","origin":""}]}]}"#;

    #[test]
    fn create_uses_the_thin_pool_when_the_vg_has_one_then_makes_the_filesystem() {
        let d = tempfile::tempdir().unwrap();
        let sys = FakeSys::new();
        sys.answer("lvs", ToolOutput::ok(THIN_VG));
        let req = CreateRequest {
            name: "c2".into(),
            container_dir: d.path().to_path_buf(),
            size: Some(2 << 30),
            options: [("vgname".to_string(), "vg0".to_string())].into(),
            ..CreateRequest::default()
        };
        let spec = block_on(Lvm.create(&sys, &req)).unwrap();
        assert_eq!(spec.to_string(), "lvm:/dev/vg0/c2");
        let lines = sys.command_lines();
        assert_eq!(
            lines[1],
            "lvcreate -Wy --yes --thin -V 2147483648b -n c2 vg0/lxc"
        );
        assert_eq!(lines[2], "mkfs -t ext4 -q /dev/vg0/c2");
    }

    #[test]
    fn a_classic_snapshot_gets_its_origins_size_and_a_thin_one_none() {
        let d = tempfile::tempdir().unwrap();
        let req = CreateRequest {
            name: "c2".into(),
            container_dir: d.path().to_path_buf(),
            ..CreateRequest::default()
        };
        let sys = FakeSys::new();
        sys.answer("lvs", ToolOutput::ok(PLAIN_VG));
        block_on(Lvm.snapshot(&sys, &RootfsSpec::new("lvm", "/dev/vg0/c1"), &req)).unwrap();
        assert_eq!(
            sys.command_lines()[1],
            "lvcreate -s -n c2 -L 536870912b vg0/c1"
        );
        let sys = FakeSys::new();
        sys.answer("lvs", ToolOutput::ok(THIN_VG));
        block_on(Lvm.snapshot(&sys, &RootfsSpec::new("lvm", "/dev/vg0/c1"), &req)).unwrap();
        assert_eq!(sys.command_lines()[1], "lvcreate -s -n c2 -kn vg0/c1");
    }

    #[test]
    fn no_device_mapper_is_said_plainly() {
        let d = tempfile::tempdir().unwrap();
        let sys = FakeSys::new();
        sys.answer("lvs", ToolOutput::ok(r#"{"report":[{"lv":[]}]}"#));
        sys.answer(
            "lvcreate",
            ToolOutput {
                status: 5,
                stdout: vec![],
                stderr: b"  /dev/mapper/control: open failed: No such device\n  Failure to communicate with kernel device-mapper driver.".to_vec(),
            },
        );
        let req = CreateRequest {
            name: "c1".into(),
            container_dir: d.path().to_path_buf(),
            ..CreateRequest::default()
        };
        let e = block_on(Lvm.create(&sys, &req)).unwrap_err().to_string();
        assert!(e.contains("this kernel has no device-mapper"), "{e}");
        assert!(!sys.command_lines().iter().any(|l| l.starts_with("mkfs")));
    }
}
