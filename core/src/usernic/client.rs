//! The asking side of `rlxc-user-nic`: a user's monitor cannot make links on
//! the host, so for each `veth` NIC of a user's container it runs the
//! set-user-id helper with the container's first process, and the helper
//! makes the pair, the host end on the bridge and the other end, under the
//! NIC's final name, in the container's network namespace. The container's
//! first process then sets its MAC, MTU, addresses and routes itself, as for
//! root's containers. Nothing is torn down at stop: the pair goes with the
//! namespace, and the helper's book frees the quota when it sees it gone.

use std::path::{Path, PathBuf};

use crate::config::Nic;
use crate::network::NicState;
use crate::sys::{run_checked, Sys, Tool};

/// Where the helper is installed (LXC's `/usr/lib/…/lxc/lxc-user-nic`).
pub const LIBEXEC: &str = "/usr/libexec/rlxc/rlxc-user-nic";

/// The keys of a `veth` NIC the helper cannot honour for a user: each needs
/// root on the host side. Returns the first one set, and why.
pub fn unsupported(nic: &Nic) -> Option<(&'static str, &'static str)> {
    let set = |k: &str| nic.get(k).is_some_and(|v| !v.is_empty());
    let checks: [(&'static str, bool, &'static str); 8] = [
        (
            "link",
            nic.link.as_deref().is_none_or(str::is_empty),
            "a user's veth joins a bridge /etc/lxc/lxc-usernet grants: give the bridge",
        ),
        (
            "veth.pair",
            set("veth.pair"),
            "the helper names the host end itself",
        ),
        (
            "veth.mode",
            nic.get("veth.mode") == Some("router"),
            "router mode puts routes on the host, which needs root",
        ),
        (
            "veth.vlan.id",
            set("veth.vlan.id") || set("veth.vlan.tagged.id"),
            "bridge VLANs are set on the host, which needs root",
        ),
        (
            "l2proxy",
            nic.get("l2proxy") == Some("1"),
            "proxy entries go on a host link, which needs root",
        ),
        (
            "script.up",
            set("script.up") || set("script.down"),
            "the scripts would run on the host as root",
        ),
        (
            "veth.ipv4.route",
            set("veth.ipv4.route") || set("veth.ipv6.route"),
            "host routes into it need root",
        ),
        (
            "ipv4.gateway",
            ["ipv4.gateway", "ipv6.gateway"]
                .iter()
                .any(|k| nic.get(k) == Some("auto")),
            "`auto` is looked up on the host's bridge: give the address",
        ),
    ];
    checks
        .into_iter()
        .find(|(_, bad, _)| *bad)
        .map(|(key, _, why)| (key, why))
}

/// The helper: the installed one, else the one beside this executable (a
/// build tree, or a copy installed set-user-id next to `rlxc`).
pub fn helper() -> Result<PathBuf, String> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("rlxc-user-nic")));
    [Some(PathBuf::from(LIBEXEC)), beside]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!("no rlxc-user-nic: install it set-user-id root as {LIBEXEC} (a user's veth NICs are made by it)")
        })
}

/// The host end's name from the helper's answer `NICNAME:HOSTNIC`, which
/// must be for the NIC asked for.
pub fn host_end(answer: &str, asked: &str) -> Result<String, String> {
    let line = answer.lines().last().unwrap_or("").trim();
    match line.split_once(':') {
        Some((nic, host)) if nic == asked && crate::usernic::is_ifname(host) => Ok(host.into()),
        _ => Err(format!(
            "rlxc-user-nic answered `{line}`, not `{asked}:HOSTNIC`"
        )),
    }
}

/// What the helper is asked, for the container `name` at `lxcpath` whose
/// first process is `pid`.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    /// The helper.
    pub helper: &'a Path,
    /// The container's lxcpath.
    pub lxcpath: &'a Path,
    /// The container.
    pub name: &'a str,
    /// Its first process.
    pub pid: i32,
}

/// The host half of a user's veth NIC, through the helper.
pub async fn veth(sys: &dyn Sys, ask: Ask<'_>, nic: &Nic, peer: &str) -> Result<NicState, String> {
    let bridge = nic.link.as_deref().unwrap_or_default();
    let tool = Tool::new(
        &ask.helper.to_string_lossy(),
        [
            "create".to_string(),
            ask.lxcpath.to_string_lossy().into_owned(),
            ask.name.to_string(),
            ask.pid.to_string(),
            "veth".into(),
            bridge.into(),
            peer.into(),
        ],
    );
    let out = run_checked(sys, &tool).await.map_err(|e| e.to_string())?;
    let host = host_end(&String::from_utf8_lossy(&out.stdout), peer)?;
    Ok(NicState {
        index: nic.index,
        host_ifname: Some(host),
        transit_ifname: Some(peer.into()),
        gateways: Vec::new(),
        bare: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nic(lines: &[(&str, &str)]) -> Nic {
        let mut n = Nic {
            index: 0,
            kind: Some("veth".into()),
            link: Some("lxcbr0".into()),
            ..Default::default()
        };
        for (k, v) in lines {
            n.keys
                .entry((*k).to_string())
                .or_default()
                .push((*v).to_string());
        }
        n
    }

    #[test]
    fn what_a_users_veth_may_not_have() {
        assert_eq!(
            unsupported(&nic(&[("flags", "up"), ("hwaddr", "00:16:3e:00:00:01")])),
            None
        );
        assert_eq!(
            unsupported(&nic(&[("veth.pair", "v0")])).map(|u| u.0),
            Some("veth.pair")
        );
        assert_eq!(
            unsupported(&nic(&[("veth.mode", "router")])).map(|u| u.0),
            Some("veth.mode")
        );
        assert_eq!(
            unsupported(&nic(&[("script.down", "/x")])).map(|u| u.0),
            Some("script.up")
        );
        assert_eq!(
            unsupported(&nic(&[("ipv4.gateway", "auto")])).map(|u| u.0),
            Some("ipv4.gateway")
        );
        assert_eq!(unsupported(&nic(&[("ipv4.gateway", "10.0.3.1")])), None);
        let mut bare = nic(&[]);
        bare.link = None;
        assert_eq!(unsupported(&bare).map(|u| u.0), Some("link"));
    }

    #[test]
    fn the_answer_must_be_for_the_nic_asked() {
        assert_eq!(host_end("eth0:vethUab12\n", "eth0").unwrap(), "vethUab12");
        assert!(host_end("eth1:vethUab12\n", "eth0").is_err());
        assert!(host_end("eth0:../x\n", "eth0").is_err());
        assert!(host_end("", "eth0").is_err());
    }
}
