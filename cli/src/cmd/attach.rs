//! `rlxc attach` (lxc-attach): run a command inside a running container.

use rlxc_core::container::AttachOptions;

use super::control::existing;
use super::{exit_status, Ctx};
use crate::args::control::AttachArgs;

/// Runs the command and exits with its status.
pub fn run(a: &AttachArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let named = existing(ctx, &a.common, &a.name)?;
    // The config the container runs with gives the ids and capabilities;
    // one that no longer loads is no reason to refuse an attach.
    let c = rlxc_core::container::Container::load(&named.paths, &a.name, None, &[], true)
        .unwrap_or(named);
    exit_status(c.attach(AttachOptions {
        namespaces: a.namespaces.clone(),
        argv: a.command.clone(),
        keep_env: a.keep_env,
        extra_env: a.set_var.clone(),
        elevated: a.elevated,
        uid: a.uid,
        gid: a.gid,
    })?)
}
