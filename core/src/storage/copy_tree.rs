//! A faithful copy of a directory tree, without `rsync`: owners, modes
//! (setuid included), timestamps, every extended attribute (so ACLs and file
//! capabilities too), hard links, device nodes, fifos, sockets, symlinks and
//! sparse files. File data is copied by a pool of threads, each file by a
//! reflink (`FICLONE`) where the filesystems share extents, else by
//! `copy_file_range` over its data extents only (`SEEK_DATA`/`SEEK_HOLE`),
//! so holes stay holes.
//!
//! The copy stays on the source's filesystem (a mount point below it is
//! copied as an empty directory, as `cp -x` does): a container's rootfs is
//! copied, never what somebody mounted into it. Order matters: owners are set
//! before modes and capabilities (a chown clears setuid bits and
//! `security.capability`), and directories get their modes and times after
//! the workers (which make the files and symlinks in them) are done.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex};

/// What a copy did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CopyStats {
    /// Entries made (directories, files, links, nodes).
    pub entries: u64,
    /// Bytes of file data copied (holes not counted).
    pub bytes: u64,
}

/// A copy failure, naming the path.
#[derive(Debug, thiserror::Error)]
#[error("copying {path}: {source}")]
pub struct CopyError {
    /// The source or destination path that failed.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

fn err(path: &Path) -> impl FnOnce(std::io::Error) -> CopyError + '_ {
    move |source| CopyError {
        path: path.to_path_buf(),
        source,
    }
}

/// Copies the tree at `src` into `dst`, which must not exist yet (its
/// parent must). On failure, what was made of `dst` is left for the caller
/// to remove.
pub fn copy_tree(src: &Path, dst: &Path) -> Result<CopyStats, CopyError> {
    copy_tree_to(src, dst, true)
}

/// [`copy_tree`] into `dst`, an existing empty directory (a new btrfs
/// subvolume, a freshly made filesystem), which takes the source's owner,
/// mode, attributes and times.
pub fn copy_tree_into(src: &Path, dst: &Path) -> Result<CopyStats, CopyError> {
    copy_tree_to(src, dst, false)
}

fn copy_tree_to(src: &Path, dst: &Path, create: bool) -> Result<CopyStats, CopyError> {
    let top = std::fs::symlink_metadata(src).map_err(err(src))?;
    if !top.is_dir() {
        return Err(CopyError {
            path: src.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a directory"),
        });
    }
    let mine = owner_of_new(dst, create);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    let (tx, rx) = mpsc::sync_channel::<(PathBuf, PathBuf, std::fs::Metadata)>(256);
    let rx = Mutex::new(rx);
    let failure: Mutex<Option<CopyError>> = Mutex::new(None);
    let bytes = std::sync::atomic::AtomicU64::new(0);
    let walked = std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                let Ok((from, to, meta)) = job else { return };
                // After a failure the rest is only drained: the copy is lost anyway.
                if failure.lock().unwrap_or_else(|p| p.into_inner()).is_some() {
                    continue;
                }
                match copy_entry(&from, &to, &meta, mine) {
                    Ok(n) => {
                        bytes.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                    }
                    Err(e) => {
                        failure
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(e);
                    }
                }
            });
        }
        let mut walk = Walk {
            merge: !create,
            mine,
            dev: top.dev(),
            links: HashMap::new(),
            files: tx,
            entries: 0,
            failed: &failure,
            dirs: Vec::new(),
        };
        let r = walk.dir(src, dst, &top, create);
        drop(walk.files);
        r.map(|()| (walk.entries, walk.dirs))
    });
    // The workers are done: now the directories' modes, then their times
    // (each entry made in a directory changes its mtime).
    let walked = walked.and_then(|(entries, dirs)| {
        // Children first (the list is in the walk's post-order): a parent's
        // mode may take away the way into it.
        for (d, m) in &dirs {
            set_mode(d, m)?;
            set_times(d, m)?;
        }
        Ok(entries)
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Ok(CopyStats {
        entries: walked?,
        bytes: bytes.into_inner(),
    })
}

/// The owner every entry this copy makes starts with: our effective ids.
/// (Entries are made in directories the copy created, mode 0700 until the
/// end, so never set-group-id; a set-group-id directory above them makes
/// the answer unknown.)
fn owner_of_new(dst: &Path, create: bool) -> Option<(u32, u32)> {
    // The directory new entries inherit a group from when it is set-group-id.
    let first = if create { dst.parent()? } else { dst };
    if std::fs::metadata(first).ok()?.mode() & libc::S_ISGID != 0 {
        return None;
    }
    Some((
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    ))
}

/// The walk: directories, links and nodes made in place; file data queued.
struct Walk<'a> {
    /// Into an existing tree (a fresh filesystem): its directories are reused.
    merge: bool,
    /// Who owns what this copy creates, when that is certain (see [`owner_of_new`]).
    mine: Option<(u32, u32)>,
    dev: u64,
    /// Inodes with more than one link: where their first copy went.
    links: HashMap<(u64, u64), PathBuf>,
    files: mpsc::SyncSender<(PathBuf, PathBuf, std::fs::Metadata)>,
    entries: u64,
    failed: &'a Mutex<Option<CopyError>>,
    /// Every directory made, in the order made: their modes and times are
    /// set once the workers are done with them.
    dirs: Vec<(PathBuf, std::fs::Metadata)>,
}

impl Walk<'_> {
    fn dir(
        &mut self,
        src: &Path,
        dst: &Path,
        meta: &std::fs::Metadata,
        create: bool,
    ) -> Result<(), CopyError> {
        // Private until its own mode is set, at the end.
        if create {
            match std::fs::DirBuilder::new().mode(0o700).create(dst) {
                Ok(()) => {}
                // A fresh filesystem's own directory (ext4's lost+found):
                // filled and given the source's attributes like any other.
                Err(e)
                    if e.kind() == std::io::ErrorKind::AlreadyExists
                        && self.merge
                        && std::fs::symlink_metadata(dst).is_ok_and(|m| m.is_dir()) => {}
                Err(e) => return Err(err(dst)(e)),
            }
        }
        self.entries += 1;
        if meta.dev() == self.dev {
            let mut names: Vec<_> = std::fs::read_dir(src)
                .map_err(err(src))?
                .collect::<Result<_, _>>()
                .map_err(err(src))?;
            names.sort_by_key(std::fs::DirEntry::file_name);
            for e in names {
                if self
                    .failed
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_some()
                {
                    return Ok(());
                }
                let (from, to) = (e.path(), dst.join(e.file_name()));
                let m = std::fs::symlink_metadata(&from).map_err(err(&from))?;
                self.entry(&from, &to, m)?;
            }
        }
        set_owner_and_attrs(src, dst, meta, false, self.mine)?;
        self.dirs.push((dst.to_path_buf(), meta.clone()));
        Ok(())
    }

    /// Hands a file or symlink to the worker pool.
    fn to_workers(&self, from: &Path, to: &Path, m: std::fs::Metadata) -> Result<(), CopyError> {
        self.files
            .send((from.to_path_buf(), to.to_path_buf(), m))
            .map_err(|_| CopyError {
                path: from.to_path_buf(),
                source: std::io::Error::other("the copy workers stopped"),
            })
    }

    fn entry(&mut self, from: &Path, to: &Path, m: std::fs::Metadata) -> Result<(), CopyError> {
        let ft = m.file_type();
        if ft.is_dir() {
            return self.dir(from, to, &m, true);
        }
        if m.nlink() > 1 {
            if let Some(first) = self.links.get(&(m.dev(), m.ino())) {
                self.entries += 1;
                return std::fs::hard_link(first, to).map_err(err(to));
            }
            self.links.insert((m.dev(), m.ino()), to.to_path_buf());
        }
        self.entries += 1;
        if ft.is_file() {
            // Made now, so that a later hard link to it finds it.
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(to)
                .map_err(err(to))?;
            return self.to_workers(from, to, m);
        }
        if ft.is_symlink() {
            // Made by the workers too (a rootfs is mostly links: the kernel
            // time per entry is what a copy costs), unless another name
            // must link to it.
            if m.nlink() > 1 {
                return copy_symlink(from, to, &m, self.mine);
            }
            return self.to_workers(from, to, m);
        }
        if ft.is_block_device() || ft.is_char_device() || ft.is_fifo() || ft.is_socket() {
            let c = cpath(to)?;
            // SAFETY: mknod on a NUL-terminated path with the source's type and rdev.
            if unsafe { libc::mknod(c.as_ptr(), m.mode() & libc::S_IFMT, m.rdev()) } != 0 {
                return Err(err(to)(std::io::Error::last_os_error()));
            }
            set_owner_and_attrs(from, to, &m, false, self.mine)?;
            set_mode(to, &m)?;
            return set_times(to, &m);
        }
        Ok(())
    }
}

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

/// `FICLONE`: share all of the source's extents (btrfs, xfs).
const FICLONE: libc::c_ulong = 0x4004_9409;

/// One regular file: data, then owner, attributes, mode and times.
/// A symlink, with its owner, attributes and times.
fn copy_symlink(
    from: &Path,
    to: &Path,
    m: &std::fs::Metadata,
    mine: Option<(u32, u32)>,
) -> Result<(), CopyError> {
    let target = std::fs::read_link(from).map_err(err(from))?;
    std::os::unix::fs::symlink(&target, to).map_err(err(to))?;
    set_owner_and_attrs(from, to, m, true, mine)?;
    set_times(to, m)
}

/// One job of the workers: a regular file (made empty by the walk) or a symlink.
fn copy_entry(
    from: &Path,
    to: &Path,
    m: &std::fs::Metadata,
    mine: Option<(u32, u32)>,
) -> Result<u64, CopyError> {
    if m.file_type().is_symlink() {
        return copy_symlink(from, to, m, mine).map(|()| 0);
    }
    copy_file(from, to, m, mine)
}

fn copy_file(
    from: &Path,
    to: &Path,
    m: &std::fs::Metadata,
    mine: Option<(u32, u32)>,
) -> Result<u64, CopyError> {
    let src = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(from)
        .map_err(err(from))?;
    let dst = std::fs::OpenOptions::new()
        .write(true)
        .open(to)
        .map_err(err(to))?;
    let len = m.len();
    // SAFETY: FICLONE between two fds we hold.
    let cloned = len > 0 && unsafe { libc::ioctl(dst.as_raw_fd(), FICLONE, src.as_raw_fd()) } == 0;
    let copied = if cloned || len == 0 {
        0
    } else {
        copy_extents(&src, &dst, len).map_err(err(to))?
    };
    drop(dst);
    set_owner_and_attrs(from, to, m, false, mine)?;
    set_mode(to, m)?;
    set_times(to, m)?;
    Ok(if cloned { len } else { copied })
}

/// Copies the data extents of `src` (length `len`) into `dst` at the same
/// offsets; the holes between stay holes.
fn copy_extents(src: &std::fs::File, dst: &std::fs::File, len: u64) -> std::io::Result<u64> {
    let (s, d) = (src.as_raw_fd(), dst.as_raw_fd());
    let mut total = 0u64;
    let mut pos: i64 = 0;
    while (pos as u64) < len {
        // SAFETY: lseek on our fd.
        let data = unsafe { libc::lseek(s, pos, libc::SEEK_DATA) };
        if data < 0 {
            match std::io::Error::last_os_error().raw_os_error() {
                // No data after pos: the rest is a hole.
                Some(libc::ENXIO) => break,
                // A filesystem without SEEK_DATA: all of it is data.
                Some(libc::EINVAL) if pos == 0 => return copy_range(s, d, 0, len),
                _ => return Err(std::io::Error::last_os_error()),
            }
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(s, data, libc::SEEK_HOLE) };
        let end = if hole < 0 { len as i64 } else { hole };
        total += copy_range(s, d, data as u64, (end - data) as u64)?;
        pos = end;
    }
    dst.set_len(len)?;
    Ok(total)
}

/// `copy_file_range` of `count` bytes at `off` in both files (a read/write
/// loop where the kernel refuses it, e.g. across some filesystems).
fn copy_range(s: i32, d: i32, off: u64, count: u64) -> std::io::Result<u64> {
    let (mut so, mut dof) = (off as i64, off as i64);
    let mut left = count;
    while left > 0 {
        let chunk = left.min(1 << 30) as usize;
        // SAFETY: copy_file_range between our fds with our offsets.
        let n = unsafe { libc::copy_file_range(s, &mut so, d, &mut dof, chunk, 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if matches!(
                e.raw_os_error(),
                Some(libc::EXDEV | libc::EINVAL | libc::EOPNOTSUPP | libc::ENOSYS)
            ) {
                return read_write(s, d, so as u64, left).map(|n| count - left + n);
            }
            return Err(e);
        }
        if n == 0 {
            break;
        }
        left -= n as u64;
    }
    Ok(count - left)
}

fn read_write(s: i32, d: i32, off: u64, count: u64) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut done = 0u64;
    while done < count {
        let want = buf.len().min((count - done) as usize);
        // SAFETY: pread into our buffer.
        let n = unsafe { libc::pread(s, buf.as_mut_ptr().cast(), want, (off + done) as i64) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if n == 0 {
            break;
        }
        let mut w = 0usize;
        while w < n as usize {
            // SAFETY: pwrite from our buffer.
            let k = unsafe {
                libc::pwrite(
                    d,
                    buf[w..].as_ptr().cast(),
                    n as usize - w,
                    (off + done) as i64 + w as i64,
                )
            };
            if k < 0 {
                return Err(std::io::Error::last_os_error());
            }
            w += k as usize;
        }
        done += n as u64;
    }
    Ok(done)
}

fn cpath(p: &Path) -> Result<CString, CopyError> {
    CString::new(p.as_os_str().as_bytes()).map_err(|_| CopyError {
        path: p.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "a NUL in the path"),
    })
}

/// Owner first (it clears setuid bits and file capabilities), then every
/// extended attribute of the source.
fn set_owner_and_attrs(
    from: &Path,
    to: &Path,
    m: &std::fs::Metadata,
    symlink: bool,
    mine: Option<(u32, u32)>,
) -> Result<(), CopyError> {
    // A new entry is ours already: the chown is skipped when the source's
    // owner is us (most of a root-owned rootfs), a syscall per entry.
    if mine != Some((m.uid(), m.gid())) {
        std::os::unix::fs::lchown(to, Some(m.uid()), Some(m.gid())).map_err(err(to))?;
    }
    let (f, t) = (cpath(from)?, cpath(to)?);
    for name in xattr_names(&f).map_err(err(from))? {
        // Symlinks take no user.* attributes; the source cannot have them either.
        if symlink && name.to_bytes().starts_with(b"user.") {
            continue;
        }
        let value = xattr_value(&f, &name).map_err(err(from))?;
        // SAFETY: lsetxattr with a NUL-terminated path and name and our buffer.
        let r = unsafe {
            libc::lsetxattr(
                t.as_ptr(),
                name.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        };
        if r != 0 {
            let e = std::io::Error::last_os_error();
            // A destination filesystem without xattrs of that namespace.
            if e.raw_os_error() == Some(libc::EOPNOTSUPP) {
                continue;
            }
            return Err(CopyError {
                path: to.to_path_buf(),
                source: std::io::Error::new(
                    e.kind(),
                    format!("extended attribute {}: {e}", name.to_string_lossy()),
                ),
            });
        }
    }
    Ok(())
}

fn xattr_names(path: &CStr) -> std::io::Result<Vec<CString>> {
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: llistxattr into our buffer of buf.len() bytes.
        let n = unsafe { libc::llistxattr(path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            buf.truncate(n as usize);
            return Ok(buf
                .split(|b| *b == 0)
                .filter(|s| !s.is_empty())
                .filter_map(|s| CString::new(s).ok())
                .collect());
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::ERANGE) => buf.resize(buf.len() * 4, 0),
            Some(libc::EOPNOTSUPP) => return Ok(Vec::new()),
            _ => return Err(std::io::Error::last_os_error()),
        }
    }
}

fn xattr_value(path: &CStr, name: &CStr) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    loop {
        // SAFETY: lgetxattr into our buffer of buf.len() bytes.
        let n = unsafe {
            libc::lgetxattr(
                path.as_ptr(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n >= 0 {
            buf.truncate(n as usize);
            return Ok(buf);
        }
        if std::io::Error::last_os_error().raw_os_error() == Some(libc::ERANGE) {
            buf.resize(buf.len() * 8, 0);
            continue;
        }
        return Err(std::io::Error::last_os_error());
    }
}

fn set_mode(to: &Path, m: &std::fs::Metadata) -> Result<(), CopyError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(m.mode() & 0o7777))
        .map_err(err(to))
}

fn set_times(to: &Path, m: &std::fs::Metadata) -> Result<(), CopyError> {
    let ts = [
        libc::timespec {
            tv_sec: m.atime(),
            tv_nsec: m.atime_nsec(),
        },
        libc::timespec {
            tv_sec: m.mtime(),
            tv_nsec: m.mtime_nsec(),
        },
    ];
    let c = cpath(to)?;
    // SAFETY: utimensat on a NUL-terminated path with two timespecs.
    let r = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            ts.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(err(to)(std::io::Error::last_os_error()))
    }
}

/// Bytes allocated by the files of a tree (symlinks not followed, one
/// filesystem only, hard links counted once).
pub fn tree_size(root: &Path) -> std::io::Result<u64> {
    let dev = std::fs::symlink_metadata(root)?.dev();
    let mut seen = std::collections::HashSet::new();
    let mut total = 0u64;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let meta = entry.metadata()?;
            if meta.dev() != dev {
                continue;
            }
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.nlink() <= 1 || seen.insert(meta.ino()) {
                total += meta.blocks() * 512;
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
#[path = "copy_tree_tests.rs"]
mod tests;
