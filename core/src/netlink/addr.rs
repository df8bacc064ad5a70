//! Address requests.

use std::net::IpAddr;

use super::attr::Attrs;
use super::{message, Kind, Request, F_ACK, F_CREATE, F_EXCL, F_REQUEST};

/// `RTM_NEWADDR`: `addr/prefix` on link `index`, with `broadcast` for IPv4.
pub fn new_addr(index: u32, addr: IpAddr, prefix: u8, broadcast: Option<IpAddr>) -> Request {
    let (family, bytes) = octets(addr);
    let mut body = vec![family, prefix, 0, 0];
    body.extend_from_slice(&index.to_ne_bytes());
    let attrs = Attrs::new()
        .add(libc::IFA_LOCAL, &bytes)
        .add(libc::IFA_ADDRESS, &bytes)
        .maybe(broadcast, |a, b| a.add(libc::IFA_BROADCAST, &octets(b).1));
    body.extend_from_slice(&attrs.0);
    message(
        Kind::NewAddr,
        libc::RTM_NEWADDR,
        F_REQUEST | F_ACK | F_CREATE | F_EXCL,
        &body,
        format!("adding address {addr}/{prefix}"),
    )
}

/// `RTM_GETADDR` dump of every address of `family`.
pub fn get_addrs(family: u8) -> Request {
    let body = vec![family, 0, 0, 0, 0, 0, 0, 0];
    message(
        Kind::GetAddrs,
        libc::RTM_GETADDR,
        F_REQUEST | libc::NLM_F_DUMP as u16,
        &body,
        "listing addresses".to_string(),
    )
}

/// One `RTM_NEWADDR` answer: the link's index and its address.
pub fn parse_addr(body: &[u8]) -> Option<(u32, IpAddr)> {
    let family = *body.first()?;
    let index = u32::from_ne_bytes(body.get(4..8)?.try_into().ok()?);
    let mut rest = body.get(8..)?;
    let mut found = None;
    while rest.len() >= 4 {
        let len = u16::from_ne_bytes([rest[0], rest[1]]) as usize;
        let kind = u16::from_ne_bytes([rest[2], rest[3]]);
        if len < 4 || len > rest.len() {
            break;
        }
        let v = &rest[4..len];
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS the peer's
        // on point-to-point links, else the same.
        if kind == libc::IFA_LOCAL || (kind == libc::IFA_ADDRESS && found.is_none()) {
            found = match (family as i32, v.len()) {
                (libc::AF_INET, 4) => Some(IpAddr::from(<[u8; 4]>::try_from(v).ok()?)),
                (libc::AF_INET6, 16) => Some(IpAddr::from(<[u8; 16]>::try_from(v).ok()?)),
                _ => found,
            };
        }
        rest = &rest[((len + 3) & !3).min(rest.len())..];
    }
    found.map(|a| (index, a))
}

/// `RTM_NEWNEIGH` (or `RTM_DELNEIGH`) of a proxy entry: link `index`
/// answers ARP/NDP for `addr` (LXC's `l2proxy`).
pub fn proxy_neigh(index: u32, addr: IpAddr, add: bool) -> Request {
    let (family, bytes) = octets(addr);
    let mut body = vec![family, 0, 0, 0];
    body.extend_from_slice(&(index as i32).to_ne_bytes());
    body.extend_from_slice(&(libc::NUD_PERMANENT).to_ne_bytes());
    body.push(libc::NTF_PROXY);
    body.push(0);
    body.extend_from_slice(&Attrs::new().add(libc::NDA_DST, &bytes).0);
    let (t, flags, verb) = if add {
        (libc::RTM_NEWNEIGH, F_REQUEST | F_ACK | F_CREATE, "adding")
    } else {
        (libc::RTM_DELNEIGH, F_REQUEST | F_ACK, "removing")
    };
    message(
        Kind::SetLink,
        t,
        flags,
        &body,
        format!("{verb} the proxy entry for {addr}"),
    )
}

/// The address family and the address's bytes.
pub(super) fn octets(addr: IpAddr) -> (u8, Vec<u8>) {
    match addr {
        IpAddr::V4(a) => (libc::AF_INET as u8, a.octets().to_vec()),
        IpAddr::V6(a) => (libc::AF_INET6 as u8, a.octets().to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_address_with_broadcast() {
        let r = new_addr(
            7,
            "10.0.3.5".parse().unwrap(),
            24,
            Some("10.0.3.255".parse().unwrap()),
        );
        let b = &r.bytes;
        assert_eq!(&b[16..24], &[libc::AF_INET as u8, 24, 0, 0, 7, 0, 0, 0]);
        // IFA_LOCAL, IFA_ADDRESS, IFA_BROADCAST, 8 bytes each.
        assert_eq!(&b[24..32], &[8, 0, libc::IFA_LOCAL as u8, 0, 10, 0, 3, 5]);
        assert_eq!(
            &b[40..48],
            &[8, 0, libc::IFA_BROADCAST as u8, 0, 10, 0, 3, 255]
        );
        let v6 = new_addr(7, "fd00::5".parse().unwrap(), 64, None);
        assert_eq!(v6.bytes[16], libc::AF_INET6 as u8);
        assert_eq!(v6.bytes.len(), 16 + 8 + 2 * 20);
        let p = proxy_neigh(3, "192.0.2.10".parse().unwrap(), true);
        assert_eq!(
            &p.bytes[16..28],
            &[
                libc::AF_INET as u8,
                0,
                0,
                0,
                3,
                0,
                0,
                0,
                0x80,
                0,
                libc::NTF_PROXY,
                0
            ]
        );
        assert_eq!(
            &p.bytes[28..36],
            &[8, 0, libc::NDA_DST as u8, 0, 192, 0, 2, 10]
        );
        // An answer is the same shape: parse it back.
        assert_eq!(
            parse_addr(&r.bytes[16..]),
            Some((7, "10.0.3.5".parse().unwrap()))
        );
    }
}
