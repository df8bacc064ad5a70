//! lxc-ls's two layouts, byte for byte: the table of `-f` and the names
//! filling the terminal.

use std::fmt::Write as _;

use super::{Column, Row};

/// A cell's text. For RAM and SWAP the number only, a stopped container's
/// counting as 0.00 toward the width, as in LXC.
pub(super) fn value(r: &Row, c: Column) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    match c {
        Column::Name => r.name.clone(),
        Column::State => r.state.as_str().to_string(),
        Column::Pid => r.pid.map_or("-".into(), |p| p.to_string()),
        Column::Ram => format!("{:.2}", r.ram.unwrap_or(0.0)),
        Column::Swap => format!("{:.2}", r.swap.unwrap_or(0.0)),
        Column::Autostart => if r.autostart { "1" } else { "0" }.into(),
        Column::Groups => list(&r.groups),
        Column::Interface => list(&r.interfaces),
        Column::Ipv4 => list(&r.ipv4),
        Column::Ipv6 => list(&r.ipv6),
        Column::Unprivileged => if r.unprivileged { "true" } else { "false" }.into(),
    }
}

/// `%-*s`: C pads by bytes, where Rust's `{:<w$}` counts chars.
pub(super) fn pad(out: &mut String, text: &str, width: usize) {
    out.push_str(text);
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(text.len())));
}

/// LXC's table: every cell `%-*s ` (so every line ends in a space), the
/// width of a column its longest value or header; RAM and SWAP `%*.2fMB `
/// under a header two wider, or `-` and three spaces for a stopped row.
pub(super) fn render_table(rows: &[Row], cols: &[Column]) -> String {
    let widths: Vec<usize> = cols
        .iter()
        .map(|&c| {
            rows.iter()
                .map(|r| value(r, c).len())
                .chain([c.header().len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (&c, &w) in cols.iter().zip(&widths) {
        pad(&mut out, c.header(), if c.is_memory() { w + 2 } else { w });
        out.push(' ');
    }
    out.push('\n');
    for r in rows {
        for (&c, &w) in cols.iter().zip(&widths) {
            let mib = if c == Column::Ram { r.ram } else { r.swap };
            match mib.filter(|_| c.is_memory()) {
                Some(v) => {
                    let _ = write!(out, "{v:>w$.2}MB ");
                }
                None if c.is_memory() => {
                    pad(&mut out, "-", w);
                    out.push_str("   ");
                }
                None => {
                    pad(&mut out, &value(r, c), w);
                    out.push(' ');
                }
            }
        }
        out.push('\n');
    }
    out
}

/// LXC's `ls_print_names`: names padded to the longest (at least 4), a space
/// between, a new line when the next would reach `termwidth`. Not on a
/// terminal `termwidth` is 0: one padded name a line, no space after.
pub(super) fn render_names(names: &[&str], termwidth: usize) -> String {
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0).max(4);
    let mut out = String::new();
    let mut len = 0;
    for n in names {
        pad(&mut out, n, width);
        len += width;
        if len + width >= termwidth {
            out.push('\n');
            len = 0;
        } else {
            out.push(' ');
            len += 1;
        }
    }
    if len > 0 {
        out.push('\n');
    }
    out
}

/// The width of the first of stdout, stderr and stdin that is a terminal
/// (LXC's order), 0 when none is.
pub(super) fn terminal_width() -> usize {
    for fd in [libc::STDOUT_FILENO, libc::STDERR_FILENO, libc::STDIN_FILENO] {
        let mut ws = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes a winsize into the struct we own.
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0 {
            return usize::from(ws.ws_col);
        }
    }
    0
}
