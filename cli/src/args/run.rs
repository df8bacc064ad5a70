//! `rlxc start` (lxc-start) and `rlxc execute` (lxc-execute).

use std::path::PathBuf;

use clap::Args;

use super::Common;

/// `start -n NAME [-d|-F] [-f FILE] [-s KEY=VAL]… [-c FILE] [-L FILE] [-p FILE] [-- COMMAND]`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// Run in the background (the default).
    #[arg(short = 'd', long = "daemon", conflicts_with = "foreground")]
    pub daemon: bool,
    /// Stay in the foreground; exit with init's status.
    #[arg(short = 'F', long = "foreground")]
    pub foreground: bool,
    /// Config file to use instead of the container's (same as --rcfile).
    #[arg(short = 'f', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override a config key: -s KEY=VALUE (repeatable).
    #[arg(short = 's', long = "define", value_name = "KEY=VALUE")]
    pub define: Vec<String>,
    /// Write console output to FILE (as -L).
    #[arg(short = 'c', long = "console", value_name = "FILE")]
    pub console: Option<PathBuf>,
    /// Log console output to FILE.
    #[arg(short = 'L', long = "console-log", value_name = "FILE")]
    pub console_log: Option<PathBuf>,
    /// Write init's pid to FILE.
    #[arg(short = 'p', long = "pidfile", value_name = "FILE")]
    pub pidfile: Option<PathBuf>,
    /// Run COMMAND as init instead of lxc.init.cmd.
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// `execute -n NAME [-f FILE] [-s KEY=VAL]… -- COMMAND…`.
#[derive(Debug, Args)]
pub struct ExecuteArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// Config file to use instead of the container's (same as --rcfile).
    #[arg(short = 'f', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override a config key: -s KEY=VALUE (repeatable).
    #[arg(short = 's', long = "define", value_name = "KEY=VALUE")]
    pub define: Vec<String>,
    /// Accepted for LXC compatibility (execute always runs in the foreground).
    #[arg(short = 'd', long = "daemon", hide = true)]
    pub daemon: bool,
    /// The command (default: lxc.execute.cmd).
    #[arg(last = true)]
    pub command: Vec<String>,
}
