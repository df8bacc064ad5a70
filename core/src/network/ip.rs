//! The IP settings every link-making NIC type shares (name, MAC, MTU, up,
//! addresses, gateways), parsed from its `lxc.net.N` block with errors naming
//! the key, and [`configure`]: applying them inside the container's network
//! namespace through rtnetlink.

use std::net::IpAddr;

use super::NetworkError;
use crate::config::Nic;
use crate::netlink;
use crate::sys::{Sys, SysError};

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

/// A default route of the NIC (`ipv4.gateway`, `ipv6.gateway`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gateway {
    /// Via this address.
    Via(IpAddr),
    /// Via the bridge's own address of this family (`auto`; the host half
    /// looks it up).
    Auto {
        /// IPv6 rather than IPv4.
        v6: bool,
    },
    /// Straight out of the device, no gateway (`dev`).
    Dev {
        /// IPv6 rather than IPv4.
        v6: bool,
    },
}

/// A NIC's link and IP settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpSettings {
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
    /// `ipv4.gateway` and `ipv6.gateway`.
    pub gateways: Vec<Gateway>,
}

/// A backend's refusal for NIC `nic`, in its own words.
pub fn refused(nic: &Nic, driver: &'static str, reason: String) -> NetworkError {
    NetworkError::Backend {
        index: nic.index,
        driver,
        reason,
    }
}

/// An error naming the NIC and the key.
pub fn invalid(nic: &Nic, key: &str, reason: impl std::fmt::Display) -> NetworkError {
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

fn gateway(nic: &Nic, key: &str, v: &str) -> Result<Gateway, NetworkError> {
    let v6 = key.starts_with("ipv6");
    match v {
        "auto" => Ok(Gateway::Auto { v6 }),
        "dev" => Ok(Gateway::Dev { v6 }),
        v => v.parse().map(Gateway::Via).map_err(|_| {
            invalid(
                nic,
                key,
                format!("`{v}` is not an address, `auto` or `dev`"),
            )
        }),
    }
}

impl IpSettings {
    /// Reads the NIC's block.
    pub fn parse(nic: &Nic) -> Result<IpSettings, NetworkError> {
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
                gateways.push(gateway(nic, key, v)?);
            }
        }
        if let Some(m) = nic.hwaddr.as_deref() {
            if mac_bytes(m, &mut || 0).is_none() {
                return Err(invalid(
                    nic,
                    "hwaddr",
                    format!("`{m}` is not a MAC address"),
                ));
            }
        }
        Ok(IpSettings {
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

    /// The MAC to give the link: `hwaddr` with each `x` randomised.
    pub fn mac(&self) -> Option<[u8; 6]> {
        let mut random = crate::config::net::kernel_random();
        self.hwaddr
            .as_deref()
            .and_then(|m| mac_bytes(m, &mut random))
    }
}

/// A failed request for NIC `nic`, naming what was being done.
pub fn sys_err(nic: &Nic, what: &str, source: SysError) -> NetworkError {
    NetworkError::Sys {
        index: nic.index,
        what: what.to_string(),
        source,
    }
}

/// The index of the link named `name` in this process's network namespace.
pub fn link_index(sys: &dyn Sys, name: &str) -> Result<u32, SysError> {
    let answers = sys.netlink(&netlink::get_link(name))?;
    Ok(answers
        .first()
        .and_then(|b| netlink::link_index(b))
        .unwrap_or(0))
}

/// Inside the container's network namespace: the addresses, the link up
/// (`flags = up`), the default routes via the gateways; `auto` ones take
/// the addresses the host half found (`resolved`).
pub fn configure(
    sys: &dyn Sys,
    nic: &Nic,
    ip: &IpSettings,
    resolved: &[IpAddr],
) -> Result<(), NetworkError> {
    let index = link_index(sys, &ip.name)
        .map_err(|e| sys_err(nic, &format!("finding `{}` in the container", ip.name), e))?;
    let mut requests: Vec<netlink::Request> = ip
        .addresses
        .iter()
        .map(|a| netlink::new_addr(index, a.ip, a.prefix, a.broadcast))
        .collect();
    if ip.up {
        requests.push(netlink::set_link(
            &ip.name,
            &netlink::LinkChange {
                up: Some(true),
                ..Default::default()
            },
        ));
    }
    for g in &ip.gateways {
        requests.push(match *g {
            Gateway::Via(a) => netlink::new_default_route(index, a),
            Gateway::Dev { v6 } => netlink::new_device_route(index, family(v6)),
            Gateway::Auto { v6 } => {
                let found = resolved.iter().find(|a| a.is_ipv6() == v6).ok_or_else(|| {
                    invalid(
                        nic,
                        if v6 { "ipv6.gateway" } else { "ipv4.gateway" },
                        "`auto` needs a veth on a bridge that has an address of that family",
                    )
                })?;
                netlink::new_default_route(index, *found)
            }
        });
    }
    for r in &requests {
        sys.netlink(r).map_err(|e| sys_err(nic, &r.what, e))?;
    }
    Ok(())
}

fn family(v6: bool) -> u8 {
    if v6 {
        libc::AF_INET6 as u8
    } else {
        libc::AF_INET as u8
    }
}

/// A MAC address's bytes; each `x` becomes a random hex digit (the unicast
/// bit of the first octet kept clear).
pub fn mac_bytes(mac: &str, random: &mut dyn FnMut() -> u8) -> Option<[u8; 6]> {
    let mac = crate::config::net::randomize_hwaddr(mac, random);
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
    use crate::config::{load_text, Config};
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
        let v = IpSettings::parse(&n).unwrap();
        assert_eq!(v.name, "eth0");
        assert!(v.up);
        assert_eq!(
            v.addresses[0].broadcast,
            Some("10.0.3.255".parse().unwrap())
        );
        assert_eq!(v.addresses[1].prefix, 64);
        assert_eq!(v.addresses[1].broadcast, None);
        assert_eq!(v.gateways, vec![Gateway::Via("10.0.3.1".parse().unwrap())]);
        let given =
            nic("lxc.net.0.type = veth\nlxc.net.0.ipv4.address = 10.1.0.2/16 10.1.255.254\n");
        let v = IpSettings::parse(&given).unwrap();
        assert_eq!(
            v.addresses[0].broadcast,
            Some("10.1.255.254".parse().unwrap())
        );
    }

    #[test]
    fn auto_and_dev_gateways_and_random_macs() {
        let v = IpSettings::parse(&nic(
            "lxc.net.0.type = veth\nlxc.net.0.ipv4.gateway = auto\nlxc.net.0.ipv6.gateway = dev\n",
        ))
        .unwrap();
        assert_eq!(
            v.gateways,
            vec![Gateway::Auto { v6: false }, Gateway::Dev { v6: true }]
        );
        assert_eq!(
            mac_bytes("00:16:3e:xx:00:01", &mut || 0xab),
            Some([0, 0x16, 0x3e, 0xbb, 0, 1])
        );
    }
}
