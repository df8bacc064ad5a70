//! Copying a container (`copy`, `clone`), all or nothing, as `create` is:
//! the clone is built in `<lxcpath>/.rlxc-staging/<new>.<pid>` and renamed
//! into place when its rootfs and config are complete.
//!
//! 1. the rootfs: a snapshot through the target backend (`-s`: overlay on a
//!    dir origin), or a full copy of the origin's rootfs, mounted in a
//!    private mount namespace when its backend needs a mount;
//! 2. the config, rewritten for the clone ([`crate::config::clone`]), with the
//!    hook scripts and fstab of the origin's directory copied;
//! 3. for a snapshot, the dependency files ([`super::deps`]): the clone's
//!    `lxc_rdepends`, and the origin's `lxc_snapshots` (before the rename:
//!    a pair naming a clone that never appeared is ignored when read);
//! 4. the rename; then, with the new rootfs mounted in a private mount
//!    namespace, `/etc/hostname` (when it exists, unless `-K`) and
//!    `lxc.hook.clone`. A failure there destroys the clone again.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::clone::{clone_config, replace_dir, CloneNames};
use crate::config::document::Document;
use crate::config::net::kernel_random;
use crate::storage::{CreateRequest, RootfsSpec, Storage};
use crate::sys::Sys;
use crate::userns::container_root::ContainerRoot;

use super::create::{CreateError, STAGING};
use super::deps::{self, Dep};
use super::lock::ContainerLock;
use super::name::NameError;
use super::paths::Paths;
use super::private_mounts::{block_on_forked, in_private_mounts};

/// What to copy where.
#[derive(Debug, Clone)]
pub struct CopyJob {
    /// The origin's lxcpath.
    pub src_paths: Paths,
    /// The origin.
    pub src: String,
    /// Its rootfs and backend.
    pub src_rootfs: (Arc<dyn Storage>, RootfsSpec),
    /// The clone's lxcpath (`-P`).
    pub dst_paths: Paths,
    /// The clone.
    pub new: String,
    /// The clone's backend.
    pub target: Arc<dyn Storage>,
    /// A snapshot (`-s`) rather than a copy.
    pub snapshot: bool,
    /// Backend options for the new rootfs.
    pub storage_request: CreateRequest,
    /// `-K`.
    pub keep_name: bool,
    /// `-M`.
    pub keep_mac: bool,
    /// Arguments after `--`, for `lxc.hook.clone`.
    pub hook_args: Vec<String>,
    /// Record the clone in `lxc_snapshots`/`lxc_rdepends` when its rootfs
    /// reads its origin's (not for a container's own snapshots, as in LXC).
    pub record_deps: bool,
}

fn io_err(name: &str, path: &Path) -> impl FnOnce(std::io::Error) -> CreateError {
    let (name, path) = (name.to_string(), path.to_path_buf());
    move |source| CreateError::Io { name, path, source }
}

fn storage_err(name: &str) -> impl FnOnce(crate::storage::StorageError) -> CreateError {
    let name = name.to_string();
    move |source| CreateError::Storage { name, source }
}

/// Makes the clone; returns its directory. On failure nothing is left
/// under its name and the origin is as it was.
pub async fn copy(sys: &dyn Sys, job: CopyJob) -> Result<PathBuf, CreateError> {
    let new = job.new.as_str();
    if new == STAGING {
        return Err(NameError {
            name: new.into(),
            reason: "the name is reserved by rlxc",
        }
        .into());
    }
    let src_dir = job.src_paths.container_dir(&job.src)?;
    let final_dir = job.dst_paths.container_dir(new)?;
    if final_dir == src_dir {
        return Err(CreateError::Exists {
            name: new.into(),
            lxcpath: job.dst_paths.lxcpath.clone(),
        });
    }
    let _origin_lock = ContainerLock::try_acquire(&job.src, &job.src_paths.lock_file(&job.src)?)?;
    let _lock = ContainerLock::try_acquire(new, &job.dst_paths.lock_file(new)?)?;
    if final_dir.exists() {
        return Err(CreateError::Exists {
            name: new.into(),
            lxcpath: job.dst_paths.lxcpath.clone(),
        });
    }
    let origin_doc = Document::read(&src_dir.join("config")).map_err(|e| CreateError::Config {
        name: job.src.clone(),
        source: e.into(),
    })?;
    let staging_root = job.dst_paths.lxcpath.join(STAGING);
    std::fs::create_dir_all(&staging_root).map_err(io_err(new, &staging_root))?;
    super::create::sweep_stale(&staging_root);
    let dir = staging_root.join(format!("{new}.{}", std::process::id()));
    // Private while it is built: nobody can reach into the copy meanwhile.
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(io_err(new, &dir))?;
    let origin = Dep {
        lxcpath: job.src_paths.lxcpath.clone(),
        name: job.src.clone(),
    };
    let clone = Dep {
        lxcpath: job.dst_paths.lxcpath.clone(),
        name: new.to_string(),
    };
    // A user's mapped origin is its container root's to read: the clone's
    // rootfs is made, and later touched, as that root.
    let as_root = container_root_of(&src_dir);
    let staged = match make_rootfs_as(sys, &job, &dir, as_root.as_ref()).await {
        Ok(s) => s,
        Err(e) => {
            let _ = remove_built(sys, &job, None, &dir, as_root.as_ref()).await;
            return Err(e);
        }
    };
    let built = configure(&job, &dir, &final_dir, &src_dir, &origin_doc, &staged);
    // A snapshot depends on its origin and on everything the origin does
    // (an overlay of an overlay has the first origin's rootfs as its lower).
    let mut origins = Vec::new();
    let recorded = built.and_then(|spec| {
        if job.record_deps && job.snapshot && job.target.caps().snapshot_depends {
            deps::write_rdepends(&dir, &origin).map_err(io_err(new, &dir.join(deps::RDEPENDS)))?;
            for o in deps::read(&dir, deps::RDEPENDS)
                .map_err(io_err(new, &dir))?
                .deps
            {
                deps::add_clone(&o.dir(), &clone)
                    .map_err(io_err(new, &o.dir().join(deps::SNAPSHOTS)))?;
                origins.push(o);
            }
        }
        Ok(spec)
    });
    let forget = |origins: &[Dep]| {
        for o in origins {
            let _ = deps::remove_clone(&o.dir(), &clone);
        }
    };
    let renamed = recorded.and_then(|spec| {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770))
            .and_then(|()| std::fs::rename(&dir, &final_dir))
            .map_err(io_err(new, &final_dir))?;
        Ok(spec)
    });
    let spec = match renamed {
        Ok(spec) => spec,
        Err(e) => {
            // The backend's volume (a dataset, an LV, a subvolume) goes too,
            // not only the directory.
            forget(&origins);
            if let Err(d) = remove_built(sys, &job, Some(&staged), &dir, as_root.as_ref()).await {
                tracing::error!("container `{new}`: removing the half-made rootfs {staged}: {d}");
            }
            return Err(e);
        }
    };
    if let Err(e) = job.target.relocate(sys, &spec, &final_dir).await {
        tracing::warn!("container `{new}`: {e}");
    }
    let new_hostname = !job.keep_name && origin_has_hostname(sys, &job).await;
    if let Err(why) = finish(&job, &final_dir, &spec, new_hostname, as_root.as_ref()) {
        // Undone under the lock, without the clone's destroy hook (it never ran).
        let why = match remove_built(sys, &job, Some(&spec), &final_dir, as_root.as_ref()).await {
            Ok(()) => why,
            Err(e) => format!("{why}; removing the clone failed too: {e}"),
        };
        forget(&origins);
        return Err(CreateError::Hook {
            name: new.into(),
            why,
        });
    }
    Ok(final_dir)
}

/// Removes a clone whose last step failed: its rootfs (when it was made),
/// then its directory; as the container's root for a user's mapped one.
async fn remove_built(
    sys: &dyn Sys,
    job: &CopyJob,
    spec: Option<&RootfsSpec>,
    dir: &Path,
    as_root: Option<&ContainerRoot>,
) -> Result<(), String> {
    let Some(cr) = as_root else {
        if let Some(spec) = spec {
            job.target
                .destroy(sys, spec)
                .await
                .map_err(|e| e.to_string())?;
        }
        return std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()));
    };
    let (target, spec, dir) = (job.target.clone(), spec.cloned(), dir.to_path_buf());
    cr.run("removing the clone as the container's root", move || {
        if let Some(spec) = spec {
            let sys = crate::sys::RealSys;
            block_on_forked(target.destroy(&sys, &spec))?.map_err(|e| e.to_string())?;
        }
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(String::new())
    })
    .map(|_| ())
}

/// The container root of a user's origin with `lxc.idmap` (see
/// [`ContainerRoot`]); `None` for root's, or a container without maps.
fn container_root_of(src_dir: &Path) -> Option<ContainerRoot> {
    let cfg = crate::config::load_file(&src_dir.join("config")).ok()?;
    super::create::container_root_of(&cfg)
}

/// [`make_rootfs`], as the origin's container root when there is one.
async fn make_rootfs_as(
    sys: &dyn Sys,
    job: &CopyJob,
    dir: &Path,
    as_root: Option<&ContainerRoot>,
) -> Result<RootfsSpec, CreateError> {
    let Some(cr) = as_root else {
        return make_rootfs(sys, job, dir).await;
    };
    let (job2, dir2) = (job.clone(), dir.to_path_buf());
    let text = cr
        .run(
            "making the clone's rootfs as the container's root",
            move || {
                let sys = crate::sys::RealSys;
                block_on_forked(make_rootfs(&sys, &job2, &dir2))?
                    .map(|s| s.to_string())
                    .map_err(|e| e.to_string())
            },
        )
        .map_err(|reason| CreateError::Storage {
            name: job.new.clone(),
            source: crate::storage::StorageError::Invalid {
                rootfs: job.src_rootfs.1.to_string(),
                reason,
            },
        })?;
    Ok(RootfsSpec::parse(&text))
}

/// The new rootfs, in the staging directory `dir`.
async fn make_rootfs(sys: &dyn Sys, job: &CopyJob, dir: &Path) -> Result<RootfsSpec, CreateError> {
    let new = job.new.as_str();
    let req = CreateRequest {
        name: new.into(),
        container_dir: dir.to_path_buf(),
        ..job.storage_request.clone()
    };
    let (src_storage, src_spec) = &job.src_rootfs;
    let spec = if job.snapshot {
        job.target
            .snapshot(sys, src_spec, &req)
            .await
            .map_err(storage_err(new))?
    } else if let Some(src_path) = src_storage
        .host_path(sys, src_spec)
        .await
        .map_err(storage_err(new))?
    {
        job.target
            .copy(sys, &src_path, &req)
            .await
            .map_err(storage_err(new))?
    } else {
        copy_mounted(job, &req, dir)?
    };
    Ok(spec)
}

/// The config (and the origin's own hook files) in the staging directory
/// `dir`, for the rootfs `spec` made there; the spec as it reads after the
/// rename.
fn configure(
    job: &CopyJob,
    dir: &Path,
    final_dir: &Path,
    src_dir: &Path,
    origin_doc: &Document,
    spec: &RootfsSpec,
) -> Result<RootfsSpec, CreateError> {
    let new = job.new.as_str();
    let final_spec = RootfsSpec {
        backend: spec.backend.clone(),
        location: replace_dir(&spec.location, dir, final_dir),
    };
    let rootfs_value = final_spec.to_string();
    let out = clone_config(
        origin_doc,
        &CloneNames {
            old_dir: src_dir,
            new_name: new,
            new_dir: final_dir,
            rootfs: &rootfs_value,
            keep_name: job.keep_name,
            keep_mac: job.keep_mac,
        },
        &mut kernel_random(),
    );
    for (from, to) in &out.files {
        // Copied into the staging directory, under the same relative name.
        let rel = to.strip_prefix(final_dir).unwrap_or(to);
        let staged = dir.join(rel);
        if let Some(p) = staged.parent() {
            std::fs::create_dir_all(p).map_err(io_err(new, p))?;
        }
        copy_own_file(from, &staged).map_err(io_err(new, from))?;
    }
    crate::config::load_text(&out.doc.to_bytes(), &final_dir.join("config")).map_err(|source| {
        CreateError::Config {
            name: new.into(),
            source,
        }
    })?;
    out.doc
        .write_atomic(&dir.join("config"))
        .map_err(|e| CreateError::Config {
            name: new.into(),
            source: e.into(),
        })?;
    Ok(final_spec)
}

/// Copies one of the origin's hook scripts or its fstab: not through a
/// symlink, into a new file, with its mode.
fn copy_own_file(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut src = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(from)?;
    let mode = src.metadata()?.permissions().mode() & 0o7777;
    let mut dst = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(to)?;
    std::io::copy(&mut src, &mut dst)?;
    dst.set_permissions(std::fs::Permissions::from_mode(mode))
}

/// A full copy of a rootfs whose backend must mount it: in a private mount
/// namespace, mounted at `<staging>/.origin` for the copy.
fn copy_mounted(job: &CopyJob, req: &CreateRequest, dir: &Path) -> Result<RootfsSpec, CreateError> {
    let new = job.new.as_str();
    let at = dir.join(".origin");
    std::fs::create_dir(&at).map_err(io_err(new, &at))?;
    let (src_storage, src_spec) = job.src_rootfs.clone();
    let target = job.target.clone();
    let (req, at2) = (req.clone(), at.clone());
    let made = in_private_mounts("copying the origin's rootfs", move || {
        let sys = crate::sys::RealSys;
        block_on_forked(async {
            src_storage
                .mount(&sys, &src_spec, &at2)
                .await
                .map_err(|e| e.to_string())?;
            let r = target
                .copy(&sys, &at2, &req)
                .await
                .map_err(|e| e.to_string());
            let _ = src_storage.umount(&sys, &src_spec, &at2).await;
            r.map(|s| s.to_string())
        })?
    });
    let _ = std::fs::remove_dir(&at);
    let text = made.map_err(|why| CreateError::Storage {
        name: new.into(),
        source: crate::storage::StorageError::Invalid {
            rootfs: job.src_rootfs.1.to_string(),
            reason: why,
        },
    })?;
    Ok(RootfsSpec::parse(&text))
}

/// Whether the origin's rootfs has an `/etc/hostname` to rewrite in the
/// clone; `true` when that cannot be seen without a mount (an overlay).
async fn origin_has_hostname(sys: &dyn Sys, job: &CopyJob) -> bool {
    let (storage, spec) = &job.src_rootfs;
    match storage.host_path(sys, spec).await {
        Ok(Some(root)) => {
            std::fs::symlink_metadata(root.join("etc/hostname")).is_ok_and(|m| m.is_file())
        }
        _ => true,
    }
}

/// After the rename: the hostname and `lxc.hook.clone`, with the clone's
/// rootfs mounted in a private mount namespace.
fn finish(
    job: &CopyJob,
    dir: &Path,
    spec: &RootfsSpec,
    new_hostname: bool,
    as_root: Option<&ContainerRoot>,
) -> Result<(), String> {
    let config_file = dir.join("config");
    let cfg = crate::config::load_file(&config_file).map_err(|e| e.to_string())?;
    let mut hooks = crate::run::hooks::Hooks::from_config(&job.new, &config_file, &cfg);
    let has_hook = hooks.has(crate::run::hooks::HookKind::Clone);
    if !new_hostname && !has_hook {
        return Ok(());
    }
    let (storage, spec) = (job.target.clone(), spec.clone());
    let mount_at = dir.join("rootfs");
    let (new, src) = (job.new.clone(), job.src.clone());
    let args = job.hook_args.clone();
    hooks.set_rootfs_mount(&mount_at);
    let work = move || {
        let sys = crate::sys::RealSys;
        let here = block_on_forked(storage.host_path(&sys, &spec))?.map_err(|e| e.to_string())?;
        let root = match here {
            Some(p) => p,
            None => {
                block_on_forked(storage.mount(&sys, &spec, &mount_at))?
                    .map_err(|e| e.to_string())?;
                mount_at.clone()
            }
        };
        if new_hostname {
            let (etc, hostname) = (root.join("etc"), root.join("etc/hostname"));
            // A symlink on the way could point out of the rootfs: only a
            // plain file in a plain directory is rewritten.
            if std::fs::symlink_metadata(&etc).is_ok_and(|m| m.is_dir())
                && std::fs::symlink_metadata(&hostname).is_ok_and(|m| m.is_file())
            {
                std::fs::write(&hostname, format!("{new}\n"))
                    .map_err(|e| format!("{}: {e}", hostname.display()))?;
            }
        }
        if has_hook {
            let env = [("LXC_SRC_NAME".to_string(), src.clone())];
            hooks.run(&sys, crate::run::hooks::HookKind::Clone, &env, &args)?;
        }
        Ok(String::new())
    };
    match as_root {
        Some(cr) => cr.run("the clone's rootfs, as the container's root", work),
        None => in_private_mounts("the clone's rootfs", work),
    }
    .map(|_| ())
}
