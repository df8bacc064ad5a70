//! A phys NIC for real: an interface of a network namespace this test makes
//! (one end of a veth pair: this kernel has no dummy links), moved into the
//! container under its new name, configured there, and back in that
//! namespace under its own name after stop and after a start that failed
//! later on.

use rlxc_tests::netns::HostNs;
use rlxc_tests::{stderr, stdout, Lab};

#[test]
fn a_host_nic_goes_in_and_comes_back() {
    let Some(lab) = Lab::new() else { return };
    let host = HostNs::new("phys");
    let o = host.exec(&[
        "ip", "link", "add", "dum0", "type", "veth", "peer", "name", "dumpeer",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let c = lab.busybox("phys");
    lab.configure(
        &c,
        "lxc.net.0.type = phys\nlxc.net.0.link = dum0\nlxc.net.0.name = eth1\n\
         lxc.net.0.flags = up\nlxc.net.0.ipv4.address = 192.0.2.9/24\n",
    );
    let o = host.rlxc(&lab, &["start", "-n", &c]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(host.links("dum"), ["dumpeer"], "dum0 is still on the host");
    let addr = lab.ok(&[
        "attach", "-n", &c, "--", "ip", "-o", "-4", "addr", "show", "eth1",
    ]);
    assert!(addr.contains("inet 192.0.2.9/24"), "{addr}");
    lab.ok(&["stop", "-n", &c, "-k"]);
    let mut back = host.links("dum");
    back.sort();
    assert_eq!(back, ["dum0", "dumpeer"], "dum0 came back under its name");

    // NIC 1 fails after NIC 0 moved dum0 in: dum0 comes back all the same.
    lab.configure(&c, "lxc.net.1.type = veth\nlxc.net.1.link = nosuchbr\n");
    let o = host.rlxc(&lab, &["start", "-n", &c]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("lxc.net.1"), "{}", stderr(&o));
    let mut back = host.links("dum");
    back.sort();
    assert_eq!(back, ["dum0", "dumpeer"]);
    lab.assert_clean(&c);
}
