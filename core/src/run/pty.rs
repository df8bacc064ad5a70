//! Pseudo-terminals for `/dev/console` and `/dev/ttyN`: the monitor keeps the
//! master side, the container gets the slave bind-mounted over the device path.

use std::os::fd::{AsRawFd, OwnedFd};

/// One allocated pty.
#[derive(Debug)]
pub struct Pty {
    /// Master side (kept by the monitor).
    pub master: OwnedFd,
    /// Slave side (bind-mounted into the container, then closed by the monitor).
    pub slave: OwnedFd,
}

impl Pty {
    /// Allocates a pty from the host's `/dev/ptmx`, both ends close-on-exec.
    pub fn open() -> std::io::Result<Pty> {
        let r = nix::pty::openpty(None, None).map_err(std::io::Error::from)?;
        for fd in [&r.master, &r.slave] {
            nix::fcntl::fcntl(
                fd.as_raw_fd(),
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
            )
            .map_err(std::io::Error::from)?;
        }
        Ok(Pty {
            master: r.master,
            slave: r.slave,
        })
    }
}

/// The ptys of one container: the console (index 0) and ttys 1..=N.
#[derive(Debug, Default)]
pub struct Ptys {
    /// `/dev/console`, unless `lxc.console.path = none`.
    pub console: Option<Pty>,
    /// `/dev/tty1` … `/dev/ttyN`.
    pub ttys: Vec<Pty>,
}

impl Ptys {
    /// Allocates the console (if asked) and `ttys` ttys.
    pub fn open(console: bool, ttys: u32) -> std::io::Result<Ptys> {
        Ok(Ptys {
            console: if console { Some(Pty::open()?) } else { None },
            ttys: (0..ttys).map(|_| Pty::open()).collect::<Result<_, _>>()?,
        })
    }
}

/// Terminal raw mode for a console client; restores the old mode on drop.
#[derive(Debug)]
pub struct RawMode {
    fd: i32,
    old: libc::termios,
}

impl RawMode {
    /// Puts `fd` in raw mode; `None` when it is not a terminal.
    pub fn enter(fd: i32) -> Option<RawMode> {
        // SAFETY: termios calls with a valid pointer; fd may not be a tty,
        // which tcgetattr reports.
        unsafe {
            let mut old: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(fd, &mut old) != 0 {
                return None;
            }
            let mut raw = old;
            libc::cfmakeraw(&mut raw);
            libc::tcsetattr(fd, libc::TCSAFLUSH, &raw);
            Some(RawMode { fd, old })
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the saved termios on the same fd.
        unsafe { libc::tcsetattr(self.fd, libc::TCSAFLUSH, &self.old) };
    }
}
