//! `/etc/lxc/lxc-usernet`: how many NICs of a type on a bridge each user
//! (or `@group`) may make: `USER TYPE BRIDGE COUNT` lines, `#` comments.

/// The most one user may be granted in all (a line with a huge number is
/// held to this).
pub const MAX_NICS: u64 = 4096;

/// How many `kind` NICs on `bridge` the lines grant `user` (and its
/// `groups`): the sum of the matching lines, at most [`MAX_NICS`]. Lines
/// that do not parse grant nothing.
pub fn allowed(text: &str, user: &str, groups: &[String], kind: &str, bridge: &str) -> u64 {
    let mut n: u64 = 0;
    for l in text.lines() {
        let l = l.split('#').next().unwrap_or("").trim();
        let f: Vec<&str> = l.split_whitespace().collect();
        let [who, k, b, count] = f.as_slice() else {
            continue;
        };
        let me = match who.strip_prefix('@') {
            Some(g) => groups.iter().any(|x| x == g),
            None => *who == user,
        };
        if !me || *k != kind || *b != bridge {
            continue;
        }
        if let Ok(c) = count.parse::<u64>() {
            n = n.saturating_add(c.min(MAX_NICS));
        }
    }
    n.min(MAX_NICS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants() {
        let t = "# comment\njo veth lxcbr0 2\n@netusers veth lxcbr0 1 # and more\njo veth br1 5\nbad line\njo veth lxcbr0 x\nann veth lxcbr0 99999999999999999999999\n";
        let g = vec!["netusers".to_string()];
        assert_eq!(allowed(t, "jo", &g, "veth", "lxcbr0"), 3);
        assert_eq!(allowed(t, "jo", &[], "veth", "lxcbr0"), 2);
        assert_eq!(allowed(t, "jo", &[], "veth", "br2"), 0);
        assert_eq!(allowed(t, "jo", &[], "macvlan", "lxcbr0"), 0);
        assert_eq!(
            allowed(t, "ann", &[], "veth", "lxcbr0"),
            0,
            "unparsable count"
        );
        assert_eq!(
            allowed(
                "ann veth b 18446744073709551615\nann veth b 5\n",
                "ann",
                &[],
                "veth",
                "b"
            ),
            MAX_NICS
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_without_panicking(text in ".{0,400}", user in "[a-z]{1,8}") {
            let n = allowed(&text, &user, &[], "veth", "lxcbr0");
            proptest::prop_assert!(n <= MAX_NICS);
        }
    }
}
