//! A config file as lines, kept byte for byte so that saving it changes only
//! what was edited: comments, blank lines, order, spacing and includes stay.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::error::{ConfigError, Origin};

/// What a line holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// Empty or only white space.
    Blank,
    /// Starts with `#` after optional white space.
    Comment,
    /// `key = value`.
    Entry {
        /// The key, trimmed.
        key: String,
        /// The value, trimmed and with one pair of surrounding quotes removed.
        value: String,
    },
    /// Not `key = value`; the reason says why.
    Invalid(String),
}

/// One line: its exact text and what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The text without the line ending (a `\r` of CRLF files stays here).
    pub raw: String,
    /// The parsed meaning.
    pub kind: LineKind,
}

impl Line {
    /// Parses one line of text.
    pub fn parse(raw: &str) -> Line {
        Line {
            raw: raw.to_string(),
            kind: classify(raw),
        }
    }

    /// The `(key, value)` of an entry line.
    pub fn entry(&self) -> Option<(&str, &str)> {
        match &self.kind {
            LineKind::Entry { key, value } => Some((key, value)),
            _ => None,
        }
    }
}

fn classify(raw: &str) -> LineKind {
    let text = raw.trim();
    if text.is_empty() {
        return LineKind::Blank;
    }
    if text.starts_with('#') {
        return LineKind::Comment;
    }
    let Some((key, value)) = text.split_once('=') else {
        return LineKind::Invalid(format!("expected `key = value`, found `{}`", shorten(text)));
    };
    let key = key.trim();
    if key.is_empty() {
        return LineKind::Invalid("a line starts with `=`: the key is missing".into());
    }
    LineKind::Entry {
        key: key.to_string(),
        value: dequote(value.trim()).to_string(),
    }
}

/// Removes one pair of matching surrounding quotes, as LXC does.
pub fn dequote(v: &str) -> &str {
    let b = v.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &v[1..v.len() - 1]
    } else {
        v
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

/// A config file as lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Document {
    /// Where it was read from, if anywhere.
    pub path: Option<PathBuf>,
    /// The lines, in order.
    pub lines: Vec<Line>,
    /// Whether the text ended with a newline.
    pub trailing_newline: bool,
}

impl Document {
    /// Parses text. Fails on bytes that are not UTF-8 or contain NUL, naming the line.
    pub fn parse(bytes: &[u8], path: Option<&Path>) -> Result<Document, ConfigError> {
        let origin = |line| Origin {
            file: path.map(Path::to_path_buf),
            line,
        };
        let trailing_newline = bytes.last() == Some(&b'\n');
        let body = if trailing_newline {
            &bytes[..bytes.len() - 1]
        } else {
            bytes
        };
        let mut lines = Vec::new();
        if !bytes.is_empty() {
            for (i, chunk) in body.split(|b| *b == b'\n').enumerate() {
                if chunk.contains(&0) {
                    return Err(ConfigError::Line {
                        origin: origin(i + 1),
                        reason: "the line contains a NUL byte: this is not a text config file"
                            .into(),
                    });
                }
                let text = std::str::from_utf8(chunk).map_err(|_| ConfigError::Line {
                    origin: origin(i + 1),
                    reason: "the line is not valid UTF-8 text: this is not a text config file"
                        .into(),
                })?;
                lines.push(Line::parse(text));
            }
        }
        Ok(Document {
            path: path.map(Path::to_path_buf),
            lines,
            trailing_newline,
        })
    }

    /// Reads and parses a file.
    pub fn read(path: &Path) -> Result<Document, ConfigError> {
        let bytes = std::fs::read(path).map_err(|e| ConfigError::io(path, &e))?;
        Document::parse(&bytes, Some(path))
    }

    /// The text, exactly as read plus any edits.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, l) in self.lines.iter().enumerate() {
            if i > 0 {
                out.push(b'\n');
            }
            out.extend_from_slice(l.raw.as_bytes());
        }
        if self.trailing_newline {
            out.push(b'\n');
        }
        out
    }

    /// Replaces the value of line `idx` in place, keeping its key and spacing.
    pub fn set_value_at(&mut self, idx: usize, value: &str) {
        let line = &mut self.lines[idx];
        let raw = &line.raw;
        let Some(eq) = raw.find('=') else { return };
        let after = &raw[eq + 1..];
        let pad = after.len() - after.trim_start().len();
        let cr = if raw.ends_with('\r') { "\r" } else { "" };
        let new_raw = format!("{}{}{cr}", &raw[..eq + 1 + pad], value);
        *line = Line::parse(&new_raw);
    }

    /// Replaces the key of line `idx` in place, keeping value and spacing.
    pub fn set_key_at(&mut self, idx: usize, new_key: &str) {
        let line = &mut self.lines[idx];
        let start = line.raw.len() - line.raw.trim_start().len();
        let rest = &line.raw[start..];
        let (hash, rest) = match rest.strip_prefix('#') {
            Some(r) => {
                let pad = r.len() - r.trim_start().len();
                (&line.raw[start..start + 1 + pad], &r[pad..])
            }
            None => ("", rest),
        };
        let key_len = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let new_raw = format!(
            "{}{}{}{}",
            &line.raw[..start],
            hash,
            new_key,
            &rest[key_len..]
        );
        *line = Line::parse(&new_raw);
    }

    /// Sets `key` (a modern name) to `value`: the last line that sets the key,
    /// under its modern name or a one-to-one legacy name, is edited in place;
    /// otherwise `key = value` is appended. Returns the line index.
    pub fn set(&mut self, key: &str, value: &str) -> usize {
        let legacy = super::legacy::RENAMES
            .iter()
            .find(|(_, new)| *new == key)
            .map(|(old, _)| *old);
        let found = self
            .lines
            .iter()
            .rposition(|l| matches!(l.entry(), Some((k, _)) if k == key || Some(k) == legacy));
        match found {
            Some(idx) => {
                if self.lines[idx].entry().map(|(k, _)| k) != Some(key) {
                    self.set_key_at(idx, key);
                }
                self.set_value_at(idx, value);
                idx
            }
            None => {
                self.append(key, value);
                self.lines.len() - 1
            }
        }
    }

    /// Appends `key = value` at the end.
    pub fn append(&mut self, key: &str, value: &str) {
        // Lines are joined with `\n`, so the new line follows the last one
        // whether or not the text ended with a newline; the result always does.
        self.lines.push(Line::parse(&format!("{key} = {value}")));
        self.trailing_newline = true;
    }

    /// Writes the document to `path` atomically: a temporary file in the same
    /// directory, synced, then renamed over the old one. A failure leaves the
    /// old file as it was.
    pub fn write_atomic(&self, path: &Path) -> Result<(), ConfigError> {
        write_atomic(path, &self.to_bytes())
    }
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.rlxc-tmp.{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if let Ok(meta) = std::fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ConfigError::io(path, &e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exact_bytes() {
        for text in [
            "",
            "\n",
            "a",
            "# c\n\nlxc.tty.max = 4\n",
            "lxc.tty.max=4\r\n  # x\r\nlxc.arch = amd64",
            "\n\n\n",
        ] {
            let d = Document::parse(text.as_bytes(), None).unwrap();
            assert_eq!(d.to_bytes(), text.as_bytes(), "{text:?}");
        }
    }

    #[test]
    fn classifies_lines() {
        let d = Document::parse(b"  # c\n\nlxc.a = 'x y' \nnonsense\n= v\n", None).unwrap();
        assert_eq!(d.lines[0].kind, LineKind::Comment);
        assert_eq!(d.lines[1].kind, LineKind::Blank);
        assert_eq!(d.lines[2].entry(), Some(("lxc.a", "x y")));
        assert!(matches!(d.lines[3].kind, LineKind::Invalid(_)));
        assert!(matches!(d.lines[4].kind, LineKind::Invalid(_)));
    }

    #[test]
    fn rejects_binary_with_line_number() {
        let err = Document::parse(b"lxc.a = 1\n\xff\xfe\x00garbage\n", Some(Path::new("/c")))
            .unwrap_err();
        assert!(err.to_string().starts_with("/c:2: "), "{err}");
        let err = Document::parse(b"ok = 1\nbad\xff\n", Some(Path::new("/c"))).unwrap_err();
        assert!(
            err.to_string()
                .contains("/c:2: the line is not valid UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn edits_in_place() {
        let mut d = Document::parse(
            b"# head\nlxc.network.type=veth\n  lxc.utsname =  old\r\n",
            None,
        )
        .unwrap();
        d.set_value_at(2, "new");
        d.set_key_at(1, "lxc.net.0.type");
        d.set_key_at(2, "lxc.uts.name");
        assert_eq!(
            d.to_bytes(),
            b"# head\nlxc.net.0.type=veth\n  lxc.uts.name =  new\r\n"
        );
        let mut c = Document::parse(b"#lxc.utsname = x\n", None).unwrap();
        c.set_key_at(0, "lxc.uts.name");
        assert_eq!(c.to_bytes(), b"#lxc.uts.name = x\n");
        c.append("lxc.arch", "amd64");
        assert_eq!(c.to_bytes(), b"#lxc.uts.name = x\nlxc.arch = amd64\n");
    }

    #[test]
    fn set_edits_the_key_in_place_or_appends() {
        let mut d =
            Document::parse(b"# c\nlxc.utsname = old # keep\nlxc.tty.max = 4\n", None).unwrap();
        assert_eq!(d.set("lxc.uts.name", "new"), 1);
        assert_eq!(d.set("lxc.tty.max", "6"), 2);
        assert_eq!(d.set("lxc.arch", "amd64"), 3);
        assert_eq!(
            d.to_bytes(),
            b"# c\nlxc.uts.name = new\nlxc.tty.max = 6\nlxc.arch = amd64\n"
        );
    }

    #[test]
    fn atomic_write_replaces_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        std::fs::write(&p, "old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
