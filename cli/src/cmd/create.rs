//! `rlxc create` and `rlxc destroy`: parse, one façade call.

use std::collections::BTreeMap;

use rlxc_core::container::{Container, CopyOptions, CreateOptions, EphemeralOptions};

use super::Ctx;
use crate::args::create::{CloneArgs, CopyArgs, CreateArgs, DestroyArgs, StartEphemeralArgs};

/// Creates a container.
pub fn run_create(a: &CreateArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    if a.help {
        return create_help(a, &paths, ctx);
    }
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
            quiet: a.common.quiet,
        },
    )?;
    tracing::info!("container `{}` created in {}", a.name, dir.display());
    Ok(())
}

/// `create -h`: rlxc's options, then (with `-t`) the template's, as the
/// guide describes.
fn create_help(
    a: &CreateArgs,
    paths: &rlxc_core::container::Paths,
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let mut cmd = <crate::args::Cli as clap::CommandFactory>::command();
    if let Some(sub) = cmd.find_subcommand_mut("create") {
        println!("{}", sub.render_help());
    }
    if let Some(t) = &a.template {
        let help = Container::define(paths, "help")?.template_help(&ctx.registry, t)?;
        println!("\nOptions of template `{t}` (after `--`):\n{help}");
    }
    Ok(())
}

/// Destroys a container.
pub fn run_destroy(a: &DestroyArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    Ok(Container::named(&paths, &a.name)?.destroy(&ctx.registry, a.force, a.snapshots)?)
}

/// Copies a container (lxc-copy).
pub fn run_copy(a: &CopyArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let size = a
        .fssize
        .as_deref()
        .map(rlxc_core::config::value::byte_size)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--fssize: {e}"))?;
    let o = CopyOptions {
        new_name: a.newname.clone(),
        new_lxcpath: a.newpath.clone(),
        snapshot: a.snapshot,
        backend: a.backend.clone(),
        keep_name: a.keepname,
        keep_mac: a.keepmac,
        storage_request: rlxc_core::storage::CreateRequest {
            size,
            options: a
                .zfsroot
                .iter()
                .map(|z| ("zfsroot".to_string(), z.clone()))
                .collect(),
            ..Default::default()
        },
        hook_args: if a.ephemeral {
            Vec::new()
        } else {
            a.hook_args.clone()
        },
    };
    if a.ephemeral {
        let e = EphemeralOptions {
            copy: o,
            keep: a.keepdata,
            tmpfs: a.tmpfs,
            mounts: a.mount.clone(),
            command: a.hook_args.clone(),
            foreground: a.foreground,
            user: None,
        };
        return ephemeral(&paths, &a.name, e, ctx);
    }
    if a.rename {
        let origin = Container::load(&paths, &a.name, None, &[], false)?;
        origin.rename(&ctx.registry, o)?;
        return Ok(());
    }
    copy(&paths, &a.name, o, ctx)
}

/// The guide's lxc-start-ephemeral: an ephemeral copy, in the foreground
/// unless -d or a command.
pub fn run_start_ephemeral(a: &StartEphemeralArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let mut e = EphemeralOptions {
        copy: CopyOptions {
            new_name: a.name.clone().unwrap_or_default(),
            keep_name: a.keepname,
            ..CopyOptions::default()
        },
        command: a.command.clone(),
        foreground: !a.daemon,
        ..EphemeralOptions::default()
    };
    if let Some(u) = &a.user {
        let user = nix::unistd::User::from_name(u)?
            .ok_or_else(|| anyhow::anyhow!("-b {u}: no such user on this host"))?;
        e.mounts.push(format!("bind={}", user.dir.display()));
        e.user = Some((user.uid.as_raw(), user.gid.as_raw()));
    }
    ephemeral(&paths, &a.orig, e, ctx)
}

fn ephemeral(
    paths: &rlxc_core::container::Paths,
    name: &str,
    e: EphemeralOptions,
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let origin = Container::load(paths, name, None, &[], false)?;
    let with_command = !e.command.is_empty();
    let (new, code) = origin.copy_ephemeral(&ctx.registry, e)?;
    if !with_command {
        println!("Created {new} as clone of {name}");
    }
    super::exit_status(code)
}

/// The guide's lxc-clone: the same copy.
pub fn run_clone(a: &CloneArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(a.lxcpath.as_deref());
    let o = CopyOptions {
        new_name: a.new.clone(),
        new_lxcpath: a.newpath.clone(),
        snapshot: a.snapshot,
        backend: a.backend.clone(),
        keep_name: a.keepname,
        keep_mac: a.keepmac,
        hook_args: a.hook_args.clone(),
        ..CopyOptions::default()
    };
    copy(&paths, &a.orig, o, ctx)
}

fn copy(
    paths: &rlxc_core::container::Paths,
    name: &str,
    o: CopyOptions,
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let new = o.new_name.clone();
    let origin = Container::load(paths, name, None, &[], false)?;
    let dir = origin.copy(&ctx.registry, o)?;
    tracing::info!(
        "container `{new}` created in {} as a copy of `{name}`",
        dir.display()
    );
    Ok(())
}
