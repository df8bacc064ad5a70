//! LXC's common options (`-P`, `-o`, `-l`, `-q`, `--rcfile`) and the output format.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// Options every container command takes.
#[derive(Debug, Clone, Default, Args)]
pub struct Common {
    /// Use this container root instead of the system's lxc.lxcpath.
    #[arg(short = 'P', long = "lxcpath", value_name = "PATH")]
    pub lxcpath: Option<PathBuf>,
    /// Write the log to FILE.
    #[arg(short = 'o', long = "logfile", value_name = "FILE")]
    pub logfile: Option<PathBuf>,
    /// Log level: FATAL, ALERT, CRIT, ERROR, WARN, NOTICE, INFO, DEBUG or TRACE.
    #[arg(short = 'l', long = "logpriority", value_name = "LEVEL")]
    pub logpriority: Option<String>,
    /// Print nothing but errors.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// Load this config file instead of the container's own.
    #[arg(long = "rcfile", value_name = "FILE")]
    pub rcfile: Option<PathBuf>,
}

/// [`Common`] for commands whose `-o` means something else (LXC's
/// `lxc-start-ephemeral -o ORIG`, `lxc-backup -o FILE`): the log file is
/// `--logfile` only.
#[derive(Debug, Clone, Default, Args)]
pub struct CommonLongLog {
    /// Use this container root instead of the system's lxc.lxcpath.
    #[arg(short = 'P', long = "lxcpath", value_name = "PATH")]
    pub lxcpath: Option<PathBuf>,
    /// Write the log to FILE.
    #[arg(long = "logfile", value_name = "FILE")]
    pub logfile: Option<PathBuf>,
    /// Log level: FATAL, ALERT, CRIT, ERROR, WARN, NOTICE, INFO, DEBUG or TRACE.
    #[arg(short = 'l', long = "logpriority", value_name = "LEVEL")]
    pub logpriority: Option<String>,
    /// Print nothing but errors.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
}

impl CommonLongLog {
    /// The same as the other commands take them.
    pub fn common(&self) -> Common {
        Common {
            lxcpath: self.lxcpath.clone(),
            logfile: self.logfile.clone(),
            logpriority: self.logpriority.clone(),
            quiet: self.quiet,
            rcfile: None,
        }
    }
}

/// How results are printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    #[default]
    Human,
    /// One JSON document on stdout.
    Json,
}
