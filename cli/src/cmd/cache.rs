//! `rlxc cache ls|rm`: parse, one core call, print.

use rlxc_core::templates::cache;

use super::Ctx;
use crate::args::cache::{CacheAction, CacheArgs};
use crate::args::Format;

/// Lists or frees the template cache.
pub fn run(a: &CacheArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let dir = ctx.system.cache_dir();
    match &a.action {
        CacheAction::Ls => {
            let entries = cache::list(&dir)?;
            if a.format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
                return Ok(());
            }
            if entries.is_empty() {
                println!("the template cache ({}) is empty", dir.display());
            }
            for e in entries {
                println!(
                    "{:<12} {:<32} {:>10}  {}",
                    e.template,
                    e.entry,
                    super::info::humanize(e.bytes),
                    e.path.display()
                );
            }
            Ok(())
        }
        CacheAction::Rm { template, entry } => {
            for p in cache::remove(&dir, template, entry.as_deref()).map_err(anyhow::Error::msg)? {
                tracing::info!("removed {}", p.display());
            }
            Ok(())
        }
    }
}
