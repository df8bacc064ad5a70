//! The default network's settings: LXC's `lxc-net` variables, read from
//! `/etc/default/lxc` then `/etc/default/lxc-net` (shell `KEY="value"`
//! lines; a later file wins), with LXC's defaults.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// What `rlxc net` sets up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Settings {
    /// `USE_LXC_BRIDGE`: `false` makes `net start` a no-op, as in LXC.
    pub use_bridge: bool,
    /// `LXC_BRIDGE`.
    pub bridge: String,
    /// `LXC_BRIDGE_MAC`.
    pub bridge_mac: String,
    /// `LXC_ADDR`.
    pub addr: Ipv4Addr,
    /// From `LXC_NETMASK`.
    pub prefix: u8,
    /// `LXC_NETWORK`.
    pub network: String,
    /// `LXC_DHCP_RANGE` (`FIRST,LAST`).
    pub dhcp_range: String,
    /// `LXC_DHCP_MAX`.
    pub dhcp_max: u32,
    /// `LXC_DHCP_CONFILE` (empty: none, dnsmasq stays hermetic).
    pub dhcp_confile: Option<PathBuf>,
    /// `LXC_DHCP_PING`.
    pub dhcp_ping: bool,
    /// `LXC_DOMAIN`.
    pub domain: Option<String>,
    /// `LXC_IPV6_ADDR`/`MASK`/`NETWORK` together (LXC 6's ULA network unless
    /// the settings empty `LXC_IPV6_ADDR`).
    pub ipv6: Option<(String, u8, String)>,
    /// `LXC_IPV6_NAT`.
    pub ipv6_nat: bool,
    /// `LXC_USE_NFT`: nftables when `nft` works, else iptables.
    pub use_nft: bool,
    /// The files read, in order.
    pub files: Vec<PathBuf>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            use_bridge: true,
            bridge: "lxcbr0".into(),
            bridge_mac: "00:16:3e:00:00:00".into(),
            addr: Ipv4Addr::new(10, 0, 3, 1),
            prefix: 24,
            network: "10.0.3.0/24".into(),
            dhcp_range: "10.0.3.2,10.0.3.254".into(),
            dhcp_max: 253,
            dhcp_confile: None,
            dhcp_ping: true,
            domain: None,
            // LXC 6's defaults: a ULA network with NAT66, on by default.
            ipv6: Some((
                "fc42:5009:ba4b:5ab0::1".into(),
                64,
                "fc42:5009:ba4b:5ab0::/64".into(),
            )),
            ipv6_nat: true,
            use_nft: true,
            files: Vec::new(),
        }
    }
}

/// A line LXC's shell would take but this reader cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {key}: {why}")]
pub struct SettingsError {
    /// The file.
    pub file: String,
    /// Line number.
    pub line: usize,
    /// The variable.
    pub key: String,
    /// Why.
    pub why: String,
}

/// `KEY=value`, `KEY="value"`, `KEY='value'`, `export KEY=…`; comments and
/// other lines are skipped (they are shell code LXC would run).
pub fn assignments(text: &str) -> Vec<(usize, String, String)> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let l = l.trim();
            let l = l.strip_prefix("export ").unwrap_or(l);
            if l.starts_with('#') {
                return None;
            }
            let (k, v) = l.split_once('=')?;
            if k.is_empty()
                || !k
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            {
                return None;
            }
            let v = v.split(" #").next().unwrap_or(v).trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            Some((i + 1, k.to_string(), v.to_string()))
        })
        .collect()
}

/// A dotted netmask as a prefix length (`255.255.255.0` → 24).
pub fn netmask_prefix(mask: &str) -> Option<u8> {
    let m = u32::from(mask.parse::<Ipv4Addr>().ok()?);
    let p = m.leading_ones();
    (m.checked_shl(p).unwrap_or(0) == 0).then_some(p as u8)
}

impl Settings {
    /// The settings from `files` (missing ones are skipped), over LXC's defaults.
    pub fn read(files: &[&Path]) -> Result<Settings, SettingsError> {
        let mut s = Settings::default();
        let mut v6 = match &s.ipv6 {
            Some((a, m, n)) => (Some(a.clone()), Some(*m), Some(n.clone())),
            None => (None, None, None),
        };
        for f in files {
            let Ok(text) = std::fs::read_to_string(f) else {
                continue;
            };
            s.files.push(f.to_path_buf());
            for (line, key, value) in assignments(&text) {
                let bad = |why: String| SettingsError {
                    file: f.display().to_string(),
                    line,
                    key: key.clone(),
                    why,
                };
                match key.as_str() {
                    "USE_LXC_BRIDGE" => s.use_bridge = value == "true",
                    "LXC_BRIDGE" => s.bridge = value,
                    "LXC_BRIDGE_MAC" => s.bridge_mac = value,
                    "LXC_ADDR" => {
                        s.addr = value
                            .parse()
                            .map_err(|_| bad(format!("`{value}` is not an IPv4 address")))?
                    }
                    "LXC_NETMASK" => {
                        s.prefix = netmask_prefix(&value)
                            .ok_or_else(|| bad(format!("`{value}` is not a netmask")))?
                    }
                    "LXC_NETWORK" => s.network = value,
                    "LXC_DHCP_RANGE" => s.dhcp_range = value,
                    "LXC_DHCP_MAX" => {
                        s.dhcp_max = value
                            .parse()
                            .map_err(|_| bad(format!("`{value}` is not a number")))?
                    }
                    "LXC_DHCP_CONFILE" => {
                        s.dhcp_confile = (!value.is_empty()).then(|| value.into())
                    }
                    "LXC_DHCP_PING" => s.dhcp_ping = value == "true",
                    "LXC_DOMAIN" => s.domain = (!value.is_empty()).then_some(value),
                    "LXC_IPV6_ADDR" => v6.0 = (!value.is_empty()).then_some(value),
                    "LXC_IPV6_MASK" => v6.1 = value.parse::<u8>().ok(),
                    "LXC_IPV6_NETWORK" => v6.2 = (!value.is_empty()).then_some(value),
                    "LXC_IPV6_NAT" => s.ipv6_nat = value == "true",
                    "LXC_USE_NFT" => s.use_nft = value == "true",
                    _ => {}
                }
            }
        }
        s.ipv6 = match v6 {
            (Some(a), Some(m), Some(n)) => Some((a, m, n)),
            _ => None,
        };
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lxcs_defaults_files() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("lxc");
        let b = d.path().join("lxc-net");
        std::fs::write(&a, "USE_LXC_BRIDGE=\"false\"\n").unwrap();
        std::fs::write(
            &b,
            "# comment\nUSE_LXC_BRIDGE=\"true\"\nLXC_BRIDGE=\"br7\"\nLXC_ADDR=10.9.0.1\n\
             LXC_NETMASK='255.255.0.0'\nexport LXC_DOMAIN=\"lxc\" # the domain\n\
             if [ x ]; then echo; fi\nLXC_IPV6_ADDR=fd00::1\nLXC_IPV6_MASK=64\nLXC_IPV6_NETWORK=fd00::/64\n",
        )
        .unwrap();
        let s = Settings::read(&[&a, &b, &d.path().join("missing")]).unwrap();
        assert!(s.use_bridge);
        assert_eq!(
            (s.bridge.as_str(), s.addr, s.prefix),
            ("br7", Ipv4Addr::new(10, 9, 0, 1), 16)
        );
        assert_eq!(s.domain.as_deref(), Some("lxc"));
        assert_eq!(s.ipv6, Some(("fd00::1".into(), 64, "fd00::/64".into())));
        assert_eq!(s.files.len(), 2);
        std::fs::write(&b, "LXC_NETMASK=255.0.255.0\n").unwrap();
        let e = Settings::read(&[&b]).unwrap_err().to_string();
        assert!(
            e.ends_with(":1: LXC_NETMASK: `255.0.255.0` is not a netmask"),
            "{e}"
        );
        assert_eq!(Settings::read(&[]).unwrap(), Settings::default());
        // LXC 6 turned IPv6 on by default; an empty LXC_IPV6_ADDR turns it off.
        assert!(Settings::default().ipv6.is_some() && Settings::default().ipv6_nat);
        std::fs::write(&b, "LXC_IPV6_ADDR=\"\"\n").unwrap();
        assert_eq!(Settings::read(&[&b]).unwrap().ipv6, None);
    }
}
