//! `rlxc install-links DIR`.

use std::path::PathBuf;

use clap::Args;

/// `install-links DIR [--force]`.
#[derive(Debug, Args)]
pub struct InstallLinksArgs {
    /// Where to create the lxc-* symlinks (e.g. /usr/local/bin).
    pub dir: PathBuf,
    /// Replace existing files of the same names.
    #[arg(long)]
    pub force: bool,
}
