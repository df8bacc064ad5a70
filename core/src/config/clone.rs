//! A clone's config from its origin's (`copy`, `clone`, `snapshot`): what
//! LXC's clone rewrites, and the paths it leaves pointing at the origin.
//!
//! - `lxc.rootfs.path` names the new rootfs;
//! - `lxc.uts.name` the new name (unless kept, `-K`);
//! - each `hwaddr` of the file itself gets new random last three octets, the
//!   vendor part kept (unless `-M`); NICs from an `lxc.include` are kept, as
//!   LXC keeps them;
//! - every value naming a path in the origin's directory (hooks, the fstab,
//!   `lxc.mount.entry` sources and targets such as the guide's
//!   `/var/lib/lxc/CN/rootfs/proc`, log files) names the clone's instead,
//!   and the hook scripts and fstab that live there are copied (LXC rewrites
//!   only hooks and the fstab, leaving a clone's mount entries and logs in
//!   its origin). `lxc.include` lines stay as they are.
//!
//! Lines are edited in place, so comments and order stay.

use std::path::{Path, PathBuf};

use super::document::{Document, LineKind};

/// Who the clone is and where.
#[derive(Debug, Clone)]
pub struct CloneNames<'a> {
    /// The origin's directory (`<lxcpath>/<name>`).
    pub old_dir: &'a Path,
    /// The clone's name.
    pub new_name: &'a str,
    /// The clone's directory.
    pub new_dir: &'a Path,
    /// The new `lxc.rootfs.path` value.
    pub rootfs: &'a str,
    /// `-K`: keep the hostname.
    pub keep_name: bool,
    /// `-M`: keep the MAC addresses.
    pub keep_mac: bool,
}

/// The clone's config and the files it names in its own directory.
#[derive(Debug, Clone)]
pub struct CloneConfig {
    /// The new config.
    pub doc: Document,
    /// `(origin file, clone file)`: hook scripts and fstab to copy.
    pub files: Vec<(PathBuf, PathBuf)>,
}

const ROOTFS_KEYS: &[&str] = &["lxc.rootfs.path", "lxc.rootfs"];
const NAME_KEYS: &[&str] = &["lxc.uts.name", "lxc.utsname"];

/// Rewrites `src` (the origin's config, as written) for the clone.
pub fn clone_config(
    src: &Document,
    n: &CloneNames<'_>,
    random: &mut dyn FnMut() -> u8,
) -> CloneConfig {
    let mut doc = Document {
        path: Some(n.new_dir.join("config")),
        lines: Vec::with_capacity(src.lines.len() + 2),
        trailing_newline: src.trailing_newline,
    };
    let mut files = Vec::new();
    let (mut rootfs_done, mut name_done) = (false, n.keep_name);
    for line in &src.lines {
        let LineKind::Entry { key, value } = &line.kind else {
            doc.lines.push(line.clone());
            continue;
        };
        if ROOTFS_KEYS.contains(&key.as_str()) {
            // The first one becomes the new path; later ones would override it.
            if !std::mem::replace(&mut rootfs_done, true) {
                push_edited(&mut doc, line, "lxc.rootfs.path", n.rootfs);
            }
            continue;
        }
        if !n.keep_name && NAME_KEYS.contains(&key.as_str()) {
            if !std::mem::replace(&mut name_done, true) {
                push_edited(&mut doc, line, "lxc.uts.name", n.new_name);
            }
            continue;
        }
        if !n.keep_mac && is_hwaddr_key(key) {
            if let Some(mac) = new_mac(value, random) {
                push_edited(&mut doc, line, key, &mac);
                continue;
            }
        }
        if key == "lxc.include" {
            doc.lines.push(line.clone());
            continue;
        }
        let moved = if key == "lxc.mount.entry" {
            mount_entry(value, n)
        } else {
            replace_dir(value, n.old_dir, n.new_dir)
        };
        if moved == *value {
            doc.lines.push(line.clone());
            continue;
        }
        if key.starts_with("lxc.hook.") || key == "lxc.mount.fstab" || key == "lxc.mount" {
            if let Some(pair) = own_file(value, n) {
                files.push(pair);
            }
        }
        push_edited(&mut doc, line, key, &moved);
    }
    if !rootfs_done {
        doc.append("lxc.rootfs.path", n.rootfs);
    }
    if !name_done {
        doc.append("lxc.uts.name", n.new_name);
    }
    CloneConfig { doc, files }
}

/// A hook script or fstab that is the origin's own: the value's first word,
/// in the origin's directory but not in its rootfs (the clone's rootfs is a
/// copy already, and a path there is the container's to point anywhere).
fn own_file(value: &str, n: &CloneNames<'_>) -> Option<(PathBuf, PathBuf)> {
    let file = Path::new(value.split_whitespace().next()?);
    let rel = file.strip_prefix(n.old_dir).ok()?;
    if rel.starts_with("rootfs") || rel.as_os_str().is_empty() {
        return None;
    }
    // Not followed: a symlink there is not a file of the origin's.
    std::fs::symlink_metadata(file)
        .ok()
        .filter(std::fs::Metadata::is_file)?;
    Some((file.to_path_buf(), n.new_dir.join(rel)))
}

/// A mount entry's target and options follow the clone (a target in the
/// origin's rootfs, an overlay's upper and work directories); its source
/// does only when it is in the origin's rootfs, which was copied. A source
/// elsewhere in the origin's directory stays, as in LXC.
fn mount_entry(value: &str, n: &CloneNames<'_>) -> String {
    let fields: Vec<&str> = value.split_whitespace().collect();
    if fields.len() < 2 {
        return value.to_string();
    }
    let old_rootfs = n.old_dir.join("rootfs");
    let mut out: Vec<String> = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        let moved = match i {
            0 if Path::new(f).starts_with(&old_rootfs) => replace_dir(f, n.old_dir, n.new_dir),
            0 => f.to_string(),
            _ => replace_dir(f, n.old_dir, n.new_dir),
        };
        out.push(moved);
    }
    let joined = out.join(" ");
    if joined == fields.join(" ") {
        value.to_string()
    } else {
        joined
    }
}

fn push_edited(doc: &mut Document, line: &super::document::Line, key: &str, value: &str) {
    doc.lines.push(line.clone());
    let idx = doc.lines.len() - 1;
    if line.entry().map(|(k, _)| k) != Some(key) {
        doc.set_key_at(idx, key);
    }
    doc.set_value_at(idx, value);
}

/// `lxc.net.N.hwaddr`, `lxc.network.hwaddr`, `lxc.network.N.hwaddr`.
fn is_hwaddr_key(key: &str) -> bool {
    (key.starts_with("lxc.net.") || key.starts_with("lxc.network.")) && key.ends_with(".hwaddr")
}

/// `mac` with new random last three octets; `None` for a value that is not
/// a MAC (left alone).
fn new_mac(mac: &str, random: &mut dyn FnMut() -> u8) -> Option<String> {
    let octets: Vec<&str> = mac.split(':').collect();
    let valid = octets.len() == 6
        && octets.iter().all(|o| {
            o.len() == 2
                && o.chars()
                    .all(|c| c.is_ascii_hexdigit() || c == 'x' || c == 'X')
        });
    if !valid {
        return None;
    }
    let tail: Vec<String> = (0..3).map(|_| format!("{:02x}", random())).collect();
    Some(format!("{}:{}", octets[..3].join(":"), tail.join(":")))
}

/// `value` with each path at or below `old` moved below `new`. A path
/// starts where a token does (after a space, `=`, `,` or `:`), and `old`
/// must end at a `/` or the token's end (`/var/lib/lxc/c1` is not a prefix
/// of `/var/lib/lxc/c10`).
pub fn replace_dir(value: &str, old: &Path, new: &Path) -> String {
    let (old, new) = (old.to_string_lossy(), new.to_string_lossy());
    let old = old.trim_end_matches('/');
    if old.is_empty() {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find(old) {
        let before_ok = at == 0 || rest[..at].ends_with([' ', '\t', '=', ',', ':']);
        let after = &rest[at + old.len()..];
        let after_ok = after.is_empty() || after.starts_with(['/', ' ', '\t', ',', ':']);
        out.push_str(&rest[..at]);
        out.push_str(if before_ok && after_ok { &new } else { old });
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<'a>(rootfs: &'a str) -> CloneNames<'a> {
        CloneNames {
            old_dir: Path::new("/var/lib/lxc/c1"),
            new_name: "c2",
            new_dir: Path::new("/var/lib/lxc/c2"),
            rootfs,
            keep_name: false,
            keep_mac: false,
        }
    }

    fn clone_text(text: &str, n: &CloneNames<'_>) -> (String, Vec<(PathBuf, PathBuf)>) {
        let doc = Document::parse(text.as_bytes(), None).unwrap();
        let mut r = 0u8;
        let out = clone_config(&doc, n, &mut || {
            r = r.wrapping_add(0x11);
            r
        });
        (String::from_utf8(out.doc.to_bytes()).unwrap(), out.files)
    }

    #[test]
    fn rewrites_rootfs_name_macs_and_paths_in_place() {
        let text = "# from the template\n\
            lxc.include = /usr/share/lxc/config/common.conf\n\
            lxc.rootfs.path = dir:/var/lib/lxc/c1/rootfs\n\
            lxc.uts.name = c1\n\
            lxc.net.0.type = veth\n\
            lxc.net.0.hwaddr = 00:16:3e:aa:bb:cc\n\
            lxc.mount.entry = proc /var/lib/lxc/c1/rootfs/proc proc nodev 0 0\n\
            lxc.mount.entry = /var/lib/lxc/c10/share srv none bind 0 0\n\
            lxc.mount.entry = /var/lib/lxc/c1/shared srv none bind 0 0\n\
            lxc.mount.entry = /var/lib/lxc/c1/rootfs/a b none bind 0 0\n\
            lxc.log.file = /var/lib/lxc/c1/c1.log\n";
        let (out, _) = clone_text(text, &names("dir:/var/lib/lxc/c2/rootfs"));
        assert_eq!(
            out,
            "# from the template\n\
            lxc.include = /usr/share/lxc/config/common.conf\n\
            lxc.rootfs.path = dir:/var/lib/lxc/c2/rootfs\n\
            lxc.uts.name = c2\n\
            lxc.net.0.type = veth\n\
            lxc.net.0.hwaddr = 00:16:3e:11:22:33\n\
            lxc.mount.entry = proc /var/lib/lxc/c2/rootfs/proc proc nodev 0 0\n\
            lxc.mount.entry = /var/lib/lxc/c10/share srv none bind 0 0\n\
            lxc.mount.entry = /var/lib/lxc/c1/shared srv none bind 0 0\n\
            lxc.mount.entry = /var/lib/lxc/c2/rootfs/a b none bind 0 0\n\
            lxc.log.file = /var/lib/lxc/c2/c1.log\n"
        );
    }

    #[test]
    fn legacy_keys_become_modern_and_missing_ones_are_added() {
        let (out, _) = clone_text(
            "lxc.utsname = c1\nlxc.network.hwaddr = 00:16:3e:xx:xx:xx\nlxc.network.0.hwaddr = bogus\n",
            &names("overlay:/var/lib/lxc/c1/rootfs:/var/lib/lxc/c2/overlay/delta"),
        );
        assert_eq!(
            out,
            "lxc.uts.name = c2\nlxc.network.hwaddr = 00:16:3e:11:22:33\nlxc.network.0.hwaddr = bogus\n\
             lxc.rootfs.path = overlay:/var/lib/lxc/c1/rootfs:/var/lib/lxc/c2/overlay/delta\n"
        );
    }

    #[test]
    fn keep_name_and_mac() {
        let n = CloneNames {
            keep_name: true,
            keep_mac: true,
            ..names("dir:/x")
        };
        let (out, _) = clone_text(
            "lxc.uts.name = c1\nlxc.net.0.hwaddr = 00:16:3e:aa:bb:cc\n",
            &n,
        );
        assert_eq!(
            out,
            "lxc.uts.name = c1\nlxc.net.0.hwaddr = 00:16:3e:aa:bb:cc\nlxc.rootfs.path = dir:/x\n"
        );
    }

    #[test]
    fn hook_scripts_and_fstab_in_the_origins_directory_are_copied() {
        let d = tempfile::tempdir().unwrap();
        let old = d.path().join("c1");
        std::fs::create_dir(&old).unwrap();
        std::fs::write(old.join("hook.sh"), "#!/bin/sh\n").unwrap();
        std::fs::write(old.join("fstab"), "").unwrap();
        std::fs::create_dir_all(old.join("rootfs/bin")).unwrap();
        std::fs::write(old.join("rootfs/bin/hook"), "").unwrap();
        let new = d.path().join("c2");
        let text = format!(
            "lxc.hook.pre-start = {0}/hook.sh arg\nlxc.mount.fstab = {0}/fstab\nlxc.hook.start = /usr/bin/true\n\
             lxc.hook.stop = /usr/bin/prep {0}/net.conf\nlxc.hook.mount = {0}/rootfs/bin/hook\n",
            old.display()
        );
        let n = CloneNames {
            old_dir: &old,
            new_dir: &new,
            ..names("dir:/x")
        };
        let (out, files) = clone_text(&text, &n);
        assert!(
            out.contains(&format!(
                "lxc.hook.pre-start = {}/hook.sh arg\n",
                new.display()
            )),
            "{out}"
        );
        assert!(out.contains("lxc.hook.start = /usr/bin/true\n"));
        assert_eq!(
            files,
            vec![
                (old.join("hook.sh"), new.join("hook.sh")),
                (old.join("fstab"), new.join("fstab"))
            ]
        );
    }

    #[test]
    fn a_directory_is_replaced_only_at_path_boundaries() {
        let (o, n) = (Path::new("/l/c1"), Path::new("/l/c2"));
        assert_eq!(replace_dir("/l/c1", o, n), "/l/c2");
        assert_eq!(
            replace_dir("/l/c1/rootfs /l/c10 x/l/c1", o, n),
            "/l/c2/rootfs /l/c10 x/l/c1"
        );
        assert_eq!(
            replace_dir("lowerdir=/l/c1/a,upperdir=/l/c1/b", o, n),
            "lowerdir=/l/c2/a,upperdir=/l/c2/b"
        );
    }
}
