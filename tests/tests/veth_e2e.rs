//! veth NICs for real, on a bridge in a network namespace this test makes
//! (the "host"): every packet stays between that namespace and the
//! containers' own. Addresses, gateway and link state as configured, the
//! containers reach each other and the bridge, the host ends are on the
//! bridge, and nothing is left after stop, a failed start or a SIGKILLed
//! monitor.

use std::process::Command;

use rlxc_tests::{require, run, stderr, stdout, Lab};

/// A network namespace of the test's own, with bridge `br0` at 10.0.3.1/24.
struct HostNs(String);

impl HostNs {
    fn new() -> HostNs {
        let name = format!("rlxc-veth-{}", std::process::id());
        let ns = HostNs(name);
        for cmd in [
            vec!["ip", "netns", "add", &ns.0],
            ns.ip(&["link", "add", "br0", "type", "bridge"]),
            ns.ip(&["addr", "add", "10.0.3.1/24", "dev", "br0"]),
            ns.ip(&["link", "set", "br0", "up"]),
            ns.ip(&["link", "set", "lo", "up"]),
        ] {
            let o = run(Command::new(cmd[0]).args(&cmd[1..]));
            assert!(o.status.success(), "{cmd:?}: {}", stderr(&o));
        }
        ns
    }

    fn ip<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec!["ip", "netns", "exec", &self.0, "ip"];
        v.extend_from_slice(args);
        v
    }

    /// The links of the namespace whose names start with `prefix`.
    fn links(&self, prefix: &str) -> Vec<String> {
        let o = run(Command::new("ip").args(["netns", "exec", &self.0, "ip", "-o", "link"]));
        stdout(&o)
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap_or(n).to_string())
            .filter(|n| n.starts_with(prefix))
            .collect()
    }

    /// The host ends on br0.
    fn on_bridge(&self) -> Vec<String> {
        let o = run(Command::new("ip").args([
            "netns", "exec", &self.0, "ip", "-o", "link", "show", "master", "br0",
        ]));
        stdout(&o)
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap_or(n).to_string())
            .collect()
    }

    /// `rlxc ARGS` run from inside the namespace.
    fn rlxc(&self, lab: &Lab, args: &[&str]) -> std::process::Output {
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
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

fn nic(pair: &str, addr: &str, link: &str) -> String {
    format!(
        "lxc.net.0.type = veth\nlxc.net.0.link = {link}\nlxc.net.0.flags = up\n\
         lxc.net.0.veth.pair = {pair}\nlxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n\
         lxc.net.0.ipv4.address = {addr}/24\nlxc.net.0.ipv4.gateway = 10.0.3.1\n"
    )
}

#[test]
fn veth_on_a_bridge_reaches_its_neighbours_and_leaves_nothing() {
    let Some(lab) = Lab::new() else { return };
    if !require(
        Command::new("ip").arg("-V").output().is_ok(),
        "ip (iproute2)",
    ) {
        return;
    }
    let host = HostNs::new();
    let tag = std::process::id() % 100_000;
    let (p1, p2) = (format!("vr{tag}a"), format!("vr{tag}b"));
    let c1 = lab.busybox("veth1");
    let c2 = lab.busybox("veth2");
    // The lab's default config makes NIC 0 `empty`; these lines, later,
    // turn it into a veth.
    lab.configure(&c1, &nic(&p1, "10.0.3.11", "br0"));
    lab.configure(&c2, &nic(&p2, "10.0.3.12", "br0"));
    for c in [&c1, &c2] {
        let o = host.rlxc(&lab, &["start", "-n", c]);
        assert!(o.status.success(), "{c}: {}", stderr(&o));
    }
    let mut ends = host.on_bridge();
    ends.sort();
    assert_eq!(ends, vec![p1.clone(), p2.clone()], "host ends on br0");
    let addr = lab.ok(&[
        "attach", "-n", &c1, "--", "ip", "-o", "-4", "addr", "show", "eth0",
    ]);
    assert!(addr.contains("inet 10.0.3.11/24 brd 10.0.3.255"), "{addr}");
    let link = lab.ok(&[
        "attach", "-n", &c1, "--", "ip", "-o", "link", "show", "eth0",
    ]);
    assert!(
        link.contains("link/ether 00:16:3e:") && link.contains(",UP"),
        "{link}"
    );
    let route = lab.ok(&["attach", "-n", &c1, "--", "ip", "route"]);
    assert!(route.contains("default via 10.0.3.1 dev eth0"), "{route}");
    for to in ["10.0.3.12", "10.0.3.1"] {
        let o = lab.run(&["attach", "-n", &c1, "--", "ping", "-c", "1", "-W", "2", to]);
        assert!(
            o.status.success(),
            "ping {to}: {}{}",
            stdout(&o),
            stderr(&o)
        );
    }
    assert!(lab
        .ok(&["info", "-n", &c2, "-i", "-H"])
        .contains("10.0.3.12"));
    lab.ok(&["stop", "-n", &c1, "-k"]);
    assert_eq!(
        host.links(&format!("vr{tag}")),
        vec![p2.clone()],
        "c1's pair is gone"
    );

    // A SIGKILLed monitor: its container dies, and the pair with its netns.
    let init = lab.pid(&c2);
    let stat = std::fs::read_to_string(format!("/proc/{init}/stat")).unwrap();
    let monitor: i32 = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    rlxc_tests::kill(monitor, 9);
    for _ in 0..200 {
        if host.links(&format!("vr{tag}")).is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        host.links(&format!("vr{tag}")).is_empty(),
        "c2's pair outlived its monitor"
    );

    // A missing bridge fails the start, names the bridge, and makes nothing.
    lab.configure(&c1, "lxc.net.0.link = nosuchbr\n");
    let o = host.rlxc(&lab, &["start", "-n", &c1]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.contains("lxc.net.0 (type `veth`)")
            && e.contains("bridge `nosuchbr` (lxc.net.0.link) does not exist"),
        "{e}"
    );
    assert_eq!(lab.state(&c1), "STOPPED");
    assert!(host.links(&format!("vr{tag}")).is_empty());
    lab.assert_clean(&c1);
    lab.ok(&["destroy", "-n", &c2]);
    lab.assert_clean(&c2);
}
