//! Route requests.

use std::net::IpAddr;

use super::addr::octets;
use super::attr::Attrs;
use super::{message, Kind, Request, F_ACK, F_CREATE, F_EXCL, F_REQUEST};

/// An `rtmsg` in the main table, a unicast route of `scope`, then `attrs`.
fn route_body(family: u8, dst_len: u8, scope: u8, attrs: &Attrs) -> Vec<u8> {
    let mut body = vec![
        family,
        dst_len,
        0,
        0,
        libc::RT_TABLE_MAIN,
        libc::RTPROT_BOOT,
        scope,
        libc::RTN_UNICAST,
    ];
    body.extend_from_slice(&0u32.to_ne_bytes());
    body.extend_from_slice(&attrs.0);
    body
}

/// `RTM_NEWROUTE`: the default route of `family` (`AF_INET`, `AF_INET6`)
/// straight out of link `index`, no gateway (LXC's `ipv4.gateway = dev`).
pub fn new_device_route(index: u32, family: u8) -> Request {
    let attrs = Attrs::new().u32(libc::RTA_OIF, index);
    let body = route_body(family, 0, libc::RT_SCOPE_LINK, &attrs);
    message(
        Kind::NewRoute,
        libc::RTM_NEWROUTE,
        F_REQUEST | F_ACK | F_CREATE | F_EXCL,
        &body,
        "adding the default route through the device".to_string(),
    )
}

/// `RTM_NEWROUTE`: `dst/prefix` straight through link `index` (scope link),
/// as router mode puts a container's addresses on the host.
pub fn new_link_route(index: u32, dst: IpAddr, prefix: u8) -> Request {
    let (family, d) = octets(dst);
    let mut body = vec![
        family,
        prefix,
        0,
        0,
        libc::RT_TABLE_MAIN,
        libc::RTPROT_BOOT,
        libc::RT_SCOPE_LINK,
        libc::RTN_UNICAST,
    ];
    body.extend_from_slice(&0u32.to_ne_bytes());
    let attrs = Attrs::new()
        .add(libc::RTA_DST, &d)
        .u32(libc::RTA_OIF, index);
    body.extend_from_slice(&attrs.0);
    message(
        Kind::NewRoute,
        libc::RTM_NEWROUTE,
        F_REQUEST | F_ACK | F_CREATE | F_EXCL,
        &body,
        format!("adding the route to {dst}/{prefix}"),
    )
}

/// `RTM_NEWROUTE`: the default route via `gateway` (through link `index`).
pub fn new_default_route(index: u32, gateway: IpAddr) -> Request {
    let (family, gw) = octets(gateway);
    let attrs = Attrs::new()
        .add(libc::RTA_GATEWAY, &gw)
        .u32(libc::RTA_OIF, index);
    let body = route_body(family, 0, libc::RT_SCOPE_UNIVERSE, &attrs);
    message(
        Kind::NewRoute,
        libc::RTM_NEWROUTE,
        F_REQUEST | F_ACK | F_CREATE | F_EXCL,
        &body,
        format!("adding the default route via {gateway}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_default_route_via_the_gateway() {
        let r = new_default_route(7, "10.0.3.1".parse().unwrap());
        let b = &r.bytes;
        assert_eq!(b[16], libc::AF_INET as u8);
        assert_eq!(b[17], 0, "dst_len 0: the default route");
        assert_eq!(&b[28..36], &[8, 0, libc::RTA_GATEWAY as u8, 0, 10, 0, 3, 1]);
        assert_eq!(&b[36..44], &[8, 0, libc::RTA_OIF as u8, 0, 7, 0, 0, 0]);
        let dev = new_device_route(7, libc::AF_INET as u8);
        assert_eq!(dev.bytes[22], libc::RT_SCOPE_LINK, "scope link: no gateway");
        assert_eq!(
            &dev.bytes[28..36],
            &[8, 0, libc::RTA_OIF as u8, 0, 7, 0, 0, 0]
        );
        assert_eq!(dev.bytes.len(), 36);
        let host = new_link_route(9, "192.0.2.10".parse().unwrap(), 32);
        assert_eq!(host.bytes[17], 32, "dst_len");
        assert_eq!(
            &host.bytes[28..36],
            &[8, 0, libc::RTA_DST as u8, 0, 192, 0, 2, 10]
        );
    }
}
