//! The façade's create and destroy: `Container::define(…).create(…)` picks
//! the storage backend (`-B best` in LXC's order), fills the backend options
//! from the system config (`lxc.bdev.*`), finds the template (built in, then
//! LXC's scripts), and builds the container all-or-nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::create::{create, destroy, NewContainer};
use super::handle::{Container, ContainerError};
use super::state::State;
use crate::config::value::byte_size;
use crate::config::SystemConfig;
use crate::registry::Registry;
use crate::run::protocol::StopKind;
use crate::start::block_on;
use crate::storage::{CreateRequest, Storage};
use crate::sys::RealSys;
use crate::template::Template;
use crate::templates::external::{ExternalTemplate, TEMPLATE_DIR};

/// The order `-B best` tries backends in (LXC's).
pub const BEST: &[&str] = &["btrfs", "zfs", "lvm", "dir"];

/// The template cache directory by default (`lxc.cache_dir` moves it).
pub const CACHE_DIR: &str = "/var/cache/lxc";

/// What `lxc-create` was asked for.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// `-t NAME|PATH`.
    pub template: Option<String>,
    /// The arguments after `--`.
    pub template_args: Vec<String>,
    /// `-f CONFIG`; else the system's default config.
    pub config: Option<PathBuf>,
    /// `-B NAME|best` (empty: `dir`).
    pub backend: String,
    /// Backend options by LXC flag name (`dir`, `vgname`, `lvname`, `thinpool`, `zfsroot`).
    pub storage_options: BTreeMap<String, String>,
    /// `--fssize` as given (`1G`).
    pub fssize: Option<String>,
    /// `--fstype`.
    pub fstype: Option<String>,
    /// `-q`: no progress from the template's long steps.
    pub quiet: bool,
}

fn invalid(name: &str, why: String) -> ContainerError {
    ContainerError::Invalid {
        name: name.to_string(),
        why,
    }
}

impl Container {
    /// A container about to be created (nothing is read or written yet).
    pub fn define(paths: &super::Paths, name: &str) -> Result<Container, ContainerError> {
        Container::named(paths, name)
    }

    /// Creates it; on any failure nothing is left under its name. Returns
    /// its directory.
    pub fn create(
        &self,
        registry: &Registry,
        system: &SystemConfig,
        o: CreateOptions,
    ) -> Result<PathBuf, ContainerError> {
        if o.template.is_none() && !o.template_args.is_empty() {
            return Err(invalid(
                &self.name,
                "template arguments were given after `--` but no template (-t)".into(),
            ));
        }
        if let Some(f) = o.config.as_ref().filter(|f| !f.is_file()) {
            return Err(invalid(
                &self.name,
                format!("config file {} does not exist", f.display()),
            ));
        }
        let new = NewContainer {
            name: self.name.clone(),
            storage: self.storage_backend(registry, &o.backend)?,
            storage_request: self.storage_request(system, &o)?,
            template: o
                .template
                .as_deref()
                .map(|t| self.template(registry, t))
                .transpose()?,
            template_args: o.template_args,
            // No default config file (a user's ~/.config/lxc/default.conf
            // not made yet): an empty start, as LXC makes it.
            base_config: o
                .config
                .or_else(|| Some(system.default_config()).filter(|d| d.exists())),
            cache_dir: system.cache_dir(),
            quiet: o.quiet,
        };
        let made = block_on(create(&RealSys, &self.paths, new))
            .map_err(|e| invalid(&self.name, format!("cannot start the I/O runtime: {e}")))?;
        Ok(made?)
    }

    fn storage_backend(
        &self,
        registry: &Registry,
        name: &str,
    ) -> Result<Arc<dyn Storage>, ContainerError> {
        let lxcpath = self.paths.lxcpath.as_path();
        let usable = |b: &&str| registry.storage(b).ok().filter(|s| s.usable_in(lxcpath));
        match name {
            "best" => BEST.iter().find_map(usable).ok_or_else(|| {
                invalid(
                    &self.name,
                    "no storage backend is available for -B best".into(),
                )
            }),
            // No -B: a subvolume when the lxcpath is on btrfs, else dir.
            "" => match ["btrfs"].iter().find_map(usable) {
                Some(b) => Ok(b),
                None => registry
                    .storage("dir")
                    .map_err(|e| invalid(&self.name, e.to_string())),
            },
            n => Ok(registry
                .storage(n)
                .map_err(|e| invalid(&self.name, e.to_string()))?),
        }
    }

    /// The backend options: the flags, else the system config's `lxc.bdev.*`.
    fn storage_request(
        &self,
        system: &SystemConfig,
        o: &CreateOptions,
    ) -> Result<CreateRequest, ContainerError> {
        let mut options = o.storage_options.clone();
        for (flag, key) in [
            ("vgname", "lxc.bdev.lvm.vg"),
            ("thinpool", "lxc.bdev.lvm.thin_pool"),
            ("zfsroot", "lxc.bdev.zfs.root"),
        ] {
            if let (false, Ok(Some(v))) = (options.contains_key(flag), system.get(key)) {
                options.insert(flag.to_string(), v);
            }
        }
        let size = o
            .fssize
            .as_deref()
            .map(byte_size)
            .transpose()
            .map_err(|e| invalid(&self.name, format!("--fssize: {e}")))?;
        Ok(CreateRequest {
            name: self.name.clone(),
            size,
            fstype: o.fstype.clone(),
            options,
            ..CreateRequest::default()
        })
    }

    /// The help of template `t` (`create -t NAME -h`): a built-in's own,
    /// or what an LXC script prints for `-h`.
    pub fn template_help(&self, registry: &Registry, t: &str) -> Result<String, ContainerError> {
        let tpl = self.template(registry, t)?;
        let mut text = tpl.help();
        if let Some(tool) = tpl.help_tool() {
            use crate::sys::Sys;
            let out = RealSys
                .run_blocking(&tool)
                .map_err(|e| invalid(&self.name, e.to_string()))?;
            text.push_str(&out.stdout_text());
            text.push_str(&String::from_utf8_lossy(&out.stderr));
        }
        Ok(text)
    }

    /// A built-in template, else LXC's script `lxc-NAME` (or the executable at PATH).
    fn template(&self, registry: &Registry, t: &str) -> Result<Arc<dyn Template>, ContainerError> {
        let builtin = match registry.template(t) {
            Ok(found) => return Ok(found),
            Err(e) => e,
        };
        match ExternalTemplate::find(t, Path::new(TEMPLATE_DIR)) {
            Some(script) => Ok(Arc::new(script)),
            None => Err(invalid(
                &self.name,
                format!(
                    "no built-in template `{t}` and no executable {}: {builtin}",
                    if t.contains('/') {
                        t.to_string()
                    } else {
                        format!("{TEMPLATE_DIR}/lxc-{t}")
                    }
                ),
            )),
        }
    }

    /// Destroys it: refused while it runs unless `force`, which kills it
    /// first; then what a SIGKILLed monitor left, the rootfs through its
    /// backend, and the directory. A container with clones depending on
    /// its rootfs is refused unless `with_clones`, which destroys them first.
    pub fn destroy(
        &self,
        registry: &Registry,
        force: bool,
        with_clones: bool,
    ) -> Result<(), ContainerError> {
        let snapshots = self.snapshot_list()?;
        if !snapshots.is_empty() && !with_clones {
            return Err(invalid(
                &self.name,
                format!(
                    "it has snapshots ({}); destroy them first (snapshot -d) or use destroy -s",
                    snapshots
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if with_clones {
            if !snapshots.is_empty() {
                self.snapshot_destroy(registry, "ALL")?;
            }
            let dir = self.paths.container_dir(&self.name)?;
            let clones = super::deps::live_clones(&dir).unwrap_or_default();
            for c in clones.deps {
                // Gone already when an earlier clone's own -s took it.
                if !c.dir().join("config").is_file() {
                    continue;
                }
                Container::named(&super::Paths::new(&c.lxcpath), &c.name)?
                    .destroy(registry, force, true)?;
            }
        }
        let state = self.state();
        if state != State::Stopped {
            if !force {
                return Err(invalid(
                    &self.name,
                    format!("it is {}; stop it first or use -f", state.as_str()),
                ));
            }
            match self.stop(StopKind::Kill, None, false) {
                Ok(())
                | Err(ContainerError::Client(crate::run::ClientError::NotRunning { .. })) => {}
                Err(e) => return Err(e),
            }
        }
        crate::run::monitor::clean_stale(&self.paths, &self.name, &RealSys)?;
        let gone = destroy(&RealSys, &self.paths, &self.name, |spec| {
            registry.storage_for(spec).ok()
        });
        let done = block_on(gone)
            .map_err(|e| invalid(&self.name, format!("cannot start the I/O runtime: {e}")))?;
        Ok(done?)
    }
}
