//! The three kinds and their `IFLA_INFO_DATA`, from the NIC's keys.

use rlxc_core::config::Nic;
use rlxc_core::netlink::Attrs;
use rlxc_core::network::ip::invalid;
use rlxc_core::network::NetworkError;

/// Which link type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubKind {
    /// `macvlan`.
    Macvlan,
    /// `ipvlan`.
    Ipvlan,
    /// `vlan` (802.1Q).
    Vlan,
}

/// `IFLA_MACVLAN_MODE`, `IFLA_IPVLAN_MODE`, `IFLA_VLAN_ID` are all type 1;
/// `IFLA_IPVLAN_FLAGS` is 2 (linux/if_link.h).
const DATA_1: u16 = 1;
const IPVLAN_FLAGS: u16 = 2;

fn pick(nic: &Nic, key: &str, v: &str, table: &[(&str, u32)]) -> Result<u32, NetworkError> {
    table
        .iter()
        .find(|(n, _)| *n == v)
        .map(|(_, b)| *b)
        .ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            invalid(
                nic,
                key,
                format!("`{v}` is not one of {}", names.join(", ")),
            )
        })
}

impl SubKind {
    /// The `lxc.net.N.type` value.
    pub fn name(self) -> &'static str {
        match self {
            SubKind::Macvlan => "macvlan",
            SubKind::Ipvlan => "ipvlan",
            SubKind::Vlan => "vlan",
        }
    }

    /// What a kernel without the type lacks.
    pub fn module_hint(self) -> &'static str {
        match self {
            SubKind::Macvlan => "CONFIG_MACVLAN, module macvlan",
            SubKind::Ipvlan => "CONFIG_IPVLAN, module ipvlan",
            SubKind::Vlan => "CONFIG_VLAN_8021Q, module 8021q",
        }
    }

    /// The kind's attributes from `macvlan.mode`, `ipvlan.mode` and
    /// `ipvlan.isolation`, or `vlan.id`.
    pub fn data(self, nic: &Nic) -> Result<Attrs, NetworkError> {
        match self {
            SubKind::Macvlan => {
                let mode = nic.get("macvlan.mode").unwrap_or("private");
                let table = [("private", 1), ("vepa", 2), ("bridge", 4), ("passthru", 8)];
                Ok(Attrs::new().u32(DATA_1, pick(nic, "macvlan.mode", mode, &table)?))
            }
            SubKind::Ipvlan => {
                let mode = nic.get("ipvlan.mode").unwrap_or("l3");
                let iso = nic.get("ipvlan.isolation").unwrap_or("bridge");
                let m = pick(
                    nic,
                    "ipvlan.mode",
                    mode,
                    &[("l2", 0), ("l3", 1), ("l3s", 2)],
                )?;
                let f = pick(
                    nic,
                    "ipvlan.isolation",
                    iso,
                    &[("bridge", 0), ("private", 1), ("vepa", 2)],
                )?;
                Ok(Attrs::new()
                    .add(DATA_1, &(m as u16).to_ne_bytes())
                    .add(IPVLAN_FLAGS, &(f as u16).to_ne_bytes()))
            }
            SubKind::Vlan => {
                let id = nic
                    .get("vlan.id")
                    .ok_or_else(|| invalid(nic, "vlan.id", "a vlan NIC needs its id"))?;
                let id: u16 = id
                    .parse()
                    .ok()
                    .filter(|n| (1..4095).contains(n))
                    .ok_or_else(|| {
                        invalid(nic, "vlan.id", format!("`{id}` is not a VLAN id (1–4094)"))
                    })?;
                Ok(Attrs::new().add(DATA_1, &id.to_ne_bytes()))
            }
        }
    }
}
