//! Device access of a container: `lxc.cgroup.devices.*` and
//! `lxc.cgroup2.devices.*` rules, LXC's default allow list when a config
//! gives none, and the kernel's cgroup-v1 semantics of a rule list, modelled
//! exactly (a default plus merged exceptions) so that the cgroup2 eBPF
//! program ([`super::device_bpf`]) decides what a v1 `devices` cgroup would.
//!
//! Where each list is enforced is [`DevicePolicy::for_host`]'s choice: the
//! v1 `devices` hierarchy when the host has one (rules written as they are),
//! and a `BPF_CGROUP_DEVICE` program on the cgroup2 directory when the host
//! has no v1 devices controller or the config asks for cgroup2 rules.

use super::layout::CgroupLayout;
use crate::config::cgroup::{CgroupSetting, Version};

/// `m`, `r`, `w` as the kernel numbers them (`BPF_DEVCG_ACC_*`).
pub const MKNOD: u8 = 1;
/// Read access.
pub const READ: u8 = 2;
/// Write access.
pub const WRITE: u8 = 4;

/// The device types a rule names (`BPF_DEVCG_DEV_*` for block and char).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DevKind {
    /// `a`: every device (a rule of this kind resets the list).
    All,
    /// `b`.
    Block,
    /// `c`.
    Char,
}

impl DevKind {
    /// The number in `bpf_cgroup_dev_ctx.access_type`'s low half.
    pub fn bpf(self) -> u32 {
        match self {
            DevKind::Block => 1,
            DevKind::Char => 2,
            DevKind::All => 3,
        }
    }
}

/// One rule: `allow`/`deny` of `TYPE MAJOR:MINOR ACCESS` (or `a`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceRule {
    /// `devices.allow` (true) or `devices.deny`.
    pub allow: bool,
    /// Type.
    pub kind: DevKind,
    /// Major number; `None` is `*`.
    pub major: Option<u32>,
    /// Minor number; `None` is `*`.
    pub minor: Option<u32>,
    /// Access bits ([`MKNOD`], [`READ`], [`WRITE`]).
    pub access: u8,
}

impl DeviceRule {
    /// Parses a `devices.allow`/`devices.deny` value (`c 1:3 rwm`, `a`).
    pub fn parse(allow: bool, text: &str) -> Result<DeviceRule, String> {
        let bad = || format!("`{text}` is not a device rule like `c 1:3 rwm`, `b 8:* r` or `a`");
        let mut words = text.split_whitespace();
        let kind = match words.next().ok_or_else(bad)? {
            "a" => DevKind::All,
            "b" => DevKind::Block,
            "c" => DevKind::Char,
            _ => return Err(bad()),
        };
        // u32::MAX is the kernel's own "any": spelled `*` here, or the
        // program and the v1 files would read it differently.
        let num = |s: &str| match s {
            "*" => Ok(None),
            n => n
                .parse::<u32>()
                .ok()
                .filter(|n| *n != u32::MAX)
                .map(Some)
                .ok_or_else(bad),
        };
        let (major, minor) = match words.next() {
            None if kind == DevKind::All => (None, None),
            None => return Err(bad()),
            Some(w) => {
                let (a, b) = w.split_once(':').ok_or_else(bad)?;
                (num(a)?, num(b)?)
            }
        };
        let access = match words.next() {
            None if kind == DevKind::All => MKNOD | READ | WRITE,
            None => return Err(bad()),
            Some(w) => access_bits(w).ok_or_else(bad)?,
        };
        if words.next().is_some() {
            return Err(bad());
        }
        Ok(DeviceRule {
            allow,
            kind,
            major,
            minor,
            access,
        })
    }

    /// The value as `devices.allow`/`devices.deny` takes it.
    pub fn value(&self) -> String {
        let kind = match self.kind {
            DevKind::All => return "a".into(),
            DevKind::Block => 'b',
            DevKind::Char => 'c',
        };
        let num = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        let access: String = [(READ, 'r'), (WRITE, 'w'), (MKNOD, 'm')]
            .iter()
            .filter(|(b, _)| self.access & b != 0)
            .map(|(_, c)| c)
            .collect();
        format!("{kind} {}:{} {access}", num(self.major), num(self.minor))
    }

    /// The cgroup file the rule is written to.
    pub fn file(&self) -> &'static str {
        if self.allow {
            "devices.allow"
        } else {
            "devices.deny"
        }
    }
}

fn access_bits(w: &str) -> Option<u8> {
    let mut bits = 0;
    for c in w.chars() {
        bits |= match c {
            'r' => READ,
            'w' => WRITE,
            'm' => MKNOD,
            _ => return None,
        };
    }
    (bits != 0).then_some(bits)
}

/// LXC's `common.conf` list, which rlxc applies when a config names no
/// device rule: nodes may be made, but only these opened (null, zero, full,
/// tty, console, ptmx, random, urandom, pts, fuse, net/tun).
pub const DEFAULT_RULES: &[(bool, &str)] = &[
    (false, "a"),
    (true, "c *:* m"),
    (true, "b *:* m"),
    (true, "c 1:3 rwm"),
    (true, "c 1:5 rwm"),
    (true, "c 1:7 rwm"),
    (true, "c 5:0 rwm"),
    (true, "c 5:1 rwm"),
    (true, "c 5:2 rwm"),
    (true, "c 1:8 rwm"),
    (true, "c 1:9 rwm"),
    (true, "c 136:* rwm"),
    (true, "c 10:229 rwm"),
    (true, "c 10:200 rwm"),
];

/// The default rules, parsed.
pub fn default_rules() -> Vec<DeviceRule> {
    DEFAULT_RULES
        .iter()
        .map(|(allow, t)| DeviceRule::parse(*allow, t).expect("the default device rules parse"))
        .collect()
}

/// One exception of a [`DeviceList`]: a device pattern and its access bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Exception {
    /// Block or char.
    pub kind: DevKind,
    /// `None` is `*`.
    pub major: Option<u32>,
    /// `None` is `*`.
    pub minor: Option<u32>,
    /// Access bits.
    pub access: u8,
}

impl Exception {
    fn same_device(&self, r: &DeviceRule) -> bool {
        self.kind == r.kind && self.major == r.major && self.minor == r.minor
    }

    fn covers(&self, kind: DevKind, major: u32, minor: u32) -> bool {
        self.kind == kind
            && self.major.is_none_or(|m| m == major)
            && self.minor.is_none_or(|m| m == minor)
    }
}

/// A device cgroup's state as the kernel keeps it for v1: a default and the
/// exceptions to it. Starts unrestricted, as a new cgroup does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeviceList {
    /// Whatever no exception names is allowed.
    pub default_allow: bool,
    /// Exceptions, in the order first named.
    pub exceptions: Vec<Exception>,
}

impl Default for DeviceList {
    fn default() -> Self {
        DeviceList {
            default_allow: true,
            exceptions: Vec::new(),
        }
    }
}

impl DeviceList {
    /// The list after `rules`, from an unrestricted cgroup.
    pub fn from_rules(rules: &[DeviceRule]) -> DeviceList {
        let mut l = DeviceList::default();
        rules.iter().for_each(|r| l.apply(r));
        l
    }

    /// One write to `devices.allow` or `devices.deny`, as the kernel takes it:
    /// `a` resets; a rule in the default's direction takes its bits off the
    /// exception for the same device; any other adds them.
    pub fn apply(&mut self, r: &DeviceRule) {
        if r.kind == DevKind::All {
            self.default_allow = r.allow;
            self.exceptions.clear();
            return;
        }
        let found = self.exceptions.iter_mut().find(|e| e.same_device(r));
        if r.allow == self.default_allow {
            if let Some(e) = found {
                e.access &= !r.access;
            }
            self.exceptions.retain(|e| e.access != 0);
        } else if let Some(e) = found {
            e.access |= r.access;
        } else {
            self.exceptions.push(Exception {
                kind: r.kind,
                major: r.major,
                minor: r.minor,
                access: r.access,
            });
        }
    }

    /// Whether `access` to device `kind major:minor` is allowed: under a
    /// default deny one exception must grant every bit asked; under a default
    /// allow any exception sharing a bit refuses.
    pub fn allows(&self, kind: DevKind, major: u32, minor: u32, access: u8) -> bool {
        let matching = self
            .exceptions
            .iter()
            .filter(|e| e.covers(kind, major, minor));
        if self.default_allow {
            !matching.into_iter().any(|e| e.access & access != 0)
        } else {
            matching.into_iter().any(|e| access & !e.access == 0)
        }
    }
}

/// A rule with the config key it came from (`None`: rlxc's default list).
pub type KeyedRule = (DeviceRule, Option<String>);

/// Where a container's device rules are enforced on this host.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DevicePolicy {
    /// Rules written to the v1 `devices` hierarchy, in order.
    pub v1: Vec<KeyedRule>,
    /// The list a cgroup2 device program enforces, if one is attached.
    pub bpf: Option<DeviceList>,
}

/// The device rules a config gives in one dialect; a bad one names its key
/// (the error is the key and why).
fn given(settings: &[CgroupSetting], v: Version) -> Result<Vec<KeyedRule>, (String, String)> {
    settings
        .iter()
        .filter(|s| s.version == v && is_device_file(&s.file))
        .map(|s| {
            DeviceRule::parse(s.file == "devices.allow", &s.value)
                .map(|r| (r, Some(s.key())))
                .map_err(|e| (s.key(), e))
        })
        .collect()
}

/// `own` when the config gives it, else the other dialect's, else the default.
fn first_given(own: &[KeyedRule], other: &[KeyedRule]) -> Vec<KeyedRule> {
    match (own.is_empty(), other.is_empty()) {
        (false, _) => own.to_vec(),
        (true, false) => other.to_vec(),
        (true, true) => default_rules().into_iter().map(|r| (r, None)).collect(),
    }
}

impl DevicePolicy {
    /// The policy for `settings` (a config's cgroup settings, both dialects)
    /// on `layout`: the v1 hierarchy when the host has it; a program when it
    /// has cgroup2 and no v1 devices, or the config gives cgroup2 rules. The
    /// error is the key of a bad rule, and why.
    pub fn for_host(
        settings: &[CgroupSetting],
        layout: &CgroupLayout,
    ) -> Result<DevicePolicy, (String, String)> {
        let (v1, v2) = (given(settings, Version::V1)?, given(settings, Version::V2)?);
        let has_v1 = layout.has_controller(Version::V1, "devices");
        if let Some((_, Some(key))) = v1.first().or(v2.first()) {
            if !has_v1 && layout.unified.is_none() {
                let why = "this host has neither a v1 `devices` controller nor cgroup2 to enforce device rules";
                return Err((key.clone(), why.into()));
            }
        }
        let bpf = layout.unified.is_some() && (!has_v1 || !v2.is_empty());
        Ok(DevicePolicy {
            v1: if has_v1 {
                first_given(&v1, &v2)
            } else {
                Vec::new()
            },
            bpf: bpf.then(|| {
                let rules: Vec<DeviceRule> =
                    first_given(&v2, &v1).into_iter().map(|(r, _)| r).collect();
                DeviceList::from_rules(&rules)
            }),
        })
    }
}

/// `devices.allow` / `devices.deny`.
pub fn is_device_file(file: &str) -> bool {
    file == "devices.allow" || file == "devices.deny"
}

#[cfg(test)]
#[path = "devices_tests.rs"]
mod tests;
