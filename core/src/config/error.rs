//! Config errors: every one names where it came from (file and line, or the
//! command line) and, where there is one, the key.

use std::fmt;
use std::path::PathBuf;

/// Where a config line came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Origin {
    /// The file, or `None` for a `-s KEY=VALUE` override or built-in text.
    pub file: Option<PathBuf>,
    /// 1-based line number (0 when not from a file).
    pub line: usize,
}

impl Origin {
    /// A line of a file.
    pub fn file(path: impl Into<PathBuf>, line: usize) -> Self {
        Origin {
            file: Some(path.into()),
            line,
        }
    }

    /// A command-line override.
    pub fn command_line() -> Self {
        Origin::default()
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}:{}", p.display(), self.line),
            None => f.write_str("command line"),
        }
    }
}

/// One problem in a config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A key that is unknown or whose value is wrong.
    #[error("{origin}: key `{key}`: {reason}")]
    Key {
        /// Where.
        origin: Origin,
        /// The key as written.
        key: String,
        /// Why it was refused.
        reason: String,
    },
    /// A line that is not `key = value` (or not text at all).
    #[error("{origin}: {reason}")]
    Line {
        /// Where.
        origin: Origin,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error, as text.
        reason: String,
    },
}

impl ConfigError {
    /// An error about `key` at `origin`.
    pub fn key(origin: &Origin, key: &str, reason: impl Into<String>) -> Self {
        ConfigError::Key {
            origin: origin.clone(),
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, err: &std::io::Error) -> Self {
        ConfigError::Io {
            path: path.into(),
            reason: err.to_string(),
        }
    }
}

/// Every problem found in one load, in the order met.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        ConfigErrors(vec![e])
    }
}
