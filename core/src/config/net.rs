//! Network interfaces as the config describes them, and the hwaddr `x`
//! randomisation LXC does at create time.

use std::collections::BTreeMap;

use super::document::{Document, LineKind};
use super::model::Config;

/// One `lxc.net.N` block.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Nic {
    /// N.
    pub index: u32,
    /// `lxc.net.N.type`, `None` when missing (an error at start).
    pub kind: Option<String>,
    /// Bridge or parent interface.
    pub link: Option<String>,
    /// `flags = up`.
    pub up: bool,
    /// Name inside the container.
    pub name: Option<String>,
    /// MAC address.
    pub hwaddr: Option<String>,
    /// MTU.
    pub mtu: Option<u32>,
    /// Static IPv4 addresses (`a.b.c.d/m [bcast]`).
    pub ipv4: Vec<String>,
    /// IPv4 gateway.
    pub ipv4_gateway: Option<String>,
    /// Static IPv6 addresses.
    pub ipv6: Vec<String>,
    /// IPv6 gateway.
    pub ipv6_gateway: Option<String>,
    /// Every key of the block by sub-key (`veth.pair`, `macvlan.mode`, …), for backends.
    pub keys: BTreeMap<String, Vec<String>>,
}

impl Nic {
    /// A sub-key's last value.
    pub fn get(&self, sub: &str) -> Option<&str> {
        self.keys
            .get(sub)
            .and_then(|v| v.last())
            .map(String::as_str)
    }
}

impl Config {
    /// The NICs, by index.
    pub fn nics(&self) -> Vec<Nic> {
        let mut by_index: BTreeMap<u32, Nic> = BTreeMap::new();
        for item in self.items() {
            let Some(index) = item.net_index else {
                continue;
            };
            let sub = item.key.splitn(4, '.').nth(3).unwrap_or("").to_string();
            let nic = by_index.entry(index).or_insert_with(|| Nic {
                index,
                ..Nic::default()
            });
            nic.keys.entry(sub).or_default().push(item.value.clone());
        }
        by_index
            .into_values()
            .map(|mut nic| {
                let one = |n: &Nic, k: &str| n.get(k).map(str::to_string);
                nic.kind = one(&nic, "type");
                nic.link = one(&nic, "link");
                nic.up = nic.get("flags") == Some("up");
                nic.name = one(&nic, "name");
                nic.hwaddr = one(&nic, "hwaddr");
                nic.mtu = nic.get("mtu").and_then(|m| m.parse().ok());
                nic.ipv4 = nic.keys.get("ipv4.address").cloned().unwrap_or_default();
                nic.ipv4_gateway = one(&nic, "ipv4.gateway");
                nic.ipv6 = nic.keys.get("ipv6.address").cloned().unwrap_or_default();
                nic.ipv6_gateway = one(&nic, "ipv6.gateway");
                nic
            })
            .collect()
    }
}

/// Replaces each `x`/`X` of a MAC with a random hex digit. The first octet
/// keeps the unicast bit clear, as a MAC for a NIC must.
pub fn randomize_hwaddr(mac: &str, random: &mut dyn FnMut() -> u8) -> String {
    let mut out = String::with_capacity(mac.len());
    for (i, c) in mac.chars().enumerate() {
        if c == 'x' || c == 'X' {
            let mut nibble = random() & 0xf;
            if i == 1 {
                nibble &= 0xe;
            }
            out.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        } else {
            out.push(c);
        }
    }
    out
}

/// Randomises every `hwaddr` value of a document in place (what create does to
/// a new container's config). Returns how many lines changed.
pub fn randomize_document_hwaddrs(doc: &mut Document, random: &mut dyn FnMut() -> u8) -> usize {
    let mut changed = 0;
    for idx in 0..doc.lines.len() {
        let LineKind::Entry { key, value } = &doc.lines[idx].kind else {
            continue;
        };
        if key.ends_with(".hwaddr") && value.contains(['x', 'X']) {
            let new = randomize_hwaddr(value, random);
            doc.set_value_at(idx, &new);
            changed += 1;
        }
    }
    changed
}

/// Random bytes from the kernel, for [`randomize_hwaddr`].
pub fn kernel_random() -> impl FnMut() -> u8 {
    move || {
        let mut b = [0u8; 1];
        // SAFETY: the buffer is valid for 1 byte; getrandom writes at most that.
        let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), 1, 0) };
        if n == 1 {
            b[0]
        } else {
            // getrandom cannot fail for one byte after boot; fall back to the clock.
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos() as u8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::error::Origin;

    #[test]
    fn nics_from_items() {
        let mut c = Config::new();
        let o = Origin::default();
        for (k, v) in [
            ("lxc.net.1.type", "veth"),
            ("lxc.net.1.link", "lxcbr0"),
            ("lxc.net.1.flags", "up"),
            ("lxc.net.1.ipv4.address", "10.0.3.5/24"),
            ("lxc.net.1.ipv4.address", "10.0.3.6/24"),
            ("lxc.net.0.type", "empty"),
            ("lxc.net.1.veth.pair", "vethc1"),
        ] {
            c.set(k, v, &o).unwrap();
        }
        let nics = c.nics();
        assert_eq!(nics.len(), 2);
        assert_eq!(nics[0].kind.as_deref(), Some("empty"));
        assert_eq!(nics[1].link.as_deref(), Some("lxcbr0"));
        assert!(nics[1].up);
        assert_eq!(nics[1].ipv4.len(), 2);
        assert_eq!(nics[1].get("veth.pair"), Some("vethc1"));
    }

    #[test]
    fn hwaddr_randomisation() {
        let mut n = 0u8;
        let mut rnd = || {
            n = n.wrapping_add(7);
            n
        };
        let mac = randomize_hwaddr("10:66:6a:xx:xx:xx", &mut rnd);
        assert_eq!(mac.len(), 17);
        assert!(mac.starts_with("10:66:6a:"));
        assert!(!mac.contains('x'));
        let unicast = randomize_hwaddr("xx:00:00:00:00:00", &mut || 0xff);
        assert_eq!(&unicast[..2], "fe");
        let mut doc =
            Document::parse(b"# mac\nlxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n", None).unwrap();
        assert_eq!(
            randomize_document_hwaddrs(&mut doc, &mut kernel_random()),
            1
        );
        let text = String::from_utf8(doc.to_bytes()).unwrap();
        assert!(
            text.starts_with("# mac\nlxc.net.0.hwaddr = 00:16:3e:"),
            "{text}"
        );
        assert!(
            !text.trim_end().rsplit(' ').next().unwrap().contains('x'),
            "{text}"
        );
    }
}
