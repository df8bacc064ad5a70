//! Id maps: `lxc-usernsexec`'s `b:0:100000:65536` and `lxc.idmap`'s
//! `b 0 100000 65536` as one [`IdMap`], split into what goes to
//! `uid_map` and what to `gid_map`.

pub use crate::config::value::IdMap;

/// Parses `u|g|b:NSID:HOSTID:RANGE` (lxc-usernsexec's `-m`).
pub fn parse_cli_map(v: &str) -> Result<IdMap, String> {
    let f: Vec<&str> = v.split(':').collect();
    if f.len() != 4 {
        return Err(format!("`{v}` is not `u|g|b:NSID:HOSTID:RANGE`"));
    }
    crate::config::value::idmap(&f.join(" "))
}

/// One line of a `uid_map` or `gid_map`: `ns host count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First id inside.
    pub ns: u32,
    /// First id outside.
    pub host: u32,
    /// How many.
    pub count: u32,
}

impl Range {
    fn overlaps_ns(&self, o: &Range) -> bool {
        u64::from(self.ns) < u64::from(o.ns) + u64::from(o.count)
            && u64::from(o.ns) < u64::from(self.ns) + u64::from(self.count)
    }
    fn overlaps_host(&self, o: &Range) -> bool {
        u64::from(self.host) < u64::from(o.host) + u64::from(o.count)
            && u64::from(o.host) < u64::from(self.host) + u64::from(self.count)
    }
    /// Whether `id` (inside) is mapped.
    pub fn has_ns(&self, id: u32) -> bool {
        id >= self.ns && u64::from(id) < u64::from(self.ns) + u64::from(self.count)
    }
}

/// The uid and gid maps of a namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Maps {
    /// `uid_map` lines.
    pub uid: Vec<Range>,
    /// `gid_map` lines.
    pub gid: Vec<Range>,
}

impl Maps {
    /// The maps of `lines` (`b` goes to both), checked as the kernel
    /// would: no two lines of one map may overlap inside or outside, and
    /// at most 340 lines each.
    pub fn from_idmaps(lines: &[IdMap]) -> Result<Maps, String> {
        let mut m = Maps::default();
        for l in lines {
            let r = Range {
                ns: l.ns_start,
                host: l.host_start,
                count: l.count,
            };
            if matches!(l.kind, 'u' | 'b') {
                m.uid.push(r);
            }
            if matches!(l.kind, 'g' | 'b') {
                m.gid.push(r);
            }
        }
        for (what, v) in [("uid", &m.uid), ("gid", &m.gid)] {
            if v.len() > 340 {
                return Err(format!(
                    "{} {what} map lines: the kernel takes 340",
                    v.len()
                ));
            }
            for (i, a) in v.iter().enumerate() {
                for b in &v[i + 1..] {
                    if a.overlaps_ns(b) || a.overlaps_host(b) {
                        return Err(format!(
                            "the {what} maps `{} {} {}` and `{} {} {}` overlap",
                            a.ns, a.host, a.count, b.ns, b.host, b.count
                        ));
                    }
                }
            }
        }
        Ok(m)
    }

    /// The host uid and gid of root inside (`None` where a map leaves it
    /// unmapped).
    pub fn root(&self) -> (Option<u32>, Option<u32>) {
        let host = |r: &[Range]| r.iter().find(|x| x.has_ns(0)).map(|x| x.host);
        (host(&self.uid), host(&self.gid))
    }

    /// `uid_map`'s text (or `gid_map`'s with `gid`).
    pub fn text(ranges: &[Range]) -> String {
        ranges
            .iter()
            .map(|r| format!("{} {} {}\n", r.ns, r.host, r.count))
            .collect()
    }

    /// `newuidmap PID`'s arguments after the pid.
    pub fn args(ranges: &[Range]) -> Vec<String> {
        ranges
            .iter()
            .flat_map(|r| [r.ns.to_string(), r.host.to_string(), r.count.to_string()])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_maps_split_and_overlaps() {
        let b = parse_cli_map("b:0:100000:65536").unwrap();
        assert_eq!(
            (b.kind, b.ns_start, b.host_start, b.count),
            ('b', 0, 100000, 65536)
        );
        assert!(parse_cli_map("b:0:100000").is_err());
        assert!(parse_cli_map("x:0:1:1")
            .unwrap_err()
            .contains("not u, g or b"));
        assert!(parse_cli_map("u:0:1:0")
            .unwrap_err()
            .contains("maps no ids"));
        let m = Maps::from_idmaps(&[
            parse_cli_map("u:0:1000:1").unwrap(),
            parse_cli_map("g:0:1000:1").unwrap(),
            parse_cli_map("b:1:100000:65536").unwrap(),
        ])
        .unwrap();
        assert_eq!(Maps::text(&m.uid), "0 1000 1\n1 100000 65536\n");
        assert_eq!(
            Maps::args(&m.gid),
            ["0", "1000", "1", "1", "100000", "65536"]
        );
        let e = Maps::from_idmaps(&[
            parse_cli_map("u:0:100000:10").unwrap(),
            parse_cli_map("u:5:200000:10").unwrap(),
        ])
        .unwrap_err();
        assert!(e.contains("overlap"), "{e}");
        let e = Maps::from_idmaps(&[
            parse_cli_map("u:0:100000:10").unwrap(),
            parse_cli_map("u:10:100005:10").unwrap(),
        ])
        .unwrap_err();
        assert!(e.contains("overlap"), "{e}");
    }
}
