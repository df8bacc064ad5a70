//! Container names: they become directory names, cgroup names and socket
//! paths, so anything that could escape the lxcpath or confuse a tool is refused.

/// Why a name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid container name `{name}`: {reason}")]
pub struct NameError {
    /// The name as given (control characters escaped).
    pub name: String,
    /// Why.
    pub reason: &'static str,
}

/// Longest name accepted: the name must fit in a file name with a suffix
/// (`NAME.log`) and in a cgroup name with LXC's `lxc.payload.` prefix.
pub const MAX_NAME_LEN: usize = 200;

/// Checks a container name.
pub fn validate_name(name: &str) -> Result<(), NameError> {
    let err = |reason| NameError {
        name: name.escape_default().to_string(),
        reason,
    };
    if name.is_empty() {
        return Err(err("the name is empty"));
    }
    if name == "." || name == ".." {
        return Err(err("`.` and `..` are not names"));
    }
    if name.contains('/') {
        return Err(err("a name cannot contain `/`"));
    }
    if name.chars().any(char::is_control) {
        return Err(err("a name cannot contain control characters"));
    }
    if name.starts_with('-') {
        return Err(err(
            "a name cannot start with `-` (it would read as an option)",
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(err("the name is longer than 200 bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for n in ["c1", "web-01", "my.container", "ünïcode", "a_b"] {
            validate_name(n).unwrap();
        }
    }

    #[test]
    fn refuses_dangerous_names() {
        for (n, why) in [
            ("", "empty"),
            ("..", "not names"),
            ("a/b", "`/`"),
            ("a\nb", "control"),
            ("-n", "start with"),
        ] {
            let e = validate_name(n).unwrap_err();
            assert!(e.to_string().contains(why), "{n:?}: {e}");
        }
        assert!(validate_name(&"x".repeat(201)).is_err());
        assert!(validate_name("a\nb")
            .unwrap_err()
            .to_string()
            .contains("a\\nb"));
    }
}
