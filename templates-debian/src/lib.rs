//! The `debian` template for rlxc: debootstrap into the template cache
//! (`<cache>/debian/rootfs-SUITE-ARCH`, as LXC's `lxc-debian` names it),
//! then a copy of the cached rootfs made this container's own ([`guest`]).
//!
//! - Options and environment as `lxc-debian` ([`options`]): `-r`/`$SUITE`,
//!   `-a`, `--mirror`/`$MIRROR`, `--security-mirror`, `--packages`,
//!   `--variant`, `--enable-non-free`, `-F`/`--flush-cache`, `--clean`.
//! - The cache is built in a hidden staging directory under the template's
//!   cache lock and renamed when debootstrap succeeded: it is complete or
//!   absent, and concurrent creates wait for each other.
//! - The guest boots its own init (systemd on current releases) with DHCP on
//!   eth0; root's password is locked.
//!
//! Needs `debootstrap` on the host (named, with its package, when missing)
//! and network access to the mirror the first time. Depends on `rlxc-core`
//! only.

pub mod guest;
pub mod options;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rlxc_core::sys::Sys;
use rlxc_core::template::{Template, TemplateError, TemplateOutput, TemplateRequest};
use rlxc_core::templates::cache::CacheLock;
use rlxc_core::templates::debootstrap::{self, Bootstrap};

use options::Options;

/// The template's name.
pub const NAME: &str = "debian";

/// The ttys a config without `lxc.tty.max` gets (lxc-debian's number); a
/// getty runs on each.
pub const TTYS: u32 = 4;

/// The debian template.
#[derive(Debug, Default, Clone, Copy)]
pub struct Debian;

/// Registers the `debian` template.
pub fn register(r: &mut rlxc_core::registry::Registry) {
    r.add_template(std::sync::Arc::new(Debian));
}

fn failed(why: impl Into<String>) -> TemplateError {
    TemplateError::Usage {
        template: NAME.into(),
        reason: why.into(),
    }
}

/// LXC's lxc-debian takes this lock around its cache: held too, so that
/// the two never build or read the shared cache at once.
const LXC_LOCK: &str = "/var/lock/subsys/lxc-debian";

#[async_trait]
impl Template for Debian {
    fn name(&self) -> &str {
        NAME
    }

    fn help(&self) -> String {
        options::HELP.to_string()
    }

    /// With a release (`-r` or `$SUITE`): that release's entries for the
    /// architecture; without one, the whole debian cache, as lxc-debian's
    /// `--clean` purges it. Under both locks, so no build is in progress.
    fn clean(&self, cache_dir: &Path, args: &[String]) -> Result<Vec<PathBuf>, TemplateError> {
        let env = |k: &str| std::env::var(k).ok();
        let named =
            env("SUITE").is_some() || args.iter().any(|a| a == "-r" || a.starts_with("--release"));
        let o = Options::parse(args, env, "", debootstrap::host_arch())?;
        let cache = cache_dir.join(NAME);
        let _lock = CacheLock::take(cache_dir, NAME, true)
            .map_err(|e| failed(format!("{}: {e}", cache.display())))?;
        let _lxc = debootstrap::script_lock(Path::new(LXC_LOCK));
        let prefix = format!("rootfs-{}-{}", o.release, o.arch);
        let mut removed = Vec::new();
        for e in std::fs::read_dir(&cache).into_iter().flatten().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let take = if named {
                n == prefix || n.starts_with(&format!("{prefix}-"))
            } else {
                !n.starts_with('.') || n.starts_with(".partial-")
            };
            if take && e.path().is_dir() {
                // Mounts an interrupted build left (proc, sys) go first.
                debootstrap::remove_build(NAME, &e.path(), false);
                if e.path().exists() {
                    return Err(failed(format!(
                        "{}: could not be removed",
                        e.path().display()
                    )));
                }
                removed.push(e.path());
            }
        }
        Ok(removed)
    }

    async fn create(
        &self,
        sys: &dyn Sys,
        req: &TemplateRequest,
    ) -> Result<TemplateOutput, TemplateError> {
        let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        let o = Options::parse(
            &req.args,
            |k| std::env::var(k).ok(),
            &os_release,
            debootstrap::host_arch(),
        )?;
        debootstrap::refuse_mapped(NAME, req)?;
        if !rlxc_core::templates::prerequisites::on_path("debootstrap") {
            return Err(TemplateError::Missing {
                template: NAME.into(),
                what: "debootstrap".into(),
                hint: "install it first (`apt-get install debootstrap`)".into(),
            });
        }
        if o.clean {
            let removed = self.clean(&req.cache_dir, &req.args)?;
            return Err(failed(format!(
                "--clean removed {} cache entr{} and makes no container",
                removed.len(),
                if removed.len() == 1 { "y" } else { "ies" }
            )));
        }
        let cache = req.cache_dir.join(NAME);
        let entry = cache.join(o.cache_entry());
        // Waits for another create building the same cache.
        let _lock = CacheLock::take(&req.cache_dir, NAME, true)
            .map_err(|e| failed(format!("{}: {e}", cache.display())))?;
        let _lxc = debootstrap::script_lock(Path::new(LXC_LOCK));
        Bootstrap {
            template: NAME,
            cache: &cache,
            entry: &entry,
            what: format!("{} {} from {}", o.release, o.arch, o.mirror),
            options: o.debootstrap_options(),
            suite: &o.release,
            mirror: &o.mirror,
            script: None,
            progress: debootstrap::shows_progress(req.quiet),
            volume: req.volume.as_ref(),
        }
        .ensure(sys, o.flush_cache)
        .await?;
        debootstrap::fill_rootfs(sys, NAME, req, &entry).await?;
        let ttys = req.tty_max.unwrap_or(TTYS);
        guest::configure(&req.rootfs, &req.name, &o.sources_list(), &req.nics, ttys)
            .map_err(failed)?;
        debootstrap::new_host_keys(sys, NAME, &req.rootfs).await?;
        if let Some(k) = &o.keyring {
            debootstrap::trust_keyring(NAME, &req.rootfs, Path::new(k))?;
        }
        guest::sysvinit_services(sys, &req.rootfs).await;
        let mut lines = Vec::new();
        let common = "/usr/share/lxc/config/debian.common.conf";
        if Path::new(common).is_file() {
            lines.push(format!("lxc.include = {common}"));
        }
        // The config's own number stays when it gives one.
        if req.tty_max.is_none() {
            lines.push(format!("lxc.tty.max = {TTYS}"));
        }
        lines.push(format!("lxc.arch = {}", o.arch));
        tracing::warn!(
            "debian template: root's password is locked; set one with `rlxc attach -n {} -- passwd`",
            req.name
        );
        Ok(TemplateOutput {
            config_lines: lines,
        })
    }
}
