//! Loop devices through `/dev/loop-control` and `LOOP_CONFIGURE`, always
//! with `LO_FLAGS_AUTOCLEAR`: the kernel detaches the device when its last
//! user (the mount) goes, so a rootfs unmounted at stop, or dropped with a
//! SIGKILLed monitor's mount namespace, leaves no loop device behind.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

const LOOP_CTL_GET_FREE: libc::c_ulong = 0x4C82;
const LOOP_CONFIGURE: libc::c_ulong = 0x4C0A;
const LOOP_SET_FD: libc::c_ulong = 0x4C00;
const LOOP_CLR_FD: libc::c_ulong = 0x4C01;
const LOOP_SET_STATUS64: libc::c_ulong = 0x4C04;
const LO_FLAGS_AUTOCLEAR: u32 = 4;

/// `struct loop_info64`.
#[repr(C)]
struct LoopInfo64 {
    device: u64,
    inode: u64,
    rdevice: u64,
    offset: u64,
    sizelimit: u64,
    number: u32,
    encrypt_type: u32,
    encrypt_key_size: u32,
    flags: u32,
    file_name: [u8; 64],
    crypt_name: [u8; 64],
    encrypt_key: [u8; 32],
    init: [u64; 2],
}

/// `struct loop_config`.
#[repr(C)]
struct LoopConfig {
    fd: u32,
    block_size: u32,
    info: LoopInfo64,
    reserved: [u64; 8],
}

/// A loop device backed by `file`, detached by the kernel once nothing uses
/// it. The returned handle keeps it until dropped (mount it before that).
#[derive(Debug)]
pub struct Attached {
    /// `/dev/loopN`.
    pub path: PathBuf,
    _dev: std::fs::File,
}

/// Attaches `file` to a free loop device.
pub fn attach(file: &Path) -> std::io::Result<Attached> {
    let backing = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)?;
    let ctl = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/loop-control")?;
    // Another process may take the free device first: then ask again.
    for _ in 0..10 {
        // SAFETY: GET_FREE returns a device number.
        let n = unsafe { libc::ioctl(ctl.as_raw_fd(), LOOP_CTL_GET_FREE) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let path = PathBuf::from(format!("/dev/loop{n}"));
        let dev = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)?;
        let mut name = [0u8; 64];
        let b = file.as_os_str().as_encoded_bytes();
        let len = b.len().min(63);
        name[..len].copy_from_slice(&b[..len]);
        let cfg = LoopConfig {
            fd: backing.as_raw_fd() as u32,
            block_size: 0,
            info: LoopInfo64 {
                device: 0,
                inode: 0,
                rdevice: 0,
                offset: 0,
                sizelimit: 0,
                number: 0,
                encrypt_type: 0,
                encrypt_key_size: 0,
                flags: LO_FLAGS_AUTOCLEAR,
                file_name: name,
                crypt_name: [0; 64],
                encrypt_key: [0; 32],
                init: [0; 2],
            },
            reserved: [0; 8],
        };
        // SAFETY: LOOP_CONFIGURE reads a loop_config we own.
        if unsafe { libc::ioctl(dev.as_raw_fd(), LOOP_CONFIGURE, &cfg) } == 0 {
            return Ok(Attached { path, _dev: dev });
        }
        let mut e = std::io::Error::last_os_error();
        // Before Linux 5.8: the backing file, then the flags, in two steps.
        if e.raw_os_error() == Some(libc::EINVAL) || e.raw_os_error() == Some(libc::ENOTTY) {
            // SAFETY: SET_FD with our backing fd, then SET_STATUS64 reading our loop_info64.
            unsafe {
                if libc::ioctl(dev.as_raw_fd(), LOOP_SET_FD, backing.as_raw_fd()) == 0 {
                    if libc::ioctl(dev.as_raw_fd(), LOOP_SET_STATUS64, &cfg.info) == 0 {
                        return Ok(Attached { path, _dev: dev });
                    }
                    e = std::io::Error::last_os_error();
                    libc::ioctl(dev.as_raw_fd(), LOOP_CLR_FD, 0);
                    return Err(e);
                }
                e = std::io::Error::last_os_error();
            }
        }
        if e.raw_os_error() != Some(libc::EBUSY) {
            return Err(e);
        }
    }
    Err(std::io::Error::other("no free loop device after 10 tries"))
}

/// The loop devices backed by `file` now (from `/sys/block/loop*/loop/backing_file`).
pub fn users_of(file: &Path) -> Vec<PathBuf> {
    let Ok(canon) = std::fs::canonicalize(file) else {
        return Vec::new();
    };
    let Ok(rd) = std::fs::read_dir("/sys/block") else {
        return Vec::new();
    };
    rd.flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("loop"))
        .filter(|e| {
            std::fs::read_to_string(e.path().join("loop/backing_file"))
                .is_ok_and(|b| Path::new(b.trim()) == canon)
        })
        .map(|e| PathBuf::from("/dev").join(e.file_name()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_structs_are_the_kernels_size() {
        assert_eq!(std::mem::size_of::<LoopInfo64>(), 232);
        assert_eq!(std::mem::size_of::<LoopConfig>(), 304);
        assert!(users_of(Path::new("/nonexistent")).is_empty());
    }
}
