//! The default network (`rlxc net`, LXC's lxc-net) in a network namespace
//! of the test's own: lxcbr0 with its address, the NAT rule, dnsmasq (with
//! `no-resolv`: it never forwards a query anywhere) giving two busybox
//! containers their leases at boot and resolving their names; nothing left
//! after `net stop`.

use rlxc_tests::netns::HostNs;
use rlxc_tests::{stderr, stdout, within, Lab};

#[test]
fn lxcbr0_gives_leases_names_and_nat_and_goes_away() {
    let Some(lab) = Lab::new() else { return };
    let host = HostNs::new("lxcnet");
    let dns = lab.path().join("dnsmasq.conf");
    std::fs::write(&dns, "no-resolv\n").unwrap();
    let settings = lab.path().join("lxc-net");
    std::fs::write(
        &settings,
        format!(
            "USE_LXC_BRIDGE=\"true\"\nLXC_DHCP_CONFILE={}\n",
            dns.display()
        ),
    )
    .unwrap();
    let net = |args: &[&str]| host.net(&lab, &settings, &args[1..]);
    let start = net(&["net", "start"]);
    assert!(start.status.success(), "{}", stderr(&start));
    // Idempotent.
    assert!(net(&["net", "start"]).status.success());
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&net(&["net", "status", "--format", "json"]))).unwrap();
    assert_eq!(status["up"], true);
    assert!(status["dnsmasq"].as_i64().is_some(), "{status}");
    let addr = stdout(&host.exec(&["ip", "-o", "-4", "addr", "show", "lxcbr0"]));
    assert!(addr.contains("inet 10.0.3.1/24 brd 10.0.3.255"), "{addr}");
    let nat = stdout(&host.exec(&["nft", "list", "table", "ip", "lxc"]));
    assert!(
        nat.contains("ip saddr 10.0.3.0/24 ip daddr != 10.0.3.0/24") && nat.contains("masquerade"),
        "{nat}"
    );
    // IPv6 as LXC 6 has it by default: a ULA on the bridge, NAT66.
    let addr6 = stdout(&host.exec(&["ip", "-o", "-6", "addr", "show", "lxcbr0"]));
    assert!(addr6.contains("fc42:5009:ba4b:5ab0::1/64"), "{addr6}");
    let nat6 = stdout(&host.exec(&["nft", "list", "table", "ip6", "lxc"]));
    assert!(nat6.contains("masquerade"), "{nat6}");

    // Two containers on lxcbr0, as Debian's default.conf makes them.
    let veth = "lxc.net.0.type = veth\nlxc.net.0.link = lxcbr0\nlxc.net.0.flags = up\n\
                lxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n";
    let names = [lab.busybox("dhcp1"), lab.busybox("dhcp2")];
    for c in &names {
        lab.configure(c, veth);
        let o = host.rlxc(&lab, &["start", "-n", c]);
        assert!(o.status.success(), "{c}: {}", stderr(&o));
    }
    // The IPv4 lease (IPv6, LXC 6's default, comes by router advertisement).
    let ip = |c: &str| {
        let all = lab.ok(&["info", "-n", c, "-i", "-H"]);
        all.lines()
            .find(|l| l.starts_with("10.0.3."))
            .unwrap_or("")
            .to_string()
    };
    assert!(
        within(30, || names.iter().all(|c| ip(c).starts_with("10.0.3."))),
        "no leases: {:?}",
        names.iter().map(|c| ip(c)).collect::<Vec<_>>()
    );
    let (a, b) = (&names[0], &names[1]);
    for to in [ip(b), "10.0.3.1".to_string()] {
        let o = lab.run(&["attach", "-n", a, "--", "ping", "-c", "1", "-W", "2", &to]);
        assert!(o.status.success(), "ping {to}: {}", stdout(&o));
    }
    let look = lab.run(&["attach", "-n", a, "--", "nslookup", b, "10.0.3.1"]);
    assert!(
        stdout(&look).contains(&ip(b)),
        "{}{}",
        stdout(&look),
        stderr(&look)
    );

    // Refused while containers are on the bridge; then all of it goes.
    let o = net(&["net", "stop"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("stop those containers first"),
        "{}",
        stderr(&o)
    );
    for c in &names {
        lab.ok(&["stop", "-n", c, "-k"]);
    }
    let o = net(&["net", "stop"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(host.links("lxcbr0").is_empty(), "the bridge is left");
    assert!(host.links("veth").is_empty(), "a host end is left");
    let rules = stdout(&host.exec(&["nft", "list", "ruleset"]));
    assert!(!rules.contains("lxc"), "{rules}");
    let pid = status["dnsmasq"].as_i64().unwrap();
    let alive =
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z"));
    assert!(!alive, "dnsmasq still runs");
}

#[test]
fn without_nftables_the_rules_are_iptables() {
    let Some(lab) = Lab::new() else { return };
    let host = HostNs::new("lxcnet4");
    let settings = lab.path().join("lxc-net");
    std::fs::write(
        &settings,
        "LXC_USE_NFT=\"false\"\nLXC_BRIDGE=\"lxcbr7\"\nLXC_DHCP_CONFILE=/dev/null\n",
    )
    .unwrap();
    let net = |args: &[&str]| host.net(&lab, &settings, &args[1..]);
    let o = net(&["net", "start"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let nat = stdout(&host.exec(&["iptables", "-w", "-t", "nat", "-S", "POSTROUTING"]));
    assert!(
        nat.contains("-A POSTROUTING -s 10.0.3.0/24 ! -d 10.0.3.0/24 -j MASQUERADE"),
        "{nat}"
    );
    let nat6 = stdout(&host.exec(&["ip6tables", "-w", "-t", "nat", "-S", "POSTROUTING"]));
    assert!(
        nat6.contains("-s fc42:5009:ba4b:5ab0::/64 ! -d fc42:5009:ba4b:5ab0::/64 -j MASQUERADE"),
        "{nat6}"
    );
    let input = stdout(&host.exec(&["iptables", "-w", "-S", "INPUT"]));
    assert!(
        input.contains("-i lxcbr7 -p udp -m udp --dport 67 -j ACCEPT"),
        "{input}"
    );
    assert!(!stdout(&host.exec(&["nft", "list", "tables"])).contains("lxc"));
    let o = net(&["net", "stop"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let nat = stdout(&host.exec(&["iptables", "-w", "-t", "nat", "-S", "POSTROUTING"]));
    assert!(!nat.contains("MASQUERADE"), "{nat}");
    let nat6 = stdout(&host.exec(&["ip6tables", "-w", "-t", "nat", "-S", "POSTROUTING"]));
    assert!(!nat6.contains("MASQUERADE"), "{nat6}");
    assert!(host.links("lxcbr7").is_empty());
}

#[test]
fn a_taken_dns_port_is_named_and_nothing_is_left() {
    let Some(lab) = Lab::new() else { return };
    let host = HostNs::new("lxcnet53");
    let settings = lab.path().join("lxc-net");
    std::fs::write(
        &settings,
        "LXC_DHCP_CONFILE=/dev/null\nLXC_IPV6_ADDR=\"\"\n",
    )
    .unwrap();
    // Something else already listens on port 53 there (TCP, every address).
    for cmd in [
        &["ip", "link", "add", "lxcbr0", "type", "bridge"][..],
        &["ip", "addr", "add", "10.0.3.1/24", "dev", "lxcbr0"],
        &["ip", "link", "set", "lxcbr0", "up"],
    ] {
        assert!(host.exec(cmd).status.success(), "{cmd:?}");
    }
    let mut squatter = std::process::Command::new("ip")
        .args(["netns", "exec", &host.0, "busybox", "nc", "-l", "-p", "53"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let o = host.net(&lab, &settings, &["start"]);
    let _ = squatter.kill();
    let _ = squatter.wait();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("dnsmasq cannot listen on 10.0.3.1: port 53 or 67 is already taken"),
        "{e}"
    );
    // The failed start undid itself.
    assert!(host.links("lxcbr0").is_empty(), "the bridge is left");
    assert!(!stdout(&host.exec(&["nft", "list", "tables"])).contains("lxc"));
}
