//! `rlxc-user-nic`, installed set-user-id root in a directory of the
//! test's, run by a throwaway user inside a network namespace the test made
//! (with bridge br0), for a network namespace the user made in its own user
//! namespace: the quota of `/etc/lxc/lxc-usernet` (written by the test,
//! the old one put back), a wrong bridge, another's namespace, and a
//! place freed when a NIC goes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use rlxc_tests::netns::HostNs;
use rlxc_tests::{run, stderr, stdout, TestUser};

const USERNET: &str = "/etc/lxc/lxc-usernet";

/// `/etc/lxc/lxc-usernet` as the test wants it; the old one back on drop.
/// One test at a time holds it.
struct Usernet(
    Option<Vec<u8>>,
    #[allow(dead_code)] std::sync::MutexGuard<'static, ()>,
);

static USERNET_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Usernet {
    fn set(text: &str) -> Usernet {
        let guard = USERNET_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let old = std::fs::read(USERNET).ok();
        std::fs::create_dir_all("/etc/lxc").unwrap();
        std::fs::write(USERNET, text).unwrap();
        std::fs::set_permissions(USERNET, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .unwrap();
        Usernet(old, guard)
    }
}

impl Drop for Usernet {
    fn drop(&mut self) {
        match &self.0 {
            Some(b) => {
                let _ = std::fs::write(USERNET, b);
            }
            None => {
                let _ = std::fs::remove_file(USERNET);
            }
        }
    }
}

/// A process of the user's in a network namespace of its own user
/// namespace (`usernsexec -- unshare -n`), killed on drop.
struct UserNetns {
    child: Child,
    pid: i32,
}

impl UserNetns {
    fn new(u: &TestUser) -> UserNetns {
        // (in /tmp: the user writes it)
        let pidfile =
            std::env::temp_dir().join(format!("rlxc-unic-{}-{}", std::process::id(), rand_tag()));
        let child = Command::new("runuser")
            .args(["-u", &u.name, "--"])
            .arg(&u.bin)
            .args(["usernsexec", "--", "sh", "-c"])
            .arg(format!(
                "echo $$ > {}; exec unshare -n sleep 60",
                pidfile.display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut pid = 0;
        for _ in 0..100 {
            if let Some(p) = std::fs::read_to_string(&pidfile)
                .ok()
                .and_then(|s| s.trim().parse().ok())
            {
                // Until unshare ran, the netns is still the parent's.
                let mine = std::fs::read_link("/proc/self/ns/net").unwrap();
                if std::fs::read_link(format!("/proc/{p}/ns/net")).is_ok_and(|n| n != mine) {
                    pid = p;
                    break;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = std::fs::remove_file(&pidfile);
        assert!(pid > 0, "the user's network namespace");
        UserNetns { child, pid }
    }
}

impl Drop for UserNetns {
    fn drop(&mut self) {
        rlxc_tests::kill(self.pid, 9);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_tag() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// Waits until no port is left on br0: the kernel deletes a pair whose
/// namespace went in the background (10 s at most, for a loaded machine).
fn wait_bridge_empty(host: &HostNs) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !host.on_bridge().is_empty() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(host.on_bridge().is_empty(), "{:?}", host.on_bridge());
}

/// The helper, copied set-user-id root into a directory every user reaches.
fn install(dir: &Path) -> PathBuf {
    let bin = dir.join("rlxc-user-nic");
    std::fs::copy(rlxc_tests::built_bin("rlxc-user-nic", "rlxc"), &bin).unwrap();
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&bin, std::os::unix::fs::PermissionsExt::from_mode(0o4755)).unwrap();
    bin
}

#[test]
fn a_user_gets_veths_within_its_quota_for_its_own_namespaces_only() {
    let have = rlxc_tests::is_root()
        && Path::new("/usr/bin/newuidmap").exists()
        && run(Command::new("sh").args(["-c", "command -v unshare && command -v nsenter"]))
            .status
            .success();
    if !rlxc_tests::require(have, "root, newuidmap (uidmap), unshare and nsenter") {
        return;
    }
    let Some(u) = TestUser::new("u") else { return };
    let dir = tempfile::tempdir().unwrap();
    let helper = install(dir.path());
    let host = HostNs::with_bridge("unic");
    let _usernet = Usernet::set(&format!("# the test's\n{} veth br0 2\n", u.name));
    let nic = |pid: i32, bridge: &str, name: &str| {
        run(Command::new("ip")
            .args(["netns", "exec", &host.0, "runuser", "-u", &u.name, "--"])
            .arg(&helper)
            .args([
                "create",
                "/nowhere",
                "c1",
                &pid.to_string(),
                "veth",
                bridge,
                name,
            ]))
    };
    let inside = |pid: i32| {
        stdout(&run(Command::new("nsenter").args([
            "-t",
            &pid.to_string(),
            "-n",
            "ip",
            "-o",
            "link",
        ])))
    };
    let ns1 = UserNetns::new(&u);
    // Two NICs: granted; their host ends on br0, their other ends inside.
    for name in ["eth0", "eth1"] {
        let o = nic(ns1.pid, "br0", name);
        assert!(o.status.success(), "{}", stderr(&o));
        let answer = stdout(&o);
        let (n, h) = answer.trim().split_once(':').unwrap();
        assert_eq!(n, name);
        assert!(host.on_bridge().contains(&h.to_string()), "{h} on br0");
        assert!(
            inside(ns1.pid).contains(&format!(": {name}@")),
            "{}",
            inside(ns1.pid)
        );
    }
    // A third: over the quota.
    let o = nic(ns1.pid, "br0", "eth2");
    assert!(
        stderr(&o).contains("has 2 of its 2 veth on br0"),
        "{}",
        stderr(&o)
    );
    // A bridge not granted, one that is no bridge, a bad name.
    let o = nic(ns1.pid, "br9", "eth2");
    assert!(stderr(&o).contains("grants"), "{}", stderr(&o));
    let o = nic(ns1.pid, "br0/x", "eth2");
    assert!(
        stderr(&o).contains("not an interface name"),
        "{}",
        stderr(&o)
    );
    // A namespace not the user's: root's own (a process root made there).
    let mut roots = Command::new("ip")
        .args(["netns", "exec", &host.0, "sleep", "30"])
        .spawn()
        .unwrap();
    let o = nic(roots.id() as i32, "br0", "eth3");
    assert!(
        stderr(&o).contains("no process of yours whose network namespace you may enter"),
        "{}",
        stderr(&o)
    );
    let _ = roots.kill();
    let _ = roots.wait();
    // A pid that is gone, and so is no one's: refused the same way.
    let o = nic(roots.id() as i32, "br0", "eth3");
    assert!(stderr(&o).contains("no process of yours"), "{}", stderr(&o));
    // The NICs go with their namespace, and so does their place in the quota.
    drop(ns1);
    let ns2 = UserNetns::new(&u);
    wait_bridge_empty(&host);
    let o = nic(ns2.pid, "br0", "eth0");
    assert!(o.status.success(), "the quota freed: {}", stderr(&o));
    // Without set-user-id, it says so.
    let plain = dir.path().join("plain");
    std::fs::copy(&helper, &plain).unwrap();
    std::fs::set_permissions(&plain, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let o = run(Command::new("runuser")
        .args(["-u", &u.name, "--"])
        .arg(&plain)
        .args(["create", "/x", "c", "5", "veth", "br0", "eth0"]));
    assert!(
        stderr(&o).contains("not set-user-id root"),
        "{}",
        stderr(&o)
    );
}

/// The busybox container `name` of `u`'s, given `addr` on its veth.
fn user_busybox(u: &TestUser, name: &str, addr: &str) {
    let o = u.rlxc(&[], &["create", "-n", name, "-t", "busybox"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let cfg =
        Path::new(&format!("/home/{}", u.name)).join(format!(".local/share/lxc/{name}/config"));
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(&format!("lxc.net.0.ipv4.address = {addr}/24\n"));
    std::fs::write(&cfg, text).unwrap();
}

#[test]
fn a_users_container_gets_its_veth_on_the_bridge_through_the_helper() {
    let have = rlxc_tests::is_root()
        && Path::new("/bin/busybox").exists()
        && Path::new("/usr/bin/newuidmap").exists();
    if !rlxc_tests::require(have, "root, busybox and newuidmap (uidmap)") {
        return;
    }
    let Some(u) = TestUser::new("v") else { return };
    // Beside the user's rlxc, where a start looks when /usr/libexec has none.
    install(u.bin.parent().unwrap());
    let host = HostNs::with_bridge("uveth");
    let _usernet = Usernet::set(&format!("{} veth br0 1\n", u.name));
    let home = format!("/home/{}", u.name);
    u.default_conf("lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.flags = up\nlxc.net.0.hwaddr = 00:16:3e:xx:xx:xx\n");
    user_busybox(&u, "v1", "10.0.3.51");
    user_busybox(&u, "v2", "10.0.3.52");
    let ns = Some(host.0.as_str());
    let ok = |o: std::process::Output| {
        assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        stdout(&o)
    };
    let mac = std::fs::read_to_string(Path::new(&home).join(".local/share/lxc/v1/config"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("lxc.net.0.hwaddr = ").map(str::to_string))
        .unwrap();
    for round in 0..2 {
        ok(u.rlxc_in(ns, &[], &["start", "-n", "v1"]));
        let ends = host.on_bridge();
        assert!(
            ends.len() == 1 && ends[0].starts_with("vethU"),
            "round {round}: {ends:?}"
        );
        let inside = ok(u.rlxc(
            &[],
            &[
                "attach",
                "-n",
                "v1",
                "--",
                "sh",
                "-c",
                "cat /sys/class/net/eth0/address; ip -o -4 addr show eth0",
            ],
        ));
        assert!(inside.starts_with(&format!("{mac}\n")), "{inside}");
        assert!(inside.contains("10.0.3.51/24"), "{inside}");
        // Traffic inside the test's own namespace only.
        let p = host.exec(&["busybox", "ping", "-c", "1", "-W", "5", "10.0.3.51"]);
        assert!(p.status.success(), "{}", stdout(&p));
        // The quota (1) is taken: the second container does not start, and
        // nothing of it is left.
        let o = u.rlxc_in(ns, &[], &["start", "-n", "v2"]);
        assert!(!o.status.success());
        assert!(
            stderr(&o).contains("has 1 of its 1 veth on br0"),
            "{}",
            stderr(&o)
        );
        assert!(stdout(&u.rlxc(&[], &["info", "-n", "v2"])).contains("STOPPED"));
        assert_eq!(host.on_bridge().len(), 1);
        ok(u.rlxc(
            &[],
            &[
                "stop",
                "-n",
                "v1",
                if round == 0 { "-k" } else { "-t" },
                "5",
            ]
            .iter()
            .filter(|a| !(round == 0 && **a == "5"))
            .copied()
            .collect::<Vec<_>>(),
        ));
        // Its pair went with its namespace, and its place in the quota.
        wait_bridge_empty(&host);
    }
    // A key that needs root on the host is refused by name.
    let v2 = Path::new(&home).join(".local/share/lxc/v2/config");
    let mut text = std::fs::read_to_string(&v2).unwrap();
    text.push_str("lxc.net.0.veth.pair = mine0\n");
    std::fs::write(&v2, text).unwrap();
    let o = u.rlxc_in(ns, &[], &["start", "-n", "v2"]);
    assert!(
        stderr(&o).contains("lxc.net.0.veth.pair: not for a user's container"),
        "{}",
        stderr(&o)
    );
    for c in ["v1", "v2"] {
        ok(u.rlxc(&[], &["destroy", "-n", c]));
    }
}
