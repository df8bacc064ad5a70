//! A minimal `/dev` for a container (`lxc.autodev`): a small tmpfs with the
//! usual device nodes, a private devpts, `/dev/ptmx`, and the console and ttys
//! bind-mounted from ptys the monitor holds.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use nix::mount::MsFlags;
use nix::sys::stat::{makedev, mknodat, Mode, SFlag};

use super::mounts::{do_mount, fd_path, open_dir, open_in_root, touch_in_root, Fail};

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
pub fn mount_tmpfs(root: &OwnedFd) -> Result<(), Fail> {
    let dev = open_dir(root, "dev")?;
    do_mount(
        Some("none"),
        &fd_path(&dev),
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
        Some("size=500000,mode=755"),
        "the /dev tmpfs",
    )
}

/// Fills `/dev`: nodes (or binds of the host's when mknod is not allowed),
/// devpts, ptmx, the std symlinks, the console and the ttys.
pub fn fill(
    root: &OwnedFd,
    pty_max: u32,
    console: Option<&OwnedFd>,
    ttys: &[&OwnedFd],
    tty_dir: Option<&str>,
) -> Result<(), Fail> {
    let dev = open_in_root(root, Path::new("dev"), libc::O_PATH | libc::O_DIRECTORY)
        .map_err(|e| format!("opening /dev in the rootfs: {e}"))?;
    for (name, major, minor) in NODES {
        node(root, &dev, name, *major, *minor)?;
    }
    let pts = open_dir(root, "dev/pts")?;
    do_mount(
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
        bind_pty(root, c, "dev/console")?;
    }
    for (i, t) in ttys.iter().enumerate() {
        let n = i + 1;
        match tty_dir {
            Some(d) => {
                bind_pty(root, t, &format!("dev/{d}/tty{n}"))?;
                symlink(&dev, &format!("{d}/tty{n}"), &format!("tty{n}"))?;
            }
            None => bind_pty(root, t, &format!("dev/tty{n}"))?,
        }
    }
    Ok(())
}

fn node(root: &OwnedFd, dev: &OwnedFd, name: &str, major: u64, minor: u64) -> Result<(), Fail> {
    let mode = Mode::from_bits_truncate(0o666);
    match mknodat(
        Some(dev.as_raw_fd()),
        name,
        SFlag::S_IFCHR,
        mode,
        makedev(major, minor),
    ) {
        Ok(()) => {
            // mknod obeys the umask; the nodes must be 0666.
            let _ = nix::sys::stat::fchmodat(
                Some(dev.as_raw_fd()),
                name,
                mode,
                nix::sys::stat::FchmodatFlags::FollowSymlink,
            );
            Ok(())
        }
        // Not allowed to make nodes (a user namespace): bind the host's.
        Err(nix::errno::Errno::EPERM) => {
            let rel = format!("dev/{name}");
            touch_in_root(root, Path::new(&rel), 0o666)
                .map_err(|e| format!("making /{rel}: {e}"))?;
            let t = open_in_root(root, Path::new(&rel), libc::O_PATH)
                .map_err(|e| format!("opening /{rel}: {e}"))?;
            do_mount(
                Some(&format!("/dev/{name}")),
                &fd_path(&t),
                None,
                MsFlags::MS_BIND,
                None,
                &format!("/dev/{name}"),
            )
        }
        Err(e) => Err(format!("making /dev/{name}: {}", e.desc())),
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
fn bind_pty(root: &OwnedFd, slave: &OwnedFd, rel: &str) -> Result<(), Fail> {
    let src = std::fs::read_link(fd_path(slave))
        .map_err(|e| format!("finding the pty for /{rel}: {e}"))?;
    let src = src.to_string_lossy();
    touch_in_root(root, Path::new(rel), 0o600).map_err(|e| format!("making /{rel}: {e}"))?;
    let t = open_in_root(root, Path::new(rel), libc::O_PATH)
        .map_err(|e| format!("opening /{rel}: {e}"))?;
    do_mount(
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
