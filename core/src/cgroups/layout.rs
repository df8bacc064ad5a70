//! The host's cgroup layout (v1, v2 or hybrid), read from mountinfo.

use std::path::{Path, PathBuf};

use crate::config::cgroup::Version;

/// One mounted v1 hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct V1Hierarchy {
    /// Where it is mounted.
    pub mountpoint: PathBuf,
    /// Controllers bound to it (`cpu`, `cpuacct`, `name=systemd` …).
    pub controllers: Vec<String>,
}

/// The cgroup layout of a host.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CgroupLayout {
    /// v1 hierarchies.
    pub v1: Vec<V1Hierarchy>,
    /// The cgroup2 mount, if any.
    pub unified: Option<PathBuf>,
    /// Controllers available in cgroup2 (`cgroup.controllers` at its root).
    pub unified_controllers: Vec<String>,
}

/// The kind of layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LayoutKind {
    /// No cgroup filesystem at all.
    None,
    /// Only v1 hierarchies.
    Legacy,
    /// v1 controllers plus a cgroup2 mount.
    Hybrid,
    /// Only cgroup2.
    Unified,
}

impl CgroupLayout {
    /// Reads the layout from a mountinfo file (normally `/proc/self/mountinfo`).
    pub fn read(mountinfo: &Path) -> std::io::Result<CgroupLayout> {
        let text = std::fs::read_to_string(mountinfo)?;
        let mut layout = parse_mountinfo(&text);
        if let Some(root) = &layout.unified {
            layout.unified_controllers = std::fs::read_to_string(root.join("cgroup.controllers"))
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
        }
        Ok(layout)
    }

    /// Reads this host's layout.
    pub fn host() -> std::io::Result<CgroupLayout> {
        Self::read(Path::new("/proc/self/mountinfo"))
    }

    /// What kind of layout this is.
    pub fn kind(&self) -> LayoutKind {
        match (self.v1.is_empty(), self.unified.is_some()) {
            (true, false) => LayoutKind::None,
            (false, false) => LayoutKind::Legacy,
            (false, true) => LayoutKind::Hybrid,
            (true, true) => LayoutKind::Unified,
        }
    }

    /// Every v1 controller mounted (without `name=` hierarchies).
    pub fn v1_controllers(&self) -> Vec<&str> {
        self.v1
            .iter()
            .flat_map(|h| h.controllers.iter())
            .filter(|c| !c.starts_with("name="))
            .map(String::as_str)
            .collect()
    }

    /// Whether a setting of `version` for `controller` has a hierarchy here
    /// (`cgroup` stands for cgroup2's core files, which need no controller).
    pub fn has_controller(&self, version: Version, controller: &str) -> bool {
        match version {
            Version::V1 => self
                .v1
                .iter()
                .any(|h| h.controllers.iter().any(|c| c == controller)),
            Version::V2 => {
                self.unified.is_some()
                    && (controller == "cgroup"
                        || self.unified_controllers.iter().any(|c| c == controller))
            }
        }
    }

    /// The version cgroup limits are written in: v2 only when the unified
    /// hierarchy has the controllers (a pure v2 host, or a v2-first hybrid).
    pub fn preferred_version(&self) -> Version {
        let v1 = self.v1_controllers();
        if v1.is_empty() || (v1.len() == 1 && v1[0] == "net_cls") {
            Version::V2
        } else {
            Version::V1
        }
    }

    /// A short description, e.g. `hybrid: v1 cpu, memory…; cgroup2 with none`.
    pub fn describe(&self) -> String {
        let v1 = self.v1_controllers().join(", ");
        let v2 = if self.unified_controllers.is_empty() {
            "none".to_string()
        } else {
            self.unified_controllers.join(", ")
        };
        match self.kind() {
            LayoutKind::None => "no cgroup filesystem mounted".into(),
            LayoutKind::Legacy => format!("cgroup v1: {v1}"),
            LayoutKind::Hybrid => {
                format!("hybrid: v1 controllers {v1}; cgroup2 with controllers {v2}")
            }
            LayoutKind::Unified => format!("cgroup v2 with controllers {v2}"),
        }
    }

    /// A v2-only layout, for tests.
    pub fn fake_unified(controllers: &[&str]) -> Self {
        CgroupLayout {
            v1: Vec::new(),
            unified: Some("/sys/fs/cgroup".into()),
            unified_controllers: controllers.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// A v1-only layout, for tests.
    pub fn fake_legacy(controllers: &[&str]) -> Self {
        CgroupLayout {
            v1: controllers
                .iter()
                .map(|c| V1Hierarchy {
                    mountpoint: format!("/sys/fs/cgroup/{c}").into(),
                    controllers: vec![c.to_string()],
                })
                .collect(),
            unified: None,
            unified_controllers: Vec::new(),
        }
    }
}

/// Parses mountinfo text (without reading `cgroup.controllers`).
pub fn parse_mountinfo(text: &str) -> CgroupLayout {
    let mut layout = CgroupLayout::default();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let mountpoint = left.split_whitespace().nth(4).unwrap_or("");
        let mut r = right.split_whitespace();
        let fstype = r.next().unwrap_or("");
        let _source = r.next();
        let options = r.next().unwrap_or("");
        let mountpoint = PathBuf::from(unescape(mountpoint));
        match fstype {
            "cgroup2" if layout.unified.is_none() => layout.unified = Some(mountpoint),
            "cgroup" => {
                let controllers: Vec<String> = options
                    .split(',')
                    .filter(|o| {
                        crate::config::cgroup::V1_CONTROLLERS.contains(o) || o.starts_with("name=")
                    })
                    .map(str::to_string)
                    .collect();
                if !layout.v1.iter().any(|h| h.controllers == controllers) {
                    layout.v1.push(V1Hierarchy {
                        mountpoint,
                        controllers,
                    });
                }
            }
            _ => {}
        }
    }
    layout
}

/// mountinfo escapes space, tab, newline and backslash as octal.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            let n = u8::from_str_radix(&s[i + 1..i + 4], 8).unwrap_or(b'?');
            out.push(n as char);
            i += 4;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Saved from a test machine (hybrid layout).
    const HYBRID: &str = "\
25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 25 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
32 31 0:28 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
33 31 0:29 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd
34 31 0:30 / /sys/fs/cgroup/cpu rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu
35 31 0:31 / /sys/fs/cgroup/cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpuacct
36 31 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
37 31 0:33 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,freezer
";

    #[test]
    fn hybrid_host() {
        let l = parse_mountinfo(HYBRID);
        assert_eq!(l.kind(), LayoutKind::Hybrid);
        assert_eq!(
            l.v1_controllers(),
            vec!["cpu", "cpuacct", "memory", "freezer"]
        );
        assert_eq!(
            l.unified.as_deref(),
            Some(Path::new("/sys/fs/cgroup/unified"))
        );
        assert_eq!(l.preferred_version(), Version::V1);
        assert!(l
            .describe()
            .starts_with("hybrid: v1 controllers cpu, cpuacct"));
    }

    #[test]
    fn unified_host() {
        let l = parse_mountinfo("30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
        assert_eq!(l.kind(), LayoutKind::Unified);
        assert_eq!(l.preferred_version(), Version::V2);
        assert_eq!(parse_mountinfo("").kind(), LayoutKind::None);
    }

    #[test]
    fn reads_controllers_from_a_fake_tree() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("cg");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
        let mi = d.path().join("mountinfo");
        std::fs::write(
            &mi,
            format!("30 1 0:26 / {} rw - cgroup2 cgroup2 rw\n", root.display()),
        )
        .unwrap();
        let l = CgroupLayout::read(&mi).unwrap();
        assert_eq!(l.unified_controllers, vec!["cpu", "memory", "pids"]);
    }

    #[test]
    fn unescapes_mountpoints() {
        assert_eq!(unescape("/a\\040b"), "/a b");
    }
}
