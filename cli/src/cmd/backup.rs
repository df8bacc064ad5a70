//! `rlxc backup` and `rlxc restore` (lxc-backup, lxc-restore): parse, one
//! façade call per container, print.

use std::io::IsTerminal;

use rlxc_core::container::{archive, list_defined, Container};

use super::Ctx;
use crate::args::create::{BackupArgs, RestoreArgs};

/// Backs up one container (or every one), locally or to `-o FILE`.
pub fn backup(a: &BackupArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let name = a.name.clone().or(a.name_arg.clone());
    if let Some(file) = &a.output {
        let name =
            name.ok_or_else(|| anyhow::anyhow!("backup -o needs the container (-n NAME)"))?;
        let c = Container::load(&paths, &name, None, &[], false)?;
        let progress = std::io::stderr().is_terminal() && !a.common.quiet;
        c.backup_to(&ctx.registry, file, progress)?;
        if progress {
            eprintln!();
        }
        tracing::info!("container `{name}` written to {}", file.display());
        return Ok(());
    }
    let names = match name {
        Some(n) => vec![n],
        None => list_defined(&paths.lxcpath)?
            .into_iter()
            .map(|e| e.name)
            .collect(),
    };
    for n in names {
        let c = Container::load(&paths, &n, None, &[], false)?;
        let k = c.backup_local(&ctx.registry)?;
        println!("{n}: rootfs.backup.{k}");
    }
    Ok(())
}

/// Puts a backup back, or makes a container from an archive.
pub fn restore(a: &RestoreArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    if let Some(file) = &a.input {
        let storage = ctx.registry.storage(a.bdev.as_deref().unwrap_or("dir"))?;
        let name = archive::restore_from(&paths, file, a.name.as_deref(), &storage)?;
        tracing::info!("container `{name}` restored from {}", file.display());
        return Ok(());
    }
    let name = a.name.clone().ok_or_else(|| {
        anyhow::anyhow!("restore needs the container (-n NAME) or an archive (-i FILE)")
    })?;
    let c = Container::load(&paths, &name, None, &[], false)?;
    let k = c.restore_local(&ctx.registry, a.number)?;
    tracing::info!("container `{name}`: rootfs.backup.{k} restored");
    Ok(())
}
