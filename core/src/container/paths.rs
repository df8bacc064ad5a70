//! Where a container's files are: `<lxcpath>/<name>/…` as LXC lays them out,
//! and runtime state under `/run/rlxc` so rlxc and LXC can share a host.

use std::path::{Path, PathBuf};

use super::name::{validate_name, NameError};

/// The runtime directory root.
pub const RUN_DIR: &str = "/run/rlxc";

/// Paths of one lxcpath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The container root (`-P`), e.g. `/var/lib/lxc`.
    pub lxcpath: PathBuf,
    /// Runtime state root, e.g. `/run/rlxc`.
    pub rundir: PathBuf,
}

impl Paths {
    /// Paths for `lxcpath` with the default runtime directory: `RLXC_RUNDIR`
    /// when set (tests), else a user's own (`$XDG_RUNTIME_DIR/rlxc`) for a
    /// user other than root, else [`RUN_DIR`].
    pub fn new(lxcpath: impl Into<PathBuf>) -> Self {
        let rundir = std::env::var_os("RLXC_RUNDIR").map_or_else(
            || {
                crate::config::user_dirs::UserDirs::current()
                    .map_or_else(|| PathBuf::from(RUN_DIR), |u| u.run)
            },
            PathBuf::from,
        );
        Paths {
            lxcpath: lxcpath.into(),
            rundir,
        }
    }

    /// `<lxcpath>/<name>`, after checking the name.
    pub fn container_dir(&self, name: &str) -> Result<PathBuf, NameError> {
        validate_name(name)?;
        Ok(self.lxcpath.join(name))
    }

    /// `<lxcpath>/<name>/config`.
    pub fn config(&self, name: &str) -> Result<PathBuf, NameError> {
        Ok(self.container_dir(name)?.join("config"))
    }

    /// `<lxcpath>/<name>/rootfs`.
    pub fn rootfs(&self, name: &str) -> Result<PathBuf, NameError> {
        Ok(self.container_dir(name)?.join("rootfs"))
    }

    /// `<lxcpath>/<name>/<name>.log`.
    pub fn log(&self, name: &str) -> Result<PathBuf, NameError> {
        Ok(self.container_dir(name)?.join(format!("{name}.log")))
    }

    /// Runtime directory of this lxcpath: the lxcpath is encoded into one path
    /// component so that two lxcpaths never share state.
    pub fn run_root(&self) -> PathBuf {
        self.rundir.join(encode(&self.lxcpath))
    }

    /// Where compiled seccomp filters of policy files are cached (all
    /// lxcpaths share it: an entry is keyed by the policy's whole text).
    pub fn seccomp_cache(&self) -> PathBuf {
        self.rundir.join("seccomp")
    }

    /// Runtime directory of one container (sockets, pid files).
    pub fn run_dir(&self, name: &str) -> Result<PathBuf, NameError> {
        validate_name(name)?;
        Ok(self.run_root().join(name))
    }

    /// The command socket of one container's monitor.
    pub fn command_socket(&self, name: &str) -> Result<PathBuf, NameError> {
        Ok(self.run_dir(name)?.join("command"))
    }

    /// The lock file of one container.
    pub fn lock_file(&self, name: &str) -> Result<PathBuf, NameError> {
        validate_name(name)?;
        Ok(self.run_root().join(format!("{name}.lock")))
    }
}

/// Encodes a path as one file name: `/` becomes `_`, `_` and `%` are escaped.
fn encode(p: &Path) -> String {
    let s = p.to_string_lossy();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '/' => out.push('_'),
            '_' => out.push_str("%5F"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let p = Paths {
            lxcpath: "/var/lib/lxc".into(),
            rundir: "/run/rlxc".into(),
        };
        assert_eq!(
            p.config("c1").unwrap(),
            PathBuf::from("/var/lib/lxc/c1/config")
        );
        assert_eq!(
            p.log("c1").unwrap(),
            PathBuf::from("/var/lib/lxc/c1/c1.log")
        );
        assert_eq!(
            p.lock_file("c1").unwrap(),
            PathBuf::from("/run/rlxc/_var_lib_lxc/c1.lock")
        );
        assert!(p.config("../etc").is_err());
        let q = Paths {
            lxcpath: "/var/lib_lxc".into(),
            rundir: "/run/rlxc".into(),
        };
        assert_ne!(p.run_root(), q.run_root());
    }
}
