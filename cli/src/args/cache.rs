//! `rlxc cache`: the template cache.

use clap::{Args, Subcommand};

use super::Format;

/// `cache ls [--format json] | rm TEMPLATE [ENTRY]`.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: CacheAction,
    /// Output format of the listing.
    #[arg(long, value_enum, default_value_t, global = true)]
    pub format: Format,
}

/// List or free.
#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// Every cached entry, with its size.
    Ls,
    /// Remove a template's cache (or one entry of it).
    Rm {
        /// The template (`debian`, `ubuntu`, `download` …).
        template: String,
        /// One entry (`rootfs-bookworm-amd64`); default: all of them.
        entry: Option<String>,
    },
}
