//! Non-blocking fds on the event loop: the pty masters and signalfd.

use std::os::fd::{AsRawFd, OwnedFd};

use tokio::io::unix::AsyncFd;

/// Registers an owned fd with the event loop.
pub(super) fn async_fd<T: AsRawFd>(inner: T) -> std::io::Result<AsyncFd<T>> {
    // SAFETY: every T used here (OwnedFd, SignalFd) owns its fd, which stays
    // open for as long as the AsyncFd holds it.
    unsafe { AsyncFd::register(inner).map_err(Into::into) }
}

pub(super) fn set_nonblocking(fd: &OwnedFd) {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    if let Ok(flags) = fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL) {
        let _ = fcntl(
            fd.as_raw_fd(),
            FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
        );
    }
}

/// Reads from a non-blocking fd when it is ready.
pub(super) async fn read_fd(fd: &AsyncFd<OwnedFd>, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        let mut g = fd.readable().await?;
        // SAFETY: read into a valid buffer from our fd.
        match g.try_io(|f| {
            cvt(unsafe { libc::read(f.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) })
        }) {
            Ok(r) => return r,
            Err(_) => continue,
        }
    }
}

/// Writes all of `buf` to a non-blocking fd.
pub(super) async fn write_fd(fd: &AsyncFd<OwnedFd>, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        let mut g = fd.writable().await?;
        // SAFETY: write from a valid buffer to our fd.
        match g
            .try_io(|f| cvt(unsafe { libc::write(f.as_raw_fd(), buf.as_ptr().cast(), buf.len()) }))
        {
            Ok(Ok(n)) => buf = &buf[n..],
            Ok(Err(e)) => return Err(e),
            Err(_) => continue,
        }
    }
    Ok(())
}

fn cvt(n: isize) -> std::io::Result<usize> {
    if n < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}
