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

use std::path::Path;

use async_trait::async_trait;
use rlxc_core::sys::{Sys, Tool};
use rlxc_core::template::{Template, TemplateError, TemplateOutput, TemplateRequest};
use rlxc_core::templates::cache::CacheLock;

use options::Options;

/// The template's name.
pub const NAME: &str = "debian";

/// The ttys the config gives (LXC's lxc-debian's number); a getty runs on each.
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

/// Debian's name for the host's architecture.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "i386",
        "aarch64" => "arm64",
        "arm" => "armhf",
        "powerpc64" => "ppc64el",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// Builds the cache entry `entry` with debootstrap (in a staging directory
/// renamed when complete).
async fn fill_cache(
    sys: &dyn Sys,
    o: &Options,
    cache: &Path,
    entry: &Path,
) -> Result<(), TemplateError> {
    let staging = cache.join(format!(
        ".partial-{}.{}",
        o.cache_entry(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&staging);
    tracing::warn!(
        "debian template: debootstrap of {} {} from {} into {} (minutes, the first time)",
        o.release,
        o.arch,
        o.mirror,
        entry.display()
    );
    let mut tool = Tool::new(
        "debootstrap",
        o.debootstrap_args(&staging.display().to_string()),
    );
    // On a terminal its progress lines show as it goes; in a pipe it stays quiet.
    tool.show_output = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let out = sys.run(&tool).await.map_err(|source| TemplateError::Sys {
        template: NAME.into(),
        source,
    })?;
    if out.status != 0 {
        let _ = std::fs::remove_dir_all(&staging);
        let text = format!(
            "{}{}",
            out.stdout_text(),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = if tool.show_output {
            "its output is above".to_string()
        } else {
            text
        };
        let tail: Vec<&str> = text.lines().rev().take(6).collect();
        return Err(failed(format!(
            "`{}` failed with exit status {}: {}",
            tool.command_line(),
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )));
    }
    std::fs::rename(&staging, entry).map_err(|e| failed(format!("{}: {e}", entry.display())))
}

#[async_trait]
impl Template for Debian {
    fn name(&self) -> &str {
        NAME
    }

    fn help(&self) -> String {
        options::HELP.to_string()
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
            host_arch(),
        )?;
        if !rlxc_core::templates::prerequisites::on_path("debootstrap") {
            return Err(TemplateError::Missing {
                template: NAME.into(),
                what: "debootstrap".into(),
                hint: "install it first (`apt-get install debootstrap`)".into(),
            });
        }
        let cache = req.cache_dir.join(NAME);
        let entry = cache.join(o.cache_entry());
        // Waits for another create building the same cache.
        let _lock = CacheLock::take(&req.cache_dir, NAME, true)
            .map_err(|e| failed(format!("{}: {e}", cache.display())))?;
        if o.clean || o.flush_cache {
            if entry.exists() {
                std::fs::remove_dir_all(&entry)
                    .map_err(|e| failed(format!("{}: {e}", entry.display())))?;
            }
            if o.clean {
                return Err(failed(format!(
                    "--clean removed {} and makes no container",
                    entry.display()
                )));
            }
        }
        if !entry.is_dir() {
            fill_cache(sys, &o, &cache, &entry).await?;
        }
        rlxc_core::storage::copy_tree_into(&entry, &req.rootfs)
            .map_err(|e| failed(e.to_string()))?;
        guest::configure(&req.rootfs, &req.name, &o.sources_list(), &req.nics, TTYS)
            .map_err(failed)?;
        let mut lines = Vec::new();
        let common = "/usr/share/lxc/config/debian.common.conf";
        if Path::new(common).is_file() {
            lines.push(format!("lxc.include = {common}"));
        }
        lines.push(format!("lxc.tty.max = {TTYS}"));
        lines.push(format!("lxc.arch = {}", o.arch));
        Ok(TemplateOutput {
            config_lines: lines,
        })
    }
}
