//! `rlxc create` and `rlxc destroy`: parse, one façade call.

use std::collections::BTreeMap;

use rlxc_core::container::{Container, CreateOptions};

use super::Ctx;
use crate::args::create::{CreateArgs, DestroyArgs};

/// Creates a container.
pub fn run_create(a: &CreateArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let mut storage_options = BTreeMap::new();
    for (flag, v) in [
        ("dir", a.dir.as_ref().map(|d| d.display().to_string())),
        ("vgname", a.vgname.clone()),
        ("lvname", a.lvname.clone()),
        ("thinpool", a.thinpool.clone()),
        ("zfsroot", a.zfsroot.clone()),
    ] {
        if let Some(v) = v {
            storage_options.insert(flag.to_string(), v);
        }
    }
    let dir = Container::define(&paths, &a.name)?.create(
        &ctx.registry,
        &ctx.system,
        CreateOptions {
            template: a.template.clone(),
            template_args: a.template_args.clone(),
            config: a.config.clone(),
            backend: a.bdev.clone(),
            storage_options,
            fssize: a.fssize.clone(),
            fstype: a.fstype.clone(),
        },
    )?;
    tracing::info!("container `{}` created in {}", a.name, dir.display());
    Ok(())
}

/// Destroys a container.
pub fn run_destroy(a: &DestroyArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    Ok(Container::named(&paths, &a.name)?.destroy(&ctx.registry, a.force)?)
}
