//! veth networking for rlxc (`lxc.net.N.type = veth`): a pair per NIC, its
//! host end on a bridge (`lxc.net.N.link`), its peer made directly in the
//! container's network namespace under its final name, all through
//! rtnetlink (no `ip` subprocess).
//!
//! - host half (`setup_host`, in the monitor): look the bridge up (a missing
//!   one is an error naming it), make the pair with the peer's MAC and MTU,
//!   the host end up.
//! - container half (`setup_container`, inside the container's netns): the
//!   addresses (LXC's default IPv4 broadcast), the link up (`flags = up`),
//!   the default routes via the gateways.
//! - teardown: the host end deleted (the peer goes with it); already gone
//!   (the container's netns took it along) is not an error.
//!
//! - [`lxcnet`]: the default network, LXC's `lxc-net` job (`rlxc net`).
//!
//! Gateways: an address, `auto` (the bridge's own address, looked up by the
//! host half) or `dev` (a device route).
//!
//! Router mode (`veth.mode = router`): no bridge; the host gets a route to
//! each of the container's addresses (and each `veth.ipvN.route`) through
//! the host end, which answers ARP/NDP for the container's neighbours; with
//! `l2proxy = 1`, proxy entries for its addresses on `link` (the uplink).
//!
//! `veth.vlan.id` / `veth.vlan.tagged.id`: the host end's VLANs on a
//! VLAN-aware bridge.
//!
//! An Open vSwitch bridge (a `link` of kind `openvswitch`) takes the host
//! end through `ovs-vsctl add-port` (`tag=` for `veth.vlan.id`), removed with
//! `del-port` at stop; this kernel has no Open vSwitch, so that path is
//! tested against the fake only.
//! `script.up`/`script.down` run with LXC's arguments and environment. Privileges: root
//! (`CAP_NET_ADMIN` in both namespaces). Depends on `rlxc-core` only.

pub mod lxcnet;

use async_trait::async_trait;
use rlxc_core::config::net::kernel_random;
use rlxc_core::config::Nic;
use rlxc_core::netlink;
use rlxc_core::network::ip::{
    configure, invalid, link_index, refused, sys_err, Gateway, IpSettings,
};
use rlxc_core::network::{NetContext, Network, NetworkError, NicState};
use rlxc_core::registry::Registry;
use rlxc_core::sys::Sys;

pub use rlxc_core::network::ip::mac_bytes;

/// What the veth backend needs of a NIC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VethNic {
    /// `lxc.net.N.link`: the bridge the host end joins.
    pub bridge: Option<String>,
    /// `lxc.net.N.veth.pair`: the host end's name.
    pub pair: Option<String>,
    /// `veth.mode = router`: no bridge; host routes to the container's
    /// addresses through the host end, which answers ARP for its neighbours.
    pub router: bool,
    /// `veth.ipv4.route` and `veth.ipv6.route`: more host routes into it.
    pub routes: Vec<(std::net::IpAddr, u8)>,
    /// Router mode's `link`: the host's uplink, where `l2proxy` answers for
    /// the container (no bridge).
    pub uplink: Option<String>,
    /// `l2proxy = 1`: proxy ARP/NDP entries for the container's addresses on `link`.
    pub l2proxy: bool,
    /// `veth.vlan.id`: the port's untagged VLAN (its PVID) on a VLAN-aware
    /// bridge, and `veth.vlan.tagged.id`: tagged memberships.
    pub vlan: Option<u16>,
    /// See `vlan`.
    pub tagged: Vec<u16>,
    /// Name, MAC, MTU, up, addresses, gateways.
    pub ip: IpSettings,
}

impl VethNic {
    /// Reads the NIC's block.
    pub fn parse(nic: &Nic) -> Result<VethNic, NetworkError> {
        if nic.link.as_deref().is_none_or(str::is_empty) {
            let auto = IpSettings::parse(nic)?
                .gateways
                .into_iter()
                .any(|g| matches!(g, Gateway::Auto { .. }));
            if auto {
                return Err(invalid(
                    nic,
                    "ipv4.gateway",
                    "`auto` takes the bridge's address: give `link`",
                ));
            }
        }
        let router = nic.get("veth.mode") == Some("router");
        let mut routes = Vec::new();
        for key in ["veth.ipv4.route", "veth.ipv6.route"] {
            for r in nic.keys.get(key).into_iter().flatten() {
                routes.push(route(nic, key, r)?);
            }
        }
        let link = nic.link.clone().filter(|l| !l.is_empty());
        // In router mode `link` is no bridge but the uplink l2proxy serves.
        let (bridge, uplink) = if router { (None, link) } else { (link, None) };
        let vid = |v: &str| v.parse::<u16>().ok().filter(|n| (1..4095).contains(n));
        let vlan =
            match nic.get("veth.vlan.id") {
                None => None,
                Some(v) => Some(vid(v).ok_or_else(|| {
                    invalid(nic, "veth.vlan.id", format!("`{v}` is not a VLAN id"))
                })?),
            };
        let tagged = nic
            .keys
            .get("veth.vlan.tagged.id")
            .into_iter()
            .flatten()
            .map(|v| {
                vid(v).ok_or_else(|| {
                    invalid(
                        nic,
                        "veth.vlan.tagged.id",
                        format!("`{v}` is not a VLAN id"),
                    )
                })
            })
            .collect::<Result<Vec<u16>, _>>()?;
        if (vlan.is_some() || !tagged.is_empty()) && bridge.is_none() {
            return Err(invalid(
                nic,
                "veth.vlan.id",
                "VLANs are a bridge port's: give `link`",
            ));
        }
        Ok(VethNic {
            bridge,
            uplink,
            l2proxy: nic.get("l2proxy") == Some("1"),
            pair: nic.get("veth.pair").map(str::to_string),
            router,
            routes,
            vlan,
            tagged,
            ip: IpSettings::parse(nic)?,
        })
    }
}

/// The backend name.
pub const NAME: &str = "veth";

/// The veth backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct Driver;

/// Registers the `veth` network type.
pub fn register(r: &mut Registry) {
    r.add_network(std::sync::Arc::new(Driver));
}

fn backend(nic: &Nic, reason: String) -> NetworkError {
    refused(nic, NAME, reason)
}

/// `ADDR/PREFIX` of a `veth.ipvN.route`.
fn route(nic: &Nic, key: &str, v: &str) -> Result<(std::net::IpAddr, u8), NetworkError> {
    let (a, p) = v.split_once('/').unwrap_or((v, ""));
    let ip: std::net::IpAddr = a
        .parse()
        .map_err(|_| invalid(nic, key, format!("`{a}` is not an address")))?;
    let full = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = if p.is_empty() {
        full
    } else {
        p.parse::<u8>()
            .ok()
            .filter(|n| *n <= full)
            .ok_or_else(|| invalid(nic, key, format!("`/{p}` is not a prefix length")))?
    };
    Ok((ip, prefix))
}

/// Router mode on the host: proxy ARP and NDP on the host end, a route to
/// each of the container's addresses and each `veth.ipvN.route` through it.
fn router_routes(
    ctx: NetContext<'_>,
    nic: &Nic,
    v: &VethNic,
    host: &str,
) -> Result<(), NetworkError> {
    for (family, knob) in [("ipv4", "proxy_arp"), ("ipv6", "proxy_ndp")] {
        let file = format!("/proc/sys/net/{family}/conf/{host}/{knob}");
        if std::path::Path::new(&format!("/proc/sys/net/{family}")).exists() {
            ctx.sys
                .write_file(std::path::Path::new(&file), b"1")
                .map_err(|e| sys_err(nic, &format!("turning {knob} on for {host}"), e))?;
        }
    }
    let index =
        link_index(ctx.sys, host).map_err(|e| sys_err(nic, &format!("looking up {host}"), e))?;
    let own =
        v.ip.addresses
            .iter()
            .map(|a| (a.ip, if a.ip.is_ipv4() { 32 } else { 128 }));
    for (dst, prefix) in own.chain(v.routes.iter().copied()) {
        let req = netlink::new_link_route(index, dst, prefix);
        ctx.sys
            .netlink(&req)
            .map_err(|e| sys_err(nic, &req.what, e))?;
    }
    Ok(())
}

/// `veth.vlan.id` and `veth.vlan.tagged.id` on the host end's bridge port:
/// the untagged PVID replaces the default VLAN 1, as LXC does.
fn port_vlans(ctx: NetContext<'_>, nic: &Nic, v: &VethNic, host: &str) -> Result<(), NetworkError> {
    if v.vlan.is_none() && v.tagged.is_empty() {
        return Ok(());
    }
    let port =
        link_index(ctx.sys, host).map_err(|e| sys_err(nic, &format!("looking up {host}"), e))?;
    let mut reqs = Vec::new();
    if let Some(id) = v.vlan {
        reqs.push(netlink::bridge_vlan(port, 1, 0, false));
        reqs.push(netlink::bridge_vlan(
            port,
            id,
            netlink::VLAN_PVID | netlink::VLAN_UNTAGGED,
            true,
        ));
    }
    reqs.extend(
        v.tagged
            .iter()
            .map(|id| netlink::bridge_vlan(port, *id, 0, true)),
    );
    for r in &reqs {
        ctx.sys.netlink(r).map_err(|e| match e.errno() {
            Some(nix::Error::EOPNOTSUPP) => backend(
                nic,
                format!(
                    "bridge `{}` does not filter VLANs (this kernel lacks CONFIG_BRIDGE_VLAN_FILTERING, or the bridge has vlan_filtering off)",
                    v.bridge.as_deref().unwrap_or("")
                ),
            ),
            _ => sys_err(nic, &r.what, e),
        })?;
    }
    Ok(())
}

/// `l2proxy`: proxy ARP/NDP entries on `link` for each of the container's
/// addresses (`add`), or their removal.
fn l2proxy(ctx: NetContext<'_>, nic: &Nic, v: &VethNic, add: bool) -> Result<(), NetworkError> {
    let Some(link) = v
        .l2proxy
        .then(|| v.uplink.as_ref().or(v.bridge.as_ref()))
        .flatten()
    else {
        return Ok(());
    };
    let index = link_index(ctx.sys, link)
        .map_err(|e| sys_err(nic, &format!("looking up {link} (l2proxy)"), e))?;
    for a in &v.ip.addresses {
        let req = netlink::proxy_neigh(index, a.ip, add);
        match ctx.sys.netlink(&req) {
            Err(e) if !add && e.errno() == Some(nix::Error::ENOENT) => {}
            Err(e) => return Err(sys_err(nic, &req.what, e)),
            Ok(_) => {}
        }
    }
    Ok(())
}

/// `script.up` / `script.down` with LXC's arguments (`NAME net up|down veth
/// HOSTIF`) and environment (`LXC_NAME`, `LXC_NET_TYPE`, `LXC_NET_PARENT`,
/// `LXC_NET_PEER`, `LXC_HOOK_TYPE`, `LXC_HOOK_SECTION`); a failure names the
/// script and what it printed.
async fn script(
    ctx: NetContext<'_>,
    nic: &Nic,
    which: &str,
    host: &str,
    bridge: Option<&str>,
) -> Result<(), NetworkError> {
    let Some(path) = nic.get(&format!("script.{which}")) else {
        return Ok(());
    };
    let mut tool = rlxc_core::sys::Tool::new(path, [ctx.container, "net", which, NAME, host])
        .env("LXC_NAME", ctx.container)
        .env("LXC_NET_TYPE", NAME)
        .env("LXC_NET_PEER", host)
        .env("LXC_HOOK_TYPE", which)
        .env("LXC_HOOK_SECTION", "net");
    if let Some(b) = bridge {
        tool = tool.env("LXC_NET_PARENT", b);
    }
    rlxc_core::sys::run_checked(ctx.sys, &tool)
        .await
        .map(|_| ())
        .map_err(|e| sys_err(nic, &format!("script.{which} {path}"), e))
}

/// `auto` gateways: the bridge's first address of each family asked for.
fn auto_gateways(
    sys: &dyn Sys,
    nic: &Nic,
    ip: &IpSettings,
    bridge_index: u32,
    bridge: &str,
) -> Result<Vec<std::net::IpAddr>, NetworkError> {
    let mut out = Vec::new();
    for g in &ip.gateways {
        let Gateway::Auto { v6 } = *g else { continue };
        let family = if v6 { libc_af(true) } else { libc_af(false) };
        let found = sys
            .netlink(&netlink::get_addrs(family))
            .map_err(|e| sys_err(nic, &format!("listing the addresses of `{bridge}`"), e))?
            .iter()
            .filter_map(|b| netlink::parse_addr(b))
            .find(|(idx, a)| *idx == bridge_index && a.is_ipv6() == v6 && !is_link_local(a))
            .map(|(_, a)| a)
            .ok_or_else(|| {
                backend(
                    nic,
                    format!(
                        "{} = auto: bridge `{bridge}` has no {} address to be the gateway",
                        if v6 { "ipv6.gateway" } else { "ipv4.gateway" },
                        if v6 { "IPv6" } else { "IPv4" }
                    ),
                )
            })?;
        out.push(found);
    }
    Ok(out)
}

fn libc_af(v6: bool) -> u8 {
    if v6 {
        nix::sys::socket::AddressFamily::Inet6 as u8
    } else {
        nix::sys::socket::AddressFamily::Inet as u8
    }
}

fn is_link_local(a: &std::net::IpAddr) -> bool {
    match a {
        std::net::IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) == 0xfe80,
        std::net::IpAddr::V4(_) => false,
    }
}

/// A host end name: `vethXXXXXX` with six random letters and digits, as LXC makes.
pub fn random_pair_name(random: &mut dyn FnMut() -> u8) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let tail: String = (0..6)
        .map(|_| CHARS[usize::from(random()) % CHARS.len()] as char)
        .collect();
    format!("veth{tail}")
}

/// The bridge's index, or why there is none.
/// The bridge: its index, and whether it is an Open vSwitch bridge (whose
/// ports are ovsdb records, added with `ovs-vsctl`); or why there is none.
fn find_bridge(sys: &dyn Sys, nic: &Nic, bridge: &str) -> Result<Bridge, NetworkError> {
    let answers = sys
        .netlink(&netlink::get_link(bridge))
        .map_err(|e| match e.errno() {
            Some(nix::Error::ENODEV) => {
                let how = if bridge == "lxcbr0" {
                    "it is LXC's default bridge: make it with `rlxc net start`".to_string()
                } else {
                    format!("make it with `ip link add {bridge} type bridge`")
                };
                backend(
                    nic,
                    format!(
                        "bridge `{bridge}` (lxc.net.{}.link) does not exist: {how}",
                        nic.index
                    ),
                )
            }
            _ => sys_err(nic, &format!("looking up bridge `{bridge}`"), e),
        })?;
    let body = answers.first().map(Vec::as_slice).unwrap_or_default();
    Ok(Bridge {
        index: netlink::link_index(body).unwrap_or(0),
        ovs: netlink::link_kind(body).as_deref() == Some("openvswitch"),
    })
}

/// A bridge found by name.
#[derive(Debug, Clone, Copy)]
struct Bridge {
    index: u32,
    ovs: bool,
}

/// `ovs-vsctl` adding (with `veth.vlan.id` as the port's tag) or removing
/// the host end on an Open vSwitch bridge.
async fn ovs_port(
    ctx: NetContext<'_>,
    nic: &Nic,
    v: &VethNic,
    host: &str,
    add: bool,
) -> Result<(), NetworkError> {
    let Some(bridge) = &v.bridge else {
        return Ok(());
    };
    let mut args: Vec<String> = if add {
        vec![
            "--may-exist".into(),
            "add-port".into(),
            bridge.clone(),
            host.into(),
        ]
    } else {
        vec![
            "--if-exists".into(),
            "del-port".into(),
            bridge.clone(),
            host.into(),
        ]
    };
    if let (true, Some(id)) = (add, v.vlan) {
        args.push(format!("tag={id}"));
    }
    let tool = rlxc_core::sys::Tool::new("ovs-vsctl", args);
    rlxc_core::sys::run_checked(ctx.sys, &tool)
        .await
        .map(|_| ())
        .map_err(|e| sys_err(nic, &tool.command_line(), e))
}

/// The MAC and MTU of a container end `rlxc-user-nic` made (it sets only
/// the name), while it is still down.
fn bare_end(sys: &dyn Sys, nic: &Nic, ip: &IpSettings) -> Result<(), NetworkError> {
    let (hwaddr, mtu) = (ip.mac(), ip.mtu);
    if hwaddr.is_none() && mtu.is_none() {
        return Ok(());
    }
    let req = netlink::set_link(
        &ip.name,
        &netlink::LinkChange {
            hwaddr,
            mtu,
            ..Default::default()
        },
    );
    sys.netlink(&req).map_err(|e| sys_err(nic, &req.what, e))?;
    Ok(())
}

#[async_trait]
impl Network for Driver {
    fn name(&self) -> &'static str {
        NAME
    }

    fn validate(&self, nic: &Nic) -> Result<(), NetworkError> {
        VethNic::parse(nic).map(|_| ())
    }

    async fn setup_host(&self, ctx: NetContext<'_>, nic: &Nic) -> Result<NicState, NetworkError> {
        let v = VethNic::parse(nic)?;
        let found = match &v.bridge {
            Some(b) => Some(find_bridge(ctx.sys, nic, b)?),
            None => None,
        };
        // An Open vSwitch bridge takes its ports through ovsdb, not IFLA_MASTER.
        let ovs = found.is_some_and(|b| b.ovs);
        let master = found.filter(|b| !b.ovs).map(|b| b.index);
        let host = v
            .pair
            .clone()
            .unwrap_or_else(|| random_pair_name(&mut kernel_random()));
        let hwaddr = v.ip.mac();
        let netns = ctx.netns.map(|fd| std::os::fd::AsRawFd::as_raw_fd(&fd));
        let req = netlink::new_veth(&netlink::VethRequest {
            host: &host,
            peer: &v.ip.name,
            peer_netns: netns,
            peer_hwaddr: hwaddr,
            mtu: v.ip.mtu,
            master,
        });
        ctx.sys
            .netlink(&req)
            .map_err(|e| sys_err(nic, &req.what, e))?;
        let up = netlink::set_link(
            &host,
            &netlink::LinkChange {
                up: Some(true),
                ..Default::default()
            },
        );
        if let Err(e) = ctx.sys.netlink(&up) {
            // Not half made: the pair goes again.
            let _ = ctx.sys.netlink(&netlink::del_link(&host));
            return Err(sys_err(nic, &up.what, e));
        }
        let gateways = match (master, &v.bridge) {
            (Some(idx), Some(b)) => auto_gateways(ctx.sys, nic, &v.ip, idx, b)?,
            _ => Vec::new(),
        };
        // A failure here leaves the pair to the container's namespace,
        // which the failed start ends.
        if v.router {
            router_routes(ctx, nic, &v, &host)?;
        }
        if ovs {
            ovs_port(ctx, nic, &v, &host, true).await?;
        } else {
            port_vlans(ctx, nic, &v, &host)?;
        }
        l2proxy(ctx, nic, &v, true)?;
        script(ctx, nic, "up", &host, v.bridge.as_deref()).await?;
        Ok(NicState {
            index: nic.index,
            host_ifname: Some(host),
            transit_ifname: Some(v.ip.name),
            gateways,
            ..NicState::default()
        })
    }

    async fn setup_container(
        &self,
        ctx: NetContext<'_>,
        nic: &Nic,
        state: &NicState,
    ) -> Result<(), NetworkError> {
        let v = VethNic::parse(nic)?;
        if state.bare {
            bare_end(ctx.sys, nic, &v.ip)?;
        }
        configure(ctx.sys, nic, &v.ip, &state.gateways)
    }

    async fn teardown(
        &self,
        ctx: NetContext<'_>,
        nic: &Nic,
        state: &NicState,
    ) -> Vec<NetworkError> {
        let Some(host) = &state.host_ifname else {
            return Vec::new();
        };
        let mut errors = Vec::new();
        if let Err(e) = script(ctx, nic, "down", host, nic.link.as_deref()).await {
            errors.push(e);
        }
        // An Open vSwitch port is an ovsdb record: it outlives the pair.
        if let Ok(v) = VethNic::parse(nic) {
            let ovs = v
                .bridge
                .as_deref()
                .is_some_and(|b| find_bridge(ctx.sys, nic, b).is_ok_and(|f| f.ovs));
            if ovs {
                if let Err(e) = ovs_port(ctx, nic, &v, host, false).await {
                    errors.push(e);
                }
            }
        }
        // Proxy entries are on a host link: they outlive the namespace.
        if let Ok(v) = VethNic::parse(nic) {
            if let Err(e) = l2proxy(ctx, nic, &v, false) {
                errors.push(e);
            }
        }
        // While the monitor holds the container's namespace, the pair goes
        // when it lets go: the kernel deletes it with the namespace, in the
        // background, which spares the stop the 15–25 ms a delete waits for
        // an RCU grace period. Without the namespace, delete it here.
        if ctx.netns.is_some() {
            return errors;
        }
        match ctx.sys.netlink(&netlink::del_link(host)) {
            // Gone with the container's network namespace.
            Err(e) if e.errno() == Some(nix::Error::ENODEV) => {}
            Err(e) => errors.push(sys_err(nic, &format!("deleting {host}"), e)),
            Ok(_) => {}
        }
        errors
    }
}

#[cfg(test)]
mod tests;
