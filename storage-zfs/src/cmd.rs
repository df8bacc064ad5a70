//! The `zfs` command lines rlxc runs, built by pure functions, and the
//! parsers of what `zfs list -H` prints. Both ZFS dialects are read:
//! current OpenZFS (`-p` gives exact byte counts) and zfs-fuse's older ZFS,
//! which has no `-p` and prints sizes as `548K` or `1.50M`.

/// `zfs create -o mountpoint=MP DATASET`.
pub fn create(dataset: &str, mountpoint: &str) -> Vec<String> {
    args(&["create", "-o", &format!("mountpoint={mountpoint}"), dataset])
}

/// `zfs snapshot DATASET@SNAP`.
pub fn snapshot(dataset: &str, snap: &str) -> Vec<String> {
    args(&["snapshot", &format!("{dataset}@{snap}")])
}

/// `zfs clone -o mountpoint=MP ORIGIN@SNAP NEW`.
pub fn clone(origin: &str, snap: &str, new: &str, mountpoint: &str) -> Vec<String> {
    args(&[
        "clone",
        "-o",
        &format!("mountpoint={mountpoint}"),
        &format!("{origin}@{snap}"),
        new,
    ])
}

/// `zfs mount DATASET` (at its mountpoint property).
pub fn mount(dataset: &str) -> Vec<String> {
    args(&["mount", dataset])
}

/// `zfs set mountpoint=MP DATASET`.
pub fn set_mountpoint(dataset: &str, mountpoint: &str) -> Vec<String> {
    args(&["set", &format!("mountpoint={mountpoint}"), dataset])
}

/// `zfs destroy -r DATASET` (its own snapshots with it; a clone of one of
/// them makes it fail, as it must).
pub fn destroy(dataset: &str) -> Vec<String> {
    args(&["destroy", "-r", dataset])
}

/// `zfs destroy DATASET@SNAP`.
pub fn destroy_snapshot(snapshot: &str) -> Vec<String> {
    args(&["destroy", snapshot])
}

/// `zfs list -H [-p] -t all -o name,origin,mountpoint,used -r DATASET`.
pub fn list(dataset: &str, exact: bool) -> Vec<String> {
    let mut v = args(&["list", "-H"]);
    if exact {
        v.push("-p".into());
    }
    v.extend(args(&[
        "-t",
        "all",
        "-o",
        "name,origin,mountpoint,used",
        "-r",
        dataset,
    ]));
    v
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_string()).collect()
}

/// One line of [`list`]'s output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// `pool/name` or `pool/name@snap`.
    pub name: String,
    /// The snapshot a clone was made from.
    pub origin: Option<String>,
    /// Where it is mounted (`None` for `none`, `legacy`, `-`).
    pub mountpoint: Option<String>,
    /// Bytes used.
    pub used: u64,
}

/// Parses `zfs list -H` output (tab-separated, `-` for none).
pub fn parse_list(text: &str) -> Result<Vec<Dataset>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let [name, origin, mountpoint, used] = f[..] else {
                return Err(format!("zfs list: expected 4 columns in `{l}`"));
            };
            let opt = |v: &str| (!matches!(v, "-" | "none" | "legacy")).then(|| v.to_string());
            Ok(Dataset {
                name: name.to_string(),
                origin: opt(origin),
                mountpoint: opt(mountpoint),
                used: parse_size(used)
                    .ok_or_else(|| format!("zfs list: `{used}` is not a size"))?,
            })
        })
        .collect()
}

/// `12345` (OpenZFS `-p`) or `548K`, `1.50M`, `0` (zfs-fuse) in bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    let (num, unit) = s.split_at(s.len().checked_sub(1)?);
    let mult: u64 = match unit {
        "B" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        "P" => 1 << 50,
        _ => return None,
    };
    let v: f64 = num.parse().ok()?;
    Some((v * mult as f64).round() as u64)
}

/// Whether `zfs` refused an option it does not know (zfs-fuse and `-p`).
pub fn unknown_option(stderr: &str) -> bool {
    stderr.contains("invalid option")
}

/// Whether a destroy failed only for now (something still had it open).
pub fn busy(stderr: &str) -> bool {
    stderr.contains("dataset is busy")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What zfs-fuse 0.7.2 printed on this machine for
    /// `zfs list -H -t all -o name,origin,mountpoint,used -r zcap` (a pool, a
    /// dataset, its snapshot and a clone of it holding 1.5 MB).
    const ZFS_FUSE: &str = "zcap\t-\tnone\t1.95M\n\
        zcap/c1\t-\t/tmp/zc/m1\t112K\n\
        zcap/c1@c2\t-\t-\t0\n\
        zcap/c2\tzcap/c1@c2\t/tmp/zc/m2\t1.34M\n";

    /// The same datasets as current OpenZFS prints them with `-p` (exact
    /// bytes). Written in its format: this machine has only zfs-fuse.
    const OPENZFS: &str = "zcap\t-\tnone\t2044723\n\
        zcap/c1\t-\t/tmp/zc/m1\t114688\n\
        zcap/c1@c2\t-\t-\t0\n\
        zcap/c2\tzcap/c1@c2\t/tmp/zc/m2\t1405092\n";

    #[test]
    fn both_dialects_parse_to_the_same_datasets() {
        let (a, b) = (parse_list(ZFS_FUSE).unwrap(), parse_list(OPENZFS).unwrap());
        assert_eq!(a.len(), 4);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (&x.name, &x.origin, &x.mountpoint),
                (&y.name, &y.origin, &y.mountpoint)
            );
            // zfs-fuse rounds to three digits; -p is exact.
            let (lo, hi) = (y.used as f64 * 0.99, y.used as f64 * 1.01);
            assert!(
                (lo..=hi).contains(&(x.used as f64)),
                "{}: {} vs {}",
                x.name,
                x.used,
                y.used
            );
        }
        assert_eq!(a[3].origin.as_deref(), Some("zcap/c1@c2"));
        assert_eq!(a[1].used, 112 << 10);
        assert_eq!(a[0].mountpoint, None);
        assert!(parse_list("a\tb\n").is_err());
        assert_eq!(parse_size("1.5G"), Some(3 << 29));
        assert_eq!(parse_size("x"), None);
    }

    #[test]
    fn command_lines() {
        assert_eq!(
            create("lxc/c1", "/l/c1/rootfs").join(" "),
            "create -o mountpoint=/l/c1/rootfs lxc/c1"
        );
        assert_eq!(
            clone("lxc/c1", "c2", "lxc/c2", "/l/c2/rootfs").join(" "),
            "clone -o mountpoint=/l/c2/rootfs lxc/c1@c2 lxc/c2"
        );
        assert_eq!(
            list("lxc/c1", true).join(" "),
            "list -H -p -t all -o name,origin,mountpoint,used -r lxc/c1"
        );
        assert_eq!(destroy("lxc/c1").join(" "), "destroy -r lxc/c1");
        assert!(unknown_option("invalid option 'p'\nusage:"));
        assert!(busy("cannot destroy 'rlxctest/c3': dataset is busy"));
    }
}
