//! `rlxc checkconfig` and `rlxc backends`.

use rlxc_core::host::features::{check, Feature, HostPaths, Status};

use super::{print_json, Ctx, Failure};
use crate::args::checkconfig::{BackendsArgs, CheckconfigArgs};
use crate::args::Format;

/// Prints what the kernel supports; fails when a required feature is missing.
pub fn run(args: &CheckconfigArgs) -> anyhow::Result<()> {
    let features = check(&HostPaths::host());
    match args.format {
        Format::Json => print_json(&features)?,
        Format::Human => print_human(&features),
    }
    let fatal: Vec<&str> = features
        .iter()
        .filter(|f| f.is_fatal())
        .map(|f| f.name.as_str())
        .collect();
    if fatal.is_empty() {
        Ok(())
    } else {
        Err(Failure {
            code: 1,
            message: Some(format!("required features missing: {}", fatal.join(", "))),
        }
        .into())
    }
}

fn print_human(features: &[Feature]) {
    let mut group = "";
    for f in features {
        if f.group != group {
            group = f.group;
            println!("--- {group} ---");
        }
        let status = match f.status {
            Status::Enabled => "enabled",
            Status::Module => "module",
            Status::Missing if f.required => "MISSING (required)",
            Status::Missing => "missing",
            Status::Unknown => "unknown",
        };
        println!("{:<22} {:<20} {}", f.name, status, f.detail);
    }
}

/// Lists the backends of this build.
pub fn backends(args: &BackendsArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let entries = ctx.registry.entries();
    match args.format {
        Format::Json => print_json(&entries)?,
        Format::Human => {
            for e in entries {
                let state = match &e.absence {
                    None => "available".to_string(),
                    Some(rlxc_core::registry::Absence::NotCompiled { feature }) => {
                        format!("not compiled (feature `{feature}`)")
                    }
                    Some(rlxc_core::registry::Absence::NotAvailable { reason }) => {
                        format!("not available: {reason}")
                    }
                };
                println!(
                    "{:<10} {:<14} {state}",
                    format!("{:?}", e.kind).to_lowercase(),
                    e.name
                );
            }
        }
    }
    Ok(())
}
