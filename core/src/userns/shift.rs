//! Shifting a rootfs's owners through a container's id maps: a tree
//! written with the ids it has inside (root-owned, as a template writes it)
//! gets, on the host, the ids the maps give them (`0` → `100000`), so that
//! the container's root owns its files. Symlinks are not followed and
//! other filesystems mounted below are not entered. chown(2) clears the
//! set-user-id and set-group-id bits and a file's capabilities, so both
//! are put back afterwards.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::maps::{Maps, Range};

/// The host id of `id` inside, by `ranges`.
pub fn host_id(ranges: &[Range], id: u32) -> Option<u32> {
    ranges
        .iter()
        .find(|r| r.has_ns(id))
        .map(|r| r.host + (id - r.ns))
}

const CAPS: &[u8] = b"security.capability\0";

fn caps_of(p: &CString) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 64];
    // SAFETY: lgetxattr into our buffer of buf.len() bytes, name NUL-ended.
    let n = unsafe {
        libc::lgetxattr(
            p.as_ptr(),
            CAPS.as_ptr().cast(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (n > 0).then(|| {
        buf.truncate(n as usize);
        buf
    })
}

fn set_caps(p: &CString, caps: &[u8]) -> std::io::Result<()> {
    // SAFETY: lsetxattr from our buffer; the name is NUL-ended.
    let r = unsafe {
        libc::lsetxattr(
            p.as_ptr(),
            CAPS.as_ptr().cast(),
            caps.as_ptr().cast(),
            caps.len(),
            0,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn err(p: &Path, e: &std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

/// Shifts every owner under `root` (and `root` itself) through `maps`;
/// returns how many entries it changed. An id the maps do not cover is an
/// error naming the file: the container could not own it.
pub fn shift_tree(root: &Path, maps: &Maps) -> std::io::Result<u64> {
    shift_tree_by(root, |u, g| {
        Some((host_id(&maps.uid, u)?, host_id(&maps.gid, g)?))
    })
}

/// A user's rootfs (what it wrote is its own): in a user namespace where
/// the container's maps stand beside the user's own id, every file of the
/// user becomes the container root's. Returns how many entries changed.
pub fn give_users_tree(
    root: &Path,
    maps: &Maps,
    uid: u32,
    gid: u32,
) -> Result<u64, super::UsernsError> {
    let root = root.to_path_buf();
    let (xu, xg) = beside(maps)?;
    in_users_namespace(maps, uid, gid, move || {
        let r = shift_tree_by(&root, |u, g| {
            Some((if u == xu { 0 } else { u }, if g == xg { 0 } else { g }))
        });
        match r {
            Ok(_) => 0,
            Err(e) => {
                let _ = nix::unistd::write(std::io::stderr(), format!("rlxc: {e}\n").as_bytes());
                1
            }
        }
    })
    .map(|()| 0)
}

/// The ids just past `maps`' ranges inside, where the user's own ids go.
fn beside(maps: &Maps) -> Result<(u32, u32), super::UsernsError> {
    let next = |r: &[Range]| {
        r.iter()
            .map(|x| u64::from(x.ns) + u64::from(x.count))
            .max()
            .unwrap_or(0)
    };
    match (
        u32::try_from(next(&maps.uid)),
        u32::try_from(next(&maps.gid)),
    ) {
        (Ok(u), Ok(g)) => Ok((u, g)),
        _ => Err(super::UsernsError::Maps(
            "lxc.idmap leaves no id for you beside it".into(),
        )),
    }
}

/// Runs `body` in a user namespace with `maps` and the caller's own ids
/// just past them (checked against its grants first); its failure is an
/// error, its message printed by `body`.
pub fn in_users_namespace(
    maps: &Maps,
    uid: u32,
    gid: u32,
    body: impl FnOnce() -> i32,
) -> Result<(), super::UsernsError> {
    let (xu, xg) = beside(maps)?;
    let mut helper = maps.clone();
    helper.uid.push(Range {
        ns: xu,
        host: uid,
        count: 1,
    });
    helper.gid.push(Range {
        ns: xg,
        host: gid,
        count: 1,
    });
    super::exec::check_grants(&helper, uid, gid)?;
    match super::exec::in_userns(&helper, false, body)? {
        0 => Ok(()),
        _ => Err(super::UsernsError::Sys {
            what: "in the container's user namespace".into(),
            why: "its error is above".into(),
        }),
    }
}

/// Shifts every owner under `root` (and `root` itself) by `to(uid, gid)`;
/// `None` is an error naming the file.
pub fn shift_tree_by(
    root: &Path,
    to: impl Fn(u32, u32) -> Option<(u32, u32)>,
) -> std::io::Result<u64> {
    let dev = std::fs::symlink_metadata(root)
        .map_err(|e| err(root, &e))?
        .dev();
    let mut n = 0;
    let mut stack = vec![root.to_path_buf()];
    // A file with hard links is shifted once.
    let mut linked = std::collections::HashSet::new();
    while let Some(p) = stack.pop() {
        let m = std::fs::symlink_metadata(&p).map_err(|e| err(&p, &e))?;
        if m.dev() != dev || (m.nlink() > 1 && !m.is_dir() && !linked.insert(m.ino())) {
            continue;
        }
        let (uid, gid) = match to(m.uid(), m.gid()) {
            Some(ids) => ids,
            None => {
                return Err(err(
                    &p,
                    &std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("owner {}:{} is not mapped by lxc.idmap", m.uid(), m.gid()),
                    ),
                ))
            }
        };
        let c = CString::new(p.as_os_str().as_bytes())
            .map_err(|_| err(&p, &std::io::ErrorKind::InvalidInput.into()))?;
        let link = m.file_type().is_symlink();
        let caps = if link { None } else { caps_of(&c) };
        std::os::unix::fs::lchown(&p, Some(uid), Some(gid)).map_err(|e| err(&p, &e))?;
        if !link {
            if m.mode() & 0o6000 != 0 {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(m.mode() & 0o7777))
                    .map_err(|e| err(&p, &e))?;
            }
            if let Some(c2) = caps {
                set_caps(&c, &c2).map_err(|e| err(&p, &e))?;
            }
        }
        n += 1;
        if m.is_dir() {
            for e in std::fs::read_dir(&p).map_err(|e| err(&p, &e))? {
                stack.push(e.map_err(|e| err(&p, &e))?.path());
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ids_by_range() {
        let r = [
            Range {
                ns: 0,
                host: 100000,
                count: 1000,
            },
            Range {
                ns: 1000,
                host: 1000,
                count: 1,
            },
        ];
        assert_eq!(host_id(&r, 0), Some(100000));
        assert_eq!(host_id(&r, 999), Some(100999));
        assert_eq!(host_id(&r, 1000), Some(1000));
        assert_eq!(host_id(&r, 1001), None);
    }

    #[test]
    fn a_tree_is_shifted_with_its_setuid_bits() {
        // SAFETY: a plain getter.
        if unsafe { libc::geteuid() } != 0 {
            return; // chown to other ids needs root
        }
        let d = tempfile::tempdir().unwrap();
        let r = d.path().join("r");
        std::fs::create_dir_all(r.join("bin")).unwrap();
        std::fs::write(r.join("bin/su"), "x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(r.join("bin/su"), std::fs::Permissions::from_mode(0o4755))
            .unwrap();
        std::os::unix::fs::symlink("/etc/passwd", r.join("link")).unwrap();
        std::fs::hard_link(r.join("bin/su"), r.join("bin/su2")).unwrap();
        std::os::unix::fs::lchown(r.join("bin"), Some(5), Some(5)).unwrap();
        let maps =
            Maps::from_idmaps(&[super::super::parse_cli_map("b:0:100000:65536").unwrap()]).unwrap();
        assert_eq!(shift_tree(&r, &maps).unwrap(), 4, "the hard link once");
        let m = |p: &str| std::fs::symlink_metadata(r.join(p)).unwrap();
        assert_eq!(
            (m("bin/su").uid(), m("bin/su").mode() & 0o7777),
            (100000, 0o4755)
        );
        assert_eq!(m("bin").uid(), 100005);
        assert_eq!(m("link").uid(), 100000);
        assert_eq!(
            std::fs::metadata("/etc/passwd").unwrap().uid(),
            0,
            "not followed"
        );
        let small =
            Maps::from_idmaps(&[super::super::parse_cli_map("b:0:100000:1").unwrap()]).unwrap();
        std::os::unix::fs::lchown(r.join("bin"), Some(5), Some(5)).unwrap();
        std::os::unix::fs::lchown(&r, Some(0), Some(0)).unwrap();
        let e = shift_tree(&r, &small).unwrap_err().to_string();
        assert!(e.contains("owner 5:5 is not mapped by lxc.idmap"), "{e}");
    }
}
