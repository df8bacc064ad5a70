//! A veth NIC's settings, parsed from its `lxc.net.N` block once (at plan
//! time, through `validate`), with errors naming the key.

use std::net::IpAddr;

use rlxc_core::config::Nic;
use rlxc_core::network::NetworkError;

/// One address with its prefix and (IPv4) broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address {
    /// The address.
    pub ip: IpAddr,
    /// Prefix length.
    pub prefix: u8,
    /// IPv4 broadcast: given, or LXC's default (the address with the host bits set).
    pub broadcast: Option<IpAddr>,
}

/// What the veth backend needs of a NIC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VethNic {
    /// `lxc.net.N.link`: the bridge the host end joins.
    pub bridge: Option<String>,
    /// `lxc.net.N.veth.pair`: the host end's name.
    pub pair: Option<String>,
    /// `lxc.net.N.name` (default `ethN`).
    pub name: String,
    /// `lxc.net.N.hwaddr` (an `x` left in it is randomised at start).
    pub hwaddr: Option<String>,
    /// `lxc.net.N.mtu`.
    pub mtu: Option<u32>,
    /// `lxc.net.N.flags = up`.
    pub up: bool,
    /// `ipv4.address` and `ipv6.address` lines.
    pub addresses: Vec<Address>,
    /// `ipv4.gateway` and `ipv6.gateway` addresses.
    pub gateways: Vec<IpAddr>,
}

fn invalid(nic: &Nic, key: &str, reason: impl std::fmt::Display) -> NetworkError {
    NetworkError::Invalid {
        index: nic.index,
        reason: format!("{key}: {reason}"),
    }
}

/// `ADDR/PREFIX [BCAST]`; the prefix defaults to the full length.
fn address(nic: &Nic, key: &str, line: &str) -> Result<Address, NetworkError> {
    let mut words = line.split_whitespace();
    let first = words.next().unwrap_or("");
    let (ip, prefix) = first.split_once('/').unwrap_or((first, ""));
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| invalid(nic, key, format!("`{ip}` is not an IP address")))?;
    let full = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = if prefix.is_empty() {
        full
    } else {
        prefix
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= full)
            .ok_or_else(|| invalid(nic, key, format!("`/{prefix}` is not a prefix length")))?
    };
    let broadcast = match (words.next(), ip) {
        (Some(b), _) => Some(
            b.parse()
                .map_err(|_| invalid(nic, key, format!("broadcast `{b}` is not an address")))?,
        ),
        (None, IpAddr::V4(v4)) if prefix < 31 => {
            let host_bits = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
            Some(IpAddr::V4((u32::from(v4) | host_bits).into()))
        }
        (None, _) => None,
    };
    Ok(Address {
        ip,
        prefix,
        broadcast,
    })
}

fn gateway(nic: &Nic, key: &str, v: &str) -> Result<Option<IpAddr>, NetworkError> {
    match v {
        "auto" | "dev" => Err(invalid(
            nic,
            key,
            format!("`{v}` is not supported yet: give the gateway's address"),
        )),
        v => v
            .parse()
            .map(Some)
            .map_err(|_| invalid(nic, key, format!("`{v}` is not an address"))),
    }
}

impl VethNic {
    /// Reads the NIC's block.
    pub fn parse(nic: &Nic) -> Result<VethNic, NetworkError> {
        let mut addresses = Vec::new();
        for (key, list) in [("ipv4.address", &nic.ipv4), ("ipv6.address", &nic.ipv6)] {
            for line in list {
                addresses.push(address(nic, key, line)?);
            }
        }
        let mut gateways = Vec::new();
        for (key, v) in [
            ("ipv4.gateway", &nic.ipv4_gateway),
            ("ipv6.gateway", &nic.ipv6_gateway),
        ] {
            if let Some(v) = v {
                gateways.extend(gateway(nic, key, v)?);
            }
        }
        if let Some(mode) = nic.get("veth.mode").filter(|m| *m != "bridge") {
            return Err(invalid(
                nic,
                "veth.mode",
                format!("`{mode}` is not supported yet (only bridge)"),
            ));
        }
        Ok(VethNic {
            bridge: nic.link.clone().filter(|l| !l.is_empty()),
            pair: nic.get("veth.pair").map(str::to_string),
            name: nic
                .name
                .clone()
                .unwrap_or_else(|| format!("eth{}", nic.index)),
            hwaddr: nic.hwaddr.clone(),
            mtu: nic.mtu,
            up: nic.up,
            addresses,
            gateways,
        })
    }
}

/// A MAC address's bytes; each `x` becomes a random hex digit (the unicast
/// bit of the first octet kept clear).
pub fn mac_bytes(mac: &str, random: &mut dyn FnMut() -> u8) -> Option<[u8; 6]> {
    let mac = rlxc_core::config::net::randomize_hwaddr(mac, random);
    let mut out = [0u8; 6];
    let parts: Vec<&str> = mac.split(':').collect();
    if parts.len() != 6 {
        return None;
    }
    for (o, p) in out.iter_mut().zip(parts) {
        *o = u8::from_str_radix(p, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rlxc_core::config::{load_text, Config};
    use std::path::Path;

    fn nic(text: &str) -> Nic {
        let c: Config = load_text(text.as_bytes(), Path::new("config")).unwrap();
        c.nics().remove(0)
    }

    #[test]
    fn the_guides_nic_with_lxcs_broadcast_rule() {
        let n = nic(
            "lxc.network.type = veth\nlxc.network.link = lxcbr0\nlxc.network.flags = up\n\
                     lxc.network.ipv4 = 10.0.3.5/24\nlxc.network.ipv4.gateway = 10.0.3.1\n\
                     lxc.network.ipv6 = fd00::5/64\nlxc.network.hwaddr = 00:16:3e:aa:bb:cc\n",
        );
        let v = VethNic::parse(&n).unwrap();
        assert_eq!(v.bridge.as_deref(), Some("lxcbr0"));
        assert_eq!(v.name, "eth0");
        assert!(v.up);
        assert_eq!(
            v.addresses[0].broadcast,
            Some("10.0.3.255".parse().unwrap())
        );
        assert_eq!(v.addresses[1].prefix, 64);
        assert_eq!(v.addresses[1].broadcast, None);
        assert_eq!(v.gateways, vec!["10.0.3.1".parse::<IpAddr>().unwrap()]);
        let given =
            nic("lxc.net.0.type = veth\nlxc.net.0.ipv4.address = 10.1.0.2/16 10.1.255.254\n");
        let v = VethNic::parse(&given).unwrap();
        assert_eq!(
            v.addresses[0].broadcast,
            Some("10.1.255.254".parse().unwrap())
        );
    }

    #[test]
    fn what_is_not_built_yet_says_so_with_the_key() {
        let e = VethNic::parse(&nic(
            "lxc.net.0.type = veth\nlxc.net.0.ipv4.gateway = auto\n",
        ))
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "lxc.net.0: ipv4.gateway: `auto` is not supported yet: give the gateway's address"
        );
        assert_eq!(
            mac_bytes("00:16:3e:xx:00:01", &mut || 0xab),
            Some([0, 0x16, 0x3e, 0xbb, 0, 1])
        );
    }
}
