//! The bookkeeping of users' NICs: `/run/rlxc/user-nics`, one line per NIC
//! the helper made (`USER TYPE BRIDGE HOSTNIC`), so that a quota counts
//! what is still there; a NIC gone with its container frees its place (its
//! line is dropped when the host end no longer exists).

use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

/// Where the helper keeps its book.
pub const BOOK: &str = "/run/rlxc/user-nics";

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

/// The book, locked while it is read, pruned and (by `update`) rewritten.
#[derive(Debug)]
pub struct Book {
    file: std::fs::File,
    /// The entries whose host NIC still exists.
    pub entries: Vec<Entry>,
}

impl Book {
    /// Opens (making it 0600, root's) and locks `path`, dropping the entries
    /// whose host end `exists` says is gone.
    pub fn open(path: &Path, exists: impl Fn(&str) -> bool) -> std::io::Result<Book> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        if let Some(d) = path.parent() {
            // 0755 whatever the helper's umask: root's containers' run
            // directories are below it and their mapped roots pass through.
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o755)
                .create(d)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)?;
        // Root's, not the caller's group (a set-user-id helper keeps its gid).
        if nix::unistd::geteuid().is_root() {
            std::os::unix::fs::fchown(&file, Some(0), Some(0))?;
        }
        // SAFETY: flock on our own fd.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        let entries = parse(&text)
            .into_iter()
            .filter(|e| exists(&e.host_nic))
            .collect();
        Ok(Book { file, entries })
    }

    /// How many live NICs of `kind` on `bridge` `user` has.
    pub fn count(&self, user: &str, kind: &str, bridge: &str) -> u64 {
        self.entries
            .iter()
            .filter(|e| e.user == user && e.kind == kind && e.bridge == bridge)
            .count() as u64
    }

    /// Writes the entries back (the lock is still held).
    pub fn update(&mut self) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        self.file.write_all(render(&self.entries).as_bytes())?;
        self.file.sync_data()
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
        let mut b = Book::open(&p, |n| n != "vethB").unwrap();
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
        // A link where the book is: refused, not followed.
        let l = d.path().join("link");
        std::os::unix::fs::symlink(&p, &l).unwrap();
        assert!(Book::open(&l, |_| true).is_err());
    }
}
