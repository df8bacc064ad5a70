//! `rlxc install-links DIR [--templates TDIR]`: `lxc-NAME` symlinks for
//! every command this build has, and for every built-in template.

use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;
use rlxc_core::registry::Kind;

use crate::aliases::ALIASES;
use crate::args::install_links::InstallLinksArgs;
use crate::args::Cli;

/// Creates the links and says which it made.
pub fn run(args: &InstallLinksArgs, ctx: &super::Ctx) -> anyhow::Result<()> {
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .context("cannot find the path of this rlxc binary")?;
    let cli = Cli::command();
    let commands: Vec<String> = ALIASES
        .iter()
        .filter(|(_, cmd)| cli.find_subcommand(cmd).is_some())
        .map(|(lxc, _)| (*lxc).to_string())
        .collect();
    link_all(&exe, &args.dir, &commands, args.force)?;
    if let Some(tdir) = &args.templates {
        let templates: Vec<String> = ctx
            .registry
            .entries()
            .into_iter()
            .filter(|e| e.kind == Kind::Template && e.absence.is_none())
            .map(|e| format!("lxc-{}", e.name))
            .collect();
        link_all(&exe, tdir, &templates, args.force)?;
    }
    Ok(())
}

fn link_all(exe: &Path, dir: &Path, names: &[String], force: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut made = 0;
    for name in names {
        let link = dir.join(name);
        if link.symlink_metadata().is_ok() {
            if !force {
                println!(
                    "{}: exists, left as is (use --force to replace)",
                    link.display()
                );
                continue;
            }
            std::fs::remove_file(&link)
                .with_context(|| format!("cannot replace {}", link.display()))?;
        }
        std::os::unix::fs::symlink(exe, &link)
            .with_context(|| format!("cannot create {} -> {}", link.display(), exe.display()))?;
        println!("{} -> {}", link.display(), exe.display());
        made += 1;
    }
    println!("{made} link(s) created in {}", dir.display());
    Ok(())
}
