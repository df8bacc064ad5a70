//! A digest of a directory tree, to verify that a restored rootfs is the
//! one that was backed up: every entry's relative path, type, mode, owner,
//! size, link target, device number and file contents, in sorted order
//! (a top-level `lost+found`, a fresh filesystem's own, and sockets, which
//! tar does not keep, left out),
//! through 64-bit FNV-1a over words (integrity against damage, not an
//! adversary). The
//! tree is read on its own filesystem only, as the copy reads it.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// A running FNV-1a hash.
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Fnv {
    /// Eight bytes per step (FNV-1a over 64-bit words, then the tail byte
    /// by byte): the digest is read over whole rootfs trees.
    fn eat(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.0 ^= u64::from_le_bytes(w.try_into().expect("8 bytes"));
            self.0 = self.0.wrapping_mul(PRIME);
        }
        for b in words.remainder() {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }

    fn num(&mut self, n: u64) {
        self.eat(&n.to_le_bytes());
    }
}

/// The digest of the tree at `root`, as 16 hex digits.
pub fn tree_digest(root: &Path) -> std::io::Result<String> {
    let dev = std::fs::symlink_metadata(root)?.dev();
    let mut h = Fnv(OFFSET);
    walk(root, Path::new(""), dev, &mut h)?;
    Ok(format!("{:016x}", h.0))
}

fn walk(root: &Path, rel: &Path, dev: u64, h: &mut Fnv) -> std::io::Result<()> {
    let dir = root.join(rel);
    let mut names: Vec<_> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()?;
    names.sort();
    for name in names {
        // A filesystem's own top directory (ext4's), not part of what was copied.
        if rel.as_os_str().is_empty() && name == "lost+found" {
            continue;
        }
        let r = rel.join(&name);
        let p = root.join(&r);
        let m = std::fs::symlink_metadata(&p)?;
        let ft = m.file_type();
        // tar keeps no sockets (a socket is remade by whoever listens).
        if ft.is_socket() {
            continue;
        }
        h.eat(r.as_os_str().as_bytes());
        h.num(u64::from(m.mode()));
        h.num(u64::from(m.uid()));
        h.num(u64::from(m.gid()));
        if ft.is_dir() {
            if m.dev() == dev {
                walk(root, &r, dev, h)?;
            }
        } else if ft.is_symlink() {
            h.eat(std::fs::read_link(&p)?.as_os_str().as_bytes());
        } else if ft.is_block_device() || ft.is_char_device() {
            h.num(m.rdev());
        } else if ft.is_file() {
            h.num(m.len());
            let mut f = std::fs::File::open(&p)?;
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = std::io::Read::read(&mut f, &mut buf)?;
                if n == 0 {
                    break;
                }
                h.eat(&buf[..n]);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_follows_content_names_and_modes() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a");
        std::fs::create_dir_all(a.join("etc")).unwrap();
        std::fs::write(a.join("etc/hostname"), "c1\n").unwrap();
        std::os::unix::fs::symlink("etc/hostname", a.join("link")).unwrap();
        let first = tree_digest(&a).unwrap();
        assert_eq!(first.len(), 16);
        assert_eq!(tree_digest(&a).unwrap(), first, "stable");
        let b = d.path().join("b");
        crate::storage::copy_tree(&a, &b).unwrap();
        assert_eq!(
            tree_digest(&b).unwrap(),
            first,
            "a faithful copy has the same digest"
        );
        std::fs::write(b.join("etc/hostname"), "c2\n").unwrap();
        assert_ne!(tree_digest(&b).unwrap(), first);
        std::fs::write(b.join("etc/hostname"), "c1\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            b.join("etc/hostname"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        assert_ne!(tree_digest(&b).unwrap(), first, "modes count");
    }
}
