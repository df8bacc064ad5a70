//! Physical NICs for rlxc (`lxc.net.N.type = phys`): the host interface in
//! `lxc.net.N.link` moved into the container's network namespace under its
//! `name` (default `ethN`), configured there (addresses, up, gateways), and
//! given back to the host under its original name at stop and on a failed
//! start — while the monitor still holds the container's namespace open, so
//! the interface is still there to be moved. Through rtnetlink. After a
//! SIGKILLed monitor the kernel hands a real NIC back by itself, under its
//! in-container name; the next start of the container renames it back
//! (from the record the monitor kept). Privileges: root. Depends on
//! `rlxc-core` only.

use std::os::fd::{AsFd, AsRawFd};

use async_trait::async_trait;
use rlxc_core::config::Nic;
use rlxc_core::netlink;
use rlxc_core::network::ip::{
    configure, invalid, link_index, refused, sys_err, Gateway, IpSettings,
};
use rlxc_core::network::{NetContext, Network, NetworkError, NicState};
use rlxc_core::registry::Registry;
use rlxc_core::sys::SysError;

/// The backend name.
pub const NAME: &str = "phys";

/// The phys backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct Driver;

/// Registers the `phys` network type.
pub fn register(r: &mut Registry) {
    r.add_network(std::sync::Arc::new(Driver));
}

fn host_name(nic: &Nic) -> Result<String, NetworkError> {
    nic.link.clone().filter(|l| !l.is_empty()).ok_or_else(|| {
        invalid(
            nic,
            "link",
            "a phys NIC needs the host interface to move in",
        )
    })
}

fn backend(nic: &Nic, reason: String) -> NetworkError {
    refused(nic, NAME, reason)
}

#[async_trait]
impl Network for Driver {
    fn name(&self) -> &'static str {
        NAME
    }

    fn validate(&self, nic: &Nic) -> Result<(), NetworkError> {
        host_name(nic)?;
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
        Ok(())
    }

    async fn setup_host(&self, ctx: NetContext<'_>, nic: &Nic) -> Result<NicState, NetworkError> {
        let host = host_name(nic)?;
        let ip = IpSettings::parse(nic)?;
        let netns = ctx.netns.ok_or_else(|| {
            backend(
                nic,
                "the container shares the host's network: nothing to move into".into(),
            )
        })?;
        let index = link_index(ctx.sys, &host).map_err(|e| match e.errno() {
            Some(nix::Error::ENODEV) => backend(
                nic,
                format!(
                    "host interface `{host}` (lxc.net.{}.link) does not exist",
                    nic.index
                ),
            ),
            _ => sys_err(nic, &format!("looking up `{host}`"), e),
        })?;
        let req = netlink::move_link(index, netns.as_raw_fd(), &ip.name);
        ctx.sys.netlink(&req).map_err(|e| {
            sys_err(
                nic,
                &format!("moving `{host}` into the container as `{}`", ip.name),
                e,
            )
        })?;
        Ok(NicState {
            index: nic.index,
            host_ifname: Some(host),
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
        configure(ctx.sys, nic, &IpSettings::parse(nic)?, &[])
    }

    async fn teardown(
        &self,
        ctx: NetContext<'_>,
        nic: &Nic,
        state: &NicState,
    ) -> Vec<NetworkError> {
        let (Some(host), Some(inside)) = (&state.host_ifname, &state.transit_ifname) else {
            return Vec::new();
        };
        let Some(netns) = ctx.netns else {
            // After a killed monitor the kernel handed a real NIC back under
            // its in-container name: give it its own again.
            return match rename_back(ctx, inside, host) {
                Ok(()) => Vec::new(),
                Err(e) => vec![sys_err(
                    nic,
                    &format!("renaming `{inside}` back to `{host}`"),
                    e,
                )],
            };
        };
        match give_back(ctx, netns, inside, host) {
            Ok(()) => Vec::new(),
            Err(e) => vec![sys_err(
                nic,
                &format!("giving `{inside}` back to the host as `{host}`"),
                e,
            )],
        }
    }
}

/// `inside`, back in this netns after its container's namespace ended, named `host` again.
fn rename_back(ctx: NetContext<'_>, inside: &str, host: &str) -> Result<(), SysError> {
    let index = match link_index(ctx.sys, inside) {
        Ok(i) => i,
        // Not here (a virtual NIC goes with the namespace): nothing to do.
        Err(e) if e.errno() == Some(nix::Error::ENODEV) => return Ok(()),
        Err(e) => return Err(e),
    };
    ctx.sys
        .netlink(&netlink::rename_link(index, host))
        .map(|_| ())
}

/// Moves `inside` (in the container's netns) back to this process's netns as `host`.
fn give_back(
    ctx: NetContext<'_>,
    netns: std::os::fd::BorrowedFd<'_>,
    inside: &str,
    host: &str,
) -> Result<(), SysError> {
    let here = std::fs::File::open("/proc/thread-self/ns/net")
        .map_err(|e| SysError::io("open", std::path::Path::new("/proc/thread-self/ns/net"), &e))?;
    let index = ctx
        .sys
        .netlink_in(netns, &netlink::get_link(inside))?
        .first()
        .and_then(|b| netlink::link_index(b))
        .unwrap_or(0);
    ctx.sys
        .netlink_in(
            netns,
            &netlink::move_link(index, here.as_fd().as_raw_fd(), host),
        )
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rlxc_core::config::load_text;
    use rlxc_core::sys::{FakeSys, SysCall};
    use std::path::Path;

    fn nic(text: &str) -> Nic {
        load_text(text.as_bytes(), Path::new("config"))
            .unwrap()
            .nics()
            .remove(0)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn moved_in_configured_and_given_back() {
        let sys = FakeSys::new();
        let ns = std::fs::File::open("/dev/null").unwrap();
        let ctx = || NetContext {
            sys: &sys,
            container: "c1",
            init_pid: 42,
            netns: Some(ns.as_fd()),
        };
        let n = nic(
            "lxc.net.0.type = phys\nlxc.net.0.link = dum0\nlxc.net.0.name = eth1\n\
                     lxc.net.0.flags = up\nlxc.net.0.ipv4.address = 192.0.2.9/24\n",
        );
        let st = Driver.setup_host(ctx(), &n).await.unwrap();
        assert_eq!(st.host_ifname.as_deref(), Some("dum0"));
        Driver.setup_container(ctx(), &n, &st).await.unwrap();
        assert!(Driver.teardown(ctx(), &n, &st).await.is_empty());
        let what: Vec<String> = sys
            .calls()
            .iter()
            .filter_map(|c| match c {
                SysCall::Netlink { what, .. } => Some(what.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            what,
            [
                "looking up link dum0",
                "moving link 42 as eth1",
                "looking up link eth1",
                "adding address 192.0.2.9/24",
                "changing link eth1",
                "in the container: looking up link eth1",
                "in the container: moving link 42 as dum0",
            ]
        );
        assert!(Driver.validate(&nic("lxc.net.0.type = phys\n")).is_err());
        // Without the namespace (after a killed monitor): renamed back here.
        let sys = FakeSys::new();
        let none = NetContext {
            sys: &sys,
            container: "c1",
            init_pid: 0,
            netns: None,
        };
        assert!(Driver.teardown(none, &n, &st).await.is_empty());
        let what: Vec<String> = sys
            .calls()
            .iter()
            .filter_map(|c| match c {
                SysCall::Netlink { what, .. } => Some(what.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(what, ["looking up link eth1", "renaming link 42 to dum0"]);
    }
}
