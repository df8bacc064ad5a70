//! `rlxc create` and `rlxc destroy`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use rlxc_core::config::value::byte_size;
use rlxc_core::container::create::{create, destroy, NewContainer};
use rlxc_core::container::state::{query, State};
use rlxc_core::storage::{CreateRequest, Storage};
use rlxc_core::sys::RealSys;
use rlxc_core::templates::external::{ExternalTemplate, TEMPLATE_DIR};

use super::Ctx;
use crate::args::create::{CreateArgs, DestroyArgs};

/// The order `-B best` tries backends in (LXC's).
const BEST: &[&str] = &["btrfs", "zfs", "lvm", "dir"];

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the I/O runtime")
}

fn storage(ctx: &Ctx, name: &str) -> anyhow::Result<Arc<dyn Storage>> {
    if name == "best" {
        return BEST
            .iter()
            .find_map(|b| ctx.registry.storage(b).ok())
            .context("no storage backend is available for -B best");
    }
    Ok(ctx.registry.storage(name)?)
}

fn options(args: &CreateArgs, ctx: &Ctx) -> anyhow::Result<CreateRequest> {
    let mut opts = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            opts.insert(k.to_string(), v);
        }
    };
    put("dir", args.dir.as_ref().map(|d| d.display().to_string()));
    put(
        "vgname",
        args.vgname
            .clone()
            .or_else(|| ctx.system.get("lxc.bdev.lvm.vg").ok().flatten()),
    );
    put("lvname", args.lvname.clone());
    put(
        "thinpool",
        args.thinpool
            .clone()
            .or_else(|| ctx.system.get("lxc.bdev.lvm.thin_pool").ok().flatten()),
    );
    put(
        "zfsroot",
        args.zfsroot
            .clone()
            .or_else(|| ctx.system.get("lxc.bdev.zfs.root").ok().flatten()),
    );
    let size = match &args.fssize {
        Some(s) => Some(
            byte_size(s)
                .map_err(anyhow::Error::msg)
                .context("--fssize")?,
        ),
        None => None,
    };
    Ok(CreateRequest {
        name: args.name.clone(),
        size,
        fstype: args.fstype.clone(),
        options: opts,
        ..CreateRequest::default()
    })
}

/// Creates a container.
pub fn run_create(args: &CreateArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(args.common.lxcpath.as_deref());
    let template = match &args.template {
        // Built-in templates first, then LXC's scripts (`lxc-NAME`, or a path).
        Some(t) => Some(match ctx.registry.template(t) {
            Ok(found) => found,
            Err(e) => match ExternalTemplate::find(t, Path::new(TEMPLATE_DIR)) {
                Some(script) => Arc::new(script),
                None => {
                    return Err(anyhow::Error::new(e).context(format!(
                        "no built-in template `{t}` and no executable {}",
                        if t.contains('/') {
                            t.clone()
                        } else {
                            format!("{TEMPLATE_DIR}/lxc-{t}")
                        }
                    )))
                }
            },
        }),
        None => None,
    };
    if template.is_none() && !args.template_args.is_empty() {
        bail!("template arguments were given after `--` but no template (-t)");
    }
    let new = NewContainer {
        name: args.name.clone(),
        storage: storage(ctx, &args.bdev)?,
        storage_request: options(args, ctx)?,
        template,
        template_args: args.template_args.clone(),
        base_config: Some(
            args.config
                .clone()
                .unwrap_or_else(|| ctx.system.default_config()),
        ),
        cache_dir: PathBuf::from("/var/cache/lxc"),
    };
    if let Some(f) = &args.config {
        if !f.is_file() {
            bail!("config file {} does not exist", f.display());
        }
    }
    let dir = runtime()?.block_on(create(&RealSys, &paths, new))?;
    tracing::info!("container `{}` created in {}", args.name, dir.display());
    Ok(())
}

/// Destroys a container.
pub fn run_destroy(args: &DestroyArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(args.common.lxcpath.as_deref());
    let state = query(&paths.command_socket(&args.name)?).state;
    if state != State::Stopped {
        if !args.force {
            bail!(
                "container `{}` is {}; stop it first or use -f",
                args.name,
                state.as_str()
            );
        }
        let client = rlxc_core::run::Client::new(&paths, &args.name)?;
        match client.stop(rlxc_core::run::protocol::StopKind::Kill, None, false) {
            Ok(()) | Err(rlxc_core::run::ClientError::NotRunning { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // What a monitor killed with SIGKILL left (its cgroups, its socket).
    rlxc_core::run::monitor::clean_stale(&paths, &args.name, &RealSys)?;
    let registry = &ctx.registry;
    runtime()?.block_on(destroy(&RealSys, &paths, &args.name, |spec| {
        registry.storage_for(spec).ok()
    }))?;
    Ok(())
}
