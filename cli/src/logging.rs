//! Logging for the binary: LXC's `-o/--logfile` and `-l/--logpriority`, and `RUST_LOG`.

use std::path::Path;

use anyhow::Context;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Maps an LXC priority name to a tracing level.
pub fn level(priority: &str) -> anyhow::Result<LevelFilter> {
    let idx = rlxc_core::config::value::log_level(priority).map_err(anyhow::Error::msg)?;
    Ok(match idx {
        0 => LevelFilter::TRACE,
        1 => LevelFilter::DEBUG,
        2 | 3 => LevelFilter::INFO,
        4 => LevelFilter::WARN,
        _ => LevelFilter::ERROR,
    })
}

/// Sets up logging: warnings and errors on stderr (errors only with `-q`),
/// and, with `-o FILE`, everything at `-l` (default ERROR) appended to FILE.
/// `RUST_LOG`, when set, overrides the stderr filter.
pub fn init(logfile: Option<&Path>, priority: Option<&str>, quiet: bool) -> anyhow::Result<()> {
    let file_level = priority
        .map(level)
        .transpose()?
        .unwrap_or(LevelFilter::ERROR);
    let stderr_default = if quiet {
        LevelFilter::ERROR
    } else {
        LevelFilter::WARN
    };
    let stderr_filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.is_empty() => EnvFilter::try_new(spec).context("bad RUST_LOG")?,
        _ => EnvFilter::default().add_directive(stderr_default.into()),
    };
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_filter(stderr_filter);
    let file = match logfile {
        Some(p) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot open log file {}", p.display()))?;
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::sync::Mutex::new(f))
                    .with_ansi(false)
                    .with_filter(file_level),
            )
        }
        None => None,
    };
    tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init()
        .ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lxc_priorities() {
        assert_eq!(level("DEBUG").unwrap(), LevelFilter::DEBUG);
        assert_eq!(level("notice").unwrap(), LevelFilter::INFO);
        assert_eq!(level("FATAL").unwrap(), LevelFilter::ERROR);
        assert!(level("LOUD").is_err());
    }
}
