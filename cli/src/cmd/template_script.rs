//! `lxc-NAME` for a built-in template: parse, one core call, print.

use rlxc_core::templates::script::{self, ScriptOutcome};

use super::Ctx;
use crate::args::template_script::TemplateScriptArgs;

/// Runs the built-in template as LXC runs a template script.
pub fn run(a: &TemplateScriptArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let t = ctx.registry.template(&a.template)?;
    match script::run(t.as_ref(), &ctx.system.cache_dir(), &a.args)? {
        ScriptOutcome::Help(h) => print!("{h}"),
        ScriptOutcome::Cleaned(paths) if paths.is_empty() => {
            println!("the {} cache holds nothing to purge", a.template)
        }
        ScriptOutcome::Cleaned(paths) => {
            for p in paths {
                println!("purged {}", p.display());
            }
        }
        ScriptOutcome::Made { config } => {
            tracing::info!(
                "template `{}` done; its lines are in {}",
                a.template,
                config.display()
            )
        }
    }
    Ok(())
}
