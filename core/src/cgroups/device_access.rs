//! Device rules on a container's cgroups: written to the v1 `devices`
//! hierarchy and/or enforced by a cgroup2 device program, at start and when
//! `lxc-cgroup devices.allow|deny` changes them at run time. The program's
//! list is kept in the run directory (`devices`), so a change is applied to
//! the list in force and the whole program replaced in one attach.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::device_bpf::{bytes, program};
use super::devices::{DeviceList, DevicePolicy, DeviceRule};
use super::manager::{CgroupError, ContainerCgroups, Dir};
use crate::sys::Sys;

/// The run-directory file holding the list the cgroup2 program enforces.
pub fn device_record(run_dir: &Path) -> PathBuf {
    run_dir.join("devices")
}

impl ContainerCgroups {
    fn v1_devices(&self) -> Option<&Dir> {
        self.dirs
            .iter()
            .find(|d| !d.unified && d.controllers.iter().any(|c| c == "devices"))
    }

    fn unified(&self) -> Option<&Dir> {
        self.dirs.iter().find(|d| d.unified)
    }

    /// Applies `policy` before the container's init runs; the program's
    /// list is recorded in `run_dir` for later changes.
    pub fn apply_devices(
        &self,
        sys: &dyn Sys,
        policy: &DevicePolicy,
        run_dir: &Path,
    ) -> Result<(), CgroupError> {
        if let Some(dir) = self.v1_devices() {
            // One open per run of rules to the same file, in order.
            for run in policy.v1.chunk_by(|a, b| a.0.allow == b.0.allow) {
                let values: Vec<String> = run.iter().map(|(r, _)| r.value()).collect();
                let items: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
                let file = dir.path.join(run[0].0.file());
                sys.write_each(&file, &items).map_err(|(i, e)| {
                    let key = run[i].1.as_deref().unwrap_or("rlxc's default device list");
                    self.device_error(key, format!("writing `{}`: {e}", values[i]))
                })?;
            }
        }
        if let Some(list) = &policy.bpf {
            self.attach_program(sys, list)?;
            self.record_devices(list, run_dir)?;
        }
        Ok(())
    }

    fn write_rule(&self, sys: &dyn Sys, dir: &Dir, rule: &DeviceRule) -> Result<(), String> {
        sys.write_file(&dir.path.join(rule.file()), rule.value().as_bytes())
            .map_err(|e| format!("writing `{}`: {e}", rule.value()))
    }

    fn attach_program(&self, sys: &dyn Sys, list: &DeviceList) -> Result<(), CgroupError> {
        let dir = self.unified().ok_or_else(|| {
            self.device_error(
                "lxc.cgroup2.devices",
                "this host has no cgroup2 directory for the device program".into(),
            )
        })?;
        sys.attach_device_program(&dir.path, &bytes(&program(list)))
            .map_err(self.sys_err("attaching the device program"))
    }

    fn record_devices(&self, list: &DeviceList, run_dir: &Path) -> Result<(), CgroupError> {
        let file = device_record(run_dir);
        let text = serde_json::to_string(list).map_err(std::io::Error::other);
        let tmp = file.with_extension("tmp");
        text.and_then(|t| std::fs::File::create(&tmp)?.write_all(t.as_bytes()))
            .and_then(|()| std::fs::rename(&tmp, &file))
            .map_err(self.io(&file, "recording the device list"))
    }

    /// `lxc-cgroup -n CN devices.allow|deny RULE` on a running container:
    /// the v1 file written, the cgroup2 program (if the start attached one)
    /// rebuilt from its list and replaced. Returns false when the container
    /// enforces devices nowhere this could change.
    pub fn set_device(
        &self,
        sys: &dyn Sys,
        file: &str,
        value: &str,
        run_dir: &Path,
    ) -> Result<bool, CgroupError> {
        let rule = DeviceRule::parse(file == "devices.allow", value)
            .map_err(|why| self.device_error(file, why))?;
        let mut changed = false;
        if let Some(dir) = self.v1_devices() {
            self.write_rule(sys, dir, &rule)
                .map_err(|why| self.device_error(file, why))?;
            changed = true;
        }
        let record = device_record(run_dir);
        if let Ok(text) = std::fs::read_to_string(&record) {
            let mut list: DeviceList = serde_json::from_str(&text).map_err(|e| {
                self.io(&record, "reading the device list")(std::io::Error::other(e))
            })?;
            list.apply(&rule);
            self.attach_program(sys, &list)?;
            self.record_devices(&list, run_dir)?;
            changed = true;
        }
        Ok(changed)
    }

    fn device_error(&self, key: &str, why: String) -> CgroupError {
        CgroupError::Setting {
            name: self.name.clone(),
            key: key.to_string(),
            why,
        }
    }
}
