//! A minimal `/dev` for a container (`lxc.autodev`): a small tmpfs with the
//! usual device nodes, a private devpts, `/dev/ptmx`, and the console and ttys
//! bind-mounted from ptys the monitor holds.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use nix::mount::MsFlags;

use super::mounts::{do_mount, fd_path, open_dir, open_in_root, touch_in_root, Fail};
use crate::sys::Sys;

/// The device nodes LXC creates: name, major, minor.
pub const NODES: &[(&str, u64, u64)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// The options of the container's devpts.
pub fn devpts_options(pty_max: u32) -> String {
    let mut o = "newinstance,ptmxmode=0666,mode=0620,gid=5".to_string();
    if pty_max > 0 {
        o.push_str(&format!(",max={pty_max}"));
    }
    o
}

/// Mounts the `/dev` tmpfs (before the mount entries, which may use it).
pub fn mount_tmpfs(sys: &dyn Sys, root: &OwnedFd, size: u32) -> Result<(), Fail> {
    let dev = open_dir(root, "dev")?;
    let data = format!("size={size},mode=755");
    do_mount(
        sys,
        Some("none"),
        &fd_path(&dev),
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some(&data),
        "the /dev tmpfs",
    )
}

/// Fills `/dev`: nodes (or binds of the host's when mknod is not allowed),
/// devpts, ptmx, the std symlinks, the console and the ttys.
pub fn fill(
    sys: &dyn Sys,
    root: &OwnedFd,
    pty_max: u32,
    console: Option<&OwnedFd>,
    ttys: &[&OwnedFd],
    tty_dir: Option<&str>,
) -> Result<(), Fail> {
    let dev = open_in_root(root, Path::new("dev"), libc::O_PATH | libc::O_DIRECTORY)
        .map_err(|e| format!("opening /dev in the rootfs: {e}"))?;
    for (name, major, minor) in NODES {
        node(sys, root, &dev, name, *major, *minor)?;
    }
    let pts = open_dir(root, "dev/pts")?;
    do_mount(
        sys,
        Some("devpts"),
        &fd_path(&pts),
        Some("devpts"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some(&devpts_options(pty_max)),
        "the container's devpts",
    )?;
    for (link, to) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        symlink(&dev, to, link)?;
    }
    if let Some(c) = console {
        bind_pty(sys, root, c, "dev/console")?;
    }
    for (i, t) in ttys.iter().enumerate() {
        let n = i + 1;
        match tty_dir {
            Some(d) => {
                bind_pty(sys, root, t, &format!("dev/{d}/tty{n}"))?;
                symlink(&dev, &format!("{d}/tty{n}"), &format!("tty{n}"))?;
            }
            None => bind_pty(sys, root, t, &format!("dev/tty{n}"))?,
        }
    }
    Ok(())
}

fn node(
    sys: &dyn Sys,
    root: &OwnedFd,
    dev: &OwnedFd,
    name: &str,
    major: u64,
    minor: u64,
) -> Result<(), Fail> {
    match sys.mknod_char(dev.as_fd(), name, major, minor) {
        Ok(()) => Ok(()),
        // Not allowed to make nodes (a user namespace): bind the host's.
        Err(e) if e.errno() == Some(nix::errno::Errno::EPERM) => {
            let rel = format!("dev/{name}");
            touch_in_root(root, Path::new(&rel), 0o666)
                .map_err(|e| format!("making /{rel}: {e}"))?;
            let t = open_in_root(root, Path::new(&rel), libc::O_PATH)
                .map_err(|e| format!("opening /{rel}: {e}"))?;
            do_mount(
                sys,
                Some(&format!("/dev/{name}")),
                &fd_path(&t),
                None,
                MsFlags::MS_BIND,
                None,
                &format!("/dev/{name}"),
            )
        }
        Err(e) => Err(format!("making /dev/{name}: {e}")),
    }
}

fn symlink(dev: &OwnedFd, to: &str, link: &str) -> Result<(), Fail> {
    match nix::unistd::symlinkat(to, Some(dev.as_raw_fd()), link) {
        Ok(()) | Err(nix::errno::Errno::EEXIST) => Ok(()),
        Err(e) => Err(format!("linking /dev/{link} → {to}: {}", e.desc())),
    }
}

/// Bind-mounts a pty slave over `rel`. The source is the slave's path, looked
/// up again in this mount namespace: a bind from an fd opened before the
/// namespace was made is refused (its mount belongs to the old namespace).
fn bind_pty(sys: &dyn Sys, root: &OwnedFd, slave: &OwnedFd, rel: &str) -> Result<(), Fail> {
    let src = std::fs::read_link(fd_path(slave))
        .map_err(|e| format!("finding the pty for /{rel}: {e}"))?;
    let src = src.to_string_lossy();
    touch_in_root(root, Path::new(rel), 0o600).map_err(|e| format!("making /{rel}: {e}"))?;
    let t = open_in_root(root, Path::new(rel), libc::O_PATH)
        .map_err(|e| format!("opening /{rel}: {e}"))?;
    do_mount(
        sys,
        Some(&src),
        &fd_path(&t),
        None,
        MsFlags::MS_BIND,
        None,
        &format!("/{rel}"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn devpts_is_private_and_limited() {
        assert_eq!(
            super::devpts_options(0),
            "newinstance,ptmxmode=0666,mode=0620,gid=5"
        );
        assert!(super::devpts_options(16).ends_with(",max=16"));
    }
}
