//! The `Lsm` stage of a start: a generated AppArmor profile written to the
//! run directory and loaded with `apparmor_parser` before anything of the
//! container exists; removed again after the stop (or a failed start).
//! Only on hosts with AppArmor, and only when the plan generated a profile.

use super::launch::Launch;
use super::StartError;
use crate::run::apparmor_profile::{load_tool, unload_tool};

/// The profile's file in the run directory.
pub const PROFILE_FILE: &str = "apparmor.profile";

impl Launch {
    pub(super) fn load_profile(&mut self) -> Result<(), StartError> {
        let Some(g) = self.plan.spec.lsm.load.clone() else {
            return Ok(());
        };
        let file = self.run_dir.join(PROFILE_FILE);
        std::fs::write(&file, &g.text).map_err(self.io("writing the AppArmor profile"))?;
        let out = self
            .sys
            .run_blocking(&load_tool(&file, &self.run_dir))
            .map_err(self.sys_err("loading the AppArmor profile"))?;
        if out.status != 0 {
            return Err(StartError::Hook {
                name: self.plan.name.clone(),
                why: format!(
                    "lxc.apparmor.profile = generated: apparmor_parser refused profile `{}` ({}): {}",
                    g.name,
                    file.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            });
        }
        Ok(())
    }

    pub(super) fn unload_profile(&mut self) -> Vec<String> {
        if self.plan.spec.lsm.load.is_none() {
            return Vec::new();
        }
        let file = self.run_dir.join(PROFILE_FILE);
        let out = self.sys.run_blocking(&unload_tool(&file));
        let _ = std::fs::remove_file(&file);
        match out {
            Ok(o) if o.status == 0 => Vec::new(),
            Ok(o) => vec![format!(
                "container `{}`: removing its AppArmor profile: {}",
                self.plan.name,
                String::from_utf8_lossy(&o.stderr).trim()
            )],
            Err(e) => vec![format!(
                "container `{}`: removing its AppArmor profile: {e}",
                self.plan.name
            )],
        }
    }
}
