//! `rlxc install-links DIR`: `lxc-NAME` symlinks for every command this build has.

use anyhow::Context;
use clap::CommandFactory;

use crate::aliases::ALIASES;
use crate::args::install_links::InstallLinksArgs;
use crate::args::Cli;

/// Creates the links and says which it made.
pub fn run(args: &InstallLinksArgs) -> anyhow::Result<()> {
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .context("cannot find the path of this rlxc binary")?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let cli = Cli::command();
    let mut made = 0;
    for (lxc, cmd) in ALIASES {
        if cli.find_subcommand(cmd).is_none() {
            continue;
        }
        let link = args.dir.join(lxc);
        if link.symlink_metadata().is_ok() {
            if !args.force {
                println!(
                    "{}: exists, left as is (use --force to replace)",
                    link.display()
                );
                continue;
            }
            std::fs::remove_file(&link)
                .with_context(|| format!("cannot replace {}", link.display()))?;
        }
        std::os::unix::fs::symlink(&exe, &link)
            .with_context(|| format!("cannot create {} -> {}", link.display(), exe.display()))?;
        println!("{} -> {}", link.display(), exe.display());
        made += 1;
    }
    println!("{made} link(s) created in {}", args.dir.display());
    Ok(())
}
