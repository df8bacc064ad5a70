//! LXC's template scripts as rlxc templates: `-t NAME` finds `lxc-NAME` in
//! LXC's template directory when no built-in template has that name, and
//! `-t /path/to/script` runs any executable. The script is called with LXC's
//! convention (`--path DIR --name NAME --rootfs ROOTFS` then the user's
//! arguments), so LXC's own templates run unchanged.
//!
//! The host tools a known script needs are checked first and named when
//! missing ([`super::prerequisites`]).
//!
//! LXC writes the container's config before it calls a script, and scripts
//! read it (`lxc.rootfs.path`) and append their keys to it. rlxc does the
//! same in the staging directory and takes back what the script added.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use crate::sys::{Sys, SysError, Tool};
use crate::template::{Template, TemplateError, TemplateOutput, TemplateRequest};

/// Where Debian's `lxc-templates` puts LXC's scripts.
pub const TEMPLATE_DIR: &str = "/usr/share/lxc/templates";

/// A template script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalTemplate {
    label: String,
    path: PathBuf,
}

impl ExternalTemplate {
    /// The script for `-t NAME`: a path (absolute, or containing `/`) to an
    /// executable, or `lxc-NAME` in `dir`.
    pub fn find(name: &str, dir: &Path) -> Option<ExternalTemplate> {
        let path = if name.contains('/') {
            PathBuf::from(name)
        } else {
            dir.join(format!("lxc-{name}"))
        };
        is_executable(&path).then(|| ExternalTemplate {
            label: path.display().to_string(),
            path,
        })
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The config a script finds in `--path`: what LXC has written by then.
fn seed(req: &TemplateRequest) -> String {
    format!(
        "lxc.rootfs.path = dir:{}\nlxc.uts.name = {}\n",
        req.rootfs.display(),
        req.name
    )
}

/// The lines a script added to the seeded config (our rootfs line wins).
pub fn added_lines(seed: &str, after: &str) -> Vec<String> {
    let added = after.strip_prefix(seed).unwrap_or(after);
    added
        .lines()
        .filter(|l| !seed.lines().any(|s| s == *l))
        .filter(|l| !l.trim_start().starts_with("lxc.rootfs.path"))
        .map(str::to_string)
        .collect()
}

#[async_trait]
impl Template for ExternalTemplate {
    fn name(&self) -> &str {
        &self.label
    }

    fn maps_itself(&self) -> bool {
        true
    }

    fn help(&self) -> String {
        format!(
            "an LXC template script ({}); its own help:\n",
            self.path.display()
        )
    }

    fn help_tool(&self) -> Option<Tool> {
        Some(Tool::new(&self.path.display().to_string(), ["-h"]))
    }

    async fn create(
        &self,
        sys: &dyn Sys,
        req: &TemplateRequest,
    ) -> Result<TemplateOutput, TemplateError> {
        // Before anything runs: the host tools the script will need.
        let script = self
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let lacking =
            super::prerequisites::missing(&script, &req.args, super::prerequisites::on_path);
        if !lacking.is_empty() {
            return Err(TemplateError::Missing {
                template: self.label.clone(),
                what: lacking.join(" and "),
                hint: super::prerequisites::hint(&script, &lacking),
            });
        }
        let config = req.path.join("config");
        let io = |source| TemplateError::Io {
            template: self.label.clone(),
            path: config.clone(),
            source,
        };
        let seeded = seed(req);
        std::fs::write(&config, &seeded).map_err(io)?;
        let tool = Tool::new(&self.path.display().to_string(), req.lxc_args());
        let out = sys.run(&tool).await.map_err(|source| TemplateError::Sys {
            template: self.label.clone(),
            source,
        })?;
        for line in out.stdout_text().lines() {
            tracing::info!("{}: {line}", self.label);
        }
        if out.status != 0 {
            return Err(TemplateError::Sys {
                template: self.label.clone(),
                source: SysError::Failed {
                    command: tool.command_line(),
                    status: format!("exit status {}", out.status),
                    stderr: tail(&String::from_utf8_lossy(&out.stderr)),
                },
            });
        }
        let after = std::fs::read_to_string(&config).map_err(io)?;
        Ok(TemplateOutput {
            config_lines: added_lines(&seeded, &after),
        })
    }
}

/// The last lines of a script's stderr (where its reason usually is).
fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.trim().lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_scripts_by_name_or_path() {
        let d = tempfile::tempdir().unwrap();
        let script = d.path().join("lxc-mine");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        assert!(
            ExternalTemplate::find("mine", d.path()).is_none(),
            "not executable yet"
        );
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let t = ExternalTemplate::find("mine", d.path()).unwrap();
        assert_eq!(t.name(), script.display().to_string());
        assert!(
            ExternalTemplate::find(script.to_str().unwrap(), Path::new("/nonexistent")).is_some()
        );
        assert!(ExternalTemplate::find("other", d.path()).is_none());
    }

    #[test]
    fn takes_back_only_what_the_script_added() {
        let seed = "lxc.rootfs.path = dir:/s/rootfs\nlxc.uts.name = c1\n";
        let after =
            format!("{seed}lxc.signal.halt = SIGUSR1\nlxc.rootfs.path = /s/rootfs\n# a comment\n");
        assert_eq!(
            added_lines(seed, &after),
            vec!["lxc.signal.halt = SIGUSR1", "# a comment"]
        );
        // A script that rewrote the whole file: the seed lines are dropped.
        let rewritten = "lxc.uts.name = c1\nlxc.tty.max = 4\n";
        assert_eq!(added_lines(seed, rewritten), vec!["lxc.tty.max = 4"]);
    }
}
