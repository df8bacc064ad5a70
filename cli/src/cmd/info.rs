//! `info`, `cgroup`, `ps` and `list`: what a container is doing.

use std::path::Path;

use anyhow::{bail, Context};
use rlxc_core::config::cgroup::{translate, CgroupSetting, Version};
use rlxc_core::container::list_defined;
use rlxc_core::container::state::{query, State};
use rlxc_core::run::cgroups::ContainerCgroups;
use rlxc_core::run::protocol::{Reply, Request};
use rlxc_core::run::ClientError;

use super::control::client;
use super::{print_json, Ctx};
use crate::args::control::{CgroupArgs, InfoArgs, ListArgs, PsArgs};
use crate::args::Format;

/// Resource use read from the container's cgroups.
#[derive(Debug, Default, serde::Serialize)]
struct Stats {
    cpu_ns: Option<u64>,
    blkio_bytes: Option<u64>,
    memory_bytes: Option<u64>,
    kmem_bytes: Option<u64>,
}

fn stats(cg: &ContainerCgroups) -> Stats {
    let num = |f: &str| cg.read(f).and_then(|v| v.parse::<u64>().ok());
    let field = |f: &str, key: &str| -> Option<u64> {
        let text = cg.read(f)?;
        Some(
            text.split_whitespace()
                .filter_map(|w| w.strip_prefix(key).and_then(|v| v.parse::<u64>().ok()))
                .sum(),
        )
    };
    Stats {
        cpu_ns: num("cpuacct.usage")
            .or_else(|| field("cpu.stat", "usage_usec").map(|us| us * 1000)),
        blkio_bytes: cg
            .read("blkio.throttle.io_service_bytes")
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("Total ").and_then(|v| v.trim().parse().ok()))
            })
            .or_else(|| Some(field("io.stat", "rbytes=")? + field("io.stat", "wbytes=")?)),
        memory_bytes: num("memory.usage_in_bytes").or_else(|| num("memory.current")),
        kmem_bytes: num("memory.kmem.usage_in_bytes"),
    }
}

fn human(bytes: u64, raw: bool) -> String {
    if raw {
        return bytes.to_string();
    }
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.2} {}", units[i])
    }
}

/// The monitor's info, or STOPPED.
fn monitor_info(ctx: &Ctx, lxcpath: Option<&Path>, name: &str) -> anyhow::Result<Reply> {
    match client(ctx, lxcpath, name)?.request(&Request::Info) {
        Err(ClientError::NotRunning { .. }) => Ok(Reply {
            state: Some(State::Stopped),
            ..Reply::default()
        }),
        other => Ok(other?),
    }
}

/// `rlxc info`.
pub fn info(a: &InfoArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let r = monitor_info(ctx, a.common.lxcpath.as_deref(), &a.name)?;
    let state = r.state.unwrap_or(State::Stopped);
    let ips = r
        .pid
        .map(rlxc_core::run::netinfo::addresses)
        .unwrap_or_default();
    let st = r.cgroups.as_ref().map(stats).unwrap_or_default();
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let config_values: Vec<(String, String)> = if a.config.is_empty() {
        Vec::new()
    } else {
        let cfg = rlxc_core::config::load::load_file(&paths.config(&a.name)?)?;
        a.config
            .iter()
            .map(|k| (k.clone(), cfg.get_all(k).join("\n")))
            .collect()
    };
    if a.format == Format::Json {
        return print_json(&serde_json::json!({
            "name": a.name,
            "state": state,
            "pid": r.pid,
            "ips": ips,
            "stats": st,
            "config": config_values.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
        }));
    }
    for (k, v) in &config_values {
        println!("{k} = {v}");
    }
    let all = !(a.state || a.pid || a.ips || a.stats) && config_values.is_empty();
    if all {
        println!("{:<16}{}", "Name:", a.name);
    }
    if all || a.state {
        println!("{:<16}{}", "State:", state.as_str());
    }
    if let Some(pid) = r.pid.filter(|_| all || a.pid) {
        println!("{:<16}{pid}", "PID:");
    }
    if all || a.ips {
        for ip in &ips {
            println!("{:<16}{ip}", "IP:");
        }
    }
    if r.cgroups.is_some() && (all || a.stats) {
        if let Some(ns) = st.cpu_ns {
            if a.no_humanize {
                println!("{:<16}{ns}", "CPU use:");
            } else {
                println!("{:<16}{:.2} seconds", "CPU use:", ns as f64 / 1e9);
            }
        }
        for (label, v) in [
            ("BlkIO use:", st.blkio_bytes),
            ("Memory use:", st.memory_bytes),
            ("KMem use:", st.kmem_bytes),
        ] {
            if let Some(v) = v {
                println!("{label:<16}{}", human(v, a.no_humanize));
            }
        }
    }
    Ok(())
}

/// The running container's cgroups, or an error saying it is not running.
fn running_cgroups(
    ctx: &Ctx,
    lxcpath: Option<&Path>,
    name: &str,
) -> anyhow::Result<ContainerCgroups> {
    let r = client(ctx, lxcpath, name)?.request(&Request::Info)?;
    r.cgroups
        .with_context(|| format!("container `{name}`: its monitor reported no cgroups"))
}

/// `rlxc cgroup -n NAME KEY [VALUE]`, translating v1 and v2 names when the
/// host has the other kind.
pub fn cgroup(a: &CgroupArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let cg = running_cgroups(ctx, a.common.lxcpath.as_deref(), &a.name)?;
    let (file, value) = match cg.file_path(&a.key) {
        Some(p) => (p, a.value.clone()),
        None => {
            let (file, value) = translated(&a.key, a.value.as_deref()).with_context(|| {
                format!(
                    "container `{}`: no cgroup file `{}` on this host",
                    a.name, a.key
                )
            })?;
            tracing::warn!("`{}` is `{file}` on this host", a.key);
            let p = cg.file_path(&file).with_context(|| {
                format!(
                    "container `{}`: no cgroup file `{}` (nor `{file}`) on this host",
                    a.name, a.key
                )
            })?;
            (p, value)
        }
    };
    match value {
        Some(v) => std::fs::write(&file, &v).with_context(|| {
            format!(
                "container `{}`: writing `{v}` to {}",
                a.name,
                file.display()
            )
        }),
        None => {
            let v = std::fs::read_to_string(&file)
                .with_context(|| format!("container `{}`: reading {}", a.name, file.display()))?;
            print!("{v}");
            Ok(())
        }
    }
}

/// The other cgroup version's file (and value) for `key`.
fn translated(key: &str, value: Option<&str>) -> Option<(String, Option<String>)> {
    for (from, to) in [(Version::V1, Version::V2), (Version::V2, Version::V1)] {
        let r = translate(&[CgroupSetting::new(from, key, value.unwrap_or("1"))], to);
        if let Some(s) = r.settings.first().filter(|_| !r.translated.is_empty()) {
            return Some((s.file.clone(), value.map(|_| s.value.clone())));
        }
    }
    None
}

/// `rlxc ps -n NAME [-- PS ARGS]`: ps(1) over the container's processes.
pub fn ps(a: &PsArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let cg = running_cgroups(ctx, a.common.lxcpath.as_deref(), &a.name)?;
    let pids: Vec<String> = cg.procs().iter().map(i32::to_string).collect();
    if pids.is_empty() {
        bail!("container `{}` has no processes", a.name);
    }
    let st = std::process::Command::new("ps")
        .args(&a.ps_args)
        .arg("-p")
        .arg(pids.join(","))
        .status()
        .context("cannot run ps (procps)")?;
    if !st.success() {
        bail!("ps failed ({st})");
    }
    Ok(())
}

/// `rlxc list`: the 12.04 guide's lxc-list, running containers first.
pub fn list(a: &ListArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let entries = list_defined(&paths.lxcpath)?;
    let states: Vec<(String, State)> = entries
        .iter()
        .map(|e| {
            let st = paths
                .command_socket(&e.name)
                .map(|s| query(&s).state)
                .unwrap_or(State::Stopped);
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
