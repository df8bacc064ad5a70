//! One `lxc.mount.entry` (or `lxc.mount.fstab` line) mounted below the
//! rootfs, with fstab semantics: binds and recursive binds (a read-only
//! recursive bind is read-only all the way down, through `mount_setattr`),
//! propagation (`shared`, `rslave`, …), `nosymfollow`, `optional`,
//! `create=dir|file` (refused through a symlink), `relative` sources, and
//! filesystem mounts with their data options. `idmap=container` binds of a
//! container with `lxc.idmap` are idmapped trees the monitor made
//! ([`idmapped_trees`]), attached here.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::mount::MsFlags;

use super::mounts::{
    do_mount, fd_path, mkdir_in_root, open_in_root, openat2_in, touch_in_root, Fail,
};
use crate::sys::Sys;

/// One `lxc.mount.entry` (or fstab line), split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    /// Source (a path or a pseudo filesystem name).
    pub source: String,
    /// Target as written (relative to the rootfs, or absolute).
    pub target: String,
    /// Filesystem type (`none` for binds).
    pub fstype: String,
    /// Comma-separated options.
    pub options: Vec<String>,
}

impl MountEntry {
    /// Parses an fstab-format line; `None` for blank and comment lines.
    pub fn parse(line: &str) -> Option<MountEntry> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let mut f = line.split_whitespace();
        let source = unescape(f.next()?);
        let target = unescape(f.next()?);
        let fstype = f.next().unwrap_or("none").to_string();
        let options = f
            .next()
            .unwrap_or("defaults")
            .split(',')
            .map(str::to_string)
            .collect();
        Some(MountEntry {
            source,
            target,
            fstype,
            options,
        })
    }

    /// Whether an option is present.
    pub fn has(&self, opt: &str) -> bool {
        self.options.iter().any(|o| o == opt)
    }
}

/// fstab escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t")
}

/// A mount target as a path relative to the rootfs: LXC accepts absolute
/// targets under the rootfs (`/var/lib/lxc/c1/rootfs/proc`) and relative ones;
/// any other absolute path is taken as inside the container.
pub fn entry_target(rootfs: &Path, target: &str) -> PathBuf {
    let t = Path::new(target);
    let rel = t.strip_prefix(rootfs).unwrap_or(t);
    rel.components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect()
}

/// What the options of an fstab line mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryOptions {
    /// `MS_*` flags.
    pub flags: MsFlags,
    /// Options passed to the filesystem.
    pub data: Vec<String>,
    /// `bind` or `rbind`.
    pub bind: bool,
    /// `create=dir`.
    pub create_dir: bool,
    /// `create=file`.
    pub create_file: bool,
    /// `optional`: a failure is skipped.
    pub optional: bool,
    /// `relative`: the source is a path inside the rootfs.
    pub relative: bool,
    /// Propagation changes, in order (`MS_SHARED`, `MS_SLAVE | MS_REC` …).
    pub propagation: Vec<MsFlags>,
    /// `idmap=…`, which needs an idmapped container.
    pub idmap: Option<String>,
}

/// Splits fstab options into flags and filesystem data.
pub fn entry_options(opts: &[String]) -> EntryOptions {
    let mut o = EntryOptions {
        flags: MsFlags::empty(),
        data: Vec::new(),
        bind: false,
        create_dir: false,
        create_file: false,
        optional: false,
        relative: false,
        propagation: Vec::new(),
        idmap: None,
    };
    for opt in opts {
        let set = |o: &mut EntryOptions, f: MsFlags| o.flags.insert(f);
        let clear = |o: &mut EntryOptions, f: MsFlags| o.flags.remove(f);
        match opt.as_str() {
            "defaults" | "rw" | "auto" | "noauto" | "nofail" | "" => {
                clear(&mut o, MsFlags::empty())
            }
            "ro" => set(&mut o, MsFlags::MS_RDONLY),
            "nosuid" => set(&mut o, MsFlags::MS_NOSUID),
            "suid" => clear(&mut o, MsFlags::MS_NOSUID),
            "nodev" => set(&mut o, MsFlags::MS_NODEV),
            "dev" => clear(&mut o, MsFlags::MS_NODEV),
            "noexec" => set(&mut o, MsFlags::MS_NOEXEC),
            "exec" => clear(&mut o, MsFlags::MS_NOEXEC),
            "sync" => set(&mut o, MsFlags::MS_SYNCHRONOUS),
            // The atime modes are one setting: the last one named wins.
            "noatime" => set_atime(&mut o, MsFlags::MS_NOATIME),
            "nodiratime" => set(&mut o, MsFlags::MS_NODIRATIME),
            "relatime" => set_atime(&mut o, MsFlags::MS_RELATIME),
            "strictatime" => set_atime(&mut o, MsFlags::MS_STRICTATIME),
            "bind" => o.bind = true,
            "rbind" => {
                o.bind = true;
                set(&mut o, MsFlags::MS_REC);
            }
            "nosymfollow" => set(&mut o, NOSYMFOLLOW),
            "relative" => o.relative = true,
            p if propagation(p).is_some() => o.propagation.extend(propagation(p)),
            i if i.starts_with("idmap=") => o.idmap = Some(i["idmap=".len()..].to_string()),
            "create=dir" => o.create_dir = true,
            "create=file" => o.create_file = true,
            "optional" => o.optional = true,
            other => o.data.push(other.to_string()),
        }
    }
    o
}

fn set_atime(o: &mut EntryOptions, mode: MsFlags) {
    o.flags
        .remove(MsFlags::MS_NOATIME | MsFlags::MS_RELATIME | MsFlags::MS_STRICTATIME);
    o.flags.insert(mode);
}

/// `MS_NOSYMFOLLOW` (Linux 5.10).
const NOSYMFOLLOW: MsFlags = MsFlags::from_bits_retain(256);

/// The propagation flags of an fstab option.
fn propagation(opt: &str) -> Option<MsFlags> {
    let rec = MsFlags::MS_REC;
    Some(match opt {
        "shared" => MsFlags::MS_SHARED,
        "rshared" => MsFlags::MS_SHARED | rec,
        "slave" => MsFlags::MS_SLAVE,
        "rslave" => MsFlags::MS_SLAVE | rec,
        "private" => MsFlags::MS_PRIVATE,
        "rprivate" => MsFlags::MS_PRIVATE | rec,
        "unbindable" => MsFlags::MS_UNBINDABLE,
        "runbindable" => MsFlags::MS_UNBINDABLE | rec,
        _ => return None,
    })
}

/// Refuses a target whose existing part goes through a symlink (a created
/// mount point must be where the entry says, never where a link points).
fn no_symlink_on_the_way(root: &OwnedFd, rel: &Path) -> Result<(), String> {
    let mut prefix = PathBuf::new();
    for c in rel.components() {
        prefix.push(c);
        match openat2_in(root, &prefix, libc::O_PATH, libc::RESOLVE_NO_SYMLINKS) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(format!(
                    "`/{}` is a symlink: refusing to create a mount point through it",
                    prefix.display()
                ))
            }
            Err(e) => return Err(format!("`/{}`: {e}", prefix.display())),
        }
    }
    Ok(())
}

use crate::userns::idmapped::MountAttr;

/// `MOUNT_ATTR__ATIME`: the atime mode field, cleared to set one of its values.
const ATTR_ATIME_MASK: u64 = 0x70;

/// The `MOUNT_ATTR_*` (set, clear) of bind flags, for a recursive change.
/// The atime modes are one field: setting one clears the field first
/// (`relatime` is its zero value).
fn mount_attrs(flags: MsFlags) -> (u64, u64) {
    let set: u64 = [
        (MsFlags::MS_RDONLY, 0x1u64),
        (MsFlags::MS_NOSUID, 0x2),
        (MsFlags::MS_NODEV, 0x4),
        (MsFlags::MS_NOEXEC, 0x8),
        (MsFlags::MS_NOATIME, 0x10),
        (MsFlags::MS_STRICTATIME, 0x20),
        (MsFlags::MS_NODIRATIME, 0x80),
        (NOSYMFOLLOW, 0x0020_0000),
    ]
    .iter()
    .filter(|(f, _)| flags.contains(*f))
    .map(|(_, a)| a)
    .sum();
    let atime = MsFlags::MS_NOATIME | MsFlags::MS_STRICTATIME | MsFlags::MS_RELATIME;
    let clr = if flags.intersects(atime) {
        ATTR_ATIME_MASK
    } else {
        0
    };
    (set, clr)
}

/// Sets `flags` on the mount at `fd` and every mount below it.
fn setattr_recursive(fd: &OwnedFd, flags: MsFlags) -> Result<(), String> {
    if flags.contains(MsFlags::MS_SYNCHRONOUS) {
        return Err(
            "`sync` is a filesystem's option, not a bind's: it cannot apply to rbind".into(),
        );
    }
    let (attr_set, attr_clr) = mount_attrs(flags);
    let attr = MountAttr {
        attr_set,
        attr_clr,
        propagation: 0,
        userns_fd: 0,
    };
    const AT_RECURSIVE: libc::c_int = 0x8000;
    // SAFETY: mount_setattr on our fd with an empty path and a live struct.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH | AT_RECURSIVE,
            std::ptr::from_ref(&attr),
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(format!(
            "mount_setattr (recursive): {}",
            nix::Error::last().desc()
        ))
    }
}

/// The idmapped trees of the `idmap=container` binds among `entries`
/// (`None` for the others), made by the monitor (only the host's root may)
/// for the container's first process to attach.
pub fn idmapped_trees(
    entries: &[MountEntry],
    maps: &crate::userns::Maps,
) -> Result<Vec<Option<OwnedFd>>, Fail> {
    use crate::userns::idmapped;
    if !entries.iter().any(|e| idmapped::asks_idmap(&e.options)) {
        return Ok(Vec::new());
    }
    let ns = idmapped::userns_fd(maps)?;
    entries
        .iter()
        .map(|e| {
            let o = entry_options(&e.options);
            if o.idmap.is_none() {
                return Ok(None);
            }
            let what = format!("lxc.mount.entry `{} {}`", e.source, e.target);
            if o.idmap.as_deref() != Some("container") || !o.bind || o.relative {
                return Err(format!(
                    "{what}: idmap= is `idmap=container`, on a bind of a host path"
                ));
            }
            idmapped::idmapped_tree(Path::new(&e.source), &ns, o.flags.contains(MsFlags::MS_REC))
                .map(Some)
                .map_err(|why| format!("{what}: {why}"))
        })
        .collect()
}

/// Mounts one `lxc.mount.entry` below `root` (the rootfs, or `/`);
/// `idmapped` is its idmapped tree (an `idmap=container` bind).
pub fn mount_entry(
    sys: &dyn Sys,
    root: &OwnedFd,
    rootfs: &Path,
    e: &MountEntry,
    idmapped: Option<&OwnedFd>,
) -> Result<(), Fail> {
    let o = entry_options(&e.options);
    let rel = entry_target(rootfs, &e.target);
    let what = format!("lxc.mount.entry `{} {} {}`", e.source, e.target, e.fstype);
    let fail = |why: String| -> Result<(), Fail> {
        if o.optional {
            tracing::info!("{what}: skipped (optional): {why}");
            Ok(())
        } else {
            Err(format!("{what}: {why}"))
        }
    };
    if o.idmap.is_some() && idmapped.is_none() {
        return Err(format!(
            "{what}: idmap=container is for a bind of a container with lxc.idmap started by root"
        ));
    }
    if o.create_dir || o.create_file {
        if let Err(why) = no_symlink_on_the_way(root, &rel) {
            return Err(format!("{what}: {why}"));
        }
    }
    let made = if o.create_dir {
        mkdir_in_root(root, &rel)
    } else if o.create_file {
        touch_in_root(root, &rel, 0o644)
    } else {
        Ok(())
    };
    if let Err(err) = made {
        return fail(format!("cannot create the target: {err}"));
    }
    let target = match open_in_root(root, &rel, libc::O_PATH) {
        Ok(fd) => fd,
        Err(err) => {
            return fail(format!(
                "target `{}` inside the rootfs: {err}",
                rel.display()
            ))
        }
    };
    let tpath = fd_path(&target);
    let data = (!o.data.is_empty()).then(|| o.data.join(","));
    let result = if let Some(tree) = idmapped {
        crate::userns::idmapped::attach(tree, &target)
            .map_err(|why| format!("{what}: {why}"))
            .and_then(|()| {
                let extra = o.flags - MsFlags::MS_REC;
                if extra.is_empty() {
                    return Ok(());
                }
                let fresh = open_in_root(root, &rel, libc::O_PATH)
                    .map_err(|e| format!("{what}: reopening the target: {e}"))?;
                setattr_recursive(&fresh, extra).map_err(|e| format!("{what}: {e}"))
            })
    } else if o.bind {
        // `relative`: a source inside the rootfs, resolved without leaving it.
        let source_fd;
        let source = if o.relative {
            let rel_src = entry_target(rootfs, &e.source);
            source_fd = match open_in_root(root, &rel_src, libc::O_PATH) {
                Ok(fd) => fd,
                Err(err) => return fail(format!("relative source `{}`: {err}", e.source)),
            };
            fd_path(&source_fd)
        } else {
            if !Path::new(&e.source).exists() {
                return fail(format!("source `{}` does not exist", e.source));
            }
            e.source.clone()
        };
        let bind = MsFlags::MS_BIND | (o.flags & MsFlags::MS_REC);
        do_mount(sys, Some(&source), &tpath, None, bind, None, &what).and_then(|()| {
            let extra = o.flags - MsFlags::MS_REC;
            if extra.is_empty() {
                return Ok(());
            }
            // Bind mounts take flags only on a remount, of the new mount: open
            // the target again (the old fd still points below it).
            let fresh = open_in_root(root, &rel, libc::O_PATH)
                .map_err(|e| format!("{what}: reopening the target: {e}"))?;
            if o.flags.contains(MsFlags::MS_REC) {
                // A remount changes the top mount only; rbind,ro means all of it.
                return setattr_recursive(&fresh, extra).map_err(|e| format!("{what}: {e}"));
            }
            do_mount(
                sys,
                None,
                &fd_path(&fresh),
                None,
                MsFlags::MS_REMOUNT | MsFlags::MS_BIND | extra,
                None,
                &what,
            )
        })
    } else {
        do_mount(
            sys,
            Some(&e.source),
            &tpath,
            Some(&e.fstype),
            o.flags,
            data.as_deref(),
            &what,
        )
    };
    let result = result.and_then(|()| {
        if o.propagation.is_empty() {
            return Ok(());
        }
        let fresh = open_in_root(root, &rel, libc::O_PATH)
            .map_err(|e| format!("{what}: reopening the target: {e}"))?;
        o.propagation
            .iter()
            .try_for_each(|p| do_mount(sys, None, &fd_path(&fresh), None, *p, None, &what))
    });
    match result {
        Ok(()) => Ok(()),
        Err(msg) if o.optional => {
            tracing::info!("skipped (optional): {msg}");
            Ok(())
        }
        Err(msg) => Err(msg),
    }
}

/// `lxc.rootfs.options`'s mount flags (`ro`, `nosuid`, `nodev`, `noexec`,
/// atime) put on the rootfs's own mount (`root`, an fd on its top) once everything below it is mounted
/// (mount points and `/dev` need it writable until then). Submounts keep
/// their flags; filesystem data options are the storage driver's.
pub fn remount_rootfs(sys: &dyn Sys, root: &OwnedFd, options: &[String]) -> Result<(), Fail> {
    let flags = entry_options(options).flags
        & (MsFlags::MS_RDONLY
            | MsFlags::MS_NOSUID
            | MsFlags::MS_NODEV
            | MsFlags::MS_NOEXEC
            | MsFlags::MS_NOATIME
            | MsFlags::MS_NODIRATIME
            | MsFlags::MS_RELATIME
            | MsFlags::MS_STRICTATIME);
    if flags.is_empty() {
        return Ok(());
    }
    let remount = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | flags;
    let what = format!("the rootfs with {} (lxc.rootfs.options)", options.join(","));
    do_mount(sys, None, &fd_path(root), None, remount, None, &what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_stay_relative_to_the_rootfs() {
        let r = Path::new("/var/lib/lxc/c1/rootfs");
        assert_eq!(
            entry_target(r, "/var/lib/lxc/c1/rootfs/proc"),
            Path::new("proc")
        );
        assert_eq!(entry_target(r, "dev/shm"), Path::new("dev/shm"));
        assert_eq!(entry_target(r, "/mnt/data"), Path::new("mnt/data"));
        assert_eq!(entry_target(r, "../../etc"), Path::new("etc"));
    }

    #[test]
    fn splits_options() {
        let opts: Vec<String> = "ro,rbind,create=dir,optional,size=10m,nosuid"
            .split(',')
            .map(str::to_string)
            .collect();
        let o = entry_options(&opts);
        assert!(o.bind && o.create_dir && o.optional && !o.create_file);
        assert_eq!(
            o.flags,
            MsFlags::MS_RDONLY | MsFlags::MS_REC | MsFlags::MS_NOSUID
        );
        assert_eq!(o.data, vec!["size=10m"]);
    }

    #[test]
    fn propagation_symfollow_relative_and_idmap() {
        let opts: Vec<String> = "bind,rslave,shared,nosymfollow,relative,idmap=container"
            .split(',')
            .map(str::to_string)
            .collect();
        let o = entry_options(&opts);
        assert_eq!(
            o.propagation,
            [MsFlags::MS_SLAVE | MsFlags::MS_REC, MsFlags::MS_SHARED]
        );
        assert_eq!(o.flags, NOSYMFOLLOW);
        assert!(o.relative);
        assert_eq!(o.idmap.as_deref(), Some("container"));
        assert!(o.data.is_empty());
        assert_eq!(
            mount_attrs(MsFlags::MS_RDONLY | MsFlags::MS_NOSUID),
            (0x3, 0)
        );
        assert_eq!(mount_attrs(MsFlags::MS_NOATIME), (0x10, 0x70));
        assert_eq!(mount_attrs(MsFlags::MS_RELATIME), (0, 0x70));
        let last: Vec<String> = vec!["noatime".into(), "strictatime".into()];
        assert_eq!(entry_options(&last).flags, MsFlags::MS_STRICTATIME);
    }

    #[test]
    fn a_created_target_through_a_symlink_is_refused() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("real")).unwrap();
        std::os::unix::fs::symlink("real", t.path().join("link")).unwrap();
        let fd: OwnedFd = std::fs::File::open(t.path()).unwrap().into();
        assert!(no_symlink_on_the_way(&fd, Path::new("real/new/dir")).is_ok());
        let e = no_symlink_on_the_way(&fd, Path::new("link/new")).unwrap_err();
        assert!(e.contains("`/link` is a symlink"), "{e}");
    }
}
