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

/// `SHA256SUMS` for `tarball` beside it, signed (`SHA256SUMS.gpg`) by a
/// key made here; returns that key's keyring.
fn sign_sums(lab: &Lab, tarball: &Path) -> std::path::PathBuf {
    let dir = tarball.parent().unwrap();
    let gnupg = lab.path().join("gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    std::fs::set_permissions(&gnupg, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let script = format!(
        "cd {d} && sha256sum --tag {f} >/dev/null && sha256sum -b {f} > SHA256SUMS
         export GNUPGHOME={g}
         gpg --batch --quiet --passphrase '' --quick-gen-key 'rlxc cloud <cloud@rlxc.invalid>' ed25519 sign never 2>/dev/null
         gpg --batch --quiet --yes --detach-sign -o SHA256SUMS.gpg SHA256SUMS
         gpg --batch --quiet --export > {g}/keyring.gpg; gpgconf --kill all 2>/dev/null || true",
        d = dir.display(),
        f = tarball.file_name().unwrap().to_string_lossy(),
        g = gnupg.display()
    );
    let o = run(Command::new("sh").args(["-ec", &script]));
    assert!(o.status.success(), "{}", stderr(&o));
    gnupg.join("keyring.gpg")
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
    // A URL: SHA256SUMS beside it, signed by a key made here.
    let keyring = sign_sums(&lab, &tarball);
    let k = keyring.display().to_string();
    let url = format!("file://{t}");
    let c3 = lab.name("cloud3");
    lab.ok(&[
        "create",
        "-n",
        &c3,
        "-t",
        "ubuntu-cloud",
        "--",
        "-T",
        &url,
        "--keyring",
        &k,
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
    // The URL's tarball is in the cache, whole, under its name and a
    // digest of the URL.
    let cached: Vec<_> = std::fs::read_dir(cache.join("ubuntu-cloud"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("noble-server-cloudimg-amd64-root.tar.gz-")
        })
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert_eq!(
        std::fs::read(&cached[0]).unwrap(),
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

    // An image that does not match the signed sums is refused (-F fetches
    // it again); unsigned sums too; without the keyring, named.
    let good = std::fs::read(&tarball).unwrap();
    std::fs::write(&tarball, b"not the image").unwrap();
    let bad = lab.name("bad");
    let o = lab.run(&[
        "create",
        "-n",
        &bad,
        "-t",
        "ubuntu-cloud",
        "--",
        "-T",
        &url,
        "--keyring",
        &k,
        "-F",
    ]);
    assert!(stderr(&o).contains("SHA256SUMS says"), "{}", stderr(&o));
    std::fs::write(&tarball, &good).unwrap();
    let sums = lab.path().join("SHA256SUMS");
    let signed = std::fs::read(&sums).unwrap();
    std::fs::write(
        &sums,
        format!(
            "{} *noble-server-cloudimg-amd64-root.tar.gz\n",
            "0".repeat(64)
        ),
    )
    .unwrap();
    let o = lab.run(&[
        "create",
        "-n",
        &bad,
        "-t",
        "ubuntu-cloud",
        "--",
        "-T",
        &url,
        "--keyring",
        &k,
    ]);
    assert!(
        stderr(&o).contains("its signature does not verify"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&sums, signed).unwrap();
    let o = lab.run(&[
        "create",
        "-n",
        &bad,
        "-t",
        "ubuntu-cloud",
        "--",
        "-T",
        &url,
        "--keyring",
        "/no/keys.gpg",
    ]);
    assert!(
        stderr(&o).contains("the keyring /no/keys.gpg") && stderr(&o).contains("--no-validate"),
        "{}",
        stderr(&o)
    );
    assert!(!Path::new(&lab.lxcpath).join(&bad).exists());
    // It starts: the busybox inside runs.
    lab.ok(&["start", "-n", &c2, "-d"]);
    assert_eq!(lab.attach_sh(&c2, "cat /etc/hostname"), format!("{c2}\n"));
    lab.ok(&["stop", "-n", &c2, "-k"]);

    // A truncated tarball, a missing one, a missing key: nothing is left.
    let broken = lab.path().join("broken.tar.gz");
    let bytes = std::fs::read(&tarball).unwrap();
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
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
