//! Seccomp user notifications, the monitor's side: a thread reads each
//! notification from init's filter listener and answers it. With
//! `lxc.seccomp.notify.proxy = unix:PATH` (or `unix:@NAME`, abstract) the
//! call goes to that proxy in LXC's format, so proxies written for LXC
//! (LXD's, Incus's) work unchanged:
//!
//! - one `SOCK_SEQPACKET` message: `seccomp_notify_proxy_msg` (reserved u64,
//!   monitor pid, init pid, the kernel's three struct sizes, cookie length),
//!   then `seccomp_notif`, then `seccomp_notif_resp`, then the cookie
//!   (`lxc.seccomp.notify.cookie`); with the fds of `/proc/PID`,
//!   `/proc/PID/mem` and the listener;
//! - the reply: the same three structs, the response filled in.
//!
//! Without a proxy (or when it fails) the answer is ENOSYS, as LXC gives.
//! The thread ends when the listener does (every filtered process gone).

use std::os::fd::{AsRawFd, OwnedFd};

/// `SECCOMP_IOCTL_NOTIF_RECV`, `_SEND` and `_ID_VALID`.
const NOTIF_RECV: libc::c_ulong = 0xc050_2100;
const NOTIF_SEND: libc::c_ulong = 0xc018_2101;
const NOTIF_ID_VALID: libc::c_ulong = 0x4008_2102;
/// The `_IOR` spelling kernels before 5.8 take.
const NOTIF_ID_VALID_OLD: libc::c_ulong = 0x8008_2102;
/// `SECCOMP_GET_NOTIF_SIZES`.
const GET_NOTIF_SIZES: libc::c_uint = 3;

/// `struct seccomp_notif_sizes`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
struct Sizes {
    notif: u16,
    resp: u16,
    data: u16,
}

/// `struct seccomp_notify_proxy_msg`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
struct ProxyMsg {
    reserved: u64,
    monitor_pid: i32,
    init_pid: i32,
    sizes: Sizes,
    /// The C struct's padding, named so that it is zero on the wire.
    pad: u16,
    cookie_len: u64,
}

/// Where notifications go.
#[derive(Debug, Clone, Default)]
pub struct Proxy {
    /// `unix:PATH` or `unix:@NAME`.
    pub address: Option<String>,
    /// `lxc.seccomp.notify.cookie`.
    pub cookie: Option<String>,
}

fn as_bytes<T>(v: &T) -> &[u8] {
    // SAFETY: plain-old-data structs, read as their bytes.
    unsafe { std::slice::from_raw_parts(std::ptr::from_ref(v).cast(), std::mem::size_of::<T>()) }
}

fn sizes() -> Sizes {
    let mut s = Sizes::default();
    // SAFETY: seccomp(GET_NOTIF_SIZES) fills the struct.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            GET_NOTIF_SIZES,
            0,
            std::ptr::from_mut(&mut s),
        )
    };
    if r != 0 {
        // The sizes of Linux 5.0's structs.
        s = Sizes {
            notif: 80,
            resp: 24,
            data: 64,
        };
    }
    s
}

/// Connects to `unix:PATH` / `unix:@NAME` as a seqpacket socket.
fn connect(address: &str) -> Result<OwnedFd, String> {
    let path = address
        .strip_prefix("unix:")
        .ok_or_else(|| format!("lxc.seccomp.notify.proxy = {address}: not unix:PATH"))?;
    // SAFETY: a new socket we own.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(format!("socket: {}", nix::Error::last().desc()));
    }
    // SAFETY: ours.
    let fd: OwnedFd = unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) };
    // SAFETY: a zeroed sockaddr_un filled below within its size.
    let mut sa: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    sa.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let bytes: Vec<u8> = match path.strip_prefix('@') {
        Some(name) => std::iter::once(0u8).chain(name.bytes()).collect(),
        None => path.bytes().collect(),
    };
    if bytes.len() >= sa.sun_path.len() {
        return Err(format!(
            "lxc.seccomp.notify.proxy = {address}: the path is too long"
        ));
    }
    for (d, b) in sa.sun_path.iter_mut().zip(&bytes) {
        *d = *b as libc::c_char;
    }
    let len = (std::mem::size_of::<libc::sa_family_t>() + bytes.len()) as libc::socklen_t;
    // SAFETY: connect with the address built above.
    if unsafe { libc::connect(fd.as_raw_fd(), std::ptr::from_ref(&sa).cast(), len) } != 0 {
        return Err(format!(
            "connecting to {address}: {}",
            nix::Error::last().desc()
        ));
    }
    let tv = libc::timeval {
        tv_sec: 30,
        tv_usec: 0,
    };
    for opt in [libc::SO_RCVTIMEO, libc::SO_SNDTIMEO] {
        // SAFETY: setsockopt with a timeval.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                std::ptr::from_ref(&tv).cast(),
                std::mem::size_of::<libc::timeval>() as u32,
            )
        };
    }
    Ok(fd)
}

/// Sends `data` with `fds` over `sock` (one seqpacket message).
fn send_with_fds(sock: &OwnedFd, data: &[u8], fds: &[i32]) -> bool {
    let mut iov = libc::iovec {
        iov_base: data.as_ptr() as *mut _,
        iov_len: data.len(),
    };
    // SAFETY: CMSG_SPACE for the fds.
    let space = unsafe { libc::CMSG_SPACE((fds.len() * 4) as u32) } as usize;
    let mut cbuf = vec![0u8; space];
    // SAFETY: a zeroed msghdr pointing at live buffers.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.as_mut_ptr().cast();
    msg.msg_controllen = space;
    // SAFETY: the first cmsg of our buffer, filled with SCM_RIGHTS.
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN((fds.len() * 4) as u32) as usize;
        std::ptr::copy_nonoverlapping(fds.as_ptr(), libc::CMSG_DATA(c).cast::<i32>(), fds.len());
    }
    // SAFETY: sendmsg on our socket.
    let n = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
    n == data.len() as isize
}

/// The thread answering one listener, and how to end it.
#[derive(Debug)]
pub struct Notifier {
    stop: OwnedFd,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Notifier {
    /// Starts answering `listener`'s notifications (init `init_pid`'s filter).
    pub fn start(listener: OwnedFd, proxy: Proxy, init_pid: i32) -> Result<Notifier, String> {
        // SAFETY: eventfd, a new fd of ours.
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if efd < 0 {
            return Err(format!("eventfd: {}", nix::Error::last().desc()));
        }
        // SAFETY: ours.
        let stop: OwnedFd = unsafe { std::os::fd::FromRawFd::from_raw_fd(efd) };
        let theirs = stop.try_clone().map_err(|e| e.to_string())?;
        let thread = std::thread::Builder::new()
            .name("seccomp-notify".into())
            .spawn(move || {
                // Signals are the monitor's main thread's (its signalfd): a
                // SIGTERM delivered here would kill the monitor.
                let all = nix::sys::signal::SigSet::all();
                let _ = nix::sys::signal::pthread_sigmask(
                    nix::sys::signal::SigmaskHow::SIG_BLOCK,
                    Some(&all),
                    None,
                );
                serve(&listener, &theirs, &proxy, init_pid);
            })
            .map_err(|e| format!("starting the seccomp notification thread: {e}"))?;
        Ok(Notifier {
            stop,
            thread: Some(thread),
        })
    }

    /// Ends the thread and closes the listener: a call still waiting, or made
    /// later by a leftover process, then fails with ENOSYS.
    pub fn stop(mut self) {
        self.signal_and_join();
    }

    fn signal_and_join(&mut self) {
        let one = 1u64.to_ne_bytes();
        // SAFETY: an 8-byte write to our eventfd.
        unsafe { libc::write(self.stop.as_raw_fd(), one.as_ptr().cast(), 8) };
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.signal_and_join();
    }
}

/// Why one forwarded call had no answer from the proxy.
enum Fail {
    /// This call only (its process gone): answer it ENOSYS, keep the socket.
    Call,
    /// The socket: reconnect.
    Socket,
}

/// Answers notifications from `listener` until it ends or `stop` is written.
fn serve(listener: &OwnedFd, stop: &OwnedFd, proxy: &Proxy, init_pid: i32) {
    let sz = sizes();
    let mut sock = proxy.address.as_deref().and_then(reconnect);
    let (nlen, rlen) = (usize::from(sz.notif).max(80), usize::from(sz.resp).max(24));
    loop {
        let mut pfd = [
            libc::pollfd {
                fd: listener.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: stop.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll on two live fds.
        if unsafe { libc::poll(pfd.as_mut_ptr(), 2, -1) } < 0 {
            if nix::Error::last() == nix::Error::EINTR {
                continue;
            }
            return;
        }
        if pfd[1].revents != 0 || (pfd[0].revents & libc::POLLIN == 0 && pfd[0].revents != 0) {
            return;
        }
        let mut req = vec![0u8; nlen];
        // SAFETY: NOTIF_RECV fills a buffer of the kernel's seccomp_notif size.
        if unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_RECV, req.as_mut_ptr()) } != 0 {
            match nix::Error::last() {
                // The caller died or was interrupted meanwhile.
                nix::Error::ENOENT | nix::Error::EINTR => continue,
                _ => return,
            }
        }
        let id = u64::from_ne_bytes(req[0..8].try_into().expect("8 bytes"));
        let pid = u32::from_ne_bytes(req[8..12].try_into().expect("4 bytes"));
        let mut resp = enosys(id, rlen);
        let mut tries = 0;
        while let (Some(s), Some(address)) = (&sock, proxy.address.as_deref()) {
            match forward(s, listener, proxy, sz, init_pid, pid, id, &req, &mut resp) {
                Ok(()) => break,
                Err(Fail::Call) => {
                    resp = enosys(id, rlen);
                    break;
                }
                Err(Fail::Socket) => {
                    resp = enosys(id, rlen);
                    tries += 1;
                    sock = if tries < 2 { reconnect(address) } else { None };
                }
            }
        }
        if sock.is_none() {
            // Tried again at the next call: a proxy may come back.
            sock = proxy.address.as_deref().and_then(reconnect);
        }
        // SAFETY: NOTIF_SEND with a seccomp_notif_resp of the kernel's size.
        if unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_SEND, resp.as_ptr()) } != 0
            && nix::Error::last() != nix::Error::ENOENT
        {
            // A reply the kernel refused (bad flags from the proxy) would
            // leave the caller waiting: answer it plainly instead.
            let plain = enosys(id, rlen);
            // SAFETY: as above.
            unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_SEND, plain.as_ptr()) };
        }
    }
}

/// A response refusing call `id` with ENOSYS.
fn enosys(id: u64, len: usize) -> Vec<u8> {
    let mut r = vec![0u8; len];
    r[0..8].copy_from_slice(&id.to_ne_bytes());
    r[16..20].copy_from_slice(&(-libc::ENOSYS).to_ne_bytes());
    r
}

fn reconnect(address: &str) -> Option<OwnedFd> {
    connect(address)
        .map_err(|e| tracing::warn!("seccomp notify: {e}: calls are answered with ENOSYS"))
        .ok()
}

/// Whether notification `id` is still pending (its process alive).
fn id_valid(listener: &OwnedFd, id: u64) -> bool {
    for op in [NOTIF_ID_VALID, NOTIF_ID_VALID_OLD] {
        // SAFETY: ID_VALID with a pointer to the id.
        if unsafe { libc::ioctl(listener.as_raw_fd(), op, &id) } == 0 {
            return true;
        }
        if nix::Error::last() != nix::Error::EINVAL {
            return false;
        }
    }
    false
}

/// One round trip to the proxy; the response lands in `resp`.
#[allow(clippy::too_many_arguments)]
fn forward(
    sock: &OwnedFd,
    listener: &OwnedFd,
    proxy: &Proxy,
    sz: Sizes,
    init_pid: i32,
    pid: u32,
    id: u64,
    req: &[u8],
    resp: &mut [u8],
) -> Result<(), Fail> {
    let (Ok(dir), Ok(mem)) = (
        std::fs::File::open(format!("/proc/{pid}")),
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(format!("/proc/{pid}/mem")),
    ) else {
        return Err(Fail::Call);
    };
    // The fds must still be of the process that made the call.
    if !id_valid(listener, id) {
        return Err(Fail::Call);
    }
    let cookie = proxy.cookie.clone().unwrap_or_default();
    let head = ProxyMsg {
        reserved: 0,
        monitor_pid: std::process::id() as i32,
        init_pid,
        sizes: sz,
        pad: 0,
        cookie_len: cookie.len() as u64,
    };
    let mut out = as_bytes(&head).to_vec();
    out.extend_from_slice(req);
    out.extend_from_slice(resp);
    out.extend_from_slice(cookie.as_bytes());
    if !send_with_fds(
        sock,
        &out,
        &[dir.as_raw_fd(), mem.as_raw_fd(), listener.as_raw_fd()],
    ) {
        return Err(Fail::Socket);
    }
    let base = std::mem::size_of::<ProxyMsg>() + req.len() + resp.len();
    let mut back = vec![0u8; base];
    let n = loop {
        // SAFETY: recv into our buffer.
        let n = unsafe { libc::recv(sock.as_raw_fd(), back.as_mut_ptr().cast(), back.len(), 0) };
        if n < 0 && nix::Error::last() == nix::Error::EINTR {
            continue;
        }
        break n;
    };
    if n != base as isize {
        return Err(Fail::Socket);
    }
    if back[0..8] != [0u8; 8] {
        return Err(Fail::Call);
    }
    let r = &back[std::mem::size_of::<ProxyMsg>() + req.len()..];
    resp.copy_from_slice(r);
    // A reply for another call is not taken.
    resp[0..8].copy_from_slice(&id.to_ne_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_message_head_is_lxcs_layout() {
        assert_eq!(std::mem::size_of::<ProxyMsg>(), 32);
        let s = sizes();
        assert!(s.notif >= 80 && s.resp >= 24, "{s:?}");
        assert!(connect("tcp:x").unwrap_err().contains("not unix:PATH"));
    }
}
