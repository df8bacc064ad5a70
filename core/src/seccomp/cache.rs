//! Compiled filters kept in the run directory (`<rundir>/seccomp/`), keyed
//! by the policy's text, so an unchanged policy is not parsed and compiled
//! on every start. An entry stores the whole text it was compiled from and is
//! used only when that text is byte-for-byte the policy now read: a hash
//! collision can never hand a container another policy's filter.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::compile::Filter;

/// Bumped whenever the compiler's output for a policy changes.
const FORMAT: u32 = 3;

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    format: u32,
    version: String,
    policy: String,
    filter: Filter,
}

fn file(dir: &Path, text: &str) -> PathBuf {
    let mut h = DefaultHasher::new();
    text.hash(&mut h);
    dir.join(format!("{:016x}.json", h.finish()))
}

/// The cached filter of `text`, if there is one compiled from exactly it.
pub fn lookup(dir: &Path, text: &str) -> Option<Filter> {
    let raw = std::fs::read(file(dir, text)).ok()?;
    let e: Entry = serde_json::from_slice(&raw).ok()?;
    (e.format == FORMAT && e.version == env!("CARGO_PKG_VERSION") && e.policy == text)
        .then_some(e.filter)
}

/// Stores the filter compiled from `text` (written whole, then renamed).
pub fn store(dir: &Path, text: &str, filter: &Filter) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let target = file(dir, text);
    let tmp = target.with_extension(format!("tmp{}", std::process::id()));
    let e = Entry {
        format: FORMAT,
        version: env!("CARGO_PKG_VERSION").into(),
        policy: text.into(),
        filter: filter.clone(),
    };
    let bytes = serde_json::to_vec(&e).map_err(std::io::Error::other)?;
    std::fs::File::create(&tmp)?.write_all(&bytes)?;
    std::fs::rename(&tmp, &target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_used_only_for_its_own_text() {
        let d = tempfile::tempdir().unwrap();
        let f = crate::seccomp::compile_checked(crate::seccomp::DEFAULT_POLICY, "t").unwrap();
        assert_eq!(lookup(d.path(), "x"), None);
        store(d.path(), "x", &f).unwrap();
        assert_eq!(lookup(d.path(), "x"), Some(f.clone()));
        // A different text under the same file name (a collision) is not used.
        std::fs::rename(file(d.path(), "x"), file(d.path(), "y")).unwrap();
        assert_eq!(lookup(d.path(), "y"), None);
    }
}
