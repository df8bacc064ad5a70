//! Translation of cgroup settings between v1 (`lxc.cgroup.*`) and v2
//! (`lxc.cgroup2.*`): one table, each row a v1 file (or files) and its v2
//! counterpart with the conversion each way, so the two directions can never
//! drift apart. A 12.04-era config runs on a v2 host and a modern config on a
//! v1 or hybrid host; every translation is reported with what was done.

use crate::config::cgroup::{CgroupSetting, Version};
use crate::config::value::{byte_size, uint};

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

impl Translation {
    /// One line naming the keys and what happened, for a warning.
    pub fn describe(&self) -> String {
        let list = |v: &[CgroupSetting]| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.to.is_empty() {
            format!("{}: not applied: {}", list(&self.from), self.note)
        } else {
            format!(
                "{} applied as {} ({})",
                list(&self.from),
                list(&self.to),
                self.note
            )
        }
    }
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

/// A conversion of one row in one direction: the whole input (some rows need
/// a companion setting) and the setting being converted, to the files of the
/// other version.
type Convert = fn(&[CgroupSetting], &CgroupSetting) -> Result<Vec<CgroupSetting>, String>;

/// One row of the table. A `*` in a file name stands for one path component
/// (the huge page size of `hugetlb.*`), carried across.
struct Row {
    v1: &'static [&'static str],
    v2: &'static str,
    /// The v1 files go together (quota and period become one `cpu.max`).
    grouped: bool,
    to_v2: (Convert, &'static str),
    to_v1: (Convert, &'static str),
}

const SAME: &str = "same file and syntax";

/// A row whose file and syntax are the same in both versions.
macro_rules! same {
    ($file:literal) => {
        Row {
            v1: &[$file],
            v2: $file,
            grouped: false,
            to_v2: (copy_to_v2, SAME),
            to_v1: (copy_to_v1, SAME),
        }
    };
}
const TABLE: &[Row] = &[
    same!("cpuset.cpus"),
    same!("cpuset.mems"),
    same!("pids.max"),
    same!("devices.allow"),
    same!("devices.deny"),
    Row {
        v1: &["memory.limit_in_bytes"],
        v2: "memory.max",
        grouped: false,
        to_v2: (limit_to_v2, "same units; -1 becomes max"),
        to_v1: (limit_to_v1, "same units; max becomes -1"),
    },
    Row {
        v1: &["memory.soft_limit_in_bytes"],
        v2: "memory.low",
        grouped: false,
        to_v2: (
            limit_to_v2,
            "v2 memory.low protects rather than throttles; closest equivalent",
        ),
        to_v1: (limit_to_v1, "closest v1 equivalent"),
    },
    Row {
        v1: &["hugetlb.*.limit_in_bytes"],
        v2: "hugetlb.*.max",
        grouped: false,
        to_v2: (limit_to_v2, "renamed"),
        to_v1: (limit_to_v1, "renamed"),
    },
    Row {
        v1: &["memory.memsw.limit_in_bytes"],
        v2: "memory.swap.max",
        grouped: false,
        to_v2: (memsw_to_swap, "memory+swap minus memory"),
        to_v1: (swap_to_memsw, "memory plus swap"),
    },
    Row {
        v1: &["cpu.shares"],
        v2: "cpu.weight",
        grouped: false,
        to_v2: (
            shares_to_weight,
            "shares scaled so 1024 shares = weight 100",
        ),
        to_v1: (weight_to_shares, "weight 100 = 1024 shares"),
    },
    Row {
        v1: &["cpu.cfs_quota_us", "cpu.cfs_period_us"],
        v2: "cpu.max",
        grouped: true,
        to_v2: (quota_to_max, "quota and period joined into cpu.max"),
        to_v1: (max_to_quota, "cpu.max split into period and quota"),
    },
    Row {
        v1: &["blkio.weight"],
        v2: "io.weight",
        grouped: false,
        to_v2: (blkio_to_io_weight, "range 10–1000 mapped onto 1–10000"),
        to_v1: (io_to_blkio_weight, "range 1–10000 mapped onto 10–1000"),
    },
    Row {
        v1: &[
            "blkio.throttle.read_bps_device",
            "blkio.throttle.write_bps_device",
            "blkio.throttle.read_iops_device",
            "blkio.throttle.write_iops_device",
        ],
        v2: "io.max",
        grouped: false,
        to_v2: (throttle_to_io, "blkio.throttle becomes io.max"),
        to_v1: (io_to_throttle, "io.max split into blkio.throttle files"),
    },
];

/// Whether `file` matches a table pattern; a `*` matches one non-empty
/// component, which is returned.
fn matches<'a>(pattern: &str, file: &'a str) -> Option<&'a str> {
    match pattern.split_once('*') {
        None => (pattern == file).then_some(""),
        Some((pre, post)) => file
            .strip_prefix(pre)
            .and_then(|r| r.strip_suffix(post))
            .filter(|mid| !mid.is_empty() && !mid.contains('.')),
    }
}

fn row_for(version: Version, file: &str) -> Option<(&'static Row, &str)> {
    TABLE.iter().find_map(|row| {
        let files: &[&str] = match version {
            Version::V1 => row.v1,
            Version::V2 => std::slice::from_ref(&row.v2),
        };
        files
            .iter()
            .find_map(|p| matches(p, file).map(|w| (row, w)))
    })
}

/// Why a setting with no row cannot be translated.
fn no_row(s: &CgroupSetting) -> String {
    let f = s.file.as_str();
    match s.version {
        Version::V1 if f.starts_with("freezer.") => {
            "freezing is done by `rlxc freeze` (cgroup.freeze on v2), not by a config key".into()
        }
        Version::V1 if f.starts_with("net_cls.") || f.starts_with("net_prio.") => {
            "cgroup v2 has no net_cls/net_prio; match the cgroup path in nftables instead".into()
        }
        Version::V1 => format!("cgroup v2 has no equivalent of `{f}`"),
        Version::V2 => format!("cgroup v1 has no equivalent of `{f}`"),
    }
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
        let Some((row, _)) = row_for(s.version, &s.file) else {
            report.untranslatable.push(Translation {
                from: vec![s.clone()],
                to: Vec::new(),
                note: no_row(s),
            });
            continue;
        };
        let from: Vec<CgroupSetting> = if row.grouped && s.version == Version::V1 {
            // The last of each grouped file, as the kernel would see them.
            let mut from = Vec::new();
            for f in row.v1 {
                if let Some(j) = input
                    .iter()
                    .rposition(|x| x.version == Version::V1 && x.file == *f)
                {
                    from.push(input[j].clone());
                }
            }
            for (j, x) in input.iter().enumerate() {
                consumed[j] |= x.version == Version::V1 && row.v1.contains(&x.file.as_str());
            }
            from
        } else {
            vec![s.clone()]
        };
        let (convert, note) = match target {
            Version::V2 => row.to_v2,
            Version::V1 => row.to_v1,
        };
        match convert(input, s) {
            Ok(to) => {
                report.settings.extend(to.iter().cloned());
                report.translated.push(Translation {
                    from,
                    to,
                    note: note.into(),
                });
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

/// The file of the other version for `key` (and its value translated), when
/// the table has one; `None` otherwise. For `lxc-cgroup`, which names one file.
pub fn other_file(version: Version, file: &str, value: Option<&str>) -> Option<CgroupSetting> {
    let target = match version {
        Version::V1 => Version::V2,
        Version::V2 => Version::V1,
    };
    let probe = CgroupSetting::new(version, file, value.unwrap_or("1"));
    let r = translate(std::slice::from_ref(&probe), target);
    r.translated.first().and_then(|t| t.to.first().cloned())
}

fn v2(file: &str, value: impl Into<String>) -> CgroupSetting {
    CgroupSetting::new(Version::V2, file, &value.into())
}

fn v1(file: &str, value: impl Into<String>) -> CgroupSetting {
    CgroupSetting::new(Version::V1, file, &value.into())
}

fn max_if_neg(v: &str) -> String {
    if v == "-1" {
        "max".into()
    } else {
        v.into()
    }
}

fn neg_if_max(v: &str) -> String {
    if v == "max" {
        "-1".into()
    } else {
        v.into()
    }
}

/// The other version's file name for a row's pattern, carrying the `*` part.
fn rename(s: &CgroupSetting, to: Version) -> String {
    let Some((row, wild)) = row_for(s.version, &s.file) else {
        return s.file.clone();
    };
    let pattern = match to {
        Version::V1 => row.v1[0],
        Version::V2 => row.v2,
    };
    pattern.replace('*', wild)
}

fn last<'a>(input: &'a [CgroupSetting], v: Version, file: &str) -> Option<&'a CgroupSetting> {
    input
        .iter()
        .rev()
        .find(|s| s.version == v && s.file == file)
}

fn copy_to_v2(_: &[CgroupSetting], s: &CgroupSetting) -> Result<Vec<CgroupSetting>, String> {
    Ok(vec![v2(&s.file, s.value.clone())])
}

fn copy_to_v1(_: &[CgroupSetting], s: &CgroupSetting) -> Result<Vec<CgroupSetting>, String> {
    Ok(vec![v1(&s.file, s.value.clone())])
}

fn limit_to_v2(_: &[CgroupSetting], s: &CgroupSetting) -> Result<Vec<CgroupSetting>, String> {
    Ok(vec![v2(&rename(s, Version::V2), max_if_neg(&s.value))])
}

fn limit_to_v1(_: &[CgroupSetting], s: &CgroupSetting) -> Result<Vec<CgroupSetting>, String> {
    Ok(vec![v1(&rename(s, Version::V1), neg_if_max(&s.value))])
}

fn shares_to_weight(_: &[CgroupSetting], s: &CgroupSetting) -> Result<Vec<CgroupSetting>, String> {
    let n = uint(&s.value)?;
    Ok(vec![v2(
        "cpu.weight",
        (n * 100 / 1024).clamp(1, 10_000).to_string(),
    )])
}

fn weight_to_shares(_: &[CgroupSetting], s: &CgroupSetting) -> Result<Vec<CgroupSetting>, String> {
    let w = uint(&s.value)?;
    Ok(vec![v1(
        "cpu.shares",
        (w * 1024 / 100).clamp(2, 262_144).to_string(),
    )])
}

fn blkio_to_io_weight(
    _: &[CgroupSetting],
    s: &CgroupSetting,
) -> Result<Vec<CgroupSetting>, String> {
    let w = uint(&s.value)?;
    let n = 1 + w.saturating_sub(10) * 9999 / 990;
    Ok(vec![v2("io.weight", n.to_string())])
}

fn io_to_blkio_weight(
    _: &[CgroupSetting],
    s: &CgroupSetting,
) -> Result<Vec<CgroupSetting>, String> {
    let n = uint(s.value.strip_prefix("default ").unwrap_or(&s.value))?;
    let w = 10 + n.saturating_sub(1) * 990 / 9999;
    Ok(vec![v1("blkio.weight", w.to_string())])
}

fn quota_to_max(input: &[CgroupSetting], _: &CgroupSetting) -> Result<Vec<CgroupSetting>, String> {
    let q =
        last(input, Version::V1, "cpu.cfs_quota_us").map_or("max".into(), |s| max_if_neg(&s.value));
    let p = last(input, Version::V1, "cpu.cfs_period_us").map_or("100000", |s| s.value.as_str());
    Ok(vec![v2("cpu.max", format!("{q} {p}"))])
}

fn max_to_quota(_: &[CgroupSetting], s: &CgroupSetting) -> Result<Vec<CgroupSetting>, String> {
    let mut w = s.value.split_whitespace();
    let q = w.next().unwrap_or("max");
    let p = w.next().unwrap_or("100000");
    Ok(vec![
        v1("cpu.cfs_period_us", p),
        v1("cpu.cfs_quota_us", neg_if_max(q)),
    ])
}

fn memsw_to_swap(input: &[CgroupSetting], s: &CgroupSetting) -> Result<Vec<CgroupSetting>, String> {
    if s.value == "-1" {
        return Ok(vec![v2("memory.swap.max", "max")]);
    }
    let total = byte_size(&s.value)?;
    let mem = last(input, Version::V1, "memory.limit_in_bytes")
        .ok_or("memory.memsw.limit_in_bytes limits memory+swap; v2 limits swap alone, and without memory.limit_in_bytes the swap part is unknown")?;
    let mem = byte_size(&mem.value)?;
    Ok(vec![v2(
        "memory.swap.max",
        total.saturating_sub(mem).to_string(),
    )])
}

fn swap_to_memsw(input: &[CgroupSetting], s: &CgroupSetting) -> Result<Vec<CgroupSetting>, String> {
    if s.value == "max" {
        return Ok(vec![v1("memory.memsw.limit_in_bytes", "-1")]);
    }
    let swap = byte_size(&s.value)?;
    let mem = last(input, Version::V2, "memory.max")
        .filter(|m| m.value != "max")
        .ok_or(
            "memory.swap.max limits swap alone; v1 limits memory+swap, which needs a memory.max",
        )?;
    let mem = byte_size(&mem.value)?;
    Ok(vec![v1(
        "memory.memsw.limit_in_bytes",
        (mem + swap).to_string(),
    )])
}

/// `blkio.throttle.*_device` file ↔ the key of `io.max`.
const THROTTLE_KEYS: &[(&str, &str)] = &[
    ("blkio.throttle.read_bps_device", "rbps"),
    ("blkio.throttle.write_bps_device", "wbps"),
    ("blkio.throttle.read_iops_device", "riops"),
    ("blkio.throttle.write_iops_device", "wiops"),
];

fn throttle_to_io(_: &[CgroupSetting], s: &CgroupSetting) -> Result<Vec<CgroupSetting>, String> {
    let key = THROTTLE_KEYS
        .iter()
        .find(|(f, _)| *f == s.file)
        .map(|(_, k)| *k)
        .ok_or_else(|| format!("cgroup v2 has no equivalent of `{}`", s.file))?;
    let (dev, n) = s
        .value
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("`{}` is not `MAJ:MIN VALUE`", s.value))?;
    Ok(vec![v2("io.max", format!("{dev} {key}={}", n.trim()))])
}

fn io_to_throttle(_: &[CgroupSetting], s: &CgroupSetting) -> Result<Vec<CgroupSetting>, String> {
    let mut parts = s.value.split_whitespace();
    let dev = parts.next().ok_or("io.max is empty")?;
    let mut out = Vec::new();
    for kv in parts {
        let (k, n) = kv
            .split_once('=')
            .ok_or_else(|| format!("`{kv}` is not KEY=VALUE"))?;
        if n == "max" {
            continue;
        }
        let file = THROTTLE_KEYS
            .iter()
            .find(|(_, key)| *key == k)
            .map(|(f, _)| *f)
            .ok_or_else(|| format!("`{k}` in io.max has no v1 equivalent"))?;
        out.push(v1(file, format!("{dev} {n}")));
    }
    Ok(out)
}

#[cfg(test)]
#[path = "translate_tests.rs"]
mod tests;
