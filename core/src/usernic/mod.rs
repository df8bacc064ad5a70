//! `rlxc-user-nic` (LXC's `lxc-user-nic`): the setuid-root helper that lets
//! a user give its own container a NIC: a veth pair whose host end joins a
//! bridge, its other end made in the container's network namespace, within
//! the quota `/etc/lxc/lxc-usernet` grants ([`usernet`]), counted in a book
//! of the NICs still there ([`book`]).
//!
//! Written for an attacker at the other end of its argv and environment:
//! - nothing is read from the environment, and nothing is run;
//! - the caller is its real uid, its name and groups from the system's files;
//! - the container is a pid, held as a pidfd before its network namespace
//!   is opened, and checked alive after, so a reused pid is caught; the
//!   namespace must belong to a user namespace the caller owns (never the
//!   host's, so never a root container's), asked of the kernel on the
//!   open fd;
//! - names are checked as interface names (no `/`, no spaces, 15 bytes);
//! - the quota file must be root's and writable by root alone.

pub mod book;
pub mod client;
pub mod usernet;

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::netlink;
use crate::sys::Sys;

/// The quota file.
pub const USERNET: &str = "/etc/lxc/lxc-usernet";

/// `create LXCPATH NAME PID TYPE BRIDGE NICNAME`, as LXC's helper takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The container's lxcpath (for messages only: nothing is read there).
    pub lxcpath: String,
    /// The container's name (for messages only).
    pub name: String,
    /// A process of the container (its init).
    pub pid: i32,
    /// `veth` (the only type).
    pub kind: String,
    /// The bridge the host end joins.
    pub bridge: String,
    /// The container end's name.
    pub nicname: String,
}

/// Whether `s` is a usable interface name.
pub fn is_ifname(s: &str) -> bool {
    !s.is_empty()
        && s.len() < 16
        && s != "."
        && s != ".."
        // `%` would make the kernel pick the name (`eth%d`).
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"/:%".contains(&b))
}

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<Request, String> {
    let usage = "usage: rlxc-user-nic create LXCPATH NAME PID veth BRIDGE NICNAME";
    let [op, lxcpath, name, pid, kind, bridge, nicname] = args else {
        return Err(usage.into());
    };
    if op != "create" {
        return Err(format!("`{op}`: only `create` is known ({usage})"));
    }
    let pid: i32 = pid
        .parse()
        .ok()
        .filter(|p| *p > 1)
        .ok_or_else(|| format!("`{pid}` is not a container's pid"))?;
    if kind != "veth" {
        return Err(format!("NIC type `{kind}`: only veth is made"));
    }
    for (what, v) in [("bridge", bridge), ("NIC name", nicname)] {
        if !is_ifname(v) {
            return Err(format!("`{v}` is not an interface name ({what})"));
        }
    }
    if lxcpath.len() > 4096 || name.len() > 255 || name.contains('\n') || lxcpath.contains('\n') {
        return Err("the lxcpath or name is not one".into());
    }
    Ok(Request {
        lxcpath: lxcpath.clone(),
        name: name.clone(),
        pid,
        kind: kind.clone(),
        bridge: bridge.clone(),
        nicname: nicname.clone(),
    })
}

/// The caller: real uid, name, groups (names), from the system's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Real uid.
    pub uid: u32,
    /// Login name.
    pub name: String,
    /// Its groups' names (primary and supplementary).
    pub groups: Vec<String>,
}

impl Caller {
    /// The real user of this process.
    pub fn current() -> Result<Caller, String> {
        let uid = nix::unistd::getuid();
        let user = nix::unistd::User::from_uid(uid)
            .ok()
            .flatten()
            .ok_or_else(|| format!("uid {uid} has no passwd entry"))?;
        let mut gids = nix::unistd::getgroups().unwrap_or_default();
        gids.push(nix::unistd::getgid());
        let groups = gids
            .into_iter()
            .filter_map(|g| {
                nix::unistd::Group::from_gid(g)
                    .ok()
                    .flatten()
                    .map(|g| g.name)
            })
            .collect();
        // The name is a word of the book's lines.
        if user.name.is_empty() || !user.name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("uid {uid}'s login name is not one word"));
        }
        Ok(Caller {
            uid: uid.as_raw(),
            name: user.name,
            groups,
        })
    }
}

const NS_GET_USERNS: libc::c_ulong = 0xb701;
const NS_GET_OWNER_UID: libc::c_ulong = 0xb704;

/// The uid owning the user namespace `netns` belongs to; `None` when that
/// is the helper's own (the host's), where only root makes network
/// namespaces, or when it cannot be told.
fn netns_owner(netns: &OwnedFd) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: NS_GET_USERNS on our fd returns a new fd or -1.
    let u = unsafe { libc::ioctl(netns.as_raw_fd(), NS_GET_USERNS) };
    if u < 0 {
        return None;
    }
    // SAFETY: u is a new fd we own.
    let userns = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(u) });
    let theirs = userns.metadata().ok()?;
    let ours = std::fs::metadata("/proc/self/ns/user").ok()?;
    if (theirs.dev(), theirs.ino()) == (ours.dev(), ours.ino()) {
        return None;
    }
    let mut uid: libc::uid_t = 0;
    // SAFETY: NS_GET_OWNER_UID writes a uid_t into our variable.
    if unsafe { libc::ioctl(userns.as_raw_fd(), NS_GET_OWNER_UID, &mut uid) } != 0 {
        return None;
    }
    Some(uid)
}

/// The one refusal for a pid (whose it is, is not told).
fn not_yours(pid: i32) -> String {
    format!("pid {pid}: no process of yours whose network namespace you may enter")
}

/// The network namespace of `pid`, for a caller that owns it: opened between
/// a pidfd and a liveness check of it (a pid reused in between is caught),
/// and refused unless its user namespace is one the caller made: never the
/// host's, so never a root container's.
pub fn open_owned_netns(pid: i32, caller: u32) -> Result<OwnedFd, String> {
    // SAFETY: pidfd_open with a pid and no flags.
    let p = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if p < 0 {
        return Err(not_yours(pid));
    }
    // SAFETY: p is a new fd we own.
    let pidfd = unsafe { OwnedFd::from_raw_fd(p as i32) };
    // Opened with root's rights: the container's first process is not
    // dumpable before it execs, so its own user could not open it. What it
    // is then is checked on the fd, and every refusal reads the same, so
    // nothing is told about other users' processes.
    let f = std::fs::File::open(format!("/proc/{pid}/ns/net")).map_err(|_| not_yours(pid))?;
    // SAFETY: signal 0 through our pidfd: only checks the process is there.
    let alive = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            0,
            std::ptr::null::<u8>(),
            0,
        )
    } == 0;
    let netns = OwnedFd::from(f);
    match netns_owner(&netns) {
        Some(owner) if alive && owner == caller => Ok(netns),
        _ => Err(not_yours(pid)),
    }
}

/// Whether the quota file may be trusted: root's, and writable by root alone.
pub fn trusted_file(path: &Path) -> Result<String, String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !m.is_file() || m.uid() != 0 || m.mode() & 0o022 != 0 {
        return Err(format!(
            "{}: not a regular file of root's that only root may write",
            path.display()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn random_name() -> String {
    let mut b = [0u8; 6];
    // SAFETY: getrandom fills our buffer; a name is checked free before use.
    unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    let abc = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let tail: String = b
        .iter()
        .map(|x| abc[*x as usize % abc.len()] as char)
        .collect();
    format!("vethU{tail}")
}

/// Whether link `name` exists here: `false` only when the kernel says it
/// does not.
fn link_exists(sys: &dyn Sys, name: &str) -> Result<bool, String> {
    match sys.netlink(&netlink::get_link(name)) {
        Ok(_) => Ok(true),
        Err(e) if e.errno() == Some(nix::Error::ENODEV) => Ok(false),
        Err(e) => Err(format!("looking up {name}: {e}")),
    }
}

/// The bridge's index, or why it is none.
fn bridge_index(sys: &dyn Sys, bridge: &str) -> Result<u32, String> {
    let answers = sys
        .netlink(&netlink::get_link(bridge))
        .map_err(|e| format!("bridge `{bridge}`: {e}"))?;
    let body = answers.first().map(Vec::as_slice).unwrap_or_default();
    if netlink::link_kind(body).as_deref() != Some("bridge") {
        return Err(format!("`{bridge}` is not a bridge"));
    }
    netlink::link_index(body).ok_or_else(|| format!("bridge `{bridge}`: no index"))
}

/// A free host end name.
fn free_name(sys: &dyn Sys) -> Result<String, String> {
    for _ in 0..8 {
        let n = random_name();
        if !link_exists(sys, &n)? {
            return Ok(n);
        }
    }
    Err("no free host NIC name".into())
}

/// Makes the NIC; returns `NICNAME:HOSTNIC`.
pub fn create(
    sys: &dyn Sys,
    req: &Request,
    caller: &Caller,
    usernet: &str,
    book_path: &Path,
) -> Result<String, String> {
    let quota = usernet::allowed(
        usernet,
        &caller.name,
        &caller.groups,
        &req.kind,
        &req.bridge,
    );
    if quota == 0 {
        return Err(format!(
            "{USERNET} grants {} no {} on {} (add a line such as `{} {} {} 2`)",
            caller.name, req.kind, req.bridge, caller.name, req.kind, req.bridge
        ));
    }
    let netns = open_owned_netns(req.pid, caller.uid)?;
    let master = bridge_index(sys, &req.bridge)?;
    let exists = |n: &str| link_exists(sys, n);
    let mut book = book::Book::open(book_path, &exists)
        .map_err(|e| format!("{}: {e}", book_path.display()))?;
    let used = book.count(&caller.name, &req.kind, &req.bridge);
    if used >= quota {
        return Err(format!(
            "{} has {used} of its {quota} {} on {} ({USERNET})",
            caller.name, req.kind, req.bridge
        ));
    }
    let host = free_name(sys)?;
    // In the book before it exists: a helper killed from here on leaves a
    // line that counts while the NIC is there, and goes when it is not.
    book.entries.push(book::Entry {
        user: caller.name.clone(),
        kind: req.kind.clone(),
        bridge: req.bridge.clone(),
        host_nic: host.clone(),
    });
    book.update()
        .map_err(|e| format!("{}: {e}", book_path.display()))?;
    let made = make_pair(sys, &host, req, &netns, master);
    if made.is_err() {
        book.entries.pop();
        let _ = book.update();
    }
    made.map(|()| format!("{}:{host}", req.nicname))
}

/// The pair: `host` up on the bridge, the peer in the container's namespace.
fn make_pair(
    sys: &dyn Sys,
    host: &str,
    req: &Request,
    netns: &OwnedFd,
    master: u32,
) -> Result<(), String> {
    sys.netlink(&netlink::new_veth(&netlink::VethRequest {
        host,
        peer: &req.nicname,
        peer_netns: Some(netns.as_raw_fd()),
        peer_hwaddr: None,
        mtu: None,
        master: Some(master),
    }))
    .map_err(|e| {
        format!(
            "making {host} / {} in pid {}'s namespace: {e}",
            req.nicname, req.pid
        )
    })?;
    let up = netlink::set_link(
        host,
        &netlink::LinkChange {
            up: Some(true),
            ..Default::default()
        },
    );
    if let Err(e) = sys.netlink(&up) {
        let _ = sys.netlink(&netlink::del_link(host));
        return Err(format!("bringing {host} up: {e}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_are_checked() {
        let r = parse_args(&v(&[
            "create",
            "/home/jo/.local/share/lxc",
            "c1",
            "1234",
            "veth",
            "lxcbr0",
            "eth0",
        ]))
        .unwrap();
        assert_eq!(
            (r.pid, r.bridge.as_str(), r.nicname.as_str()),
            (1234, "lxcbr0", "eth0")
        );
        for bad in [
            &["create", "p", "c", "1", "veth", "br0", "eth0"][..],
            &["create", "p", "c", "-5", "veth", "br0", "eth0"],
            &["create", "p", "c", "12", "macvlan", "br0", "eth0"],
            &["create", "p", "c", "12", "veth", "../br", "eth0"],
            &[
                "create",
                "p",
                "c",
                "12",
                "veth",
                "br0",
                "averyveryverylongname",
            ],
            &["create", "p", "c", "12", "veth", "br 0", "eth0"],
            &["delete", "p", "c", "12", "veth", "br0", "eth0"],
            &["create", "p"],
        ] {
            assert!(parse_args(&v(bad)).is_err(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_arguments_parse_without_panicking(args in proptest::collection::vec(".{0,40}", 0..9)) {
            let _ = parse_args(&args);
        }
    }
}
