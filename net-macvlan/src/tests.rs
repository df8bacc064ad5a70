//! The three kinds against the recording fake.

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

fn ctx(sys: &FakeSys) -> NetContext<'_> {
    NetContext {
        sys,
        container: "c1",
        init_pid: 42,
        netns: None,
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

#[tokio::test(flavor = "current_thread")]
async fn macvlan_on_its_parent_then_the_container_half() {
    let sys = FakeSys::new();
    let n = nic(
        "lxc.net.0.type = macvlan\nlxc.net.0.link = ens3\nlxc.net.0.macvlan.mode = bridge\n\
                 lxc.net.0.flags = up\nlxc.net.0.ipv4.address = 192.0.2.5/24\n",
    );
    let d = Driver(SubKind::Macvlan);
    let st = d.setup_host(ctx(&sys), &n).await.unwrap();
    d.setup_container(ctx(&sys), &n, &st).await.unwrap();
    assert!(d.teardown(ctx(&sys), &n, &st).await.is_empty());
    assert_eq!(
        requests(&sys),
        [
            "looking up link ens3",
            "adding macvlan eth0",
            "looking up link eth0",
            "adding address 192.0.2.5/24",
            "changing link eth0"
        ]
    );
}

#[tokio::test(flavor = "current_thread")]
async fn keys_are_checked_and_a_missing_kernel_type_is_named() {
    // (A bad macvlan.mode is refused by the config language already.)
    let no_id = nic("lxc.net.0.type = vlan\nlxc.net.0.link = ens3\n");
    assert!(Driver(SubKind::Vlan)
        .validate(&no_id)
        .unwrap_err()
        .to_string()
        .contains("vlan.id"));
    let no_parent = nic("lxc.net.0.type = ipvlan\n");
    assert!(Driver(SubKind::Ipvlan)
        .validate(&no_parent)
        .unwrap_err()
        .to_string()
        .contains("link"));
    let sys = FakeSys::new();
    sys.fail_with(
        nix::Error::EOPNOTSUPP,
        |c| matches!(c, SysCall::Netlink { what, .. } if what.starts_with("adding ipvlan")),
    );
    let n = nic("lxc.net.0.type = ipvlan\nlxc.net.0.link = ens3\nlxc.net.0.ipvlan.mode = l2\n");
    let e = Driver(SubKind::Ipvlan)
        .setup_host(ctx(&sys), &n)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "lxc.net.0 (ipvlan): this kernel has no `ipvlan` link type (CONFIG_IPVLAN, module ipvlan)"
    );
}
