//! `rlxc usernsexec`: parse, one core call, the command's exit status.

use rlxc_core::userns::{self, exec::UsernsExec};

use super::Failure;
use crate::args::usernsexec::UsernsexecArgs;

/// Runs the command in a new user namespace; exits with its status.
pub fn run(a: &UsernsexecArgs) -> anyhow::Result<()> {
    let maps = a
        .maps
        .iter()
        .map(|m| userns::parse_cli_map(m).map_err(|e| anyhow::anyhow!("-m {m}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let code = userns::usernsexec(&UsernsExec {
        maps,
        map_self: a.map_self,
        uid: a.uid,
        gid: a.gid,
        cmd: a.cmd.clone(),
    })?;
    if code == 0 {
        return Ok(());
    }
    Err(Failure {
        code,
        message: None,
    }
    .into())
}
