//! The AppArmor profile rlxc generates for `lxc.apparmor.profile =
//! generated` (its default where AppArmor runs): what a root container
//! needs (files, network, its own /proc and /sys mounts, binds, signals
//! among its own processes) and nothing of the host's kernel knobs. Named
//! `lxc-NAME_<LXCPATH>` as LXC names its own, so tools that look for it find
//! it; `lxc.apparmor.raw` lines are appended, and `lxc.apparmor.allow_nesting`
//! adds what a container running containers needs.
//!
//! Loaded with `apparmor_parser --replace` before the start and removed
//! after the stop ([`load_tool`], [`unload_tool`]).

use std::path::Path;

use crate::config::Config;
use crate::sys::Tool;

/// A profile rlxc generates and loads before the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// Its name (`lxc-NAME_<LXCPATH>`).
    pub name: String,
    /// Its text.
    pub text: String,
}

/// The profile's name for container `name` in `lxcpath`.
pub fn profile_name(name: &str, lxcpath: &Path) -> String {
    format!("lxc-{name}_<{}>", lxcpath.display())
}

/// The rules every generated profile has.
const BASE: &[&str] = &[
    "capability,",
    "network,",
    "file,",
    "umount,",
    "pivot_root,",
    "# Signals: from anyone, to its own processes.",
    "signal (receive),",
    "signal peer=@{profile_name},",
    "# Its own processes may trace each other; others may only read them.",
    "ptrace peer=@{profile_name},",
    "ptrace (readby),",
    "# Its own /proc, /sys, /dev and shared-memory mounts.",
    "mount fstype=proc -> /proc/,",
    "mount fstype=sysfs -> /sys/,",
    "mount fstype=tmpfs,",
    "mount fstype=devpts,",
    "mount fstype=mqueue,",
    "# Binds of anything but /proc and /sys: a bind of /proc/sys/kernel",
    "# elsewhere would dodge the path rules below.",
    "mount options=(rw, bind) /[^ps]*{,/**},",
    "mount options=(rw, bind) /p[^r]*{,/**},",
    "mount options=(rw, bind) /pr[^o]*{,/**},",
    "mount options=(rw, bind) /pro[^c]*{,/**},",
    "mount options=(rw, bind) /proc?*{,/**},",
    "mount options=(rw, bind) /s[^y]*{,/**},",
    "mount options=(rw, bind) /sy[^s]*{,/**},",
    "mount options=(rw, bind) /sys?*{,/**},",
    "mount options=(ro, remount, bind),",
    "mount options=(ro, remount, bind, nosuid, nodev, noexec),",
    "mount options=(rw, make-slave) -> **,",
    "mount options=(rw, make-rslave) -> **,",
    "mount options=(rw, make-private) -> **,",
    "mount options=(rw, make-rprivate) -> **,",
    "# Never the filesystems of the kernel itself.",
    "deny mount fstype=debugfs,",
    "deny mount fstype=securityfs,",
    "deny mount fstype=tracefs,",
    "deny mount fstype=bpf,",
    "# The kernel's knobs stay the host's.",
    "deny @{PROC}/sysrq-trigger rwklx,",
    "deny @{PROC}/kcore rwklx,",
    "deny @{PROC}/kmem rwklx,",
    "deny @{PROC}/mem rwklx,",
    "# /proc/sys/kernel: only shm*, msg*, sem*, hostname and domainname",
    "# (the container's own namespaces) are written.",
    "deny @{PROC}/sys/kernel/[^smhd]** wklx,",
    "deny @{PROC}/sys/kernel/s[^he]** wklx,",
    "deny @{PROC}/sys/kernel/sh[^m]** wklx,",
    "deny @{PROC}/sys/kernel/se[^m]** wklx,",
    "deny @{PROC}/sys/kernel/m[^s]** wklx,",
    "deny @{PROC}/sys/kernel/ms[^g]** wklx,",
    "deny @{PROC}/sys/kernel/h[^o]** wklx,",
    "deny @{PROC}/sys/kernel/ho[^s]** wklx,",
    "deny @{PROC}/sys/kernel/d[^o]** wklx,",
    "deny @{PROC}/sys/kernel/do[^m]** wklx,",
    "deny @{PROC}/sys/[^kn]*{,/**} wklx,",
    "deny @{PROC}/sys/net/core/bpf_* wklx,",
    "# /sys: only the container's own network devices are written.",
    "deny /sys/firmware/** rwklx,",
    "deny /sys/kernel/security/** rwklx,",
    "deny /sys/kernel/debug/** rwklx,",
    "deny /sys/[^fdc]*/** wklx,",
    "deny /sys/fs/[^c]*/** wklx,",
    "deny /sys/fs/c[^g]*/** wklx,",
    "deny /sys/class/** wklx,",
    "deny /sys/devices/[^v]** wklx,",
    "deny /sys/devices/v[^i]** wklx,",
    "deny /sys/devices/virtual/[^n]** wklx,",
    "deny /sys/devices/virtual/n[^e]** wklx,",
    "deny /sys/devices/virtual/ne[^t]** wklx,",
];

/// What nesting (`lxc.apparmor.allow_nesting = 1`) adds: the mounts a
/// nested container's start makes, and moving into its profiles.
const NESTING: &[&str] = &[
    "# Nesting: a container started inside this one, below the places",
    "# container managers mount a nested rootfs (never anywhere: a /proc",
    "# mounted at /tmp/p would dodge the @{PROC} rules above).",
    "mount fstype=proc -> /var/lib/lxc/**,",
    "mount fstype=proc -> /run/rlxc/**,",
    "mount fstype=proc -> /usr/lib/*/lxc/**,",
    "mount fstype=sysfs -> /var/lib/lxc/**,",
    "mount fstype=sysfs -> /run/rlxc/**,",
    "mount fstype=sysfs -> /usr/lib/*/lxc/**,",
    "mount fstype=cgroup -> /sys/fs/cgroup/**,",
    "mount fstype=cgroup2 -> /sys/fs/cgroup/**,",
    "change_profile -> lxc-*,",
];

/// The profile for container `name` in `lxcpath` with `cfg`'s raw lines and
/// nesting flag.
pub fn generate(name: &str, lxcpath: &Path, cfg: &Config) -> Generated {
    let pname = profile_name(name, lxcpath);
    let mut t = String::new();
    t.push_str("#include <tunables/global>\n\n");
    t.push_str(&format!(
        "# Generated by rlxc for container `{name}` in {}.\n",
        lxcpath.display()
    ));
    t.push_str(&format!(
        "profile \"{pname}\" flags=(attach_disconnected,mediate_deleted) {{\n"
    ));
    let mut rules: Vec<&str> = BASE.to_vec();
    if cfg.get_bool("lxc.apparmor.allow_nesting").unwrap_or(false) {
        rules.extend(NESTING);
    }
    for r in rules {
        t.push_str("  ");
        t.push_str(r);
        t.push('\n');
    }
    let raw = cfg.get_all("lxc.apparmor.raw");
    if !raw.is_empty() {
        t.push_str("  # lxc.apparmor.raw\n");
        for r in raw {
            t.push_str("  ");
            t.push_str(r);
            t.push('\n');
        }
    }
    t.push_str("}\n");
    Generated {
        name: pname,
        text: t,
    }
}

/// Loads (or replaces) the profile in `file`, caching the compiled policy
/// next to it.
pub fn load_tool(file: &Path, cache: &Path) -> Tool {
    Tool::new(
        "apparmor_parser",
        [
            "--replace".to_string(),
            "--write-cache".into(),
            format!("--cache-loc={}", cache.display()),
            file.display().to_string(),
        ],
    )
}

/// Removes the profile in `file` from the kernel.
pub fn unload_tool(file: &Path) -> Tool {
    Tool::new(
        "apparmor_parser",
        ["--remove".to_string(), file.display().to_string()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Config {
        crate::config::load_text(text.as_bytes(), Path::new("config")).unwrap()
    }

    #[test]
    fn the_profile_is_named_as_lxc_names_it_and_keeps_the_kernel_knobs_closed() {
        let g = generate("c1", Path::new("/var/lib/lxc"), &cfg(""));
        assert_eq!(g.name, "lxc-c1_</var/lib/lxc>");
        assert!(g.text.contains(
            "profile \"lxc-c1_</var/lib/lxc>\" flags=(attach_disconnected,mediate_deleted) {\n"
        ));
        for rule in [
            "  deny @{PROC}/sysrq-trigger rwklx,\n",
            "  deny @{PROC}/kcore rwklx,\n",
            "  deny /sys/kernel/security/** rwklx,\n",
            "  mount fstype=proc -> /proc/,\n",
            "  deny mount fstype=securityfs,\n",
            "  deny @{PROC}/sys/kernel/[^smhd]** wklx,\n",
            "  mount options=(rw, bind) /s[^y]*{,/**},\n",
            "  deny /sys/devices/virtual/ne[^t]** wklx,\n",
        ] {
            assert!(g.text.contains(rule), "{rule} in\n{}", g.text);
        }
        assert!(
            !g.text.contains("change_profile"),
            "no nesting unless asked"
        );
        assert!(g.text.ends_with("}\n"));
    }

    #[test]
    fn nesting_and_raw_lines_are_added() {
        let g = generate(
            "c1",
            Path::new("/srv/lxc"),
            &cfg("lxc.apparmor.allow_nesting = 1\nlxc.apparmor.raw = mount fstype=nfs,\n"),
        );
        assert!(g.text.contains("  change_profile -> lxc-*,\n"));
        assert!(
            !g.text.contains("unconfined"),
            "nesting never leaves the profile"
        );
        assert!(
            !g.text.contains("  mount fstype=proc,\n"),
            "no proc anywhere"
        );
        assert!(g
            .text
            .contains("  # lxc.apparmor.raw\n  mount fstype=nfs,\n}\n"));
    }

    #[test]
    fn the_parser_is_called_to_replace_and_to_remove() {
        let f = Path::new("/run/rlxc/x/c1/apparmor");
        assert_eq!(
            load_tool(f, Path::new("/run/rlxc/x/c1")).command_line(),
            "apparmor_parser --replace --write-cache --cache-loc=/run/rlxc/x/c1 /run/rlxc/x/c1/apparmor"
        );
        assert_eq!(
            unload_tool(f).command_line(),
            "apparmor_parser --remove /run/rlxc/x/c1/apparmor"
        );
    }
}

#[cfg(test)]
mod parser_check {
    use super::*;

    /// Where `apparmor_parser` is installed, it must accept the profile
    /// (`-Q`: compile only, no kernel needed). `./run test` installs it;
    /// elsewhere the test is skipped unless `RLXC_REQUIRE_ROOT=1`.
    #[test]
    fn apparmor_parser_accepts_the_generated_profile() {
        if !Path::new("/usr/sbin/apparmor_parser").exists() {
            assert_ne!(
                std::env::var("RLXC_REQUIRE_ROOT").as_deref(),
                Ok("1"),
                "apparmor_parser (package apparmor) is missing"
            );
            return;
        }
        let cfg = crate::config::load_text(
            b"lxc.apparmor.allow_nesting = 1\nlxc.apparmor.raw = mount fstype=nfs,\n",
            Path::new("config"),
        )
        .unwrap();
        let g = generate("c1", Path::new("/var/lib/lxc"), &cfg);
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("profile");
        std::fs::write(&f, &g.text).unwrap();
        let out = std::process::Command::new("/usr/sbin/apparmor_parser")
            .args(["-Q", "-K"])
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            g.text
        );
    }
}
