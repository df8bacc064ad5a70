//! `rlxc usernsexec` (lxc-usernsexec).

use clap::Args;

/// `usernsexec [-m MAP]… [-s] [-u UID] [-g GID] [-- CMD…]`.
#[derive(Debug, Args)]
pub struct UsernsexecArgs {
    /// An id map `u|g|b:NSID:HOSTID:RANGE` (more than one may be given);
    /// default: your own id as root and your /etc/subuid, /etc/subgid range from 1.
    #[arg(short = 'm', value_name = "MAP")]
    pub maps: Vec<String>,
    /// Also map your own uid and gid to themselves (by default, your
    /// subordinate range from 0 and your ids to themselves).
    #[arg(short = 's')]
    pub map_self: bool,
    /// The uid to run as inside (default 0).
    #[arg(short = 'u', value_name = "UID", default_value_t = 0)]
    pub uid: u32,
    /// The gid to run as inside (default 0).
    #[arg(short = 'g', value_name = "GID", default_value_t = 0)]
    pub gid: u32,
    /// The command (default /bin/sh).
    #[arg(last = true)]
    pub cmd: Vec<String>,
}
