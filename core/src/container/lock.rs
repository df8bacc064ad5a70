//! The per-container lock: an exclusive `flock` on a file under the runtime
//! directory, taken by create, copy, destroy and start. The kernel drops it
//! when the holder dies, so a crash never leaves a stale lock.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("container `{name}` is busy: another rlxc command holds its lock ({path})")]
    Busy {
        /// Container name.
        name: String,
        /// Lock file.
        path: PathBuf,
    },
    /// The lock file could not be made.
    #[error("cannot lock container `{name}` ({path}): {source}")]
    Io {
        /// Container name.
        name: String,
        /// Lock file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct ContainerLock {
    _file: File,
    path: PathBuf,
}

impl ContainerLock {
    /// Takes the lock without waiting.
    pub fn try_acquire(name: &str, path: &Path) -> Result<ContainerLock, LockError> {
        let io = |source| LockError::Io {
            name: name.to_string(),
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(io)?;
        // SAFETY: flock on a valid, owned fd.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            return Err(if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                LockError::Busy {
                    name: name.to_string(),
                    path: path.to_path_buf(),
                }
            } else {
                io(err)
            });
        }
        Ok(ContainerLock {
            _file: file,
            path: path.to_path_buf(),
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_until_release() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("run/c1.lock");
        let first = ContainerLock::try_acquire("c1", &p).unwrap();
        let err = ContainerLock::try_acquire("c1", &p).unwrap_err();
        assert!(err.to_string().contains("container `c1` is busy"), "{err}");
        drop(first);
        ContainerLock::try_acquire("c1", &p).unwrap();
    }
}
