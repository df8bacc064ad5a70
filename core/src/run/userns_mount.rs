//! A user's rootfs that is a filesystem of its own (an overlay clone),
//! mounted by the container's first process in the container's user and
//! mount namespaces ([`crate::storage::UsernsMount`]).
//!
//! Two things meet here. The layers are below the user's home, which only
//! the user's own ids may search: the namespace's root may not. And the
//! kernel lets a user namespace mount an overlay only when the mounter's
//! uid and gid are mapped in it, which the user's are not. So the
//! directories are opened first, with the user's ids (`O_PATH`), and the
//! mount is made after the ids change to root, through the new mount API
//! with `/proc/self/fd/N` for each directory. The mount's own fd is the
//! rootfs from then on: a path through a magic link would reach the
//! directory under the mount.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::storage::UsernsMount;

/// The directories of a [`UsernsMount`] and its target, opened.
#[derive(Debug)]
pub struct Opened {
    desc: UsernsMount,
    dirs: Vec<Vec<OwnedFd>>,
    target: OwnedFd,
}

fn open_path(p: &Path) -> Result<OwnedFd, String> {
    let c = CString::new(p.as_os_str().as_encoded_bytes())
        .map_err(|_| format!("{}: a NUL byte in the path", p.display()))?;
    // SAFETY: open with a NUL-terminated path; the fd is ours.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(format!(
            "opening {}: {}",
            p.display(),
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: a new fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens every directory of `desc` and `target`, with the current ids.
pub fn open(desc: &UsernsMount, target: &Path) -> Result<Opened, String> {
    let dirs = desc
        .dirs
        .iter()
        .map(|(_, ps)| ps.iter().map(|p| open_path(p)).collect())
        .collect::<Result<Vec<Vec<OwnedFd>>, String>>()?;
    Ok(Opened {
        desc: desc.clone(),
        dirs,
        target: open_path(target)?,
    })
}

fn cstr(s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("`{s}`: a NUL byte"))
}

/// What the kernel said about a failed configuration (the fs context's
/// log), after `what`.
fn context_error(fs: &OwnedFd, what: &str) -> String {
    let errno = std::io::Error::last_os_error();
    let mut buf = [0u8; 512];
    let mut said = Vec::new();
    loop {
        let n = nix::unistd::read(fs.as_raw_fd(), &mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        said.push(String::from_utf8_lossy(&buf[..n]).trim().to_string());
    }
    if said.is_empty() {
        format!("{what}: {errno}")
    } else {
        format!("{what}: {errno} ({})", said.join("; "))
    }
}

fn fsconfig(fs: &OwnedFd, cmd: u32, key: Option<&CString>, value: Option<&CString>) -> i64 {
    let k = key.map_or(std::ptr::null(), |k| k.as_ptr());
    let v = value.map_or(std::ptr::null(), |v| v.as_ptr());
    // SAFETY: fsconfig on our fs context with NUL-terminated strings or NULL.
    unsafe { libc::syscall(libc::SYS_fsconfig, fs.as_raw_fd(), cmd, k, v, 0) }
}

const FSCONFIG_SET_FLAG: u32 = 0;
const FSCONFIG_SET_STRING: u32 = 1;
const FSCONFIG_CMD_CREATE: u32 = 6;
const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;

impl Opened {
    /// Mounts it on the target (with the ids the process has now); returns
    /// the mount's root.
    pub fn mount(self) -> Result<OwnedFd, String> {
        let ty = cstr(&self.desc.fstype)?;
        // SAFETY: fsopen with a NUL-terminated type; the fd is ours.
        let fs = unsafe { libc::syscall(libc::SYS_fsopen, ty.as_ptr(), 1u32) };
        if fs < 0 {
            return Err(format!(
                "fsopen {}: {}",
                self.desc.fstype,
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: a new fd.
        let fs = unsafe { OwnedFd::from_raw_fd(fs as i32) };
        for ((key, _), fds) in self.desc.dirs.iter().zip(&self.dirs) {
            let value = fds
                .iter()
                .map(|f| format!("/proc/self/fd/{}", f.as_raw_fd()))
                .collect::<Vec<_>>()
                .join(":");
            if fsconfig(
                &fs,
                FSCONFIG_SET_STRING,
                Some(&cstr(key)?),
                Some(&cstr(&value)?),
            ) != 0
            {
                return Err(context_error(&fs, &format!("{} {key}", self.desc.fstype)));
            }
        }
        for flag in &self.desc.flags {
            if fsconfig(&fs, FSCONFIG_SET_FLAG, Some(&cstr(flag)?), None) != 0 {
                return Err(context_error(&fs, &format!("{} {flag}", self.desc.fstype)));
            }
        }
        if fsconfig(&fs, FSCONFIG_CMD_CREATE, None, None) != 0 {
            return Err(context_error(
                &fs,
                &format!("making the {}", self.desc.fstype),
            ));
        }
        // SAFETY: fsmount of our configured context, close-on-exec.
        let m = unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), 1u32, 0u32) };
        if m < 0 {
            return Err(format!("fsmount: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: a new fd.
        let m = unsafe { OwnedFd::from_raw_fd(m as i32) };
        let empty = c"";
        // SAFETY: move_mount of our detached mount onto our target fd.
        let moved = unsafe {
            libc::syscall(
                libc::SYS_move_mount,
                m.as_raw_fd(),
                empty.as_ptr(),
                self.target.as_raw_fd(),
                empty.as_ptr(),
                MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
            )
        };
        if moved != 0 {
            return Err(format!(
                "attaching the {}: {}",
                self.desc.fstype,
                std::io::Error::last_os_error()
            ));
        }
        Ok(m)
    }
}
