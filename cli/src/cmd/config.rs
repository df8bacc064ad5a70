//! `rlxc config`: lxc-config (system keys), `config check` and `config show`.

use std::path::PathBuf;

use anyhow::bail;
use rlxc_core::cgroups::CgroupLayout;
use rlxc_core::config::{show, system, ConfigErrors, Loader};

use super::{print_json, Ctx, Failure};
use crate::args::config::{ConfigAction, ConfigArgs, ConfigTarget};
use crate::args::Format;

/// Dispatches the config sub-commands.
pub fn run(args: &ConfigArgs, ctx: &Ctx) -> anyhow::Result<()> {
    match &args.action {
        Some(ConfigAction::Check(t)) => check(t, ctx),
        Some(ConfigAction::Show(t)) => show_effective(t, ctx),
        None if args.list => {
            for (k, _) in system::KEYS {
                println!("{k}");
            }
            Ok(())
        }
        None => match &args.key {
            Some(k) => print_system_key(k, ctx),
            None => {
                bail!("give -l, a key, `check FILE…` or `show FILE` (see `rlxc config --help`)")
            }
        },
    }
}

fn print_system_key(key: &str, ctx: &Ctx) -> anyhow::Result<()> {
    match ctx.system.get(key) {
        Ok(Some(v)) => {
            println!("{v}");
            Ok(())
        }
        Ok(None) => {
            println!("{key} is not set.");
            Ok(())
        }
        Err(e) => Err(Failure {
            code: 1,
            message: Some(e),
        }
        .into()),
    }
}

fn targets(t: &ConfigTarget, ctx: &Ctx) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = t.files.clone();
    if let Some(name) = &t.name {
        files.push(ctx.paths(t.lxcpath.as_deref()).config(name)?);
    }
    if files.is_empty() {
        bail!("name config files or a container with -n NAME");
    }
    Ok(files)
}

fn load(
    path: &std::path::Path,
    overrides: &[String],
) -> Result<rlxc_core::config::Config, ConfigErrors> {
    let mut loader = Loader::new();
    loader.file(path, None);
    for o in overrides {
        loader.override_item(o);
    }
    loader.finish()
}

#[derive(serde::Serialize)]
struct CheckResult {
    file: PathBuf,
    ok: bool,
    errors: Vec<String>,
}

fn check(t: &ConfigTarget, ctx: &Ctx) -> anyhow::Result<()> {
    let mut results = Vec::new();
    for f in targets(t, ctx)? {
        let errors = match load(&f, &t.define) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        };
        results.push(CheckResult {
            ok: errors.is_empty(),
            file: f,
            errors,
        });
    }
    let bad: usize = results.iter().map(|r| r.errors.len()).sum();
    match t.format {
        Format::Json => print_json(&results)?,
        Format::Human => {
            for r in &results {
                if r.ok {
                    println!("{}: ok", r.file.display());
                }
                for e in &r.errors {
                    eprintln!("{e}");
                }
            }
        }
    }
    if bad == 0 {
        Ok(())
    } else {
        let files = results.iter().filter(|r| !r.ok).count();
        Err(Failure {
            code: 1,
            message: Some(format!("{bad} error(s) in {files} file(s)")),
        }
        .into())
    }
}

fn show_effective(t: &ConfigTarget, ctx: &Ctx) -> anyhow::Result<()> {
    let files = targets(t, ctx)?;
    if files.len() != 1 {
        bail!("show takes one config file or one -n NAME");
    }
    let config = load(&files[0], &t.define)?;
    let layout = CgroupLayout::host().unwrap_or_default();
    match t.format {
        Format::Human => print!("{}", show::render(&config, &layout)),
        Format::Json => {
            let items: Vec<(String, String)> = config
                .items()
                .iter()
                .map(|i| (i.key.clone(), i.value.clone()))
                .collect();
            let cgroup = rlxc_core::cgroups::place(&config.cgroup_settings(), &layout);
            print_json(&serde_json::json!({
                "files": config.files,
                "items": items,
                "rootfs": config.rootfs_path(),
                "cgroup_layout": layout.describe(),
                "cgroup": cgroup,
                "ignored": config.ignored,
            }))?;
        }
    }
    Ok(())
}
