//! `rlxc net start|stop|status`: LXC's `lxc-net` job — the bridge with its
//! address (rtnetlink), forwarding on, the nftables rules, dnsmasq for DHCP
//! and DNS on the bridge only. A start that fails part-way is stopped again.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use rlxc_core::netlink;
use rlxc_core::sys::{run_checked, Sys, SysError, Tool};

use super::rules::{dnsmasq_args, iptables_args, iptables_rules, nft_ruleset, TABLES};
use super::settings::Settings;

/// Why `net start` or `net stop` failed; every message names the bridge.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A step through the boundary failed.
    #[error("{bridge}: {what}: {source}")]
    Sys {
        /// The bridge.
        bridge: String,
        /// What was being done.
        what: String,
        /// The error.
        source: SysError,
    },
    /// Refused.
    #[error("{bridge}: {why}")]
    Refused {
        /// The bridge.
        bridge: String,
        /// Why.
        why: String,
    },
}

/// What is up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// The bridge.
    pub bridge: String,
    /// `net start` completed (and no `net stop` since).
    pub up: bool,
    /// The bridge exists.
    pub bridge_exists: bool,
    /// Interfaces on the bridge (containers' host ends).
    pub ports: Vec<String>,
    /// dnsmasq's pid, when it runs.
    pub dnsmasq: Option<i32>,
    /// Its address.
    pub address: String,
}

/// The service's files: `<run dir>/lxc-net/`.
#[derive(Debug, Clone)]
pub struct Service {
    /// The settings.
    pub settings: Settings,
    /// Where the pid file, the leases and the `network_up` mark go.
    pub dir: PathBuf,
    /// `/sys/class/net` (tests may point elsewhere).
    pub sysfs: PathBuf,
}

fn broadcast(addr: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    (u32::from(addr) | u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0)).into()
}

/// The first of LXC's dnsmasq users that `/etc/passwd` has. (Read
/// directly: the release binary is static, and glibc's NSS lookups from a
/// static binary crash.)
fn dnsmasq_user() -> String {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let has = |u: &str| passwd.lines().any(|l| l.split(':').next() == Some(u));
    ["lxc-dnsmasq", "dnsmasq", "nobody"]
        .into_iter()
        .find(|u| has(u))
        .unwrap_or("nobody")
        .to_string()
}

impl Service {
    /// The service for `settings` with its files under `run_root/lxc-net`.
    pub fn new(settings: Settings, run_root: &Path) -> Service {
        Service {
            settings,
            dir: run_root.join("lxc-net"),
            sysfs: PathBuf::from("/sys/class/net"),
        }
    }

    fn err(&self, what: &str) -> impl FnOnce(SysError) -> NetError {
        let (bridge, what) = (self.settings.bridge.clone(), what.to_string());
        move |source| NetError::Sys {
            bridge,
            what,
            source,
        }
    }

    fn marker(&self) -> PathBuf {
        self.dir.join("network_up")
    }

    /// Sets it all up; already up is fine (LXC's start redoes it; this keeps it).
    pub async fn start(&self, sys: &dyn Sys) -> Result<Status, NetError> {
        if !self.settings.use_bridge {
            return Ok(self.status());
        }
        if self.marker().exists() && self.dnsmasq_pid().is_some() {
            return Ok(self.status());
        }
        std::fs::create_dir_all(&self.dir).map_err(|e| {
            self.err("making the run directory")(SysError::io("mkdir", &self.dir, &e))
        })?;
        if let Err(e) = self.bring_up(sys).await {
            let _ = self.stop(sys, true).await;
            return Err(e);
        }
        let _ = std::fs::write(self.marker(), "");
        Ok(self.status())
    }

    async fn bring_up(&self, sys: &dyn Sys) -> Result<(), NetError> {
        let s = &self.settings;
        self.bridge(sys)?;
        sys.write_file(Path::new("/proc/sys/net/ipv4/ip_forward"), b"1")
            .map_err(self.err("turning IPv4 forwarding on"))?;
        self.ipv6(sys)?;
        self.firewall(sys).await?;
        let args = dnsmasq_args(s, &dnsmasq_user(), &self.dir);
        run_checked(sys, &Tool::new("dnsmasq", args)).await.map_err(|e| {
            match &e {
                SysError::Failed { stderr, .. } if stderr.contains("in use") => NetError::Refused {
                    bridge: s.bridge.clone(),
                    why: format!(
                        "dnsmasq cannot listen on {}: port 53 or 67 is already taken there ({stderr})",
                        s.addr
                    ),
                },
                _ => self.err("starting dnsmasq")(e),
            }
        })?;
        Ok(())
    }

    /// nftables when `LXC_USE_NFT` and `nft` works (LXC's test), else
    /// iptables, as LXC chooses.
    async fn use_nft(&self, sys: &dyn Sys) -> bool {
        self.settings.use_nft
            && sys
                .run(&Tool::new("nft", ["list", "ruleset"]))
                .await
                .is_ok_and(|o| o.status == 0)
    }

    /// DHCP and DNS from the bridge, forwarding, NAT: LXC's rules.
    async fn firewall(&self, sys: &dyn Sys) -> Result<(), NetError> {
        if self.use_nft(sys).await {
            let mut nft = Tool::new("nft", ["-f", "-"]);
            nft.stdin = Some(nft_ruleset(&self.settings).into_bytes());
            return run_checked(sys, &nft)
                .await
                .map(|_| ())
                .map_err(self.err("loading the nftables rules"));
        }
        for (prog, table, chain, rule) in iptables_rules(&self.settings) {
            let op = if table == "filter" { "-I" } else { "-A" };
            run_checked(
                sys,
                &Tool::new(prog, iptables_args(table, op, chain, &rule)),
            )
            .await
            .map_err(self.err("adding the iptables rules (no nftables)"))?;
        }
        Ok(())
    }

    /// The bridge, its MAC, its address, up.
    fn bridge(&self, sys: &dyn Sys) -> Result<(), NetError> {
        let s = &self.settings;
        let exists = |e: &SysError| e.errno() == Some(nix::Error::EEXIST);
        match sys.netlink(&netlink::new_link(&s.bridge, "bridge")) {
            Err(e) if !exists(&e) => return Err(self.err("making the bridge")(e)),
            _ => {}
        }
        let index = sys
            .netlink(&netlink::get_link(&s.bridge))
            .map_err(self.err("looking the bridge up"))?
            .first()
            .and_then(|b| netlink::link_index(b))
            .unwrap_or(0);
        let addr = netlink::new_addr(
            index,
            IpAddr::V4(s.addr),
            s.prefix,
            Some(IpAddr::V4(broadcast(s.addr, s.prefix))),
        );
        match sys.netlink(&addr) {
            Err(e) if !exists(&e) => return Err(self.err(&addr.what)(e)),
            _ => {}
        }
        let up = netlink::set_link(
            &s.bridge,
            &netlink::LinkChange {
                up: Some(true),
                hwaddr: crate::mac_bytes(&s.bridge_mac, &mut || 0),
                ..Default::default()
            },
        );
        sys.netlink(&up)
            .map_err(self.err("bringing the bridge up"))?;
        Ok(())
    }

    /// IPv6 on the bridge when configured and the kernel has it.
    fn ipv6(&self, sys: &dyn Sys) -> Result<(), NetError> {
        let Some((addr, mask, _)) = &self.settings.ipv6 else {
            return Ok(());
        };
        if !Path::new("/proc/sys/net/ipv6").exists() {
            tracing::warn!(
                "{}: IPv6 is disabled in this kernel; {addr} is skipped",
                self.settings.bridge
            );
            return Ok(());
        }
        let b = &self.settings.bridge;
        for (file, v) in [
            ("/proc/sys/net/ipv6/conf/all/forwarding".to_string(), "1"),
            (format!("/proc/sys/net/ipv6/conf/{b}/autoconf"), "0"),
            (format!("/proc/sys/net/ipv6/conf/{b}/accept_dad"), "0"),
        ] {
            let _ = sys.write_file(Path::new(&file), v.as_bytes());
        }
        let ip: IpAddr = addr.parse().map_err(|_| NetError::Refused {
            bridge: b.clone(),
            why: format!("LXC_IPV6_ADDR `{addr}` is not an address"),
        })?;
        let index = sys
            .netlink(&netlink::get_link(b))
            .map_err(self.err("looking the bridge up"))?
            .first()
            .and_then(|m| netlink::link_index(m))
            .unwrap_or(0);
        match sys.netlink(&netlink::new_addr(index, ip, *mask, None)) {
            Err(e) if e.errno() != Some(nix::Error::EEXIST) => {
                Err(self.err("adding the IPv6 address")(e))
            }
            _ => Ok(()),
        }
    }

    /// Undoes it all. Refused while containers are on the bridge, unless `force`.
    pub async fn stop(&self, sys: &dyn Sys, force: bool) -> Result<(), NetError> {
        // A container that just stopped may still be leaving the bridge: the
        // kernel removes its pair with its namespace, in the background.
        let mut ports = self.ports();
        for _ in 0..100 {
            if ports.is_empty() || force {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            ports = self.ports();
        }
        if !ports.is_empty() && !force {
            return Err(NetError::Refused {
                bridge: self.settings.bridge.clone(),
                why: format!(
                    "not stopping: {} on the bridge still ({}); stop those containers first",
                    ports.len(),
                    ports.join(", ")
                ),
            });
        }
        if let Some(pid) = self.dnsmasq_pid() {
            let _ = sys.kill(pid, nix::sys::signal::Signal::SIGKILL as i32);
        }
        let _ = std::fs::remove_file(self.dir.join("dnsmasq.pid"));
        for (family, table) in TABLES {
            let _ = sys
                .run(&Tool::new("nft", ["delete", "table", family, table]))
                .await;
        }
        // Both kinds go: the rules may be from a start with other settings.
        for (prog, table, chain, rule) in iptables_rules(&self.settings) {
            let args = iptables_args(table, "-D", chain, &rule);
            let _ = sys.run(&Tool::new(prog, args)).await;
        }
        match sys.netlink(&netlink::del_link(&self.settings.bridge)) {
            Err(e) if e.errno() != Some(nix::Error::ENODEV) => {
                return Err(self.err("deleting the bridge")(e))
            }
            _ => {}
        }
        let _ = std::fs::remove_file(self.marker());
        Ok(())
    }

    /// The interfaces on the bridge.
    fn ports(&self) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(self.sysfs.join(&self.settings.bridge).join("brif"))
                .map(|rd| {
                    rd.flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
        v.sort();
        v
    }

    /// dnsmasq's pid from its pid file, when it is alive.
    fn dnsmasq_pid(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.dir.join("dnsmasq.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
    }

    /// What is up now.
    pub fn status(&self) -> Status {
        let s = &self.settings;
        Status {
            bridge: s.bridge.clone(),
            up: self.marker().exists(),
            bridge_exists: self.sysfs.join(&s.bridge).exists(),
            ports: self.ports(),
            dnsmasq: self.dnsmasq_pid(),
            address: format!("{}/{}", s.addr, s.prefix),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rlxc_core::sys::{FakeSys, SysCall};

    fn steps(sys: &FakeSys) -> Vec<String> {
        sys.calls()
            .iter()
            .map(|c| match c {
                SysCall::Netlink { what, .. } => what.clone(),
                SysCall::Run(t) => t.command_line(),
                SysCall::Write { path, data } => format!("{} = {data}", path.display()),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[tokio::test(flavor = "current_thread")]
    async fn start_in_lxcs_order_and_a_failure_stops_it_again() {
        let d = tempfile::tempdir().unwrap();
        let v4 = || Settings {
            ipv6: None,
            ..Settings::default()
        };
        let svc = Service::new(v4(), d.path());
        let sys = FakeSys::new();
        svc.start(&sys).await.unwrap();
        let s = steps(&sys);
        assert_eq!(
            s[..6],
            [
                "adding bridge lxcbr0",
                "looking up link lxcbr0",
                "adding address 10.0.3.1/24",
                "changing link lxcbr0",
                "/proc/sys/net/ipv4/ip_forward = 1",
                "nft list ruleset",
            ]
        );
        assert_eq!(s[6], "nft -f -");
        assert!(
            s[7].starts_with("dnsmasq --conf-file=/dev/null -u "),
            "{}",
            s[7]
        );
        assert!(svc.marker().exists());
        // dnsmasq refusing: everything is undone, and the error says why.
        let sys = FakeSys::new();
        sys.answer(
            "dnsmasq",
            rlxc_core::sys::ToolOutput::failed(
                2,
                "dnsmasq: failed to create listening socket for 10.0.3.1: Address already in use",
            ),
        );
        let svc = Service::new(v4(), &d.path().join("b"));
        let e = svc.start(&sys).await.unwrap_err().to_string();
        assert!(
            e.contains("port 53 or 67 is already taken") && e.starts_with("lxcbr0: "),
            "{e}"
        );
        let s = steps(&sys);
        assert!(s.contains(&"nft delete table ip lxc".to_string()), "{s:?}");
        assert_eq!(s.last().map(String::as_str), Some("deleting link lxcbr0"));
        assert!(!svc.marker().exists());
    }
}
