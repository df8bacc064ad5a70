//! LXC's command names: `lxc-NAME` through argv[0] runs `rlxc COMMAND`.

/// `(lxc name, rlxc command)`, including the 12.04 guide's old names.
pub const ALIASES: &[(&str, &str)] = &[
    ("lxc-attach", "attach"),
    ("lxc-autostart", "autostart"),
    ("lxc-backup", "backup"),
    ("lxc-cgroup", "cgroup"),
    ("lxc-checkconfig", "checkconfig"),
    ("lxc-checkpoint", "checkpoint"),
    ("lxc-clone", "clone"),
    ("lxc-config", "config"),
    ("lxc-console", "console"),
    ("lxc-copy", "copy"),
    ("lxc-create", "create"),
    ("lxc-destroy", "destroy"),
    ("lxc-device", "device"),
    ("lxc-execute", "execute"),
    ("lxc-freeze", "freeze"),
    ("lxc-info", "info"),
    ("lxc-kill", "kill"),
    ("lxc-list", "list"),
    ("lxc-ls", "ls"),
    ("lxc-monitor", "monitor"),
    ("lxc-netstat", "netstat"),
    ("lxc-ps", "ps"),
    ("lxc-restore", "restore"),
    ("lxc-shutdown", "shutdown"),
    ("lxc-snapshot", "snapshot"),
    ("lxc-start", "start"),
    ("lxc-start-ephemeral", "start-ephemeral"),
    ("lxc-stop", "stop"),
    ("lxc-top", "top"),
    ("lxc-unfreeze", "unfreeze"),
    ("lxc-unpriv-attach", "unpriv-attach"),
    ("lxc-unpriv-start", "unpriv-start"),
    ("lxc-unshare", "unshare"),
    ("lxc-update-config", "update-config"),
    ("lxc-usernsexec", "usernsexec"),
    ("lxc-version", "version"),
    ("lxc-wait", "wait"),
];

/// The rlxc command for a program name such as `lxc-ls` or `/usr/bin/lxc-ls`.
pub fn command_for(argv0: &str) -> Option<(&'static str, &'static str)> {
    let base = argv0.rsplit('/').next().unwrap_or(argv0);
    ALIASES.iter().find(|(lxc, _)| *lxc == base).copied()
}

/// Rewrites `lxc-NAME ARGS…` as `rlxc COMMAND ARGS…`; other argv are returned unchanged.
pub fn rewrite(args: Vec<String>) -> Vec<String> {
    let Some(first) = args.first() else {
        return args;
    };
    let base = first.rsplit('/').next().unwrap_or(first);
    let mut out = match (command_for(first), base.strip_prefix("lxc-")) {
        (Some((_, cmd)), _) => vec!["rlxc".to_string(), cmd.to_string()],
        // Any other `lxc-NAME` is a template script's name (`lxc-debian`):
        // the built-in template NAME, run with LXC's calling convention.
        (None, Some(t)) if !t.is_empty() => {
            vec!["rlxc".to_string(), "template-script".into(), t.to_string()]
        }
        _ => return args,
    };
    out.extend(args.into_iter().skip(1));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_lxc_names() {
        let a = rewrite(vec!["/usr/local/bin/lxc-ls".into(), "-1".into()]);
        assert_eq!(a, vec!["rlxc", "ls", "-1"]);
        assert_eq!(
            rewrite(vec!["rlxc".into(), "ls".into()]),
            vec!["rlxc", "ls"]
        );
        assert_eq!(
            command_for("lxc-start-ephemeral"),
            Some(("lxc-start-ephemeral", "start-ephemeral"))
        );
        assert_eq!(command_for("lxc-nope"), None);
        assert_eq!(
            rewrite(vec![
                "/usr/share/lxc/templates/lxc-debian".into(),
                "--clean".into()
            ]),
            vec!["rlxc", "template-script", "debian", "--clean"]
        );
    }
}
