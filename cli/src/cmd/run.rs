//! `rlxc start` and `rlxc execute`: parse, plan through the façade, start.

use std::path::PathBuf;

use rlxc_core::container::Container;
use rlxc_core::run::warmup::Warmup;
use rlxc_core::start::{StartOptions, StartPlan};

use super::{exit_status, Ctx};
use crate::args::run::{ExecuteArgs, StartArgs};
use crate::args::Common;

/// Logs to the container's log file (`lxc.log.file` or `<name>.log`) unless `-o`.
fn log_to_container(common: &Common, plan: &StartPlan) -> anyhow::Result<()> {
    crate::logging::container_log(
        common,
        plan.spec.log_file.as_deref(),
        &plan.paths.log(&plan.name)?,
        plan.spec.log_level.as_deref(),
    )
}

/// `rlxc start`.
pub fn start(a: &StartArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let warm = Warmup::start();
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let rc: Option<PathBuf> = a.config.clone().or(a.common.rcfile.clone());
    let c = Container::load(&paths, &a.name, rc.as_deref(), &a.define, false)?;
    let plan = c.plan(
        &ctx.registry,
        StartOptions {
            command: a.command.clone(),
            execute: false,
            foreground: a.foreground,
            console_log: a.console_log.clone().or(a.console.clone()),
            pidfile: a.pidfile.clone(),
            inherited: Vec::new(),
        },
    )?;
    log_to_container(&a.common, &plan)?;
    exit_status(c.start(plan, warm)?)
}

/// `rlxc execute`.
pub fn execute(a: &ExecuteArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let warm = Warmup::start();
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let rc: Option<PathBuf> = a.config.clone().or(a.common.rcfile.clone());
    let c = Container::load(&paths, &a.name, rc.as_deref(), &a.define, true)?;
    let plan = c.plan(
        &ctx.registry,
        StartOptions {
            command: a.command.clone(),
            execute: true,
            foreground: true,
            ..StartOptions::default()
        },
    )?;
    log_to_container(&a.common, &plan)?;
    exit_status(c.start(plan, warm)?)
}
