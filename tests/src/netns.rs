//! Network namespaces made by a test, removed when it ends.

use std::process::Command;

use crate::{run, stderr, stdout, Lab};

/// A network namespace of the test's own: the "host" of its containers'
/// networks, so no packet of a test ever leaves namespaces it made.
#[derive(Debug)]
pub struct HostNs(pub String);

impl HostNs {
    /// A new namespace named after `tag` and this test process, `lo` up.
    pub fn new(tag: &str) -> HostNs {
        let ns = HostNs(format!("rlxc-{tag}-{}", std::process::id()));
        ns.must(&["ip", "netns", "add", &ns.0]);
        ns.must(&ns.ip(&["link", "set", "lo", "up"]));
        ns
    }

    /// [`HostNs::new`] with bridge `br0` at 10.0.3.1/24.
    pub fn with_bridge(tag: &str) -> HostNs {
        let ns = HostNs::new(tag);
        for cmd in [
            ns.ip(&["link", "add", "br0", "type", "bridge"]),
            ns.ip(&["addr", "add", "10.0.3.1/24", "dev", "br0"]),
            ns.ip(&["link", "set", "br0", "up"]),
        ] {
            ns.must(&cmd);
        }
        ns
    }

    fn must(&self, cmd: &[&str]) {
        let o = run(Command::new(cmd[0]).args(&cmd[1..]));
        assert!(o.status.success(), "{cmd:?}: {}", stderr(&o));
    }

    /// `CMD ARGS` run in the namespace; its output.
    pub fn exec(&self, cmd: &[&str]) -> std::process::Output {
        run(Command::new("ip")
            .args(["netns", "exec", &self.0])
            .args(cmd))
    }

    /// `ip ARGS` in the namespace, as a command line.
    pub fn ip<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec!["ip", "netns", "exec", &self.0, "ip"];
        v.extend_from_slice(args);
        v
    }

    /// The links of the namespace whose names start with `prefix`.
    pub fn links(&self, prefix: &str) -> Vec<String> {
        let o = run(Command::new("ip").args(["netns", "exec", &self.0, "ip", "-o", "link"]));
        stdout(&o)
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap_or(n).to_string())
            .filter(|n| n.starts_with(prefix))
            .collect()
    }

    /// The host ends on br0.
    pub fn on_bridge(&self) -> Vec<String> {
        let o = run(Command::new("ip").args([
            "netns", "exec", &self.0, "ip", "-o", "link", "show", "master", "br0",
        ]));
        stdout(&o)
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap_or(n).to_string())
            .collect()
    }

    /// `rlxc net ARGS` run in the namespace, with the lab's run directory and
    /// `settings` as LXC's lxc-net file.
    pub fn net(
        &self,
        lab: &Lab,
        settings: &std::path::Path,
        args: &[&str],
    ) -> std::process::Output {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0])
            .arg(crate::rlxc_bin())
            .arg("net")
            .args(args)
            .env("RLXC_LXC_NET_CONFIG", settings)
            .env("RLXC_RUNDIR", &lab.rundir)
            .stdin(std::process::Stdio::null());
        run(&mut c)
    }

    /// `rlxc ARGS` run from inside the namespace.
    pub fn rlxc(&self, lab: &Lab, args: &[&str]) -> std::process::Output {
        let inner = lab.cmd(args);
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0])
            .arg(inner.get_program())
            .args(inner.get_args());
        for (k, v) in inner.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c.stdin(std::process::Stdio::null());
        run(&mut c)
    }
}

impl Drop for HostNs {
    /// Whatever still runs in the namespace (a dnsmasq a failed test did
    /// not stop) goes first: a process would keep the namespace alive.
    fn drop(&mut self) {
        if let Ok(o) = Command::new("ip").args(["netns", "pids", &self.0]).output() {
            for pid in stdout(&o)
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
            {
                crate::kill(pid, 9);
            }
        }
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}
