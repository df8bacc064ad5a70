//! cgroup settings as the config language has them: one model for `lxc.cgroup.*` (v1)
//! and `lxc.cgroup2.*` (v2), with the checks of their keys and values. Translating
//! them for a host and applying them is [`crate::cgroups`]' work.

use std::fmt;

use super::value::{byte_size, ranged, uint};

/// cgroup hierarchy version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Version {
    /// Legacy per-controller hierarchies (`lxc.cgroup.*`).
    V1,
    /// The unified hierarchy (`lxc.cgroup2.*`).
    V2,
}

impl Version {
    /// The config key prefix for this version.
    pub fn prefix(self) -> &'static str {
        match self {
            Version::V1 => "lxc.cgroup.",
            Version::V2 => "lxc.cgroup2.",
        }
    }
}

/// v1 controllers.
pub const V1_CONTROLLERS: &[&str] = &[
    "blkio",
    "cpu",
    "cpuacct",
    "cpuset",
    "devices",
    "freezer",
    "hugetlb",
    "memory",
    "net_cls",
    "net_prio",
    "perf_event",
    "pids",
    "rdma",
    "misc",
];

/// v2 controllers (plus `cgroup` for core files and `devices`, which rlxc
/// implements with eBPF as LXC does).
pub const V2_CONTROLLERS: &[&str] = &[
    "cgroup", "cpu", "cpuset", "devices", "hugetlb", "io", "memory", "misc", "pids", "rdma",
];

/// Checks the `<controller>.<file>` part of a cgroup key.
pub fn check_key(v: Version, rest: &str) -> Result<(), String> {
    let (ctrl, file) = rest.split_once('.').unwrap_or((rest, ""));
    let known = match v {
        Version::V1 => V1_CONTROLLERS,
        Version::V2 => V2_CONTROLLERS,
    };
    if !known.contains(&ctrl) {
        let hint = match v {
            Version::V1 if V2_CONTROLLERS.contains(&ctrl) => {
                " (it is a cgroup v2 controller: use lxc.cgroup2.)"
            }
            _ => "",
        };
        return Err(format!(
            "`{ctrl}` is not a cgroup {} controller{hint} ({})",
            if v == Version::V1 { "v1" } else { "v2" },
            known.join(", ")
        ));
    }
    if file.is_empty() {
        return Err(format!(
            "`{rest}` names a controller but no file (e.g. {ctrl}.max)"
        ));
    }
    Ok(())
}

fn size_or(v: &str, special: &[&str]) -> Result<(), String> {
    if special.contains(&v) {
        return Ok(());
    }
    byte_size(v).map(|_| ())
}

fn device_rule(v: &str) -> Result<(), String> {
    if v == "a" {
        return Ok(());
    }
    let bad = || format!("`{v}` is not a device rule like `c 1:3 rwm` or `a`");
    let f: Vec<&str> = v.split_whitespace().collect();
    let (kind, nums, access) = match f.as_slice() {
        [k, n, a] => (*k, *n, *a),
        [k, n] => (*k, *n, "rwm"),
        _ => return Err(bad()),
    };
    let num_ok = |s: &str| s == "*" || s.parse::<u32>().is_ok();
    let nums_ok = nums
        .split_once(':')
        .is_some_and(|(a, b)| num_ok(a) && num_ok(b));
    let access_ok = !access.is_empty() && access.chars().all(|c| "rwm".contains(c));
    if ["a", "b", "c"].contains(&kind) && nums_ok && access_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

fn cpu_list(v: &str) -> Result<(), String> {
    let ok = v.split(',').all(|r| {
        let (a, b) = r.split_once('-').unwrap_or((r, r));
        matches!((a.trim().parse::<u32>(), b.trim().parse::<u32>()), (Ok(x), Ok(y)) if x <= y)
    });
    if ok || v.is_empty() {
        Ok(())
    } else {
        Err(format!("`{v}` is not a CPU or node list like 0-3,5"))
    }
}

/// Checks a value for the cgroup file named in `key` (the full config key).
pub fn check_value(v: Version, key: &str, value: &str) -> Result<(), String> {
    let file = key.strip_prefix(v.prefix()).unwrap_or(key);
    if value.is_empty() {
        return Err("a cgroup value cannot be empty".into());
    }
    match (v, file) {
        (_, "devices.allow" | "devices.deny") => device_rule(value),
        (_, "cpuset.cpus" | "cpuset.mems") => cpu_list(value),
        (_, "pids.max") if value == "max" => Ok(()),
        (_, "pids.max") => uint(value).map(|_| ()),
        (Version::V1, f) if f.starts_with("memory.") && f.ends_with("_in_bytes") => {
            size_or(value, &["-1"])
        }
        (Version::V1, "cpu.shares") => ranged(value, 2, 262_144),
        (Version::V1, "cpu.cfs_quota_us") if value == "-1" => Ok(()),
        (Version::V1, "cpu.cfs_quota_us" | "cpu.cfs_period_us") => uint(value).map(|_| ()),
        (Version::V1, "blkio.weight") => ranged(value, 10, 1000),
        (
            Version::V2,
            "memory.max" | "memory.high" | "memory.low" | "memory.min" | "memory.swap.max",
        ) => size_or(value, &["max"]),
        (Version::V2, "cpu.weight") => ranged(value, 1, 10_000),
        (Version::V2, "cpu.max") => {
            let mut w = value.split_whitespace();
            let quota_ok = w
                .next()
                .is_some_and(|q| q == "max" || q.parse::<u64>().is_ok());
            let period_ok = w.next().is_none_or(|p| p.parse::<u64>().is_ok());
            if quota_ok && period_ok && w.next().is_none() {
                Ok(())
            } else {
                Err(format!("`{value}` is not `QUOTA|max [PERIOD]`"))
            }
        }
        (Version::V2, "io.weight") => {
            let n = value.strip_prefix("default ").unwrap_or(value);
            ranged(n, 1, 10_000)
        }
        _ => Ok(()),
    }
}

/// One cgroup write: `<controller>.<file> = value` in a hierarchy version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CgroupSetting {
    /// Which hierarchy's file.
    pub version: Version,
    /// `controller.file`, e.g. `memory.max`.
    pub file: String,
    /// The value to write.
    pub value: String,
}

impl CgroupSetting {
    /// A setting.
    pub fn new(version: Version, file: &str, value: &str) -> Self {
        CgroupSetting {
            version,
            file: file.to_string(),
            value: value.to_string(),
        }
    }

    /// The config key, e.g. `lxc.cgroup2.memory.max`.
    pub fn key(&self) -> String {
        format!("{}{}", self.version.prefix(), self.file)
    }

    /// The controller part of the file name.
    pub fn controller(&self) -> &str {
        self.file.split('.').next().unwrap_or("")
    }
}

impl fmt::Display for CgroupSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", self.key(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked() {
        assert!(check_value(Version::V1, "lxc.cgroup.devices.allow", "c 136:* rwm").is_ok());
        assert!(check_value(Version::V1, "lxc.cgroup.devices.allow", "c 1:3 rwx").is_err());
        assert!(check_value(Version::V1, "lxc.cgroup.memory.limit_in_bytes", "300M").is_ok());
        assert!(check_value(Version::V1, "lxc.cgroup.memory.limit_in_bytes", "lots").is_err());
        assert!(check_value(Version::V2, "lxc.cgroup2.cpu.max", "50000 100000").is_ok());
        assert!(check_value(Version::V2, "lxc.cgroup2.cpu.weight", "0").is_err());
        assert!(check_key(Version::V1, "io.weight")
            .unwrap_err()
            .contains("use lxc.cgroup2."));
        assert!(check_key(Version::V2, "memory").is_err());
    }
}
