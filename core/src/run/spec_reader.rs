//! Typed reads of one config's values for [`super::spec::RunSpec`], each
//! error naming the container and the key, and the small parsers they use
//! (command lines, capability names).

use std::path::Path;

use super::mount_entry::MountEntry;
use super::privs::Privileges;
use super::prlimit::Prlimit;
use crate::config::{value, Config};

/// Typed reads of one config's values, with errors naming the key.
pub(super) struct Reader<'a> {
    pub(super) name: &'a str,
    pub(super) cfg: &'a Config,
}

impl Reader<'_> {
    pub(super) fn bad(&self, key: &str, why: String) -> SpecError {
        SpecError::Key {
            name: self.name.to_string(),
            key: key.to_string(),
            why,
        }
    }

    pub(super) fn num(&self, key: &str, default: u32) -> Result<u32, SpecError> {
        self.cfg.get(key).map_or(Ok(default), |v| {
            v.parse().map_err(|e| self.bad(key, format!("{e}")))
        })
    }

    pub(super) fn signal(&self, key: &str, default: i32) -> Result<i32, SpecError> {
        match self.cfg.get(key) {
            None => Ok(default),
            Some("0") => Ok(0),
            Some(v) => value::signal(v).map_err(|e| self.bad(key, e)),
        }
    }

    pub(super) fn words(&self, key: &str) -> Option<Vec<String>> {
        self.cfg.get(key).map(split_command)
    }

    /// Capability numbers of every value of `key`; `none` adds nothing.
    pub(super) fn caps(&self, key: &str) -> Result<Vec<u32>, SpecError> {
        let words = self.cfg.get_all(key);
        let words = words.iter().flat_map(|v| v.split_whitespace());
        words
            .filter(|w| *w != "none")
            .map(|w| {
                cap_number(w).ok_or_else(|| self.bad(key, format!("`{w}` is not a capability")))
            })
            .collect()
    }

    pub(super) fn prlimits(&self) -> Result<Vec<Prlimit>, SpecError> {
        Prlimit::keys(self.cfg)
            .into_iter()
            .map(|(key, value)| {
                let name = &key["lxc.prlimit.".len()..];
                Prlimit::parse(name, &value).map_err(|why| self.bad(&key, why))
            })
            .collect()
    }

    pub(super) fn privileges(&self) -> Result<Privileges, SpecError> {
        let keep = !self.cfg.get_all("lxc.cap.keep").is_empty();
        Ok(Privileges {
            cap_drop: self.caps("lxc.cap.drop")?,
            cap_keep: if keep {
                Some(self.caps("lxc.cap.keep")?)
            } else {
                None
            },
            no_new_privs: self.cfg.get_bool("lxc.no_new_privs").unwrap_or(false),
        })
    }

    /// `lxc.mount.entry` lines, then the lines of `lxc.mount.fstab`.
    pub(super) fn mounts(&self, dir: &Path) -> Result<Vec<MountEntry>, SpecError> {
        let mut mounts: Vec<MountEntry> = self
            .cfg
            .get_all("lxc.mount.entry")
            .iter()
            .filter_map(|l| MountEntry::parse(l))
            .collect();
        if let Some(fstab) = self.cfg.get("lxc.mount.fstab") {
            let path = dir.join(fstab);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| self.bad("lxc.mount.fstab", format!("{}: {e}", path.display())))?;
            mounts.extend(text.lines().filter_map(MountEntry::parse));
        }
        Ok(mounts)
    }
}

/// A problem found while reading the config for a start.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    /// A key's value cannot be used to start.
    #[error("container `{name}`: key `{key}`: {why}")]
    Key {
        /// Container.
        name: String,
        /// The key.
        key: String,
        /// Why.
        why: String,
    },
}

/// Splits a command line on white space, honouring simple quotes.
pub fn split_command(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A capability name (`sys_admin`, `CAP_SYS_ADMIN`) or number to its number.
pub fn cap_number(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse::<u32>() {
        return Some(n);
    }
    let lc = name.to_ascii_lowercase();
    let bare = lc.strip_prefix("cap_").unwrap_or(&lc);
    value::CAPABILITIES
        .iter()
        .position(|c| *c == bare)
        .map(|i| i as u32)
}
