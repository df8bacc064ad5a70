//! What is mounted below a path: backends refuse to delete a tree that
//! has a mount inside it (a leftover bind of a host directory).

use std::path::{Path, PathBuf};

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
