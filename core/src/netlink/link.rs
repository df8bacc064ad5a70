//! Link requests: a veth pair with its peer made directly in the container's
//! network namespace, changes to a link found by name, deletion, lookup.

use super::attr::Attrs;
use super::{message, Kind, Request, F_ACK, F_CREATE, F_EXCL, F_REQUEST};

/// `IFLA_*` attribute types.
const IFLA_ADDRESS: u16 = libc::IFLA_ADDRESS;
const IFLA_IFNAME: u16 = libc::IFLA_IFNAME;
const IFLA_MTU: u16 = libc::IFLA_MTU;
const IFLA_MASTER: u16 = libc::IFLA_MASTER;
const IFLA_LINKINFO: u16 = libc::IFLA_LINKINFO;
const IFLA_NET_NS_FD: u16 = libc::IFLA_NET_NS_FD;
const IFLA_INFO_KIND: u16 = libc::IFLA_INFO_KIND;
const IFLA_INFO_DATA: u16 = libc::IFLA_INFO_DATA;
/// `VETH_INFO_PEER` (linux/veth.h).
const VETH_INFO_PEER: u16 = 1;

/// A 16-byte `ifinfomsg`: family, index, flags and the mask of flags to change.
fn ifinfomsg(index: i32, flags: u32, change: u32) -> Vec<u8> {
    let mut b = vec![libc::AF_UNSPEC as u8, 0, 0, 0];
    b.extend_from_slice(&index.to_ne_bytes());
    b.extend_from_slice(&flags.to_ne_bytes());
    b.extend_from_slice(&change.to_ne_bytes());
    b
}

/// An empty `ifinfomsg` followed by `attrs`.
fn link_msg(attrs: &Attrs) -> Vec<u8> {
    let mut body = ifinfomsg(0, 0, 0);
    body.extend_from_slice(&attrs.0);
    body
}

/// `RTM_NEWLINK` making a new link (never touching an existing one).
fn create(attrs: &Attrs, what: String) -> Request {
    message(
        Kind::NewLink,
        libc::RTM_NEWLINK,
        F_REQUEST | F_ACK | F_CREATE | F_EXCL,
        &link_msg(attrs),
        what,
    )
}

/// A veth pair to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VethRequest<'a> {
    /// The host end's name (`veth.pair`, or a generated `vethXXXXXX`).
    pub host: &'a str,
    /// The container end's name (`lxc.net.N.name`, default `eth0`).
    pub peer: &'a str,
    /// The container's network namespace (an open fd): the peer is made there.
    pub peer_netns: Option<i32>,
    /// The container end's MAC address.
    pub peer_hwaddr: Option<[u8; 6]>,
    /// MTU of both ends.
    pub mtu: Option<u32>,
    /// Index of the bridge the host end joins.
    pub master: Option<u32>,
}

/// `RTM_NEWLINK` making the pair.
pub fn new_veth(v: &VethRequest<'_>) -> Request {
    let peer = Attrs::new()
        .string(IFLA_IFNAME, v.peer)
        .maybe(v.peer_netns, |a, fd| a.u32(IFLA_NET_NS_FD, fd as u32))
        .maybe(v.peer_hwaddr, |a, mac| a.add(IFLA_ADDRESS, &mac))
        .maybe(v.mtu, |a, m| a.u32(IFLA_MTU, m));
    let info = Attrs::new().string(IFLA_INFO_KIND, "veth").nest(
        IFLA_INFO_DATA,
        &Attrs::new().add(VETH_INFO_PEER, &link_msg(&peer)),
    );
    let attrs = Attrs::new()
        .string(IFLA_IFNAME, v.host)
        .maybe(v.mtu, |a, m| a.u32(IFLA_MTU, m))
        .maybe(v.master, |a, m| a.u32(IFLA_MASTER, m))
        .nest(IFLA_LINKINFO, &info);
    create(&attrs, format!("adding veth pair {} / {}", v.host, v.peer))
}

/// `RTM_NEWLINK` making a link of `kind` (`bridge`, `dummy`) named `name`.
pub fn new_link(name: &str, kind: &str) -> Request {
    let info = Attrs::new().string(IFLA_INFO_KIND, kind);
    let attrs = Attrs::new()
        .string(IFLA_IFNAME, name)
        .nest(IFLA_LINKINFO, &info);
    create(&attrs, format!("adding {kind} {name}"))
}

/// A link on a parent (macvlan, ipvlan, vlan) to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubLinkRequest<'a> {
    /// `macvlan`, `ipvlan` or `vlan`.
    pub kind: &'a str,
    /// Its name (in the container's netns when `netns` is given).
    pub name: &'a str,
    /// The parent link's index (in the caller's netns).
    pub parent: u32,
    /// Where to make it.
    pub netns: Option<i32>,
    /// MAC address.
    pub hwaddr: Option<[u8; 6]>,
    /// MTU.
    pub mtu: Option<u32>,
    /// The kind's own attributes (`IFLA_INFO_DATA`).
    pub data: Attrs,
}

/// `IFLA_LINK`: the parent of a macvlan, ipvlan or vlan.
const IFLA_LINK: u16 = libc::IFLA_LINK;

/// `RTM_NEWLINK` making a macvlan, ipvlan or vlan on a parent.
pub fn new_sublink(r: &SubLinkRequest<'_>) -> Request {
    let info = Attrs::new()
        .string(IFLA_INFO_KIND, r.kind)
        .nest(IFLA_INFO_DATA, &r.data);
    let attrs = Attrs::new()
        .string(IFLA_IFNAME, r.name)
        .u32(IFLA_LINK, r.parent)
        .maybe(r.netns, |a, fd| a.u32(IFLA_NET_NS_FD, fd as u32))
        .maybe(r.hwaddr, |a, mac| a.add(IFLA_ADDRESS, &mac))
        .maybe(r.mtu, |a, m| a.u32(IFLA_MTU, m))
        .nest(IFLA_LINKINFO, &info);
    create(&attrs, format!("adding {} {}", r.kind, r.name))
}

/// Changes to an existing link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkChange {
    /// Bring it up (`Some(true)`) or down.
    pub up: Option<bool>,
    /// New MTU.
    pub mtu: Option<u32>,
    /// New MAC address.
    pub hwaddr: Option<[u8; 6]>,
    /// Join this bridge.
    pub master: Option<u32>,
}

/// `RTM_NEWLINK` without create, on the link named `name`.
pub fn set_link(name: &str, c: &LinkChange) -> Request {
    let up = libc::IFF_UP as u32;
    let (flags, change) = match c.up {
        Some(true) => (up, up),
        Some(false) => (0, up),
        None => (0, 0),
    };
    let attrs = Attrs::new()
        .string(IFLA_IFNAME, name)
        .maybe(c.mtu, |a, m| a.u32(IFLA_MTU, m))
        .maybe(c.hwaddr, |a, mac| a.add(IFLA_ADDRESS, &mac))
        .maybe(c.master, |a, m| a.u32(IFLA_MASTER, m));
    let mut body = ifinfomsg(0, flags, change);
    body.extend_from_slice(&attrs.0);
    message(
        Kind::SetLink,
        libc::RTM_NEWLINK,
        F_REQUEST | F_ACK,
        &body,
        format!("changing link {name}"),
    )
}

/// `RTM_NEWLINK` moving link `index` into the network namespace `netns` (an
/// open fd) under the name `name` (a physical NIC going into a container,
/// or back).
pub fn move_link(index: u32, netns: i32, name: &str) -> Request {
    let attrs = Attrs::new()
        .u32(IFLA_NET_NS_FD, netns as u32)
        .string(IFLA_IFNAME, name);
    let mut body = ifinfomsg(index as i32, 0, 0);
    body.extend_from_slice(&attrs.0);
    message(
        Kind::SetLink,
        libc::RTM_NEWLINK,
        F_REQUEST | F_ACK,
        &body,
        format!("moving link {index} as {name}"),
    )
}

/// `IFLA_AF_SPEC`, `IFLA_BRIDGE_VLAN_INFO` and its flags (linux/if_bridge.h).
const IFLA_AF_SPEC: u16 = 26;
const IFLA_BRIDGE_VLAN_INFO: u16 = 2;
/// `BRIDGE_VLAN_INFO_PVID`.
pub const VLAN_PVID: u16 = 2;
/// `BRIDGE_VLAN_INFO_UNTAGGED`.
pub const VLAN_UNTAGGED: u16 = 4;

/// A bridge port's VLAN membership (`bridge vlan add|del dev PORT vid N
/// [pvid] [untagged]`): `RTM_SETLINK` or `RTM_DELLINK` of family `AF_BRIDGE`.
pub fn bridge_vlan(port: u32, vid: u16, flags: u16, add: bool) -> Request {
    let mut info = flags.to_ne_bytes().to_vec();
    info.extend_from_slice(&vid.to_ne_bytes());
    let spec = Attrs::new().add(IFLA_BRIDGE_VLAN_INFO, &info);
    let mut body = ifinfomsg(port as i32, 0, 0);
    body[0] = libc::AF_BRIDGE as u8;
    body.extend_from_slice(&Attrs::new().nest(IFLA_AF_SPEC, &spec).0);
    let (t, verb) = if add {
        (libc::RTM_SETLINK, "adding")
    } else {
        (libc::RTM_DELLINK, "removing")
    };
    message(
        Kind::SetLink,
        t,
        F_REQUEST | F_ACK,
        &body,
        format!("{verb} VLAN {vid} on bridge port {port}"),
    )
}

/// `RTM_NEWLINK` renaming link `index` to `name` (it must be down).
pub fn rename_link(index: u32, name: &str) -> Request {
    let mut body = ifinfomsg(index as i32, 0, libc::IFF_UP as u32);
    body.extend_from_slice(&Attrs::new().string(IFLA_IFNAME, name).0);
    message(
        Kind::SetLink,
        libc::RTM_NEWLINK,
        F_REQUEST | F_ACK,
        &body,
        format!("renaming link {index} to {name}"),
    )
}

/// An `ifinfomsg` naming its link by `IFLA_IFNAME` only.
fn named(name: &str) -> Vec<u8> {
    link_msg(&Attrs::new().string(IFLA_IFNAME, name))
}

/// `RTM_DELLINK` of the link named `name` (a veth takes its peer along).
pub fn del_link(name: &str) -> Request {
    let body = named(name);
    message(
        Kind::DelLink,
        libc::RTM_DELLINK,
        F_REQUEST | F_ACK,
        &body,
        format!("deleting link {name}"),
    )
}

/// `RTM_GETLINK` of the link named `name`; the answer's index is the link's.
pub fn get_link(name: &str) -> Request {
    let body = named(name);
    message(
        Kind::GetLink,
        libc::RTM_GETLINK,
        F_REQUEST,
        &body,
        format!("looking up link {name}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
        hay.windows(needle.len()).position(|w| w == needle)
    }

    #[test]
    fn a_veth_pair_with_its_peer_in_the_container() {
        let r = new_veth(&VethRequest {
            host: "vethA1",
            peer: "eth0",
            peer_netns: Some(5),
            peer_hwaddr: Some([0, 0x16, 0x3e, 1, 2, 3]),
            mtu: Some(1400),
            master: Some(3),
        });
        let b = &r.bytes;
        assert_eq!(
            u32::from_ne_bytes(b[0..4].try_into().unwrap()) as usize,
            b.len()
        );
        assert_eq!(u16::from_ne_bytes([b[4], b[5]]), libc::RTM_NEWLINK);
        let flags = u16::from_ne_bytes([b[6], b[7]]);
        assert_eq!(flags, F_REQUEST | F_ACK | F_CREATE | F_EXCL);
        // The host end's name comes right after the 16-byte ifinfomsg.
        assert_eq!(&b[32..36], &[11, 0, IFLA_IFNAME as u8, 0]);
        assert_eq!(&b[36..43], b"vethA1\0");
        assert!(find(b, b"veth\0").is_some(), "IFLA_INFO_KIND");
        // The peer: its name, the netns fd and the MAC inside VETH_INFO_PEER.
        let peer = find(b, b"eth0\0").unwrap();
        let ns = find(&b[peer..], &[8, 0, IFLA_NET_NS_FD as u8, 0, 5, 0, 0, 0]);
        assert!(ns.is_some());
        assert!(find(b, &[10, 0, IFLA_ADDRESS as u8, 0, 0, 0x16, 0x3e, 1, 2, 3]).is_some());
        assert!(find(b, &[8, 0, IFLA_MASTER as u8, 0, 3, 0, 0, 0]).is_some());
        assert_eq!(r.kind, Kind::NewLink);
    }

    #[test]
    fn set_del_get_name_their_link() {
        let up = set_link(
            "eth0",
            &LinkChange {
                up: Some(true),
                ..LinkChange::default()
            },
        );
        // ifi_flags and ifi_change both IFF_UP.
        assert_eq!(&up.bytes[24..28], &(libc::IFF_UP as u32).to_ne_bytes());
        assert_eq!(&up.bytes[28..32], &(libc::IFF_UP as u32).to_ne_bytes());
        let del = del_link("vethA1");
        assert_eq!(
            u16::from_ne_bytes([del.bytes[4], del.bytes[5]]),
            libc::RTM_DELLINK
        );
        assert!(find(&del.bytes, b"vethA1\0").is_some());
        let br = new_link("lxcbr0", "bridge");
        assert!(find(&br.bytes, b"bridge\0").is_some() && find(&br.bytes, b"lxcbr0\0").is_some());
        let mv = new_sublink(&SubLinkRequest {
            kind: "macvlan",
            name: "eth0",
            parent: 4,
            netns: Some(9),
            hwaddr: None,
            mtu: None,
            data: Attrs::new().u32(1, 4),
        });
        assert!(find(&mv.bytes, &[8, 0, IFLA_LINK as u8, 0, 4, 0, 0, 0]).is_some());
        assert!(find(&mv.bytes, b"macvlan\0").is_some());
        // IFLA_INFO_DATA (nested) holding IFLA_MACVLAN_MODE = bridge.
        assert!(find(
            &mv.bytes,
            &[12, 0, IFLA_INFO_DATA as u8, 0x80, 8, 0, 1, 0, 4, 0, 0, 0]
        )
        .is_some());
        let mv = move_link(7, 3, "eth1");
        assert_eq!(&mv.bytes[20..24], &7i32.to_ne_bytes(), "ifi_index");
        assert!(find(&mv.bytes, &[8, 0, IFLA_NET_NS_FD as u8, 0, 3, 0, 0, 0]).is_some());
        let v = bridge_vlan(5, 10, VLAN_PVID | VLAN_UNTAGGED, true);
        assert_eq!(v.bytes[16], libc::AF_BRIDGE as u8);
        assert!(find(
            &v.bytes,
            &[8, 0, IFLA_BRIDGE_VLAN_INFO as u8, 0, 6, 0, 10, 0]
        )
        .is_some());
        let get = get_link("lxcbr0");
        assert_eq!(u16::from_ne_bytes([get.bytes[6], get.bytes[7]]), F_REQUEST);
    }
}
