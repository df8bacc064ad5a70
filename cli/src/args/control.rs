//! Commands that act on a running container: stop, shutdown, kill, freeze,
//! unfreeze, wait, cgroup, ps, console, attach.

use clap::Args;

use super::{Common, Format};

/// `-n NAME` plus the common options.
#[derive(Debug, Args)]
pub struct NameArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
}

/// `stop -n NAME [-t T] [-r] [-k] [--nokill]`.
#[derive(Debug, Args)]
pub struct StopArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// Reboot instead of stopping.
    #[arg(short = 'r', long = "reboot")]
    pub reboot: bool,
    /// Kill now (no clean shutdown).
    #[arg(short = 'k', long = "kill")]
    pub kill: bool,
    /// Do not kill when the timeout passes.
    #[arg(long = "nokill")]
    pub nokill: bool,
    /// Seconds to wait for a clean shutdown (-1: forever, 0: kill now).
    #[arg(
        short = 't',
        long = "timeout",
        default_value_t = 60,
        allow_hyphen_values = true
    )]
    pub timeout: i64,
    /// Accepted for LXC compatibility.
    #[arg(long = "nolock", hide = true)]
    pub nolock: bool,
    /// Accepted for LXC compatibility.
    #[arg(short = 'W', long = "nowait", hide = true)]
    pub nowait: bool,
}

/// Legacy `shutdown -n NAME [-t T] [-r] [-w]` (LXC 0.x).
#[derive(Debug, Args)]
pub struct ShutdownArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// Seconds to wait (then kill); default: wait forever.
    #[arg(short = 't', long = "timeout", allow_hyphen_values = true)]
    pub timeout: Option<i64>,
    /// Reboot.
    #[arg(short = 'r', long = "reboot")]
    pub reboot: bool,
    /// Wait for the shutdown (the default).
    #[arg(short = 'w', long = "wait")]
    pub wait: bool,
}

/// `kill -n NAME [SIGNAL]`.
#[derive(Debug, Args)]
pub struct KillArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// Signal name or number (default SIGKILL).
    #[arg(default_value = "SIGKILL")]
    pub signal: String,
}

/// `wait -n NAME -s STATES [-t T]`.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// States to wait for, `|`-separated (e.g. 'RUNNING|FROZEN').
    #[arg(short = 's', long = "state")]
    pub state: String,
    /// Seconds to wait (-1: forever).
    #[arg(short = 't', long = "timeout", default_value_t = -1, allow_hyphen_values = true)]
    pub timeout: i64,
}

/// `cgroup -n NAME KEY [VALUE]`.
#[derive(Debug, Args)]
pub struct CgroupArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// The cgroup file, e.g. memory.limit_in_bytes or memory.max.
    pub key: String,
    /// A value to write.
    pub value: Option<String>,
}

/// `ps -n NAME [-- PS OPTIONS]`.
#[derive(Debug, Args)]
pub struct PsArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// Options for ps(1).
    #[arg(last = true)]
    pub ps_args: Vec<String>,
}

/// `netstat -n NAME [-- NETSTAT OPTIONS]` (the guide's lxc-netstat).
#[derive(Debug, Args)]
pub struct NetstatArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// Options for netstat(8) (or ss(8) where net-tools is missing).
    #[arg(last = true)]
    pub args: Vec<String>,
}

/// `console -n NAME [-t N] [-e ESC]`.
#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// tty number (0 = /dev/console; default: the first free tty).
    #[arg(short = 't', long = "tty")]
    pub tty: Option<u32>,
    /// Escape letter: Ctrl+<letter> then q leaves (default a).
    #[arg(short = 'e', long = "escape", default_value = "a")]
    pub escape: char,
}

/// `attach -n NAME [options] [-- COMMAND…]`.
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// Start with an empty environment (the default).
    #[arg(long = "clear-env", conflicts_with = "keep_env")]
    pub clear_env: bool,
    /// Keep the caller's environment.
    #[arg(long = "keep-env")]
    pub keep_env: bool,
    /// Set VAR=VALUE (or pass VAR through) in the environment (repeatable).
    #[arg(short = 'v', long = "set-var", value_name = "VAR[=VALUE]")]
    pub set_var: Vec<String>,
    /// Namespaces to enter, `|`-separated: MOUNT|PID|UTSNAME|IPC|NETWORK|USER|CGROUP.
    #[arg(short = 's', long = "namespaces")]
    pub namespaces: Option<String>,
    /// Elevated privileges: keep capabilities and the caller's cgroup.
    #[arg(short = 'e', long = "elevated-privileges")]
    pub elevated: bool,
    /// Run as this uid (default lxc.init.uid).
    #[arg(short = 'u', long = "uid")]
    pub uid: Option<u32>,
    /// Run as this gid (default lxc.init.gid).
    #[arg(short = 'g', long = "gid")]
    pub gid: Option<u32>,
    /// The command (default: the user's shell).
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// `info -n NAME [-s] [-p] [-i] [-S] [-H] [-c KEY]…`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// Show the state.
    #[arg(short = 's', long = "state")]
    pub state: bool,
    /// Show the pid.
    #[arg(short = 'p', long = "pid")]
    pub pid: bool,
    /// Show the IP addresses.
    #[arg(short = 'i', long = "ips")]
    pub ips: bool,
    /// Show resource use.
    #[arg(short = 'S', long = "stats")]
    pub stats: bool,
    /// Raw numbers (no KiB/MiB).
    #[arg(short = 'H', long = "no-humanize")]
    pub no_humanize: bool,
    /// Show a config key (repeatable).
    #[arg(short = 'c', long = "config", value_name = "KEY")]
    pub config: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `monitor [-n REGEX]`.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Containers to watch: a regular expression (default: all).
    #[arg(short = 'n', long = "name", default_value = ".*")]
    pub name: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `list` (the 12.04 guide's lxc-list).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
}
