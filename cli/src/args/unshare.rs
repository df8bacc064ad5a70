//! `rlxc unshare` (lxc-unshare).

use clap::Args;

/// `unshare -s 'MOUNT|PID|UTSNAME|IPC|NETWORK|USER' [-u USER] [-H HOST] [-M] -- CMD…`.
#[derive(Debug, Args)]
pub struct UnshareArgs {
    /// Namespaces to create, `|` separated (MOUNT, PID, UTSNAME, IPC, NETWORK, USER, CGROUP).
    #[arg(
        short = 's',
        long = "namespaces",
        default_value = "MOUNT|PID|UTSNAME|IPC|NETWORK"
    )]
    pub namespaces: String,
    /// Run the command as this user (name or uid).
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// Set this host name in the new UTS namespace.
    #[arg(short = 'H', long = "hostname")]
    pub hostname: Option<String>,
    /// Mount a fresh /proc (and /sys when possible), so tools like ps see the new pid namespace.
    #[arg(short = 'M', long = "remount")]
    pub remount: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}
