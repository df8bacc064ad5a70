//! `rlxc update-config -c FILE`: legacy keys to modern ones, in place.

use anyhow::Context;

use super::{print_json, Failure};
use crate::args::update_config::UpdateConfigArgs;
use crate::args::Format;
use rlxc_core::config::document::Document;
use rlxc_core::config::legacy::{convert, update_file, UpdateReport};

/// Converts the file (or, with `--dry-run`, only reports).
pub fn run(args: &UpdateConfigArgs) -> anyhow::Result<()> {
    let path = &args.config;
    let report = if args.dry_run {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut doc = Document::parse(&bytes, Some(path))?;
        convert(&mut doc)
    } else {
        update_file(path)?
    };
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Human => print_human(&report, &path.display().to_string(), args.dry_run),
    }
    // What was converted must also load: say so if it does not.
    if !args.dry_run && report.changes_file() {
        if let Err(errors) = rlxc_core::config::load_file(path) {
            return Err(Failure {
                code: 1,
                message: Some(format!(
                    "{} was converted but still has errors:\n{errors}",
                    path.display()
                )),
            }
            .into());
        }
    }
    if report.unconverted.is_empty() {
        Ok(())
    } else {
        Err(Failure {
            code: 1,
            message: Some(format!(
                "{} line(s) could not be converted",
                report.unconverted.len()
            )),
        }
        .into())
    }
}

fn print_human(r: &UpdateReport, file: &str, dry_run: bool) {
    if !r.changes_file() && r.unconverted.is_empty() {
        println!("{file}: no legacy keys; nothing changed");
    }
    let verb = if dry_run { "would change" } else { "changed" };
    for n in &r.changed {
        println!("{file}:{}: {verb} {}", n.line, n.what);
    }
    for n in &r.removed {
        println!("{file}:{}: {}", n.line, n.what);
    }
    for n in &r.unconverted {
        println!("{file}:{}: NOT CONVERTED: {}", n.line, n.what);
    }
    for n in &r.notes {
        println!("{file}: note: {}", n.what);
    }
    if r.changes_file() && !dry_run {
        println!("{file}: original kept as {file}.backup");
    }
}
