//! `rlxc start` and `rlxc execute`: load the container's config once, build
//! the run spec, take the lock, and hand over to the monitor.

use std::path::{Path, PathBuf};

use anyhow::bail;
use rlxc_core::config::load::Loader;
use rlxc_core::container::state::{query, State};
use rlxc_core::container::{ContainerLock, Paths};
use rlxc_core::run::warmup::Warmup;
use rlxc_core::run::{launch, serve, start_daemon, RunSpec, StartRequest};

use super::{exit_status, Ctx};
use crate::args::run::{ExecuteArgs, StartArgs};
use crate::args::Common;

/// Loads the container's config (or `rcfile`) with `-s` overrides, once.
/// `execute` may run a container that has no config at all.
pub fn load_spec(
    paths: &Paths,
    name: &str,
    rcfile: Option<&Path>,
    defines: &[String],
    allow_missing: bool,
) -> anyhow::Result<RunSpec> {
    let dir = paths.container_dir(name)?;
    let config = rcfile.map_or_else(|| dir.join("config"), Path::to_path_buf);
    let mut loader = Loader::new();
    if config.exists() {
        loader.file(&config, None);
    } else if rcfile.is_some() || !allow_missing {
        bail!(
            "container `{name}` does not exist (no config at {})",
            config.display()
        );
    }
    for d in defines {
        loader.override_item(d);
    }
    let cfg = loader
        .finish()
        .map_err(|e| anyhow::anyhow!("container `{name}`: {e}"))?;
    Ok(RunSpec::from_config(name, &dir, &cfg)?)
}

/// Refuses a running container and takes its lock.
fn lock(paths: &Paths, name: &str) -> anyhow::Result<ContainerLock> {
    let st = query(&paths.command_socket(name)?).state;
    if st != State::Stopped {
        bail!("container `{name}` is already running ({})", st.as_str());
    }
    Ok(ContainerLock::try_acquire(name, &paths.lock_file(name)?)?)
}

/// Says, on the caller's terminal, which NICs this build does not set up.
fn warn_nics(spec: &RunSpec) {
    for nic in spec.nics_not_set_up() {
        tracing::warn!(
            "container `{}`: {nic} is not set up by this rlxc yet (network backends come later); the container gets an empty network namespace with lo only",
            spec.name
        );
    }
}

fn log_to_container(common: &Common, spec: &RunSpec, paths: &Paths) -> anyhow::Result<()> {
    crate::logging::container_log(
        common,
        spec.log_file.as_deref(),
        &paths.log(&spec.name)?,
        spec.log_level.as_deref(),
    )
}

/// `rlxc start`.
pub fn start(a: &StartArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let warm = Warmup::start();
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let rc: Option<PathBuf> = a.config.clone().or(a.common.rcfile.clone());
    let spec = load_spec(&paths, &a.name, rc.as_deref(), &a.define, false)?;
    log_to_container(&a.common, &spec, &paths)?;
    warn_nics(&spec);
    if spec.rootfs.is_none() && a.command.is_empty() {
        bail!(
            "container `{}` has no rootfs (lxc.rootfs.path): use `execute` to run a command on the host's tree",
            a.name
        );
    }
    let argv = if a.command.is_empty() {
        spec.init_cmd.clone()
    } else {
        a.command.clone()
    };
    let req = StartRequest {
        spec,
        paths: paths.clone(),
        argv,
        execute: false,
        foreground: a.foreground,
        console_log: a.console_log.clone().or(a.console.clone()),
        pidfile: a.pidfile.clone(),
        inherited: term(),
    };
    let lock = lock(&paths, &a.name)?;
    if a.foreground {
        let launched = launch(req, lock, warm)?;
        return exit_status(serve(launched, None));
    }
    start_daemon(req, lock, warm)?;
    Ok(())
}

/// `rlxc execute`.
pub fn execute(a: &ExecuteArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let warm = Warmup::start();
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let rc: Option<PathBuf> = a.config.clone().or(a.common.rcfile.clone());
    let spec = load_spec(&paths, &a.name, rc.as_deref(), &a.define, true)?;
    log_to_container(&a.common, &spec, &paths)?;
    warn_nics(&spec);
    let argv = match (&a.command, &spec.execute_cmd) {
        (c, _) if !c.is_empty() => c.clone(),
        (_, Some(c)) => c.clone(),
        _ => bail!(
            "container `{}`: no command to execute (give one after `--` or set lxc.execute.cmd)",
            a.name
        ),
    };
    let mut inherited = term();
    for e in &spec.env {
        if !e.contains('=') {
            if let Ok(v) = std::env::var(e) {
                inherited.push((e.clone(), v));
            }
        }
    }
    let req = StartRequest {
        spec,
        paths: paths.clone(),
        argv,
        execute: true,
        foreground: true,
        console_log: None,
        pidfile: None,
        inherited,
    };
    let lock = lock(&paths, &a.name)?;
    let launched = launch(req, lock, warm)?;
    exit_status(serve(launched, None))
}

/// The caller's TERM, for programs on the container's terminal.
fn term() -> Vec<(String, String)> {
    std::env::var("TERM")
        .map(|t| vec![("TERM".to_string(), t)])
        .unwrap_or_default()
}
