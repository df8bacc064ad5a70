//! `rlxc config` (lxc-config, plus `check` and `show`).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Format;

/// `config [-l] [KEY]` or `config check|show …`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ConfigArgs {
    /// List the system config keys.
    #[arg(short = 'l', long = "list")]
    pub list: bool,
    /// A system config key to print (e.g. lxc.lxcpath).
    pub key: Option<String>,
    /// check or show container configs.
    #[command(subcommand)]
    pub action: Option<ConfigAction>,
}

/// What to do with container configs.
#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Parse container configs and report every error (file:line, key, why).
    Check(ConfigTarget),
    /// Print the effective configuration as this host would apply it.
    Show(ConfigTarget),
}

/// Which config: files, or a container by name.
#[derive(Debug, Args)]
pub struct ConfigTarget {
    /// Config files.
    pub files: Vec<PathBuf>,
    /// A container, by name (its config in the lxcpath).
    #[arg(short = 'n', long = "name")]
    pub name: Option<String>,
    /// The container root for -n.
    #[arg(short = 'P', long = "lxcpath", value_name = "PATH")]
    pub lxcpath: Option<PathBuf>,
    /// Override a key, as `lxc-start -s` does (repeatable).
    #[arg(short = 's', long = "define", value_name = "KEY=VAL")]
    pub define: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
