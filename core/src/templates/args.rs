//! Reading a template's arguments (those after `--`) flag by flag, as
//! LXC's scripts take them through getopt: `-r VALUE`, `--release VALUE`,
//! `--release=VALUE`; and the checks every template makes of the names it
//! is given.

use crate::template::TemplateError;

/// A cursor over a template's arguments.
#[derive(Debug)]
pub struct ArgReader<'a> {
    template: &'a str,
    it: std::slice::Iter<'a, String>,
    flag: String,
    inline: Option<String>,
}

impl<'a> ArgReader<'a> {
    /// The arguments of `template`.
    pub fn new(template: &'a str, args: &'a [String]) -> Self {
        ArgReader {
            template,
            it: args.iter(),
            flag: String::new(),
            inline: None,
        }
    }

    /// The next flag (`--mirror` of `--mirror=URL` too), or `None` at the end.
    pub fn next_flag(&mut self) -> Option<String> {
        let a = self.it.next()?;
        (self.flag, self.inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        Some(self.flag.clone())
    }

    /// The current flag's value: after `=`, else the next argument.
    pub fn value(&mut self) -> Result<String, TemplateError> {
        self.inline
            .take()
            .or_else(|| self.it.next().cloned())
            .ok_or_else(|| usage(self.template, format!("`{}` needs a value", self.flag)))
    }

    /// The error for a flag the template does not take.
    pub fn unknown(&self) -> TemplateError {
        usage(
            self.template,
            format!(
                "unknown argument `{}` (see `create -t {} -h`)",
                self.flag, self.template
            ),
        )
    }
}

fn usage(template: &str, reason: String) -> TemplateError {
    TemplateError::Usage {
        template: template.into(),
        reason,
    }
}

/// Whether `s` can name a release, an architecture, a package or an
/// image: letters, digits and `-_.+`, not starting with `-` or `.` (it goes
/// into paths and command lines).
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(['-', '.'])
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c))
}

/// A cache entry's name for a non-default build: `base` and a short
/// digest of `key` (what sets it apart), so each build has its own entry.
pub fn entry_for(base: &str, key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{base}-{:08x}", h as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_values_and_names() {
        let v: Vec<String> = ["-r", "sid", "--mirror=http://m", "--x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut r = ArgReader::new("debian", &v);
        assert_eq!(r.next_flag().as_deref(), Some("-r"));
        assert_eq!(r.value().unwrap(), "sid");
        assert_eq!(r.next_flag().as_deref(), Some("--mirror"));
        assert_eq!(r.value().unwrap(), "http://m");
        assert_eq!(r.next_flag().as_deref(), Some("--x"));
        assert_eq!(
            r.unknown().to_string(),
            "template `debian`: unknown argument `--x` (see `create -t debian -h`)"
        );
        assert!(r
            .value()
            .unwrap_err()
            .to_string()
            .contains("`--x` needs a value"));
        assert_eq!(r.next_flag(), None);
        assert!(
            is_name("bookworm")
                && is_name("1.36")
                && !is_name("-x")
                && !is_name("../x")
                && !is_name("")
        );
        assert_eq!(
            entry_for("rootfs-sid-amd64", "a"),
            entry_for("rootfs-sid-amd64", "a")
        );
        assert_ne!(
            entry_for("rootfs-sid-amd64", "a"),
            entry_for("rootfs-sid-amd64", "b")
        );
    }
}
