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
    // Under the lock every staging directory is a dead build's: removed,
    // after what debootstrap mounted in it (proc, sys) is detached.
    remove_stale_builds(cache);
    let staging = cache.join(format!(
        ".partial-{}.{}",
        o.cache_entry(),
        std::process::id()
    ));
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
    std::fs::rename(&staging, entry).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staging);
        failed(format!("{}: {e}", entry.display()))
    })
}

/// Removes `.partial-*` builds left in `cache` (the caller holds its lock).
fn remove_stale_builds(cache: &Path) {
    let Ok(rd) = std::fs::read_dir(cache) else {
        return;
    };
    for e in rd.flatten() {
        if !e.file_name().to_string_lossy().starts_with(".partial-") {
            continue;
        }
        let p = e.path();
        let mut below = rlxc_core::storage::mounts_below(Path::new("/proc/self/mountinfo"), &p)
            .unwrap_or_default();
        below.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
        for m in &below {
            let _ = nix::mount::umount2(m, nix::mount::MntFlags::MNT_DETACH);
        }
        tracing::warn!(
            "debian template: removing {}, left by an interrupted build",
            p.display()
        );
        let _ = std::fs::remove_dir_all(&p);
    }
}

/// LXC's lxc-debian takes this lock around its cache: held too, so that
/// the two never build or read the shared cache at once.
const LXC_LOCK: &str = "/var/lock/subsys/lxc-debian";

fn lxc_lock() -> Option<std::fs::File> {
    use std::os::fd::AsRawFd;
    std::fs::create_dir_all("/var/lock/subsys").ok()?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LXC_LOCK)
        .ok()?;
    // SAFETY: flock on our fd (waits for an lxc-debian that holds it).
    (unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0).then_some(f)
}

/// New ssh host keys: a cache built with openssh-server has them, and no
/// two guests may share them (as lxc-debian makes them per container).
async fn new_host_keys(sys: &dyn Sys, rootfs: &Path) -> Result<(), TemplateError> {
    let ssh = rootfs.join("etc/ssh");
    let Ok(rd) = std::fs::read_dir(&ssh) else {
        return Ok(());
    };
    let mut had = false;
    for e in rd.flatten() {
        if e.file_name().to_string_lossy().starts_with("ssh_host_") {
            had = true;
            std::fs::remove_file(e.path())
                .map_err(|err| failed(format!("{}: {err}", e.path().display())))?;
        }
    }
    if !had && !ssh.join("sshd_config").exists() {
        return Ok(());
    }
    if !rlxc_core::templates::prerequisites::on_path("ssh-keygen") {
        tracing::warn!("debian template: no ssh-keygen here: the guest's sshd has no host keys until `ssh-keygen -A` runs in it");
        return Ok(());
    }
    let out = sys
        .run(&Tool::new(
            "ssh-keygen",
            [
                "-A".to_string(),
                "-f".to_string(),
                rootfs.display().to_string(),
            ],
        ))
        .await
        .map_err(|source| TemplateError::Sys {
            template: NAME.into(),
            source,
        })?;
    if out.status != 0 {
        return Err(failed(format!(
            "ssh-keygen -A: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
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
        let _lxc = lxc_lock();
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
        let ttys = req.tty_max.unwrap_or(TTYS);
        guest::configure(&req.rootfs, &req.name, &o.sources_list(), &req.nics, ttys)
            .map_err(failed)?;
        new_host_keys(sys, &req.rootfs).await?;
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
        Ok(TemplateOutput {
            config_lines: lines,
        })
    }
}
