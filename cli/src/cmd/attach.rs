//! `rlxc attach` (lxc-attach): run a command inside a running container.

use rlxc_core::config::load::load_file;
use rlxc_core::run::attach::{attach, AttachRequest, NAMESPACES};
use rlxc_core::run::protocol::Request;
use rlxc_core::run::RunSpec;

use super::control::client;
use super::{exit_status, Ctx};
use crate::args::control::AttachArgs;

/// Runs the command and exits with its status.
pub fn run(a: &AttachArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let c = client(ctx, a.common.lxcpath.as_deref(), &a.name)?;
    let info = c.request(&Request::Info)?;
    let (Some(pid), Some(cgroups)) = (info.pid, info.cgroups) else {
        anyhow::bail!("container `{}`: its monitor reported no init", a.name);
    };
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let dir = paths.container_dir(&a.name)?;
    // Capabilities and ids come from the config the container runs with.
    let spec = match load_file(&dir.join("config")) {
        Ok(cfg) => Some(RunSpec::from_config(&a.name, &dir, &cfg)?),
        Err(_) => None,
    };
    let namespaces: Vec<String> = match &a.namespaces {
        Some(s) => {
            let list: Vec<String> = s
                .split('|')
                .map(|n| n.trim().to_ascii_uppercase())
                .collect();
            if let Some(bad) = list
                .iter()
                .find(|n| !NAMESPACES.iter().any(|(l, _, _)| l == n))
            {
                anyhow::bail!("-s: `{bad}` is not a namespace (MOUNT, PID, UTSNAME, IPC, NETWORK, USER, CGROUP)");
            }
            list
        }
        None => NAMESPACES.iter().map(|(l, _, _)| l.to_string()).collect(),
    };
    let req = AttachRequest {
        name: a.name.clone(),
        pid,
        cgroups,
        namespaces,
        argv: a.command.clone(),
        keep_env: a.keep_env,
        extra_env: a.set_var.clone(),
        elevated: a.elevated,
        uid: a.uid.or(spec.as_ref().map(|s| s.uid)).unwrap_or(0),
        gid: a.gid.or(spec.as_ref().map(|s| s.gid)).unwrap_or(0),
        cap_drop: spec
            .as_ref()
            .map(|s| s.cap_drop.clone())
            .unwrap_or_default(),
        cap_keep: spec
            .as_ref()
            .map(|s| s.cap_keep.clone())
            .unwrap_or_default(),
    };
    exit_status(attach(&req)?)
}
