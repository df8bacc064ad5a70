//! The sshd template: the host's sshd in an application container on a
//! bridge in a network namespace the test made. An ssh login with the key
//! given by `-S` works, checked against the container's own host key; the
//! host's trees are read-only inside, `/home` is not there, passwords are
//! not offered; `rlxc stop` ends it at once.

use std::path::Path;
use std::process::Command;

use rlxc_tests::netns::HostNs;
use rlxc_tests::{run, stderr, stdout, Lab};

#[test]
fn an_ssh_login_reaches_the_hosts_sshd_in_a_container() {
    let Some(lab) = Lab::new() else { return };
    let have =
        Path::new("/usr/sbin/sshd").is_file() && Command::new("ssh").arg("-V").output().is_ok();
    if !rlxc_tests::require(have, "sshd and ssh (openssh-server, openssh-client)") {
        return;
    }
    let host = HostNs::with_bridge("sshd");
    let id = lab.path().join("id");
    let o = run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test@rlxc", "-f"])
        .arg(&id));
    assert!(o.status.success(), "{}", stderr(&o));
    let tag = std::process::id() % 100_000;
    let f = lab.path().join("net.conf");
    std::fs::write(
        &f,
        format!("lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.name = eth0\nlxc.net.0.flags = up\nlxc.net.0.veth.pair = vs{tag}\nlxc.net.0.ipv4.address = 10.0.3.40/24\n"),
    )
    .unwrap();
    let c = lab.name("sshd");
    let pubkey = format!("{}.pub", id.display());
    lab.ok(&[
        "create",
        "-n",
        &c,
        "-f",
        &f.display().to_string(),
        "-t",
        "sshd",
        "--",
        "-S",
        &pubkey,
    ]);
    let cfg = std::fs::read_to_string(Path::new(&lab.lxcpath).join(&c).join("config")).unwrap();
    assert!(
        cfg.contains("lxc.mount.entry = /usr usr none ro,bind 0 0"),
        "{cfg}"
    );
    assert!(
        !cfg.contains("/home") && !cfg.contains("/root ") && !cfg.contains("/etc "),
        "{cfg}"
    );
    let root = lab.rootfs(&c);
    // The container's own host key, which the login must see.
    let hostkey = std::fs::read_to_string(root.join("etc/ssh/ssh_host_ed25519_key.pub")).unwrap();
    let mine = std::fs::read_to_string("/etc/ssh/ssh_host_ed25519_key.pub").unwrap_or_default();
    assert_ne!(hostkey, mine, "not the host's key");
    let kh = lab.path().join("known_hosts");
    let key_part: Vec<&str> = hostkey.split_whitespace().take(2).collect();
    std::fs::write(&kh, format!("10.0.3.40 {}\n", key_part.join(" "))).unwrap();
    let o = host.rlxc(&lab, &["start", "-n", &c]);
    assert!(o.status.success(), "start: {}", stderr(&o));
    let ssh = |extra: &[&str], script: &str| {
        let khs = kh.display().to_string();
        let ids = id.display().to_string();
        let mut v = vec![
            "ssh",
            "-i",
            &ids,
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "ConnectTimeout=2",
        ];
        let khopt = format!("UserKnownHostsFile={khs}");
        v.extend(["-o", &khopt]);
        v.extend_from_slice(extra);
        v.extend(["root@10.0.3.40", script]);
        host.exec(&v)
    };
    // sshd listens a moment after init starts.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut login = ssh(&[], "true");
    while !login.status.success() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        login = ssh(&[], "true");
    }
    assert!(login.status.success(), "ssh login: {}", stderr(&login));
    let o = ssh(
        &[],
        "cat /etc/hostname; test -e /home && echo home || echo no-home; touch /usr/rlxc-probe 2>/dev/null && echo rw || echo ro; id -u",
    );
    assert_eq!(
        stdout(&o),
        format!("{c}\nno-home\nro\n0\n"),
        "{}",
        stderr(&o)
    );
    // Key only: the server offers no password.
    let o = ssh(&["-o", "PubkeyAuthentication=no"], "true");
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("Permission denied (publickey)"),
        "{}",
        stderr(&o)
    );
    // SIGTERM ends sshd: a clean stop, no kill after a timeout.
    let o = run(&mut lab.cmd(&["stop", "-n", &c, "-t", "10", "--nokill"]));
    assert!(o.status.success(), "stop: {}", stderr(&o));
    lab.ok(&["destroy", "-n", &c]);
    lab.assert_clean(&c);
}
