//! `rlxc unpriv-start` / `rlxc unpriv-attach` (Debian's lxc-unpriv-start
//! and lxc-unpriv-attach).

use clap::Args;

/// `unpriv-start ARGS…`: `start ARGS…` in a delegated cgroup.
#[derive(Debug, Args)]
pub struct UnprivArgs {
    /// The arguments of `start` (or `attach`), as they are.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}
