//! The table of every container config key rlxc knows, modern names only;
//! legacy names are mapped onto these by [`super::legacy`].
//!
//! Each key says how its value is checked, whether repeated lines add to a
//! list or replace a single value, and which group of keys it belongs to (an
//! empty value of a "clear" key such as `lxc.net` or `lxc.cgroup2` removes the
//! whole group). Parse, print and clear are generic over this table, and a
//! test walks the whole table through set → print → parse → clear.

use super::value::{Check, NAMESPACES};

/// How a key is matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// The whole key.
    Exact(&'static str),
    /// Any key with this prefix (which ends in `.`) and a non-empty rest.
    Prefix(&'static str),
    /// `lxc.net.<N>.<sub>`.
    Net(&'static str),
}

/// Whether repeated lines replace or accumulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multiplicity {
    /// The last line wins.
    Single,
    /// Every line adds a value; an empty value clears the list.
    List,
}

/// A check of the part of a prefix key after the prefix.
pub type SuffixCheck = fn(&str) -> Result<(), String>;

/// One row of the table.
#[derive(Debug)]
pub struct KeySpec {
    /// How the key is matched.
    pub pattern: Pattern,
    /// Single value or list.
    pub multi: Multiplicity,
    /// How the value is checked.
    pub check: Check,
    /// The group this key belongs to (cleared together by the group's clear key).
    pub group: &'static str,
    /// For clear keys: the group an empty value removes.
    pub clears: Option<&'static str>,
    /// For prefix keys: a check of the part after the prefix.
    pub suffix: Option<SuffixCheck>,
    /// A valid example: `(key suffix for prefix/net keys or "", value)`.
    pub example: (&'static str, &'static str),
}

use Check as C;
use Multiplicity::{List, Single};
use Pattern::{Exact, Net, Prefix};

const fn key(
    pattern: Pattern,
    multi: Multiplicity,
    check: Check,
    group: &'static str,
    ex: &'static str,
) -> KeySpec {
    KeySpec {
        pattern,
        multi,
        check,
        group,
        clears: None,
        suffix: None,
        example: ("", ex),
    }
}

const fn one(name: &'static str, check: Check, ex: &'static str) -> KeySpec {
    key(Exact(name), Single, check, "", ex)
}

const fn list(name: &'static str, check: Check, ex: &'static str, group: &'static str) -> KeySpec {
    key(Exact(name), List, check, group, ex)
}

const fn clear(name: &'static str, group: &'static str) -> KeySpec {
    KeySpec {
        pattern: Exact(name),
        multi: Single,
        check: C::ClearOnly,
        group: "",
        clears: Some(group),
        suffix: None,
        example: ("", ""),
    }
}

const fn net(sub: &'static str, multi: Multiplicity, check: Check, ex: &'static str) -> KeySpec {
    key(Net(sub), multi, check, "net", ex)
}

const fn prefixed(
    prefix: &'static str,
    multi: Multiplicity,
    check: Check,
    group: &'static str,
    suffix: SuffixCheck,
    example: (&'static str, &'static str),
) -> KeySpec {
    KeySpec {
        pattern: Prefix(prefix),
        multi,
        check,
        group,
        clears: None,
        suffix: Some(suffix),
        example,
    }
}

fn any_suffix(_: &str) -> Result<(), String> {
    Ok(())
}

fn namespace_suffix(s: &str) -> Result<(), String> {
    if NAMESPACES.contains(&s) {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a namespace ({})",
            NAMESPACES.join(", ")
        ))
    }
}

/// Resource names for `lxc.prlimit.*` (setrlimit's, lowercase, without `RLIMIT_`).
pub const RLIMITS: &[&str] = &[
    "as",
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

fn rlimit_suffix(s: &str) -> Result<(), String> {
    if RLIMITS.contains(&s) {
        Ok(())
    } else {
        Err(format!(
            "`{s}` is not a resource limit ({})",
            RLIMITS.join(", ")
        ))
    }
}

fn cgroup1_suffix(s: &str) -> Result<(), String> {
    super::cgroup::check_key(super::cgroup::Version::V1, s)
}

fn cgroup2_suffix(s: &str) -> Result<(), String> {
    super::cgroup::check_key(super::cgroup::Version::V2, s)
}

/// Hook types for `lxc.hook.<type>`.
pub const HOOKS: &[&str] = &[
    "pre-start",
    "pre-mount",
    "mount",
    "autodev",
    "start-host",
    "start",
    "stop",
    "post-stop",
    "clone",
    "destroy",
];

/// Every key. Exact keys are matched before prefixes.
pub static KEYS: &[KeySpec] = &[
    list(
        "lxc.include",
        C::NonEmpty,
        "/usr/share/lxc/config/common.conf",
        "include",
    ),
    one("lxc.arch", C::Arch, "amd64"),
    one("lxc.uts.name", C::Hostname, "c1"),
    one("lxc.signal.halt", C::Signal, "SIGPWR"),
    one("lxc.signal.reboot", C::Signal, "SIGINT"),
    one("lxc.signal.stop", C::Signal, "SIGKILL"),
    one("lxc.init.cmd", C::NonEmpty, "/sbin/init"),
    one("lxc.execute.cmd", C::NonEmpty, "/bin/sh -c true"),
    one("lxc.init.cwd", C::AbsPath, "/root"),
    one("lxc.init.uid", C::UInt, "0"),
    one("lxc.init.gid", C::UInt, "0"),
    list("lxc.init.groups", C::Gids, "4,24", "init.groups"),
    one("lxc.sched.core", C::Bool, "1"),
    one("lxc.ephemeral", C::Bool, "0"),
    clear("lxc.net", "net"),
    net("type", Single, C::NetType, "veth"),
    net("link", Single, C::IfName, "lxcbr0"),
    net("flags", Single, C::NetFlags, "up"),
    net("name", Single, C::IfName, "eth0"),
    net("hwaddr", Single, C::Hwaddr, "00:16:3e:xx:xx:xx"),
    net("mtu", Single, C::UInt, "1500"),
    net(
        "ipv4.address",
        List,
        C::Ipv4Address,
        "10.0.3.5/24 10.0.3.255",
    ),
    net("ipv4.gateway", Single, C::Ipv4Gateway, "10.0.3.1"),
    net("ipv6.address", List, C::Ipv6Address, "fd00::5/64"),
    net("ipv6.gateway", Single, C::Ipv6Gateway, "auto"),
    net("script.up", Single, C::NonEmpty, "/usr/local/bin/up"),
    net("script.down", Single, C::NonEmpty, "/usr/local/bin/down"),
    net("veth.mode", Single, C::VethMode, "bridge"),
    net("veth.pair", Single, C::IfName, "vethc1"),
    net("veth.ipv4.route", List, C::Ipv4Route, "192.0.2.0/24"),
    net("veth.ipv6.route", List, C::Ipv6Address, "2001:db8::/64"),
    net("veth.vlan.id", Single, C::VethVlanId, "10"),
    net("veth.vlan.tagged.id", List, C::VlanId, "20"),
    net("veth.n_rxqueues", Single, C::UInt, "2"),
    net("veth.n_txqueues", Single, C::UInt, "2"),
    net("vlan.id", Single, C::VlanId, "100"),
    net("macvlan.mode", Single, C::MacvlanMode, "bridge"),
    net("ipvlan.mode", Single, C::IpvlanMode, "l3"),
    net("ipvlan.isolation", Single, C::IpvlanIsolation, "bridge"),
    net("l2proxy", Single, C::Bool, "0"),
    one("lxc.pty.max", C::UInt, "1024"),
    one("lxc.console.path", C::NonEmpty, "none"),
    one(
        "lxc.console.logfile",
        C::NonEmpty,
        "/var/log/lxc/c1.console",
    ),
    one("lxc.console.buffer.size", C::SizeOrAuto, "auto"),
    one("lxc.console.size", C::SizeOrAuto, "1MB"),
    one("lxc.console.rotate", C::Bool, "1"),
    one("lxc.tty.max", C::UInt, "4"),
    one("lxc.tty.dir", C::IfName, "lxc"),
    one("lxc.autodev", C::Bool, "1"),
    one("lxc.autodev.tmpfs.size", C::UInt, "500000"),
    one("lxc.mount.fstab", C::NonEmpty, "/var/lib/lxc/c1/fstab"),
    list(
        "lxc.mount.entry",
        C::MountEntry,
        "proc proc proc nodev,noexec,nosuid 0 0",
        "mount.entry",
    ),
    list(
        "lxc.mount.auto",
        C::MountAuto,
        "proc:mixed sys:mixed cgroup:mixed",
        "mount.auto",
    ),
    one("lxc.rootfs.path", C::Any, "dir:/var/lib/lxc/c1/rootfs"),
    one(
        "lxc.rootfs.mount",
        C::AbsPath,
        "/usr/lib/x86_64-linux-gnu/lxc",
    ),
    one("lxc.rootfs.options", C::NonEmpty, "idmap=container"),
    one("lxc.rootfs.managed", C::Bool, "1"),
    one("lxc.cgroup.dir", C::NonEmpty, "lxc/c1"),
    one("lxc.cgroup.dir.container", C::NonEmpty, "lxc.payload.c1"),
    one("lxc.cgroup.dir.monitor", C::NonEmpty, "lxc.monitor.c1"),
    one("lxc.cgroup.dir.monitor.pivot", C::NonEmpty, "lxc.pivot"),
    one("lxc.cgroup.dir.container.inner", C::NonEmpty, "inner"),
    one("lxc.cgroup.relative", C::Bool, "1"),
    clear("lxc.cgroup", "cgroup"),
    prefixed(
        "lxc.cgroup.",
        List,
        C::CgroupV1,
        "cgroup",
        cgroup1_suffix,
        ("memory.limit_in_bytes", "320000000"),
    ),
    clear("lxc.cgroup2", "cgroup2"),
    prefixed(
        "lxc.cgroup2.",
        List,
        C::CgroupV2,
        "cgroup2",
        cgroup2_suffix,
        ("memory.max", "512M"),
    ),
    list("lxc.cap.drop", C::Caps, "sys_admin mac_admin", "cap.drop"),
    list("lxc.cap.keep", C::CapsOrNone, "sys_admin", "cap.keep"),
    one("lxc.namespace.clone", C::Namespaces, "mnt pid uts ipc net"),
    one("lxc.namespace.keep", C::Namespaces, "user net"),
    prefixed(
        "lxc.namespace.share.",
        Single,
        C::NonEmpty,
        "namespace.share",
        namespace_suffix,
        ("net", "c2"),
    ),
    one("lxc.time.offset.boot", C::TimeOffset, "10s"),
    one("lxc.time.offset.monotonic", C::TimeOffset, "-1h"),
    clear("lxc.prlimit", "prlimit"),
    prefixed(
        "lxc.prlimit.",
        Single,
        C::Prlimit,
        "prlimit",
        rlimit_suffix,
        ("nofile", "1024:2048"),
    ),
    clear("lxc.sysctl", "sysctl"),
    prefixed(
        "lxc.sysctl.",
        Single,
        C::NonEmpty,
        "sysctl",
        any_suffix,
        ("net.ipv4.ip_forward", "1"),
    ),
    clear("lxc.proc", "proc"),
    prefixed(
        "lxc.proc.",
        Single,
        C::NonEmpty,
        "proc",
        any_suffix,
        ("oom_score_adj", "10"),
    ),
    one("lxc.apparmor.profile", C::NonEmpty, "generated"),
    one("lxc.apparmor.allow_incomplete", C::Bool, "0"),
    one("lxc.apparmor.allow_nesting", C::Bool, "1"),
    list(
        "lxc.apparmor.raw",
        C::NonEmpty,
        "mount fstype=nfs,",
        "apparmor.raw",
    ),
    one(
        "lxc.selinux.context",
        C::NonEmpty,
        "system_u:system_r:lxc_t:s0:c22",
    ),
    one(
        "lxc.selinux.context.keyring",
        C::NonEmpty,
        "system_u:system_r:lxc_t:s0:c22",
    ),
    one("lxc.keyring.session", C::Bool, "1"),
    one(
        "lxc.seccomp.profile",
        C::NonEmpty,
        "/usr/share/lxc/config/common.seccomp",
    ),
    one("lxc.seccomp.allow_nesting", C::Bool, "1"),
    one(
        "lxc.seccomp.notify.proxy",
        C::NonEmpty,
        "unix:/run/seccomp.sock",
    ),
    one("lxc.seccomp.notify.cookie", C::NonEmpty, "cookie"),
    one("lxc.no_new_privs", C::Bool, "1"),
    list("lxc.idmap", C::IdMap, "u 0 100000 65536", "idmap"),
    clear("lxc.hook", "hook"),
    list(
        "lxc.hook.pre-start",
        C::NonEmpty,
        "/usr/local/bin/hook",
        "hook",
    ),
    list(
        "lxc.hook.pre-mount",
        C::NonEmpty,
        "/usr/local/bin/hook",
        "hook",
    ),
    list(
        "lxc.hook.mount",
        C::NonEmpty,
        "/usr/share/lxcfs/lxc.mount.hook",
        "hook",
    ),
    list(
        "lxc.hook.autodev",
        C::NonEmpty,
        "/usr/local/bin/hook",
        "hook",
    ),
    list(
        "lxc.hook.start-host",
        C::NonEmpty,
        "/usr/local/bin/hook",
        "hook",
    ),
    list("lxc.hook.start", C::NonEmpty, "/usr/local/bin/hook", "hook"),
    list("lxc.hook.stop", C::NonEmpty, "/usr/local/bin/hook", "hook"),
    list(
        "lxc.hook.post-stop",
        C::NonEmpty,
        "/usr/local/bin/hook",
        "hook",
    ),
    list(
        "lxc.hook.clone",
        C::NonEmpty,
        "/usr/share/lxc/hooks/clonehostname",
        "hook",
    ),
    list(
        "lxc.hook.destroy",
        C::NonEmpty,
        "/usr/local/bin/hook",
        "hook",
    ),
    one("lxc.hook.version", C::Bool, "1"),
    one("lxc.log.level", C::LogLevel, "WARN"),
    one("lxc.log.file", C::NonEmpty, "/var/log/lxc/c1.log"),
    one("lxc.log.syslog", C::Syslog, "daemon"),
    one("lxc.start.auto", C::Bool, "1"),
    one("lxc.start.delay", C::UInt, "5"),
    one("lxc.start.order", C::Int, "10"),
    list("lxc.group", C::NonEmpty, "onboot", "group"),
    one("lxc.monitor.unshare", C::Bool, "0"),
    one("lxc.monitor.signal.pdeath", C::SignalOrZero, "SIGKILL"),
    list(
        "lxc.environment",
        C::Environment,
        "LANG=C.UTF-8",
        "environment",
    ),
    list(
        "lxc.environment.runtime",
        C::Environment,
        "DEBUG=1",
        "environment.runtime",
    ),
    list(
        "lxc.environment.hooks",
        C::Environment,
        "HOOKVAR=1",
        "environment.hooks",
    ),
];

/// A key resolved against the table.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'k> {
    /// The table row.
    pub spec: &'static KeySpec,
    /// For net keys, the NIC index.
    pub net_index: Option<u32>,
    /// The part after a prefix (for prefix keys), or the net sub-key.
    pub rest: &'k str,
}

/// Looks a modern key up. `Err` says why the key is not known.
pub fn resolve(key: &str) -> Result<Resolved<'_>, String> {
    if let Some(spec) = KEYS
        .iter()
        .find(|s| matches!(s.pattern, Exact(n) if n == key))
    {
        return Ok(Resolved {
            spec,
            net_index: None,
            rest: "",
        });
    }
    if let Some(rest) = key.strip_prefix("lxc.net.") {
        return resolve_net(rest);
    }
    for spec in KEYS {
        if let Prefix(p) = spec.pattern {
            if let Some(rest) = key.strip_prefix(p) {
                if rest.is_empty() {
                    return Err(format!("`{key}` needs a name after `{p}`"));
                }
                if let Some(check) = spec.suffix {
                    check(rest)?;
                }
                return Ok(Resolved {
                    spec,
                    net_index: None,
                    rest,
                });
            }
        }
    }
    Err(suggest(key))
}

fn resolve_net(rest: &str) -> Result<Resolved<'_>, String> {
    let (idx, sub) = rest.split_once('.').ok_or_else(|| {
        format!("`lxc.net.{rest}` needs an index and a sub-key, e.g. lxc.net.0.type")
    })?;
    let index: u32 = idx
        .parse()
        .map_err(|_| format!("`{idx}` in `lxc.net.{rest}` is not a NIC index"))?;
    KEYS.iter()
        .find(|s| matches!(s.pattern, Net(n) if n == sub))
        .map(|spec| Resolved {
            spec,
            net_index: Some(index),
            rest: sub,
        })
        .ok_or_else(|| {
            format!("`{sub}` is not a network key (e.g. type, link, name, hwaddr, ipv4.address)")
        })
}

fn suggest(key: &str) -> String {
    if !key.starts_with("lxc.") {
        return "unknown key (container config keys start with `lxc.`)".to_string();
    }
    let close = KEYS.iter().filter_map(|s| match s.pattern {
        Exact(n) if edit_distance(n, key) <= 2 => Some(n.to_string()),
        _ => None,
    });
    match close.min_by_key(|n| edit_distance(n, key)) {
        Some(n) => format!("unknown key; did you mean `{n}`?"),
        None => "unknown key".to_string(),
    }
}

pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The example key of a table row, as a user would write it.
pub fn example_key(spec: &KeySpec) -> String {
    match spec.pattern {
        Exact(n) => n.to_string(),
        Prefix(p) => format!("{p}{}", spec.example.0),
        Net(sub) => format!("lxc.net.0.{sub}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_each_form() {
        assert_eq!(
            resolve("lxc.uts.name").unwrap().spec.pattern,
            Exact("lxc.uts.name")
        );
        let n = resolve("lxc.net.12.ipv4.address").unwrap();
        assert_eq!((n.net_index, n.rest), (Some(12), "ipv4.address"));
        let c = resolve("lxc.cgroup.memory.limit_in_bytes").unwrap();
        assert_eq!(c.rest, "memory.limit_in_bytes");
        assert_eq!(
            resolve("lxc.cgroup.dir").unwrap().spec.pattern,
            Exact("lxc.cgroup.dir")
        );
        assert!(resolve("lxc.prlimit.nofile").is_ok());
        assert!(resolve("lxc.prlimit.bogus")
            .unwrap_err()
            .contains("resource limit"));
        assert!(resolve("lxc.net.x.type")
            .unwrap_err()
            .contains("not a NIC index"));
        assert!(resolve("lxc.net.0.colour")
            .unwrap_err()
            .contains("not a network key"));
        assert!(resolve("lxc.uts.nmae")
            .unwrap_err()
            .contains("did you mean `lxc.uts.name`"));
        assert!(resolve("foo.bar")
            .unwrap_err()
            .contains("start with `lxc.`"));
    }

    #[test]
    fn every_example_is_valid_for_its_key() {
        for spec in KEYS {
            let k = example_key(spec);
            let r = resolve(&k).unwrap_or_else(|e| panic!("{k}: {e}"));
            assert!(std::ptr::eq(r.spec, spec), "{k} resolves to another row");
            super::super::value::check(spec.check, &k, spec.example.1)
                .unwrap_or_else(|e| panic!("{k}: {e}"));
        }
    }

    #[test]
    fn no_key_is_listed_twice() {
        for (i, a) in KEYS.iter().enumerate() {
            for b in &KEYS[i + 1..] {
                assert_ne!(a.pattern, b.pattern);
            }
        }
    }
}
