//! `rlxc console -n NAME [-t N] [-e ESC]` (lxc-console): connects the
//! terminal to a container tty through its monitor; Ctrl+a q leaves.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;

use rlxc_core::run::pty::RawMode;

use super::control::existing;
use super::Ctx;
use crate::args::control::ConsoleArgs;

/// Runs until the escape sequence, the end of stdin, or the tty closing.
pub fn run(a: &ConsoleArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let c = existing(ctx, &a.common, &a.name)?;
    let (stream, tty) = c.console(a.tty)?;
    let escape = (a.escape.to_ascii_lowercase() as u8) & 0x1f;
    proxy(stream, tty, a.escape, escape)
}

/// What the escape state machine makes of one input byte.
fn filter(b: u8, escape: u8, pending: &mut bool, out: &mut Vec<u8>) -> bool {
    if *pending {
        *pending = false;
        match b {
            b'q' => return true,
            b if b == escape => out.push(escape),
            b => out.extend([escape, b]),
        }
    } else if b == escape {
        *pending = true;
    } else {
        out.push(b);
    }
    false
}

fn proxy(
    mut stream: std::os::unix::net::UnixStream,
    tty: u32,
    letter: char,
    escape: u8,
) -> anyhow::Result<()> {
    eprint!("\r\nConnected to tty {tty}\r\nType <Ctrl+{letter} q> to exit the console, <Ctrl+{letter} Ctrl+{letter}> to enter Ctrl+{letter} itself\r\n");
    let _raw = RawMode::enter(0);
    let mut pending = false;
    let mut buf = [0u8; 4096];
    loop {
        let mut fds = [
            libc::pollfd {
                fd: 0,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: stream.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll on two valid pollfd entries.
        if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e.into());
        }
        if fds[1].revents != 0 {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                eprint!("\r\nThe console of the container closed.\r\n");
                return Ok(());
            }
            let mut o = std::io::stdout().lock();
            o.write_all(&buf[..n])?;
            o.flush()?;
        }
        if fds[0].revents != 0 {
            let n = std::io::stdin().read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            let mut out = Vec::with_capacity(n);
            for &b in &buf[..n] {
                if filter(b, escape, &mut pending, &mut out) {
                    stream.write_all(&out)?;
                    return Ok(());
                }
            }
            stream.write_all(&out)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::filter;

    #[test]
    fn ctrl_a_q_leaves_and_ctrl_a_twice_sends_one() {
        let (mut p, mut out) = (false, Vec::new());
        assert!(!filter(b'x', 1, &mut p, &mut out));
        assert!(!filter(1, 1, &mut p, &mut out));
        assert!(!filter(1, 1, &mut p, &mut out));
        assert_eq!(out, vec![b'x', 1]);
        assert!(!filter(1, 1, &mut p, &mut out));
        assert!(filter(b'q', 1, &mut p, &mut out));
    }
}
