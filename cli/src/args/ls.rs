//! `rlxc ls` (lxc-ls).

use clap::Args;

use super::{Common, Format};

/// `ls [-1] [-f] [-F COLUMNS] [--running|--stopped|--frozen|--active|--defined] [FILTER]`.
#[derive(Debug, Args)]
// An option given twice keeps the last value, as with LXC's getopt (scripts
// pass `-g` or `-1` again on top of a default) instead of being an error.
#[command(args_override_self = true)]
pub struct LsArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// One container per line.
    #[arg(short = '1', long = "line")]
    pub line: bool,
    /// A table with state, autostart, groups and addresses.
    #[arg(short = 'f', long = "fancy")]
    pub fancy: bool,
    /// Columns of the fancy table, comma separated, any case; only with -f
    /// (NAME,STATE,PID,RAM,SWAP,AUTOSTART,GROUPS,INTERFACE,IPV4,IPV6,UNPRIVILEGED).
    #[arg(short = 'F', long = "fancy-format", value_name = "COLUMNS")]
    pub fancy_format: Option<String>,
    /// Only active containers (with a live monitor).
    #[arg(long)]
    pub active: bool,
    /// Only running containers (any state but STOPPED, so FROZEN too).
    #[arg(long)]
    pub running: bool,
    /// Only frozen containers.
    #[arg(long)]
    pub frozen: bool,
    /// Only stopped containers.
    #[arg(long)]
    pub stopped: bool,
    /// Only defined containers (the default: all of them).
    #[arg(long)]
    pub defined: bool,
    /// Only containers in every one of these groups (comma separated).
    #[arg(short = 'g', long = "groups", value_name = "GROUPS")]
    pub groups: Option<String>,
    /// Only names matching this regular expression (wins over FILTER).
    #[arg(long = "filter", value_name = "REGEX")]
    pub filter_opt: Option<String>,
    /// Only names matching this regular expression.
    pub filter: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
