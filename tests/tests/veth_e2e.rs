//! veth NICs for real, on a bridge in a network namespace this test makes
//! (the "host"): every packet stays between that namespace and the
//! containers' own. Addresses, gateway and link state as configured, the
//! containers reach each other and the bridge, the host ends are on the
//! bridge, and nothing is left after stop, a failed start or a SIGKILLed
//! monitor.

use std::process::Command;

use rlxc_tests::netns::HostNs;
use rlxc_tests::{require, stderr, stdout, Lab};

fn nic(pair: &str, addr: &str, link: &str, gateway: &str) -> String {
    format!(
        "lxc.net.0.type = veth\nlxc.net.0.link = {link}\nlxc.net.0.flags = up\n\
         lxc.net.0.veth.pair = {pair}\nlxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n\
         lxc.net.0.ipv4.address = {addr}/24\nlxc.net.0.ipv4.gateway = {gateway}\n"
    )
}

#[test]
fn veth_on_a_bridge_reaches_its_neighbours_and_leaves_nothing() {
    let Some(lab) = Lab::new() else { return };
    if !require(
        Command::new("ip").arg("-V").output().is_ok(),
        "ip (iproute2)",
    ) {
        return;
    }
    let host = HostNs::with_bridge("veth");
    let tag = std::process::id() % 100_000;
    let (p1, p2) = (format!("vr{tag}a"), format!("vr{tag}b"));
    let c1 = lab.busybox("veth1");
    let c2 = lab.busybox("veth2");
    // The lab's default config makes NIC 0 `empty`; these lines, later,
    // turn it into a veth.
    lab.configure(&c1, &nic(&p1, "10.0.3.11", "br0", "10.0.3.1"));
    // script.up and script.down, with LXC's arguments and environment.
    let log = lab.path().join("scripts.log");
    let script = lab.path().join("net-script");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$* $LXC_NET_PARENT\" >> {}\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    lab.configure(
        &c1,
        &format!(
            "lxc.net.0.script.up = {0}\nlxc.net.0.script.down = {0}\n",
            script.display()
        ),
    );
    // auto: the bridge's own address.
    lab.configure(&c2, &nic(&p2, "10.0.3.12", "br0", "auto"));
    for c in [&c1, &c2] {
        let o = host.rlxc(&lab, &["start", "-n", c]);
        assert!(o.status.success(), "{c}: {}", stderr(&o));
    }
    let mut ends = host.on_bridge();
    ends.sort();
    assert_eq!(ends, vec![p1.clone(), p2.clone()], "host ends on br0");
    let addr = lab.ok(&[
        "attach", "-n", &c1, "--", "ip", "-o", "-4", "addr", "show", "eth0",
    ]);
    assert!(addr.contains("inet 10.0.3.11/24 brd 10.0.3.255"), "{addr}");
    let link = lab.ok(&[
        "attach", "-n", &c1, "--", "ip", "-o", "link", "show", "eth0",
    ]);
    assert!(
        link.contains("link/ether 00:16:3e:") && link.contains(",UP"),
        "{link}"
    );
    let route = lab.ok(&["attach", "-n", &c1, "--", "ip", "route"]);
    assert!(route.contains("default via 10.0.3.1 dev eth0"), "{route}");
    let auto = lab.ok(&["attach", "-n", &c2, "--", "ip", "route"]);
    assert!(
        auto.contains("default via 10.0.3.1 dev eth0"),
        "auto: {auto}"
    );
    for to in ["10.0.3.12", "10.0.3.1"] {
        let o = lab.run(&["attach", "-n", &c1, "--", "ping", "-c", "1", "-W", "2", to]);
        assert!(
            o.status.success(),
            "ping {to}: {}{}",
            stdout(&o),
            stderr(&o)
        );
    }
    assert!(lab
        .ok(&["info", "-n", &c2, "-i", "-H"])
        .contains("10.0.3.12"));
    // Per-NIC counters after the pings, as lxc-info -S prints them.
    let stats = lab.ok(&["info", "-n", &c1, "-S", "-H"]);
    let link = format!("Link:           {p1}\n TX bytes:      ");
    assert!(stats.contains(&link), "{stats}");
    let tx: u64 = stats
        .lines()
        .find_map(|l| l.strip_prefix(" TX bytes:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("TX bytes");
    assert!(tx > 0, "{stats}");
    lab.ok(&["stop", "-n", &c1, "-k"]);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!("{c1} net up veth {p1} br0\n{c1} net down veth {p1} br0\n")
    );
    // The kernel deletes the pair with the container's namespace, in the background.
    let gone = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        host.links(&format!("vr{tag}")) == vec![p2.clone()]
    });
    assert!(
        gone,
        "c1's pair is left: {:?}",
        host.links(&format!("vr{tag}"))
    );

    // A SIGKILLed monitor: its container dies, and the pair with its netns.
    let init = lab.pid(&c2);
    rlxc_tests::kill(rlxc_tests::parent_of(init), 9);
    assert!(
        rlxc_tests::within(2, || host.links(&format!("vr{tag}")).is_empty()),
        "c2's pair outlived its monitor"
    );

    // A missing bridge fails the start, names the bridge, and makes nothing.
    lab.configure(&c1, "lxc.net.0.link = nosuchbr\n");
    let o = host.rlxc(&lab, &["start", "-n", &c1]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("lxc.net.0 (type `veth`)")
            && e.contains("bridge `nosuchbr` (lxc.net.0.link) does not exist"),
        "{e}"
    );
    assert_eq!(lab.state(&c1), "STOPPED");
    assert!(host.links(&format!("vr{tag}")).is_empty());
    lab.assert_clean(&c1);
    lab.ok(&["destroy", "-n", &c2]);
    lab.assert_clean(&c2);
}

#[test]
fn router_mode_routes_the_containers_address_from_the_host() {
    let Some(lab) = Lab::new() else { return };
    let host = HostNs::new("router");
    for cmd in [
        &["ip", "addr", "add", "10.9.9.1/32", "dev", "lo"][..],
        // The host's "uplink", where l2proxy answers for the container.
        &[
            "ip", "link", "add", "up0", "type", "veth", "peer", "name", "up1",
        ],
    ] {
        let o = host.exec(cmd);
        assert!(o.status.success(), "{cmd:?}: {}", stderr(&o));
    }
    let c = lab.busybox("router");
    let pair = format!("vq{}", std::process::id() % 100_000);
    lab.configure(
        &c,
        &format!(
            "lxc.net.0.type = veth\nlxc.net.0.veth.mode = router\nlxc.net.0.veth.pair = {pair}\n\
             lxc.net.0.flags = up\nlxc.net.0.ipv4.address = 192.0.2.10/32\nlxc.net.0.ipv4.gateway = dev\n\
             lxc.net.0.veth.ipv4.route = 198.51.100.0/24\nlxc.net.0.link = up0\nlxc.net.0.l2proxy = 1\n"
        ),
    );
    let o = host.rlxc(&lab, &["start", "-n", &c]);
    assert!(o.status.success(), "{}", stderr(&o));
    let routes = stdout(&host.exec(&["ip", "route"]));
    assert!(
        routes.contains(&format!("192.0.2.10 dev {pair} scope link")),
        "{routes}"
    );
    assert!(
        routes.contains(&format!("198.51.100.0/24 dev {pair} scope link")),
        "{routes}"
    );
    let proxy = stdout(&host.exec(&["cat", &format!("/proc/sys/net/ipv4/conf/{pair}/proxy_arp")]));
    assert_eq!(proxy.trim(), "1");
    // The host reaches the container through the route, and the container
    // the host through proxy ARP on the host end.
    let o = host.exec(&["busybox", "ping", "-c", "1", "-W", "2", "192.0.2.10"]);
    assert!(
        o.status.success(),
        "host → container: {}{}",
        stdout(&o),
        stderr(&o)
    );
    let o = lab.run(&[
        "attach", "-n", &c, "--", "ping", "-c", "1", "-W", "2", "10.9.9.1",
    ]);
    assert!(o.status.success(), "container → host: {}", stdout(&o));
    let proxy = stdout(&host.exec(&["ip", "neigh", "show", "proxy"]));
    assert!(proxy.contains("192.0.2.10 dev up0 proxy"), "{proxy}");
    lab.ok(&["stop", "-n", &c, "-k"]);
    let proxy = stdout(&host.exec(&["ip", "neigh", "show", "proxy"]));
    assert!(
        !proxy.contains("192.0.2.10"),
        "the l2proxy entry is left: {proxy}"
    );
    lab.assert_clean(&c);
}

#[test]
fn a_port_vlan_needs_a_vlan_aware_bridge() {
    let Some(lab) = Lab::new() else { return };
    let host = HostNs::with_bridge("vlan");
    let c = lab.busybox("vlan");
    lab.configure(
        &c,
        "lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.veth.vlan.id = 10\n",
    );
    let o = host.rlxc(&lab, &["start", "-n", &c]);
    if o.status.success() {
        // A kernel with VLAN filtering: the port's PVID is 10.
        let v = stdout(&host.exec(&["bridge", "vlan", "show"]));
        assert!(v.contains("10 PVID"), "{v}");
        lab.ok(&["stop", "-n", &c, "-k"]);
    } else {
        // This one has none: the start says so and leaves nothing.
        let e = stderr(&o);
        assert!(e.contains("bridge `br0` does not filter VLANs"), "{e}");
        // The pair goes with the container's namespace, in the background.
        let gone = (0..200).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            host.on_bridge().is_empty()
        });
        assert!(gone, "a host end is left on br0");
    }
    lab.assert_clean(&c);
}
