//! The IP addresses of a running container, read from its init's view of
//! `/proc/<pid>/net` (no namespace switch, no external tool).

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Every non-loopback address in the network namespace of `pid` (IPv6
/// link-local addresses left out, as `lxc-info` does).
pub fn addresses(pid: i32) -> Vec<IpAddr> {
    let fib = std::fs::read_to_string(format!("/proc/{pid}/net/fib_trie")).unwrap_or_default();
    let v6 = std::fs::read_to_string(format!("/proc/{pid}/net/if_inet6")).unwrap_or_default();
    let mut out: Vec<IpAddr> = local_v4(&fib).into_iter().map(IpAddr::V4).collect();
    out.extend(global_v6(&v6).into_iter().map(IpAddr::V6));
    out
}

/// The local IPv4 addresses in `/proc/net/fib_trie` text.
pub fn local_v4(text: &str) -> Vec<Ipv4Addr> {
    let mut found = BTreeSet::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(a) = t.strip_prefix("|-- ") {
            last = a.parse().ok();
        } else if t.starts_with("/32 host LOCAL") {
            if let Some(a) = last.filter(|a| !a.is_loopback()) {
                found.insert(a);
            }
        }
    }
    found.into_iter().collect()
}

/// Every non-loopback address in the network namespace of `pid`, once per
/// interface that holds it (as `getifaddrs` lists them, which `lxc-ls`
/// uses): unlike [`addresses`], an address on two interfaces is there twice.
/// Unsorted.
pub fn addresses_per_interface(pid: i32) -> Vec<IpAddr> {
    let fib = std::fs::read_to_string(format!("/proc/{pid}/net/fib_trie")).unwrap_or_default();
    let v6 = std::fs::read_to_string(format!("/proc/{pid}/net/if_inet6")).unwrap_or_default();
    let mut out: Vec<IpAddr> = local_v4_per_interface(&fib)
        .into_iter()
        .map(IpAddr::V4)
        .collect();
    out.extend(global_v6(&v6).into_iter().map(IpAddr::V6));
    out
}

/// The local IPv4 addresses of the `Local:` table in `/proc/net/fib_trie`
/// text, one per route: the kernel adds a local route per interface holding
/// an address, so an address on two interfaces comes twice. Only that table
/// is read because, with the tables merged (no policy rules), `Main:` repeats
/// the same routes. fib_trie names no device, so an address other than
/// 127/8 on `lo` is not told apart.
pub fn local_v4_per_interface(text: &str) -> Vec<Ipv4Addr> {
    let has_local = text.lines().any(|l| l.trim_end() == "Local:");
    let mut in_table = !has_local;
    let mut found = Vec::new();
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && line.trim_end().ends_with(':') {
            in_table = !has_local || line.trim_end() == "Local:";
            continue;
        }
        let t = line.trim();
        if let Some(a) = t.strip_prefix("|-- ") {
            last = a.parse().ok();
        } else if in_table && t.starts_with("/32 host LOCAL") {
            found.extend(last.filter(|a| !a.is_loopback()));
        }
    }
    found
}

/// Every interface in the network namespace of `pid`, `lo` included, from
/// `/proc/<pid>/net/dev`; empty when it cannot be read.
pub fn interfaces(pid: i32) -> Vec<String> {
    let dev = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default();
    dev_names(&dev)
}

/// The interface names in `/proc/net/dev` text (two header lines, then
/// `name: counters…` per interface), in the kernel's order.
pub fn dev_names(text: &str) -> Vec<String> {
    text.lines()
        .skip(2)
        .filter_map(|l| l.split_once(':'))
        .map(|(name, _)| name.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

/// The global IPv6 addresses in `/proc/net/if_inet6` text.
pub fn global_v6(text: &str) -> Vec<Ipv6Addr> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (hex, scope, dev) = (f.first()?, f.get(3)?, f.get(5)?);
            if *dev == "lo" || *scope != "00" {
                return None;
            }
            u128::from_str_radix(hex, 16).ok().map(Ipv6Addr::from)
        })
        .collect()
}

/// A link's byte counters, as `/proc/net/dev` has them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LinkStat {
    /// The interface (the host side of a NIC).
    pub name: String,
    /// Bytes it received.
    pub rx_bytes: u64,
    /// Bytes it sent.
    pub tx_bytes: u64,
}

/// The counters of the links named in `names`, from `/proc/net/dev` text.
pub fn link_stats(text: &str, names: &[String]) -> Vec<LinkStat> {
    names
        .iter()
        .filter_map(|n| {
            text.lines().find_map(|l| {
                let (name, rest) = l.split_once(':')?;
                if name.trim() != n {
                    return None;
                }
                let f: Vec<u64> = rest
                    .split_whitespace()
                    .filter_map(|w| w.parse().ok())
                    .collect();
                Some(LinkStat {
                    name: n.clone(),
                    rx_bytes: *f.first()?,
                    tx_bytes: *f.get(8)?,
                })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIB: &str = "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 0.0.0.0\n        /0 universe UNICAST\n     +-- 10.0.3.0/24 2 0 2\n        |-- 10.0.3.0\n           /24 link UNICAST\n        |-- 10.0.3.5\n           /32 host LOCAL\n     +-- 127.0.0.0/8 2 0 2\n        |-- 127.0.0.1\n           /32 host LOCAL\nLocal:\n        |-- 10.0.3.5\n           /32 host LOCAL\n";

    #[test]
    fn reads_local_ipv4_without_loopback() {
        assert_eq!(local_v4(FIB), vec![Ipv4Addr::new(10, 0, 3, 5)]);
    }

    #[test]
    fn reads_the_local_table_once_per_route() {
        assert_eq!(
            local_v4_per_interface(FIB),
            vec![Ipv4Addr::new(10, 0, 3, 5)]
        );
        // The same address on two interfaces: two local routes under one leaf.
        let two = "Local:\n        |-- 10.0.3.5\n           /32 host LOCAL\n           /32 host LOCAL\n        |-- 10.0.3.255\n           /32 link BROADCAST\n";
        let a = Ipv4Addr::new(10, 0, 3, 5);
        assert_eq!(local_v4_per_interface(two), vec![a, a]);
        assert_eq!(local_v4(two), vec![a]);
    }

    #[test]
    fn reads_interface_names() {
        let t = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n    lo:    3193 29 0\n  eth0: 1 2 3\nveth-a:1 2\n";
        assert_eq!(dev_names(t), vec!["lo", "eth0", "veth-a"]);
        assert!(dev_names("").is_empty());
    }

    #[test]
    fn reads_global_ipv6_only() {
        let t = "00000000000000000000000000000001 01 80 10 80       lo\n\
                 fe80000000000000021a2bfffe3c4d5e 02 40 20 80     eth0\n\
                 20010db8000000000000000000000005 02 40 00 80     eth0\n";
        assert_eq!(
            global_v6(t),
            vec!["2001:db8::5".parse::<Ipv6Addr>().unwrap()]
        );
    }

    #[test]
    fn link_counters_from_proc_net_dev() {
        let text = "Inter-|   Receive                                                |  Transmit\n \
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n\
    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n\
vethAB:    5000      10    0    0    0     0          0         0     7000      12    0    0    0     0       0          0\n";
        let s = link_stats(text, &["vethAB".to_string(), "gone".to_string()]);
        assert_eq!(
            s,
            vec![LinkStat {
                name: "vethAB".into(),
                rx_bytes: 5000,
                tx_bytes: 7000
            }]
        );
    }
}
