//! Loading a container config: lines in order, `lxc.include` of files and
//! directories (with loop detection), legacy names mapped, every error kept so
//! that `config check` can report them all at once.

use std::path::{Path, PathBuf};

use super::document::{Document, LineKind};
use super::error::{ConfigError, ConfigErrors, Origin};
use super::legacy::{KeyName, LegacyNet};
use super::model::{Config, Ignored};
use super::value;

/// Loads a container config file with its includes.
pub fn load_file(path: &Path) -> Result<Config, ConfigErrors> {
    let mut loader = Loader::default();
    loader.file(path, None);
    loader.finish()
}

/// Loads config text that did not come from a file (`path` names it in errors).
pub fn load_text(text: &[u8], path: &Path) -> Result<Config, ConfigErrors> {
    let mut loader = Loader::default();
    match Document::parse(text, Some(path)) {
        Ok(doc) => loader.document(&doc),
        Err(e) => loader.errors.push(e),
    }
    loader.finish()
}

/// Builds a config from several sources in order (default config, then the
/// container's, then `-f`, then `-s` overrides), collecting every error.
#[derive(Debug, Default)]
pub struct Loader {
    config: Config,
    errors: Vec<ConfigError>,
    stack: Vec<PathBuf>,
    net: LegacyNet,
}

impl Loader {
    /// A loader with an empty config.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `path` (a file, or a directory of `*.conf`) into the config.
    /// `from` is the `lxc.include` line that named it.
    pub fn file(&mut self, path: &Path, from: Option<&Origin>) {
        let report = |reason: String| match from {
            Some(o) => ConfigError::key(o, "lxc.include", reason),
            None => ConfigError::Io {
                path: path.to_path_buf(),
                reason,
            },
        };
        let canonical = match std::fs::canonicalize(path) {
            Ok(c) => c,
            // LXC includes `…/userns.conf.d/` whether or not it exists: a missing
            // directory named with a trailing slash is not an error.
            Err(e)
                if from.is_some()
                    && e.kind() == std::io::ErrorKind::NotFound
                    && path.to_string_lossy().ends_with('/') =>
            {
                tracing::debug!(path = %path.display(), "included directory does not exist");
                return;
            }
            Err(e) => {
                return self
                    .errors
                    .push(report(format!("cannot read {}: {e}", path.display())))
            }
        };
        if canonical.is_dir() {
            return self.directory(&canonical, from);
        }
        if let Some(pos) = self.stack.iter().position(|p| *p == canonical) {
            let chain: Vec<String> = self.stack[pos..]
                .iter()
                .chain(std::iter::once(&canonical))
                .map(|p| p.display().to_string())
                .collect();
            return self
                .errors
                .push(report(format!("include loop: {}", chain.join(" → "))));
        }
        let doc = match std::fs::read(path) {
            Ok(bytes) => Document::parse(&bytes, Some(path)),
            Err(e) => {
                return self
                    .errors
                    .push(report(format!("cannot read {}: {e}", path.display())))
            }
        };
        match doc {
            Ok(doc) => {
                self.config.files.push(path.to_path_buf());
                self.stack.push(canonical);
                self.document(&doc);
                self.stack.pop();
            }
            Err(e) => self.errors.push(e),
        }
    }

    fn directory(&mut self, dir: &Path, from: Option<&Origin>) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                let reason = format!("cannot read directory {}: {e}", dir.display());
                return self.errors.push(match from {
                    Some(o) => ConfigError::key(o, "lxc.include", reason),
                    None => ConfigError::Io {
                        path: dir.to_path_buf(),
                        reason,
                    },
                });
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "conf") && p.is_file())
            .collect();
        files.sort();
        for f in files {
            self.file(&f, from);
        }
    }

    /// Applies every line of a parsed document.
    pub fn document(&mut self, doc: &Document) {
        for (i, line) in doc.lines.iter().enumerate() {
            let origin = Origin {
                file: doc.path.clone(),
                line: i + 1,
            };
            match &line.kind {
                LineKind::Entry { key, value } => self.entry(key, value, &origin),
                LineKind::Invalid(reason) => self.errors.push(ConfigError::Line {
                    origin,
                    reason: reason.clone(),
                }),
                LineKind::Blank | LineKind::Comment => {}
            }
        }
    }

    /// Applies a `-s KEY=VALUE` override.
    pub fn override_item(&mut self, item: &str) {
        match item.split_once('=') {
            Some((k, v)) => self.entry(
                k.trim(),
                super::document::dequote(v.trim()),
                &Origin::command_line(),
            ),
            None => self.errors.push(ConfigError::Line {
                origin: Origin::command_line(),
                reason: format!("`{item}` is not KEY=VALUE"),
            }),
        }
    }

    /// Applies one `key = value`.
    pub fn entry(&mut self, key: &str, value: &str, origin: &Origin) {
        if key == "lxc.include" {
            if value.is_empty() {
                return;
            }
            let base = origin
                .file
                .as_deref()
                .and_then(Path::parent)
                .unwrap_or(Path::new("."));
            let target = base.join(value);
            return self.file(&target, Some(origin));
        }
        let config = &self.config;
        let modern = match self.net.map(key, || config.next_net_index()) {
            Ok(KeyName::Modern(k) | KeyName::Renamed(k)) => k,
            Ok(KeyName::Removed(why)) => return self.removed(key, value, origin, why),
            Err(why) => return self.errors.push(ConfigError::key(origin, key, why)),
        };
        if let Err(e) = self.config.set(&modern, value, origin) {
            // Name the key as the user wrote it, and the modern name when it differs.
            self.errors.push(match e {
                ConfigError::Key { origin, reason, .. } if modern != key => ConfigError::Key {
                    origin,
                    key: key.to_string(),
                    reason: format!("{reason} (read as `{modern}`)"),
                },
                other => other,
            });
        }
    }

    fn removed(&mut self, key: &str, value: &str, origin: &Origin, why: &'static str) {
        if key == "lxc.rootfs.backend" {
            if let Err(reason) = value::check(value::Check::Backend, key, value) {
                return self.errors.push(ConfigError::key(origin, key, reason));
            }
            self.config.legacy_backend = Some(value.to_string());
        }
        tracing::warn!("{origin}: `{key}` has no effect: {why}");
        self.config.ignored.push(Ignored {
            origin: origin.clone(),
            key: key.to_string(),
            why,
        });
    }

    /// Checks what only the whole config can show, and returns it or every error.
    pub fn finish(mut self) -> Result<Config, ConfigErrors> {
        for nic in self.config.nics() {
            if nic.kind.is_none() {
                let first = self
                    .config
                    .items()
                    .iter()
                    .find(|i| i.net_index == Some(nic.index));
                let origin = first.map(|i| i.origin.clone()).unwrap_or_default();
                self.errors.push(ConfigError::key(
                    &origin,
                    &format!("lxc.net.{}", nic.index),
                    format!("NIC {} has no lxc.net.{}.type", nic.index, nic.index),
                ));
            }
        }
        if self.errors.is_empty() {
            Ok(self.config)
        } else {
            Err(ConfigErrors(self.errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn includes_files_and_directories_in_order() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("conf.d")).unwrap();
        write(
            &d.path().join("conf.d"),
            "b.conf",
            "lxc.cap.drop = sys_time\n",
        );
        write(
            &d.path().join("conf.d"),
            "a.conf",
            "lxc.cap.drop = sys_module\n",
        );
        write(&d.path().join("conf.d"), "README", "not a config\n");
        write(
            d.path(),
            "common.conf",
            "lxc.tty.max = 4\nlxc.include = conf.d/\n",
        );
        let top = write(
            d.path(),
            "config",
            "lxc.include = common.conf\nlxc.include = missing.d/\nlxc.tty.max = 2\n",
        );
        let c = load_file(&top).unwrap();
        assert_eq!(c.get("lxc.tty.max"), Some("2"));
        assert_eq!(c.get_all("lxc.cap.drop"), vec!["sys_module", "sys_time"]);
        assert_eq!(c.files.len(), 4);
    }

    #[test]
    fn include_loop_and_missing_file_are_errors_with_origin() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "a", "lxc.include = b\n");
        write(d.path(), "b", "\nlxc.include = a\n");
        let err = load_file(&d.path().join("a")).unwrap_err().to_string();
        assert!(
            err.contains("b:2: key `lxc.include`: include loop:"),
            "{err}"
        );
        let top = write(d.path(), "c", "lxc.include = /nonexistent/x.conf\n");
        let err = load_file(&top).unwrap_err().to_string();
        assert!(
            err.contains("c:1: key `lxc.include`: cannot read /nonexistent/x.conf"),
            "{err}"
        );
    }

    #[test]
    fn every_error_is_reported() {
        let d = tempfile::tempdir().unwrap();
        let top = write(
            d.path(),
            "config",
            "lxc.tty.max = x\nlxc.bogus = 1\nutsname = y\njunk\nlxc.network.type = vethh\nlxc.net.3.link = br0\n",
        );
        let errs = load_file(&top).unwrap_err().0;
        let text: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(errs.len(), 6, "{text:#?}");
        assert!(text[0].ends_with("config:1: key `lxc.tty.max`: `x` is not a non-negative integer"));
        assert!(text[1].contains("config:2: key `lxc.bogus`: unknown key"));
        assert!(text[2].contains(
            "config:3: key `utsname`: unknown key (container config keys start with `lxc.`)"
        ));
        assert!(text[3].contains("config:4: expected `key = value`"));
        assert!(text[4].contains(
            "config:5: key `lxc.network.type`: `vethh` is not a network type; did you mean `veth`?"
        ));
        assert!(text[5].contains("config:6: key `lxc.net.3`: NIC 3 has no lxc.net.3.type"));
    }

    #[test]
    fn legacy_networks_get_indexes_after_modern_ones() {
        let d = tempfile::tempdir().unwrap();
        let top = write(
            d.path(),
            "config",
            "lxc.net.0.type = empty\nlxc.network.type = veth\nlxc.network.ipv4 = 10.0.3.5/24\nlxc.rootfs.backend = dir\nlxc.rootfs = /r\n",
        );
        let c = load_file(&top).unwrap();
        assert_eq!(c.get("lxc.net.1.ipv4.address"), Some("10.0.3.5/24"));
        assert_eq!(c.rootfs_path().as_deref(), Some("dir:/r"));
        assert_eq!(c.ignored.len(), 1);
    }

    #[test]
    fn overrides() {
        let mut l = Loader::new();
        l.override_item("lxc.uts.name=\"web\"");
        l.override_item("nonsense");
        let errs = l.finish().unwrap_err();
        assert_eq!(errs.0.len(), 1);
        assert!(errs
            .to_string()
            .starts_with("command line: `nonsense` is not KEY=VALUE"));
    }
}
