//! The portable backup: `backup -n CN -o FILE` writes a stopped container
//! (its config and its rootfs, of any backend) as one compressed tar, and
//! `restore -i FILE [-n NEW] [-B TYPE]` makes a container from it.
//!
//! The archive holds `config`, `rlxc-backup` (the container's name, its
//! directory and a digest of its rootfs tree, [`tree_digest`]) and
//! `rootfs/`, written by GNU tar with xattrs, ACLs, numeric owners and
//! sparse files, compressed with zstd on every core (`.tar.gz`/`.tgz`:
//! gzip; `.tar`: none). It is written under a temporary name and renamed
//! when complete. A restore is built in a staging directory, its rootfs
//! checked against the digest, and renamed into place only then; it never
//! replaces an existing container.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::create::STAGING;
use super::handle::{Container, ContainerError};
use super::lock::ContainerLock;
use super::private_mounts::in_private_mounts;
use super::Paths;
use crate::config::clone::{clone_config, replace_dir, CloneNames};
use crate::config::document::Document;
use crate::config::net::kernel_random;
use crate::start::block_on;
use crate::storage::{tree_digest, CreateRequest, RootfsSpec, Storage};
use crate::sys::RealSys;

const MANIFEST: &str = "rlxc-backup";

fn fail(name: &str, why: impl Into<String>) -> ContainerError {
    ContainerError::Invalid {
        name: name.to_string(),
        why: why.into(),
    }
}

/// An archive keeps owners and device nodes as they are on the host, which
/// only root may write and read back: a user is told so before anything.
fn user_refused(name: &str, what: &str) -> Result<(), ContainerError> {
    if nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    Err(fail(
        name,
        format!("{what} needs root in this version of rlxc; a user backs its container up with `backup` (rootfs.backup.N) and `restore`"),
    ))
}

/// tar's compression option for an archive named `file`.
pub fn compression(file: &Path) -> Vec<String> {
    let n = file.to_string_lossy();
    if n.ends_with(".tar.gz") || n.ends_with(".tgz") {
        vec!["--gzip".into()]
    } else if n.ends_with(".tar") {
        Vec::new()
    } else {
        vec!["--use-compress-program=zstd -T0 -3 -q".into()]
    }
}

/// What GNU tar needs to keep a rootfs whole.
const KEEP: &[&str] = &[
    "--xattrs",
    "--xattrs-include=*",
    "--acls",
    "--numeric-owner",
];

/// The archive's manifest: `key=value` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The container's name.
    pub name: String,
    /// Its directory when it was backed up.
    pub dir: PathBuf,
    /// [`tree_digest`] of its rootfs.
    pub digest: String,
}

impl Manifest {
    fn render(&self) -> String {
        format!(
            "name={}\ndir={}\ndigest={}\n",
            self.name,
            self.dir.display(),
            self.digest
        )
    }

    /// Parses the manifest's text.
    pub fn parse(text: &str) -> Option<Manifest> {
        let get = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
                .map(str::to_string)
        };
        Some(Manifest {
            name: get("name")?,
            dir: PathBuf::from(get("dir")?),
            digest: get("digest")?,
        })
    }
}

fn tar(args: &[String], what: &str) -> Result<(), String> {
    use crate::sys::Sys;
    let out = RealSys
        .run_blocking(&crate::sys::Tool::new("tar", args.iter().cloned()))
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status == 0 {
        return Ok(());
    }
    Err(format!(
        "{what}: tar exit status {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}

impl Container {
    /// Writes this (stopped) container to `file`; `progress` keeps a line
    /// of tar's totals (bytes so far, rate) on the terminal.
    pub fn backup_to(
        &self,
        registry: &crate::registry::Registry,
        file: &Path,
        progress: bool,
    ) -> Result<(), ContainerError> {
        let name = self.name.clone();
        if self.state() != super::state::State::Stopped {
            return Err(fail(&name, "it runs; stop it before you back it up"));
        }
        user_refused(&name, "backup -o")?;
        // Held throughout: the rootfs cannot change between digest and tar.
        let _lock = self.hold_lock()?;
        let dir = self.paths.container_dir(&name)?;
        let (storage, spec) = self.rootfs(registry)?;
        let view = self
            .paths
            .lxcpath
            .join(STAGING)
            .join(format!("{name}.backup.{}", std::process::id()));
        std::fs::create_dir_all(view.join("rootfs"))
            .map_err(|e| fail(&name, format!("{}: {e}", view.display())))?;
        let tmp = file.with_file_name(format!(
            ".{}.tmp",
            file.file_name()
                .map_or("backup".into(), |f| f.to_string_lossy().into_owned())
        ));
        let (v, t, d, n) = (view.clone(), tmp.clone(), dir.clone(), name.clone());
        let compress = compression(file);
        let written = in_private_mounts("the backup", move || {
            let root = crate::storage::reach_rootfs(&storage, &spec, &v.join(".mnt"))?;
            // The rootfs bound where tar reads it, beside the config and manifest.
            nix::mount::mount(
                Some(&root),
                &v.join("rootfs"),
                None::<&str>,
                nix::mount::MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|e| format!("binding the rootfs: {}", e.desc()))?;
            let digest =
                tree_digest(&v.join("rootfs")).map_err(|e| format!("reading the rootfs: {e}"))?;
            std::fs::copy(d.join("config"), v.join("config"))
                .map_err(|e| format!("config: {e}"))?;
            let m = Manifest {
                name: n,
                dir: d,
                digest,
            };
            std::fs::write(v.join(MANIFEST), m.render()).map_err(|e| e.to_string())?;
            // One filesystem, as the digest reads it.
            let mut args: Vec<String> = vec![
                "--create".into(),
                "--one-file-system".into(),
                "--sparse".into(),
                "--file".into(),
                t.display().to_string(),
            ];
            args.extend(KEEP.iter().map(|s| (*s).to_string()));
            args.extend(compress);
            if progress {
                // A line on the terminal, rewritten as tar goes: bytes so far
                // and the rate.
                args.extend([
                    "--checkpoint=1000".into(),
                    "--checkpoint-action=ttyout=%T%*\r".into(),
                ]);
            }
            args.extend([
                "-C".into(),
                v.display().to_string(),
                MANIFEST.into(),
                "config".into(),
                "rootfs".into(),
            ]);
            tar(&args, "writing the archive").map(|()| String::new())
        });
        let _ = std::fs::remove_dir_all(&view);
        match written.and_then(|_| {
            std::fs::rename(&tmp, file).map_err(|e| format!("{}: {e}", file.display()))
        }) {
            Ok(()) => Ok(()),
            Err(why) => {
                let _ = std::fs::remove_file(&tmp);
                Err(fail(&name, format!("backup to {}: {why}", file.display())))
            }
        }
    }
}

/// Makes a container of `paths` from the archive `file`: named `new_name`
/// (default: the archive's), on `storage`. Returns its name.
pub fn restore_from(
    paths: &Paths,
    file: &Path,
    new_name: Option<&str>,
    storage: &Arc<dyn Storage>,
) -> Result<String, ContainerError> {
    let what = file.display().to_string();
    user_refused(new_name.unwrap_or("?"), "restore -i")?;
    let out = {
        use crate::sys::Sys;
        // --occurrence: stop at the member (first in the archive) instead of
        // reading the rest of it.
        let args = [
            "--extract".to_string(),
            "--occurrence=1".into(),
            "--to-stdout".into(),
            "--file".into(),
            what.clone(),
            MANIFEST.into(),
        ];
        RealSys
            .run_blocking(&crate::sys::Tool::new("tar", args))
            .map_err(|e| fail(&what, e.to_string()))?
    };
    let manifest = Manifest::parse(&String::from_utf8_lossy(&out.stdout))
        .ok_or_else(|| fail(&what, "not an rlxc backup (no rlxc-backup manifest in it)"))?;
    let name = new_name.unwrap_or(&manifest.name).to_string();
    let final_dir = paths.container_dir(&name)?;
    let _lock = ContainerLock::try_acquire(&name, &paths.lock_file(&name)?)
        .map_err(|e| fail(&name, e.to_string()))?;
    if final_dir.exists() {
        return Err(fail(
            &name,
            format!(
                "it exists already in {}: a restore never replaces a container",
                paths.lxcpath.display()
            ),
        ));
    }
    let staging = paths
        .lxcpath
        .join(STAGING)
        .join(format!("{name}.{}", std::process::id()));
    std::fs::create_dir_all(&staging)
        .map_err(|e| fail(&name, format!("{}: {e}", staging.display())))?;
    let req = CreateRequest {
        name: name.clone(),
        container_dir: staging.clone(),
        ..CreateRequest::default()
    };
    let spec = block_on(storage.create(&RealSys, &req))
        .map_err(|e| fail(&name, e.to_string()))?
        .map_err(|e| fail(&name, e.to_string()));
    let spec = match spec {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let built = fill(file, storage, &spec, &staging, &manifest).and_then(|()| {
        let final_spec = RootfsSpec {
            backend: spec.backend.clone(),
            location: replace_dir(&spec.location, &staging, &final_dir),
        };
        let doc = Document::read(&staging.join("config")).map_err(|e| e.to_string())?;
        let same = name == manifest.name;
        let rootfs = final_spec.to_string();
        let out = clone_config(
            &doc,
            &CloneNames {
                old_dir: &manifest.dir,
                new_name: &name,
                new_dir: &final_dir,
                rootfs: &rootfs,
                keep_name: same,
                keep_mac: same,
            },
            &mut kernel_random(),
        );
        out.doc
            .write_atomic(&staging.join("config"))
            .map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(staging.join(MANIFEST));
        std::fs::rename(&staging, &final_dir)
            .map_err(|e| format!("{}: {e}", final_dir.display()))?;
        let _ = block_on(storage.relocate(&RealSys, &final_spec, &final_dir));
        Ok(())
    });
    if let Err(why) = built {
        let _ = block_on(storage.destroy(&RealSys, &spec));
        let _ = std::fs::remove_dir_all(&staging);
        return Err(fail(&name, format!("restore from {what}: {why}")));
    }
    Ok(name)
}

/// Extracts the config and the rootfs into the staging directory and the
/// new rootfs, and checks the rootfs against the manifest's digest.
fn fill(
    file: &Path,
    storage: &Arc<dyn Storage>,
    spec: &RootfsSpec,
    staging: &Path,
    m: &Manifest,
) -> Result<(), String> {
    let f = file.display().to_string();
    tar(
        &[
            "--extract".into(),
            "--occurrence=1".into(),
            "--file".into(),
            f.clone(),
            "-C".into(),
            staging.display().to_string(),
            "config".into(),
            MANIFEST.into(),
        ],
        "reading the archive",
    )?;
    let (s, st, storage, want) = (
        spec.clone(),
        staging.to_path_buf(),
        storage.clone(),
        m.digest.clone(),
    );
    in_private_mounts("the restore", move || {
        let root = crate::storage::reach_rootfs(&storage, &s, &st.join("rootfs"))?;
        let mut args: Vec<String> = vec!["--extract".into(), "--file".into(), f, "-C".into(), root.display().to_string(), "--strip-components=1".into()];
        args.extend(KEEP.iter().map(|s| (*s).to_string()));
        args.push("rootfs".into());
        tar(&args, "unpacking the rootfs")?;
        let got = tree_digest(&root).map_err(|e| format!("reading the restored rootfs: {e}"))?;
        if got != want {
            return Err(format!("the restored rootfs does not match the backup (digest {got}, the archive says {want})"));
        }
        Ok(String::new())
    })
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_follows_the_file_name_and_manifests_round_trip() {
        assert_eq!(compression(Path::new("a.tar.gz")), vec!["--gzip"]);
        assert_eq!(compression(Path::new("a.tgz")), vec!["--gzip"]);
        assert!(compression(Path::new("a.tar")).is_empty());
        assert!(compression(Path::new("a.tar.zst"))[0].contains("zstd -T0"));
        let m = Manifest {
            name: "c1".into(),
            dir: PathBuf::from("/var/lib/lxc/c1"),
            digest: "0123456789abcdef".into(),
        };
        assert_eq!(Manifest::parse(&m.render()), Some(m));
        assert_eq!(Manifest::parse("name=x\n"), None);
    }
}
