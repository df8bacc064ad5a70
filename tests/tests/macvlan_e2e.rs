//! macvlan NICs for real, on the end of a veth pair in a network namespace
//! this test makes; and vlan and ipvlan, which this kernel lacks, failing
//! the start with the kernel's reason and leaving nothing.

use rlxc_tests::netns::HostNs;
use rlxc_tests::{stderr, stdout, Lab};

#[test]
fn macvlan_neighbours_reach_each_other_and_missing_kernel_types_are_named() {
    let Some(lab) = Lab::new() else { return };
    let host = HostNs::new("mvlan");
    for args in [
        ["link", "add", "vp0", "type", "veth", "peer", "name", "vp1"].as_slice(),
        &["link", "set", "vp0", "up"],
        &["link", "set", "vp1", "up"],
    ] {
        let o = host.exec(&[&["ip"][..], args].concat());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    let nic = |addr: &str| {
        format!(
            "lxc.net.0.type = macvlan\nlxc.net.0.link = vp0\nlxc.net.0.macvlan.mode = bridge\n\
             lxc.net.0.flags = up\nlxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\nlxc.net.0.ipv4.address = {addr}/24\n"
        )
    };
    let (c1, c2) = (lab.busybox("mv1"), lab.busybox("mv2"));
    lab.configure(&c1, &nic("10.0.5.11"));
    lab.configure(&c2, &nic("10.0.5.12"));
    for c in [&c1, &c2] {
        let o = host.rlxc(&lab, &["start", "-n", c]);
        assert!(o.status.success(), "{c}: {}", stderr(&o));
    }
    // The host's iproute2 in the container's netns: busybox's ip has no -d.
    let netns = format!("--net=/proc/{}/ns/net", lab.pid(&c1));
    let link = rlxc_tests::run(std::process::Command::new("nsenter").args([
        netns.as_str(),
        "ip",
        "-o",
        "-d",
        "link",
        "show",
        "eth0",
    ]));
    let link = stdout(&link);
    assert!(link.contains("macvlan mode bridge"), "{link}");
    let o = lab.run(&[
        "attach",
        "-n",
        &c1,
        "--",
        "ping",
        "-c",
        "1",
        "-W",
        "2",
        "10.0.5.12",
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    for c in [&c1, &c2] {
        lab.ok(&["stop", "-n", c, "-k"]);
    }
    // Only the parent pair is left in the host namespace.
    let mut links = host.links("v");
    links.sort();
    assert_eq!(links, ["vp0", "vp1"]);

    for (kind, extra) in [
        ("vlan", "lxc.net.0.vlan.id = 10\n"),
        ("ipvlan", "lxc.net.0.ipvlan.mode = l2\n"),
    ] {
        lab.configure(&c1, &format!("lxc.net.0.type = {kind}\n{extra}"));
        let o = host.rlxc(&lab, &["start", "-n", &c1]);
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{kind}: {e}");
        assert!(
            e.contains(&format!("this kernel has no `{kind}` link type")),
            "{kind}: {e}"
        );
        assert_eq!(lab.state(&c1), "STOPPED");
        lab.assert_clean(&c1);
    }
}
