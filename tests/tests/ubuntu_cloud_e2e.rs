//! The ubuntu-cloud template with a root tarball the test builds (from a
//! busybox container, so the result starts): unpacked with owners and
//! modes, a NoCloud seed with the instance id, hostname, key, user-data
//! and DHCP on each NIC; `-C` leaves the seed out; a URL is fetched into
//! the cache once (`file://`: nothing leaves the machine); a broken
//! tarball leaves nothing.

use std::path::Path;
use std::process::Command;

use rlxc_tests::{run, stderr, Lab};

fn own_cache(lab: &Lab) -> std::path::PathBuf {
    let cache = lab.path().join("cache");
    let conf = lab.path().join("lxc.conf");
    let mut sys = std::fs::read_to_string(&conf).unwrap();
    sys.push_str(&format!("lxc.cache_dir = {}\n", cache.display()));
    std::fs::write(conf, sys).unwrap();
    cache
}

#[test]
fn a_cloud_tarball_becomes_a_seeded_container() {
    let Some(lab) = Lab::new() else { return };
    let cache = own_cache(&lab);
    let bb = lab.busybox("img");
    let tarball = lab.path().join("noble-server-cloudimg-amd64-root.tar.gz");
    let o = run(Command::new("tar")
        .args(["--numeric-owner", "-czf"])
        .arg(&tarball)
        .arg("-C")
        .arg(lab.rootfs(&bb))
        .arg("."));
    assert!(o.status.success(), "{}", stderr(&o));
    let ud = lab.path().join("user-data");
    std::fs::write(&ud, "#cloud-config\npackages: [hello]\n").unwrap();
    let key = lab.path().join("k.pub");
    std::fs::write(&key, "ssh-ed25519 AAAAC3Nza test@rlxc\n").unwrap();
    let f = lab.path().join("veth.conf");
    std::fs::write(&f, "lxc.net.0.type = empty\nlxc.net.1.type = veth\nlxc.net.1.link = lxcbr0\nlxc.net.1.name = eth0\n").unwrap();
    let c = lab.name("cloud");
    let t = tarball.display().to_string();
    lab.ok(&[
        "create",
        "-n",
        &c,
        "-f",
        &f.display().to_string(),
        "-t",
        "ubuntu-cloud",
        "--",
        "-T",
        &t,
        "-i",
        "iid-rlxc-1",
        "-u",
        &ud.display().to_string(),
        "-S",
        &key.display().to_string(),
    ]);
    let root = lab.rootfs(&c);
    let seed = root.join("var/lib/cloud/seed/nocloud-net");
    assert_eq!(
        std::fs::read_to_string(seed.join("meta-data")).unwrap(),
        format!("instance-id: iid-rlxc-1\nlocal-hostname: {c}\npublic-keys:\n  - ssh-ed25519 AAAAC3Nza test@rlxc\n")
    );
    assert_eq!(
        std::fs::read_to_string(seed.join("user-data")).unwrap(),
        "#cloud-config\npackages: [hello]\n"
    );
    assert_eq!(
        std::fs::read_to_string(seed.join("network-config")).unwrap(),
        "version: 2\nethernets:\n  eth0:\n    dhcp4: true\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/hostname")).unwrap(),
        format!("{c}\n")
    );
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(root.join("bin/busybox")).unwrap().mode(),
        std::fs::metadata(lab.rootfs(&bb).join("bin/busybox"))
            .unwrap()
            .mode(),
        "modes kept"
    );
    let cfg = std::fs::read_to_string(Path::new(&lab.lxcpath).join(&c).join("config")).unwrap();
    assert!(cfg.contains("lxc.arch = amd64"), "{cfg}");

    // -C: the metadata service, no seed; the default instance id is random.
    let c2 = lab.name("cloud2");
    lab.ok(&[
        "create",
        "-n",
        &c2,
        "-t",
        "ubuntu-cloud",
        "--",
        "-T",
        &t,
        "-C",
    ]);
    assert!(!lab.rootfs(&c2).join("var/lib/cloud/seed").exists());
    let c3 = lab.name("cloud3");
    lab.ok(&[
        "create",
        "-n",
        &c3,
        "-t",
        "ubuntu-cloud",
        "--",
        "-T",
        &format!("file://{t}"),
        "-L",
    ]);
    let meta = std::fs::read_to_string(
        lab.rootfs(&c3)
            .join("var/lib/cloud/seed/nocloud-net/meta-data"),
    )
    .unwrap();
    assert!(
        meta.starts_with("instance-id: iid-") && !meta.contains("iid-rlxc-1"),
        "{meta}"
    );
    let ud3 = std::fs::read_to_string(
        lab.rootfs(&c3)
            .join("var/lib/cloud/seed/nocloud-net/user-data"),
    )
    .unwrap();
    assert!(
        ud3.starts_with("#cloud-config\n") && !ud3.contains("locale"),
        "{ud3}"
    );
    // The URL's tarball is in the cache, whole.
    let cached = cache.join("ubuntu-cloud/noble-server-cloudimg-amd64-root.tar.gz");
    assert_eq!(
        std::fs::read(&cached).unwrap(),
        std::fs::read(&tarball).unwrap()
    );
    // (`cache` takes no lxcpath: run without the lab's `-P`)
    let ls = rlxc_tests::stdout(&run(Command::new(rlxc_tests::rlxc_bin())
        .args(["cache", "ls"])
        .env("RLXC_SYSTEM_CONFIG", lab.path().join("lxc.conf"))));
    assert!(
        ls.contains("noble-server-cloudimg-amd64-root.tar.gz"),
        "{ls}"
    );

    // It starts: the busybox inside runs.
    lab.ok(&["start", "-n", &c2, "-d"]);
    assert_eq!(lab.attach_sh(&c2, "cat /etc/hostname"), format!("{c2}\n"));
    lab.ok(&["stop", "-n", &c2, "-k"]);

    // A truncated tarball, a missing one, a missing key: nothing is left.
    let broken = lab.path().join("broken.tar.gz");
    let bytes = std::fs::read(&tarball).unwrap();
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    let bad = lab.name("bad");
    for args in [
        vec!["-T", broken.to_str().unwrap()],
        vec!["-T", "/no/such.tar.xz"],
        vec!["-T", &t, "-S", "/no/such.pub"],
        vec!["-T", "file:///no/such.tar.xz"],
    ] {
        let mut v = vec!["create", "-n", &bad, "-t", "ubuntu-cloud", "--"];
        v.extend(args.iter().copied());
        let o = lab.run(&v);
        assert!(!o.status.success(), "{args:?}");
        assert!(
            stderr(&o).contains("template `ubuntu-cloud`"),
            "{}",
            stderr(&o)
        );
        assert!(!Path::new(&lab.lxcpath).join(&bad).exists(), "{args:?}");
    }
    assert!(stderr(&lab.run(&[
        "create",
        "-n",
        &bad,
        "-t",
        "ubuntu-cloud",
        "--",
        "-T",
        "/no/such.tar.xz"
    ]))
    .contains("-T /no/such.tar.xz: no such file"));
    let names: Vec<_> = std::fs::read_dir(cache.join("ubuntu-cloud"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.to_string_lossy().starts_with(".partial")),
        "{names:?}"
    );
    for n in [&bb, &c, &c2, &c3] {
        lab.ok(&["destroy", "-n", n]);
        lab.assert_clean(n);
    }
}
