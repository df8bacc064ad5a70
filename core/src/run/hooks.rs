//! `lxc.hook.*`: the admin's scripts, each run at the moment and in the
//! namespaces LXC runs it (`/bin/sh -c`, so a hook may carry arguments):
//!
//! | hook         | where                    | when                                      |
//! |--------------|--------------------------|-------------------------------------------|
//! | `pre-start`  | monitor, host namespaces | before cgroups, rootfs and ptys           |
//! | `pre-mount`  | monitor's mount namespace| before the rootfs is mounted              |
//! | `mount`      | container, before pivot  | after the mount entries                   |
//! | `autodev`    | container, before pivot  | before `/dev` is filled (`lxc.autodev`)   |
//! | `start-host` | monitor, host namespaces | namespaces and NICs made, init not run yet|
//! | `start`      | container, after pivot   | just before init (a path in the container)|
//! | `stop`       | monitor                  | init gone; the namespaces passed along    |
//! | `post-stop`  | monitor                  | last, also after a failed start           |
//! | `destroy`    | caller of `destroy`      | before the rootfs is removed              |
//!
//! `lxc.hook.version = 0` (the default) appends `NAME lxc TYPE` and, for
//! `stop`, `NS:PATH` per namespace to the command; version 1 appends nothing
//! and says it all in `LXC_HOOK_TYPE`, `LXC_HOOK_SECTION` and `LXC_<NS>_NS`.
//! A hook that fails (non-zero exit) fails what it was part of, naming the
//! key, the command, its status and the end of its output.

use std::path::Path;

use crate::config::Config;
use crate::sys::{Sys, Tool};

/// Where in a container's life a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    /// `lxc.hook.pre-start`.
    PreStart,
    /// `lxc.hook.pre-mount`.
    PreMount,
    /// `lxc.hook.mount`.
    Mount,
    /// `lxc.hook.autodev`.
    Autodev,
    /// `lxc.hook.start-host`.
    StartHost,
    /// `lxc.hook.start`.
    Start,
    /// `lxc.hook.stop`.
    Stop,
    /// `lxc.hook.post-stop`.
    PostStop,
    /// `lxc.hook.clone`.
    Clone,
    /// `lxc.hook.destroy`.
    Destroy,
}

/// Every kind, by its name in `lxc.hook.<name>`.
pub const KINDS: &[(HookKind, &str)] = &[
    (HookKind::PreStart, "pre-start"),
    (HookKind::PreMount, "pre-mount"),
    (HookKind::Mount, "mount"),
    (HookKind::Autodev, "autodev"),
    (HookKind::StartHost, "start-host"),
    (HookKind::Start, "start"),
    (HookKind::Stop, "stop"),
    (HookKind::PostStop, "post-stop"),
    (HookKind::Clone, "clone"),
    (HookKind::Destroy, "destroy"),
];

impl HookKind {
    /// Its name (`pre-start`).
    pub fn name(self) -> &'static str {
        KINDS
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("?", |(_, n)| n)
    }
}

/// A container's hooks and the environment every one of them gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hooks {
    /// Container name (version 0's first argument).
    pub name: String,
    /// `lxc.hook.version`: 0 or 1.
    pub version: u8,
    /// The hooks, in config order.
    pub list: Vec<(HookKind, String)>,
    /// `LXC_NAME`, `LXC_CONFIG_FILE`, `LXC_ROOTFS_PATH`, `LXC_ROOTFS_MOUNT`, …
    pub env: Vec<(String, String)>,
}

impl Hooks {
    /// The hooks of `cfg`, for container `name` whose config is `config_file`.
    pub fn from_config(name: &str, config_file: &Path, cfg: &Config) -> Hooks {
        let list = cfg
            .items()
            .iter()
            .filter_map(|i| {
                let kind = i.key.strip_prefix("lxc.hook.")?;
                let (k, _) = KINDS.iter().find(|(_, n)| *n == kind)?;
                Some((*k, i.value.clone()))
            })
            .collect::<Vec<_>>();
        // Most containers have no hooks: nothing more to read for them.
        if list.is_empty() {
            return Hooks {
                name: name.to_string(),
                ..Hooks::default()
            };
        }
        let mut env = vec![
            ("LXC_NAME".to_string(), name.to_string()),
            ("LXC_CONFIG_FILE".into(), config_file.display().to_string()),
            ("LXC_CGNS_AWARE".into(), "1".into()),
        ];
        if let Some(r) = cfg.rootfs_path().filter(|r| !r.is_empty()) {
            env.push(("LXC_ROOTFS_PATH".into(), r.to_string()));
        }
        if let Some(c) = cfg.get("lxc.console.path") {
            env.push(("LXC_CONSOLE".into(), c.to_string()));
        }
        if let Some(l) = cfg.get("lxc.console.logfile") {
            env.push(("LXC_CONSOLE_LOGPATH".into(), l.to_string()));
        }
        if let Some(l) = cfg.get("lxc.log.level") {
            env.push(("LXC_LOG_LEVEL".into(), l.to_string()));
        }
        Hooks {
            name: name.to_string(),
            version: u8::from(cfg.get_bool("lxc.hook.version").unwrap_or(false)),
            list,
            env,
        }
    }

    /// Whether any hook of `kind` is set.
    pub fn has(&self, kind: HookKind) -> bool {
        self.list.iter().any(|(k, _)| *k == kind)
    }

    /// Sets `LXC_ROOTFS_MOUNT`, where the rootfs is mounted for this start.
    pub fn set_rootfs_mount(&mut self, mount: &Path) {
        self.env.retain(|(k, _)| k != "LXC_ROOTFS_MOUNT");
        self.env
            .push(("LXC_ROOTFS_MOUNT".into(), mount.display().to_string()));
    }

    /// The command line of `hook` for this run: version 0 appends the
    /// container's name, the section and the type, then `args`.
    pub fn command(&self, kind: HookKind, hook: &str, args: &[String]) -> String {
        if self.version != 0 {
            return hook.to_string();
        }
        let mut line = format!("{hook} {} lxc {}", self.name, kind.name());
        for a in args {
            line.push(' ');
            line.push_str(a);
        }
        line
    }

    /// Runs every hook of `kind` in order, stopping at the first that fails.
    /// `env` adds variables (`LXC_PID`, `LXC_TARGET`, `LXC_NET_NS` …);
    /// `args` are version 0's extra arguments.
    pub fn run(
        &self,
        sys: &dyn Sys,
        kind: HookKind,
        env: &[(String, String)],
        args: &[String],
    ) -> Result<(), String> {
        for (_, hook) in self.list.iter().filter(|(k, _)| *k == kind) {
            let line = self.command(kind, hook, args);
            let mut tool = Tool::new("/bin/sh", ["-c", line.as_str()]);
            tool.env.extend(self.env.iter().cloned());
            tool.env.extend([
                ("LXC_HOOK_TYPE".to_string(), kind.name().to_string()),
                ("LXC_HOOK_SECTION".to_string(), "lxc".to_string()),
            ]);
            tool.env.extend(env.iter().cloned());
            let key = format!("lxc.hook.{}", kind.name());
            let out = sys
                .run_blocking(&tool)
                .map_err(|e| format!("{key} `{hook}`: {e}"))?;
            let text = format!(
                "{}{}",
                out.stdout_text(),
                String::from_utf8_lossy(&out.stderr)
            );
            for l in text.lines() {
                tracing::info!("{key} `{hook}`: {l}");
            }
            if out.status != 0 {
                return Err(format!(
                    "{key} `{hook}` failed with exit status {}{}",
                    out.status,
                    tail(&text)
                ));
            }
        }
        Ok(())
    }
}

/// The last lines of a hook's output, for its error.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    let from = lines.len().saturating_sub(3);
    format!(": {}", lines[from..].join(" / "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::{FakeSys, SysCall, ToolOutput};

    fn hooks(text: &str) -> Hooks {
        let cfg = crate::config::load_text(text.as_bytes(), Path::new("config")).unwrap();
        Hooks::from_config("c1", Path::new("/var/lib/lxc/c1/config"), &cfg)
    }

    #[test]
    fn version_0_appends_name_section_type_and_args() {
        let h = hooks("lxc.hook.stop = /h/stop --flag\n");
        let args = vec!["NET:/proc/9/fd/4".to_string()];
        assert_eq!(
            h.command(HookKind::Stop, "/h/stop --flag", &args),
            "/h/stop --flag c1 lxc stop NET:/proc/9/fd/4"
        );
        let h = hooks("lxc.hook.version = 1\nlxc.hook.stop = /h/stop\n");
        assert_eq!(h.command(HookKind::Stop, "/h/stop", &args), "/h/stop");
    }

    #[test]
    fn hooks_run_in_order_with_the_environment_and_stop_at_a_failure() {
        let h = hooks(
            "lxc.rootfs.path = dir:/r\nlxc.hook.pre-start = /a\nlxc.hook.mount = /m\nlxc.hook.pre-start = /b\n",
        );
        let fake = FakeSys::new();
        fake.answer("/bin/sh", ToolOutput::failed(3, "no disk\n"));
        let extra = [("LXC_PID".to_string(), "7".to_string())];
        let e = h.run(&fake, HookKind::PreStart, &extra, &[]).unwrap_err();
        assert_eq!(
            e,
            "lxc.hook.pre-start `/a` failed with exit status 3: no disk"
        );
        let calls = fake.calls();
        assert_eq!(calls.len(), 1, "/b never ran");
        let SysCall::Run(t) = &calls[0] else { panic!() };
        assert_eq!(t.args, ["-c", "/a c1 lxc pre-start"]);
        for (k, v) in [
            ("LXC_NAME", "c1"),
            ("LXC_ROOTFS_PATH", "dir:/r"),
            ("LXC_CONFIG_FILE", "/var/lib/lxc/c1/config"),
            ("LXC_HOOK_TYPE", "pre-start"),
            ("LXC_HOOK_SECTION", "lxc"),
            ("LXC_PID", "7"),
        ] {
            assert!(
                t.env.iter().any(|(a, b)| a == k && b == v),
                "{k} in {:?}",
                t.env
            );
        }
        assert!(h.has(HookKind::Mount) && !h.has(HookKind::Stop));
    }
}
