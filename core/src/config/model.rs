//! The effective configuration: an ordered list of (key, value) items, each
//! checked against the key table, with the list/single/clear semantics LXC has.

use std::path::PathBuf;

use super::cgroup::{CgroupSetting, Version};
use super::error::{ConfigError, Origin};
use super::keys::{self, KeySpec, Multiplicity, Pattern};
use super::value;

/// One effective setting.
#[derive(Debug, Clone)]
pub struct Item {
    /// The modern key (`lxc.net.0.type`, never a legacy name).
    pub key: String,
    /// The value as written (trimmed, dequoted).
    pub value: String,
    /// Where it was set.
    pub origin: Origin,
    /// For `lxc.net.N.*`: N.
    pub net_index: Option<u32>,
    spec: &'static KeySpec,
}

impl Item {
    /// The key table row.
    pub fn spec(&self) -> &'static KeySpec {
        self.spec
    }
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.value == other.value
    }
}

/// A line that was accepted but has no effect (a removed legacy key).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ignored {
    /// Where.
    pub origin: Origin,
    /// The key.
    pub key: String,
    /// Why it has no effect.
    pub why: &'static str,
}

/// A loaded configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    items: Vec<Item>,
    /// Removed legacy keys that were accepted and ignored.
    pub ignored: Vec<Ignored>,
    /// `lxc.rootfs.backend` from a 2.0-era config, folded into the rootfs path.
    pub legacy_backend: Option<String>,
    /// Every file read, in order (the top file first, then includes).
    pub files: Vec<PathBuf>,
}

impl Config {
    /// An empty configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a modern key as one config line would. An empty value clears the
    /// key (or, for clear keys such as `lxc.net`, its whole group).
    pub fn set(&mut self, key: &str, value: &str, origin: &Origin) -> Result<(), ConfigError> {
        let r = keys::resolve(key).map_err(|why| ConfigError::key(origin, key, why))?;
        if let Some(group) = r.spec.clears {
            value::check(r.spec.check, key, value)
                .map_err(|why| ConfigError::key(origin, key, why))?;
            self.items.retain(|i| i.spec.group != group);
            return Ok(());
        }
        if r.spec.pattern == Pattern::Exact("lxc.include") {
            return Err(ConfigError::key(
                origin,
                key,
                "includes are resolved by the loader, not set",
            ));
        }
        if value.is_empty() {
            self.items.retain(|i| i.key != key);
            return Ok(());
        }
        value::check(r.spec.check, key, value).map_err(|why| ConfigError::key(origin, key, why))?;
        let item = Item {
            key: key.to_string(),
            value: value.to_string(),
            origin: origin.clone(),
            net_index: r.net_index,
            spec: r.spec,
        };
        match r.spec.multi {
            Multiplicity::List => self.items.push(item),
            Multiplicity::Single => match self.items.iter_mut().find(|i| i.key == key) {
                Some(existing) => *existing = item,
                None => self.items.push(item),
            },
        }
        Ok(())
    }

    /// Removes a key (all its values).
    pub fn clear(&mut self, key: &str) {
        self.items.retain(|i| i.key != key);
    }

    /// Every item, in effective order.
    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// All values of a key, in order.
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        self.items
            .iter()
            .filter(|i| i.key == key)
            .map(|i| i.value.as_str())
            .collect()
    }

    /// The value of a single key (the last, for a list).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.items
            .iter()
            .rev()
            .find(|i| i.key == key)
            .map(|i| i.value.as_str())
    }

    /// The effective configuration as `key = value` lines.
    pub fn to_lines(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|i| format!("{} = {}", i.key, i.value))
            .collect()
    }

    /// The lowest NIC index not used yet.
    pub fn next_net_index(&self) -> u32 {
        self.items
            .iter()
            .filter_map(|i| i.net_index)
            .max()
            .map_or(0, |m| m + 1)
    }

    /// The rootfs value, with a 2.0-era `lxc.rootfs.backend` folded in.
    pub fn rootfs_path(&self) -> Option<String> {
        let path = self.get("lxc.rootfs.path")?;
        match &self.legacy_backend {
            Some(b)
                if crate::storage::RootfsSpec::parse(path).backend.is_none()
                    && !path.is_empty() =>
            {
                Some(format!("{b}:{path}"))
            }
            _ => Some(path.to_string()),
        }
    }

    /// Every cgroup setting, v1 and v2, in config order.
    pub fn cgroup_settings(&self) -> Vec<CgroupSetting> {
        self.items
            .iter()
            .filter_map(|i| match i.spec.pattern {
                Pattern::Prefix("lxc.cgroup.") => Some(CgroupSetting::new(
                    Version::V1,
                    &i.key["lxc.cgroup.".len()..],
                    &i.value,
                )),
                Pattern::Prefix("lxc.cgroup2.") => Some(CgroupSetting::new(
                    Version::V2,
                    &i.key["lxc.cgroup2.".len()..],
                    &i.value,
                )),
                _ => None,
            })
            .collect()
    }

    /// `lxc.idmap` lines, parsed.
    pub fn idmaps(&self) -> Vec<value::IdMap> {
        self.get_all("lxc.idmap")
            .into_iter()
            .filter_map(|v| value::idmap(v).ok())
            .collect()
    }

    /// Whether the container runs in a user namespace.
    pub fn is_unprivileged(&self) -> bool {
        !self.idmaps().is_empty()
    }

    /// A boolean key (`1` is true); `None` when unset.
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        self.get(key).map(|v| v == "1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o() -> Origin {
        Origin::file("/c", 1)
    }

    #[test]
    fn single_list_and_clear() {
        let mut c = Config::new();
        c.set("lxc.tty.max", "4", &o()).unwrap();
        c.set("lxc.tty.max", "6", &o()).unwrap();
        assert_eq!(c.get_all("lxc.tty.max"), vec!["6"]);
        c.set("lxc.cap.drop", "sys_admin", &o()).unwrap();
        c.set("lxc.cap.drop", "mac_admin", &o()).unwrap();
        assert_eq!(c.get_all("lxc.cap.drop"), vec!["sys_admin", "mac_admin"]);
        c.set("lxc.cap.drop", "", &o()).unwrap();
        assert!(c.get_all("lxc.cap.drop").is_empty());
        c.set("lxc.tty.max", "", &o()).unwrap();
        assert_eq!(c.get("lxc.tty.max"), None);
    }

    #[test]
    fn group_clear_and_order_of_cgroup_rules() {
        let mut c = Config::new();
        c.set("lxc.net.0.type", "veth", &o()).unwrap();
        c.set("lxc.net.1.type", "empty", &o()).unwrap();
        assert_eq!(c.next_net_index(), 2);
        c.set("lxc.net", "", &o()).unwrap();
        assert_eq!(c.next_net_index(), 0);
        assert!(c.set("lxc.net", "x", &o()).is_err());
        c.set("lxc.cgroup.devices.deny", "a", &o()).unwrap();
        c.set("lxc.cgroup.devices.allow", "c 1:3 rwm", &o())
            .unwrap();
        c.set("lxc.cgroup.devices.deny", "c 1:5 rwm", &o()).unwrap();
        c.set("lxc.cgroup.dir", "lxc/x", &o()).unwrap();
        let files: Vec<String> = c
            .cgroup_settings()
            .iter()
            .map(|s| s.value.clone())
            .collect();
        assert_eq!(files, vec!["a", "c 1:3 rwm", "c 1:5 rwm"]);
        c.set("lxc.cgroup", "", &o()).unwrap();
        assert!(c.cgroup_settings().is_empty());
        assert_eq!(
            c.get("lxc.cgroup.dir"),
            Some("lxc/x"),
            "clearing lxc.cgroup keeps lxc.cgroup.dir"
        );
    }

    #[test]
    fn errors_name_origin_and_key() {
        let mut c = Config::new();
        let e = c
            .set("lxc.tty.max", "many", &Origin::file("/x/config", 7))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "/x/config:7: key `lxc.tty.max`: `many` is not a non-negative integer"
        );
    }
}
