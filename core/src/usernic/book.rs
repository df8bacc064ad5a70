//! The bookkeeping of users' NICs: `/run/rlxc/user-nics`, one line per NIC
//! the helper made (`USER TYPE BRIDGE HOSTNIC`), so that a quota counts
//! what is still there; a NIC gone with its container frees its place (its
//! line is dropped when the host end no longer exists).
//!
//! The caller of a set-user-id helper may kill it at any point, or make a
//! write fail (`RLIMIT_FSIZE`). So a NIC is written into the book before it
//! is made (a line whose NIC never appeared is dropped by the next call), and
//! the book is replaced whole by a rename, never truncated in place. A lock
//! file beside it serialises the helpers.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where the helper keeps its book.
pub const BOOK: &str = "/run/rlxc/user-nics";

/// How long a helper waits for another one's lock (a caller may stop its
/// own helper while it holds it).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// One line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The user.
    pub user: String,
    /// The NIC type (`veth`).
    pub kind: String,
    /// The bridge.
    pub bridge: String,
    /// The host end.
    pub host_nic: String,
}

/// Parses the book (lines that do not parse are dropped).
pub fn parse(text: &str) -> Vec<Entry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let [u, k, b, h] = f.as_slice() else {
                return None;
            };
            Some(Entry {
                user: (*u).into(),
                kind: (*k).into(),
                bridge: (*b).into(),
                host_nic: (*h).into(),
            })
        })
        .collect()
}

/// The book's text.
pub fn render(entries: &[Entry]) -> String {
    entries
        .iter()
        .map(|e| format!("{} {} {} {}\n", e.user, e.kind, e.bridge, e.host_nic))
        .collect()
}

/// Whether a host NIC is still there: `Ok(false)` only when it is known to
/// be gone; an error when that could not be asked.
pub type Exists<'a> = &'a dyn Fn(&str) -> Result<bool, String>;

/// The book, locked while it is read, pruned and (by `update`) replaced.
#[derive(Debug)]
pub struct Book {
    path: PathBuf,
    _lock: std::fs::File,
    /// The entries whose host NIC still exists.
    pub entries: Vec<Entry>,
}

fn other(msg: String) -> std::io::Error {
    std::io::Error::other(msg)
}

/// The book's directory: made 0755 and root's when missing; refused when it
/// is a link, or root's but writable by others (when run as root).
fn check_dir(d: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(d) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(d)?;
            // The mode was masked by the helper's umask, the group is the
            // caller's: both set as they must be.
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755))?;
            if nix::unistd::geteuid().is_root() {
                std::os::unix::fs::chown(d, Some(0), Some(0))?;
            }
            Ok(())
        }
        Err(e) => Err(e),
        Ok(m) => {
            let me = nix::unistd::geteuid().as_raw();
            if !m.is_dir() || m.uid() != me || m.mode() & 0o022 != 0 {
                return Err(other(format!(
                    "{}: not a directory of uid {me}'s that only it may write",
                    d.display()
                )));
            }
            Ok(())
        }
    }
}

/// Opens a file of the book's directory (not through a link), 0600.
fn open_own(path: &Path) -> std::io::Result<std::fs::File> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    let m = f.metadata()?;
    if !m.is_file() || m.nlink() != 1 || m.uid() != nix::unistd::geteuid().as_raw() {
        return Err(other(format!(
            "{}: not a file of the helper's own",
            path.display()
        )));
    }
    if nix::unistd::geteuid().is_root() {
        // Root's, not the caller's group (a set-user-id helper keeps its gid).
        std::os::unix::fs::fchown(&f, Some(0), Some(0))?;
    }
    Ok(f)
}

/// Takes an exclusive flock on `f`, waiting at most [`LOCK_WAIT`].
fn lock(f: &std::fs::File, path: &Path) -> std::io::Result<()> {
    let until = std::time::Instant::now() + LOCK_WAIT;
    loop {
        // SAFETY: flock on our own fd.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(e);
        }
        if std::time::Instant::now() >= until {
            return Err(other(format!(
                "{}: another rlxc-user-nic holds it",
                path.display()
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

impl Book {
    /// Locks and reads the book at `path`, dropping the entries whose host
    /// end `exists` says is gone.
    pub fn open(path: &Path, exists: Exists<'_>) -> std::io::Result<Book> {
        if let Some(d) = path.parent() {
            check_dir(d)?;
        }
        let lock_path = path.with_extension("lock");
        let lock_file = open_own(&lock_path)?;
        lock(&lock_file, &lock_path)?;
        let mut text = String::new();
        open_own(path)?.read_to_string(&mut text)?;
        let mut entries = Vec::new();
        for e in parse(&text) {
            if exists(&e.host_nic).map_err(other)? {
                entries.push(e);
            }
        }
        Ok(Book {
            path: path.to_path_buf(),
            _lock: lock_file,
            entries,
        })
    }

    /// How many live NICs of `kind` on `bridge` `user` has.
    pub fn count(&self, user: &str, kind: &str, bridge: &str) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.user == user && e.kind == kind && e.bridge == bridge)
            .count() as u64
    }

    /// Replaces the book with the entries (a new file renamed over it,
    /// while the lock is still held).
    pub fn update(&mut self) -> std::io::Result<()> {
        let tmp = self.path.with_extension("new");
        let _ = std::fs::remove_file(&tmp);
        let mut f = open_own(&tmp)?;
        f.write_all(render(&self.entries).as_bytes())?;
        f.sync_data()?;
        std::fs::rename(&tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gone_nic_frees_its_place() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("user-nics");
        std::fs::write(
            &p,
            "jo veth br0 vethA\njo veth br0 vethB\nann veth br0 vethC\nbroken\n",
        )
        .unwrap();
        let mut b = Book::open(&p, &|n| Ok(n != "vethB")).unwrap();
        assert_eq!(b.count("jo", "veth", "br0"), 1);
        assert_eq!(b.count("ann", "veth", "br0"), 1);
        b.entries.push(Entry {
            user: "jo".into(),
            kind: "veth".into(),
            bridge: "br0".into(),
            host_nic: "vethD".into(),
        });
        b.update().unwrap();
        drop(b);
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "jo veth br0 vethA\nann veth br0 vethC\njo veth br0 vethD\n"
        );
        // A question that failed is not an answer: nothing is dropped.
        assert!(Book::open(&p, &|_| Err("netlink: ENOBUFS".into())).is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap().lines().count(), 3);
        // A link where the book is: refused, not followed.
        let l = d.path().join("link");
        std::os::unix::fs::symlink(&p, &l).unwrap();
        assert!(Book::open(&l, &|_| Ok(true)).is_err());
        // A book with a second name (a hard link) is refused too.
        let h = d.path().join("hard");
        std::fs::hard_link(&p, &h).unwrap();
        assert!(Book::open(&p, &|_| Ok(true)).is_err());
    }

    #[test]
    fn a_second_helper_waits_for_the_lock() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("user-nics");
        let b = Book::open(&p, &|_| Ok(true)).unwrap();
        let released = std::sync::Arc::new(AtomicBool::new(false));
        let (p2, r2) = (p.clone(), released.clone());
        let t = std::thread::spawn(move || {
            Book::open(&p2, &|_| Ok(true)).map(|_| r2.load(Ordering::SeqCst))
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        released.store(true, Ordering::SeqCst);
        drop(b);
        assert!(
            t.join().unwrap().unwrap(),
            "got the lock while the first held it"
        );
    }
}
