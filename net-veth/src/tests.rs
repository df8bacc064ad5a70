//! The backend against the recording fake: which netlink requests each half
//! makes, in order, and the errors that name the bridge and the NIC.

use std::path::Path;

use rlxc_core::config::{load_text, Nic};
use rlxc_core::network::{NetContext, Network};
use rlxc_core::sys::{FakeSys, SysCall};

use super::*;

fn nic(text: &str) -> Nic {
    load_text(text.as_bytes(), Path::new("config"))
        .unwrap()
        .nics()
        .remove(0)
}

fn ctx<'a>(sys: &'a FakeSys, netns: Option<std::os::fd::BorrowedFd<'a>>) -> NetContext<'a> {
    NetContext {
        sys,
        container: "c1",
        init_pid: 42,
        netns,
    }
}

fn requests(sys: &FakeSys) -> Vec<String> {
    sys.calls()
        .iter()
        .filter_map(|c| match c {
            SysCall::Netlink { what, .. } => Some(what.clone()),
            _ => None,
        })
        .collect()
}

const NIC: &str = "lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.flags = up\n\
                   lxc.net.0.veth.pair = vethc1\nlxc.net.0.ipv4.address = 10.0.3.5/24\n\
                   lxc.net.0.ipv4.gateway = 10.0.3.1\nlxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n";

#[tokio::test(flavor = "current_thread")]
async fn host_half_then_container_half_then_teardown() {
    let sys = FakeSys::new();
    let ns = std::fs::File::open("/dev/null").unwrap();
    let n = nic(NIC);
    let st = Driver
        .setup_host(ctx(&sys, Some(std::os::fd::AsFd::as_fd(&ns))), &n)
        .await
        .unwrap();
    assert_eq!(st.host_ifname.as_deref(), Some("vethc1"));
    assert_eq!(st.transit_ifname.as_deref(), Some("eth0"));
    Driver
        .setup_container(ctx(&sys, None), &n, &st)
        .await
        .unwrap();
    // With the container's netns held, the pair goes with it: no request.
    let held = Some(std::os::fd::AsFd::as_fd(&ns));
    assert!(Driver.teardown(ctx(&sys, held), &n, &st).await.is_empty());
    assert!(Driver.teardown(ctx(&sys, None), &n, &st).await.is_empty());
    assert_eq!(
        requests(&sys),
        [
            "looking up link br0",
            "adding veth pair vethc1 / eth0",
            "changing link vethc1",
            "looking up link eth0",
            "adding address 10.0.3.5/24",
            "changing link eth0",
            "adding the default route via 10.0.3.1",
            // Each teardown asks whether br0 is an Open vSwitch bridge.
            "looking up link br0",
            "looking up link br0",
            "deleting link vethc1",
        ]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_missing_bridge_is_named_and_nothing_is_made() {
    let sys = FakeSys::new();
    sys.fail_with(
        nix::Error::ENODEV,
        |c| matches!(c, SysCall::Netlink { what, .. } if what.starts_with("looking up link")),
    );
    let e = Driver
        .setup_host(ctx(&sys, None), &nic(NIC))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "lxc.net.0 (veth): bridge `br0` (lxc.net.0.link) does not exist: make it with `ip link add br0 type bridge`"
    );
    assert_eq!(requests(&sys), ["looking up link br0"]);
    let lxcbr0 = nic(&NIC.replace("link = br0", "link = lxcbr0"));
    let e = Driver
        .setup_host(ctx(&sys, None), &lxcbr0)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("LXC's default bridge"), "{e}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_failed_host_end_takes_the_pair_back() {
    let sys = FakeSys::new();
    sys.fail_on(|c| matches!(c, SysCall::Netlink { what, .. } if what == "changing link vethc1"));
    assert!(Driver.setup_host(ctx(&sys, None), &nic(NIC)).await.is_err());
    assert_eq!(
        requests(&sys).last().map(String::as_str),
        Some("deleting link vethc1")
    );
}

#[tokio::test(flavor = "current_thread")]
async fn an_auto_gateway_is_the_bridges_address() {
    let sys = FakeSys::new();
    let n = nic(&NIC.replace("ipv4.gateway = 10.0.3.1", "ipv4.gateway = auto"));
    // The fake's bridge has index 42 and every link 10.0.3.1/24.
    let st = Driver.setup_host(ctx(&sys, None), &n).await.unwrap();
    assert_eq!(
        st.gateways,
        vec!["10.0.3.1".parse::<std::net::IpAddr>().unwrap()]
    );
    Driver
        .setup_container(ctx(&sys, None), &n, &st)
        .await
        .unwrap();
    assert!(requests(&sys).contains(&"adding the default route via 10.0.3.1".to_string()));
    let unbridged = nic("lxc.net.0.type = veth\nlxc.net.0.ipv4.gateway = auto\n");
    assert!(Driver
        .validate(&unbridged)
        .unwrap_err()
        .to_string()
        .contains("give `link`"));
}

#[tokio::test(flavor = "current_thread")]
async fn scripts_run_with_lxcs_arguments_and_a_failing_one_is_named() {
    let sys = FakeSys::new();
    let n = nic(&format!(
        "{NIC}lxc.net.0.script.up = /etc/lxc/up\nlxc.net.0.script.down = /etc/lxc/down\n"
    ));
    let st = Driver.setup_host(ctx(&sys, None), &n).await.unwrap();
    let ns = std::fs::File::open("/dev/null").unwrap();
    let held = Some(std::os::fd::AsFd::as_fd(&ns));
    assert!(Driver.teardown(ctx(&sys, held), &n, &st).await.is_empty());
    let ran = sys.command_lines();
    assert_eq!(
        ran,
        [
            "/etc/lxc/up c1 net up veth vethc1",
            "/etc/lxc/down c1 net down veth vethc1"
        ]
    );
    let SysCall::Run(t) = sys
        .calls()
        .into_iter()
        .find(|c| matches!(c, SysCall::Run(_)))
        .unwrap()
    else {
        unreachable!()
    };
    assert!(t
        .env
        .iter()
        .any(|(k, v)| k == "LXC_NET_PARENT" && v == "br0"));
    let failing = FakeSys::new();
    failing.answer(
        "/etc/lxc/up",
        rlxc_core::sys::ToolOutput::failed(3, "no way"),
    );
    let e = Driver
        .setup_host(ctx(&failing, None), &n)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("script.up /etc/lxc/up") && e.contains("no way"),
        "{e}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_port_vlan_replaces_vlan_1_and_a_bridge_without_filtering_is_named() {
    let sys = FakeSys::new();
    let n = nic(&format!(
        "{NIC}lxc.net.0.veth.vlan.id = 10\nlxc.net.0.veth.vlan.tagged.id = 20\n"
    ));
    Driver.setup_host(ctx(&sys, None), &n).await.unwrap();
    let r = requests(&sys);
    let vl: Vec<&str> = r
        .iter()
        .filter(|w| w.contains("VLAN"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        vl,
        [
            "removing VLAN 1 on bridge port 42",
            "adding VLAN 10 on bridge port 42",
            "adding VLAN 20 on bridge port 42"
        ]
    );
    let sys = FakeSys::new();
    sys.fail_with(
        nix::Error::EOPNOTSUPP,
        |c| matches!(c, SysCall::Netlink { what, .. } if what.contains("VLAN")),
    );
    let e = Driver
        .setup_host(ctx(&sys, None), &n)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("bridge `br0` does not filter VLANs"), "{e}");
}

#[tokio::test(flavor = "current_thread")]
async fn an_open_vswitch_bridge_takes_the_port_through_ovsdb() {
    let sys = FakeSys::new();
    sys.link_kind("br0", "openvswitch");
    let n = nic(&format!("{NIC}lxc.net.0.veth.vlan.id = 10\n"));
    let st = Driver.setup_host(ctx(&sys, None), &n).await.unwrap();
    let ns = std::fs::File::open("/dev/null").unwrap();
    let held = Some(std::os::fd::AsFd::as_fd(&ns));
    assert!(Driver.teardown(ctx(&sys, held), &n, &st).await.is_empty());
    assert_eq!(
        sys.command_lines(),
        [
            "ovs-vsctl --may-exist add-port br0 vethc1 tag=10",
            "ovs-vsctl --if-exists del-port br0 vethc1"
        ]
    );
    // No IFLA_MASTER and no bridge-VLAN requests for an OVS port.
    assert!(!requests(&sys).iter().any(|w| w.contains("VLAN")));
}

#[test]
fn pair_names_are_lxcs_shape() {
    let mut n = 0u8;
    let name = random_pair_name(&mut || {
        n = n.wrapping_add(17);
        n
    });
    assert!(name.starts_with("veth") && name.len() == 10, "{name}");
    assert!(name[4..].chars().all(|c| c.is_ascii_alphanumeric()));
}
