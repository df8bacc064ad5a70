//! The cgroups of one container: a directory in every mounted hierarchy (v1
//! controllers, `name=` hierarchies and cgroup2), the container's processes in
//! them, its limits written there, and all of it removed at stop.
//!
//! The directories are recorded in the runtime directory when made, so a start
//! after a monitor that died with SIGKILL finds and removes what it left.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::cgroup::{translate, CgroupSetting, Version};
use crate::host::cgroup::CgroupLayout;

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

    fn io(&self, path: &Path, what: &'static str) -> impl FnOnce(std::io::Error) -> CgroupError {
        let (name, path) = (self.name.clone(), path.to_path_buf());
        move |source| CgroupError::Io {
            name,
            path,
            what,
            source,
        }
    }

    /// Removes the directories of an earlier run (a monitor killed with
    /// SIGKILL); directories that still have processes are refused.
    pub fn remove_unused(&self) -> Result<(), CgroupError> {
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
            remove_tree(&d.path).map_err(self.io(&d.path, "removing the leftover"))?;
        }
        for p in &self.made_parents {
            let _ = std::fs::remove_dir(p);
        }
        Ok(())
    }

    /// Makes every directory, after removing unused leftovers (see
    /// [`remove_unused`](Self::remove_unused)).
    pub fn create(&mut self) -> Result<(), CgroupError> {
        self.remove_unused()?;
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
            for dir in missing.iter().chain(std::iter::once(&d.path)) {
                std::fs::create_dir(dir).map_err(self.io(dir, "creating"))?;
                if d.controllers.iter().any(|c| c == "cpuset") {
                    self.inherit_cpuset(dir)?;
                }
            }
            self.made_parents.extend(missing.into_iter().rev());
        }
        Ok(())
    }

    /// A new v1 cpuset is empty and refuses tasks: copy the parent's.
    fn inherit_cpuset(&self, dir: &Path) -> Result<(), CgroupError> {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let own = dir.join(file);
            if read_trim(&own).is_some_and(|v| !v.is_empty()) {
                continue;
            }
            let mut parent = dir.parent();
            while let Some(p) = parent {
                if let Some(v) = read_trim(&p.join(file)).filter(|v| !v.is_empty()) {
                    std::fs::write(&own, v).map_err(self.io(&own, "writing"))?;
                    break;
                }
                parent = p.parent();
            }
        }
        Ok(())
    }

    /// Puts process `pid` (and its threads) into every directory.
    pub fn attach(&self, pid: i32) -> Result<(), CgroupError> {
        for d in &self.dirs {
            let procs = d.path.join("cgroup.procs");
            std::fs::write(&procs, pid.to_string())
                .map_err(self.io(&procs, "adding the container's init"))?;
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

    /// Writes the limits. Each setting goes to a hierarchy that has its
    /// controller; a v1 key on a v2-only controller (or the reverse) is
    /// translated, and the translation is returned so it can be logged.
    pub fn apply(&self, settings: &[CgroupSetting]) -> Result<Vec<String>, CgroupError> {
        let mut notes = Vec::new();
        for s in settings {
            let targets = if self.dir_for(s).is_some() {
                vec![s.clone()]
            } else {
                let other = match s.version {
                    Version::V1 => Version::V2,
                    Version::V2 => Version::V1,
                };
                let report = translate(std::slice::from_ref(s), other);
                if let Some(u) = report.untranslatable.first() {
                    return Err(self.setting_error(s, u.note.clone()));
                }
                notes.extend(report.translated.iter().map(|t| t.note.clone()));
                report.settings
            };
            for t in &targets {
                let dir = self.dir_for(t).ok_or_else(|| {
                    self.setting_error(
                        s,
                        format!(
                            "controller `{}` is not available on this host",
                            t.controller()
                        ),
                    )
                })?;
                self.enable_v2(t, dir)?;
                let file = dir.path.join(&t.file);
                std::fs::write(&file, &t.value).map_err(|e| {
                    self.setting_error(
                        s,
                        format!("writing `{}` to {}: {e}", t.value, file.display()),
                    )
                })?;
            }
        }
        Ok(notes)
    }

    fn setting_error(&self, s: &CgroupSetting, why: String) -> CgroupError {
        CgroupError::Setting {
            name: self.name.clone(),
            key: s.key(),
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
    fn enable_v2(&self, s: &CgroupSetting, dir: &Dir) -> Result<(), CgroupError> {
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
            std::fs::write(&ctl, format!("+{}", s.controller()))
                .map_err(self.io(&ctl, "enabling the controller"))?;
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

    /// Freezes (`true`) or thaws every process, and waits until the kernel says
    /// it is done.
    pub fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        if let Some(d) = self
            .dirs
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == "freezer"))
        {
            let f = d.path.join("freezer.state");
            let want = if frozen { "FROZEN" } else { "THAWED" };
            std::fs::write(&f, want).map_err(self.io(&f, "writing"))?;
            // The v1 freezer has no notification: reading the state drives the
            // freeze forward, so re-read it (bounded, with short pauses).
            for _ in 0..2000 {
                if read_trim(&f).as_deref() == Some(want) {
                    return Ok(());
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            return Err(CgroupError::Io {
                name: self.name.clone(),
                path: f,
                what: "waiting for the freezer",
                source: std::io::Error::from(std::io::ErrorKind::TimedOut),
            });
        }
        let d = self
            .dirs
            .iter()
            .find(|d| d.unified)
            .ok_or_else(|| CgroupError::Setting {
                name: self.name.clone(),
                key: "freezer".into(),
                why: "this host has neither a v1 freezer nor cgroup2".into(),
            })?;
        let f = d.path.join("cgroup.freeze");
        std::fs::write(&f, if frozen { "1" } else { "0" }).map_err(self.io(&f, "writing"))?;
        wait_v2_frozen(&d.path.join("cgroup.events"), frozen)
            .map_err(self.io(&f, "waiting for the freeze"))
    }

    /// Removes every directory (children first). Returns every failure.
    pub fn remove(&self) -> Vec<CgroupError> {
        let mut errors = Vec::new();
        for d in &self.dirs {
            if let Err(e) = remove_tree(&d.path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    errors.push((self.io(&d.path, "removing"))(e));
                }
            }
        }
        for p in &self.made_parents {
            // Another container may share the parent: then it stays.
            let _ = std::fs::remove_dir(p);
        }
        errors
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

fn read_trim(p: &Path) -> Option<String> {
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
fn remove_tree(dir: &Path) -> std::io::Result<()> {
    // Usually there are no child cgroups: try the directory alone first.
    if std::fs::remove_dir(dir).is_ok() {
        return Ok(());
    }
    for sub in subdirs(dir) {
        remove_tree(&sub)?;
    }
    std::fs::remove_dir(dir)
}

/// Waits for `frozen 0|1` in cgroup2's `cgroup.events`, which the kernel
/// signals with POLLPRI.
fn wait_v2_frozen(events: &Path, frozen: bool) -> std::io::Result<()> {
    use std::io::{Read, Seek};
    use std::os::fd::AsRawFd;
    let want = if frozen { "frozen 1" } else { "frozen 0" };
    let mut f = std::fs::File::open(events)?;
    for _ in 0..100 {
        let mut s = String::new();
        f.seek(std::io::SeekFrom::Start(0))?;
        f.read_to_string(&mut s)?;
        if s.lines().any(|l| l == want) {
            return Ok(());
        }
        let mut pfd = libc::pollfd {
            fd: f.as_raw_fd(),
            events: libc::POLLPRI,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 100) };
    }
    Err(std::io::Error::from(std::io::ErrorKind::TimedOut))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(root: &Path) -> ContainerCgroups {
        let mut layout = CgroupLayout::fake_legacy(&["memory", "cpuset", "freezer"]);
        for h in &mut layout.v1 {
            h.mountpoint = root.join(h.mountpoint.file_name().unwrap());
            std::fs::create_dir_all(&h.mountpoint).unwrap();
        }
        std::fs::write(root.join("cpuset/cpuset.cpus"), "0-1\n").unwrap();
        ContainerCgroups::plan(&layout, "c1", "rlxc.payload.c1")
    }

    #[test]
    fn plans_one_directory_per_hierarchy() {
        let layout = CgroupLayout::fake_unified(&["memory"]);
        let c = ContainerCgroups::plan(&layout, "c1", "rlxc.payload.c1");
        assert_eq!(c.dirs.len(), 1);
        assert_eq!(c.dirs[0].path, Path::new("/sys/fs/cgroup/rlxc.payload.c1"));
        assert!(c.dirs[0].unified);
    }

    #[test]
    fn creates_inherits_cpuset_writes_and_removes() {
        let t = tempfile::tempdir().unwrap();
        let mut c = fake(t.path());
        c.create().unwrap();
        let cpus = t.path().join("cpuset/rlxc.payload.c1/cpuset.cpus");
        assert_eq!(std::fs::read_to_string(cpus).unwrap(), "0-1");
        let set = CgroupSetting::new(Version::V1, "memory.limit_in_bytes", "320000000");
        c.apply(&[set]).unwrap();
        assert_eq!(
            c.read("memory.limit_in_bytes").as_deref(),
            Some("320000000")
        );
        // A v2 key on a v1-only host is translated.
        let v2 = CgroupSetting::new(Version::V2, "memory.max", "1000000");
        let notes = c.apply(&[v2]).unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!(c.read("memory.limit_in_bytes").as_deref(), Some("1000000"));
        // A controller the host lacks is an error naming the key.
        let bad = CgroupSetting::new(Version::V1, "blkio.weight", "10");
        let e = c.apply(&[bad]).unwrap_err().to_string();
        assert!(e.contains("lxc.cgroup.blkio.weight"), "{e}");
        // Files created by the test make the plain rmdir fail here, which
        // proves errors are collected rather than ignored.
        assert!(!c.remove().is_empty());
    }

    #[test]
    fn v2_limits_enable_their_controller_and_nested_dirs_go_away() {
        let t = tempfile::tempdir().unwrap();
        let mut layout = CgroupLayout::fake_unified(&["memory", "pids"]);
        layout.unified = Some(t.path().to_path_buf());
        let mut c = ContainerCgroups::plan(&layout, "c1", "site/c1");
        c.create().unwrap();
        assert_eq!(c.made_parents, vec![t.path().join("site")]);
        c.apply(&[CgroupSetting::new(Version::V2, "pids.max", "64")])
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(t.path().join("site/cgroup.subtree_control")).unwrap(),
            "+pids"
        );
        assert_eq!(
            std::fs::read_to_string(t.path().join("cgroup.subtree_control")).unwrap(),
            "+pids"
        );
        assert_eq!(c.read("pids.max").as_deref(), Some("64"));
        // A v1 key is translated for a v2-only host.
        let notes = c
            .apply(&[CgroupSetting::new(
                Version::V1,
                "memory.limit_in_bytes",
                "1048576",
            )])
            .unwrap();
        assert!(!notes.is_empty());
        assert_eq!(c.read("memory.max").as_deref(), Some("1048576"));
        // Plain rmdir fails on this fake (files in it); the real cgroupfs
        // allows it. The parent is only removed when empty.
        for f in ["pids.max", "memory.max"] {
            std::fs::remove_file(t.path().join("site/c1").join(f)).unwrap();
        }
        std::fs::remove_file(t.path().join("site/cgroup.subtree_control")).unwrap();
        assert!(c.remove().is_empty());
        assert!(t.path().exists(), "the hierarchy root stays");
        assert!(!t.path().join("site").exists());
    }

    #[test]
    fn records_and_reads_back() {
        let t = tempfile::tempdir().unwrap();
        let c = fake(t.path());
        let f = t.path().join("cgroups");
        c.record(&f).unwrap();
        assert_eq!(ContainerCgroups::recorded(&f), Some(c));
    }
}
