//! The template trait: what fills a new rootfs.
//!
//! Besides built-in templates, any executable `lxc-NAME` in the template
//! directory (or an absolute path) is a template, called with LXC's argument
//! convention: `--path DIR --name NAME --rootfs ROOTFS [--mapped-uid U --mapped-gid G]`
//! followed by the user's arguments after `--`.

use std::fmt;
use std::path::PathBuf;

use async_trait::async_trait;

use crate::sys::{Sys, SysError};

/// What a template is asked to build.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateRequest {
    /// Container name.
    pub name: String,
    /// Container directory (`--path`).
    pub path: PathBuf,
    /// The rootfs to fill (`--rootfs`), already created and mounted.
    pub rootfs: PathBuf,
    /// Arguments the user gave after `--`.
    pub args: Vec<String>,
    /// Root of the idmap, for unprivileged containers.
    pub mapped_uid: Option<u32>,
    /// Group root of the idmap.
    pub mapped_gid: Option<u32>,
    /// The template cache directory (`/var/cache/lxc`).
    pub cache_dir: PathBuf,
    /// The container's network interfaces by their names inside it
    /// (`eth0` …), from the config it starts with: a template writes the
    /// guest's network config for these.
    pub nics: Vec<String>,
    /// `lxc.tty.max` of the config it starts with, when that sets it (a
    /// template then runs a getty on each and does not set it again).
    pub tty_max: Option<u32>,
    /// `-q`: long steps show no progress even on a terminal.
    pub quiet: bool,
    /// The new rootfs as its backend sees it, when the template fills it in
    /// place: a template that keeps a cache can have the backend make its
    /// entries as volumes and the rootfs a snapshot of one.
    pub volume: Option<RootfsVolume>,
}

/// A new rootfs and its backend, handed to a template.
#[derive(Clone)]
pub struct RootfsVolume {
    /// The backend.
    pub storage: std::sync::Arc<dyn crate::storage::Storage>,
    /// The rootfs.
    pub spec: crate::storage::RootfsSpec,
}

impl fmt::Debug for RootfsVolume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RootfsVolume({})", self.spec)
    }
}

impl PartialEq for RootfsVolume {
    fn eq(&self, other: &Self) -> bool {
        self.storage.name() == other.storage.name() && self.spec == other.spec
    }
}

impl Eq for RootfsVolume {}

impl TemplateRequest {
    /// LXC's argument list for an external template script.
    pub fn lxc_args(&self) -> Vec<String> {
        let mut args = vec![
            "--path".to_string(),
            self.path.display().to_string(),
            "--name".to_string(),
            self.name.clone(),
            "--rootfs".to_string(),
            self.rootfs.display().to_string(),
        ];
        if let (Some(u), Some(g)) = (self.mapped_uid, self.mapped_gid) {
            args.extend([
                "--mapped-uid".into(),
                u.to_string(),
                "--mapped-gid".into(),
                g.to_string(),
            ]);
        }
        args.extend(self.args.iter().cloned());
        args
    }
}

/// What a template produced besides the rootfs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateOutput {
    /// Config lines to append to the container's config.
    pub config_lines: Vec<String>,
}

/// A template failure.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The user's template arguments are wrong.
    #[error("template `{template}`: {reason}")]
    Usage {
        /// Template name.
        template: String,
        /// What is wrong.
        reason: String,
    },
    /// A host prerequisite is missing (a package, a binary).
    #[error("template `{template}`: missing on this host: {what}; {hint}")]
    Missing {
        /// Template name.
        template: String,
        /// What is missing.
        what: String,
        /// How to get it.
        hint: String,
    },
    /// A file operation failed.
    #[error("template `{template}`: {path}: {source}")]
    Io {
        /// Template name.
        template: String,
        /// Path involved.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A tool failed.
    #[error("template `{template}`: {source}")]
    Sys {
        /// Template name.
        template: String,
        /// The error.
        source: SysError,
    },
}

/// A template. Runs on the host side, against a rootfs that is already mounted.
#[async_trait]
pub trait Template: Send + Sync + fmt::Debug {
    /// The name used in `-t NAME`.
    fn name(&self) -> &str;

    /// Help for the template's own arguments (`create -t NAME -h`).
    fn help(&self) -> String;

    /// A program whose output is the rest of that help (a script's own
    /// `-h`), run by the caller through its `Sys`.
    fn help_tool(&self) -> Option<crate::sys::Tool> {
        None
    }

    /// Whether the template maps its files' owners itself when told
    /// `--mapped-uid` (LXC's scripts); rlxc shifts a built-in template's
    /// tree through the container's `lxc.idmap` afterwards instead.
    fn maps_itself(&self) -> bool {
        false
    }

    /// `--clean` (the guide's `SUITE=sid lxc-debian --clean`): removes
    /// what the template cached under `cache_dir` for `args` and returns the
    /// paths removed. A template without a cache has no `--clean`.
    fn clean(
        &self,
        _cache_dir: &std::path::Path,
        _args: &[String],
    ) -> Result<Vec<PathBuf>, TemplateError> {
        Err(TemplateError::Usage {
            template: self.name().to_string(),
            reason: "it has no `--clean`".into(),
        })
    }

    /// Fills `req.rootfs`. On failure the caller removes the rootfs; the template
    /// need not clean up after itself beyond its own temporary files.
    async fn create(
        &self,
        sys: &dyn Sys,
        req: &TemplateRequest,
    ) -> Result<TemplateOutput, TemplateError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lxc_argument_convention() {
        let req = TemplateRequest {
            name: "c1".into(),
            path: "/var/lib/lxc/c1".into(),
            rootfs: "/var/lib/lxc/c1/rootfs".into(),
            args: vec!["-r".into(), "bookworm".into()],
            mapped_uid: Some(100000),
            mapped_gid: Some(100000),
            cache_dir: "/var/cache/lxc".into(),
            nics: Vec::new(),
            tty_max: None,
            quiet: false,
            volume: None,
        };
        assert_eq!(
            req.lxc_args().join(" "),
            "--path /var/lib/lxc/c1 --name c1 --rootfs /var/lib/lxc/c1/rootfs \
             --mapped-uid 100000 --mapped-gid 100000 -r bookworm"
        );
    }
}
