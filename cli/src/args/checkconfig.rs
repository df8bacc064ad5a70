//! `rlxc checkconfig` (lxc-checkconfig) and `rlxc backends`.

use clap::Args;

use super::Format;

/// `checkconfig [--format json]`.
#[derive(Debug, Args)]
pub struct CheckconfigArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `backends [--format json]`.
#[derive(Debug, Args)]
pub struct BackendsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
