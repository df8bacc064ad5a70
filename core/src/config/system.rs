//! The system config, `/etc/lxc/lxc.conf` (lxc.system.conf(5)): where
//! containers live and the defaults of the storage backends.

use std::path::{Path, PathBuf};

use super::document::{Document, LineKind};
use super::error::{ConfigError, ConfigErrors, Origin};

/// The default system config path.
pub const SYSTEM_CONFIG: &str = "/etc/lxc/lxc.conf";

/// Keys `lxc-config -l` lists, in its order, with their defaults (as LXC 5 prints them).
pub const KEYS: &[(&str, Option<&str>)] = &[
    ("lxc.default_config", Some("/etc/lxc/default.conf")),
    ("lxc.lxcpath", Some("/var/lib/lxc")),
    ("lxc.bdev.lvm.vg", Some("lxc")),
    ("lxc.bdev.lvm.thin_pool", Some("lxc")),
    ("lxc.bdev.zfs.root", Some("lxc")),
    ("lxc.cgroup.use", None),
    ("lxc.cgroup.pattern", None),
];

/// Keys accepted in the file but not listed by `-l` (as in LXC).
const EXTRA_KEYS: &[(&str, Option<&str>)] = &[
    // rlxc's: where templates cache what they download (LXC's scripts use this place).
    ("lxc.cache_dir", Some("/var/cache/lxc")),
    ("lxc.bdev.rbd.rbdpool", Some("lxc")),
    ("lxc.bdev.rbd.rbduser", Some("admin")),
];

/// 0.9-era spellings.
const OLD_NAMES: &[(&str, &str)] = &[
    ("lxcpath", "lxc.lxcpath"),
    ("lvm_vg", "lxc.bdev.lvm.vg"),
    ("lvm_thin_pool", "lxc.bdev.lvm.thin_pool"),
    ("zfsroot", "lxc.bdev.zfs.root"),
];

/// The system config: values set in the file, defaults for the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemConfig {
    set: Vec<(String, String)>,
    /// The file read, if it existed.
    pub path: Option<PathBuf>,
    /// A user's own places (not root): the defaults of the lxcpath, the
    /// default config and the cache are these.
    pub user: Option<super::user_dirs::UserDirs>,
}

/// The system config file of the caller: `~/.config/lxc/lxc.conf` for a
/// user other than root, else [`SYSTEM_CONFIG`].
pub fn config_path(user: Option<&super::user_dirs::UserDirs>) -> PathBuf {
    user.map_or_else(
        || PathBuf::from(SYSTEM_CONFIG),
        |u| u.config.join("lxc.conf"),
    )
}

impl SystemConfig {
    /// Reads `path`; a missing file means all defaults.
    pub fn load(path: &Path) -> Result<SystemConfig, ConfigErrors> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(SystemConfig::default())
            }
            Err(e) => return Err(ConfigError::io(path, &e).into()),
        };
        let doc = Document::parse(&bytes, Some(path))?;
        let mut cfg = SystemConfig {
            set: Vec::new(),
            path: Some(path.to_path_buf()),
            user: None,
        };
        let mut errors = Vec::new();
        for (i, line) in doc.lines.iter().enumerate() {
            let origin = Origin::file(path, i + 1);
            match &line.kind {
                LineKind::Entry { key, value } => {
                    let name = OLD_NAMES
                        .iter()
                        .find(|(o, _)| o == key)
                        .map_or(key.as_str(), |(_, n)| n);
                    if lookup(name).is_none() {
                        errors.push(ConfigError::key(
                            &origin,
                            key,
                            format!("not a system config key (known: {})", names()),
                        ));
                    } else {
                        cfg.set.retain(|(k, _)| k != name);
                        cfg.set.push((name.to_string(), value.clone()));
                    }
                }
                LineKind::Invalid(reason) => errors.push(ConfigError::Line {
                    origin,
                    reason: reason.clone(),
                }),
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// [`SystemConfig::load`] for a user's own places (`None`: root's).
    pub fn load_for(
        path: &Path,
        user: Option<super::user_dirs::UserDirs>,
    ) -> Result<SystemConfig, ConfigErrors> {
        let mut c = SystemConfig::load(path)?;
        c.user = user;
        Ok(c)
    }

    /// A key's value: set, default, or `Ok(None)` when it has none; `Err` for an unknown key.
    pub fn get(&self, key: &str) -> Result<Option<String>, String> {
        let default = lookup(key).ok_or_else(|| format!("Unknown configuration item: {key}"))?;
        let user_default = self.user.as_ref().and_then(|u| match key {
            "lxc.lxcpath" => Some(u.data.clone()),
            "lxc.default_config" => Some(u.config.join("default.conf")),
            "lxc.cache_dir" => Some(u.cache.clone()),
            _ => None,
        });
        Ok(self
            .set
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .or_else(|| user_default.map(|p| p.display().to_string()))
            .or_else(|| default.map(str::to_string)))
    }

    /// The container directory root.
    pub fn lxcpath(&self) -> PathBuf {
        PathBuf::from(
            self.get("lxc.lxcpath")
                .ok()
                .flatten()
                .unwrap_or_else(|| "/var/lib/lxc".into()),
        )
    }

    /// The template cache (`lxc.cache_dir`).
    pub fn cache_dir(&self) -> PathBuf {
        PathBuf::from(
            self.get("lxc.cache_dir")
                .ok()
                .flatten()
                .unwrap_or_else(|| "/var/cache/lxc".into()),
        )
    }

    /// The config every new container starts from.
    pub fn default_config(&self) -> PathBuf {
        PathBuf::from(
            self.get("lxc.default_config")
                .ok()
                .flatten()
                .unwrap_or_else(|| "/etc/lxc/default.conf".into()),
        )
    }
}

fn lookup(key: &str) -> Option<Option<&'static str>> {
    KEYS.iter()
        .chain(EXTRA_KEYS)
        .find(|(k, _)| *k == key)
        .map(|(_, d)| *d)
}

fn names() -> String {
    KEYS.iter()
        .chain(EXTRA_KEYS)
        .map(|(k, _)| *k)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_old_names() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("lxc.conf");
        assert_eq!(
            SystemConfig::load(&p).unwrap().lxcpath(),
            PathBuf::from("/var/lib/lxc")
        );
        std::fs::write(
            &p,
            "# sys\nlxcpath = /srv/lxc\nlxc.bdev.zfs.root = tank/lxc\n",
        )
        .unwrap();
        let c = SystemConfig::load(&p).unwrap();
        assert_eq!(c.lxcpath(), PathBuf::from("/srv/lxc"));
        assert_eq!(
            c.get("lxc.bdev.zfs.root").unwrap().as_deref(),
            Some("tank/lxc")
        );
        assert_eq!(c.get("lxc.cgroup.pattern").unwrap(), None);
        assert!(c.get("lxc.nope").is_err());
        // A user's defaults are its own places; what its file sets wins.
        let user = crate::config::user_dirs::UserDirs::from_env(
            1000,
            |k| (k == "HOME").then(|| "/home/jo".to_string()),
            |_| None,
        );
        let u = SystemConfig::load_for(&d.path().join("none.conf"), user.clone()).unwrap();
        assert_eq!(u.lxcpath(), PathBuf::from("/home/jo/.local/share/lxc"));
        assert_eq!(u.cache_dir(), PathBuf::from("/home/jo/.cache/lxc"));
        assert_eq!(
            u.default_config(),
            PathBuf::from("/home/jo/.config/lxc/default.conf")
        );
        assert_eq!(
            SystemConfig::load_for(&p, user.clone()).unwrap().lxcpath(),
            PathBuf::from("/srv/lxc")
        );
        assert_eq!(
            config_path(user.as_ref()),
            PathBuf::from("/home/jo/.config/lxc/lxc.conf")
        );
        assert_eq!(config_path(None), PathBuf::from(SYSTEM_CONFIG));
        std::fs::write(&p, "lxc.lxcpath = /a\nlxc.colour = red\n").unwrap();
        let e = SystemConfig::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("lxc.conf:2: key `lxc.colour`: not a system config key"),
            "{e}"
        );
    }
}
