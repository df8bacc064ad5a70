//! Value checks for config keys: each returns a sentence saying what is wrong.

use std::net::{Ipv4Addr, Ipv6Addr};

/// How a key's value is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Any text, possibly empty.
    Any,
    /// Non-empty text.
    NonEmpty,
    /// An absolute path.
    AbsPath,
    /// `0` or `1`.
    Bool,
    /// A non-negative integer.
    UInt,
    /// An integer.
    Int,
    /// A signal name or number (`SIGPWR`, `PWR`, `30`, `SIGRTMIN+3`).
    Signal,
    /// A signal, or `0` for none.
    SignalOrZero,
    /// An architecture name.
    Arch,
    /// A host name.
    Hostname,
    /// Capability names separated by spaces.
    Caps,
    /// Capability names, or `none`.
    CapsOrNone,
    /// `u|g|b NSID HOSTID RANGE`.
    IdMap,
    /// A NIC type.
    NetType,
    /// `up`.
    NetFlags,
    /// A MAC address, `x` for random hex digits.
    Hwaddr,
    /// An interface name (at most 15 bytes, no `/` or spaces).
    IfName,
    /// `a.b.c.d/m [broadcast]`.
    Ipv4Address,
    /// `a.b.c.d/m`.
    Ipv4Route,
    /// An IPv4 address, `auto` or `dev`.
    Ipv4Gateway,
    /// `x::y/m`.
    Ipv6Address,
    /// An IPv6 address, `auto` or `dev`.
    Ipv6Gateway,
    /// `bridge` or `router`.
    VethMode,
    /// `private`, `vepa`, `bridge` or `passthru`.
    MacvlanMode,
    /// `l3`, `l3s` or `l2`.
    IpvlanMode,
    /// `bridge`, `private` or `vepa`.
    IpvlanIsolation,
    /// 0–4094.
    VlanId,
    /// 1–4094 or `none`.
    VethVlanId,
    /// A log level name or 0–8.
    LogLevel,
    /// A syslog facility.
    Syslog,
    /// `lxc.mount.auto` tokens.
    MountAuto,
    /// An fstab line.
    MountEntry,
    /// Namespace names separated by spaces.
    Namespaces,
    /// `10s`, `-1h`, …
    TimeOffset,
    /// `soft[:hard]`, each a number or `unlimited`.
    Prlimit,
    /// `KEY=VALUE` or `KEY`.
    Environment,
    /// A byte size (`1024`, `1MB`) or `auto`.
    SizeOrAuto,
    /// Group ids separated by commas.
    Gids,
    /// A storage backend name (`lxc.rootfs.backend`).
    Backend,
    /// Only an empty value is allowed (the key clears a list).
    ClearOnly,
    /// A cgroup v1 value (checked against the file name in the key).
    CgroupV1,
    /// A cgroup v2 value (checked against the file name in the key).
    CgroupV2,
}

/// Checks `value` for `key` (the key is needed by the cgroup checks).
pub fn check(check: Check, key: &str, value: &str) -> Result<(), String> {
    use Check::*;
    match check {
        Any => Ok(()),
        NonEmpty => non_empty(value),
        AbsPath => abs_path(value),
        Bool => one_of(value, &["0", "1"]),
        UInt => uint(value).map(|_| ()),
        Int => value
            .parse::<i64>()
            .map(|_| ())
            .map_err(|_| format!("`{value}` is not an integer")),
        Signal => signal(value).map(|_| ()),
        SignalOrZero if value == "0" => Ok(()),
        SignalOrZero => signal(value).map(|_| ()),
        Arch => arch(value),
        Hostname => hostname(value),
        Caps => caps(value, false),
        CapsOrNone => caps(value, true),
        IdMap => idmap(value).map(|_| ()),
        NetType => net_type(value),
        NetFlags => one_of(value, &["up"]),
        Hwaddr => hwaddr(value),
        IfName => ifname(value),
        Ipv4Address => ip_cidr::<Ipv4Addr>(value, 32, true),
        Ipv4Route => ip_cidr::<Ipv4Addr>(value, 32, false),
        Ipv4Gateway => gateway::<Ipv4Addr>(value),
        Ipv6Address => ip_cidr::<Ipv6Addr>(value, 128, false),
        Ipv6Gateway => gateway::<Ipv6Addr>(value),
        VethMode => one_of(value, &["bridge", "router"]),
        MacvlanMode => one_of(value, &["private", "vepa", "bridge", "passthru"]),
        IpvlanMode => one_of(value, &["l3", "l3s", "l2"]),
        IpvlanIsolation => one_of(value, &["bridge", "private", "vepa"]),
        VlanId => ranged(value, 0, 4094),
        VethVlanId if value == "none" => Ok(()),
        VethVlanId => ranged(value, 1, 4094),
        LogLevel => log_level(value).map(|_| ()),
        Syslog => one_of(
            value,
            &[
                "daemon", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
                "local7",
            ],
        ),
        MountAuto => mount_auto(value),
        MountEntry => mount_entry(value),
        Namespaces => words_in(value, NAMESPACES, "namespace"),
        TimeOffset => time_offset(value),
        Prlimit => prlimit(value),
        Environment => environment(value),
        SizeOrAuto if value == "auto" => Ok(()),
        SizeOrAuto => byte_size(value).map(|_| ()),
        Gids => value
            .split(',')
            .try_for_each(|g| uint(g.trim()).map(|_| ())),
        Backend => one_of(value, crate::storage::KNOWN_PREFIXES),
        ClearOnly if value.is_empty() => Ok(()),
        ClearOnly => Err(format!(
            "this key only clears a list and takes an empty value, not `{value}`"
        )),
        CgroupV1 => super::cgroup::check_value(super::cgroup::Version::V1, key, value),
        CgroupV2 => super::cgroup::check_value(super::cgroup::Version::V2, key, value),
    }
}

fn non_empty(v: &str) -> Result<(), String> {
    if v.is_empty() {
        Err("the value is empty".into())
    } else {
        Ok(())
    }
}

fn abs_path(v: &str) -> Result<(), String> {
    if v.starts_with('/') {
        Ok(())
    } else {
        Err(format!("`{v}` is not an absolute path"))
    }
}

/// LXC's network types.
pub const NET_TYPES: &[&str] = &["empty", "veth", "vlan", "macvlan", "ipvlan", "phys", "none"];

/// One of LXC's network types, or the name of another backend (a
/// downstream crate may register one; the start checks the registry). A
/// near miss of LXC's names is a typo, not a backend.
fn net_type(v: &str) -> Result<(), String> {
    if NET_TYPES.contains(&v) {
        return Ok(());
    }
    let word = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    let near = NET_TYPES
        .iter()
        .find(|t| super::keys::edit_distance(t, v) <= 2);
    match (word, near) {
        (true, None) => Ok(()),
        (_, Some(t)) => Err(format!("`{v}` is not a network type; did you mean `{t}`?")),
        (false, None) => Err(format!(
            "`{v}` is not a network type ({})",
            NET_TYPES.join(", ")
        )),
    }
}

fn one_of(v: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&v) {
        Ok(())
    } else {
        Err(format!("`{v}` is not one of: {}", allowed.join(", ")))
    }
}

/// Parses a non-negative integer.
pub fn uint(v: &str) -> Result<u64, String> {
    v.parse::<u64>()
        .map_err(|_| format!("`{v}` is not a non-negative integer"))
}

/// Parses an integer and checks it lies in `lo..=hi`.
pub fn ranged(v: &str, lo: u64, hi: u64) -> Result<(), String> {
    let n = uint(v)?;
    if (lo..=hi).contains(&n) {
        Ok(())
    } else {
        Err(format!("{n} is out of range {lo}–{hi}"))
    }
}

const SIGNALS: &[(&str, i32)] = &[
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("IOT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("POLL", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// Parses a signal as LXC accepts it: a number, `NAME`, `SIGNAME`, `SIGRTMIN+N`, `SIGRTMAX-N`.
pub fn signal(v: &str) -> Result<i32, String> {
    let bad = || format!("`{v}` is not a signal (use a name such as SIGPWR or a number 1–64)");
    if let Ok(n) = v.parse::<i32>() {
        return if (1..=64).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        };
    }
    let upper = v.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some((_, n)) = SIGNALS.iter().find(|(s, _)| *s == name) {
        return Ok(*n);
    }
    let rt = |rest: &str, base: i32, sign: i32| -> Result<i32, String> {
        let off = if rest.is_empty() {
            0
        } else {
            rest.parse::<i32>().map_err(|_| bad())?
        };
        let n = base + sign * off;
        if (34..=64).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        }
    };
    if let Some(rest) = name.strip_prefix("RTMIN") {
        return rt(rest.strip_prefix('+').unwrap_or(rest), 34, 1);
    }
    if let Some(rest) = name.strip_prefix("RTMAX") {
        return rt(rest.strip_prefix('-').unwrap_or(rest), 64, -1);
    }
    Err(bad())
}

/// Architecture names LXC accepts for `lxc.arch`.
pub const ARCHES: &[&str] = &[
    "arm",
    "armel",
    "armhf",
    "armv7l",
    "athlon",
    "i386",
    "i486",
    "i586",
    "i686",
    "linux32",
    "mips",
    "mipsel",
    "ppc",
    "powerpc",
    "x86",
    "aarch64",
    "amd64",
    "arm64",
    "linux64",
    "mips64",
    "mips64el",
    "ppc64",
    "ppc64el",
    "ppc64le",
    "powerpc64",
    "s390x",
    "x86_64",
    "riscv64",
    "loongarch64",
    "sparc64",
];

fn arch(v: &str) -> Result<(), String> {
    if ARCHES.contains(&v) {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not an architecture rlxc knows (e.g. amd64, x86_64, i686, arm64)"
        ))
    }
}

fn hostname(v: &str) -> Result<(), String> {
    non_empty(v)?;
    if v.len() > 64 {
        return Err(format!(
            "a host name is at most 64 bytes, `{v}` has {}",
            v.len()
        ));
    }
    if v.chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        return Err(format!(
            "`{v}` contains white space, a control character or `/`"
        ));
    }
    Ok(())
}

/// Capability names, lowercase, without `CAP_`.
pub const CAPABILITIES: &[&str] = &[
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

fn caps(v: &str, none_ok: bool) -> Result<(), String> {
    non_empty(v)?;
    for c in v.split_whitespace() {
        let lc = c.to_ascii_lowercase();
        let name = lc.strip_prefix("cap_").unwrap_or(&lc);
        let numeric = c.parse::<u32>().is_ok_and(|n| n < 64);
        if !(CAPABILITIES.contains(&name) || numeric || (none_ok && c == "none")) {
            return Err(format!(
                "`{c}` is not a capability (e.g. sys_admin, net_raw)"
            ));
        }
    }
    Ok(())
}

/// One `lxc.idmap` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct IdMap {
    /// `u`, `g` or `b`.
    pub kind: char,
    /// First id inside the container.
    pub ns_start: u32,
    /// First id on the host.
    pub host_start: u32,
    /// How many ids.
    pub count: u32,
}

/// Parses `u|g|b NSID HOSTID RANGE`.
pub fn idmap(v: &str) -> Result<IdMap, String> {
    let f: Vec<&str> = v.split_whitespace().collect();
    let [kind, ns, host, count] = f.as_slice() else {
        return Err(format!("`{v}` is not `u|g|b NSID HOSTID RANGE`"));
    };
    let kind = match *kind {
        "u" | "g" | "b" => kind.chars().next().unwrap_or('u'),
        other => return Err(format!("idmap type `{other}` is not u, g or b")),
    };
    let num = |s: &str| {
        s.parse::<u32>()
            .map_err(|_| format!("`{s}` in idmap `{v}` is not an id"))
    };
    let m = IdMap {
        kind,
        ns_start: num(ns)?,
        host_start: num(host)?,
        count: num(count)?,
    };
    if m.count == 0 {
        return Err(format!("idmap `{v}` maps no ids (range 0)"));
    }
    let end = |s: u32| u64::from(s) + u64::from(m.count);
    if end(m.ns_start) > 1 << 32 || end(m.host_start) > 1 << 32 {
        return Err(format!("idmap `{v}` runs past the largest id"));
    }
    Ok(m)
}

fn hwaddr(v: &str) -> Result<(), String> {
    let parts: Vec<&str> = v.split(':').collect();
    let ok = parts.len() == 6
        && parts.iter().all(|p| {
            p.len() == 2
                && p.chars()
                    .all(|c| c.is_ascii_hexdigit() || c == 'x' || c == 'X')
        });
    if ok {
        Ok(())
    } else {
        Err(format!("`{v}` is not a MAC address like 00:16:3e:xx:xx:xx"))
    }
}

fn ifname(v: &str) -> Result<(), String> {
    non_empty(v)?;
    if v.len() > 15 {
        return Err(format!("interface name `{v}` is longer than 15 bytes"));
    }
    if v.chars()
        .any(|c| c.is_whitespace() || c == '/' || c == ':' || c.is_control())
        || v == "."
        || v == ".."
    {
        return Err(format!("`{v}` is not a valid interface name"));
    }
    Ok(())
}

fn ip_cidr<A: std::str::FromStr>(v: &str, max: u8, bcast: bool) -> Result<(), String> {
    let mut words = v.split_whitespace();
    let addr = words.next().ok_or("the address is empty")?;
    let (ip, prefix) = addr.split_once('/').unwrap_or((addr, ""));
    ip.parse::<A>()
        .map_err(|_| format!("`{ip}` is not an IP address"))?;
    if !prefix.is_empty() {
        let p = prefix
            .parse::<u8>()
            .map_err(|_| format!("`/{prefix}` is not a prefix length"))?;
        if p > max {
            return Err(format!("prefix /{p} is longer than {max}"));
        }
    }
    match (words.next(), bcast) {
        (None, _) => Ok(()),
        (Some(b), true) => b
            .parse::<A>()
            .map(|_| ())
            .map_err(|_| format!("broadcast `{b}` is not an IP address")),
        (Some(extra), false) => Err(format!("unexpected `{extra}` after the address")),
    }
    .and_then(|()| match words.next() {
        Some(extra) => Err(format!("unexpected `{extra}` after the address")),
        None => Ok(()),
    })
}

fn gateway<A: std::str::FromStr>(v: &str) -> Result<(), String> {
    if v == "auto" || v == "dev" {
        return Ok(());
    }
    v.parse::<A>()
        .map(|_| ())
        .map_err(|_| format!("`{v}` is not an address, `auto` or `dev`"))
}

/// LXC's log level names in order (0 = TRACE … 8 = FATAL).
pub const LOG_LEVELS: &[&str] = &[
    "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "CRIT", "ALERT", "FATAL",
];

/// Parses a log level: a name from [`LOG_LEVELS`] (any case) or its number.
pub fn log_level(v: &str) -> Result<usize, String> {
    if let Ok(n) = v.parse::<usize>() {
        if n < LOG_LEVELS.len() {
            return Ok(n);
        }
    }
    let up = v.to_ascii_uppercase();
    let up = if up == "WARNING" {
        "WARN".to_string()
    } else {
        up
    };
    LOG_LEVELS.iter().position(|l| *l == up).ok_or_else(|| {
        format!(
            "`{v}` is not a log level ({} or 0–8)",
            LOG_LEVELS.join(", ")
        )
    })
}

fn mount_auto(v: &str) -> Result<(), String> {
    for tok in v.split_whitespace() {
        let mut parts = tok.split(':');
        let head = parts.next().unwrap_or("");
        let opts: Vec<&str> = parts.collect();
        let allowed: &[&str] = match head {
            "proc" => &["mixed", "rw"],
            "sys" => &["ro", "mixed", "rw"],
            "cgroup" | "cgroup-full" => &["mixed", "ro", "rw", "force"],
            "shmounts" => {
                if opts.is_empty() || opts.len() > 2 || opts.iter().any(|o| o.is_empty()) {
                    return Err(format!("`{tok}` needs shmounts:HOSTPATH[:CONTAINERPATH]"));
                }
                continue;
            }
            _ => {
                return Err(format!(
                    "`{tok}` is not proc, sys, cgroup, cgroup-full or shmounts"
                ))
            }
        };
        if let Some(bad) = opts.iter().find(|o| !allowed.contains(o)) {
            return Err(format!(
                "`{bad}` is not an option of `{head}` ({})",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

fn mount_entry(v: &str) -> Result<(), String> {
    let n = v.split_whitespace().count();
    if (3..=6).contains(&n) {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not an fstab line (SOURCE TARGET TYPE [OPTIONS [DUMP [PASS]]])"
        ))
    }
}

/// Namespace names used by `lxc.namespace.*`.
pub const NAMESPACES: &[&str] = &["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"];

fn words_in(v: &str, allowed: &[&str], what: &str) -> Result<(), String> {
    non_empty(v)?;
    match v.split_whitespace().find(|w| !allowed.contains(w)) {
        Some(w) => Err(format!("`{w}` is not a {what} ({})", allowed.join(", "))),
        None => Ok(()),
    }
}

fn time_offset(v: &str) -> Result<(), String> {
    let digits = v.trim_start_matches('-');
    let split = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let (num, unit) = digits.split_at(split);
    if num.is_empty() || !["", "h", "m", "s", "ms", "us", "ns"].contains(&unit) {
        return Err(format!(
            "`{v}` is not a time offset such as 10s, -1h or 500ms"
        ));
    }
    Ok(())
}

fn prlimit(v: &str) -> Result<(), String> {
    let one = |s: &str| {
        if s == "unlimited" || s.parse::<u64>().is_ok() {
            Ok(())
        } else {
            Err(format!("`{s}` is not a number or `unlimited`"))
        }
    };
    match v.split_once(':') {
        Some((soft, hard)) => one(soft).and_then(|()| one(hard)),
        None => one(v),
    }
}

fn environment(v: &str) -> Result<(), String> {
    let name = v.split_once('=').map_or(v, |(k, _)| k);
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("`{v}` is not KEY=VALUE or KEY"));
    }
    Ok(())
}

/// Parses a byte size: a number with an optional unit (`B`, `kB`/`K`, `MB`/`M`, `GB`/`G`, `TB`/`T`).
pub fn byte_size(v: &str) -> Result<u64, String> {
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{v}` is not a size such as 1024, 512K or 1MB"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(format!("`{v}` has an unknown unit (use K, M, G or T)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{v}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        assert_eq!(signal("SIGPWR"), Ok(30));
        assert_eq!(signal("pwr"), Ok(30));
        assert_eq!(signal("9"), Ok(9));
        assert_eq!(signal("SIGRTMIN+3"), Ok(37));
        assert_eq!(signal("SIGRTMAX-1"), Ok(63));
        assert!(signal("SIGNOPE").is_err());
        assert!(signal("0").is_err());
        assert!(signal("65").is_err());
    }

    #[test]
    fn sizes_and_levels() {
        assert_eq!(byte_size("1MB"), Ok(1 << 20));
        assert_eq!(byte_size("512k"), Ok(512 << 10));
        assert!(byte_size("1 parsec").is_err());
        assert_eq!(log_level("warn"), Ok(4));
        assert_eq!(log_level("8"), Ok(8));
        assert!(log_level("9").is_err());
    }

    #[test]
    fn structured_values() {
        use Check::*;
        let ok = |c, v| check(c, "k", v).unwrap_or_else(|e| panic!("{v}: {e}"));
        let bad = |c, v| assert!(check(c, "k", v).is_err(), "{v} accepted");
        ok(Caps, "sys_admin mac_admin CAP_NET_RAW");
        bad(Caps, "sys_admin flying");
        ok(CapsOrNone, "none");
        ok(IdMap, "u 0 100000 65536");
        bad(IdMap, "x 0 1 1");
        bad(IdMap, "u 0 4294967295 2");
        ok(Ipv4Address, "10.0.3.5/24 10.0.3.255");
        bad(Ipv4Address, "10.0.3.500/24");
        bad(Ipv4Address, "10.0.3.5/33");
        ok(Ipv6Address, "fd00::5/64");
        ok(Ipv4Gateway, "auto");
        ok(Hwaddr, "00:16:3e:xx:xx:xx");
        bad(Hwaddr, "00:16:3e:xx:xx");
        ok(
            MountAuto,
            "proc:mixed sys:ro cgroup:mixed:force shmounts:/a:/b",
        );
        bad(MountAuto, "proc:ro");
        ok(MountEntry, "proc proc proc nodev,noexec,nosuid 0 0");
        bad(MountEntry, "proc");
        ok(TimeOffset, "-1h");
        bad(TimeOffset, "1y");
        ok(Prlimit, "1024:unlimited");
        bad(Prlimit, "lots");
        ok(Environment, "PATH=/bin");
        bad(Environment, "=x");
        ok(Arch, "amd64");
        bad(Arch, "z80");
        bad(IfName, "a-very-long-interface");
        ok(Gids, "1,2, 3");
        bad(ClearOnly, "x");
    }
}
