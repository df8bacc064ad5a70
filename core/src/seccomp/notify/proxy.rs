//! LXC's notification proxy protocol. With `lxc.seccomp.notify.proxy =
//! unix:PATH` (or `unix:@NAME`, abstract) each call goes to that proxy in
//! LXC's format, so proxies written for LXC (LXD's, Incus's) work unchanged:
//!
//! - one `SOCK_SEQPACKET` message: `seccomp_notify_proxy_msg` (reserved u64,
//!   monitor pid, init pid, the kernel's three struct sizes, cookie length),
//!   then `seccomp_notif`, then `seccomp_notif_resp`, then the cookie
//!   (`lxc.seccomp.notify.cookie`); with the fds of `/proc/PID`,
//!   `/proc/PID/mem` and the listener the call came on;
//! - the reply: the same three structs, the response filled in.
//!
//! Without a proxy (or when it fails) the answer is ENOSYS, as LXC gives.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use crate::run::fd_passing::send_fds;

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

/// Why one forwarded call had no answer from the proxy.
enum Fail {
    /// This call only (its process gone): answer it ENOSYS, keep the socket.
    Call,
    /// The socket: reconnect.
    Socket,
}

/// Answers notifications, through the proxy when there is one; one
/// connection for every listener, as LXC's monitor keeps.
pub(super) struct Answerer {
    proxy: Proxy,
    sock: Option<OwnedFd>,
    sizes: Sizes,
    init_pid: i32,
}

impl Answerer {
    /// Connects to the proxy (if any) for container init `init_pid`.
    pub(super) fn new(proxy: Proxy, init_pid: i32) -> Answerer {
        let sock = proxy.address.as_deref().and_then(reconnect);
        Answerer {
            proxy,
            sock,
            sizes: sizes(),
            init_pid,
        }
    }

    fn lens(&self) -> (usize, usize) {
        (
            usize::from(self.sizes.notif).max(80),
            usize::from(self.sizes.resp).max(24),
        )
    }

    /// Takes one notification from `listener` and answers it; `false` when
    /// the listener itself failed (it is then dropped).
    pub(super) fn answer(&mut self, listener: &OwnedFd) -> bool {
        let (nlen, rlen) = self.lens();
        let mut req = vec![0u8; nlen];
        // SAFETY: NOTIF_RECV fills a buffer of the kernel's seccomp_notif size.
        if unsafe { libc::ioctl(listener.as_raw_fd(), NOTIF_RECV, req.as_mut_ptr()) } != 0 {
            // ENOENT/EINTR: the caller died or was interrupted meanwhile.
            return matches!(nix::Error::last(), nix::Error::ENOENT | nix::Error::EINTR);
        }
        let id = u64::from_ne_bytes(req[0..8].try_into().expect("8 bytes"));
        let pid = u32::from_ne_bytes(req[8..12].try_into().expect("4 bytes"));
        let resp = self.ask_proxy(listener, pid, id, &req);
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
        true
    }

    /// The proxy's response to call `id`, or ENOSYS; a broken connection is
    /// retried once, and again at the next call (a proxy may come back).
    fn ask_proxy(&mut self, listener: &OwnedFd, pid: u32, id: u64, req: &[u8]) -> Vec<u8> {
        let rlen = self.lens().1;
        let Some(address) = self.proxy.address.clone() else {
            return enosys(id, rlen);
        };
        for _ in 0..2 {
            if self.sock.is_none() {
                self.sock = reconnect(&address);
            }
            let Some(sock) = &self.sock else { break };
            let mut resp = enosys(id, rlen);
            match self.forward(sock, listener, pid, id, req, &mut resp) {
                Ok(()) => return resp,
                Err(Fail::Call) => break,
                Err(Fail::Socket) => self.sock = None,
            }
        }
        enosys(id, rlen)
    }

    /// One round trip to the proxy; the response lands in `resp`.
    fn forward(
        &self,
        sock: &OwnedFd,
        listener: &OwnedFd,
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
        let cookie = self.proxy.cookie.clone().unwrap_or_default();
        let head = ProxyMsg {
            reserved: 0,
            monitor_pid: std::process::id() as i32,
            init_pid: self.init_pid,
            sizes: self.sizes,
            pad: 0,
            cookie_len: cookie.len() as u64,
        };
        let mut out = as_bytes(&head).to_vec();
        out.extend_from_slice(req);
        out.extend_from_slice(resp);
        out.extend_from_slice(cookie.as_bytes());
        let fds = [dir.as_fd(), mem.as_fd(), listener.as_fd()];
        if send_fds(sock.as_fd(), &out, &fds).is_err() {
            return Err(Fail::Socket);
        }
        let base = std::mem::size_of::<ProxyMsg>() + req.len() + resp.len();
        let mut back = vec![0u8; base];
        let n = loop {
            // SAFETY: recv into our buffer.
            let n =
                unsafe { libc::recv(sock.as_raw_fd(), back.as_mut_ptr().cast(), back.len(), 0) };
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

/// Whether `fd` answers the listener's `ID_VALID` (with ENOENT for an id
/// that nothing waits on): a seccomp listener, not some other fd.
pub(super) fn probe_listener(fd: &OwnedFd) -> bool {
    let id = u64::MAX;
    for op in [NOTIF_ID_VALID, NOTIF_ID_VALID_OLD] {
        // SAFETY: ID_VALID with a pointer to the id.
        let r = unsafe { libc::ioctl(fd.as_raw_fd(), op, &id) };
        if r == 0 || nix::Error::last() == nix::Error::ENOENT {
            return true;
        }
    }
    false
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
