//! The template cache, `/var/cache/lxc/<template>/<entry>` as LXC's scripts
//! lay it out (`lxc.cache_dir` in the system config moves it): what
//! `rlxc cache ls` shows and `rlxc cache rm` frees. An entry being built or
//! used by a create holds `<template>/.lock` (flock); `rm` refuses it then.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// One cached entry (`rootfs-bookworm-amd64`, a tarball, …).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CacheEntry {
    /// The template's directory name.
    pub template: String,
    /// The entry's name.
    pub entry: String,
    /// Its path.
    pub path: PathBuf,
    /// Bytes it takes.
    pub bytes: u64,
}

/// Every entry under `cache_dir`, sorted; hidden names (locks, a build in
/// progress) are left out.
pub fn list(cache_dir: &Path) -> std::io::Result<Vec<CacheEntry>> {
    let mut out = Vec::new();
    let templates = match std::fs::read_dir(cache_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for t in templates.flatten().filter(|e| e.path().is_dir()) {
        let template = t.file_name().to_string_lossy().into_owned();
        if template.starts_with('.') {
            continue;
        }
        for e in std::fs::read_dir(t.path())?.flatten() {
            let entry = e.file_name().to_string_lossy().into_owned();
            // Hidden: a lock, rlxc's build in progress; `partial-*`: an LXC
            // script's build in progress.
            if entry.starts_with('.') || entry.starts_with("partial-") {
                continue;
            }
            let path = e.path();
            let bytes = if path.is_dir() {
                crate::storage::tree_size(&path).unwrap_or(0)
            } else {
                e.metadata()
                    .map(|m| std::os::unix::fs::MetadataExt::blocks(&m) * 512)
                    .unwrap_or(0)
            };
            out.push(CacheEntry {
                template: template.clone(),
                entry,
                path,
                bytes,
            });
        }
    }
    out.sort_by(|a, b| (&a.template, &a.entry).cmp(&(&b.template, &b.entry)));
    Ok(out)
}

/// The lock of one template's cache, held while an entry is built or read.
#[derive(Debug)]
pub struct CacheLock {
    _file: std::fs::File,
}

impl CacheLock {
    /// Takes the lock of `template`'s cache; `wait`: block until free,
    /// else fail at once when it is held.
    pub fn take(cache_dir: &Path, template: &str, wait: bool) -> std::io::Result<CacheLock> {
        let dir = cache_dir.join(template);
        std::fs::create_dir_all(&dir)?;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(".lock"))?;
        let op = if wait {
            libc::LOCK_EX
        } else {
            libc::LOCK_EX | libc::LOCK_NB
        };
        // SAFETY: flock on our fd.
        if unsafe { libc::flock(f.as_raw_fd(), op) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(CacheLock { _file: f })
    }
}

/// Removes `template`'s cache entry `entry`, or all of its entries; returns
/// what went. Refused while a create holds the template's lock.
pub fn remove(
    cache_dir: &Path,
    template: &str,
    entry: Option<&str>,
) -> Result<Vec<PathBuf>, String> {
    if template.contains('/')
        || template.starts_with('.')
        || entry.is_some_and(|e| e.contains('/') || e.starts_with('.'))
    {
        return Err("a cache entry is named by its template and entry, without `/`".into());
    }
    let _lock =
        CacheLock::take(cache_dir, template, false).map_err(|e| match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => {
                format!("the {template} cache is in use by a create; try again when it is done")
            }
            _ => format!("{}: {e}", cache_dir.join(template).display()),
        })?;
    let gone: Vec<CacheEntry> = list(cache_dir)
        .map_err(|e| format!("{}: {e}", cache_dir.display()))?
        .into_iter()
        .filter(|c| c.template == template && entry.is_none_or(|e| c.entry == e))
        .collect();
    if gone.is_empty() {
        return Err(match entry {
            Some(e) => format!(
                "there is no cache entry {template}/{e} in {}",
                cache_dir.display()
            ),
            None => format!("there is no {template} cache in {}", cache_dir.display()),
        });
    }
    for c in &gone {
        let r = if c.path.is_dir() {
            std::fs::remove_dir_all(&c.path)
        } else {
            std::fs::remove_file(&c.path)
        };
        r.map_err(|e| format!("{}: {e}", c.path.display()))?;
    }
    Ok(gone.into_iter().map(|c| c.path).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_listed_and_removed_but_not_while_locked() {
        let d = tempfile::tempdir().unwrap();
        let c = d.path();
        std::fs::create_dir_all(c.join("debian/rootfs-bookworm-amd64/etc")).unwrap();
        std::fs::write(
            c.join("debian/rootfs-bookworm-amd64/etc/os-release"),
            vec![b'x'; 5000],
        )
        .unwrap();
        std::fs::create_dir_all(c.join("debian/.partial.1")).unwrap();
        std::fs::write(c.join("download.tar.xz"), "not a template dir").unwrap();
        let l = list(c).unwrap();
        assert_eq!(l.len(), 1, "{l:?}");
        assert_eq!(
            (l[0].template.as_str(), l[0].entry.as_str()),
            ("debian", "rootfs-bookworm-amd64")
        );
        assert!(l[0].bytes >= 4096);
        let held = CacheLock::take(c, "debian", true).unwrap();
        assert!(remove(c, "debian", None)
            .unwrap_err()
            .contains("in use by a create"));
        drop(held);
        assert!(remove(c, "debian", Some("nope"))
            .unwrap_err()
            .contains("no cache entry debian/nope"));
        assert!(remove(c, "../etc", None).is_err());
        let gone = remove(c, "debian", None).unwrap();
        assert_eq!(gone, vec![c.join("debian/rootfs-bookworm-amd64")]);
        assert!(list(c).unwrap().is_empty());
    }
}
