//! Ephemeral containers (`copy -e`, the guide's `start-ephemeral`): a
//! snapshot clone (an overlay on a dir origin) with `lxc.ephemeral = 1`,
//! started at once; its monitor destroys it when it stops (see
//! [`crate::run::ephemeral`]). With a command, the command runs attached,
//! the container is stopped, and the command's exit status is the result.
//!
//! Options as LXC's lxc-copy: `-D` keeps it after it stops (no
//! `lxc.ephemeral`), `-t` puts the overlay's delta on a tmpfs (a pre-mount
//! hook, as LXC writes one), `-m bind=SRC[:DST][:ro|rw]` and
//! `-m overlay=SRC[:DST]` add mounts.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::clone_ops::CopyOptions;
use super::handle::{AttachOptions, Container, ContainerError};
use crate::config::document::Document;
use crate::registry::Registry;
use crate::run::protocol::StopKind;
use crate::run::warmup::Warmup;
use crate::start::StartOptions;

/// What `copy -e` / `start-ephemeral` were asked for.
#[derive(Debug, Clone, Default)]
pub struct EphemeralOptions {
    /// The clone's name (default: `ORIGIN_XXXXXX`), `-K`, `-M`, `-B`.
    pub copy: CopyOptions,
    /// `-D`: keep it when it stops.
    pub keep: bool,
    /// `-t`: the delta on a tmpfs.
    pub tmpfs: bool,
    /// `-m` specs.
    pub mounts: Vec<String>,
    /// The command after `--`.
    pub command: Vec<String>,
    /// Serve it in the foreground (no command).
    pub foreground: bool,
    /// Run the command as this uid/gid.
    pub user: Option<(u32, u32)>,
}

fn invalid(name: &str, why: String) -> ContainerError {
    ContainerError::Invalid {
        name: name.to_string(),
        why,
    }
}

/// Six random letters and digits, for LXC's `NAME_XXXXXX`.
fn random_suffix() -> String {
    let mut r = crate::config::net::kernel_random();
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..6)
        .map(|_| ALNUM[usize::from(r()) % ALNUM.len()] as char)
        .collect()
}

/// The `lxc.mount.entry` for one `-m` spec (`bind=…` or `overlay=…`);
/// `dir` is the clone's directory (an overlay's delta and work go there).
pub fn mount_entry(spec: &str, dir: &Path) -> Result<String, String> {
    let (kind, rest) = spec.split_once('=').ok_or_else(|| {
        format!("-m {spec}: expected bind=SRC[:DST][:ro|rw] or overlay=SRC[:DST]")
    })?;
    let parts: Vec<&str> = rest.split(':').collect();
    let src = parts[0];
    if !src.starts_with('/') {
        return Err(format!("-m {spec}: the source must be an absolute path"));
    }
    let dst = parts
        .get(1)
        .filter(|d| !d.is_empty() && **d != "ro" && **d != "rw")
        .copied()
        .unwrap_or(src)
        .trim_start_matches('/');
    match kind {
        "bind" => {
            let mode = parts
                .iter()
                .skip(1)
                .find(|p| **p == "ro" || **p == "rw")
                .copied()
                .unwrap_or("rw");
            let create = if Path::new(src).is_dir() {
                "dir"
            } else {
                "file"
            };
            Ok(format!(
                "{src} {dst} none bind,optional,{mode},create={create} 0 0"
            ))
        }
        "overlay" => {
            let tag = random_suffix();
            let (upper, work) = (
                dir.join(format!("delta#{tag}")),
                dir.join(format!("work#{tag}")),
            );
            for d in [&upper, &work] {
                std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
            }
            Ok(format!(
                "{src} {dst} overlay lowerdir={src},upperdir={},workdir={},create=dir 0 0",
                upper.display(),
                work.display()
            ))
        }
        other => Err(format!("-m {spec}: `{other}` is neither bind nor overlay")),
    }
}

impl Container {
    /// Makes and starts an ephemeral clone of this container; returns its
    /// name and, with a command, the command's exit status (else 0, or
    /// init's in the foreground).
    pub fn copy_ephemeral(
        &self,
        registry: &Registry,
        mut o: EphemeralOptions,
    ) -> Result<(String, i32), ContainerError> {
        if o.copy.new_name.is_empty() {
            o.copy.new_name = format!("{}_{}", self.name, random_suffix());
        }
        o.copy.snapshot = true;
        let name = o.copy.new_name.clone();
        let dir = self.copy(registry, o.copy.clone())?;
        let clone = match self.prepare_ephemeral(&dir, &name, &o) {
            Ok(()) => Container::load(&self.paths_for(&o), &name, None, &[], false),
            Err(e) => Err(e),
        };
        let clone = match clone {
            Ok(c) => c,
            Err(e) => {
                let _ = Container::named(&self.paths_for(&o), &name)
                    .and_then(|c| c.destroy(registry, true, false));
                return Err(e);
            }
        };
        let started = clone.start_ephemeral(registry, &o);
        if started.is_err() && !o.keep {
            let _ = clone.destroy(registry, true, false);
        }
        Ok((name, started?))
    }

    fn paths_for(&self, o: &EphemeralOptions) -> super::Paths {
        o.copy
            .new_lxcpath
            .as_ref()
            .and_then(|p| std::path::absolute(p).ok())
            .map_or_else(|| self.paths.clone(), super::Paths::new)
    }

    /// The clone's extra config: `lxc.ephemeral`, the mounts, the tmpfs.
    fn prepare_ephemeral(
        &self,
        dir: &Path,
        name: &str,
        o: &EphemeralOptions,
    ) -> Result<(), ContainerError> {
        let fail = |why: String| invalid(name, why);
        let config = dir.join("config");
        let mut doc = Document::read(&config).map_err(|e| fail(e.to_string()))?;
        if !o.keep {
            doc.set("lxc.ephemeral", "1");
        }
        for m in &o.mounts {
            doc.append("lxc.mount.entry", &mount_entry(m, dir).map_err(&fail)?);
        }
        if o.tmpfs && !nix::unistd::geteuid().is_root() {
            return Err(fail("-t mounts a tmpfs from a pre-mount hook in the monitor's mount namespace, which a user's container does not have: leave -t out".into()));
        }
        if o.tmpfs {
            let overlay = dir.join("overlay");
            if !overlay.is_dir() {
                return Err(fail("-t puts the overlay's delta on a tmpfs: it needs an overlay clone (a dir origin)".into()));
            }
            let script = tmpfs_hook(dir, name, &overlay, o.copy.keep_name).map_err(&fail)?;
            doc.append("lxc.hook.pre-mount", &script.display().to_string());
        }
        doc.write_atomic(&config).map_err(|e| fail(e.to_string()))
    }

    fn start_ephemeral(
        &self,
        registry: &Registry,
        o: &EphemeralOptions,
    ) -> Result<i32, ContainerError> {
        let foreground = o.foreground && o.command.is_empty();
        let plan = self.plan(
            registry,
            StartOptions {
                foreground,
                ..StartOptions::default()
            },
        )?;
        let code = self.start(plan, Warmup::none())?;
        if o.command.is_empty() || foreground {
            return Ok(code);
        }
        let status = self.attach_in_child(AttachOptions {
            argv: o.command.clone(),
            uid: o.user.map(|u| u.0),
            gid: o.user.map(|u| u.1),
            ..AttachOptions::default()
        });
        // Stopped whatever the command did; its monitor then destroys it.
        let stopped = self.stop(StopKind::Halt, Some(Duration::from_secs(10)), false);
        let status = status?;
        stopped?;
        Ok(status)
    }
}

impl Container {
    /// [`Container::attach`] from a forked child: attach enters the
    /// container's namespaces in the calling process, and this one still
    /// has to reach the monitor's socket afterwards to stop it.
    fn attach_in_child(&self, o: AttachOptions) -> Result<i32, ContainerError> {
        // SAFETY: the CLI is single-threaded; the child attaches and exits.
        match unsafe { nix::unistd::fork() } {
            Ok(nix::unistd::ForkResult::Child) => {
                let code = match self.attach(o) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::error!("{e}");
                        126
                    }
                };
                // SAFETY: leave the forked child.
                unsafe { libc::_exit(code) }
            }
            Ok(nix::unistd::ForkResult::Parent { child }) => loop {
                match nix::sys::wait::waitpid(child, None) {
                    Err(nix::Error::EINTR) => continue,
                    Ok(st) => return Ok(crate::run::init::exit_code(st).unwrap_or(1)),
                    Err(e) => {
                        return Err(invalid(
                            &self.name,
                            format!("waiting for the command: {}", e.desc()),
                        ))
                    }
                }
            },
            Err(e) => Err(invalid(&self.name, format!("fork: {}", e.desc()))),
        }
    }
}

/// Writes LXC's pre-mount script that mounts a tmpfs over the overlay
/// directory (and, unless the name is kept, the new hostname in the delta).
fn tmpfs_hook(dir: &Path, name: &str, overlay: &Path, keep_name: bool) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join(format!("pre-start-{}", random_suffix()));
    let mut text = format!(
        "#! /bin/sh\nmount -n -t tmpfs -o mode=0755 none {}\n",
        overlay.display()
    );
    if !keep_name {
        text.push_str(&format!(
            "mkdir -p {0}/delta/etc\necho {name} > {0}/delta/etc/hostname\n",
            overlay.display()
        ));
    }
    std::fs::write(&script, text).map_err(|e| format!("{}: {e}", script.display()))?;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", script.display()))?;
    Ok(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_and_overlay_mounts_as_lxc_writes_them() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            mount_entry("bind=/etc:srv/etc:ro", d.path()).unwrap(),
            "/etc srv/etc none bind,optional,ro,create=dir 0 0"
        );
        assert_eq!(
            mount_entry("bind=/etc/hostname", d.path()).unwrap(),
            "etc/hostname etc/hostname none bind,optional,rw,create=file 0 0".replacen(
                "etc/hostname",
                "/etc/hostname",
                1
            )
        );
        let o = mount_entry("overlay=/usr", d.path()).unwrap();
        assert!(
            o.starts_with("/usr usr overlay lowerdir=/usr,upperdir="),
            "{o}"
        );
        assert!(o.ends_with(",create=dir 0 0"), "{o}");
        assert!(mount_entry("bind=rel", d.path()).is_err());
        assert!(mount_entry("tmpfs=/x", d.path()).is_err());
    }
}
