//! `rlxc install-links DIR`.

use std::path::PathBuf;

use clap::Args;

/// `install-links DIR [--templates TDIR] [--force]`.
#[derive(Debug, Args)]
pub struct InstallLinksArgs {
    /// Where to create the lxc-* symlinks (e.g. /usr/local/bin).
    pub dir: PathBuf,
    /// Also `lxc-NAME` links for every built-in template in TDIR, so that
    /// LXC's own lxc-create (or a user, as in `lxc-debian --clean`) runs
    /// rlxc's templates where it expects its scripts.
    #[arg(long, value_name = "TDIR")]
    pub templates: Option<PathBuf>,
    /// Replace existing files of the same names.
    #[arg(long)]
    pub force: bool,
}
