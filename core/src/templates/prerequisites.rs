//! What LXC's template scripts run on the host, so that a missing tool is
//! named before the script starts rather than halfway through it (LXC's
//! `lxc-debian` fails after minutes with `rsync: command not found`).
//! Only the tools each script always runs are listed; the Debian package
//! that has each is named in the error.

/// `(script, tools)`: the scripts of Debian's `lxc-templates` that need
/// tools a minimal host lacks.
const NEEDS: &[(&str, &[&str])] = &[
    // wget: without it lxc-debian's mirror check quietly picks debian-ports.
    (
        "lxc-debian",
        &["debootstrap", "rsync", "wget", "debian-distro-info"],
    ),
    ("lxc-ubuntu", &["debootstrap", "rsync"]),
    ("lxc-kali", &["debootstrap", "rsync"]),
    ("lxc-devuan", &["debootstrap", "rsync"]),
    ("lxc-download", &["wget", "gpg"]),
    ("lxc-alpine", &["wget"]),
    ("lxc-ubuntu-cloud", &["wget"]),
    ("lxc-oci", &["skopeo", "umoci", "jq"]),
    ("lxc-sshd", &["sshd", "ssh-keygen"]),
];

/// The Debian package of a tool, for the hint.
fn package(tool: &str) -> &str {
    match tool {
        "sshd" => "openssh-server",
        "ssh-keygen" => "openssh-client",
        "debian-distro-info" => "distro-info",
        other => other,
    }
}

/// The tools `script` (a file name like `lxc-debian`) needs and `have`
/// says are missing; `args` are the user's template arguments
/// (`--no-validate` spares lxc-download its gpg).
pub fn missing(script: &str, args: &[String], have: impl Fn(&str) -> bool) -> Vec<&'static str> {
    let Some((_, tools)) = NEEDS.iter().find(|(s, _)| *s == script) else {
        return Vec::new();
    };
    tools
        .iter()
        .copied()
        .filter(|t| !(*t == "gpg" && args.iter().any(|a| a == "--no-validate")))
        .filter(|t| !have(t))
        .collect()
}

/// The install hint for `tools`.
pub fn hint(script: &str, tools: &[&str]) -> String {
    let pkgs: Vec<&str> = tools.iter().map(|t| package(t)).collect();
    format!(
        "LXC's {script} runs them: install them first (`apt-get install {}`)",
        pkgs.join(" ")
    )
}

/// Whether `tool` is on `PATH` (or in the sbin directories a root shell has).
pub fn on_path(tool: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/local/sbin"])
        .filter(|d| !d.is_empty())
        .any(|d| {
            std::fs::metadata(std::path::Path::new(d).join(tool))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tools_are_named_with_their_packages() {
        let none = |_: &str| false;
        assert_eq!(
            missing("lxc-debian", &[], none),
            vec!["debootstrap", "rsync", "wget", "debian-distro-info"]
        );
        assert_eq!(
            missing("lxc-debian", &[], |t| t != "debootstrap"),
            vec!["debootstrap"]
        );
        assert_eq!(
            missing("lxc-download", &["--no-validate".into()], none),
            vec!["wget"]
        );
        assert!(missing("lxc-busybox", &[], none).is_empty());
        assert!(missing("my-own", &[], none).is_empty());
        assert_eq!(
            hint("lxc-sshd", &["sshd", "ssh-keygen"]),
            "LXC's lxc-sshd runs them: install them first (`apt-get install openssh-server openssh-client`)"
        );
        assert!(on_path("sh"));
        assert!(!on_path("no-such-tool-rlxc"));
    }
}
