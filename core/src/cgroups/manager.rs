//! The cgroups of one container: a directory in every mounted hierarchy (v1
//! controllers, `name=` hierarchies and cgroup2), the container's processes in
//! them, its limits written there, and all of it removed at stop.
//!
//! Every change goes through [`Sys`] (mkdir, rmdir, file writes), so the start
//! path runs against the recording fake in unit tests; reads go to the files.
//! The directories are recorded in the runtime directory when made, so a start
//! after a monitor that died with SIGKILL finds and removes what it left.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::layout::CgroupLayout;
use super::place::Placed;
use crate::config::cgroup::{CgroupSetting, Version};
use crate::sys::{Sys, SysError};

/// A cgroup problem; every message names the container and the file.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A filesystem operation failed.
    #[error("container `{name}`: cgroup {path}: {what}: {source}")]
    Io {
        /// Container.
        name: String,
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// The error.
        source: std::io::Error,
    },
    /// The cgroup still has processes from another run.
    #[error("container `{name}`: cgroup {path} still has processes ({pids}); is it running from another lxcpath or by LXC?")]
    Busy {
        /// Container.
        name: String,
        /// The directory.
        path: PathBuf,
        /// Some of the pids.
        pids: String,
    },
    /// A change through the [`Sys`] boundary failed.
    #[error("container `{name}`: cgroup: {what}: {source}")]
    Sys {
        /// Container.
        name: String,
        /// What was being done.
        what: String,
        /// The error (it names the file).
        source: SysError,
    },
    /// A setting this host cannot apply.
    #[error("container `{name}`: key `{key}`: {why}")]
    Setting {
        /// Container.
        name: String,
        /// The config key.
        key: String,
        /// Why.
        why: String,
    },
}

/// The container's directory in one hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dir {
    /// Absolute directory.
    pub path: PathBuf,
    /// `true` for cgroup2.
    pub unified: bool,
    /// The v1 controllers of this hierarchy (empty for cgroup2).
    pub controllers: Vec<String>,
}

/// One container's cgroups.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContainerCgroups {
    /// Container name (for errors).
    pub name: String,
    /// One directory per hierarchy.
    pub dirs: Vec<Dir>,
    /// Controllers usable in the cgroup2 directory.
    pub unified_controllers: Vec<String>,
    /// Parent directories the start made (`lxc.cgroup.dir = a/b`), deepest
    /// first: removed with the container's when nothing else uses them.
    #[serde(default)]
    pub made_parents: Vec<PathBuf>,
}

impl ContainerCgroups {
    /// Where container `name`'s cgroups go: `<hierarchy>/<rel>` in each one.
    pub fn plan(layout: &CgroupLayout, name: &str, rel: &str) -> ContainerCgroups {
        let mut dirs: Vec<Dir> = layout
            .v1
            .iter()
            .map(|h| Dir {
                path: h.mountpoint.join(rel),
                unified: false,
                controllers: h.controllers.clone(),
            })
            .collect();
        if let Some(u) = &layout.unified {
            dirs.push(Dir {
                path: u.join(rel),
                unified: true,
                controllers: Vec::new(),
            });
        }
        ContainerCgroups {
            name: name.to_string(),
            dirs,
            unified_controllers: layout.unified_controllers.clone(),
            made_parents: Vec::new(),
        }
    }

    pub(super) fn io(
        &self,
        path: &Path,
        what: &'static str,
    ) -> impl FnOnce(std::io::Error) -> CgroupError {
        let (name, path) = (self.name.clone(), path.to_path_buf());
        move |source| CgroupError::Io {
            name,
            path,
            what,
            source,
        }
    }

    pub(super) fn sys_err(&self, what: &str) -> impl FnOnce(SysError) -> CgroupError {
        let (name, what) = (self.name.clone(), what.to_string());
        move |source| CgroupError::Sys { name, what, source }
    }

    /// Removes the directories of an earlier run (a monitor killed with
    /// SIGKILL); directories that still have processes are refused.
    pub fn remove_unused(&self, sys: &dyn Sys) -> Result<(), CgroupError> {
        for d in self.dirs.iter().filter(|d| d.path.exists()) {
            let pids = tree_procs(&d.path);
            if !pids.is_empty() {
                return Err(CgroupError::Busy {
                    name: self.name.clone(),
                    path: d.path.clone(),
                    pids: pids
                        .iter()
                        .take(5)
                        .map(i32::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                });
            }
            remove_tree(sys, &d.path).map_err(self.sys_err("removing the leftover"))?;
        }
        for p in &self.made_parents {
            let _ = sys.rmdir(p);
        }
        Ok(())
    }

    /// Makes every directory, after removing unused leftovers (see
    /// [`remove_unused`](Self::remove_unused)).
    pub fn create(&mut self, sys: &dyn Sys) -> Result<(), CgroupError> {
        self.remove_unused(sys)?;
        for d in self.dirs.clone() {
            // Missing ancestors, outermost first (each needs its cpuset too).
            let mut missing: Vec<PathBuf> = d
                .path
                .ancestors()
                .skip(1)
                .take_while(|p| !p.exists())
                .map(Path::to_path_buf)
                .collect();
            missing.reverse();
            // Recorded before they are made, so a failure part-way removes them.
            self.made_parents
                .splice(0..0, missing.iter().rev().cloned());
            for dir in missing.iter().chain(std::iter::once(&d.path)) {
                sys.mkdir(dir).map_err(self.sys_err("creating"))?;
                if d.controllers.iter().any(|c| c == "cpuset") {
                    self.inherit_cpuset(sys, dir)?;
                }
            }
        }
        Ok(())
    }

    /// A new v1 cpuset is empty and refuses tasks: copy the parent's.
    fn inherit_cpuset(&self, sys: &dyn Sys, dir: &Path) -> Result<(), CgroupError> {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let own = dir.join(file);
            if read_trim(&own).is_some_and(|v| !v.is_empty()) {
                continue;
            }
            let mut parent = dir.parent();
            while let Some(p) = parent {
                if let Some(v) = read_trim(&p.join(file)).filter(|v| !v.is_empty()) {
                    sys.write_file(&own, v.as_bytes())
                        .map_err(self.sys_err("copying the parent's cpuset"))?;
                    break;
                }
                parent = p.parent();
            }
        }
        Ok(())
    }

    /// Puts process `pid` (and its threads) into every directory.
    pub fn attach(&self, sys: &dyn Sys, pid: i32) -> Result<(), CgroupError> {
        for d in &self.dirs {
            let procs = d.path.join("cgroup.procs");
            sys.write_file(&procs, pid.to_string().as_bytes())
                .map_err(self.sys_err("adding the container's init"))?;
        }
        Ok(())
    }

    /// Opens every `cgroup.procs` for writing, for a process that joins itself
    /// later by writing `0` (attach does this after entering the namespaces).
    pub fn open_procs(&self) -> Result<Vec<std::fs::File>, CgroupError> {
        self.dirs
            .iter()
            .map(|d| {
                let p = d.path.join("cgroup.procs");
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&p)
                    .map_err(self.io(&p, "opening"))
            })
            .collect()
    }

    /// Writes the limits, placed for this host beforehand
    /// ([`place`](super::place())); an error names the config key.
    pub fn apply(&self, sys: &dyn Sys, writes: &[Placed]) -> Result<(), CgroupError> {
        for w in writes {
            let t = &w.setting;
            let dir = self.dir_for(t).ok_or_else(|| {
                self.setting_error(
                    &w.key,
                    format!(
                        "controller `{}` is not available on this host",
                        t.controller()
                    ),
                )
            })?;
            self.enable_v2(sys, t, dir)?;
            let file = dir.path.join(&t.file);
            sys.write_file(&file, t.value.as_bytes())
                .map_err(|e| self.setting_error(&w.key, format!("writing `{}`: {e}", t.value)))?;
        }
        Ok(())
    }

    fn setting_error(&self, key: &str, why: String) -> CgroupError {
        CgroupError::Setting {
            name: self.name.clone(),
            key: key.to_string(),
            why,
        }
    }

    /// The directory whose hierarchy has the setting's controller.
    fn dir_for(&self, s: &CgroupSetting) -> Option<&Dir> {
        let ctrl = s.controller();
        match s.version {
            Version::V1 => self
                .dirs
                .iter()
                .find(|d| !d.unified && d.controllers.iter().any(|c| c == ctrl)),
            Version::V2 => {
                // cgroup.* and the core files exist without a controller.
                let core = ctrl == "cgroup";
                self.dirs.iter().find(|d| {
                    d.unified && (core || self.unified_controllers.iter().any(|c| c == ctrl))
                })
            }
        }
    }

    /// On cgroup2 a controller must be enabled in the parent's subtree_control.
    fn enable_v2(&self, sys: &dyn Sys, s: &CgroupSetting, dir: &Dir) -> Result<(), CgroupError> {
        if !dir.unified || s.controller() == "cgroup" {
            return Ok(());
        }
        // Every directory between the existing parent and the leaf that this
        // start made (lxc.cgroup.dir = a/b) must pass the controller down,
        // outermost first.
        let mut chain: Vec<&Path> = dir
            .path
            .ancestors()
            .skip(1)
            .take_while(|p| self.made_parents.iter().any(|m| m == p))
            .collect();
        let top = chain.last().copied().unwrap_or(&dir.path);
        chain.extend(top.parent());
        for parent in chain.into_iter().rev() {
            let ctl = parent.join("cgroup.subtree_control");
            if read_trim(&ctl).is_some_and(|v| v.split_whitespace().any(|c| c == s.controller())) {
                continue;
            }
            sys.write_file(&ctl, format!("+{}", s.controller()).as_bytes())
                .map_err(self.sys_err("enabling the controller"))?;
        }
        Ok(())
    }

    /// Reads a cgroup file by its name (`memory.usage_in_bytes`, `memory.current`).
    pub fn read(&self, file: &str) -> Option<String> {
        self.file_path(file).and_then(|p| read_trim(&p))
    }

    /// The path of a cgroup file by name, in the hierarchy that has it.
    pub fn file_path(&self, file: &str) -> Option<PathBuf> {
        let ctrl = file.split('.').next().unwrap_or("");
        self.dirs
            .iter()
            .filter(|d| d.unified || d.controllers.iter().any(|c| c == ctrl) || ctrl == "cgroup")
            .map(|d| d.path.join(file))
            .find(|p| p.exists())
    }

    /// The pids in the container's cgroup (the first hierarchy that lists any).
    pub fn procs(&self) -> Vec<i32> {
        self.dirs
            .iter()
            .map(|d| tree_procs(&d.path))
            .find(|p| !p.is_empty())
            .unwrap_or_default()
    }

    /// Removes every directory (children first). Returns every failure.
    pub fn remove(&self, sys: &dyn Sys) -> Vec<CgroupError> {
        let mut errors = Vec::new();
        for d in &self.dirs {
            // The last processes of a killed container may still be on their
            // way out (EBUSY) for a moment after init is reaped: retried for 1 s.
            let mut result = remove_tree(sys, &d.path);
            for _ in 0..100 {
                match &result {
                    Err(e) if e.errno() == Some(nix::Error::EBUSY) => {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                        result = remove_tree(sys, &d.path);
                    }
                    _ => break,
                }
            }
            if let Err(e) = result {
                if e.errno() != Some(nix::Error::ENOENT) {
                    errors.push((self.sys_err("removing"))(e));
                }
            }
        }
        for p in &self.made_parents {
            // Another container may share the parent: then it stays.
            let _ = sys.rmdir(p);
        }
        errors
    }

    /// Sends `signal` to every process in the container's cgroups (what is
    /// left when init is gone), returns how many were signalled.
    pub fn kill_all(&self, sys: &dyn Sys, signal: i32) -> usize {
        self.procs()
            .into_iter()
            .filter(|p| sys.kill(*p, signal).is_ok())
            .count()
    }

    /// Saves the directories to `file` (JSON), so a later start can clean up.
    pub fn record(&self, file: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string(self).map_err(std::io::Error::other)?;
        let tmp = file.with_extension("tmp");
        std::fs::File::create(&tmp)?.write_all(text.as_bytes())?;
        std::fs::rename(&tmp, file)
    }

    /// Reads what [`record`](Self::record) saved.
    pub fn recorded(file: &Path) -> Option<ContainerCgroups> {
        serde_json::from_str(&std::fs::read_to_string(file).ok()?).ok()
    }
}

pub(super) fn read_trim(p: &Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Pids in a cgroup directory and every child directory.
fn tree_procs(dir: &Path) -> Vec<i32> {
    let mut pids: Vec<i32> = std::fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    for sub in subdirs(dir) {
        pids.extend(tree_procs(&sub));
    }
    pids
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// `rmdir` children first (a cgroup directory only goes with `rmdir`).
fn remove_tree(sys: &dyn Sys, dir: &Path) -> Result<(), SysError> {
    // Usually there are no child cgroups: try the directory alone first.
    if sys.rmdir(dir).is_ok() {
        return Ok(());
    }
    for sub in subdirs(dir) {
        remove_tree(sys, &sub)?;
    }
    sys.rmdir(dir)
}

#[cfg(test)]
#[path = "manager_tests.rs"]
mod tests;
