//! `rlxc update-config` (lxc-update-config).

use std::path::PathBuf;

use clap::Args;

use super::Format;

/// `update-config -c FILE`.
#[derive(Debug, Args)]
pub struct UpdateConfigArgs {
    /// The config file to convert in place (FILE.backup keeps the original).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: PathBuf,
    /// Report what would change without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
