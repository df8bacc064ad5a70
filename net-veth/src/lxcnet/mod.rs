//! The default network (`rlxc net`), LXC's `lxc-net`: the `lxcbr0` bridge at
//! 10.0.3.1/24, NAT for 10.0.3.0/24, dnsmasq for DHCP and DNS on the bridge.

mod rules;
mod service;
mod settings;

pub use rules::{dnsmasq_args, nft_ruleset};
pub use service::{NetError, Service, Status};
pub use settings::{Settings, SettingsError};

/// Where LXC keeps the settings, read in this order (a later file wins).
pub const SETTINGS_FILES: &[&str] = &["/etc/default/lxc", "/etc/default/lxc-net"];
