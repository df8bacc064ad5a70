//! `rlxc version`.

/// Prints the version.
pub fn run() -> anyhow::Result<()> {
    println!(
        "rlxc {} (follows LXC {} commands and config)",
        rlxc_core::VERSION,
        rlxc_core::LXC_COMPAT_VERSION
    );
    Ok(())
}
