//! Command handlers: `run(args, ctx)` per command.

pub mod attach;
pub mod backup;
pub mod cache;
pub mod checkconfig;
pub mod config;
pub mod console;
pub mod control;
pub mod create;
pub mod info;
pub mod install_links;
pub mod ls;
pub mod monitor;
pub mod net;
pub mod run;
pub mod snapshot;
pub mod template_script;
pub mod unpriv;
pub mod unshare;
pub mod update_config;
pub mod usernsexec;
pub mod version;

use std::path::{Path, PathBuf};

use rlxc_core::config::SystemConfig;
use rlxc_core::container::Paths;
use rlxc_core::registry::Registry;

/// What every handler gets.
#[derive(Debug)]
pub struct Ctx {
    /// `/etc/lxc/lxc.conf` (or `RLXC_SYSTEM_CONFIG`).
    pub system: SystemConfig,
    /// The backends of this build.
    pub registry: Registry,
}

impl Ctx {
    /// The system config path: `RLXC_SYSTEM_CONFIG` when set (tests), else
    /// `~/.config/lxc/lxc.conf` for a user other than root, else `/etc/lxc/lxc.conf`.
    pub fn system_config_path(user: Option<&rlxc_core::config::user_dirs::UserDirs>) -> PathBuf {
        std::env::var_os("RLXC_SYSTEM_CONFIG").map_or_else(
            || rlxc_core::config::system::config_path(user),
            PathBuf::from,
        )
    }

    /// Paths for `-P` or the system lxcpath.
    pub fn paths(&self, lxcpath: Option<&Path>) -> Paths {
        Paths::new(lxcpath.map_or_else(|| self.system.lxcpath(), Path::to_path_buf))
    }
}

/// A command that ran and reports failure with an exit code (its output is already printed).
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub code: i32,
    /// A last message for stderr, if any.
    pub message: Option<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message.as_deref().unwrap_or(""))
    }
}

impl std::error::Error for Failure {}

/// A command's exit status passed through: 0 is success, anything else a
/// [`Failure`] with that code and no message of its own.
pub fn exit_status(code: i32) -> anyhow::Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(Failure {
            code,
            message: None,
        }
        .into())
    }
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
