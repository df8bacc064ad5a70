//! File descriptors over unix sockets (`SCM_RIGHTS`): the seccomp listener
//! of an attached process goes to its parent and on to the monitor, and the
//! monitor passes `/proc/PID` fds to a notification proxy.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

/// Sends `data` with `fds` as one message; all of `data` or an error.
pub fn send_fds(sock: BorrowedFd<'_>, data: &[u8], fds: &[BorrowedFd<'_>]) -> std::io::Result<()> {
    let raw: Vec<i32> = fds.iter().map(AsRawFd::as_raw_fd).collect();
    let cmsg = [ControlMessage::ScmRights(&raw)];
    let n = loop {
        match sendmsg::<()>(
            sock.as_raw_fd(),
            &[IoSlice::new(data)],
            &cmsg,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Err(nix::Error::EINTR) => continue,
            other => break other?,
        }
    };
    if n == data.len() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::WriteZero,
            format!("sent {n} of {} bytes", data.len()),
        ))
    }
}

/// Receives one message of up to `buf.len()` bytes and the one fd it
/// carries (close-on-exec). Extra fds a peer sends are closed.
pub fn recv_fd(sock: BorrowedFd<'_>, buf: &mut [u8]) -> std::io::Result<(usize, Option<OwnedFd>)> {
    let mut space = nix::cmsg_space!([i32; 4]);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = loop {
        match recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(nix::Error::EINTR) => continue,
            other => break other?,
        }
    };
    let mut first = None;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            for fd in fds {
                // SAFETY: the kernel installed these fds for us; each is owned once.
                let owned = unsafe { OwnedFd::from_raw_fd(fd) };
                if first.is_none() {
                    first = Some(owned);
                }
            }
        }
    }
    Ok((msg.bytes, first))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    #[test]
    fn an_fd_crosses_a_socketpair_with_its_data() {
        let (a, b) = UnixStream::pair().unwrap();
        let file = tempfile::tempfile().unwrap();
        send_fds(a.as_fd(), b"x", &[file.as_fd()]).unwrap();
        let mut buf = [0u8; 4];
        let (n, fd) = recv_fd(b.as_fd(), &mut buf).unwrap();
        assert_eq!((n, buf[0]), (1, b'x'));
        let got = fd.expect("an fd");
        let same = |f: BorrowedFd<'_>| nix::sys::stat::fstat(f.as_raw_fd()).unwrap().st_ino;
        assert_eq!(same(got.as_fd()), same(file.as_fd()));
        // No fd: data only.
        std::io::Write::write_all(&mut &a, b"y").unwrap();
        let (n, fd) = recv_fd(b.as_fd(), &mut buf).unwrap();
        assert_eq!((n, fd.is_none()), (1, true));
    }
}
