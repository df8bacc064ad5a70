//! `rlxc ls` (lxc-ls): defined containers, their state and settings.
//!
//! The human output is LXC 5.0's byte for byte, padding and trailing spaces
//! included, because scripts cut its columns by position. `--format json` is
//! rlxc's own.

use anyhow::Context;
use regex::Regex;
use rlxc_core::cgroups::Stats;
use rlxc_core::config::load_file;
use rlxc_core::container::state::{query, State};
use rlxc_core::container::{list_defined, Container, ContainerEntry, Paths};
use rlxc_core::run::netinfo;

mod render;

use render::{render_names, render_table, terminal_width};

use super::{print_json, Ctx};
use crate::args::ls::LsArgs;
use crate::args::Format;

/// A column of the fancy table (`-F` names, any case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    State,
    Pid,
    Ram,
    Swap,
    Autostart,
    Groups,
    Interface,
    Ipv4,
    Ipv6,
    Unprivileged,
}

/// Columns `--fancy` shows without `-F` (LXC's).
const DEFAULT_COLUMNS: &[Column] = &[
    Column::Name,
    Column::State,
    Column::Autostart,
    Column::Groups,
    Column::Ipv4,
    Column::Ipv6,
    Column::Unprivileged,
];

impl Column {
    const ALL: [Column; 11] = [
        Column::Name,
        Column::State,
        Column::Pid,
        Column::Ram,
        Column::Swap,
        Column::Autostart,
        Column::Groups,
        Column::Interface,
        Column::Ipv4,
        Column::Ipv6,
        Column::Unprivileged,
    ];

    /// The header, whose length is also LXC's minimum width of the column.
    fn header(self) -> &'static str {
        match self {
            Column::Name => "NAME",
            Column::State => "STATE",
            Column::Pid => "PID",
            Column::Ram => "RAM",
            Column::Swap => "SWAP",
            Column::Autostart => "AUTOSTART",
            Column::Groups => "GROUPS",
            Column::Interface => "INTERFACE",
            Column::Ipv4 => "IPV4",
            Column::Ipv6 => "IPV6",
            Column::Unprivileged => "UNPRIVILEGED",
        }
    }

    fn parse(key: &str) -> Option<Column> {
        Column::ALL
            .into_iter()
            .find(|c| c.header().eq_ignore_ascii_case(key))
    }

    /// RAM and SWAP: a number with a `MB` unit, or `-` when stopped.
    fn is_memory(self) -> bool {
        matches!(self, Column::Ram | Column::Swap)
    }
}

/// The columns of `-F SPEC`, or the key LXC rejects. As in LXC, empty items
/// are dropped before trimming, so `NAME,,STATE` is fine but `NAME, ,STATE`
/// has the invalid key ``.
fn parse_columns(spec: &str) -> Result<Vec<Column>, String> {
    spec.split(',')
        .filter(|item| !item.is_empty())
        .map(|item| Column::parse(item.trim()).ok_or_else(|| item.trim().to_string()))
        .collect()
}

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
    /// Sorted, deduplicated, `lo` included.
    #[serde(skip)]
    interfaces: Vec<String>,
    /// Memory and swap in MiB; `None` when stopped.
    #[serde(skip)]
    ram: Option<f64>,
    #[serde(skip)]
    swap: Option<f64>,
}

impl Row {
    /// A row with nothing read but the name and state.
    fn new(name: &str, state: State) -> Row {
        Row {
            name: name.to_string(),
            state,
            pid: None,
            autostart: false,
            groups: Vec::new(),
            ipv4: Vec::new(),
            ipv6: Vec::new(),
            unprivileged: false,
            config_error: None,
            interfaces: Vec::new(),
            ram: None,
            swap: None,
        }
    }
}

/// What the output and filters need read per container: for a large
/// lxcpath, loading configs and asking monitors is nearly all the cost.
#[derive(Debug, Default, Clone, Copy)]
struct Needs {
    state: bool,
    config: bool,
    net: bool,
    stats: bool,
}

impl Needs {
    fn of(args: &LsArgs, fancy: Option<&[Column]>) -> Needs {
        let json = args.format == Format::Json;
        let cols = fancy.unwrap_or_default();
        let has = |c: &[Column]| cols.iter().any(|x| c.contains(x));
        let state_filter = args.active || args.running || args.frozen || args.stopped;
        Needs {
            state: json || fancy.is_some() || state_filter,
            config: json || fancy.is_some() || args.groups.is_some(),
            net: json || has(&[Column::Interface, Column::Ipv4, Column::Ipv6]),
            stats: has(&[Column::Ram, Column::Swap]),
        }
    }
}

/// Lists containers.
pub fn run(args: &LsArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let paths = ctx.paths(args.common.lxcpath.as_deref());
    let fancy = args.format == Format::Human && args.fancy;
    // LXC reads `-F` only with `-f`, and rejects a bad key only once it has
    // a row to print.
    let columns = match &args.fancy_format {
        Some(spec) if fancy => parse_columns(spec),
        _ => Ok(DEFAULT_COLUMNS.to_vec()),
    };
    let mut entries = list_defined(&paths.lxcpath)
        .with_context(|| format!("cannot list {}", paths.lxcpath.display()))?;
    match name_filter(args) {
        Ok(Some(re)) => entries.retain(|e| re.is_match(&e.name)),
        Ok(None) => {}
        // LXC lists nothing, silently, for a regex it cannot compile.
        Err(e) => {
            tracing::debug!("name filter: {e}");
            entries.clear();
        }
    }
    let shown = match (&columns, fancy) {
        (Ok(c), true) => Some(c.as_slice()),
        (Err(_), true) => Some(&[][..]),
        _ => None,
    };
    let needs = Needs::of(args, shown);
    let rows: Vec<Row> = entries
        .iter()
        .map(|e| row(e, &paths, needs))
        .filter(|r| keep(r, args))
        .collect();
    if args.format == Format::Json {
        return print_json(&rows);
    }
    print!("{}", render(args, &rows, columns));
    Ok(())
}

/// The human output: the fancy table, one name a line, or names in columns.
fn render(args: &LsArgs, rows: &[Row], columns: Result<Vec<Column>, String>) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let names = || rows.iter().map(|r| r.name.as_str());
    match columns {
        Ok(cols) if args.fancy => render_table(rows, &cols),
        Err(bad) => {
            // LXC's words, and its exit status 0.
            eprintln!("Invalid key: {bad}");
            String::new()
        }
        Ok(_) if args.line => names().map(|n| format!("{n}\n")).collect(),
        Ok(_) => render_names(&names().collect::<Vec<_>>(), terminal_width()),
    }
}

/// The name filter: `--filter` wins over the positional one, as in LXC.
fn name_filter(args: &LsArgs) -> Result<Option<Regex>, regex::Error> {
    args.filter_opt
        .as_ref()
        .or(args.filter.as_ref())
        .map(|f| Regex::new(f))
        .transpose()
}

fn row(e: &ContainerEntry, paths: &Paths, needs: Needs) -> Row {
    let reply = if needs.state {
        paths.command_socket(&e.name).map(|s| query(&s)).ok()
    } else {
        None
    };
    let state = reply.as_ref().map_or(State::Stopped, |r| r.state);
    let mut r = Row::new(&e.name, state);
    r.pid = reply.and_then(|r| r.pid).filter(|p| *p > 0);
    if needs.config {
        add_config(&mut r, e);
    }
    if let Some(pid) = r.pid.filter(|_| needs.net) {
        add_network(&mut r, pid);
    }
    if needs.stats && state != State::Stopped {
        let stats = Container::named(paths, &e.name)
            .and_then(|c| c.cgroups())
            .map(|cg| Stats::read(&cg))
            .unwrap_or_else(|err| {
                tracing::debug!("container `{}`: no resource use: {err}", e.name);
                Stats::default()
            });
        // LXC shows 0.00MB for a running container whose cgroup lacks the file.
        let mib = |b: Option<u64>| Some(b.unwrap_or(0) as f64 / 1024.0 / 1024.0);
        r.ram = mib(stats.memory_bytes);
        r.swap = mib(stats.swap_bytes);
    }
    r
}

fn add_config(r: &mut Row, e: &ContainerEntry) {
    match load_file(&e.config) {
        Ok(c) => {
            r.autostart = c.get_bool("lxc.start.auto").unwrap_or(false);
            // LXC splits each `lxc.group` value on blanks: `a b` is two groups.
            r.groups = c
                .get_all("lxc.group")
                .iter()
                .flat_map(|v| v.split([' ', '\t']))
                .filter(|g| !g.is_empty())
                .map(str::to_string)
                .collect();
            r.unprivileged = c.is_unprivileged();
        }
        Err(err) => {
            tracing::warn!("container `{}`: {err}", e.name);
            r.config_error = Some(err.to_string());
        }
    }
}

/// Interfaces and addresses as `lxc-ls` lists them: sorted with strcmp (so
/// `10.0.0.10` before `10.0.0.9`), an address on two interfaces twice.
fn add_network(r: &mut Row, pid: i32) {
    r.interfaces = netinfo::interfaces(pid);
    r.interfaces.sort();
    r.interfaces.dedup();
    for a in netinfo::addresses_per_interface(pid) {
        let list = if a.is_ipv4() {
            &mut r.ipv4
        } else {
            &mut r.ipv6
        };
        list.push(a.to_string());
    }
    r.ipv4.sort();
    r.ipv6.sort();
}

/// The filters, ANDed: `--running --stopped` lists nothing.
fn keep(r: &Row, args: &LsArgs) -> bool {
    let s = r.state;
    let state_ok = (!args.running || s != State::Stopped)
        && (!args.frozen || s == State::Frozen)
        && (!args.stopped || s == State::Stopped)
        && (!args.active || s != State::Stopped);
    state_ok
        && args
            .groups
            .as_ref()
            .is_none_or(|g| in_all_groups(&r.groups, g))
}

/// `-g a,b`: in every listed group. A container in no group is never listed,
/// not even for `-g ''` (LXC skips it before comparing).
fn in_all_groups(has: &[String], wanted: &str) -> bool {
    !has.is_empty()
        && wanted
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .all(|g| has.iter().any(|h| h == g))
}

#[cfg(test)]
mod tests {
    use super::render::*;
    use super::*;

    fn row(name: &str, state: State) -> Row {
        Row::new(name, state)
    }

    #[test]
    fn names_not_on_a_terminal_one_padded_a_line() {
        assert_eq!(render_names(&["c1", "c2"], 0), "c1  \nc2  \n");
        assert_eq!(
            render_names(&["longername", "b"], 0),
            "longername\nb         \n"
        );
    }

    #[test]
    fn names_fill_the_terminal_width() {
        let names = ["b", "c1", "c10", "c2", "longername"];
        // Measured on lxc-ls 5.0.2 with `stty cols 21` and `33`.
        assert_eq!(
            render_names(&names, 21),
            "b          c1        \nc10        c2        \nlongername \n"
        );
        assert_eq!(
            render_names(&names, 33),
            "b          c1         c10       \nc2         longername \n"
        );
        assert_eq!(render_names(&[], 80), "");
    }

    #[test]
    fn default_table_ends_every_line_with_a_space() {
        let rows = [row("c1", State::Running), row("c2", State::Stopped)];
        assert_eq!(
            render_table(&rows, DEFAULT_COLUMNS),
            "NAME STATE   AUTOSTART GROUPS IPV4 IPV6 UNPRIVILEGED \n\
             c1   RUNNING 0         -      -    -    false        \n\
             c2   STOPPED 0         -      -    -    false        \n"
        );
    }

    #[test]
    fn pid_and_lists() {
        let mut a = row("c1", State::Running);
        a.pid = Some(4784);
        a.groups = vec!["a".into(), "b".into(), "c".into()];
        let rows = [a, row("c2", State::Stopped)];
        let cols = parse_columns("NAME,STATE,PID,GROUPS").unwrap();
        assert_eq!(
            render_table(&rows, &cols),
            "NAME STATE   PID  GROUPS  \n\
             c1   RUNNING 4784 a, b, c \n\
             c2   STOPPED -    -       \n"
        );
    }

    #[test]
    fn memory_columns() {
        let mut a = row("c1", State::Running);
        a.ram = Some(1234.5);
        a.swap = Some(0.0);
        let rows = [a, row("c2", State::Stopped)];
        let cols = parse_columns("name,ram,swap").unwrap();
        assert_eq!(
            render_table(&rows, &cols),
            "NAME RAM       SWAP   \n\
             c1   1234.50MB 0.00MB \n\
             c2   -         -      \n"
        );
        // Stopped rows only: 0.00 sets the width.
        let t = render_table(&[row("c2", State::Stopped)], &[Column::Ram]);
        assert_eq!(t, "RAM    \n-      \n");
    }

    #[test]
    fn column_specs() {
        assert_eq!(
            parse_columns("PID,name,,NAME"),
            Ok(vec![Column::Pid, Column::Name, Column::Name])
        );
        assert_eq!(parse_columns(""), Ok(vec![]));
        assert_eq!(
            parse_columns("NAME, STATE"),
            Ok(vec![Column::Name, Column::State])
        );
        assert_eq!(parse_columns("NAME,BOGUS"), Err("BOGUS".into()));
        assert_eq!(parse_columns("NAME, ,STATE"), Err(String::new()));
        let empty = render_table(&[row("c1", State::Stopped)], &[]);
        assert_eq!(empty, "\n\n");
    }

    #[test]
    fn groups_must_all_match() {
        let has: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert!(in_all_groups(&has, "a,b"));
        assert!(in_all_groups(&has, " a , c "));
        assert!(in_all_groups(&has, "a,,c"));
        assert!(!in_all_groups(&has, "a,x"));
        assert!(in_all_groups(&has, ""));
        assert!(!in_all_groups(&[], ""));
    }
}
