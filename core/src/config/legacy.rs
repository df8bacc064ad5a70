//! Legacy (LXC ≤ 2.0) key names and `update-config`, which rewrites a config
//! to the modern names in place, keeping comments, spacing and order, and
//! says what it changed and what it could not convert.

use std::path::Path;

use super::document::{write_atomic, Document, LineKind};
use super::error::ConfigError;
use super::keys;

/// One-to-one renames (from `lxc-update-config`).
pub const RENAMES: &[(&str, &str)] = &[
    ("lxc.utsname", "lxc.uts.name"),
    ("lxc.rootfs", "lxc.rootfs.path"),
    ("lxc.mount", "lxc.mount.fstab"),
    ("lxc.tty", "lxc.tty.max"),
    ("lxc.pts", "lxc.pty.max"),
    ("lxc.devttydir", "lxc.tty.dir"),
    ("lxc.console", "lxc.console.path"),
    ("lxc.aa_profile", "lxc.apparmor.profile"),
    ("lxc.aa_allow_incomplete", "lxc.apparmor.allow_incomplete"),
    ("lxc.se_context", "lxc.selinux.context"),
    ("lxc.id_map", "lxc.idmap"),
    ("lxc.seccomp", "lxc.seccomp.profile"),
    ("lxc.haltsignal", "lxc.signal.halt"),
    ("lxc.rebootsignal", "lxc.signal.reboot"),
    ("lxc.stopsignal", "lxc.signal.stop"),
    ("lxc.loglevel", "lxc.log.level"),
    ("lxc.logfile", "lxc.log.file"),
    ("lxc.syslog", "lxc.log.syslog"),
    ("lxc.init_cmd", "lxc.init.cmd"),
    ("lxc.init_uid", "lxc.init.uid"),
    ("lxc.init_gid", "lxc.init.gid"),
    ("lxc.network", "lxc.net"),
];

/// Keys LXC removed; accepted and ignored when loading, deleted by update-config.
pub const REMOVED: &[(&str, &str)] = &[
    (
        "lxc.rootfs.backend",
        "the backend is now the prefix of lxc.rootfs.path",
    ),
    ("lxc.pivotdir", "ignored since LXC 1.1"),
    ("lxc.kmsg", "removed in LXC 2.1"),
];

/// What a key name means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyName {
    /// A modern key (or unknown: the table decides).
    Modern(String),
    /// A legacy key with its modern name.
    Renamed(String),
    /// A removed key, with why.
    Removed(&'static str),
}

/// Tracks the NIC index of legacy `lxc.network.*` lines: each
/// `lxc.network.type` starts a new NIC.
#[derive(Debug, Clone, Default)]
pub struct LegacyNet {
    current: Option<u32>,
}

impl LegacyNet {
    /// Maps `key` to its modern name. `next_index` gives the first free NIC index;
    /// it is called only when a legacy `lxc.network.type` starts a new NIC.
    pub fn map(&mut self, key: &str, next_index: impl FnOnce() -> u32) -> Result<KeyName, String> {
        if let Some((_, why)) = REMOVED.iter().find(|(k, _)| *k == key) {
            return Ok(KeyName::Removed(why));
        }
        if key == "lxc.network" {
            self.current = None;
            return Ok(KeyName::Renamed("lxc.net".into()));
        }
        if let Some(sub) = key.strip_prefix("lxc.network.") {
            if sub == "type" {
                self.current = Some(next_index());
            }
            let index = self.current.ok_or_else(|| {
                format!("`{key}` comes before any lxc.network.type, so it belongs to no NIC")
            })?;
            let sub = match sub {
                "ipv4" => "ipv4.address",
                "ipv6" => "ipv6.address",
                s => s,
            };
            return Ok(KeyName::Renamed(format!("lxc.net.{index}.{sub}")));
        }
        if let Some(res) = key.strip_prefix("lxc.limit.") {
            return Ok(KeyName::Renamed(format!("lxc.prlimit.{res}")));
        }
        if let Some((_, new)) = RENAMES.iter().find(|(old, _)| *old == key) {
            return Ok(KeyName::Renamed((*new).to_string()));
        }
        Ok(KeyName::Modern(key.to_string()))
    }
}

/// One thing update-config did or could not do.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UpdateNote {
    /// 1-based line number.
    pub line: usize,
    /// What happened, as a sentence.
    pub what: String,
}

/// What update-config did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UpdateReport {
    /// Keys renamed or values rewritten.
    pub changed: Vec<UpdateNote>,
    /// Lines deleted (removed keys).
    pub removed: Vec<UpdateNote>,
    /// Lines left as they were because they could not be converted.
    pub unconverted: Vec<UpdateNote>,
    /// Advice that changes nothing (e.g. cgroup v1 keys).
    pub notes: Vec<UpdateNote>,
}

impl UpdateReport {
    /// Whether the file changes.
    pub fn changes_file(&self) -> bool {
        !self.changed.is_empty() || !self.removed.is_empty()
    }
}

/// Converts a document to modern keys in memory.
pub fn convert(doc: &mut Document) -> UpdateReport {
    let mut report = UpdateReport::default();
    let backend = doc
        .lines
        .iter()
        .filter_map(|l| l.entry())
        .filter(|(k, _)| *k == "lxc.rootfs.backend")
        .map(|(_, v)| v.to_string())
        .next_back()
        .unwrap_or_else(|| "dir".to_string());
    let mut next_index = first_free_net_index(doc);
    let mut net = LegacyNet::default();
    let mut delete = Vec::new();
    let mut cgroup_v1_seen = false;
    for idx in 0..doc.lines.len() {
        let line = idx + 1;
        let note = |what: String| UpdateNote { line, what };
        let (key, value, commented) = match &doc.lines[idx].kind {
            LineKind::Entry { key, value } => (key.clone(), value.clone(), false),
            LineKind::Comment => match commented_entry(&doc.lines[idx].raw) {
                Some(k) => (k, String::new(), true),
                None => continue,
            },
            _ => continue,
        };
        if commented {
            if let Some((_, new)) = RENAMES
                .iter()
                .find(|(old, _)| *old == key && *old != "lxc.network")
            {
                doc.set_key_at(idx, new);
                report
                    .changed
                    .push(note(format!("commented `{key}` → `{new}`")));
            } else if key.starts_with("lxc.network.") {
                report.unconverted.push(note(format!(
                    "commented `{key}` kept as is: a comment belongs to no NIC index"
                )));
            }
            continue;
        }
        match net.map(&key, || next_index) {
            Ok(KeyName::Removed(why)) => {
                delete.push(idx);
                report.removed.push(note(format!("`{key}` deleted: {why}")));
            }
            Ok(KeyName::Renamed(new)) => {
                if new.ends_with(".type") && key == "lxc.network.type" {
                    next_index += 1;
                }
                doc.set_key_at(idx, &new);
                if key == "lxc.rootfs"
                    && crate::storage::RootfsSpec::parse(&value).backend.is_none()
                    && !value.is_empty()
                {
                    let v = format!("{backend}:{value}");
                    doc.set_value_at(idx, &v);
                    report
                        .changed
                        .push(note(format!("`{key} = {value}` → `{new} = {v}`")));
                } else {
                    report.changed.push(note(format!("`{key}` → `{new}`")));
                }
            }
            Ok(KeyName::Modern(k)) => match keys::resolve(&k) {
                Err(why) => report
                    .unconverted
                    .push(note(format!("`{k}` left as is: {why}"))),
                Ok(r) => cgroup_v1_seen |= r.spec.group == "cgroup",
            },
            Err(why) => report.unconverted.push(note(format!("left as is: {why}"))),
        }
    }
    for idx in delete.into_iter().rev() {
        doc.lines.remove(idx);
    }
    if cgroup_v1_seen {
        report.notes.push(UpdateNote {
            line: 0,
            what: "cgroup v1 keys (lxc.cgroup.*) are kept: they work on v1 and hybrid hosts, and rlxc translates \
                   them on cgroup v2 hosts (see `rlxc config show`); LXC 7 accepts only lxc.cgroup2.*"
                .into(),
        });
    }
    report
}

fn first_free_net_index(doc: &Document) -> u32 {
    doc.lines
        .iter()
        .filter_map(|l| l.entry())
        .filter_map(|(k, _)| keys::resolve(k).ok().and_then(|r| r.net_index))
        .max()
        .map_or(0, |m| m + 1)
}

/// The key of a commented-out entry such as `# lxc.utsname = x`.
fn commented_entry(raw: &str) -> Option<String> {
    let body = raw.trim_start().strip_prefix('#')?.trim_start();
    let (key, _) = body.split_once('=')?;
    let key = key.trim();
    (key.starts_with("lxc.") && !key.contains(char::is_whitespace)).then(|| key.to_string())
}

/// `update-config -c FILE`: converts the file in place, keeping `FILE.backup`.
/// A file with nothing to convert is not touched at all.
pub fn update_file(path: &Path) -> Result<UpdateReport, ConfigError> {
    let original = std::fs::read(path).map_err(|e| ConfigError::io(path, &e))?;
    let mut doc = Document::parse(&original, Some(path))?;
    let report = convert(&mut doc);
    if report.changes_file() {
        let backup = path.with_file_name(format!(
            "{}.backup",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ));
        write_atomic(&backup, &original)?;
        doc.write_atomic(path)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUIDE: &str = "\
# from the 12.04 guide
lxc.utsname = CN
lxc.network.type=veth
lxc.network.link = lxcbr0
lxc.network.flags = up
lxc.network.ipv4 = 10.0.3.5/24 10.0.3.255
lxc.network.type = empty
lxc.cgroup.memory.limit_in_bytes = 320000000
lxc.rootfs = /var/lib/lxc/CN/rootfs
lxc.mount.entry=proc /var/lib/lxc/CN/rootfs/proc proc nodev,noexec,nosuid 0 0
lxc.mount = /var/lib/lxc/CN/fstab
lxc.cap.drop = sys_admin
lxc.aa_profile = lxc-CN-profile
lxc.tty=5
lxc.pts=1024
lxc.devttydir = lxc
lxc.console=/var/log/lxc/CN.console
lxc.arch = amd64
lxc.pivotdir = lxc_putold
#lxc.aa_profile = unconfined
";

    #[test]
    fn converts_the_guide_example() {
        let mut doc = Document::parse(GUIDE.as_bytes(), None).unwrap();
        let report = convert(&mut doc);
        let out = String::from_utf8(doc.to_bytes()).unwrap();
        let expected = "\
# from the 12.04 guide
lxc.uts.name = CN
lxc.net.0.type=veth
lxc.net.0.link = lxcbr0
lxc.net.0.flags = up
lxc.net.0.ipv4.address = 10.0.3.5/24 10.0.3.255
lxc.net.1.type = empty
lxc.cgroup.memory.limit_in_bytes = 320000000
lxc.rootfs.path = dir:/var/lib/lxc/CN/rootfs
lxc.mount.entry=proc /var/lib/lxc/CN/rootfs/proc proc nodev,noexec,nosuid 0 0
lxc.mount.fstab = /var/lib/lxc/CN/fstab
lxc.cap.drop = sys_admin
lxc.apparmor.profile = lxc-CN-profile
lxc.tty.max=5
lxc.pty.max=1024
lxc.tty.dir = lxc
lxc.console.path=/var/log/lxc/CN.console
lxc.arch = amd64
#lxc.apparmor.profile = unconfined
";
        assert_eq!(out, expected);
        assert_eq!(report.removed.len(), 1);
        assert_eq!(report.removed[0].line, 19);
        assert_eq!(report.changed.len(), 14);
        assert!(report.unconverted.is_empty(), "{:?}", report.unconverted);
        assert_eq!(report.notes.len(), 1);
    }

    #[test]
    fn backend_prefix_and_unknowns() {
        let mut doc = Document::parse(
            b"lxc.rootfs.backend = btrfs\nlxc.rootfs = /srv/c\nlxc.network.link = br0\nlxc.bogus = 1\n",
            None,
        )
        .unwrap();
        let r = convert(&mut doc);
        assert_eq!(
            String::from_utf8(doc.to_bytes()).unwrap(),
            "lxc.rootfs.path = btrfs:/srv/c\nlxc.network.link = br0\nlxc.bogus = 1\n"
        );
        assert_eq!(r.unconverted.len(), 2);
        assert!(r.unconverted[0]
            .what
            .contains("before any lxc.network.type"));
        assert_eq!(r.unconverted[1].line, 4);
    }

    #[test]
    fn modern_file_is_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        let text = "lxc.net.0.type = veth\n# lxc.uts.name = x\nlxc.uts.name = c\n";
        std::fs::write(&p, text).unwrap();
        let r = update_file(&p).unwrap();
        assert!(!r.changes_file());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), text);
        assert!(!dir.path().join("config.backup").exists());
    }

    #[test]
    fn update_keeps_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        std::fs::write(&p, GUIDE).unwrap();
        update_file(&p).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("config.backup")).unwrap(),
            GUIDE
        );
        assert!(std::fs::read_to_string(&p)
            .unwrap()
            .contains("lxc.net.1.type = empty"));
    }
}
