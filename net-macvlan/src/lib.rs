//! Links on a parent for rlxc, through rtnetlink: `macvlan`
//! (`macvlan.mode` private, vepa, bridge, passthru), `ipvlan` (`ipvlan.mode`
//! l2, l3, l3s; `ipvlan.isolation` bridge, private, vepa) and `vlan`
//! (`vlan.id`), each made on the parent in `lxc.net.N.link` directly inside
//! the container's network namespace, under its final name. The container
//! half sets the addresses, link state and gateways (core's
//! [`configure`](rlxc_core::network::ip::configure)); the link goes with the
//! container's netns, so teardown has nothing to remove. A kernel without
//! the link type says so by name. Privileges: root. Depends on `rlxc-core` only.

mod kind;

use async_trait::async_trait;
use rlxc_core::config::Nic;
use rlxc_core::netlink::{self, Attrs};
use rlxc_core::network::ip::{configure, invalid, link_index, refused, Gateway, IpSettings};
use rlxc_core::network::{NetContext, Network, NetworkError, NicState};
use rlxc_core::registry::Registry;

pub use kind::SubKind;

/// A backend for one of the three kinds.
#[derive(Debug, Clone, Copy)]
pub struct Driver(pub SubKind);

/// Registers `macvlan`, `ipvlan` and `vlan`.
pub fn register(r: &mut Registry) {
    for k in [SubKind::Macvlan, SubKind::Ipvlan, SubKind::Vlan] {
        r.add_network(std::sync::Arc::new(Driver(k)));
    }
}

/// The parent's name and the kind's attributes, checked.
fn parse(kind: SubKind, nic: &Nic) -> Result<(String, Attrs, IpSettings), NetworkError> {
    let parent = nic.link.clone().filter(|l| !l.is_empty()).ok_or_else(|| {
        invalid(
            nic,
            "link",
            format!("a {} NIC needs its parent interface", kind.name()),
        )
    })?;
    let ip = IpSettings::parse(nic)?;
    if ip
        .gateways
        .iter()
        .any(|g| matches!(g, Gateway::Auto { .. }))
    {
        return Err(invalid(
            nic,
            "ipv4.gateway",
            "`auto` takes a bridge's address: only a veth on a bridge has one",
        ));
    }
    Ok((parent, kind.data(nic)?, ip))
}

#[async_trait]
impl Network for Driver {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn validate(&self, nic: &Nic) -> Result<(), NetworkError> {
        parse(self.0, nic).map(|_| ())
    }

    async fn setup_host(&self, ctx: NetContext<'_>, nic: &Nic) -> Result<NicState, NetworkError> {
        let (parent, data, ip) = parse(self.0, nic)?;
        let backend = |reason: String| refused(nic, self.0.name(), reason);
        let index = link_index(ctx.sys, &parent).map_err(|e| match e.errno() {
            Some(nix::Error::ENODEV) => backend(format!(
                "parent `{parent}` (lxc.net.{}.link) does not exist",
                nic.index
            )),
            _ => backend(format!("looking up parent `{parent}`: {e}")),
        })?;
        let req = netlink::new_sublink(&netlink::SubLinkRequest {
            kind: self.0.name(),
            name: &ip.name,
            parent: index,
            netns: ctx.netns.map(|fd| std::os::fd::AsRawFd::as_raw_fd(&fd)),
            hwaddr: ip.mac(),
            mtu: ip.mtu,
            data,
        });
        ctx.sys.netlink(&req).map_err(|e| match e.errno() {
            Some(nix::Error::EOPNOTSUPP) => backend(format!(
                "this kernel has no `{}` link type ({})",
                self.0.name(),
                self.0.module_hint()
            )),
            _ => backend(format!("{}: {e}", req.what)),
        })?;
        Ok(NicState {
            index: nic.index,
            host_ifname: None,
            transit_ifname: Some(ip.name),
            gateways: Vec::new(),
            ..NicState::default()
        })
    }

    async fn setup_container(
        &self,
        ctx: NetContext<'_>,
        nic: &Nic,
        _state: &NicState,
    ) -> Result<(), NetworkError> {
        configure(ctx.sys, nic, &parse(self.0, nic)?.2, &[])
    }

    async fn teardown(&self, _: NetContext<'_>, _: &Nic, _: &NicState) -> Vec<NetworkError> {
        // The link lives in the container's network namespace and goes with it.
        Vec::new()
    }
}

#[cfg(test)]
mod tests;
