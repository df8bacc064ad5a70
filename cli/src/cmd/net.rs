//! `rlxc net start|stop|status`: parse, one call of the veth crate's
//! default-network service, print.

use super::Ctx;
use crate::args::net::NetArgs;

/// Runs the action.
#[cfg(feature = "net-veth")]
pub fn run(a: &NetArgs, ctx: &Ctx) -> anyhow::Result<()> {
    use rlxc_core::sys::RealSys;
    use rlxc_net_veth::lxcnet::{Service, Settings, SETTINGS_FILES};

    use crate::args::net::NetAction;
    use crate::args::Format;

    // RLXC_LXC_NET_CONFIG names the settings file instead (tests).
    let files: Vec<std::path::PathBuf> = match std::env::var_os("RLXC_LXC_NET_CONFIG") {
        Some(f) => vec![f.into()],
        None => SETTINGS_FILES.iter().map(Into::into).collect(),
    };
    let refs: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    let svc = Service::new(Settings::read(&refs)?, &ctx.paths(None).rundir);
    let status = match a.action {
        NetAction::Start => rlxc_core::start::block_on(svc.start(&RealSys))??,
        NetAction::Stop { force } => {
            rlxc_core::start::block_on(svc.stop(&RealSys, force))??;
            svc.status()
        }
        NetAction::Status => svc.status(),
    };
    if a.format == Format::Json {
        return super::print_json(&status);
    }
    println!("{:<16}{}", "bridge:", status.bridge);
    println!("{:<16}{}", "state:", if status.up { "up" } else { "down" });
    println!("{:<16}{}", "address:", status.address);
    println!(
        "{:<16}{}",
        "dnsmasq:",
        status
            .dnsmasq
            .map_or("not running".into(), |p| format!("pid {p}"))
    );
    if !status.ports.is_empty() {
        println!("{:<16}{}", "ports:", status.ports.join(", "));
    }
    Ok(())
}

/// Without the veth crate there is no default network.
#[cfg(not(feature = "net-veth"))]
pub fn run(_a: &NetArgs, _ctx: &Ctx) -> anyhow::Result<()> {
    anyhow::bail!("the default network needs the veth backend, which is not compiled into this build (feature `net-veth`)")
}
