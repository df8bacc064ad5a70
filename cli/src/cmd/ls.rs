//! `rlxc ls` (lxc-ls): defined containers, their state and settings.

use anyhow::{bail, Context};
use regex::Regex;
use rlxc_core::config::load_file;
use rlxc_core::container::state::{query, State};
use rlxc_core::container::{list_defined, ContainerEntry, Paths};

use super::{print_json, Ctx};
use crate::args::ls::LsArgs;
use crate::args::Format;

/// Columns `--fancy` shows by default (LXC's).
const DEFAULT_COLUMNS: &[&str] = &[
    "NAME",
    "STATE",
    "AUTOSTART",
    "GROUPS",
    "IPV4",
    "IPV6",
    "UNPRIVILEGED",
];
const ALL_COLUMNS: &[&str] = &[
    "NAME",
    "STATE",
    "PID",
    "RAM",
    "SWAP",
    "AUTOSTART",
    "GROUPS",
    "INTERFACE",
    "IPV4",
    "IPV6",
    "UNPRIVILEGED",
];

/// One container's row.
#[derive(Debug, serde::Serialize)]
struct Row {
    name: String,
    state: State,
    pid: Option<i32>,
    autostart: bool,
    groups: Vec<String>,
    ipv4: Vec<String>,
    ipv6: Vec<String>,
    unprivileged: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    config_error: Option<String>,
}

/// Lists containers.
pub fn run(args: &LsArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(args.common.lxcpath.as_deref());
    let filter = match args.filter.as_ref().or(args.filter_opt.as_ref()) {
        Some(f) => {
            Some(Regex::new(f).with_context(|| format!("bad filter regular expression `{f}`"))?)
        }
        None => None,
    };
    let columns = columns(args)?;
    let mut entries = list_defined(&paths.lxcpath)
        .with_context(|| format!("cannot list {}", paths.lxcpath.display()))?;
    if let Some(re) = &filter {
        entries.retain(|e| re.is_match(&e.name));
    }
    let needs_config = args.fancy
        || args.fancy_format.is_some()
        || args.groups.is_some()
        || args.format == Format::Json;
    let needs_state = needs_config || args.active || args.running || args.frozen || args.stopped;
    let rows: Vec<Row> = entries
        .iter()
        .map(|e| row(e, &paths, needs_state, needs_config))
        .filter(|r| keep(r, args))
        .collect();
    match args.format {
        Format::Json => print_json(&rows),
        Format::Human if args.fancy || args.fancy_format.is_some() => {
            print_table(&rows, &columns);
            Ok(())
        }
        Format::Human => {
            print_names(&rows, args.line);
            Ok(())
        }
    }
}

fn columns(args: &LsArgs) -> anyhow::Result<Vec<String>> {
    let Some(spec) = &args.fancy_format else {
        return Ok(DEFAULT_COLUMNS.iter().map(|s| s.to_string()).collect());
    };
    let cols: Vec<String> = spec.split(',').map(|c| c.trim().to_uppercase()).collect();
    if let Some(bad) = cols.iter().find(|c| !ALL_COLUMNS.contains(&c.as_str())) {
        bail!("unknown column `{bad}` (known: {})", ALL_COLUMNS.join(","));
    }
    Ok(cols)
}

fn row(e: &ContainerEntry, paths: &Paths, state: bool, config: bool) -> Row {
    let reply = if state {
        paths.command_socket(&e.name).map(|s| query(&s)).ok()
    } else {
        None
    };
    let pid = reply.as_ref().and_then(|r| r.pid);
    let ips = pid
        .map(rlxc_core::run::netinfo::addresses)
        .unwrap_or_default();
    let (v4, v6): (Vec<std::net::IpAddr>, Vec<std::net::IpAddr>) =
        ips.into_iter().partition(|a| a.is_ipv4());
    let mut r = Row {
        name: e.name.clone(),
        state: reply.as_ref().map_or(State::Stopped, |r| r.state),
        pid,
        autostart: false,
        groups: Vec::new(),
        ipv4: v4.iter().map(|a| a.to_string()).collect(),
        ipv6: v6.iter().map(|a| a.to_string()).collect(),
        unprivileged: false,
        config_error: None,
    };
    if config {
        match load_file(&e.config) {
            Ok(c) => {
                r.autostart = c.get_bool("lxc.start.auto").unwrap_or(false);
                r.groups = c
                    .get_all("lxc.group")
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                r.unprivileged = c.is_unprivileged();
            }
            Err(err) => {
                tracing::warn!("container `{}`: {err}", e.name);
                r.config_error = Some(err.to_string());
            }
        }
    }
    r
}

fn keep(r: &Row, args: &LsArgs) -> bool {
    let s = r.state;
    let state_ok = match (args.running, args.frozen, args.stopped, args.active) {
        (false, false, false, false) => true,
        _ => {
            (args.running && s == State::Running)
                || (args.frozen && s == State::Frozen)
                || (args.stopped && s == State::Stopped)
                || (args.active && s != State::Stopped)
        }
    };
    let group_ok = match &args.groups {
        None => true,
        Some(g) => g.split(',').any(|g| r.groups.iter().any(|x| x == g)),
    };
    state_ok && group_ok
}

fn cell(r: &Row, col: &str) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    match col {
        "NAME" => r.name.clone(),
        "STATE" => r.state.as_str().to_string(),
        "PID" => r.pid.map_or("-".into(), |p| p.to_string()),
        "AUTOSTART" => if r.autostart { "1" } else { "0" }.into(),
        "GROUPS" => list(&r.groups),
        "IPV4" => list(&r.ipv4),
        "IPV6" => list(&r.ipv6),
        "UNPRIVILEGED" => if r.unprivileged { "true" } else { "false" }.into(),
        _ => "-".into(),
    }
}

fn print_table(rows: &[Row], cols: &[String]) {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| cols.iter().map(|c| cell(r, c)).collect())
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |vals: &[String]| {
        let parts: Vec<String> = vals
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        println!("{}", parts.join(" ").trim_end());
    };
    line(cols);
    for r in &cells {
        line(r);
    }
}

fn print_names(rows: &[Row], one_per_line: bool) {
    if rows.is_empty() {
        return;
    }
    if one_per_line {
        for r in rows {
            println!("{}", r.name);
        }
        return;
    }
    let width = terminal_width();
    let col = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(1)
        + 2;
    let per_line = (width / col).max(1);
    for chunk in rows.chunks(per_line) {
        let names: Vec<String> = chunk.iter().map(|r| format!("{:<col$}", r.name)).collect();
        println!("{}", names.concat().trim_end());
    }
}

fn terminal_width() -> usize {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes a winsize into the struct we own.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    if rc == 0 && ws.ws_col > 0 {
        usize::from(ws.ws_col)
    } else {
        80
    }
}
