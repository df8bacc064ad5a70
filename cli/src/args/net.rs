//! `rlxc net` (LXC's `lxc-net` job): the default bridge.

use clap::{Args, Subcommand};

use super::Format;

/// `net start|stop|status [--format json]`.
#[derive(Debug, Args)]
pub struct NetArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: NetAction,
    /// Output format of the status.
    #[arg(long, value_enum, default_value_t, global = true)]
    pub format: Format,
}

/// The three actions.
#[derive(Debug, Subcommand)]
pub enum NetAction {
    /// Make the bridge, its address, NAT and dnsmasq (idempotent).
    Start,
    /// Undo all of it (refused while containers are on the bridge, unless --force).
    Stop {
        /// Stop even with containers on the bridge.
        #[arg(long)]
        force: bool,
    },
    /// What is up.
    Status,
}
