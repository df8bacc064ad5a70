//! `/etc/subuid` and `/etc/subgid`: the id ranges each user may map
//! (`NAME_OR_UID:START:COUNT` lines), and the check that a set of maps
//! stays inside what the caller is granted.

use super::maps::Range;

/// A granted range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// First id.
    pub start: u32,
    /// How many.
    pub count: u32,
}

/// The ranges `file`'s text grants the user `name` (or `uid`), in order;
/// lines that do not parse are skipped, as shadow's tools skip them.
pub fn grants(text: &str, name: &str, uid: u32) -> Vec<Grant> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.trim().split(':').collect();
            let [owner, start, count] = f.as_slice() else {
                return None;
            };
            if *owner != name && owner.parse::<u32>().ok() != Some(uid) {
                return None;
            }
            let g = Grant {
                start: start.parse().ok()?,
                count: count.parse().ok()?,
            };
            (g.count > 0 && u64::from(g.start) + u64::from(g.count) <= 1 << 32).then_some(g)
        })
        .collect()
}

/// Checks that each range of `ranges` maps outside ids the caller may map:
/// its own id (`own`, one id), or ids inside one of `granted`. The error
/// names the first range that is not, and the line that would grant it.
pub fn check(
    ranges: &[Range],
    own: u32,
    granted: &[Grant],
    file: &str,
    name: &str,
) -> Result<(), String> {
    for r in ranges {
        if r.count == 1 && r.host == own {
            continue;
        }
        let inside = granted.iter().any(|g| {
            r.host >= g.start
                && u64::from(r.host) + u64::from(r.count) <= u64::from(g.start) + u64::from(g.count)
        });
        if !inside {
            return Err(format!(
                "{name} may not map host ids {} to {}: {file} grants {}; add a line such as `{name}:{}:{}` to {file}",
                r.host,
                u64::from(r.host) + u64::from(r.count) - 1,
                if granted.is_empty() {
                    "it nothing".to_string()
                } else {
                    granted
                        .iter()
                        .map(|g| format!("{}:{}", g.start, g.count))
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                r.host,
                r.count
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_and_checks() {
        let text = "root:100000:65536\njo:165536:65536\n1001:231072:65536\nbad line\njo:x:1\n";
        assert_eq!(
            grants(text, "jo", 1000),
            [Grant {
                start: 165536,
                count: 65536
            }]
        );
        assert_eq!(
            grants(text, "ann", 1001),
            [Grant {
                start: 231072,
                count: 65536
            }]
        );
        assert!(grants(text, "nobody", 9).is_empty());
        let g = grants(text, "jo", 1000);
        let own = Range {
            ns: 0,
            host: 1000,
            count: 1,
        };
        let sub = Range {
            ns: 1,
            host: 165536,
            count: 65536,
        };
        assert!(check(&[own, sub], 1000, &g, "/etc/subuid", "jo").is_ok());
        let past = Range {
            ns: 1,
            host: 165536,
            count: 65537,
        };
        let e = check(&[past], 1000, &g, "/etc/subuid", "jo").unwrap_err();
        assert!(
            e.contains("jo may not map host ids 165536 to 231072")
                && e.contains("/etc/subuid grants 165536:65536"),
            "{e}"
        );
        let e = check(&[sub], 1001, &[], "/etc/subgid", "ann").unwrap_err();
        assert!(
            e.contains("grants it nothing; add a line such as `ann:165536:65536` to /etc/subgid"),
            "{e}"
        );
    }
}
