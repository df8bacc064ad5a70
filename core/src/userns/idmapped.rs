//! Idmapped mounts for root's containers with `lxc.idmap`: the rootfs
//! (`lxc.rootfs.options = idmap=container`) and binds
//! (`lxc.mount.entry … idmap=container`) seen through the container's maps,
//! so that files the host owns as 0 are the container root's without a
//! chown of the tree.
//!
//! The kernel takes the mapping from a user namespace: a throwaway process
//! gets one with the container's maps, whose fd is kept (any namespace with
//! the same maps idmaps the same way). The mount is a detached copy of the
//! tree (`open_tree(OPEN_TREE_CLONE)`), idmapped with `mount_setattr`, then
//! attached (`move_mount`). Making one needs root on the host (the
//! filesystem's own user namespace), so the monitor makes them; the
//! container's first process attaches the binds' trees it inherits.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::Maps;

const OPEN_TREE_CLONE: libc::c_uint = 1;
const AT_RECURSIVE: libc::c_uint = 0x8000;
const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;

/// `struct mount_attr` for `mount_setattr(2)`.
#[repr(C)]
pub(crate) struct MountAttr {
    pub(crate) attr_set: u64,
    pub(crate) attr_clr: u64,
    pub(crate) propagation: u64,
    pub(crate) userns_fd: u64,
}

fn errno(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

/// A user namespace with `maps` (written directly: root only), held by fd.
pub fn userns_fd(maps: &Maps) -> Result<OwnedFd, String> {
    let (r, w) = nix::unistd::pipe().map_err(|e| format!("pipe: {e}"))?;
    // SAFETY: the child only unshares, writes a byte and waits to be killed.
    match unsafe { nix::unistd::fork() }.map_err(|e| format!("fork: {e}"))? {
        nix::unistd::ForkResult::Child => {
            drop(r);
            let ok = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER).is_ok();
            let _ = nix::unistd::write(&w, &[u8::from(ok)]);
            loop {
                // SAFETY: pause only waits for the parent's SIGKILL.
                unsafe { libc::pause() };
            }
        }
        nix::unistd::ForkResult::Parent { child } => {
            drop(w);
            let held = (|| {
                let mut b = [0u8; 1];
                if nix::unistd::read(r.as_raw_fd(), &mut b).unwrap_or(0) != 1 || b[0] != 1 {
                    return Err("a user namespace for the idmapped mounts: unshare failed".into());
                }
                for (file, ranges) in [("uid_map", &maps.uid), ("gid_map", &maps.gid)] {
                    std::fs::write(format!("/proc/{child}/{file}"), Maps::text(ranges))
                        .map_err(|e| format!("{file} of the idmapped mounts' namespace: {e}"))?;
                }
                std::fs::File::open(format!("/proc/{child}/ns/user"))
                    .map(OwnedFd::from)
                    .map_err(|e| format!("the idmapped mounts' namespace: {e}"))
            })();
            let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(child, None);
            held
        }
    }
}

/// A detached copy of the tree at `path` (with the mounts below it when
/// `recursive`), idmapped through `userns`.
pub fn idmapped_tree(path: &Path, userns: &OwnedFd, recursive: bool) -> Result<OwnedFd, String> {
    let c = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| format!("{}: a NUL byte", path.display()))?;
    let rec = if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: open_tree with a NUL-terminated path; the fd is ours.
    let t = unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            libc::AT_FDCWD,
            c.as_ptr(),
            OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | rec,
        )
    };
    if t < 0 {
        return Err(errno(&format!("copying the mount of {}", path.display())));
    }
    // SAFETY: a new fd.
    let tree = unsafe { OwnedFd::from_raw_fd(t as i32) };
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        attr_clr: 0,
        propagation: 0,
        userns_fd: userns.as_raw_fd() as u64,
    };
    // SAFETY: mount_setattr on our detached tree with a live struct.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH as libc::c_uint | rec,
            std::ptr::from_ref(&attr),
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r != 0 {
        return Err(errno(&format!(
            "idmapping the mount of {} (its filesystem may not support idmapped mounts)",
            path.display()
        )));
    }
    Ok(tree)
}

/// Attaches `tree` on top of the directory `target` (an fd, `O_PATH`).
pub fn attach(tree: &OwnedFd, target: &OwnedFd) -> Result<(), String> {
    // SAFETY: move_mount between our two fds with empty paths.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            target.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(errno("attaching the idmapped mount"))
    }
}

/// Makes the mount at `dir` (the rootfs the monitor mounted) idmapped: an
/// idmapped copy of it, with what is mounted below, put on top of it.
pub fn idmap_in_place(dir: &Path, maps: &Maps) -> Result<(), String> {
    let ns = userns_fd(maps)?;
    let tree = idmapped_tree(dir, &ns, true)?;
    let target: OwnedFd = std::fs::File::open(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .into();
    attach(&tree, &target)
}

/// Whether the filesystem of `dir` takes idmapped mounts (tried, with a
/// throwaway namespace: nothing is attached).
pub fn supported(dir: &Path, maps: &Maps) -> bool {
    userns_fd(maps).is_ok_and(|ns| idmapped_tree(dir, &ns, false).is_ok())
}

/// Whether `options` (`lxc.rootfs.options`, or a mount entry's, split at
/// commas) ask for the container's idmapping.
pub fn asks_idmap(options: &[String]) -> bool {
    options.iter().any(|o| o == "idmap=container")
}

/// A filesystem over layers (an overlay clone's [`UsernsMount`]) for a
/// container with `idmap=container`: an overlay itself cannot be idmapped,
/// so its lower layers are (each attached below `scratch`), and it is
/// mounted at `target` over those. The upper and work directories stay as
/// they are: files copied up get the mapped owners on disk, as in a shifted
/// container; their own roots are given to the container's root (an
/// idmapped upper would refuse the mounter, the host's root).
pub fn mount_layers_idmapped(
    desc: &crate::storage::UsernsMount,
    target: &Path,
    maps: &Maps,
    scratch: &Path,
) -> Result<(), String> {
    let ns = userns_fd(maps)?;
    let (uid, gid) = maps.root();
    let mut options = Vec::new();
    let mut n = 0;
    for (key, dirs) in &desc.dirs {
        let mut paths = Vec::new();
        for d in dirs {
            if key != "lowerdir" {
                std::os::unix::fs::chown(d, uid, gid)
                    .map_err(|e| format!("giving {} to the container's root: {e}", d.display()))?;
                paths.push(d.display().to_string());
                continue;
            }
            let at = scratch.join(format!("lower{n}"));
            n += 1;
            std::fs::create_dir_all(&at).map_err(|e| format!("{}: {e}", at.display()))?;
            let tree = idmapped_tree(d, &ns, false)?;
            let fd: OwnedFd = std::fs::File::open(&at)
                .map_err(|e| format!("{}: {e}", at.display()))?
                .into();
            attach(&tree, &fd)?;
            paths.push(at.display().to_string());
        }
        options.push(format!("{key}={}", paths.join(":")));
    }
    nix::mount::mount(
        Some(desc.fstype.as_str()),
        target,
        Some(desc.fstype.as_str()),
        nix::mount::MsFlags::empty(),
        Some(options.join(",").as_str()),
    )
    .map_err(|e| {
        format!(
            "mounting the {} over idmapped layers: {}",
            desc.fstype,
            e.desc()
        )
    })
}
