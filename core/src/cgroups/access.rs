//! `lxc-cgroup`'s access to one cgroup file of a running container, by a v1
//! or a v2 name: translated to the other version when this host keeps the
//! controller there.

use std::path::PathBuf;

use super::manager::{CgroupError, ContainerCgroups};
use super::translate::other_file;
use crate::config::cgroup::Version;
use crate::sys::Sys;

impl ContainerCgroups {
    /// The file behind `file` (a v1 or v2 name) on this host, translated to
    /// the other version when this host has it there (`lxc-cgroup` takes
    /// either); with the value translated too. `None`: no such file here.
    pub fn locate(
        &self,
        file: &str,
        value: Option<&str>,
    ) -> Option<(PathBuf, Option<String>, bool)> {
        if let Some(p) = self.file_path(file) {
            return Some((p, value.map(str::to_string), false));
        }
        [Version::V1, Version::V2].into_iter().find_map(|v| {
            let other = other_file(v, file, value)?;
            let p = self.file_path(&other.file)?;
            Some((p, value.map(|_| other.value.clone()), true))
        })
    }

    /// Reads cgroup file `file` (either version's name); the text as it is.
    pub fn get(&self, file: &str) -> Result<String, CgroupError> {
        let (path, _, _) = self.locate(file, None).ok_or_else(|| self.no_file(file))?;
        std::fs::read_to_string(&path).map_err(self.io(&path, "reading"))
    }

    /// Writes `value` to cgroup file `file` (either version's name); returns
    /// a note when the name or value was translated for this host.
    pub fn set(
        &self,
        sys: &dyn Sys,
        file: &str,
        value: &str,
    ) -> Result<Option<String>, CgroupError> {
        let (path, v, translated) = self
            .locate(file, Some(value))
            .ok_or_else(|| self.no_file(file))?;
        let v = v.unwrap_or_else(|| value.to_string());
        sys.write_file(&path, v.as_bytes())
            .map_err(self.sys_err(&format!("writing `{v}`")))?;
        Ok(translated.then(|| {
            format!(
                "`{file} = {value}` written as `{} = {v}` on this host",
                path.display()
            )
        }))
    }

    fn no_file(&self, file: &str) -> CgroupError {
        CgroupError::Setting {
            name: self.name.clone(),
            key: file.to_string(),
            why: "no such cgroup file on this host (in cgroup v1 or v2)".into(),
        }
    }
}
