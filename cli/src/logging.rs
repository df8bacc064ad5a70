//! Logging for the binary: LXC's `-o/--logfile` and `-l/--logpriority`, and `RUST_LOG`.

use std::path::Path;
use std::sync::Mutex;

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

/// The log file and its level; `start` and `execute` may set them after
/// reading the container's config (`lxc.log.file`, `lxc.log.level`).
static FILE: Mutex<Option<(std::fs::File, LevelFilter)>> = Mutex::new(None);

fn open_log(p: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(p)
        .with_context(|| format!("cannot open log file {}", p.display()))
}

/// A writer into [`FILE`] (writes vanish when there is none).
struct FileWriter;

impl std::io::Write for FileWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match FILE.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            Some((f, _)) => f.write(buf),
            None => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn file_enabled(meta: &tracing::Metadata<'_>) -> bool {
    FILE.lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_ref()
        .is_some_and(|(_, level)| level >= meta.level())
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
    if let Some(p) = logfile {
        *FILE.lock().unwrap_or_else(|p| p.into_inner()) = Some((open_log(p)?, file_level));
    }
    let file = tracing_subscriber::fmt::layer()
        .with_writer(|| FileWriter)
        .with_ansi(false)
        .with_filter(tracing_subscriber::filter::filter_fn(file_enabled));
    tracing_subscriber::registry()
        .with(stderr)
        .with(file)
        .try_init()
        .ok();
    Ok(())
}

/// Appends a command's final error to the log file, if there is one (it is
/// printed on stderr already, so it does not go through tracing again).
pub fn error_to_file(msg: &str) {
    use std::io::Write;
    let mut guard = FILE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((f, level)) = guard.as_mut() {
        if *level >= LevelFilter::ERROR {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let _ = writeln!(f, "{secs} ERROR rlxc {}: {msg}", std::process::id());
        }
    }
}

/// The container log of `start`/`execute`, as LXC keeps it: `-o` wins;
/// otherwise `lxc.log.file`, else `<lxcpath>/<name>/<name>.log` when the
/// container directory exists; the level is `-l`, else `lxc.log.level`,
/// else ERROR.
pub fn container_log(
    common: &crate::args::Common,
    file: Option<&Path>,
    default: &Path,
    config_level: Option<&str>,
) -> anyhow::Result<()> {
    if common.logfile.is_some() {
        return Ok(());
    }
    let path = match file {
        Some(f) => f.to_path_buf(),
        None if default.parent().is_some_and(Path::is_dir) => default.to_path_buf(),
        None => return Ok(()),
    };
    let lvl = match common.logpriority.as_deref().or(config_level) {
        Some(p) => level(p)?,
        None => LevelFilter::ERROR,
    };
    *FILE.lock().unwrap_or_else(|p| p.into_inner()) = Some((open_log(&path)?, lvl));
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
