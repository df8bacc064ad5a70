//! `info`, `cgroup`, `ps` and `list`: what a container is doing, printed the
//! way LXC prints it (scripts parse `lxc-info` output).

use anyhow::bail;
use rlxc_core::cgroups::Stats;
use rlxc_core::container::state::State;
use rlxc_core::container::{list_defined, Container, Info};

use super::{print_json, Ctx};
use crate::args::control::{CgroupArgs, InfoArgs, ListArgs, NetstatArgs, PsArgs};
use crate::args::Format;

/// LXC's `size_humanize`: integer arithmetic, a unit only above each power
/// (so 1024 stays `1024 bytes`), GiB at most.
pub fn humanize(val: u64) -> String {
    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    if val > GIB {
        format!("{}.{:02} GiB", val >> 30, (val & (GIB - 1)) / 10_737_419)
    } else if val > MIB {
        let x = (val + 5243) as u32 as u64;
        format!("{}.{:02} MiB", x >> 20, ((x & (MIB - 1)) * 100) >> 20)
    } else if val > KIB {
        let x = val + 5;
        format!("{}.{:02} KiB", x >> 10, ((x & (KIB - 1)) * 100) >> 10)
    } else {
        format!("{val} bytes")
    }
}

/// One labelled line, as LXC's `%-15s %s`.
fn labelled(label: &str, value: impl std::fmt::Display) {
    println!("{label:<15} {value}");
}

/// Whether state, pid and ip lines print bare: LXC's rule is `-H` with
/// exactly one of `-s`, `-p`, `-i` (and no `-S`).
fn bare_fields(a: &InfoArgs) -> bool {
    let count = [a.state, a.pid, a.ips].iter().filter(|f| **f).count() + 5 * a.stats as usize;
    a.no_humanize && count == 1
}

fn print_stats(st: &Stats, raw: bool) {
    if let Some(ns) = st.cpu_ns {
        if raw {
            labelled("CPU use:", ns);
        } else {
            labelled("CPU use:", format!("{:.2} seconds", ns as f64 / 1e9));
        }
    }
    for (label, v) in [
        ("BlkIO use:", st.blkio_bytes),
        ("Memory use:", st.memory_bytes),
        ("KMem use:", st.kmem_bytes),
    ] {
        if let Some(v) = v {
            labelled(label, if raw { v.to_string() } else { humanize(v) });
        }
    }
}

/// LXC's per-NIC lines: the host side's counters, seen from the container
/// (what the host end received, the container sent).
fn print_links(links: &[rlxc_core::run::netinfo::LinkStat], raw: bool) {
    let n = |v: u64| if raw { v.to_string() } else { humanize(v) };
    for l in links {
        labelled("Link:", &l.name);
        labelled(" TX bytes:", n(l.rx_bytes));
        labelled(" RX bytes:", n(l.tx_bytes));
        labelled(" Total bytes:", n(l.rx_bytes + l.tx_bytes));
    }
}

fn print_info(a: &InfoArgs, info: &Info) {
    let all = !(a.state || a.pid || a.ips || a.stats) && a.config.is_empty();
    let bare = bare_fields(a);
    let field = |label: &str, v: &dyn std::fmt::Display| {
        if bare {
            println!("{v}");
        } else {
            labelled(label, v);
        }
    };
    if all {
        labelled("Name:", &info.name);
    }
    if all || a.state {
        field("State:", &info.state.as_str());
    }
    if let Some(pid) = info.pid.filter(|_| all || a.pid) {
        field("PID:", &pid);
    }
    if all || a.ips {
        for ip in &info.ips {
            field("IP:", ip);
        }
    }
    if let Some(st) = info.stats.as_ref().filter(|_| all || a.stats) {
        print_stats(st, a.no_humanize);
        print_links(&info.links, a.no_humanize);
    }
}

/// `-c KEY…`, after everything else: `KEY = VALUE`, or the bare value with
/// `-H` and a single key; an unknown key is reported and skipped.
fn print_config(a: &InfoArgs, c: &Container) {
    let bare = a.no_humanize && a.config.len() == 1;
    for key in &a.config {
        let Some(values) = c.config_value(key) else {
            eprintln!("{key} invalid");
            continue;
        };
        let v = values.join("\n");
        match (bare, v.is_empty()) {
            (true, _) => println!("{v}"),
            (false, true) => println!("{key} ="),
            (false, false) => println!("{key} = {v}"),
        }
    }
}

/// `rlxc info`.
pub fn info(a: &InfoArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    // The config is read only for -c (from --rcfile when given, as LXC does).
    let c = if a.config.is_empty() {
        Container::named(&paths, &a.name)?
    } else {
        Container::load(&paths, &a.name, a.common.rcfile.as_deref(), &[], true)?
    };
    if !c.exists() {
        bail!(
            "container `{}` does not exist in {}",
            a.name,
            paths.lxcpath.display()
        );
    }
    let info = c.info()?;
    if a.format == Format::Json {
        let config: std::collections::BTreeMap<&String, Option<Vec<String>>> =
            a.config.iter().map(|k| (k, c.config_value(k))).collect();
        return print_json(&serde_json::json!({
            "name": info.name,
            "state": info.state,
            "pid": info.pid,
            "ips": info.ips,
            "stats": info.stats,
            "links": info.links,
            "config": config,
        }));
    }
    print_info(a, &info);
    print_config(a, &c);
    Ok(())
}

/// `rlxc cgroup -n NAME KEY [VALUE]`; a v1 name works on a v2 controller and
/// the reverse.
pub fn cgroup(a: &CgroupArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let c = super::control::existing(ctx, &a.common, &a.name)?;
    match &a.value {
        Some(v) => {
            if let Some(note) = c.cgroup_set(&a.key, v)? {
                tracing::warn!("container `{}`: {note}", a.name);
            }
        }
        None => print!("{}", c.cgroup_get(&a.key)?),
    }
    Ok(())
}

/// `rlxc ps -n NAME [-- PS ARGS]`: ps(1) over the container's processes.
pub fn ps(a: &PsArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let c = super::control::existing(ctx, &a.common, &a.name)?;
    let pids: Vec<String> = c.pids()?.iter().map(i32::to_string).collect();
    if pids.is_empty() {
        bail!("container `{}` has no processes", a.name);
    }
    let st = std::process::Command::new("ps")
        .args(&a.ps_args)
        .arg("-p")
        .arg(pids.join(","))
        .status()
        .map_err(|e| anyhow::anyhow!("cannot run ps (procps): {e}"))?;
    if !st.success() {
        bail!("ps failed ({st})");
    }
    Ok(())
}

/// `rlxc netstat -n NAME [-- ARGS]`: the host's netstat (or ss) in the
/// container's network namespace; its exit status passed through.
pub fn netstat(a: &NetstatArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let c = super::control::existing(ctx, &a.common, &a.name)?;
    super::exit_status(c.netstat(&a.args)?)
}

/// `rlxc list`: the 12.04 guide's lxc-list, running containers first.
pub fn list(a: &ListArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let states: Vec<(String, State)> = list_defined(&paths.lxcpath)?
        .iter()
        .map(|e| {
            let st = Container::named(&paths, &e.name).map_or(State::Stopped, |c| c.state());
            (e.name.clone(), st)
        })
        .collect();
    for (title, want) in [
        ("RUNNING", State::Running),
        ("FROZEN", State::Frozen),
        ("STOPPED", State::Stopped),
    ] {
        println!("{title}");
        for (n, st) in &states {
            let shown = match want {
                State::Running => !matches!(st, State::Frozen | State::Stopped),
                s => *st == s,
            };
            if shown {
                println!("  {n}");
            }
        }
        println!();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanizes_as_lxc() {
        assert_eq!(humanize(1024), "1024 bytes");
        assert_eq!(humanize(921_600), "900.00 KiB");
        assert_eq!(humanize(368_640), "360.00 KiB");
        assert_eq!(humanize(3 << 20), "3.00 MiB");
        assert_eq!(humanize(5 << 30), "5.00 GiB");
    }
}
