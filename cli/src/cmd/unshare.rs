//! `rlxc unshare` (lxc-unshare): parse, run through core, pass the status on.

use super::exit_status;
use crate::args::unshare::UnshareArgs;

/// Runs the command; the exit status is the command's.
pub fn run(a: &UnshareArgs) -> anyhow::Result<()> {
    exit_status(rlxc_core::run::unshare::run(
        &rlxc_core::run::unshare::UnshareArgs {
            namespaces: a.namespaces.clone(),
            user: a.user.clone(),
            hostname: a.hostname.clone(),
            remount: a.remount,
            command: a.command.clone(),
        },
    )?)
}
