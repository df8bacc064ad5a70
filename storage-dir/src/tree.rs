//! Directory-tree helpers: size, and what is mounted below a path.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

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

/// Mount points at or below `root`, read from a mountinfo file.
pub fn mounts_below(mountinfo: &Path, root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(mountinfo)?;
    Ok(parse_mounts_below(&text, root))
}

fn parse_mounts_below(mountinfo: &str, root: &Path) -> Vec<PathBuf> {
    mountinfo
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4))
        .map(|m| PathBuf::from(m.replace("\\040", " ")))
        .filter(|m| m.starts_with(root))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_mounts_below_a_path() {
        let mi = "22 1 0:21 / /proc rw - proc proc rw\n\
                  90 50 0:21 / /var/lib/lxc/c1/rootfs/proc rw - proc proc rw\n\
                  91 50 0:22 / /var/lib/lxc/c10 rw - tmpfs t rw\n";
        let found = parse_mounts_below(mi, Path::new("/var/lib/lxc/c1"));
        assert_eq!(found, vec![PathBuf::from("/var/lib/lxc/c1/rootfs/proc")]);
    }
}
