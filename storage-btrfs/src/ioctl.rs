//! The btrfs ioctls rlxc needs, on fds (no `btrfs` tool at run time):
//! subvolume create, snapshot, destroy, and the checks that tell a
//! subvolume from a directory.

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// `BTRFS_SUPER_MAGIC`, statfs's `f_type` on btrfs.
pub const SUPER_MAGIC: i64 = 0x9123_683e;
/// The inode number of every subvolume's root directory.
pub const SUBVOL_ROOT_INO: u64 = 256;

/// `_IOW(0x94, 14, struct btrfs_ioctl_vol_args)`.
const SUBVOL_CREATE: libc::c_ulong = 0x5000_940e;
/// `_IOW(0x94, 15, struct btrfs_ioctl_vol_args)`.
const SNAP_DESTROY: libc::c_ulong = 0x5000_940f;
/// `_IOW(0x94, 23, struct btrfs_ioctl_vol_args_v2)`.
const SNAP_CREATE_V2: libc::c_ulong = 0x5000_9417;

/// `struct btrfs_ioctl_vol_args`: an fd and a name, 4096 bytes.
#[repr(C)]
struct VolArgs {
    fd: i64,
    name: [u8; 4088],
}

/// `struct btrfs_ioctl_vol_args_v2`, 4096 bytes.
#[repr(C)]
struct VolArgsV2 {
    fd: i64,
    transid: u64,
    flags: u64,
    unused: [u64; 4],
    name: [u8; 4040],
}

fn name_bytes<const N: usize>(name: &OsStr) -> std::io::Result<[u8; N]> {
    let b = name.as_bytes();
    if b.is_empty() || b.len() >= N || b.contains(&b'/') || b.contains(&0) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("`{}` is not a subvolume name", name.to_string_lossy()),
        ));
    }
    let mut out = [0u8; N];
    out[..b.len()].copy_from_slice(b);
    Ok(out)
}

fn open_dir(p: &Path) -> std::io::Result<OwnedFd> {
    Ok(std::fs::File::open(p)?.into())
}

fn check(r: libc::c_int) -> std::io::Result<()> {
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `_IOR(0x94, 31, struct btrfs_ioctl_fs_info_args)`.
const FS_INFO: libc::c_ulong = 0x8400_941f;

/// The filesystem's uuid (`BTRFS_IOC_FS_INFO`), which every subvolume of
/// it shares.
fn fsid(p: &Path) -> Option<[u8; 16]> {
    let f = std::fs::File::open(p).ok()?;
    let mut args = [0u8; 1024];
    // SAFETY: FS_INFO fills a 1024-byte btrfs_ioctl_fs_info_args.
    if unsafe { libc::ioctl(f.as_raw_fd(), FS_INFO, args.as_mut_ptr()) } != 0 {
        return None;
    }
    // max_id (8) and num_devices (8), then the 16-byte fsid.
    args[16..32].try_into().ok()
}

/// Whether `a` and `b` are on one btrfs filesystem.
fn same_btrfs(a: &Path, b: &Path) -> bool {
    matches!((fsid(a), fsid(b)), (Some(x), Some(y)) if x == y)
}

/// Whether `p` is on a btrfs filesystem.
pub fn on_btrfs(p: &Path) -> bool {
    nix::sys::statfs::statfs(p).is_ok_and(|s| s.filesystem_type().0 == SUPER_MAGIC)
}

/// Whether `p` is a subvolume (not a plain directory) on btrfs.
pub fn is_subvolume(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir() && m.ino() == SUBVOL_ROOT_INO)
        && on_btrfs(p)
}

/// Makes subvolume `name` in directory `parent`.
pub fn create_subvolume(parent: &Path, name: &OsStr) -> std::io::Result<()> {
    let dir = open_dir(parent)?;
    let args = VolArgs {
        fd: 0,
        name: name_bytes(name)?,
    };
    // SAFETY: SUBVOL_CREATE reads a vol_args struct we own.
    check(unsafe { libc::ioctl(dir.as_raw_fd(), SUBVOL_CREATE, &args) })
}

/// Snapshots subvolume `src` as `name` in directory `parent` (writable).
pub fn snapshot(src: &Path, parent: &Path, name: &OsStr) -> std::io::Result<()> {
    let (s, dir) = (open_dir(src)?, open_dir(parent)?);
    let args = VolArgsV2 {
        fd: i64::from(s.as_raw_fd()),
        transid: 0,
        flags: 0,
        unused: [0; 4],
        name: name_bytes(name)?,
    };
    // SAFETY: SNAP_CREATE_V2 reads a vol_args_v2 struct we own.
    check(unsafe { libc::ioctl(dir.as_raw_fd(), SNAP_CREATE_V2, &args) })
}

/// Deletes subvolume `name` of directory `parent` (it must hold no other
/// subvolume).
pub fn destroy_subvolume(parent: &Path, name: &OsStr) -> std::io::Result<()> {
    let dir = open_dir(parent)?;
    let args = VolArgs {
        fd: 0,
        name: name_bytes(name)?,
    };
    // SAFETY: SNAP_DESTROY reads a vol_args struct we own.
    check(unsafe { libc::ioctl(dir.as_raw_fd(), SNAP_DESTROY, &args) })
}

/// Deletes the subvolume at `path` and every subvolume nested below it,
/// deepest first (a subvolume holding another cannot be deleted). The
/// nested ones are found by walking the tree: a directory whose inode is
/// 256 on another device number is a subvolume root.
pub fn destroy_recursive(path: &Path) -> std::io::Result<()> {
    let dev = std::fs::symlink_metadata(path)?.dev();
    let mut nested = Vec::new();
    find_nested(path, dev, &mut nested)?;
    // Deeper paths first.
    nested.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for n in nested.iter().chain(std::iter::once(&path.to_path_buf())) {
        let (parent, name) = match (n.parent(), n.file_name()) {
            (Some(p), Some(f)) => (p, f),
            _ => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{}: not a subvolume path", n.display()),
                ))
            }
        };
        destroy_subvolume(parent, name).map_err(|e| {
            std::io::Error::new(e.kind(), format!("deleting subvolume {}: {e}", n.display()))
        })?;
    }
    Ok(())
}

fn find_nested(dir: &Path, dev: u64, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let m = std::fs::symlink_metadata(e.path())?;
        if !m.is_dir() {
            continue;
        }
        if m.dev() != dev {
            // A subvolume of this same filesystem (btrfs gives each its own
            // device number); anything else is not ours to walk.
            if m.ino() == SUBVOL_ROOT_INO && same_btrfs(dir, &e.path()) {
                out.push(e.path());
                find_nested(&e.path(), m.dev(), out)?;
            }
            continue;
        }
        find_nested(&e.path(), dev, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ioctl_structs_are_the_kernels_size() {
        assert_eq!(std::mem::size_of::<VolArgs>(), 4096);
        assert_eq!(std::mem::size_of::<VolArgsV2>(), 4096);
        // _IOW(0x94, nr, 4096): dir 1 << 30, size << 16, type << 8, nr.
        let iow = |nr: u64| (1u64 << 30) | (4096 << 16) | (0x94 << 8) | nr;
        assert_eq!(u64::from(SUBVOL_CREATE as u32), iow(14));
        assert_eq!(u64::from(SNAP_DESTROY as u32), iow(15));
        assert_eq!(u64::from(SNAP_CREATE_V2 as u32), iow(23));
        // _IOR(0x94, 31, 1024).
        assert_eq!(
            u64::from(FS_INFO as u32),
            (2u64 << 30) | (1024 << 16) | (0x94 << 8) | 31
        );
    }

    #[test]
    fn names_must_be_one_component() {
        assert!(name_bytes::<16>(OsStr::new("rootfs")).is_ok());
        assert!(name_bytes::<16>(OsStr::new("a/b")).is_err());
        assert!(name_bytes::<16>(OsStr::new("")).is_err());
        assert!(!is_subvolume(Path::new("/proc")));
    }
}
