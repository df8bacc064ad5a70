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
    }
}
