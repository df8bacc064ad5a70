//! `rlxc unpriv-start` / `unpriv-attach`: the command line from the core,
//! then exec'd (the command's exit status is the result).

use std::os::unix::process::CommandExt;

use crate::args::unpriv::UnprivArgs;

/// Runs `rlxc COMMAND ARGS` in a delegated cgroup (see
/// `rlxc_core::cgroups::delegation::unpriv_argv`).
pub fn run(command: &str, a: &UnprivArgs) -> anyhow::Result<()> {
    let argv = rlxc_core::cgroups::delegation::unpriv_argv_here(command, &a.args)
        .map_err(anyhow::Error::msg)?;
    let e = std::process::Command::new(&argv[0]).args(&argv[1..]).exec();
    Err(anyhow::anyhow!("running {}: {e}", argv[0]))
}
