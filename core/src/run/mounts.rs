//! The container's mounts, done by the child inside its new mount namespace:
//! the rootfs bind, `lxc.mount.entry`/fstab lines, then `pivot_root` with
//! the old root detached (`/proc` and `/sys` are [`super::automount`]).
//!
//! Every target inside the rootfs is opened with `openat2(RESOLVE_IN_ROOT)`
//! and mounted through `/proc/self/fd/N`, so a symlink in the rootfs can never
//! send a mount out of it (the CVE-2015-1335 class).

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::mount::MsFlags;

use crate::sys::{MountRequest, Sys};

/// A mount failure message (the child sends it to the monitor).
pub type Fail = String;

/// Mounts `src` on `target` and names everything if it fails.
pub fn do_mount(
    sys: &dyn Sys,
    src: Option<&str>,
    target: &str,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
    what: &str,
) -> Result<(), Fail> {
    let req = MountRequest {
        source: src.map(PathBuf::from),
        target: PathBuf::from(target),
        fstype: fstype.map(str::to_string),
        flags,
        data: data.map(str::to_string),
    };
    sys.mount(&req).map_err(|e| {
        let why = e
            .errno()
            .map_or_else(|| e.to_string(), |n| n.desc().to_string());
        format!(
            "mounting {what} ({} on {}{}): {why}",
            src.unwrap_or("none"),
            target,
            fstype.map(|t| format!(", type {t}")).unwrap_or_default(),
        )
    })
}

/// `/proc/self/fd/N`: a path for an fd, to mount onto.
pub fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Opens `rel` below `root` without ever leaving it (symlinks resolve as if
/// `root` were `/`).
pub fn open_in_root(root: &OwnedFd, rel: &Path, flags: i32) -> std::io::Result<OwnedFd> {
    openat2_in(root, rel, flags, 0)
}

/// [`open_in_root`] with more `RESOLVE_*` flags.
pub(super) fn openat2_in(
    root: &OwnedFd,
    rel: &Path,
    flags: i32,
    resolve: u64,
) -> std::io::Result<OwnedFd> {
    let c = CString::new(rel.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS | resolve;
    // SAFETY: openat2 with a valid dirfd, NUL-terminated path and open_how.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            root.as_raw_fd(),
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new fd that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// The (made if missing) parent directory of `rel` below `root`, and the last
/// component of `rel`.
fn parent_in_root<'a>(
    root: &OwnedFd,
    rel: &'a Path,
) -> std::io::Result<(OwnedFd, &'a std::ffi::OsStr)> {
    // A name directly below the root has the root itself as its parent
    // (openat2 refuses an empty path).
    let parent = rel
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    mkdir_in_root(root, parent)?;
    let pfd = open_in_root(root, parent, libc::O_PATH | libc::O_DIRECTORY)?;
    let name = rel
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("`{}` has no file name", rel.display())))?;
    Ok((pfd, name))
}

/// Makes directory `rel` (and its parents) below `root`, safely.
pub fn mkdir_in_root(root: &OwnedFd, rel: &Path) -> std::io::Result<()> {
    if rel.as_os_str().is_empty()
        || rel == Path::new(".")
        || open_in_root(root, rel, libc::O_PATH | libc::O_DIRECTORY).is_ok()
    {
        return Ok(());
    }
    let (pfd, name) = parent_in_root(root, rel)?;
    match nix::sys::stat::mkdirat(
        Some(pfd.as_raw_fd()),
        name,
        nix::sys::stat::Mode::from_bits_truncate(0o755),
    ) {
        Ok(()) | Err(nix::errno::Errno::EEXIST) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Makes an empty file `rel` below `root` (for file bind mounts), safely.
pub fn touch_in_root(root: &OwnedFd, rel: &Path, mode: u32) -> std::io::Result<()> {
    let (pfd, name) = parent_in_root(root, rel)?;
    let c = CString::new(name.as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: openat with a valid dirfd and path; O_NOFOLLOW refuses a symlink.
    let fd = unsafe {
        libc::openat(
            pfd.as_raw_fd(),
            c.as_ptr(),
            libc::O_CREAT | libc::O_WRONLY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            mode,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: we own the new fd; closing it.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
    Ok(())
}

/// Opens (making it first if needed) directory `rel` below `root`, for the
/// mounts rlxc itself puts there (`/proc`, `/sys`, `/dev`). A symlink on the
/// way is refused, even one that stays inside the rootfs: those mounts must
/// land where the container's users expect them (the CVE-2015-1335 class).
pub fn open_dir(root: &OwnedFd, rel: &str) -> Result<OwnedFd, Fail> {
    mkdir_in_root(root, Path::new(rel)).map_err(|e| format!("making /{rel} in the rootfs: {e}"))?;
    let flags = libc::O_PATH | libc::O_DIRECTORY;
    openat2_in(root, Path::new(rel), flags, libc::RESOLVE_NO_SYMLINKS).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            format!(
                "/{rel} in the rootfs is a symlink: rlxc mounts only onto a real directory there"
            )
        } else {
            format!("opening /{rel} in the rootfs: {e}")
        }
    })
}

/// Makes the rootfs the root: `pivot_root(".", ".")` stacks the old root on
/// top of the new one, and a lazy unmount drops it.
pub fn pivot_into(sys: &dyn Sys, rootfs: &Path) -> Result<(), Fail> {
    let e = |what: &str, err: String| format!("{what} {}: {err}", rootfs.display());
    nix::unistd::chdir(rootfs).map_err(|err| e("chdir to", err.desc().into()))?;
    sys.pivot_root(Path::new("."))
        .map_err(|err| e("pivot_root into", err.to_string()))?;
    sys.umount(Path::new("."), true)
        .map_err(|err| e("detaching the old root above", err.to_string()))?;
    nix::unistd::chdir("/").map_err(|err| e("chdir to / in", err.desc().into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_never_leaves_the_root() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::os::unix::fs::symlink("/", root.join("escape")).unwrap();
        std::os::unix::fs::symlink("../../..", root.join("up")).unwrap();
        let fd: OwnedFd = std::fs::File::open(&root).unwrap().into();
        mkdir_in_root(&fd, Path::new("escape/made/here")).unwrap();
        assert!(
            root.join("made/here").is_dir(),
            "followed the symlink inside the root"
        );
        assert!(!Path::new("/made").exists());
        touch_in_root(&fd, Path::new("up/file"), 0o644).unwrap();
        assert!(root.join("file").is_file());
    }
}
