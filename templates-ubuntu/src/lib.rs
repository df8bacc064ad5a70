//! Ubuntu templates for rlxc.
//!
//! - `ubuntu` ([`Ubuntu`]): debootstrap from an Ubuntu mirror into the
//!   template cache (`<cache>/ubuntu/rootfs-RELEASE-ARCH`), then a copy made
//!   the container's own ([`guest`]): the guide's `-r -a -b -S --trim -F`,
//!   `--mirror`/`$MIRROR`, `--security-mirror`, the user `ubuntu` with
//!   password `ubuntu` in group sudo (or the host user's account with `-b`).
//!   The mirror's signature is always checked, against the host's
//!   ubuntu-keyring or `--keyring`.
//! - `ubuntu-cloud` ([`cloud::UbuntuCloud`]): an Ubuntu cloud image tarball
//!   unpacked into the rootfs with a cloud-init NoCloud seed.
//!
//! Needs `debootstrap` (and for `ubuntu-cloud` `tar`) on the host, named
//! with their packages when missing. Depends on `rlxc-core` only.

pub mod cloud;
pub mod guest;
pub mod options;

use std::path::Path;

use async_trait::async_trait;
use rlxc_core::sys::Sys;
use rlxc_core::template::{Template, TemplateError, TemplateOutput, TemplateRequest};
use rlxc_core::templates::cache::CacheLock;
use rlxc_core::templates::debootstrap::{self, Bootstrap};
use rlxc_core::templates::guest_files::{lock_root, systemd_in_container};
use rlxc_core::templates::prerequisites::on_path;

use options::Options;

/// The template's name.
pub const NAME: &str = "ubuntu";

/// The ttys a config without `lxc.tty.max` gets (lxc-ubuntu's number).
pub const TTYS: u32 = 4;

/// The ubuntu template.
#[derive(Debug, Default, Clone, Copy)]
pub struct Ubuntu;

/// Registers `ubuntu` and `ubuntu-cloud`.
pub fn register(r: &mut rlxc_core::registry::Registry) {
    r.add_template(std::sync::Arc::new(Ubuntu));
    r.add_template(std::sync::Arc::new(cloud::UbuntuCloud));
}

fn failed(why: impl Into<String>) -> TemplateError {
    TemplateError::Usage {
        template: NAME.into(),
        reason: why.into(),
    }
}

fn missing(what: &str, hint: &str) -> TemplateError {
    TemplateError::Missing {
        template: NAME.into(),
        what: what.into(),
        hint: hint.into(),
    }
}

/// The release without `-r`: the host's on Ubuntu, else the newest LTS
/// distro-info knows of (released by today), else [`options::FALLBACK_LTS`].
pub fn default_release() -> String {
    let os = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    if let Some(r) = options::host_release(&os) {
        return r;
    }
    let csv = std::fs::read_to_string("/usr/share/distro-info/ubuntu.csv").unwrap_or_default();
    options::newest_lts(&csv, &today()).unwrap_or_else(|| options::FALLBACK_LTS.into())
}

/// Today as `YYYY-MM-DD` (UTC), for distro-info's release dates.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    // Days to a civil date (Howard Hinnant's algorithm).
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// What the host must have for `o`: debootstrap, the keyring, and for a
/// foreign architecture (other than i386 on amd64) qemu-user-static with
/// its binfmt handler registered.
fn check_host(o: &Options) -> Result<(), TemplateError> {
    if !on_path("debootstrap") {
        return Err(missing(
            "debootstrap",
            "install it first (`apt-get install debootstrap`)",
        ));
    }
    if !Path::new(&o.keyring).is_file() {
        return Err(missing(
            &format!("the keyring {}", o.keyring),
            "install ubuntu-keyring (`apt-get install ubuntu-keyring`) or give the mirror's keys with --keyring FILE; rlxc does not install unverified packages",
        ));
    }
    let host = debootstrap::host_arch();
    if o.arch != host && !(host == "amd64" && o.arch == "i386") {
        let qemu = qemu_arch(&o.arch);
        let handler = Path::new("/proc/sys/fs/binfmt_misc").join(format!("qemu-{qemu}"));
        if !on_path(&format!("qemu-{qemu}-static")) || !handler.exists() {
            return Err(missing(
                &format!(
                    "qemu-{qemu}-static with its binfmt handler (for -a {})",
                    o.arch
                ),
                "install qemu-user-static and binfmt-support",
            ));
        }
    }
    Ok(())
}

/// qemu's name for a Debian architecture.
fn qemu_arch(arch: &str) -> &str {
    match arch {
        "arm64" => "aarch64",
        "armhf" | "armel" => "arm",
        "ppc64el" => "ppc64le",
        "amd64" => "x86_64",
        other => other,
    }
}

/// debootstrap's script for the release: its own when it has one, else
/// `gutsy`, which every Ubuntu release since uses (a host's debootstrap
/// lags the newest releases).
fn script_for(release: &str) -> Option<String> {
    let dir = Path::new("/usr/share/debootstrap/scripts");
    (!dir.join(release).exists()).then(|| dir.join("gutsy").display().to_string())
}

#[async_trait]
impl Template for Ubuntu {
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
        let o = Options::parse(
            &req.args,
            |k| std::env::var(k).ok(),
            &default_release(),
            debootstrap::host_arch(),
        )?;
        if o.bindhome.is_some() && o.auth_key.is_some() {
            return Err(failed(
                "-S with -b: the guest uses the host user's own home, whose ~/.ssh/authorized_keys applies; give one of them",
            ));
        }
        debootstrap::refuse_mapped(NAME, req)?;
        // The key is read before minutes of debootstrap, not after.
        if let Some(k) = &o.auth_key {
            std::fs::metadata(k).map_err(|source| TemplateError::Io {
                template: NAME.into(),
                path: k.into(),
                source,
            })?;
        }
        check_host(&o)?;
        // Before anything is built: a bad -b is named at once.
        let account = match &o.bindhome {
            Some(u) => Some(guest::host_account(sys, u).await?),
            None => None,
        };
        let cache = req.cache_dir.join(NAME);
        let entry = cache.join(o.cache_entry());
        let _lock = CacheLock::take(&req.cache_dir, NAME, true)
            .map_err(|e| failed(format!("{}: {e}", cache.display())))?;
        Bootstrap {
            template: NAME,
            cache: &cache,
            entry: &entry,
            what: format!("{} {} from {}", o.release, o.arch, o.mirror),
            options: o.debootstrap_options(),
            suite: &o.release,
            mirror: &o.mirror,
            script: script_for(&o.release),
            progress: debootstrap::shows_progress(req.quiet),
            volume: req.volume.as_ref(),
        }
        .ensure(sys, o.flush_cache)
        .await?;
        debootstrap::fill_rootfs(sys, NAME, req, &entry).await?;
        let root = &req.rootfs;
        guest::configure_files(root, &req.name, &o.sources_list(), &req.nics).map_err(failed)?;
        lock_root(root).map_err(failed)?;
        systemd_in_container(root, req.tty_max.unwrap_or(TTYS)).map_err(failed)?;
        let mut lines = Vec::new();
        let user = match &account {
            Some(a) => {
                lines.push(guest::bind_home(root, a)?);
                a.name().to_string()
            }
            None => {
                guest::make_user(sys, root, &o.user, &o.password).await?;
                o.user.clone()
            }
        };
        guest::sudoer(sys, root, &user).await?;
        if let Some(k) = &o.auth_key {
            guest::authorize_key(root, &user, Path::new(k))?;
        }
        debootstrap::new_host_keys(sys, NAME, root).await?;
        if o.keyring != options::UBUNTU_KEYRING {
            debootstrap::trust_keyring(NAME, root, Path::new(&o.keyring))?;
        }
        let common = "/usr/share/lxc/config/ubuntu.common.conf";
        if Path::new(common).is_file() {
            lines.insert(0, format!("lxc.include = {common}"));
        }
        if req.tty_max.is_none() {
            lines.push(format!("lxc.tty.max = {TTYS}"));
        }
        lines.push(format!("lxc.arch = {}", o.arch));
        match &account {
            Some(a) => tracing::warn!(
                "ubuntu template: log in as `{}` (the host's account, its home bound in); use sudo for root",
                a.name()
            ),
            None => tracing::warn!(
                "ubuntu template: the user is `{}` with password `{}`; use sudo for root (root's password is locked)",
                o.user,
                o.password
            ),
        }
        Ok(TemplateOutput {
            config_lines: lines,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn today_is_a_date() {
        let t = super::today();
        assert_eq!(t.len(), 10);
        assert!(t.as_str() > "2024-01-01", "{t}");
        assert_eq!(super::qemu_arch("arm64"), "aarch64");
    }
}
