//! What `rlxc net start` asks of nftables and dnsmasq, built as text and
//! argument lists by pure functions (LXC's `lxc-net` rules and flags).

use std::path::Path;

use super::settings::Settings;

/// The nftables script: DHCP and DNS from the bridge, forwarding to and from
/// it, and NAT for the bridge's network (LXC's tables `inet lxc` and `ip lxc`).
pub fn nft_ruleset(s: &Settings) -> String {
    let b = &s.bridge;
    let n = &s.network;
    let mut r = String::new();
    if let (Some((_, _, net6)), true) = (&s.ipv6, s.ipv6_nat) {
        r.push_str(&format!(
            "add table ip6 lxc\nflush table ip6 lxc\n\
             add chain ip6 lxc postrouting {{ type nat hook postrouting priority 100; }}\n\
             add rule ip6 lxc postrouting ip6 saddr {net6} ip6 daddr != {net6} counter masquerade\n"
        ));
    }
    r.push_str(&format!(
        "add table inet lxc\nflush table inet lxc\n\
         add chain inet lxc input {{ type filter hook input priority 0; }}\n\
         add rule inet lxc input iifname \"{b}\" udp dport {{ 53, 67 }} accept\n\
         add rule inet lxc input iifname \"{b}\" tcp dport {{ 53, 67 }} accept\n\
         add chain inet lxc forward {{ type filter hook forward priority 0; }}\n\
         add rule inet lxc forward iifname \"{b}\" accept\n\
         add rule inet lxc forward oifname \"{b}\" accept\n\
         add table ip lxc\nflush table ip lxc\n\
         add chain ip lxc postrouting {{ type nat hook postrouting priority 100; }}\n\
         add rule ip lxc postrouting ip saddr {n} ip daddr != {n} counter masquerade\n"
    ));
    r
}

/// LXC's iptables rules, where nftables is not used: `(table, chain, rule)`;
/// `net start` inserts (`-I`) the filter ones and appends (`-A`) the NAT
/// and mangle ones, `net stop` deletes (`-D`) them all.
pub fn iptables_rules(s: &Settings) -> Vec<IptablesRule> {
    let b = s.bridge.as_str();
    let n = s.network.as_str();
    let rule = |prog, table, chain, words: &[&str]| {
        (
            prog,
            table,
            chain,
            words.iter().map(|x| x.to_string()).collect(),
        )
    };
    let mut r = Vec::new();
    if let (Some((_, _, n6)), true) = (&s.ipv6, s.ipv6_nat) {
        let n6 = n6.as_str();
        r.push(rule(
            "ip6tables",
            "nat",
            "POSTROUTING",
            &["-s", n6, "!", "-d", n6, "-j", "MASQUERADE"],
        ));
    }
    for (proto, port) in [("udp", "67"), ("tcp", "67"), ("udp", "53"), ("tcp", "53")] {
        r.push(rule(
            "iptables",
            "filter",
            "INPUT",
            &["-i", b, "-p", proto, "--dport", port, "-j", "ACCEPT"],
        ));
    }
    r.push(rule(
        "iptables",
        "filter",
        "FORWARD",
        &["-i", b, "-j", "ACCEPT"],
    ));
    r.push(rule(
        "iptables",
        "filter",
        "FORWARD",
        &["-o", b, "-j", "ACCEPT"],
    ));
    r.push(rule(
        "iptables",
        "nat",
        "POSTROUTING",
        &["-s", n, "!", "-d", n, "-j", "MASQUERADE"],
    ));
    r.push(rule(
        "iptables",
        "mangle",
        "POSTROUTING",
        &[
            "-o",
            b,
            "-p",
            "udp",
            "-m",
            "udp",
            "--dport",
            "68",
            "-j",
            "CHECKSUM",
            "--checksum-fill",
        ],
    ));
    r
}

/// `(program, table, chain, rule)` of one iptables or ip6tables rule.
pub type IptablesRule = (&'static str, &'static str, &'static str, Vec<String>);

/// One iptables call: `-w -t TABLE -I|-A|-D CHAIN RULE…`.
pub fn iptables_args(table: &str, op: &str, chain: &str, rule: &[String]) -> Vec<String> {
    let mut a = vec![
        "-w".to_string(),
        "-t".into(),
        table.into(),
        op.into(),
        chain.into(),
    ];
    a.extend(rule.iter().cloned());
    a
}

/// The tables `net stop` deletes.
pub const TABLES: &[(&str, &str)] = &[("inet", "lxc"), ("ip", "lxc"), ("ip6", "lxc")];

/// dnsmasq's arguments, as LXC's `lxc-net` passes them; it binds to the
/// bridge only and keeps its pid and leases in `run_dir`.
pub fn dnsmasq_args(s: &Settings, user: &str, run_dir: &Path) -> Vec<String> {
    let conf = s
        .dhcp_confile
        .as_deref()
        .map_or_else(|| "/dev/null".to_string(), |p| p.display().to_string());
    let mut a = vec![format!("--conf-file={conf}")];
    if let Some(d) = &s.domain {
        a.extend(["-s".into(), d.clone(), "-S".into(), format!("/{d}/")]);
    }
    if !s.dhcp_ping {
        a.push("--no-ping".into());
    }
    a.extend([
        "-u".into(),
        user.into(),
        "--strict-order".into(),
        "--bind-interfaces".into(),
        format!("--pid-file={}", run_dir.join("dnsmasq.pid").display()),
        "--listen-address".into(),
        s.addr.to_string(),
        "--dhcp-range".into(),
        s.dhcp_range.clone(),
        format!("--dhcp-lease-max={}", s.dhcp_max),
        "--dhcp-no-override".into(),
        "--except-interface=lo".into(),
        format!("--interface={}", s.bridge),
        format!(
            "--dhcp-leasefile={}",
            run_dir
                .join(format!("dnsmasq.{}.leases", s.bridge))
                .display()
        ),
        "--dhcp-authoritative".into(),
    ]);
    if let Some((addr, _, _)) = &s.ipv6 {
        a.extend([
            format!("--dhcp-range={addr},ra-only"),
            "--listen-address".into(),
            addr.clone(),
        ]);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iptables_where_nftables_is_not_used() {
        let r = iptables_rules(&Settings::default());
        let nat = r
            .iter()
            .find(|(p, t, _, _)| *p == "iptables" && *t == "nat")
            .unwrap();
        assert_eq!(
            iptables_args(nat.1, "-A", nat.2, &nat.3).join(" "),
            "-w -t nat -A POSTROUTING -s 10.0.3.0/24 ! -d 10.0.3.0/24 -j MASQUERADE"
        );
        assert_eq!(r[0].0, "ip6tables", "NAT66 with LXC 6's defaults");
        assert_eq!(r.len(), 9);
    }

    #[test]
    fn lxcs_rules_and_flags() {
        let s = Settings {
            ipv6: None,
            ..Settings::default()
        };
        let r = nft_ruleset(&s);
        assert!(r.contains("add rule ip lxc postrouting ip saddr 10.0.3.0/24 ip daddr != 10.0.3.0/24 counter masquerade"));
        assert!(r.contains("iifname \"lxcbr0\" udp dport { 53, 67 } accept"));
        assert!(!r.contains("ip6"), "no IPv6 NAT unless asked");
        let a = dnsmasq_args(&s, "dnsmasq", Path::new("/run/rlxc/lxc-net"));
        let line = a.join(" ");
        assert!(
            line.starts_with("--conf-file=/dev/null -u dnsmasq --strict-order --bind-interfaces"),
            "{line}"
        );
        assert!(line.contains(
            "--listen-address 10.0.3.1 --dhcp-range 10.0.3.2,10.0.3.254 --dhcp-lease-max=253"
        ));
        assert!(line.contains("--except-interface=lo --interface=lxcbr0"));
        assert!(line.contains("--dhcp-leasefile=/run/rlxc/lxc-net/dnsmasq.lxcbr0.leases"));
        let v6 = Settings {
            ipv6: Some(("fd00::1".into(), 64, "fd00::/64".into())),
            ipv6_nat: true,
            domain: Some("lxc".into()),
            ..Settings::default()
        };
        assert!(nft_ruleset(&v6).starts_with("add table ip6 lxc"));
        let line = dnsmasq_args(&v6, "nobody", Path::new("/r")).join(" ");
        assert!(
            line.contains("-s lxc -S /lxc/")
                && line.ends_with("--dhcp-range=fd00::1,ra-only --listen-address fd00::1")
        );
    }
}
