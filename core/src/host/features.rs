//! `checkconfig`: what this kernel and host offer containers. Every answer
//! comes from the running system (`/proc`, `/sys`, `/dev`) or, for link types
//! that cannot be seen without creating one, from the kernel's own config.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::cgroups::{CgroupLayout, LayoutKind};

/// Where to look; tests point these at a temporary tree.
#[derive(Debug, Clone)]
pub struct HostPaths {
    /// `/proc`.
    pub proc: PathBuf,
    /// `/sys`.
    pub sys: PathBuf,
    /// `/dev`.
    pub dev: PathBuf,
    /// Kernel config candidates, first readable wins (`.gz` is decompressed).
    pub kernel_configs: Vec<PathBuf>,
}

impl HostPaths {
    /// This host.
    pub fn host() -> Self {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        HostPaths {
            proc: "/proc".into(),
            sys: "/sys".into(),
            dev: "/dev".into(),
            kernel_configs: vec![
                "/proc/config.gz".into(),
                format!("/boot/config-{release}").into(),
                format!("/lib/modules/{release}/build/.config").into(),
            ],
        }
    }
}

/// A feature's state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Present.
    Enabled,
    /// Built as a module (loadable).
    Module,
    /// Absent.
    Missing,
    /// Could not be determined.
    Unknown,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Feature {
    /// Section (`namespaces`, `cgroups`, `network`, `storage`, `security`).
    pub group: &'static str,
    /// What.
    pub name: String,
    /// State.
    pub status: Status,
    /// Whether containers cannot start without it.
    pub required: bool,
    /// How it was found, or what it means.
    pub detail: String,
}

impl Feature {
    /// Whether this is a required feature that is missing.
    pub fn is_fatal(&self) -> bool {
        self.required && matches!(self.status, Status::Missing)
    }
}

/// Runs every check.
pub fn check(paths: &HostPaths) -> Vec<Feature> {
    let kconfig = KernelConfig::read(&paths.kernel_configs);
    let mut out = Vec::new();
    namespaces(paths, &mut out);
    cgroups(paths, &kconfig, &mut out);
    network(paths, &kconfig, &mut out);
    storage(paths, &kconfig, &mut out);
    security(paths, &kconfig, &mut out);
    out
}

fn feature(
    group: &'static str,
    name: &str,
    status: Status,
    required: bool,
    detail: impl Into<String>,
) -> Feature {
    Feature {
        group,
        name: name.to_string(),
        status,
        required,
        detail: detail.into(),
    }
}

fn present(p: &Path) -> Status {
    if p.exists() {
        Status::Enabled
    } else {
        Status::Missing
    }
}

fn namespaces(paths: &HostPaths, out: &mut Vec<Feature>) {
    for (ns, name, required) in [
        ("mnt", "mount", true),
        ("pid", "pid", true),
        ("uts", "utsname", true),
        ("ipc", "ipc", true),
        ("net", "network", true),
        ("cgroup", "cgroup", false),
        ("user", "user", false),
        ("time", "time", false),
    ] {
        let p = paths.proc.join("self/ns").join(ns);
        out.push(feature(
            "namespaces",
            name,
            present(&p),
            required,
            p.display().to_string(),
        ));
    }
}

fn cgroups(paths: &HostPaths, k: &KernelConfig, out: &mut Vec<Feature>) {
    let layout = CgroupLayout::read(&paths.proc.join("self/mountinfo")).unwrap_or_default();
    let status = if layout.kind() == LayoutKind::None {
        Status::Missing
    } else {
        Status::Enabled
    };
    out.push(feature(
        "cgroups",
        "cgroup filesystem",
        status,
        true,
        layout.describe(),
    ));
    let v1 = layout.v1_controllers();
    for ctrl in [
        "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids",
    ] {
        let (st, how) = if v1.contains(&ctrl) {
            (Status::Enabled, "v1 hierarchy")
        } else if layout
            .unified_controllers
            .iter()
            .any(|c| c == ctrl || (ctrl == "blkio" && c == "io"))
        {
            (Status::Enabled, "cgroup2")
        } else if ctrl == "freezer" && layout.unified.is_some() {
            (Status::Enabled, "cgroup2 cgroup.freeze")
        } else if ctrl == "devices" && layout.unified.is_some() && k.get("CGROUP_BPF") == Some('y')
        {
            (Status::Enabled, "cgroup2 eBPF device filter")
        } else {
            (Status::Missing, "not mounted")
        };
        out.push(feature(
            "cgroups",
            &format!("{ctrl} controller"),
            st,
            false,
            how,
        ));
    }
}

fn network(paths: &HostPaths, k: &KernelConfig, out: &mut Vec<Feature>) {
    for (name, option, module) in [
        ("veth", "VETH", "veth"),
        ("bridge", "BRIDGE", "bridge"),
        ("macvlan", "MACVLAN", "macvlan"),
        ("vlan", "VLAN_8021Q", "8021q"),
        ("ipvlan", "IPVLAN", "ipvlan"),
        ("nat (for lxcbr0)", "NF_NAT", "nf_nat"),
        ("nftables", "NF_TABLES", "nf_tables"),
    ] {
        let (st, how) = k.status(option, &paths.sys.join("module").join(module));
        out.push(feature("network", name, st, false, how));
    }
}

fn storage(paths: &HostPaths, k: &KernelConfig, out: &mut Vec<Feature>) {
    let filesystems = std::fs::read_to_string(paths.proc.join("filesystems")).unwrap_or_default();
    let has_fs = |fs: &str| {
        filesystems
            .lines()
            .any(|l| l.split_whitespace().last() == Some(fs))
    };
    for (fs, option, required) in [
        ("devpts", "DEVPTS_FS", true),
        ("overlay", "OVERLAY_FS", false),
        ("btrfs", "BTRFS_FS", false),
        ("zfs", "", false),
        ("fuse", "FUSE_FS", false),
    ] {
        let (st, how) = if has_fs(fs) {
            (Status::Enabled, "listed in /proc/filesystems".to_string())
        } else if option.is_empty() {
            (
                Status::Missing,
                "not in /proc/filesystems (zfs-fuse provides it through fuse)".to_string(),
            )
        } else {
            k.status(option, &paths.sys.join("module").join(fs))
        };
        out.push(feature("storage", fs, st, required, how));
    }
    let lc = paths.dev.join("loop-control");
    out.push(feature(
        "storage",
        "loop devices",
        present(&lc),
        false,
        lc.display().to_string(),
    ));
}

fn security(paths: &HostPaths, k: &KernelConfig, out: &mut Vec<Feature>) {
    let status = std::fs::read_to_string(paths.proc.join("self/status")).unwrap_or_default();
    let seccomp = if status.lines().any(|l| l.starts_with("Seccomp_filters:"))
        || k.get("SECCOMP_FILTER") == Some('y')
    {
        Status::Enabled
    } else if status.lines().any(|l| l.starts_with("Seccomp:")) {
        Status::Unknown
    } else {
        Status::Missing
    };
    out.push(feature(
        "security",
        "seccomp",
        seccomp,
        false,
        "/proc/self/status",
    ));
    let aa = paths.sys.join("kernel/security/apparmor");
    out.push(feature(
        "security",
        "apparmor",
        present(&aa),
        false,
        if aa.exists() {
            "profiles will be applied"
        } else {
            "not on this host: profiles are not applied"
        },
    ));
    let se = paths.sys.join("fs/selinux");
    out.push(feature(
        "security",
        "selinux",
        present(&se),
        false,
        se.display().to_string(),
    ));
    let cap = paths.proc.join("sys/kernel/cap_last_cap");
    let last = std::fs::read_to_string(&cap)
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    out.push(feature(
        "security",
        "capabilities",
        present(&cap),
        false,
        format!("cap_last_cap = {last}"),
    ));
}

/// A parsed kernel config (`CONFIG_X=y|m`).
#[derive(Debug, Clone, Default)]
pub struct KernelConfig {
    options: BTreeMap<String, char>,
    source: Option<PathBuf>,
}

impl KernelConfig {
    /// Reads the first readable candidate.
    pub fn read(candidates: &[PathBuf]) -> KernelConfig {
        for path in candidates {
            if let Some(text) = read_maybe_gz(path) {
                return KernelConfig {
                    options: parse_kernel_config(&text),
                    source: Some(path.clone()),
                };
            }
        }
        KernelConfig::default()
    }

    /// `y`, `m` or `None` for an option without its `CONFIG_` prefix.
    pub fn get(&self, option: &str) -> Option<char> {
        self.options.get(option).copied()
    }

    fn status(&self, option: &str, module_dir: &Path) -> (Status, String) {
        let src = self.source.as_ref().map(|p| p.display().to_string());
        match (self.get(option), &src) {
            (Some('y'), Some(s)) => (Status::Enabled, format!("CONFIG_{option}=y in {s}")),
            (Some('m'), Some(s)) => (Status::Module, format!("CONFIG_{option}=m in {s}")),
            (_, Some(s)) => (
                Status::Missing,
                format!("CONFIG_{option} is not set in {s}"),
            ),
            (_, None) if module_dir.exists() => {
                (Status::Enabled, format!("{} exists", module_dir.display()))
            }
            (_, None) => (
                Status::Unknown,
                "no kernel config found and the module is not loaded".into(),
            ),
        }
    }
}

fn read_maybe_gz(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .ok()?;
        Some(s)
    } else {
        String::from_utf8(bytes).ok()
    }
}

/// Parses `CONFIG_X=y` lines.
pub fn parse_kernel_config(text: &str) -> BTreeMap<String, char> {
    text.lines()
        .filter_map(|l| l.strip_prefix("CONFIG_"))
        .filter_map(|l| l.split_once('='))
        .filter_map(|(k, v)| match v {
            "y" => Some((k.to_string(), 'y')),
            "m" => Some((k.to_string(), 'm')),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_host() -> (tempfile::TempDir, HostPaths) {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        for ns in ["mnt", "pid", "uts", "ipc", "net", "user"] {
            std::fs::create_dir_all(root.join("proc/self/ns")).unwrap();
            std::fs::write(root.join("proc/self/ns").join(ns), "").unwrap();
        }
        std::fs::write(
            root.join("proc/self/mountinfo"),
            "34 31 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n",
        )
        .unwrap();
        std::fs::write(root.join("proc/filesystems"), "nodev\tdevpts\n\tbtrfs\n").unwrap();
        std::fs::write(
            root.join("proc/self/status"),
            "Seccomp:\t0\nSeccomp_filters:\t0\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("sys/module")).unwrap();
        std::fs::create_dir_all(root.join("dev")).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(
            &mut gz,
            b"CONFIG_VETH=y\nCONFIG_MACVLAN=m\n# CONFIG_VLAN_8021Q is not set\n",
        )
        .unwrap();
        std::fs::write(root.join("config.gz"), gz.finish().unwrap()).unwrap();
        let paths = HostPaths {
            proc: root.join("proc"),
            sys: root.join("sys"),
            dev: root.join("dev"),
            kernel_configs: vec![root.join("nope"), root.join("config.gz")],
        };
        (d, paths)
    }

    fn find<'a>(f: &'a [Feature], name: &str) -> &'a Feature {
        f.iter()
            .find(|x| x.name == name)
            .unwrap_or_else(|| panic!("{name}"))
    }

    #[test]
    fn reads_a_fake_host() {
        let (_d, paths) = fake_host();
        let f = check(&paths);
        assert_eq!(find(&f, "veth").status, Status::Enabled);
        assert_eq!(find(&f, "macvlan").status, Status::Module);
        assert_eq!(find(&f, "vlan").status, Status::Missing);
        assert_eq!(find(&f, "cgroup").status, Status::Missing);
        assert_eq!(find(&f, "memory controller").status, Status::Enabled);
        assert_eq!(find(&f, "cpu controller").status, Status::Missing);
        assert_eq!(find(&f, "btrfs").status, Status::Enabled);
        assert_eq!(find(&f, "seccomp").status, Status::Enabled);
        assert_eq!(find(&f, "apparmor").status, Status::Missing);
        assert!(
            f.iter().all(|x| !x.is_fatal()),
            "all required features are present"
        );
    }

    #[test]
    fn missing_required_feature_is_fatal() {
        let (d, paths) = fake_host();
        std::fs::remove_file(d.path().join("proc/self/ns/pid")).unwrap();
        let f = check(&paths);
        assert!(find(&f, "pid").is_fatal());
    }
}
