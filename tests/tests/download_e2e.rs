//! The download template against a local image server the test lays out
//! as LXC's image servers are (`meta/1.0/index-system`, `rootfs.tar.xz`
//! and `meta.tar.xz` per image, signed with a key made here), reached as a
//! `file://` URL: nothing leaves the machine. The image is a busybox
//! container's rootfs, so the result starts.

use std::path::{Path, PathBuf};
use std::process::Command;

use rlxc_tests::{run, stderr, Lab};

fn sh(script: &str) {
    let o = run(Command::new("sh").args(["-ec", script]));
    assert!(o.status.success(), "{script}: {}", stderr(&o));
}

/// The server: an index, one image, its meta; returns (server dir, keyring).
fn server(lab: &Lab, rootfs: &Path, build: &str) -> (PathBuf, PathBuf) {
    let srv = lab.path().join("images");
    let img = srv.join(format!("images/busybox/1.36/amd64/default/{build}"));
    let meta = lab.path().join("meta");
    std::fs::create_dir_all(&img).unwrap();
    std::fs::create_dir_all(srv.join("meta/1.0")).unwrap();
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        srv.join("meta/1.0/index-system"),
        format!("busybox;1.36;amd64;default;{build};/images/busybox/1.36/amd64/default/{build}/\nbusybox;1.36;arm64;default;{build};/images/elsewhere/\n"),
    )
    .unwrap();
    std::fs::write(meta.join("config"), "lxc.tty.max = 2\nlxc.mount.auto = cgroup:mixed proc:mixed sys:ro\n# from LXC_TEMPLATE_CONFIG\n").unwrap();
    std::fs::write(meta.join("templates"), "/etc/hostname\n/etc/motd\n").unwrap();
    std::fs::write(meta.join("excludes-system"), "dev/*\n").unwrap();
    std::fs::write(meta.join("create-message"), "Welcome to the test image\n").unwrap();
    std::fs::write(meta.join("expiry"), "4102444800\n").unwrap();
    let gnupg = lab.path().join("gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    std::fs::set_permissions(&gnupg, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    sh(&format!(
        "echo LXC_NAME > {r}/etc/hostname; echo 'this is LXC_NAME' > {r}/etc/motd
         tar --numeric-owner -cJf {i}/rootfs.tar.xz -C {r} .
         tar -cJf {i}/meta.tar.xz -C {m} .
         export GNUPGHOME={g}
         [ -e {g}/keyring.gpg ] || gpg --batch --quiet --passphrase '' --quick-gen-key 'rlxc images <images@rlxc.invalid>' ed25519 sign never 2>/dev/null
         for f in rootfs.tar.xz meta.tar.xz; do gpg --batch --quiet --yes --armor --detach-sign -o {i}/$f.asc {i}/$f; done
         gpg --batch --quiet --export > {g}/keyring.gpg; gpgconf --kill all 2>/dev/null || true",
        r = rootfs.display(),
        i = img.display(),
        m = meta.display(),
        g = gnupg.display()
    ));
    (srv, gnupg.join("keyring.gpg"))
}

#[test]
fn an_image_from_a_local_server_is_cached_filled_in_and_starts() {
    let Some(lab) = Lab::new() else { return };
    let have = ["curl", "xz", "gpg"].iter().all(|t| {
        run(Command::new("sh").args(["-c", &format!("command -v {t}")]))
            .status
            .success()
    });
    if !rlxc_tests::require(have, "curl, xz and gpg") {
        return;
    }
    let cache = lab.path().join("cache");
    let conf = lab.path().join("lxc.conf");
    let mut sys = std::fs::read_to_string(&conf).unwrap();
    sys.push_str(&format!("lxc.cache_dir = {}\n", cache.display()));
    std::fs::write(&conf, sys).unwrap();
    let bb = lab.busybox("img");
    let (srv, keyring) = server(&lab, &lab.rootfs(&bb), "20261201_12:00");
    let url = format!("file://{}", srv.display());
    let k = keyring.display().to_string();
    let c = lab.name("dl");
    let args = |c: &str, more: &[&str]| {
        let mut v = vec![
            "create", "-n", c, "-t", "download", "--", "-d", "busybox", "-r", "1.36", "-a", "amd64",
        ];
        v.extend_from_slice(more);
        v.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let go = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        lab.run(&a)
    };
    let o = go(args(&c, &["--server", &url, "--keyring", &k]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Welcome to the test image"),
        "{}",
        stderr(&o)
    );
    let root = lab.rootfs(&c);
    assert_eq!(
        std::fs::read_to_string(root.join("etc/hostname")).unwrap(),
        format!("{c}\n")
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/motd")).unwrap(),
        format!("this is {c}\n")
    );
    assert!(
        std::fs::read_dir(root.join("dev"))
            .unwrap()
            .all(|e| e.unwrap().file_name() == "pts"),
        "dev/* excluded, dev/pts made"
    );
    let cfg = std::fs::read_to_string(Path::new(&lab.lxcpath).join(&c).join("config")).unwrap();
    assert!(
        cfg.contains("lxc.tty.max = 2\n") && cfg.contains("# from /usr/share/lxc/config\n"),
        "{cfg}"
    );
    assert!(!Path::new(&lab.lxcpath).join(&c).join(".download").exists());
    // LXC's cache layout, with the build.
    let entry = cache.join("download/busybox/1.36/amd64/default");
    assert_eq!(
        std::fs::read_to_string(entry.join("build_id")).unwrap(),
        "20261201_12:00\n"
    );
    lab.ok(&["start", "-n", &c, "-d"]);
    assert_eq!(lab.attach_sh(&c, "hostname"), format!("{c}\n"));
    lab.ok(&["stop", "-n", &c, "-k"]);
    // A valid cache is used without the server.
    let c2 = lab.name("dl2");
    let o = go(args(&c2, &["--server", "file:///nonexistent"]));
    assert!(o.status.success(), "from the cache: {}", stderr(&o));
    // An expired cache needs the server; --force-cache does not; a new
    // build on the server replaces the cached one.
    std::fs::write(entry.join("expiry"), "1\n").unwrap();
    let o = go(args("x", &["--server", "file:///nonexistent"]));
    assert!(!o.status.success(), "expired: the index is fetched");
    let c3 = lab.name("dl3");
    let o = go(args(
        &c3,
        &["--server", "file:///nonexistent", "--force-cache"],
    ));
    assert!(o.status.success(), "--force-cache: {}", stderr(&o));
    server(&lab, &lab.rootfs(&bb), "20261202_12:00");
    let c4 = lab.name("dl4");
    let o = go(args(&c4, &["--server", &url]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(entry.join("build_id")).unwrap(),
        "20261202_12:00\n"
    );
    // --list; an image the server does not have; a bad signature.
    let o = go(args("x", &["--server", &url, "-l"]));
    assert!(
        stderr(&o).contains("busybox         1.36        arm64"),
        "{}",
        stderr(&o)
    );
    let o = go(args("x", &["--server", &url, "--variant", "cloud"]));
    assert!(
        stderr(&o).contains("no image busybox 1.36 amd64 cloud on file://"),
        "{}",
        stderr(&o)
    );
    let other = lab.path().join("other.gpg");
    sh(&format!("export GNUPGHOME=$(mktemp -d); gpg --batch --quiet --passphrase '' --quick-gen-key 'other <o@rlxc.invalid>' ed25519 sign never 2>/dev/null; gpg --batch --quiet --export > {}; gpgconf --kill all 2>/dev/null || true; rm -rf $GNUPGHOME", other.display()));
    let o = go(args(
        "x",
        &[
            "--server",
            &url,
            "--keyring",
            &other.display().to_string(),
            "--flush-cache",
        ],
    ));
    assert!(
        stderr(&o).contains("the signature does not verify"),
        "{}",
        stderr(&o)
    );
    assert!(!Path::new(&lab.lxcpath).join("x").exists());
    let names: Vec<String> = std::fs::read_dir(entry.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".partial")),
        "{names:?}"
    );
    for n in [&bb, &c, &c2, &c3, &c4] {
        lab.ok(&["destroy", "-n", n]);
        lab.assert_clean(n);
    }
}
