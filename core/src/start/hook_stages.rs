//! The hooks the monitor runs as stages of a start ([`super::launch`]):
//! `pre-start`, `pre-mount`, `start-host`, and at the end `stop` (with the
//! container's namespaces) and `post-stop`. The container's own hooks
//! (`mount`, `autodev`, `start`) run in its first process (`run::child`).

use std::os::fd::{AsRawFd, OwnedFd};

use super::launch::Launch;
use super::StartError;
use crate::run::hooks::HookKind;

/// The namespaces a `stop` hook is handed (`/proc/PID/ns` names; LXC's
/// variables are their upper case, `LXC_NET_NS`).
const STOP_NAMESPACES: &[&str] = &["mnt", "pid", "uts", "ipc", "net", "cgroup"];

impl Launch {
    /// Runs the hooks of `kind`; a failure fails the stage.
    pub(super) fn run_hook(
        &self,
        kind: HookKind,
        env: &[(String, String)],
        args: &[String],
    ) -> Result<(), StartError> {
        self.plan
            .spec
            .hooks
            .run(&*self.sys, kind, env, args)
            .map_err(|why| StartError::Hook {
                name: self.plan.name.clone(),
                why,
            })
    }

    fn pid_env(&self) -> Vec<(String, String)> {
        self.child
            .as_ref()
            .map(|c| vec![("LXC_PID".to_string(), c.pid.to_string())])
            .unwrap_or_default()
    }

    pub(super) fn hook_pre_start(&mut self) -> Result<(), StartError> {
        self.run_hook(HookKind::PreStart, &[], &[])
    }

    pub(super) fn hook_start_host(&mut self) -> Result<(), StartError> {
        self.wait_prepared()?;
        self.run_hook(HookKind::StartHost, &self.pid_env(), &[])
    }

    /// At the end of the container's life (or of a failed start).
    fn end_env(&self) -> Vec<(String, String)> {
        let mut env = self.pid_env();
        env.push(("LXC_TARGET".into(), "stop".into()));
        env
    }

    /// Opens the child's namespaces when a `stop` hook will want them: they
    /// outlive init as long as the monitor holds them.
    pub(super) fn open_stop_namespaces(&mut self, pid: i32) {
        if !self.plan.spec.hooks.has(HookKind::Stop) {
            return;
        }
        self.stop_ns = STOP_NAMESPACES
            .iter()
            .filter_map(|ns| {
                let f = std::fs::File::open(format!("/proc/{pid}/ns/{ns}")).ok()?;
                Some((*ns, OwnedFd::from(f)))
            })
            .collect();
    }

    /// `lxc.hook.stop`, after init is gone: version 0 gets `ns:/proc/PID/fd/N`
    /// arguments, version 1 `LXC_<NS>_NS` variables.
    pub(super) fn hook_stop(&mut self) -> Vec<String> {
        if !self.plan.spec.hooks.has(HookKind::Stop) {
            return Vec::new();
        }
        let me = std::process::id();
        let paths: Vec<(&str, String)> = self
            .stop_ns
            .iter()
            .map(|(ns, fd)| (*ns, format!("/proc/{me}/fd/{}", fd.as_raw_fd())))
            .collect();
        let args: Vec<String> = paths.iter().map(|(ns, p)| format!("{ns}:{p}")).collect();
        let mut env = self.end_env();
        for (ns, p) in &paths {
            env.push((format!("LXC_{}_NS", ns.to_ascii_uppercase()), p.clone()));
        }
        let r = self.run_hook(HookKind::Stop, &env, &args);
        self.stop_ns.clear();
        r.err().map(|e| e.to_string()).into_iter().collect()
    }

    pub(super) fn hook_post_stop(&mut self) -> Vec<String> {
        self.run_hook(HookKind::PostStop, &self.end_env(), &[])
            .err()
            .map(|e| e.to_string())
            .into_iter()
            .collect()
    }
}
