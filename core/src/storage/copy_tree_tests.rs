use super::*;
use std::os::unix::fs::PermissionsExt;

fn root() -> bool {
    nix::unistd::geteuid().is_root()
}

fn setxattr(p: &Path, name: &str, value: &[u8]) -> bool {
    let (p, n) = (cpath(p).unwrap(), CString::new(name).unwrap());
    // SAFETY: lsetxattr with NUL-terminated strings and our buffer.
    unsafe {
        libc::lsetxattr(
            p.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        ) == 0
    }
}

fn getxattr(p: &Path, name: &str) -> Option<Vec<u8>> {
    xattr_value(&cpath(p).unwrap(), &CString::new(name).unwrap()).ok()
}

/// A source tree with one of everything an unprivileged test can make.
fn sample(src: &Path) {
    std::fs::create_dir_all(src.join("etc/deep")).unwrap();
    std::fs::write(src.join("etc/hostname"), "c1\n").unwrap();
    std::fs::write(src.join("etc/deep/x"), vec![7u8; 100_000]).unwrap();
    std::fs::hard_link(src.join("etc/hostname"), src.join("hostname.link")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", src.join("abs-link")).unwrap();
    std::os::unix::fs::symlink("etc/hostname", src.join("rel-link")).unwrap();
    nix::unistd::mkfifo(
        &src.join("fifo"),
        nix::sys::stat::Mode::from_bits_truncate(0o640),
    )
    .unwrap();
    // 64 MiB with 4 KiB of data in the middle.
    let f = std::fs::File::create(src.join("sparse")).unwrap();
    f.set_len(64 << 20).unwrap();
    std::os::unix::fs::FileExt::write_at(&f, &[1u8; 4096], 32 << 20).unwrap();
    std::fs::set_permissions(src.join("etc/deep"), std::fs::Permissions::from_mode(0o750)).unwrap();
    std::fs::set_permissions(
        src.join("etc/hostname"),
        std::fs::Permissions::from_mode(0o604),
    )
    .unwrap();
}

#[test]
fn copies_data_links_nodes_modes_times_and_holes() {
    let d = tempfile::tempdir().unwrap();
    let (src, dst) = (d.path().join("src"), d.path().join("dst"));
    sample(&src);
    let old = filetime(&src.join("etc/deep"));
    let stats = copy_tree(&src, &dst).unwrap();
    assert_eq!(
        std::fs::read(dst.join("etc/deep/x")).unwrap(),
        vec![7u8; 100_000]
    );
    assert_eq!(
        std::fs::read_to_string(dst.join("etc/hostname")).unwrap(),
        "c1\n"
    );
    let (a, b) = (
        std::fs::metadata(dst.join("etc/hostname")).unwrap(),
        std::fs::metadata(dst.join("hostname.link")).unwrap(),
    );
    assert_eq!(a.ino(), b.ino(), "a hard link stays one inode");
    assert_eq!(a.nlink(), 2);
    assert_eq!(a.mode() & 0o7777, 0o604);
    assert_eq!(
        std::fs::read_link(dst.join("abs-link")).unwrap(),
        Path::new("/etc/passwd")
    );
    assert_eq!(
        std::fs::read_link(dst.join("rel-link")).unwrap(),
        Path::new("etc/hostname")
    );
    let fifo = std::fs::symlink_metadata(dst.join("fifo")).unwrap();
    assert!(fifo.file_type().is_fifo());
    assert_eq!(fifo.mode() & 0o7777, 0o640);
    let sparse = std::fs::metadata(dst.join("sparse")).unwrap();
    assert_eq!(sparse.len(), 64 << 20);
    assert!(
        sparse.blocks() * 512 < 1 << 20,
        "holes kept: {} blocks",
        sparse.blocks()
    );
    let mut buf = [0u8; 4096];
    std::os::unix::fs::FileExt::read_at(
        &std::fs::File::open(dst.join("sparse")).unwrap(),
        &mut buf,
        32 << 20,
    )
    .unwrap();
    assert_eq!(buf, [1u8; 4096]);
    let deep = std::fs::metadata(dst.join("etc/deep")).unwrap();
    assert_eq!(deep.mode() & 0o7777, 0o750);
    assert_eq!(
        filetime(&dst.join("etc/deep")),
        old,
        "a directory keeps its mtime"
    );
    assert_eq!(stats.entries, 10);
    assert!(stats.bytes >= 100_000 + 4096, "{stats:?}");
}

fn filetime(p: &Path) -> (i64, i64) {
    let m = std::fs::symlink_metadata(p).unwrap();
    (m.mtime(), m.mtime_nsec())
}

#[test]
fn copies_user_xattrs() {
    let d = tempfile::tempdir().unwrap();
    let (src, dst) = (d.path().join("src"), d.path().join("dst"));
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("f"), "x").unwrap();
    if !setxattr(&src.join("f"), "user.rlxc", b"kept") {
        return; // a filesystem without user xattrs
    }
    copy_tree(&src, &dst).unwrap();
    assert_eq!(
        getxattr(&dst.join("f"), "user.rlxc").as_deref(),
        Some(&b"kept"[..])
    );
}

#[test]
fn as_root_keeps_owners_setuid_devices_and_file_capabilities() {
    if !root() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (src, dst) = (d.path().join("src"), d.path().join("dst"));
    std::fs::create_dir(&src).unwrap();
    let ping = src.join("ping");
    std::fs::write(&ping, "#!/bin/sh\n").unwrap();
    std::os::unix::fs::chown(&ping, Some(1000), Some(1001)).unwrap();
    std::fs::set_permissions(&ping, std::fs::Permissions::from_mode(0o4755)).unwrap();
    // cap_net_raw+ep, VFS_CAP_REVISION_2.
    let cap: [u8; 20] = [
        0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let has_cap = setxattr(&ping, "security.capability", &cap);
    let null = cpath(&src.join("null")).unwrap();
    // SAFETY: mknod of a char device at a NUL-terminated path.
    assert_eq!(
        unsafe { libc::mknod(null.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) },
        0
    );
    std::os::unix::fs::chown(&src, Some(100_000), Some(100_000)).unwrap();
    copy_tree(&src, &dst).unwrap();
    let m = std::fs::metadata(dst.join("ping")).unwrap();
    assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (1000, 1001, 0o4755));
    if has_cap {
        assert_eq!(
            getxattr(&dst.join("ping"), "security.capability").as_deref(),
            Some(&cap[..])
        );
    }
    let n = std::fs::symlink_metadata(dst.join("null")).unwrap();
    assert!(n.file_type().is_char_device());
    assert_eq!(n.rdev(), libc::makedev(1, 3));
    assert_eq!(std::fs::metadata(&dst).unwrap().uid(), 100_000);
}

#[test]
fn refuses_an_existing_destination_and_a_file_source() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let e = copy_tree(&src, d.path()).unwrap_err();
    assert_eq!(e.source.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
    std::fs::write(d.path().join("f"), "").unwrap();
    let e = copy_tree(&d.path().join("f"), &d.path().join("g")).unwrap_err();
    assert!(e.to_string().contains("not a directory"), "{e}");
}

#[test]
fn an_unreadable_file_fails_the_copy_naming_it() {
    if root() {
        return; // root reads anything
    }
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("secret"), "x").unwrap();
    std::fs::set_permissions(src.join("secret"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let e = copy_tree(&src, &d.path().join("dst")).unwrap_err();
    assert!(e.path.ends_with("secret"), "{e}");
}
