//! What the debootstrap-based templates (debian, ubuntu) share: building a
//! cache entry with debootstrap in a staging directory that is renamed
//! when complete, clearing dead builds, new ssh host keys per guest, and
//! the Debian name of the host's architecture.

use std::path::Path;

use crate::sys::{Sys, Tool};
use crate::template::{RootfsVolume, TemplateError, TemplateRequest};

/// Debian's name for the host's architecture.
pub fn host_arch() -> &'static str {
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

fn failed(template: &str, why: String) -> TemplateError {
    TemplateError::Usage {
        template: template.into(),
        reason: why,
    }
}

/// Where a failed debootstrap's log is kept, in the template's cache
/// directory (hidden from `cache ls`; the next failure replaces it).
pub const FAILED_LOG: &str = ".debootstrap-failed.log";

/// One debootstrap run that fills a cache entry.
#[derive(Debug, Clone)]
pub struct Bootstrap<'a> {
    /// The template, for messages.
    pub template: &'a str,
    /// The template's cache directory (`<cache>/debian`); its lock is held.
    pub cache: &'a Path,
    /// The entry to fill (`<cache>/debian/rootfs-bookworm-amd64`).
    pub entry: &'a Path,
    /// What is built, for the message before it starts.
    pub what: String,
    /// debootstrap's options (`--variant=…`, `--include=…`).
    pub options: Vec<String>,
    /// The suite (`bookworm`, `noble`).
    pub suite: &'a str,
    /// The mirror (`http://deb.debian.org/debian`, `file:///srv/mirror`).
    pub mirror: &'a str,
    /// debootstrap's script for the suite, when it has none of that name
    /// (a release newer than the host's debootstrap).
    pub script: Option<String>,
    /// Let its progress through (a terminal without `-q`).
    pub progress: bool,
    /// The container's rootfs backend: it makes the build a volume of its
    /// kind where it can, so that rootfses can be snapshots of the entry.
    pub volume: Option<&'a RootfsVolume>,
}

impl Bootstrap<'_> {
    /// debootstrap's command line into `target`.
    pub fn args(&self, target: &Path) -> Vec<String> {
        let mut v = self.options.clone();
        v.extend([
            self.suite.to_string(),
            target.display().to_string(),
            self.mirror.to_string(),
        ]);
        v.extend(self.script.clone());
        v
    }

    /// The entry, made with [`Bootstrap::run`] unless it is there; with
    /// `flush` (`-F`) an entry that is there is built again.
    pub async fn ensure(&self, sys: &dyn Sys, flush: bool) -> Result<(), TemplateError> {
        if flush && self.entry.exists() {
            std::fs::remove_dir_all(self.entry).map_err(|e| TemplateError::Usage {
                template: self.template.into(),
                reason: format!("{}: {e}", self.entry.display()),
            })?;
        }
        if self.entry.is_dir() {
            return Ok(());
        }
        self.run(sys).await
    }

    /// Runs debootstrap into a staging directory under the cache and renames
    /// it to the entry when it succeeded: the entry is complete or absent.
    pub async fn run(&self, sys: &dyn Sys) -> Result<(), TemplateError> {
        // Under the lock every staging directory is a dead build's.
        remove_stale_builds(self.template, self.cache);
        let name = self
            .entry
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let staging = self
            .cache
            .join(format!(".partial-{name}.{}", std::process::id()));
        tracing::warn!(
            "{} template: debootstrap of {} into {} (minutes, the first time)",
            self.template,
            self.what,
            self.entry.display()
        );
        if let Some(v) = self.volume {
            match v.storage.make_cache_tree(&staging) {
                Ok(true) => tracing::debug!(
                    "{}: {} made as a {} volume",
                    self.template,
                    staging.display(),
                    v.storage.name()
                ),
                Ok(false) => {}
                Err(e) => return Err(failed(self.template, e.to_string())),
            }
        }
        let mut tool = Tool::new("debootstrap", self.args(&staging));
        tool.show_output = self.progress;
        let out = sys.run(&tool).await.map_err(|source| TemplateError::Sys {
            template: self.template.into(),
            source,
        })?;
        if out.status != 0 {
            // Its log is kept: the build it names is removed.
            let log = self.cache.join(FAILED_LOG);
            let kept = std::fs::copy(staging.join("debootstrap/debootstrap.log"), &log).is_ok();
            remove_build(self.template, &staging, false);
            let text = if tool.show_output {
                "its output is above".to_string()
            } else {
                format!(
                    "{}{}",
                    out.stdout_text(),
                    String::from_utf8_lossy(&out.stderr)
                )
            };
            // The last distinct lines (debootstrap repeats its retries).
            let mut tail: Vec<&str> = Vec::new();
            for l in text.lines().rev().take(12) {
                if !tail.contains(&l) && tail.len() < 4 {
                    tail.push(l);
                }
            }
            let log = if kept {
                format!("; its log is {}", log.display())
            } else {
                String::new()
            };
            return Err(failed(
                self.template,
                format!(
                    "`{}` failed with exit status {}: {}{log}",
                    tool.command_line(),
                    out.status,
                    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
                ),
            ));
        }
        std::fs::rename(&staging, self.entry).map_err(|e| {
            remove_build(self.template, &staging, false);
            failed(self.template, format!("{}: {e}", self.entry.display()))
        })
    }
}

/// Fills the request's rootfs with the cache entry: a snapshot when the
/// rootfs backend can make one of it (a btrfs subvolume entry on the
/// rootfs's filesystem), else rlxc's tree copy.
pub async fn fill_rootfs(
    sys: &dyn Sys,
    template: &str,
    req: &TemplateRequest,
    entry: &Path,
) -> Result<(), TemplateError> {
    if let Some(v) = &req.volume {
        let snapped = v
            .storage
            .fill_from_tree(sys, &v.spec, entry)
            .await
            .map_err(|e| failed(template, e.to_string()))?;
        if snapped {
            tracing::debug!(
                "{template}: {} is a snapshot of {}",
                v.spec,
                entry.display()
            );
            return Ok(());
        }
    }
    crate::storage::copy_tree_into(entry, &req.rootfs)
        .map(|_| ())
        .map_err(|e| failed(template, e.to_string()))
}

/// Removes `.partial-*` builds left in `cache` (the caller holds its lock).
pub fn remove_stale_builds(template: &str, cache: &Path) {
    let Ok(rd) = std::fs::read_dir(cache) else {
        return;
    };
    for e in rd.flatten() {
        if e.file_name().to_string_lossy().starts_with(".partial-") {
            remove_build(template, &e.path(), true);
        }
    }
}

/// Removes a build directory after detaching what debootstrap mounted in it
/// (proc, sys), deepest first, so that the removal cannot reach the host's.
pub fn remove_build(template: &str, p: &Path, stale: bool) {
    let mut below =
        crate::storage::mounts_below(Path::new("/proc/self/mountinfo"), p).unwrap_or_default();
    below.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
    for m in &below {
        let _ = nix::mount::umount2(m, nix::mount::MntFlags::MNT_DETACH);
    }
    if stale {
        tracing::warn!(
            "{template} template: removing {}, left by an interrupted build",
            p.display()
        );
    }
    let _ = std::fs::remove_dir_all(p);
}

/// New ssh host keys: a cache built with openssh-server has them, and no
/// two guests may share them.
pub async fn new_host_keys(
    sys: &dyn Sys,
    template: &str,
    rootfs: &Path,
) -> Result<(), TemplateError> {
    // The guest's own etc/ssh only: a link there (to the host's) is refused.
    let Some(ssh) = super::guest_files::existing_path(rootfs, "etc/ssh") else {
        return Ok(());
    };
    match std::fs::symlink_metadata(&ssh) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(failed(
                template,
                format!("{}: not a directory of the guest", ssh.display()),
            ))
        }
        Err(_) => return Ok(()),
    }
    let Ok(rd) = std::fs::read_dir(&ssh) else {
        return Ok(());
    };
    let mut had = false;
    for e in rd.flatten() {
        if e.file_name().to_string_lossy().starts_with("ssh_host_") {
            had = true;
            std::fs::remove_file(e.path())
                .map_err(|err| failed(template, format!("{}: {err}", e.path().display())))?;
        }
    }
    if !had && !ssh.join("sshd_config").exists() {
        return Ok(());
    }
    if !super::prerequisites::on_path("ssh-keygen") {
        tracing::warn!("{template} template: no ssh-keygen here: the guest's sshd has no host keys until `ssh-keygen -A` runs in it");
        return Ok(());
    }
    let tool = Tool::new(
        "ssh-keygen",
        [
            "-A".to_string(),
            "-f".to_string(),
            rootfs.display().to_string(),
        ],
    );
    run_ok(sys, template, &tool).await.map(|_| ())
}

/// Refuses an unprivileged container (`--mapped-uid`, LXC's scripts do the
/// same): the distribution templates do not map their files' owners yet.
pub fn refuse_mapped(template: &str, req: &TemplateRequest) -> Result<(), TemplateError> {
    match req.mapped_uid {
        Some(_) => Err(failed(
            template,
            "it cannot make an unprivileged container (--mapped-uid): its files are not mapped"
                .into(),
        )),
        None => Ok(()),
    }
}

/// Puts the keyring a mirror was checked with (`--keyring`) among the
/// guest's apt keys, so that apt in it trusts the same mirror (as
/// lxc-debian copies it into `trusted.gpg.d`).
pub fn trust_keyring(template: &str, rootfs: &Path, keyring: &Path) -> Result<(), TemplateError> {
    let bytes = std::fs::read(keyring).map_err(|source| TemplateError::Io {
        template: template.into(),
        path: keyring.to_path_buf(),
        source,
    })?;
    let name = keyring
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mirror.gpg".into());
    let name = if name.ends_with(".gpg") || name.ends_with(".asc") {
        name
    } else {
        format!("{name}.gpg")
    };
    let rel = format!("etc/apt/trusted.gpg.d/{name}");
    super::guest_files::write_bytes(rootfs, &rel, &bytes, 0o644).map_err(|e| failed(template, e))
}

/// Runs `tool` and fails with its stderr when it exits non-zero.
pub async fn run_ok(sys: &dyn Sys, template: &str, tool: &Tool) -> Result<String, TemplateError> {
    let out = sys.run(tool).await.map_err(|source| TemplateError::Sys {
        template: template.into(),
        source,
    })?;
    if out.status != 0 {
        return Err(failed(
            template,
            format!(
                "`{}` failed with exit status {}: {}",
                tool.command_line(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(out.stdout_text())
}

/// Takes an flock on `path` (made if missing), waiting for its holder: LXC's
/// own template scripts lock their cache this way (`/var/lock/subsys/lxc-debian`),
/// and holding theirs too means the two never build one cache at once.
pub fn script_lock(path: &Path) -> Option<std::fs::File> {
    use std::os::fd::AsRawFd;
    std::fs::create_dir_all(path.parent()?).ok()?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .ok()?;
    // SAFETY: flock on our own fd.
    (unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } == 0).then_some(f)
}

/// Whether a long step shows its progress: on a terminal, unless `-q`.
pub fn shows_progress(quiet: bool) -> bool {
    !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::FakeSys;
    use crate::sys::ToolOutput;

    fn bootstrap<'a>(cache: &'a Path, entry: &'a Path) -> Bootstrap<'a> {
        Bootstrap {
            template: "ubuntu",
            cache,
            entry,
            what: "noble".into(),
            options: vec!["--variant=minbase".into()],
            suite: "noble",
            mirror: "file:///m",
            script: Some("/usr/share/debootstrap/scripts/gutsy".into()),
            progress: false,
            volume: None,
        }
    }

    #[tokio::test]
    async fn a_failed_debootstrap_leaves_no_entry_and_no_build() {
        let d = tempfile::tempdir().unwrap();
        let entry = d.path().join("rootfs-noble-amd64");
        let b = bootstrap(d.path(), &entry);
        assert_eq!(
            b.args(Path::new("/t")),
            [
                "--variant=minbase",
                "noble",
                "/t",
                "file:///m",
                "/usr/share/debootstrap/scripts/gutsy"
            ]
        );
        // A dead build from before is cleared first.
        std::fs::create_dir(d.path().join(".partial-rootfs-noble-amd64.1")).unwrap();
        let sys = FakeSys::new();
        sys.answer(
            "debootstrap",
            ToolOutput::failed(1, "E: Couldn't find these debs: netplan.io"),
        );
        let e = b.run(&sys).await.unwrap_err().to_string();
        assert!(
            e.contains("exit status 1") && e.contains("netplan.io"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
        assert!(sys.command_lines()[0].starts_with("debootstrap --variant=minbase noble "));
    }
}
