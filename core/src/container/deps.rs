//! LXC's clone dependency files, kept exact because tools and scripts read
//! them:
//!
//! - `<origin dir>/lxc_snapshots`: one `LXCPATH\nNAME\n` pair per clone whose
//!   rootfs depends on this container's (an overlay on it, an LVM snapshot);
//!   removed when the last pair goes. A single number (an old LXC's count)
//!   is read as that many unnamed clones.
//! - `<clone dir>/lxc_rdepends`: the `LXCPATH\nNAME\n` pairs of the
//!   containers the clone depends on (its origin's own first: a snapshot of
//!   a snapshot depends on both).
//!
//! Edits of one `lxc_snapshots` are serialised by an `flock` on its
//! directory, so a clone can be made or destroyed while its origin runs
//! (and holds its container lock).

use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The origin's file listing its clones.
pub const SNAPSHOTS: &str = "lxc_snapshots";
/// The clone's file listing its origins.
pub const RDEPENDS: &str = "lxc_rdepends";

/// A container by lxcpath and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dep {
    /// Its lxcpath.
    pub lxcpath: PathBuf,
    /// Its name.
    pub name: String,
}

impl Dep {
    /// Its directory.
    pub fn dir(&self) -> PathBuf {
        self.lxcpath.join(&self.name)
    }

    /// Whether the container may still exist: its config is there, or its
    /// lxcpath cannot be seen (an unmounted disk) and so cannot tell.
    fn exists(&self) -> bool {
        !self.lxcpath.is_dir() || self.dir().join("config").is_file()
    }
}

/// What an `lxc_snapshots` or `lxc_rdepends` file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepList {
    /// The pairs, in file order.
    pub deps: Vec<Dep>,
    /// An old LXC's bare count of clones.
    pub legacy_count: u32,
}

/// Parses the file's text; a trailing half pair is dropped.
pub fn parse(text: &str) -> DepList {
    let lines: Vec<&str> = text.lines().collect();
    if let [one] = lines.as_slice() {
        if let Ok(n) = one.trim().parse::<u32>() {
            return DepList {
                deps: Vec::new(),
                legacy_count: n,
            };
        }
    }
    DepList {
        deps: lines
            .chunks_exact(2)
            .map(|p| Dep {
                lxcpath: PathBuf::from(p[0]),
                name: p[1].to_string(),
            })
            .collect(),
        legacy_count: 0,
    }
}

fn render(deps: &[Dep]) -> String {
    deps.iter()
        .map(|d| format!("{}\n{}\n", d.lxcpath.display(), d.name))
        .collect()
}

/// Reads `dir/file`; a missing file is an empty list.
pub fn read(dir: &Path, file: &str) -> std::io::Result<DepList> {
    match std::fs::read_to_string(dir.join(file)) {
        Ok(t) => Ok(parse(&t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DepList::default()),
        Err(e) => Err(e),
    }
}

/// The clones of the container in `dir` that still exist (pairs naming a
/// container that is gone, left by an interrupted copy, are skipped), and an
/// old LXC's count.
pub fn live_clones(dir: &Path) -> std::io::Result<DepList> {
    let mut l = read(dir, SNAPSHOTS)?;
    l.deps.retain(Dep::exists);
    Ok(l)
}

/// Holds an exclusive `flock` on a directory while its file is edited.
struct DirLock {
    _dir: std::fs::File,
}

impl DirLock {
    fn take(dir: &Path) -> std::io::Result<DirLock> {
        let f = std::fs::File::open(dir)?;
        // SAFETY: flock on our fd.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(DirLock { _dir: f })
    }
}

/// Records `clone` in the origin's `lxc_snapshots`.
pub fn add_clone(origin_dir: &Path, clone: &Dep) -> std::io::Result<()> {
    let _l = DirLock::take(origin_dir)?;
    let l = read(origin_dir, SNAPSHOTS)?;
    if l.legacy_count > 0 {
        // An old LXC's count: counted on, as it would.
        let n = format!("{}\n", l.legacy_count + 1);
        return crate::config::document::write_atomic(&origin_dir.join(SNAPSHOTS), n.as_bytes())
            .map_err(|e| std::io::Error::other(e.to_string()));
    }
    // Pairs an interrupted copy left (their clone never appeared) go now,
    // so that LXC, which counts every pair, does not see them either.
    let mut deps = l.deps;
    if deps.iter().any(|d| !d.exists()) {
        deps.retain(Dep::exists);
        deps.push(clone.clone());
        return crate::config::document::write_atomic(
            &origin_dir.join(SNAPSHOTS),
            render(&deps).as_bytes(),
        )
        .map_err(|e| std::io::Error::other(e.to_string()));
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(origin_dir.join(SNAPSHOTS))?;
    f.write_all(render(std::slice::from_ref(clone)).as_bytes())?;
    f.sync_data()
}

/// Removes `clone` (and pairs of clones that are gone) from the origin's
/// `lxc_snapshots`; the file goes with its last pair. A missing origin is
/// not an error (it may have been destroyed with `-s`).
pub fn remove_clone(origin_dir: &Path, clone: &Dep) -> std::io::Result<()> {
    if !origin_dir.is_dir() {
        return Ok(());
    }
    let _l = DirLock::take(origin_dir)?;
    let mut l = read(origin_dir, SNAPSHOTS)?;
    if l.legacy_count > 0 {
        l.legacy_count -= 1;
        let path = origin_dir.join(SNAPSHOTS);
        return match l.legacy_count {
            0 => remove_if_there(&path),
            n => crate::config::document::write_atomic(&path, format!("{n}\n").as_bytes())
                .map_err(|e| std::io::Error::other(e.to_string())),
        };
    }
    l.deps.retain(|d| d != clone && d.exists());
    let path = origin_dir.join(SNAPSHOTS);
    if l.deps.is_empty() {
        return remove_if_there(&path);
    }
    crate::config::document::write_atomic(&path, render(&l.deps).as_bytes())
        .map_err(|e| std::io::Error::other(e.to_string()))
}

fn remove_if_there(p: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Writes the clone's `lxc_rdepends`: its origin's own list, then the origin.
pub fn write_rdepends(clone_dir: &Path, origin: &Dep) -> std::io::Result<()> {
    let mut deps = read(&origin.dir(), RDEPENDS)?.deps;
    deps.push(origin.clone());
    std::fs::write(clone_dir.join(RDEPENDS), render(&deps))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(p: &Path, n: &str) -> Dep {
        Dep {
            lxcpath: p.to_path_buf(),
            name: n.into(),
        }
    }

    fn make(p: &Path, n: &str) {
        std::fs::create_dir_all(p.join(n)).unwrap();
        std::fs::write(p.join(n).join("config"), "").unwrap();
    }

    #[test]
    fn parses_pairs_and_the_legacy_count() {
        let l = parse("/var/lib/lxc\nc2\n/srv/lxc\nc3\n");
        assert_eq!(l.deps.len(), 2);
        assert_eq!(l.deps[1].dir(), Path::new("/srv/lxc/c3"));
        assert_eq!(parse("2\n").legacy_count, 2);
        assert_eq!(parse("").deps, vec![]);
    }

    #[test]
    fn clones_come_and_go_exactly_as_lxc_writes_them() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        make(p, "c1");
        make(p, "c2");
        make(p, "c3");
        let origin = p.join("c1");
        add_clone(&origin, &dep(p, "c2")).unwrap();
        add_clone(&origin, &dep(p, "c3")).unwrap();
        let text = std::fs::read_to_string(origin.join(SNAPSHOTS)).unwrap();
        assert_eq!(text, format!("{0}\nc2\n{0}\nc3\n", p.display()));
        remove_clone(&origin, &dep(p, "c2")).unwrap();
        let text = std::fs::read_to_string(origin.join(SNAPSHOTS)).unwrap();
        assert_eq!(text, format!("{}\nc3\n", p.display()));
        // A pair naming a container that is gone does not count.
        add_clone(&origin, &dep(p, "ghost")).unwrap();
        assert_eq!(live_clones(&origin).unwrap().deps, vec![dep(p, "c3")]);
        remove_clone(&origin, &dep(p, "c3")).unwrap();
        assert!(
            !origin.join(SNAPSHOTS).exists(),
            "the file goes with its last pair"
        );
    }

    #[test]
    fn rdepends_lists_the_origins_origins_first() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        make(p, "a");
        make(p, "b");
        make(p, "c");
        write_rdepends(&p.join("b"), &dep(p, "a")).unwrap();
        write_rdepends(&p.join("c"), &dep(p, "b")).unwrap();
        let text = std::fs::read_to_string(p.join("c").join(RDEPENDS)).unwrap();
        assert_eq!(text, format!("{0}\na\n{0}\nb\n", p.display()));
    }
}
