//! Creating and destroying containers, all or nothing.
//!
//! A new container is built in `<lxcpath>/.rlxc-staging/<name>.<pid>` and
//! renamed into place only when its rootfs, template and config are complete,
//! so an interrupted or failed create leaves nothing under the container's
//! name (LXC leaves an empty directory that `lxc-destroy` then refuses).
//! Destroy renames the directory away first, so the container disappears at
//! once, then removes the rootfs through its backend and the rest of the tree.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::document::Document;
use crate::config::net::{kernel_random, randomize_document_hwaddrs};
use crate::config::{load_text, ConfigErrors};
use crate::storage::{CreateRequest, RootfsSpec, Storage, StorageError};
use crate::sys::Sys;
use crate::template::{Template, TemplateError, TemplateRequest};

use super::lock::{ContainerLock, LockError};
use super::name::NameError;
use super::paths::Paths;

/// Directory of half-made and half-removed containers inside an lxcpath.
pub const STAGING: &str = ".rlxc-staging";

/// Why a create or destroy failed. Every message names the container.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Bad name.
    #[error(transparent)]
    Name(#[from] NameError),
    /// Lock held or not takeable.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The name is taken.
    #[error("container `{name}` already exists in {lxcpath}")]
    Exists {
        /// Container.
        name: String,
        /// Where.
        lxcpath: PathBuf,
    },
    /// No such container.
    #[error("container `{name}` does not exist in {lxcpath}")]
    Missing {
        /// Container.
        name: String,
        /// Where.
        lxcpath: PathBuf,
    },
    /// Storage backend failure.
    #[error("container `{name}`: storage: {source}")]
    Storage {
        /// Container.
        name: String,
        /// Cause.
        source: StorageError,
    },
    /// Template failure.
    #[error("container `{name}`: {source}")]
    Template {
        /// Container.
        name: String,
        /// Cause.
        source: TemplateError,
    },
    /// The resulting config does not load.
    #[error("container `{name}`: the new config has errors:\n{source}")]
    Config {
        /// Container.
        name: String,
        /// Every error.
        source: ConfigErrors,
    },
    /// Other containers' rootfs depend on this one's.
    #[error("container `{name}` has clones that depend on its rootfs: {clones}; destroy them first (or use destroy -s)")]
    HasClones {
        /// Container.
        name: String,
        /// Their names.
        clones: String,
    },
    /// A hook failed (`lxc.hook.destroy`, `lxc.hook.clone`).
    #[error("container `{name}`: {why}")]
    Hook {
        /// Container.
        name: String,
        /// The hook, its status and output.
        why: String,
    },
    /// A file operation failed.
    #[error("container `{name}`: {path}: {source}")]
    Io {
        /// Container.
        name: String,
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// What to create.
#[derive(Debug, Clone)]
pub struct NewContainer {
    /// Name.
    pub name: String,
    /// Storage backend.
    pub storage: Arc<dyn Storage>,
    /// Backend options (`--fssize` etc.).
    pub storage_request: CreateRequest,
    /// Template, if any (`-t`).
    pub template: Option<Arc<dyn Template>>,
    /// Arguments after `--`.
    pub template_args: Vec<String>,
    /// The config to start from: `-f FILE`, or the system's default config.
    pub base_config: Option<PathBuf>,
    /// Template cache directory.
    pub cache_dir: PathBuf,
    /// `-q`: no progress from the template's long steps.
    pub quiet: bool,
}

/// Staged work that is undone on drop unless committed.
struct Staging<'a> {
    sys: &'a dyn Sys,
    dir: PathBuf,
    storage: Arc<dyn Storage>,
    rootfs: Option<RootfsSpec>,
    committed: bool,
}

impl Staging<'_> {
    async fn undo(&mut self) {
        if let Some(spec) = self.rootfs.take() {
            if let Err(e) = self.storage.destroy(self.sys, &spec).await {
                tracing::error!("cleaning up a failed create: {e}");
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::error!("cleaning up a failed create: {}: {e}", self.dir.display());
            }
        }
        self.committed = true;
    }
}

impl Drop for Staging<'_> {
    fn drop(&mut self) {
        if !self.committed {
            // Cancelled mid-way (the future was dropped): remove what a dir-like
            // backend left in the staging directory. Other backends' volumes are
            // logged for the operator.
            if let Some(spec) = &self.rootfs {
                tracing::error!("create interrupted: rootfs {spec} may need removing");
            }
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn io_err(name: &str, path: &Path) -> impl FnOnce(std::io::Error) -> CreateError {
    let (name, path) = (name.to_string(), path.to_path_buf());
    move |source| CreateError::Io { name, path, source }
}

/// Creates a container. On any failure nothing is left under its name.
pub async fn create(
    sys: &dyn Sys,
    paths: &Paths,
    new: NewContainer,
) -> Result<PathBuf, CreateError> {
    let name = new.name.as_str();
    let final_dir = paths.container_dir(name)?;
    if name == STAGING {
        return Err(NameError {
            name: name.into(),
            reason: "the name is reserved by rlxc",
        }
        .into());
    }
    let _lock = ContainerLock::try_acquire(name, &paths.lock_file(name)?)?;
    if final_dir.exists() {
        return Err(CreateError::Exists {
            name: name.into(),
            lxcpath: paths.lxcpath.clone(),
        });
    }
    let staging_root = paths.lxcpath.join(STAGING);
    std::fs::create_dir_all(&staging_root).map_err(io_err(name, &staging_root))?;
    sweep_stale(&staging_root);
    let dir = staging_root.join(format!("{name}.{}", std::process::id()));
    // 0770, as LXC makes a container's directory: host users do not reach
    // into its rootfs (and its set-user-id files).
    std::fs::DirBuilder::new()
        .mode(0o770)
        .create(&dir)
        .map_err(io_err(name, &dir))?;
    let mut staging = Staging {
        sys,
        dir: dir.clone(),
        storage: new.storage.clone(),
        rootfs: None,
        committed: false,
    };
    let result = build(sys, &mut staging, &new, &final_dir).await;
    match result {
        Ok(()) => {
            std::fs::rename(&dir, &final_dir).map_err(io_err(name, &final_dir))?;
            staging.committed = true;
            if let Some(spec) = &staging.rootfs {
                let spec = rebase(spec, &dir, &final_dir);
                if let Err(e) = new.storage.relocate(sys, &spec, &final_dir).await {
                    tracing::warn!("container `{name}`: {e}");
                }
            }
            Ok(final_dir)
        }
        Err(e) => {
            staging.undo().await;
            Err(e)
        }
    }
}

async fn build(
    sys: &dyn Sys,
    staging: &mut Staging<'_>,
    new: &NewContainer,
    final_dir: &Path,
) -> Result<(), CreateError> {
    let name = new.name.as_str();
    let req = CreateRequest {
        name: name.into(),
        container_dir: staging.dir.clone(),
        ..new.storage_request.clone()
    };
    let spec = new
        .storage
        .create(sys, &req)
        .await
        .map_err(|source| CreateError::Storage {
            name: name.into(),
            source,
        })?;
    staging.rootfs = Some(spec.clone());
    let mut lines = Vec::new();
    let maps = base_maps(new)?;
    if let Some(t) = &new.template {
        let here =
            new.storage
                .host_path(sys, &spec)
                .await
                .map_err(|source| CreateError::Storage {
                    name: name.into(),
                    source,
                })?;
        let treq = TemplateRequest {
            name: name.into(),
            path: staging.dir.clone(),
            rootfs: here.clone().unwrap_or_else(|| staging.dir.join("rootfs")),
            args: new.template_args.clone(),
            // A script maps its files itself (`--mapped-uid`); a built-in
            // template's tree is shifted after it.
            mapped_uid: t.maps_itself().then(|| maps.root().0).flatten(),
            mapped_gid: t.maps_itself().then(|| maps.root().1).flatten(),
            cache_dir: new.cache_dir.clone(),
            nics: base_nics(new.base_config.as_deref()),
            tty_max: base_tty_max(new.base_config.as_deref()),
            quiet: new.quiet,
            // Filled in place: the backend may snapshot a cache into it.
            volume: here.as_ref().map(|_| crate::template::RootfsVolume {
                storage: new.storage.clone(),
                spec: spec.clone(),
            }),
        };
        let out =
            match here {
                Some(_) => t
                    .create(sys, &treq)
                    .await
                    .map_err(|source| CreateError::Template {
                        name: name.into(),
                        source,
                    })?,
                None => fill_mounted(t.clone(), new.storage.clone(), spec.clone(), treq).map_err(
                    |why| CreateError::Hook {
                        name: name.into(),
                        why,
                    },
                )?,
            };
        // A script may write its --path (the staging directory) into the
        // config: it has to name the container's final place.
        let (from, to) = (
            staging.dir.display().to_string(),
            final_dir.display().to_string(),
        );
        lines = out
            .config_lines
            .iter()
            .map(|l| l.replace(&from, &to))
            .collect();
    }
    let scripted = new.template.as_ref().is_some_and(|t| t.maps_itself());
    let idmapped = if scripted {
        false
    } else {
        map_rootfs(sys, new, &spec, &maps).await?
    };
    let final_spec = rebase(&spec, &staging.dir, final_dir);
    let text = config_text(new, &final_spec, &lines)?;
    let config_path = staging.dir.join("config");
    let mut doc =
        Document::parse(text.as_bytes(), Some(&final_dir.join("config"))).map_err(|e| {
            CreateError::Config {
                name: name.into(),
                source: e.into(),
            }
        })?;
    randomize_document_hwaddrs(&mut doc, &mut kernel_random());
    if idmapped {
        ask_idmapped_rootfs(&mut doc);
    }
    load_text(&doc.to_bytes(), &final_dir.join("config")).map_err(|source| {
        CreateError::Config {
            name: name.into(),
            source,
        }
    })?;
    doc.write_atomic(&config_path)
        .map_err(|e| CreateError::Config {
            name: name.into(),
            source: e.into(),
        })
}

/// The names inside the container of the NICs the base config gives
/// (`lxc.net.N.name`, else `ethN`), leaving out `empty` and `none` ones.
/// For a user other than root, the root of its container with `lxc.idmap`
/// (whose files only that namespace may remove or read).
pub(crate) fn container_root_of(
    cfg: &crate::config::Config,
) -> Option<crate::userns::container_root::ContainerRoot> {
    let maps = crate::userns::Maps::from_idmaps(&cfg.idmaps()).ok()?;
    crate::userns::container_root::ContainerRoot::for_caller(&maps)
}

/// The backend's destroy of `spec`, run as the container's root.
fn destroy_as(
    cr: &crate::userns::container_root::ContainerRoot,
    backend: Arc<dyn Storage>,
    spec: &RootfsSpec,
) -> Result<(), String> {
    let spec2 = spec.clone();
    cr.run("removing the rootfs as the container's root", move || {
        let sys = crate::sys::RealSys;
        super::private_mounts::block_on_forked(backend.destroy(&sys, &spec2))?
            .map(|()| String::new())
            .map_err(|e| e.to_string())
    })
    .map(|_| ())
}

/// The id maps (`lxc.idmap`) of the config the container starts from.
fn base_maps(new: &NewContainer) -> Result<crate::userns::Maps, CreateError> {
    let Some(cfg) = new
        .base_config
        .as_deref()
        .and_then(|b| crate::config::load_file(b).ok())
    else {
        return Ok(crate::userns::Maps::default());
    };
    crate::userns::Maps::from_idmaps(&cfg.idmaps()).map_err(|why| CreateError::Hook {
        name: new.name.clone(),
        why: format!("lxc.idmap: {why}"),
    })
}

/// `lxc.rootfs.options` with `idmap=container` added to what it has (its
/// includes read too: the value may come from one).
fn ask_idmapped_rootfs(doc: &mut Document) {
    let had = crate::config::load_text(&doc.to_bytes(), Path::new("config"))
        .ok()
        .and_then(|c| c.get("lxc.rootfs.options").map(str::to_string))
        .filter(|v| !v.is_empty());
    let value = match had {
        Some(v) => format!("{v},idmap=container"),
        None => "idmap=container".into(),
    };
    doc.set("lxc.rootfs.options", &value);
}

/// With `lxc.idmap`, the container's root owns its rootfs through the maps.
/// For root, on a filesystem that takes idmapped mounts, the tree stays as
/// it is and the start mounts it idmapped (returns `true`: the config then
/// asks for it); elsewhere root shifts the tree itself. A user gives what
/// it wrote to the container's root from inside a user namespace.
async fn map_rootfs(
    sys: &dyn Sys,
    new: &NewContainer,
    spec: &RootfsSpec,
    maps: &crate::userns::Maps,
) -> Result<bool, CreateError> {
    if maps.uid.is_empty() && maps.gid.is_empty() {
        return Ok(false);
    }
    let name = new.name.clone();
    let Some(path) =
        new.storage
            .host_path(sys, spec)
            .await
            .map_err(|source| CreateError::Storage {
                name: name.clone(),
                source,
            })?
    else {
        tracing::warn!(
            "container `{name}`: lxc.idmap: a {} rootfs is not shifted to the map yet",
            new.storage.name()
        );
        return Ok(false);
    };
    if !nix::unistd::geteuid().is_root() {
        // What the user wrote is its own: it becomes the container root's,
        // through newuidmap/newgidmap in a user namespace.
        let (uid, gid) = (
            nix::unistd::getuid().as_raw(),
            nix::unistd::getgid().as_raw(),
        );
        return crate::userns::shift::give_users_tree(&path, maps, uid, gid)
            .map(|_| false)
            .map_err(|e| CreateError::Hook {
                name,
                why: format!("lxc.idmap: {e}"),
            });
    }
    // Maps that leave root unmapped take the shift, whose walk names the
    // first file they do not cover.
    let root_mapped = matches!(maps.root(), (Some(_), Some(_)));
    if root_mapped && crate::userns::idmapped::supported(&path, maps) {
        tracing::debug!("container `{name}`: lxc.idmap: the rootfs is mounted idmapped");
        return Ok(true);
    }
    let n = crate::userns::shift::shift_tree(&path, maps).map_err(|source| CreateError::Io {
        name: name.clone(),
        path: path.clone(),
        source,
    })?;
    tracing::debug!("container `{name}`: {n} owners shifted through lxc.idmap");
    Ok(false)
}

/// `lxc.tty.max` of the config a template starts from, when it sets it.
pub(crate) fn base_tty_max(base: Option<&Path>) -> Option<u32> {
    let cfg = crate::config::load_file(base?).ok()?;
    cfg.get("lxc.tty.max").and_then(|v| v.parse().ok())
}

/// The NICs of the config a template starts from, by their names inside
/// (`empty` and `none` ones have no interface to configure).
pub(crate) fn base_nics(base: Option<&Path>) -> Vec<String> {
    let Some(cfg) = base.and_then(|b| crate::config::load_file(b).ok()) else {
        return Vec::new();
    };
    cfg.nics()
        .into_iter()
        .filter(|n| !matches!(n.kind.as_deref(), Some("empty" | "none") | None))
        .map(|n| n.name.clone().unwrap_or_else(|| format!("eth{}", n.index)))
        .collect()
}

/// Runs the template into a rootfs that must be mounted (an image, a
/// volume): mounted at the request's `rootfs` in a private mount namespace,
/// so nothing stays mounted when the template fails or rlxc is killed.
fn fill_mounted(
    t: Arc<dyn Template>,
    storage: Arc<dyn Storage>,
    spec: RootfsSpec,
    treq: TemplateRequest,
) -> Result<crate::template::TemplateOutput, String> {
    use super::private_mounts::{block_on_forked, in_private_mounts};
    let lines = in_private_mounts("the template", move || {
        let sys = crate::sys::RealSys;
        block_on_forked(storage.mount(&sys, &spec, &treq.rootfs))?.map_err(|e| e.to_string())?;
        let out = block_on_forked(t.create(&sys, &treq))?.map_err(|e| e.to_string())?;
        Ok(out.config_lines.join("\n"))
    })?;
    Ok(crate::template::TemplateOutput {
        config_lines: lines.lines().map(str::to_string).collect(),
    })
}

/// The rootfs spec as it will read after the staging directory is renamed
/// (each path of it, so both layers of an overlay).
fn rebase(spec: &RootfsSpec, staging: &Path, final_dir: &Path) -> RootfsSpec {
    RootfsSpec {
        backend: spec.backend.clone(),
        location: crate::config::clone::replace_dir(&spec.location, staging, final_dir),
    }
}

fn config_text(
    new: &NewContainer,
    rootfs: &RootfsSpec,
    template_lines: &[String],
) -> Result<String, CreateError> {
    let mut text = String::new();
    if let Some(t) = &new.template {
        text.push_str(&format!(
            "# Template used to create this container: {}\n",
            t.name()
        ));
        if !new.template_args.is_empty() {
            text.push_str(&format!(
                "# Parameters passed to the template: {}\n",
                new.template_args.join(" ")
            ));
        }
    }
    if let Some(base) = &new.base_config {
        match std::fs::read_to_string(base) {
            Ok(s) => {
                text.push_str(&s);
                if !s.ends_with('\n') && !s.is_empty() {
                    text.push('\n');
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && base.starts_with("/etc/lxc") => {}
            Err(source) => {
                return Err(CreateError::Io {
                    name: new.name.clone(),
                    path: base.clone(),
                    source,
                })
            }
        }
    }
    text.push_str(&format!("lxc.rootfs.path = {rootfs}\n"));
    for l in template_lines {
        text.push_str(l);
        text.push('\n');
    }
    if !template_lines.iter().any(|l| l.starts_with("lxc.uts.name")) {
        text.push_str(&format!("lxc.uts.name = {}\n", new.name));
    }
    Ok(text)
}

/// Removes staging entries of processes that no longer exist.
pub(super) fn sweep_stale(staging_root: &Path) {
    let Ok(entries) = std::fs::read_dir(staging_root) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name.rsplit('.').next().and_then(|p| p.parse::<i32>().ok());
        if let Some(pid) = pid {
            // A restore killed between its renames may have left the old
            // rootfs there: that is for its owner to look at, not to delete.
            if name.contains(".restore.") {
                tracing::warn!(
                    "{} was left by an interrupted restore (pid {pid}): it may hold a container's previous rootfs",
                    e.path().display()
                );
                continue;
            }
            if !Path::new("/proc").join(pid.to_string()).exists() {
                tracing::warn!(
                    "removing {} left by an interrupted rlxc (pid {pid})",
                    e.path().display()
                );
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Destroys a container: its rootfs through its backend, then its directory.
/// `rootfs_backend` resolves the backend of the container's rootfs.
pub async fn destroy(
    sys: &dyn Sys,
    paths: &Paths,
    name: &str,
    rootfs_backend: impl Fn(&RootfsSpec) -> Option<Arc<dyn Storage>>,
) -> Result<(), CreateError> {
    let _lock = ContainerLock::try_acquire(name, &paths.lock_file(name)?)?;
    destroy_holding_lock(sys, paths, name, rootfs_backend).await
}

/// [`destroy`] by the holder of the container's lock (the monitor of an
/// ephemeral container, before it reports STOPPED).
pub async fn destroy_holding_lock(
    sys: &dyn Sys,
    paths: &Paths,
    name: &str,
    rootfs_backend: impl Fn(&RootfsSpec) -> Option<Arc<dyn Storage>>,
) -> Result<(), CreateError> {
    let dir = paths.container_dir(name)?;
    if !dir.join("config").is_file() {
        return Err(CreateError::Missing {
            name: name.into(),
            lxcpath: paths.lxcpath.clone(),
        });
    }
    let config = crate::config::load_file(&dir.join("config"));
    let (spec, managed) = match &config {
        Ok(c) => (
            c.rootfs_path().map(|p| RootfsSpec::parse(&p)),
            c.get_bool("lxc.rootfs.managed").unwrap_or(true),
        ),
        Err(e) => {
            tracing::warn!(
                "container `{name}`: config has errors, removing {}/rootfs only: {e}",
                dir.display()
            );
            (
                Some(RootfsSpec::new(
                    "dir",
                    dir.join("rootfs").display().to_string(),
                )),
                true,
            )
        }
    };
    let clones =
        super::deps::live_clones(&dir).map_err(io_err(name, &dir.join(super::deps::SNAPSHOTS)))?;
    if !clones.deps.is_empty() || clones.legacy_count > 0 {
        let names: Vec<String> = clones.deps.iter().map(|d| d.name.clone()).collect();
        return Err(CreateError::HasClones {
            name: name.into(),
            clones: if names.is_empty() {
                format!("{} (an older LXC's count)", clones.legacy_count)
            } else {
                names.join(", ")
            },
        });
    }
    let origins = super::deps::read(&dir, super::deps::RDEPENDS).unwrap_or_default();
    if let Ok(c) = &config {
        // Before anything is removed: a failing hook leaves the container whole.
        crate::run::hooks::Hooks::from_config(name, &dir.join("config"), c)
            .run(sys, crate::run::hooks::HookKind::Destroy, &[], &[])
            .map_err(|why| CreateError::Hook {
                name: name.into(),
                why,
            })?;
    }
    let staging_root = paths.lxcpath.join(STAGING);
    std::fs::create_dir_all(&staging_root).map_err(io_err(name, &staging_root))?;
    let gone = staging_root.join(format!("{name}.destroy.{}", std::process::id()));
    std::fs::rename(&dir, &gone).map_err(io_err(name, &dir))?;
    // A user's mapped rootfs is the container root's: removed by the
    // backend as that root, from a user namespace with its maps; so is
    // what is left of the directory (its backups).
    let as_root = config.as_ref().ok().and_then(container_root_of);
    if let (Some(spec), true) = (spec, managed) {
        let moved = rebase(&spec, &dir, &gone);
        if let Some(backend) = rootfs_backend(&moved) {
            let removed = match &as_root {
                Some(cr) => destroy_as(cr, backend, &moved).map_err(|why| CreateError::Hook {
                    name: name.into(),
                    why,
                }),
                None => backend
                    .destroy(sys, &moved)
                    .await
                    .map_err(|source| CreateError::Storage {
                        name: name.into(),
                        source,
                    }),
            };
            if let Err(e) = removed {
                // Put the container back so nothing is lost and the user can retry.
                let _ = std::fs::rename(&gone, &dir);
                return Err(e);
            }
        }
    }
    super::private_mounts::remove_tree_as(as_root.as_ref(), &gone).map_err(|why| {
        CreateError::Hook {
            name: name.into(),
            why,
        }
    })?;
    let me = super::deps::Dep {
        lxcpath: paths.lxcpath.clone(),
        name: name.to_string(),
    };
    for o in &origins.deps {
        if let Err(e) = super::deps::remove_clone(&o.dir(), &me) {
            tracing::warn!(
                "container `{name}`: removing it from {}/{}: {e}",
                o.dir().display(),
                super::deps::SNAPSHOTS
            );
        }
    }
    Ok(())
}
