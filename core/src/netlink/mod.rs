//! rtnetlink requests, built as bytes by pure functions (so every message is
//! unit-tested) and sent through [`Sys::netlink`](crate::sys::Sys::netlink):
//! links (veth pairs, moves into a network namespace, master, up, mtu,
//! address, name, delete), addresses and routes. No `ip` subprocess.
//!
//! The wire format: a 16-byte `nlmsghdr`, a fixed header of the family
//! (`ifinfomsg`, `ifaddrmsg`, `rtmsg`), then attributes, each a 4-byte
//! header and a payload padded to 4 bytes; attributes nest.

mod addr;
mod attr;
mod link;
mod route;

pub use addr::{get_addrs, new_addr, parse_addr, proxy_neigh};
pub use attr::Attrs;
pub use link::{
    bridge_vlan, del_link, get_link, move_link, new_link, new_sublink, new_veth, rename_link,
    set_link, LinkChange, SubLinkRequest, VethRequest, VLAN_PVID, VLAN_UNTAGGED,
};
pub use route::{new_default_route, new_device_route, new_link_route};

/// What a request does, for the record (the fake answers by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `RTM_NEWLINK` with create.
    NewLink,
    /// `RTM_NEWLINK` on an existing link (set flags, name, master, netns).
    SetLink,
    /// `RTM_DELLINK`.
    DelLink,
    /// `RTM_GETLINK` by name; the answer carries the index.
    GetLink,
    /// `RTM_NEWADDR`.
    NewAddr,
    /// `RTM_GETADDR` dump.
    GetAddrs,
    /// `RTM_NEWROUTE`.
    NewRoute,
}

/// One request: its bytes (sequence number 0; the socket fills it in) and
/// a description for messages and records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// What it does.
    pub kind: Kind,
    /// `add veth vethAB12CD peer eth0`, for errors and the fake's record.
    pub what: String,
    /// The whole message.
    pub bytes: Vec<u8>,
}

/// `NLM_F_REQUEST`.
pub const F_REQUEST: u16 = libc::NLM_F_REQUEST as u16;
/// `NLM_F_ACK`.
pub const F_ACK: u16 = libc::NLM_F_ACK as u16;
/// `NLM_F_EXCL`.
pub const F_EXCL: u16 = libc::NLM_F_EXCL as u16;
/// `NLM_F_CREATE`.
pub const F_CREATE: u16 = libc::NLM_F_CREATE as u16;

/// A message: `nlmsghdr`, then `body` (the family header and attributes).
pub fn message(kind: Kind, msg_type: u16, flags: u16, body: &[u8], what: String) -> Request {
    let len = 16 + body.len();
    let mut bytes = Vec::with_capacity(len);
    bytes.extend_from_slice(&(len as u32).to_ne_bytes());
    bytes.extend_from_slice(&msg_type.to_ne_bytes());
    bytes.extend_from_slice(&flags.to_ne_bytes());
    bytes.extend_from_slice(&0u32.to_ne_bytes()); // seq
    bytes.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
    bytes.extend_from_slice(body);
    Request { kind, what, bytes }
}

/// What the kernel answered one message with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `NLMSG_ERROR` with 0: done.
    Ack,
    /// `NLMSG_ERROR` with `-errno`.
    Error(i32),
    /// `NLMSG_DONE`: the end of a dump.
    Done,
    /// Another message: its type and body (after the 16-byte header).
    Message(u16, Vec<u8>),
}

/// Splits a datagram of answers.
pub fn parse_answers(buf: &[u8]) -> Vec<Answer> {
    let mut out = Vec::new();
    let mut rest = buf;
    while rest.len() >= 16 {
        let len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        if len < 16 || len > rest.len() {
            break;
        }
        let body = &rest[16..len];
        out.push(match kind as i32 {
            libc::NLMSG_ERROR if body.len() >= 4 => {
                match i32::from_ne_bytes([body[0], body[1], body[2], body[3]]) {
                    0 => Answer::Ack,
                    e => Answer::Error(-e),
                }
            }
            libc::NLMSG_DONE => Answer::Done,
            _ => Answer::Message(kind, body.to_vec()),
        });
        rest = &rest[(len + 3) & !3..];
    }
    out
}

/// The link kind (`IFLA_INFO_KIND`: `bridge`, `veth`, `openvswitch` …) in an
/// `RTM_NEWLINK` answer; `None` for a link without one (a physical NIC).
pub fn link_kind(body: &[u8]) -> Option<String> {
    let info = find_attr(body.get(16..)?, libc::IFLA_LINKINFO)?;
    let kind = find_attr(info, libc::IFLA_INFO_KIND)?;
    let end = kind.iter().position(|b| *b == 0).unwrap_or(kind.len());
    String::from_utf8(kind[..end].to_vec()).ok()
}

/// The payload of the first attribute of `kind` (nested flag ignored).
fn find_attr(mut attrs: &[u8], kind: u16) -> Option<&[u8]> {
    while attrs.len() >= 4 {
        let len = u16::from_ne_bytes([attrs[0], attrs[1]]) as usize;
        let k = u16::from_ne_bytes([attrs[2], attrs[3]]) & !(libc::NLA_F_NESTED as u16);
        if len < 4 || len > attrs.len() {
            return None;
        }
        if k == kind {
            return Some(&attrs[4..len]);
        }
        attrs = &attrs[((len + 3) & !3).min(attrs.len())..];
    }
    None
}

/// The interface index in an `RTM_NEWLINK` answer's `ifinfomsg`.
pub fn link_index(body: &[u8]) -> Option<u32> {
    body.get(4..8)
        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_split_and_errors_come_back_as_errno() {
        let mut buf = Vec::new();
        for (t, payload) in [
            (libc::NLMSG_ERROR as u16, 0i32.to_ne_bytes().to_vec()),
            (
                libc::NLMSG_ERROR as u16,
                (-libc::ENODEV).to_ne_bytes().to_vec(),
            ),
            (libc::RTM_NEWLINK, vec![0, 0, 1, 0, 9, 0, 0, 0]),
        ] {
            let m = message(Kind::GetLink, t, 0, &payload, String::new());
            buf.extend_from_slice(&m.bytes);
        }
        let a = parse_answers(&buf);
        assert_eq!(a[0], Answer::Ack);
        assert_eq!(a[1], Answer::Error(libc::ENODEV));
        let Answer::Message(t, body) = &a[2] else {
            panic!("{a:?}")
        };
        assert_eq!((*t, link_index(body)), (libc::RTM_NEWLINK, Some(9)));
        // A link's kind, as an RTM_NEWLINK answer carries it.
        let br = new_link("br0", "openvswitch");
        assert_eq!(link_kind(&br.bytes[16..]).as_deref(), Some("openvswitch"));
        assert_eq!(link_kind(&get_link("eth0").bytes[16..]), None);
    }
}
