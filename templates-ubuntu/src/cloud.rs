//! The `ubuntu-cloud` template: an Ubuntu cloud image's root tarball
//! unpacked into the rootfs, with a cloud-init NoCloud seed that names the
//! instance, sets its hostname, keys and user-data, and DHCP on each NIC.
//!
//! `-T` takes a local tarball (used in place) or a URL (fetched with curl
//! into `<cache>/ubuntu-cloud/`, staged and renamed when complete); without
//! it the release's current image on cloud-images.ubuntu.com is fetched. A
//! fetched image is checked against the `SHA256SUMS` beside it, whose
//! signature gpgv checks first (Ubuntu's cloud image keys, or
//! `--keyring`); a cached one is used while it still matches, so a newer
//! build on the server replaces it.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rlxc_core::sys::{Sys, Tool};
use rlxc_core::template::{Template, TemplateError, TemplateOutput, TemplateRequest};
use rlxc_core::templates::args::{is_name, ArgReader};
use rlxc_core::templates::cache::CacheLock;
use rlxc_core::templates::debootstrap::{self, run_ok};
use rlxc_core::templates::guest_files::{hosts, systemd_in_container, write_in};
use rlxc_core::templates::prerequisites::on_path;

/// The template's name.
pub const NAME: &str = "ubuntu-cloud";

/// The help text (`create -t ubuntu-cloud -h`).
pub const HELP: &str =
    "ubuntu-cloud template: an Ubuntu cloud image tarball with a cloud-init NoCloud seed

  -r, --release NAME       Ubuntu release (default: the host's on Ubuntu, else the newest LTS)
  -a, --arch ARCH          architecture (default: the host's)
  -T, --tarball FILE|URL   the image's root tarball (default: the release's current image
                           from cloud-images.ubuntu.com); a URL is cached
  -S, --auth-key FILE      public key for the default user (NoCloud public-keys)
  -u, --userdata FILE      cloud-init user-data
  -i, --hostid ID          the instance id (default: a random one)
  -C, --cloud              no NoCloud seed: cloud-init asks the metadata service
  -L, --nolocales          set no locale in the default user-data
  -F, --flush-cache        fetch a cached tarball again
      --keyring FILE       keys the SHA256SUMS beside a fetched image is signed with
                           (default /usr/share/keyrings/ubuntu-cloudimage-keyring.gpg)
      --no-validate        fetch without checking SHA256SUMS (not for an untrusted network)
";

/// What `-t ubuntu-cloud -- …` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudOptions {
    /// `-r`.
    pub release: String,
    /// `-a`.
    pub arch: String,
    /// `-T`.
    pub tarball: Option<String>,
    /// `-S`.
    pub auth_key: Option<String>,
    /// `-u`.
    pub userdata: Option<String>,
    /// `-i`.
    pub hostid: Option<String>,
    /// `-C`.
    pub cloud: bool,
    /// `-L`.
    pub nolocales: bool,
    /// `-F`.
    pub flush_cache: bool,
    /// `--keyring FILE`: the keys `SHA256SUMS` is signed with.
    pub keyring: String,
    /// `--no-validate`: no `SHA256SUMS` check of a fetched image.
    pub no_validate: bool,
}

/// The keys Ubuntu signs its cloud images' `SHA256SUMS` with (package
/// ubuntu-cloudimage-keyring).
pub const CLOUD_KEYRING: &str = "/usr/share/keyrings/ubuntu-cloudimage-keyring.gpg";

fn usage(reason: String) -> TemplateError {
    TemplateError::Usage {
        template: NAME.into(),
        reason,
    }
}

impl CloudOptions {
    /// Parses the arguments after `--`.
    pub fn parse(
        args: &[String],
        default_release: &str,
        host_arch: &str,
    ) -> Result<CloudOptions, TemplateError> {
        let mut o = CloudOptions {
            release: default_release.into(),
            arch: host_arch.into(),
            tarball: None,
            auth_key: None,
            userdata: None,
            hostid: None,
            cloud: false,
            nolocales: false,
            flush_cache: false,
            keyring: CLOUD_KEYRING.into(),
            no_validate: false,
        };
        let mut r = ArgReader::new(NAME, args);
        while let Some(flag) = r.next_flag() {
            match flag.as_str() {
                "-r" | "--release" => o.release = r.value()?,
                "-a" | "--arch" => o.arch = r.value()?,
                "-T" | "--tarball" => o.tarball = Some(r.value()?),
                "-S" | "--auth-key" => o.auth_key = Some(r.value()?),
                "-u" | "--userdata" => o.userdata = Some(r.value()?),
                "-i" | "--hostid" => o.hostid = Some(r.value()?),
                "-C" | "--cloud" => o.cloud = true,
                "-L" | "--nolocales" => o.nolocales = true,
                "-F" | "--flush-cache" => o.flush_cache = true,
                "--keyring" => o.keyring = r.value()?,
                "--no-validate" => o.no_validate = true,
                _ => return Err(r.unknown()),
            }
        }
        if !is_name(&o.release) || !is_name(&o.arch) {
            return Err(usage(format!(
                "`{}`/`{}` is not a release/architecture name",
                o.release, o.arch
            )));
        }
        if let Some(id) = o.hostid.as_deref().filter(|id| !is_name(id)) {
            return Err(usage(format!("`{id}` is not an instance id")));
        }
        Ok(o)
    }

    /// Where the image comes from: `-T` as given, else the release's
    /// current root tarball.
    pub fn source(&self) -> String {
        self.tarball.clone().unwrap_or_else(|| {
            format!(
                "https://cloud-images.ubuntu.com/{r}/current/{r}-server-cloudimg-{a}-root.tar.xz",
                r = self.release,
                a = self.arch
            )
        })
    }
}

/// Whether `s` is fetched (a URL) rather than a local file.
fn is_url(s: &str) -> bool {
    ["http://", "https://", "ftp://", "file://"]
        .iter()
        .any(|p| s.starts_with(p))
}

/// The image's file name, the last part of its URL.
fn entry_name(url: &str) -> Result<String, TemplateError> {
    url.rsplit('/')
        .next()
        .filter(|n| !n.is_empty() && !n.starts_with('.'))
        .map(str::to_string)
        .ok_or_else(|| usage(format!("{url}: names no file")))
}

/// The cache entry of a URL: its file name after a digest of the whole
/// URL, so that two servers' images of one name do not meet.
fn cache_name(url: &str) -> Result<String, TemplateError> {
    let name = entry_name(url)?;
    Ok(rlxc_core::templates::args::entry_for(&name, url))
}

/// The hash `SHA256SUMS` gives for `name` (`HASH *name` or `HASH  name`).
pub fn sum_for(sums: &str, name: &str) -> Option<String> {
    sums.lines().find_map(|l| {
        let (hash, file) = l.split_once(' ')?;
        (file.trim_start().trim_start_matches('*') == name && hash.len() == 64)
            .then(|| hash.to_ascii_lowercase())
    })
}

/// The NoCloud meta-data.
pub fn meta_data(id: &str, hostname: &str, key: Option<&str>) -> String {
    let mut t = format!("instance-id: {id}\nlocal-hostname: {hostname}\n");
    if let Some(k) = key {
        t.push_str("public-keys:\n");
        for l in k.lines().filter(|l| !l.trim().is_empty()) {
            t.push_str(&format!("  - {}\n", l.trim()));
        }
    }
    t
}

/// The user-data when `-u` gives none (lxc-ubuntu-cloud's).
pub fn default_user_data(nolocales: bool) -> String {
    let mut t = String::from(
        "#cloud-config\noutput: {all: '| tee -a /var/log/cloud-init-output.log'}\nmanage_etc_hosts: localhost\n",
    );
    if !nolocales {
        t.push_str("locale: C.UTF-8\n");
    }
    t
}

/// NoCloud's network-config: DHCP on each NIC.
pub fn network_config(nics: &[String]) -> String {
    let mut t = String::from("version: 2\nethernets:\n");
    for n in nics {
        t.push_str(&format!("  {n}:\n    dhcp4: true\n"));
    }
    t
}

/// A random instance id (`iid-` and 16 hex digits).
fn random_id() -> String {
    let mut b = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut b);
    }
    format!(
        "iid-{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

fn failed(why: impl Into<String>) -> TemplateError {
    usage(why.into())
}

fn read(path: &str) -> Result<String, TemplateError> {
    std::fs::read_to_string(path).map_err(|source| TemplateError::Io {
        template: NAME.into(),
        path: PathBuf::from(path),
        source,
    })
}

fn curl(url: &str, to: &Path, progress: bool) -> Tool {
    // An https URL is not followed to a plain-http one.
    let protos = if url.starts_with("https://") {
        "=https"
    } else {
        "=http,https,file"
    };
    let mut tool = Tool::new(
        "curl",
        [
            "-fL".to_string(),
            "--proto".into(),
            protos.into(),
            "--proto-redir".into(),
            protos.into(),
            "-o".into(),
            to.display().to_string(),
            url.to_string(),
        ],
    );
    tool.show_output = progress;
    if !progress {
        tool.args.insert(0, "-sS".into());
    }
    tool
}

/// `sha256sum` of a file.
async fn sha256(sys: &dyn Sys, p: &Path) -> Result<String, TemplateError> {
    let out = run_ok(
        sys,
        NAME,
        &Tool::new("sha256sum", [p.display().to_string()]),
    )
    .await?;
    Ok(out
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase())
}

/// The hash the server's signed `SHA256SUMS` gives for `url`'s image:
/// fetched beside it into `tmp`, its signature checked with gpgv first.
async fn signed_sum(
    sys: &dyn Sys,
    o: &CloudOptions,
    url: &str,
    tmp: &Path,
) -> Result<String, TemplateError> {
    if !Path::new(&o.keyring).is_file() {
        return Err(TemplateError::Missing {
            template: NAME.into(),
            what: format!("the keyring {}", o.keyring),
            hint: "install ubuntu-cloudimage-keyring, give --keyring FILE, or --no-validate".into(),
        });
    }
    let dir = url.rsplit_once('/').map_or(url, |(d, _)| d);
    let (sums, sig) = (tmp.join("SHA256SUMS"), tmp.join("SHA256SUMS.gpg"));
    run_ok(sys, NAME, &curl(&format!("{dir}/SHA256SUMS"), &sums, false)).await?;
    run_ok(
        sys,
        NAME,
        &curl(&format!("{dir}/SHA256SUMS.gpg"), &sig, false),
    )
    .await?;
    let check = Tool::new(
        "gpgv",
        [
            "--keyring".to_string(),
            o.keyring.clone(),
            sig.display().to_string(),
            sums.display().to_string(),
        ],
    );
    run_ok(sys, NAME, &check).await.map_err(|e| {
        failed(format!(
            "{dir}/SHA256SUMS: its signature does not verify: {e}"
        ))
    })?;
    let text = std::fs::read_to_string(&sums).unwrap_or_default();
    let name = entry_name(url)?;
    sum_for(&text, &name).ok_or_else(|| failed(format!("{dir}/SHA256SUMS has no line for {name}")))
}

/// Fetches `url` into `<cache>/ubuntu-cloud/` unless the cached copy still
/// matches the server's signed sum (or `-F`): staged, checked, renamed.
async fn fetch(
    sys: &dyn Sys,
    req: &TemplateRequest,
    o: &CloudOptions,
    url: &str,
) -> Result<PathBuf, TemplateError> {
    if !on_path("curl") {
        return Err(TemplateError::Missing {
            template: NAME.into(),
            what: "curl".into(),
            hint: format!(
                "install it (`apt-get install curl`) or give -T a local file instead of {url}"
            ),
        });
    }
    let cache = req.cache_dir.join(NAME);
    let entry = cache.join(cache_name(url)?);
    let _lock = CacheLock::take(&req.cache_dir, NAME, true)
        .map_err(|e| failed(format!("{}: {e}", cache.display())))?;
    // Under the lock, staging files are those of killed fetches.
    for e in std::fs::read_dir(&cache).into_iter().flatten().flatten() {
        if e.file_name().to_string_lossy().starts_with(".partial-") {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    if o.flush_cache {
        let _ = std::fs::remove_file(&entry);
    }
    let staging = cache.join(format!(".partial-{}", std::process::id()));
    std::fs::create_dir_all(&staging).map_err(|e| failed(format!("{}: {e}", staging.display())))?;
    let got = fetch_checked(sys, req, o, url, &entry, &staging).await;
    let _ = std::fs::remove_dir_all(&staging);
    got.map(|()| entry)
}

async fn fetch_checked(
    sys: &dyn Sys,
    req: &TemplateRequest,
    o: &CloudOptions,
    url: &str,
    entry: &Path,
    staging: &Path,
) -> Result<(), TemplateError> {
    let want = if o.no_validate {
        tracing::warn!("ubuntu-cloud template: --no-validate: {url} is not checked");
        None
    } else {
        Some(signed_sum(sys, o, url, staging).await?)
    };
    if entry.is_file() {
        match &want {
            None => return Ok(()),
            Some(w) if sha256(sys, entry).await? == *w => return Ok(()),
            Some(_) => tracing::warn!("ubuntu-cloud template: the server has a newer {url}"),
        }
    }
    let file = staging.join("image");
    tracing::warn!("ubuntu-cloud template: fetching {url}");
    run_ok(
        sys,
        NAME,
        &curl(url, &file, debootstrap::shows_progress(req.quiet)),
    )
    .await?;
    if let Some(w) = &want {
        let got = sha256(sys, &file).await?;
        if got != *w {
            return Err(failed(format!(
                "{url}: its sha256 is {got}, SHA256SUMS says {w}"
            )));
        }
    }
    std::fs::rename(&file, entry).map_err(|e| failed(format!("{}: {e}", entry.display())))
}

/// The cloud-init seed and the guest's own files.
fn configure(req: &TemplateRequest, o: &CloudOptions) -> Result<(), TemplateError> {
    let root = &req.rootfs;
    let w = |rel: &str, text: &str| write_in(root, rel, text).map_err(failed);
    w("etc/hostname", &format!("{}\n", req.name))?;
    w("etc/hosts", &hosts(&req.name))?;
    if !o.cloud {
        let key = o.auth_key.as_deref().map(read).transpose()?;
        let id = o.hostid.clone().unwrap_or_else(random_id);
        let seed = "var/lib/cloud/seed/nocloud-net";
        w(
            &format!("{seed}/meta-data"),
            &meta_data(&id, &req.name, key.as_deref()),
        )?;
        let user_data = match &o.userdata {
            Some(f) => read(f)?,
            None => default_user_data(o.nolocales),
        };
        w(&format!("{seed}/user-data"), &user_data)?;
        if !req.nics.is_empty() {
            w(
                &format!("{seed}/network-config"),
                &network_config(&req.nics),
            )?;
        }
    }
    systemd_in_container(root, req.tty_max.unwrap_or(crate::TTYS)).map_err(failed)
}

/// The ubuntu-cloud template.
#[derive(Debug, Default, Clone, Copy)]
pub struct UbuntuCloud;

#[async_trait]
impl Template for UbuntuCloud {
    fn name(&self) -> &str {
        NAME
    }

    fn help(&self) -> String {
        HELP.to_string()
    }

    async fn create(
        &self,
        sys: &dyn Sys,
        req: &TemplateRequest,
    ) -> Result<TemplateOutput, TemplateError> {
        debootstrap::refuse_mapped(NAME, req)?;
        let o = CloudOptions::parse(
            &req.args,
            &crate::default_release(),
            debootstrap::host_arch(),
        )?;
        // The files it reads are checked before anything is fetched.
        for f in [&o.auth_key, &o.userdata].into_iter().flatten() {
            read(f)?;
        }
        let src = o.source();
        let tarball = if is_url(&src) {
            fetch(sys, req, &o, &src).await?
        } else if Path::new(&src).is_file() {
            PathBuf::from(&src)
        } else {
            return Err(failed(format!("-T {src}: no such file")));
        };
        let unpack = Tool::new(
            "tar",
            [
                "--numeric-owner".to_string(),
                "--xattrs".into(),
                "--xattrs-include=*".into(),
                "-xpf".into(),
                tarball.display().to_string(),
                "-C".into(),
                req.rootfs.display().to_string(),
            ],
        );
        run_ok(sys, NAME, &unpack).await?;
        configure(req, &o)?;
        debootstrap::new_host_keys(sys, NAME, &req.rootfs).await?;
        let mut lines = Vec::new();
        let common = "/usr/share/lxc/config/ubuntu-cloud.common.conf";
        if Path::new(common).is_file() {
            lines.push(format!("lxc.include = {common}"));
        }
        if req.tty_max.is_none() {
            lines.push(format!("lxc.tty.max = {}", crate::TTYS));
        }
        lines.push(format!("lxc.arch = {}", o.arch));
        Ok(TemplateOutput {
            config_lines: lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_seed() {
        let args: Vec<String> = ["-T", "/i.tar.xz", "-i", "iid-1", "-L", "-C"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = CloudOptions::parse(&args, "noble", "amd64").unwrap();
        assert_eq!(o.source(), "/i.tar.xz");
        assert!(o.cloud && o.nolocales);
        let o = CloudOptions::parse(&[], "noble", "arm64").unwrap();
        assert_eq!(
            o.source(),
            "https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-arm64-root.tar.xz"
        );
        assert!(CloudOptions::parse(&["-s".into()], "noble", "amd64").is_err());
        assert!(CloudOptions::parse(&["-i".into(), "a/b".into()], "noble", "amd64").is_err());
        assert_eq!(
            meta_data("iid-1", "c1", Some("ssh-ed25519 AAAA k\n")),
            "instance-id: iid-1\nlocal-hostname: c1\npublic-keys:\n  - ssh-ed25519 AAAA k\n"
        );
        assert!(!default_user_data(true).contains("locale"));
        assert_eq!(
            network_config(&["eth0".into()]),
            "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n"
        );
        assert_eq!(entry_name("file:///x/a.tar.xz").unwrap(), "a.tar.xz");
        assert!(cache_name("file:///x/a.tar.xz")
            .unwrap()
            .starts_with("a.tar.xz-"));
        assert_ne!(
            cache_name("file:///x/a.tar.xz").unwrap(),
            cache_name("file:///y/a.tar.xz").unwrap()
        );
        let h = "a".repeat(64);
        let sums = format!("{h} *a.tar.xz\n{} b.tar.xz\n", "b".repeat(64));
        assert_eq!(sum_for(&sums, "a.tar.xz"), Some(h));
        assert_eq!(sum_for(&sums, "b.tar.xz"), Some("b".repeat(64)));
        assert_eq!(sum_for(&sums, "c.tar.xz"), None);
        assert!(entry_name("http://h/").is_err());
        assert!(random_id().starts_with("iid-") && random_id().len() == 20);
    }
}
