//! The `download` template: a prebuilt image from an LXC image server
//! (LXC's `meta/1.0/index-system` layout: `dist;release;arch;variant;build;path`,
//! with `rootfs.tar.xz` and `meta.tar.xz` under each path), as LXC's
//! `lxc-download` does it, with its options and its cache layout
//! (`<cache>/download/DIST/RELEASE/ARCH/VARIANT/`, so the two share a
//! cache): the meta's `config` appended, its `templates` filled in
//! (`LXC_NAME`, `LXC_PATH`, `LXC_ROOTFS`, `LXC_TEMPLATE_CONFIG`,
//! `LXC_HOOK_DIR`), its `excludes` left out of the unpacked rootfs, its
//! `expiry` honoured.
//!
//! The server is `https://SERVER` (LXC's default images.linuxcontainers.org)
//! or a URL given with a scheme: `file:///srv/images`, or `http://…` on a
//! local network. A cache entry is fetched into a staging directory and
//! renamed when complete. `--keyring FILE` (rlxc's) also checks each file's
//! detached `.asc` signature with gpgv.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::args::{is_name, ArgReader};
use super::cache::CacheLock;
use super::debootstrap::run_ok;
use super::guest_files::{existing_path, make_parents, write_mode};
use crate::sys::{Sys, Tool};
use crate::template::{Template, TemplateError, TemplateOutput, TemplateRequest};

/// The download template.
#[derive(Debug, Default, Clone, Copy)]
pub struct Download;

const NAME: &str = "download";

/// LXC's compatibility level: `index-system.7`, `config.7` are preferred.
const COMPAT: &str = "7";

/// Where LXC keeps the configs images include.
const TEMPLATE_CONFIG: &str = "/usr/share/lxc/config";

const HELP: &str = "download template: a prebuilt image from an LXC image server

  -d, --dist NAME        distribution (as the server's index names it)
  -r, --release NAME     release
  -a, --arch ARCH        architecture (default: the host's)
      --variant NAME     variant (default: default)
      --server SERVER    image server: a host name (https), or a URL
                         (file:///srv/images, http://host) (default: images.linuxcontainers.org)
      --keyring FILE     also check each file's .asc signature against these keys
      --flush-cache      fetch the image again
      --force-cache      use the cached image even when it has expired
  -l, --list             list the server's images (makes no container)
";

/// What `-t download -- …` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-d`.
    pub dist: Option<String>,
    /// `-r`.
    pub release: Option<String>,
    /// `-a`.
    pub arch: String,
    /// `--variant`.
    pub variant: String,
    /// `--server`.
    pub server: String,
    /// `--keyring`.
    pub keyring: Option<String>,
    /// `--flush-cache`.
    pub flush: bool,
    /// `--force-cache`.
    pub force: bool,
    /// `-l`.
    pub list: bool,
}

fn usage(reason: impl Into<String>) -> TemplateError {
    TemplateError::Usage {
        template: NAME.into(),
        reason: reason.into(),
    }
}

impl Options {
    /// Parses the arguments after `--`.
    pub fn parse(args: &[String], host_arch: &str) -> Result<Options, TemplateError> {
        let mut o = Options {
            dist: None,
            release: None,
            arch: host_arch.into(),
            variant: "default".into(),
            server: "images.linuxcontainers.org".into(),
            keyring: None,
            flush: false,
            force: false,
            list: false,
        };
        let mut r = ArgReader::new(NAME, args);
        while let Some(flag) = r.next_flag() {
            match flag.as_str() {
                "-d" | "--dist" => o.dist = Some(r.value()?),
                "-r" | "--release" => o.release = Some(r.value()?),
                "-a" | "--arch" => o.arch = r.value()?,
                "--variant" => o.variant = r.value()?,
                "--server" => o.server = r.value()?,
                "--keyring" => o.keyring = Some(r.value()?),
                "--flush-cache" => o.flush = true,
                "--force-cache" => o.force = true,
                "-l" | "--list" => o.list = true,
                _ => return Err(r.unknown()),
            }
        }
        for v in [
            o.dist.as_deref(),
            o.release.as_deref(),
            Some(&o.arch),
            Some(&o.variant),
        ]
        .into_iter()
        .flatten()
        {
            if !is_name(v) {
                return Err(usage(format!("`{v}` is not an image name")));
            }
        }
        if !o.list && (o.dist.is_none() || o.release.is_none()) {
            return Err(usage(
                "give the image with -d DIST -r RELEASE [-a ARCH] (-l lists the server's images)",
            ));
        }
        Ok(o)
    }

    /// The server's base URL.
    pub fn base_url(&self) -> String {
        let s = self.server.trim_end_matches('/');
        if s.contains("://") {
            s.to_string()
        } else {
            format!("https://{s}")
        }
    }
}

/// One line of the server's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Distribution, release, architecture, variant.
    pub key: [String; 4],
    /// The build (a timestamp).
    pub build: String,
    /// Its directory on the server.
    pub path: String,
}

/// Parses `index-system` (`dist;release;arch;variant;build;path`).
pub fn parse_index(text: &str) -> Vec<Image> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.trim().split(';').collect();
            (f.len() >= 6 && !f[5].is_empty()).then(|| Image {
                key: [f[0], f[1], f[2], f[3]].map(str::to_string),
                build: f[4].to_string(),
                path: f[5].to_string(),
            })
        })
        .collect()
}

/// The index as LXC's `--list` prints it.
pub fn table(images: &[Image]) -> String {
    let mut t = format!(
        "{:<16}{:<12}{:<10}{:<10}{}\n",
        "DIST", "RELEASE", "ARCH", "VARIANT", "BUILD"
    );
    for i in images {
        t.push_str(&format!(
            "{:<16}{:<12}{:<10}{:<10}{}\n",
            i.key[0], i.key[1], i.key[2], i.key[3], i.build
        ));
    }
    t
}

/// A file of the image's meta: the `-system` and `.7` variants first, as
/// LXC's `relevant_file` picks them.
fn relevant(dir: &Path, name: &str) -> PathBuf {
    let mut p = dir.join(name);
    let system = dir.join(format!("{name}-system"));
    if system.exists() {
        p = system;
    }
    let compat = PathBuf::from(format!("{}.{COMPAT}", p.display()));
    if compat.exists() {
        p = compat;
    }
    p
}

/// Whether a cache entry may be used without asking the server.
fn cache_valid(dir: &Path, force: bool, now: u64) -> bool {
    if !dir.join("build_id").is_file() || !dir.join("rootfs.tar.xz").is_file() {
        return false;
    }
    force
        || std::fs::read_to_string(relevant(dir, "expiry"))
            .ok()
            .and_then(|e| e.trim().parse::<u64>().ok())
            .is_none_or(|expiry| expiry >= now)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `curl` fetching `url` into `to` (file://, http(s):// only).
fn fetch_tool(url: &str, to: &Path) -> Tool {
    Tool::new(
        "curl",
        [
            "-fsSL".to_string(),
            "--proto".into(),
            "=https,http,file".into(),
            "--user-agent".into(),
            format!("rlxc compat:{COMPAT}"),
            "-o".into(),
            to.display().to_string(),
            url.to_string(),
        ],
    )
}

async fn fetch(sys: &dyn Sys, url: &str, to: &Path) -> Result<(), TemplateError> {
    run_ok(sys, NAME, &fetch_tool(url, to)).await.map(|_| ())
}

/// The server's index (`index-system.7`, else `index-system`).
async fn index(sys: &dyn Sys, o: &Options, tmp: &Path) -> Result<Vec<Image>, TemplateError> {
    let base = o.base_url();
    let to = tmp.join("index");
    let url = format!("{base}/meta/1.0/index-system.{COMPAT}");
    if fetch(sys, &url, &to).await.is_err() {
        fetch(sys, &format!("{base}/meta/1.0/index-system"), &to).await?;
    }
    let text = std::fs::read_to_string(&to).map_err(|e| usage(format!("{url}: {e}")))?;
    Ok(parse_index(&text))
}

/// Checks `file` against its `.asc` with gpgv and `keyring`.
async fn verify(sys: &dyn Sys, keyring: &str, file: &Path) -> Result<(), TemplateError> {
    let sig = PathBuf::from(format!("{}.asc", file.display()));
    let tool = Tool::new(
        "gpgv",
        [
            "--keyring".to_string(),
            keyring.to_string(),
            sig.display().to_string(),
            file.display().to_string(),
        ],
    );
    run_ok(sys, NAME, &tool).await.map(|_| ()).map_err(|e| {
        usage(format!(
            "{}: the signature does not verify: {e}",
            file.display()
        ))
    })
}

/// Fetches the image into a staging directory beside `entry`, renamed when
/// complete.
async fn fill(sys: &dyn Sys, o: &Options, img: &Image, entry: &Path) -> Result<(), TemplateError> {
    let parent = entry.parent().unwrap_or(entry);
    std::fs::create_dir_all(parent).map_err(|e| usage(format!("{}: {e}", parent.display())))?;
    let staging = parent.join(format!(".partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir(&staging).map_err(|e| usage(format!("{}: {e}", staging.display())))?;
    let done = async {
        let url = format!("{}/{}", o.base_url(), img.path.trim_matches('/'));
        tracing::warn!("download template: fetching {url}");
        for f in ["rootfs.tar.xz", "meta.tar.xz"] {
            let to = staging.join(f);
            fetch(sys, &format!("{url}/{f}"), &to).await?;
            if let Some(k) = &o.keyring {
                fetch(
                    sys,
                    &format!("{url}/{f}.asc"),
                    &staging.join(format!("{f}.asc")),
                )
                .await?;
                verify(sys, k, &to).await?;
            }
        }
        let meta = staging.join("meta.tar.xz");
        let unpack = Tool::new(
            "tar",
            [
                "--no-same-owner".to_string(),
                "-xJf".into(),
                meta.display().to_string(),
                "-C".into(),
                staging.display().to_string(),
            ],
        );
        run_ok(sys, NAME, &unpack)
            .await
            .map_err(|e| usage(format!("an invalid meta tarball: {e}")))?;
        std::fs::write(staging.join("build_id"), format!("{}\n", img.build))
            .map_err(|e| usage(format!("{}: {e}", staging.display())))?;
        if entry.exists() {
            std::fs::remove_dir_all(entry)
                .map_err(|e| usage(format!("{}: {e}", entry.display())))?;
        }
        std::fs::rename(&staging, entry).map_err(|e| usage(format!("{}: {e}", entry.display())))
    }
    .await;
    if done.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    done
}

/// Fills in a template file of the image (`LXC_NAME` …) inside the rootfs;
/// a path that leaves the rootfs or is a symlink is skipped.
fn fill_in(rootfs: &Path, rel: &str, vars: &[(&str, String)]) -> Result<(), TemplateError> {
    let rel = rel.trim().trim_start_matches('/');
    if rel.is_empty() {
        return Ok(());
    }
    let Some(p) = existing_path(rootfs, rel) else {
        return Ok(());
    };
    let Ok(m) = std::fs::symlink_metadata(&p) else {
        return Ok(());
    };
    if !m.is_file() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&p).map_err(|e| usage(format!("{}: {e}", p.display())))?;
    let mut out = text.clone();
    for (k, v) in vars {
        out = out.replace(k, v);
    }
    if out != text {
        use std::os::unix::fs::PermissionsExt;
        write_mode(rootfs, rel, &out, m.permissions().mode() & 0o7777).map_err(usage)?;
    }
    Ok(())
}

#[async_trait]
impl Template for Download {
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
        let o = Options::parse(&req.args, super::debootstrap::host_arch())?;
        for tool in ["curl", "tar", "xz"] {
            if !super::prerequisites::on_path(tool) {
                return Err(TemplateError::Missing {
                    template: NAME.into(),
                    what: tool.into(),
                    hint: format!(
                        "install it (`apt-get install {}`)",
                        if tool == "xz" { "xz-utils" } else { tool }
                    ),
                });
            }
        }
        let tmp = tempdir_in(&req.path)?;
        if o.list {
            let images = index(sys, &o, &tmp).await?;
            return Err(usage(format!(
                "the images of {}:\n{}(listed; no container made)",
                o.base_url(),
                table(&images)
            )));
        }
        let (dist, release) = (
            o.dist.clone().unwrap_or_default(),
            o.release.clone().unwrap_or_default(),
        );
        let entry = req
            .cache_dir
            .join(NAME)
            .join(&dist)
            .join(&release)
            .join(&o.arch)
            .join(&o.variant);
        let _lock = CacheLock::take(&req.cache_dir, NAME, true)
            .map_err(|e| usage(format!("{}: {e}", req.cache_dir.display())))?;
        if o.flush && entry.exists() {
            std::fs::remove_dir_all(&entry)
                .map_err(|e| usage(format!("{}: {e}", entry.display())))?;
        }
        if !cache_valid(&entry, o.force, now()) {
            let images = index(sys, &o, &tmp).await?;
            let want = [
                dist.clone(),
                release.clone(),
                o.arch.clone(),
                o.variant.clone(),
            ];
            let img = images.iter().find(|i| i.key == want).ok_or_else(|| {
                usage(format!(
                    "no image {} {} {} {} on {} (-l lists them)",
                    dist,
                    release,
                    o.arch,
                    o.variant,
                    o.base_url()
                ))
            })?;
            let cached = std::fs::read_to_string(entry.join("build_id")).unwrap_or_default();
            if cached.trim() != img.build || !entry.join("rootfs.tar.xz").is_file() {
                if !o.base_url().starts_with("https://") && o.keyring.is_none() {
                    tracing::warn!("download template: {} is not https and no --keyring was given: the image is not verified", o.base_url());
                }
                fill(sys, &o, img, &entry).await?;
            }
        }
        let _ = std::fs::remove_dir_all(&tmp);
        unpack(sys, req, &entry).await?;
        config_lines(req, &entry)
    }
}

/// A scratch directory in the container's (staging) directory.
fn tempdir_in(dir: &Path) -> Result<PathBuf, TemplateError> {
    let p = dir.join(".download");
    std::fs::create_dir_all(&p).map_err(|e| usage(format!("{}: {e}", p.display())))?;
    Ok(p)
}

/// The rootfs tarball unpacked, less the image's `excludes`.
async fn unpack(sys: &dyn Sys, req: &TemplateRequest, entry: &Path) -> Result<(), TemplateError> {
    let mut args = vec!["--anchored".to_string()];
    if let Ok(ex) = std::fs::read_to_string(relevant(entry, "excludes")) {
        args.extend(
            ex.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| format!("--exclude={l}")),
        );
    }
    args.extend([
        "--numeric-owner".to_string(),
        "-xpJf".into(),
        entry.join("rootfs.tar.xz").display().to_string(),
        "-C".into(),
        req.rootfs.display().to_string(),
    ]);
    run_ok(sys, NAME, &Tool::new("tar", args)).await?;
    make_parents(&req.rootfs, "dev/pts/.x").map_err(usage)?;
    Ok(())
}

/// The image's config (filled in), its fstab, its template files, its message.
fn config_lines(req: &TemplateRequest, entry: &Path) -> Result<TemplateOutput, TemplateError> {
    let vars: Vec<(&str, String)> = vec![
        ("LXC_NAME", req.name.clone()),
        ("LXC_PATH", req.path.display().to_string()),
        ("LXC_ROOTFS", req.rootfs.display().to_string()),
        ("LXC_TEMPLATE_CONFIG", TEMPLATE_CONFIG.to_string()),
        ("LXC_HOOK_DIR", "/usr/share/lxc/hooks".to_string()),
    ];
    let subst = |t: &str| {
        vars.iter()
            .fold(t.to_string(), |acc, (k, v)| acc.replace(k, v))
    };
    let config = relevant(entry, "config");
    let text = std::fs::read_to_string(&config).map_err(|_| {
        usage(format!(
            "the image's meta has no configuration file ({})",
            config.display()
        ))
    })?;
    let mut lines = vec!["# Distribution configuration".to_string()];
    lines.extend(subst(&text).lines().map(str::to_string));
    if let Ok(fstab) = std::fs::read_to_string(relevant(entry, "fstab")) {
        let to = req.path.join("fstab");
        std::fs::write(&to, subst(&fstab)).map_err(|e| usage(format!("{}: {e}", to.display())))?;
        lines.push(format!("lxc.mount.fstab = {}", to.display()));
    }
    if let Ok(list) = std::fs::read_to_string(relevant(entry, "templates")) {
        for rel in list.lines() {
            fill_in(&req.rootfs, rel, &vars)?;
        }
    }
    if let Ok(msg) = std::fs::read_to_string(relevant(entry, "create-message")) {
        tracing::warn!("download template: {}", msg.trim());
    }
    Ok(TemplateOutput {
        config_lines: lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_index_and_meta_files() {
        let args: Vec<String> = [
            "-d",
            "debian",
            "-r",
            "bookworm",
            "--server",
            "file:///srv/i/",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let o = Options::parse(&args, "amd64").unwrap();
        assert_eq!(o.base_url(), "file:///srv/i");
        assert_eq!(
            Options::parse(&["-l".into()], "amd64").unwrap().base_url(),
            "https://images.linuxcontainers.org"
        );
        assert!(Options::parse(&[], "amd64")
            .unwrap_err()
            .to_string()
            .contains("-d DIST -r RELEASE"));
        assert!(Options::parse(
            &["-d".into(), "../x".into(), "-r".into(), "1".into()],
            "amd64"
        )
        .is_err());
        let idx = parse_index("debian;bookworm;amd64;default;20261201_05:24;/images/debian/bookworm/amd64/default/20261201_05:24/\nbroken\n");
        assert_eq!(idx.len(), 1);
        assert_eq!(
            idx[0].key,
            ["debian", "bookworm", "amd64", "default"].map(String::from)
        );
        assert!(
            table(&idx).contains("debian          bookworm    amd64     default   20261201_05:24")
        );
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("config"), "a").unwrap();
        std::fs::write(d.path().join("config-system"), "b").unwrap();
        std::fs::write(d.path().join("config-system.7"), "c").unwrap();
        assert_eq!(
            relevant(d.path(), "config"),
            d.path().join("config-system.7")
        );
        assert!(!cache_valid(d.path(), false, 10));
        std::fs::write(d.path().join("build_id"), "x").unwrap();
        std::fs::write(d.path().join("rootfs.tar.xz"), "x").unwrap();
        assert!(cache_valid(d.path(), false, 10), "no expiry: valid");
        std::fs::write(d.path().join("expiry"), "5\n").unwrap();
        assert!(!cache_valid(d.path(), false, 10) && cache_valid(d.path(), true, 10));
        // A template file that is a symlink out of the rootfs is left alone.
        let r = d.path().join("r");
        std::fs::create_dir_all(r.join("etc")).unwrap();
        std::fs::write(d.path().join("outside"), "LXC_NAME").unwrap();
        std::os::unix::fs::symlink(d.path().join("outside"), r.join("etc/hostname")).unwrap();
        std::fs::write(r.join("etc/hosts"), "127.0.1.1 LXC_NAME\n").unwrap();
        let vars = vec![("LXC_NAME", "c1".to_string())];
        fill_in(&r, "/etc/hostname", &vars).unwrap();
        fill_in(&r, "/etc/hosts", &vars).unwrap();
        fill_in(&r, "../outside", &vars).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("outside")).unwrap(),
            "LXC_NAME"
        );
        assert_eq!(
            std::fs::read_to_string(r.join("etc/hosts")).unwrap(),
            "127.0.1.1 c1\n"
        );
    }
}
