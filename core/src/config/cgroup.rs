//! cgroup settings: one model for `lxc.cgroup.*` (v1) and `lxc.cgroup2.*` (v2),
//! with translation both ways so that a 12.04-era config runs on a v2 host and
//! a modern config on a v1 or hybrid host. Every translation is reported.

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

/// What one translation did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Translation {
    /// The settings translated (usually one; cpu quota and period go together).
    pub from: Vec<CgroupSetting>,
    /// What they became (empty when they could not be translated).
    pub to: Vec<CgroupSetting>,
    /// A sentence on how, or why not.
    pub note: String,
}

/// The outcome of translating a list of settings to one version.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TranslationReport {
    /// The settings to apply, in order.
    pub settings: Vec<CgroupSetting>,
    /// Every setting that changed version, and how.
    pub translated: Vec<Translation>,
    /// Settings that have no equivalent, with why (not applied).
    pub untranslatable: Vec<Translation>,
}

/// Translates every setting in `input` that is not already `target` into `target`.
pub fn translate(input: &[CgroupSetting], target: Version) -> TranslationReport {
    let mut report = TranslationReport::default();
    let mut consumed = vec![false; input.len()];
    for (i, s) in input.iter().enumerate() {
        if consumed[i] {
            continue;
        }
        if s.version == target {
            report.settings.push(s.clone());
            continue;
        }
        let (from, result) = match target {
            Version::V2 => v1_to_v2(input, i, &mut consumed),
            Version::V1 => v2_to_v1(input, i),
        };
        match result {
            Ok((to, note)) => {
                report.settings.extend(to.iter().cloned());
                report.translated.push(Translation { from, to, note });
            }
            Err(note) => report.untranslatable.push(Translation {
                from,
                to: Vec::new(),
                note,
            }),
        }
    }
    report
}

type Outcome = Result<(Vec<CgroupSetting>, String), String>;

fn v2(file: &str, value: impl Into<String>) -> CgroupSetting {
    CgroupSetting::new(Version::V2, file, &value.into())
}

fn v1(file: &str, value: impl Into<String>) -> CgroupSetting {
    CgroupSetting::new(Version::V1, file, &value.into())
}

fn find_last<'a>(
    input: &'a [CgroupSetting],
    v: Version,
    file: &str,
) -> Option<(usize, &'a CgroupSetting)> {
    input
        .iter()
        .enumerate()
        .rev()
        .find(|(_, s)| s.version == v && s.file == file)
}

fn v1_to_v2(
    input: &[CgroupSetting],
    i: usize,
    consumed: &mut [bool],
) -> (Vec<CgroupSetting>, Outcome) {
    let s = &input[i];
    let val = s.value.as_str();
    let max_if_neg = |v: &str| {
        if v == "-1" {
            "max".to_string()
        } else {
            v.to_string()
        }
    };
    let out: Outcome = match s.file.as_str() {
        "memory.limit_in_bytes" => Ok((
            vec![v2("memory.max", max_if_neg(val))],
            "same units; -1 becomes max".into(),
        )),
        "memory.soft_limit_in_bytes" => Ok((
            vec![v2("memory.low", max_if_neg(val))],
            "v2 memory.low protects rather than throttles; closest equivalent".into(),
        )),
        "memory.memsw.limit_in_bytes" => memsw_to_swap(input, val),
        "cpu.shares" => uint(val).map(|n| {
            let w = (n * 100 / 1024).clamp(1, 10_000);
            (
                vec![v2("cpu.weight", w.to_string())],
                format!("{n} shares scaled so 1024 shares = weight 100"),
            )
        }),
        "cpu.cfs_quota_us" | "cpu.cfs_period_us" => {
            let quota = find_last(input, Version::V1, "cpu.cfs_quota_us");
            let period = find_last(input, Version::V1, "cpu.cfs_period_us");
            let mut from = Vec::new();
            for (idx, setting) in [quota, period].into_iter().flatten() {
                consumed[idx] = true;
                from.push(setting.clone());
            }
            let q = quota.map_or("max".to_string(), |(_, s)| max_if_neg(&s.value));
            let p = period.map_or("100000", |(_, s)| s.value.as_str());
            return (
                from,
                Ok((
                    vec![v2("cpu.max", format!("{q} {p}"))],
                    "quota and period joined into cpu.max".into(),
                )),
            );
        }
        "cpuset.cpus" | "cpuset.mems" | "pids.max" | "devices.allow" | "devices.deny" => {
            Ok((vec![v2(&s.file, val)], "same file and syntax".into()))
        }
        "blkio.weight" => uint(val).map(|w| {
            let n = 1 + (w.saturating_sub(10)) * 9999 / 990;
            (
                vec![v2("io.weight", n.to_string())],
                "range 10–1000 mapped onto 1–10000".into(),
            )
        }),
        f if f.starts_with("blkio.throttle.") => throttle_to_io(f, val),
        f if f.starts_with("hugetlb.") && f.ends_with(".limit_in_bytes") => {
            let size = &f["hugetlb.".len()..f.len() - ".limit_in_bytes".len()];
            Ok((
                vec![v2(&format!("hugetlb.{size}.max"), max_if_neg(val))],
                "renamed".into(),
            ))
        }
        f if f.starts_with("freezer.") => Err(
            "freezing is done by `rlxc freeze` (cgroup.freeze on v2), not by a config key".into(),
        ),
        f if f.starts_with("net_cls.") || f.starts_with("net_prio.") => Err(
            "cgroup v2 has no net_cls/net_prio; match the cgroup path in nftables instead".into(),
        ),
        f => Err(format!("cgroup v2 has no equivalent of `{f}`")),
    };
    (vec![s.clone()], out)
}

fn memsw_to_swap(input: &[CgroupSetting], memsw: &str) -> Outcome {
    if memsw == "-1" {
        return Ok((vec![v2("memory.swap.max", "max")], "-1 becomes max".into()));
    }
    let total = byte_size(memsw)?;
    let mem = find_last(input, Version::V1, "memory.limit_in_bytes")
        .ok_or("memory.memsw.limit_in_bytes limits memory+swap; v2 limits swap alone, and without memory.limit_in_bytes the swap part is unknown")?;
    let mem = byte_size(&mem.1.value)?;
    let swap = total.saturating_sub(mem);
    Ok((
        vec![v2("memory.swap.max", swap.to_string())],
        format!("memory+swap {total} minus memory {mem}"),
    ))
}

fn throttle_to_io(file: &str, val: &str) -> Outcome {
    let key = match file {
        "blkio.throttle.read_bps_device" => "rbps",
        "blkio.throttle.write_bps_device" => "wbps",
        "blkio.throttle.read_iops_device" => "riops",
        "blkio.throttle.write_iops_device" => "wiops",
        other => return Err(format!("cgroup v2 has no equivalent of `{other}`")),
    };
    let (dev, n) = val
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("`{val}` is not `MAJ:MIN VALUE`"))?;
    Ok((
        vec![v2("io.max", format!("{dev} {key}={}", n.trim()))],
        format!("{file} becomes io.max {key}"),
    ))
}

fn v2_to_v1(input: &[CgroupSetting], i: usize) -> (Vec<CgroupSetting>, Outcome) {
    let s = &input[i];
    let val = s.value.as_str();
    let neg_if_max = |v: &str| {
        if v == "max" {
            "-1".to_string()
        } else {
            v.to_string()
        }
    };
    let out: Outcome = match s.file.as_str() {
        "memory.max" => Ok((
            vec![v1("memory.limit_in_bytes", neg_if_max(val))],
            "same units; max becomes -1".into(),
        )),
        "memory.low" => Ok((
            vec![v1("memory.soft_limit_in_bytes", neg_if_max(val))],
            "closest v1 equivalent".into(),
        )),
        "memory.swap.max" => swap_to_memsw(input, val),
        "cpu.weight" => uint(val).map(|w| {
            let shares = (w * 1024 / 100).clamp(2, 262_144);
            (
                vec![v1("cpu.shares", shares.to_string())],
                "weight 100 = 1024 shares".into(),
            )
        }),
        "cpu.max" => {
            let mut w = val.split_whitespace();
            let q = w.next().unwrap_or("max");
            let p = w.next().unwrap_or("100000");
            Ok((
                vec![
                    v1("cpu.cfs_period_us", p),
                    v1("cpu.cfs_quota_us", neg_if_max(q)),
                ],
                "cpu.max split into period and quota".into(),
            ))
        }
        "cpuset.cpus" | "cpuset.mems" | "pids.max" | "devices.allow" | "devices.deny" => {
            Ok((vec![v1(&s.file, val)], "same file and syntax".into()))
        }
        "io.weight" => uint(val.strip_prefix("default ").unwrap_or(val)).map(|n| {
            let w = 10 + (n.saturating_sub(1)) * 990 / 9999;
            (
                vec![v1("blkio.weight", w.to_string())],
                "range 1–10000 mapped onto 10–1000".into(),
            )
        }),
        "io.max" => io_to_throttle(val),
        f if f.starts_with("hugetlb.") && f.ends_with(".max") => {
            let size = &f["hugetlb.".len()..f.len() - ".max".len()];
            Ok((
                vec![v1(
                    &format!("hugetlb.{size}.limit_in_bytes"),
                    neg_if_max(val),
                )],
                "renamed".into(),
            ))
        }
        f => Err(format!("cgroup v1 has no equivalent of `{f}`")),
    };
    (vec![s.clone()], out)
}

fn swap_to_memsw(input: &[CgroupSetting], swap: &str) -> Outcome {
    if swap == "max" {
        return Ok((
            vec![v1("memory.memsw.limit_in_bytes", "-1")],
            "max becomes -1".into(),
        ));
    }
    let swap = byte_size(swap)?;
    let mem = find_last(input, Version::V2, "memory.max")
        .filter(|(_, m)| m.value != "max")
        .ok_or(
            "memory.swap.max limits swap alone; v1 limits memory+swap, which needs a memory.max",
        )?;
    let mem = byte_size(&mem.1.value)?;
    Ok((
        vec![v1("memory.memsw.limit_in_bytes", (mem + swap).to_string())],
        format!("memory {mem} plus swap {swap}"),
    ))
}

fn io_to_throttle(val: &str) -> Outcome {
    let mut parts = val.split_whitespace();
    let dev = parts.next().ok_or("io.max is empty")?;
    let mut out = Vec::new();
    for kv in parts {
        let (k, n) = kv
            .split_once('=')
            .ok_or_else(|| format!("`{kv}` is not KEY=VALUE"))?;
        if n == "max" {
            continue;
        }
        let file = match k {
            "rbps" => "blkio.throttle.read_bps_device",
            "wbps" => "blkio.throttle.write_bps_device",
            "riops" => "blkio.throttle.read_iops_device",
            "wiops" => "blkio.throttle.write_iops_device",
            other => return Err(format!("`{other}` in io.max has no v1 equivalent")),
        };
        out.push(v1(file, format!("{dev} {n}")));
    }
    Ok((out, "io.max split into blkio.throttle files".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(r: &TranslationReport) -> Vec<String> {
        r.settings.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn v1_to_v2_table() {
        let input = vec![
            v1("memory.limit_in_bytes", "320000000"),
            v1("memory.memsw.limit_in_bytes", "420000000"),
            v1("cpu.shares", "1024"),
            v1("cpu.cfs_quota_us", "50000"),
            v1("cpu.cfs_period_us", "100000"),
            v1("blkio.weight", "500"),
            v1("blkio.throttle.read_bps_device", "8:0 1048576"),
            v1("pids.max", "100"),
            v1("devices.deny", "a"),
            v1("cpuset.cpus", "0-1"),
            v1("net_cls.classid", "1"),
            v2("memory.high", "1G"),
        ];
        let r = translate(&input, Version::V2);
        assert_eq!(
            files(&r),
            vec![
                "lxc.cgroup2.memory.max = 320000000",
                "lxc.cgroup2.memory.swap.max = 100000000",
                "lxc.cgroup2.cpu.weight = 100",
                "lxc.cgroup2.cpu.max = 50000 100000",
                "lxc.cgroup2.io.weight = 4950",
                "lxc.cgroup2.io.max = 8:0 rbps=1048576",
                "lxc.cgroup2.pids.max = 100",
                "lxc.cgroup2.devices.deny = a",
                "lxc.cgroup2.cpuset.cpus = 0-1",
                "lxc.cgroup2.memory.high = 1G",
            ]
        );
        assert_eq!(r.translated.len(), 9);
        assert_eq!(
            r.translated[3].from.len(),
            2,
            "quota and period go together"
        );
        assert_eq!(r.untranslatable.len(), 1);
        assert!(r.untranslatable[0].note.contains("nftables"));
    }

    #[test]
    fn v2_to_v1_table() {
        let input = vec![
            v2("memory.max", "512M"),
            v2("memory.swap.max", "0"),
            v2("cpu.weight", "100"),
            v2("cpu.max", "max 100000"),
            v2("io.max", "8:0 rbps=100 wiops=max"),
            v2("memory.high", "1G"),
        ];
        let r = translate(&input, Version::V1);
        assert_eq!(
            files(&r),
            vec![
                "lxc.cgroup.memory.limit_in_bytes = 512M",
                "lxc.cgroup.memory.memsw.limit_in_bytes = 536870912",
                "lxc.cgroup.cpu.shares = 1024",
                "lxc.cgroup.cpu.cfs_period_us = 100000",
                "lxc.cgroup.cpu.cfs_quota_us = -1",
                "lxc.cgroup.blkio.throttle.read_bps_device = 8:0 100",
            ]
        );
        assert_eq!(r.untranslatable.len(), 1);
    }

    #[test]
    fn memsw_without_memory_is_reported() {
        let r = translate(&[v1("memory.memsw.limit_in_bytes", "1G")], Version::V2);
        assert!(r.settings.is_empty());
        assert!(r.untranslatable[0].note.contains("swap part is unknown"));
    }

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
