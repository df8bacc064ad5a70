//! The native ubuntu template, live: debootstrap runs for real against a
//! signed Ubuntu-style mirror the test builds from Debian packages
//! (`ubuntu_mirror.sh`: the Ubuntu archive is not reachable here), into a
//! template cache that later runs reuse (`/var/tmp/rlxc-test-cache`). The
//! guest boots systemd to `running`; its user is `ubuntu`/`ubuntu` in group
//! sudo, or with `-b` the host user's own account with its home bound in.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use rlxc_tests::{run, stderr, Lab};

const CACHE: &str = "/var/tmp/rlxc-test-cache";

/// What the template installs for noble (its `include()`), which the
/// mirror must hold.
const NOBLE_SET: &str =
    "init,iproute2,sudo,ca-certificates,netplan.io,dbus,systemd-resolved,ssh,vim,language-pack-en";

/// The mirror (`file://` URL) and its keyring, built once per test binary.
fn mirror() -> Option<&'static (String, PathBuf)> {
    static M: OnceLock<Option<(String, PathBuf)>> = OnceLock::new();
    M.get_or_init(|| {
        let have = run(Command::new("sh").args([
            "-c",
            "command -v debootstrap && command -v dpkg-scanpackages && command -v gpg",
        ]))
        .status
        .success();
        if !rlxc_tests::require(have, "debootstrap, dpkg-scanpackages (dpkg-dev) and gpg") {
            return None;
        }
        let dir = Path::new(CACHE).join("ubuntu-noble");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ubuntu_mirror.sh");
        let o = run(Command::new("sh")
            .arg(script)
            .arg(&dir)
            .args(["noble", NOBLE_SET]));
        assert!(o.status.success(), "the test mirror: {}", stderr(&o));
        Some((
            format!("file://{}", dir.join("mirror").display()),
            dir.join("keyring.gpg"),
        ))
    })
    .as_ref()
}

fn lab_with_cache() -> Option<(Lab, &'static (String, PathBuf))> {
    let lab = Lab::new()?;
    let m = mirror()?;
    let conf = lab.path().join("lxc.conf");
    let mut sys = std::fs::read_to_string(&conf).unwrap();
    sys.push_str(&format!("lxc.cache_dir = {CACHE}\n"));
    std::fs::write(conf, sys).unwrap();
    Some((lab, m))
}

fn create_args<'a>(
    c: &'a str,
    m: &'a (String, PathBuf),
    keyring: &'a str,
    more: &[&'a str],
) -> Vec<&'a str> {
    let mut v = vec![
        "create",
        "-n",
        c,
        "-t",
        "ubuntu",
        "--",
        "-r",
        "noble",
        "--mirror",
        &m.0,
        "--keyring",
        keyring,
    ];
    v.extend_from_slice(more);
    v
}

fn wait_running(lab: &Lab, c: &str) -> String {
    lab.attach_sh(
        c,
        "for i in $(seq 150); do s=$(systemctl is-system-running --wait 2>/dev/null) && break; sleep 0.1; done; echo $s",
    )
}

/// Whether `hash` (from a shadow line) is the hash of `password`, checked
/// by the host's crypt(3) through perl (perl-base is essential in Debian).
fn hash_is(hash: &str, password: &str) -> bool {
    let o = run(Command::new("perl")
        .args([
            "-e",
            "print crypt($ARGV[0], $ARGV[1]) eq $ARGV[1] ? 'yes' : 'no'",
        ])
        .args([password, hash]));
    rlxc_tests::stdout(&o) == "yes"
}

#[test]
fn an_ubuntu_guest_has_its_user_and_boots_to_running() {
    let Some((lab, m)) = lab_with_cache() else {
        return;
    };
    let keyring = m.1.display().to_string();
    let key = lab.path().join("id.pub");
    std::fs::write(
        &key,
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIrlxc test@rlxc\n",
    )
    .unwrap();
    let key = key.display().to_string();
    let c = lab.name("ub");
    lab.ok(&create_args(&c, m, &keyring, &["-S", &key]));
    let entry = Path::new(CACHE).join("ubuntu/rootfs-noble-amd64");
    assert!(entry.join("usr/bin/apt").is_file(), "the cache is filled");
    let cfg = std::fs::read_to_string(Path::new(&lab.lxcpath).join(&c).join("config")).unwrap();
    assert!(
        cfg.contains("lxc.tty.max = 4\n") && cfg.contains("lxc.arch = amd64\n"),
        "{cfg}"
    );
    let root = lab.rootfs(&c);
    let sources = std::fs::read_to_string(root.join("etc/apt/sources.list")).unwrap();
    assert!(
        sources.contains(&format!(
            "deb {} noble-updates main restricted universe multiverse",
            m.0
        )),
        "{sources}"
    );
    // The user: ubuntu, password ubuntu, in sudo; root locked; the key.
    let shadow = std::fs::read_to_string(root.join("etc/shadow")).unwrap();
    let hash = shadow
        .lines()
        .find_map(|l| l.strip_prefix("ubuntu:"))
        .and_then(|r| r.split(':').next())
        .expect("ubuntu in shadow");
    assert!(hash_is(hash, "ubuntu"), "ubuntu's password is ubuntu");
    assert!(!hash_is(hash, "root"));
    assert!(
        shadow
            .lines()
            .any(|l| l.starts_with("root:!") || l.starts_with("root:*")),
        "{shadow}"
    );
    let group = std::fs::read_to_string(root.join("etc/group")).unwrap();
    assert!(
        group
            .lines()
            .any(|l| l.starts_with("sudo:") && l.ends_with("ubuntu")),
        "{group}"
    );
    let ak = root.join("home/ubuntu/.ssh/authorized_keys");
    assert!(std::fs::read_to_string(&ak).unwrap().contains("test@rlxc"));
    use std::os::unix::fs::MetadataExt;
    let (akm, home) = (
        std::fs::metadata(&ak).unwrap(),
        std::fs::metadata(root.join("home/ubuntu")).unwrap(),
    );
    assert_eq!((akm.uid(), akm.mode() & 0o777), (home.uid(), 0o600));
    // ssh host keys of its own, made after the copy.
    assert!(root.join("etc/ssh/ssh_host_ed25519_key").is_file());
    // The lab's NIC is `empty`: netplan with no ethernets to wait for.
    assert_eq!(
        std::fs::read_to_string(root.join("etc/netplan/10-lxc.yaml")).unwrap(),
        "network:\n  version: 2\n"
    );
    lab.ok(&["start", "-n", &c, "-d"]);
    assert_eq!(wait_running(&lab, &c), "running\n", "systemd's state");
    assert_eq!(lab.attach_sh(&c, "hostname"), format!("{c}\n"));
    let id = lab.attach_sh(&c, "id -nG ubuntu");
    assert!(id.split_whitespace().any(|g| g == "sudo"), "{id}");
    let o = run(&mut lab.cmd(&["stop", "-n", &c, "-t", "20", "--nokill"]));
    assert!(o.status.success(), "a clean stop: {}", stderr(&o));

    // A veth NIC in the config: netplan takes DHCP on it.
    let f = lab.path().join("veth.conf");
    std::fs::write(
        &f,
        "lxc.net.0.type = veth\nlxc.net.0.link = lxcbr0\nlxc.net.0.name = eth0\n",
    )
    .unwrap();
    let c2 = lab.name("ub2");
    let mut args = create_args(&c2, m, &keyring, &[]);
    let fs = f.display().to_string();
    args.splice(3..3, ["-f", fs.as_str()]);
    let before = std::fs::metadata(&entry).unwrap().modified().unwrap();
    lab.ok(&args);
    assert_eq!(
        std::fs::metadata(&entry).unwrap().modified().unwrap(),
        before,
        "the cache is reused"
    );
    assert!(
        std::fs::read_to_string(lab.rootfs(&c2).join("etc/netplan/10-lxc.yaml"))
            .unwrap()
            .contains("    eth0: {dhcp4: true}\n")
    );

    // Packages the mirror lacks: debootstrap fails, nothing is left (no
    // container, no cache entry, no build).
    let c3 = lab.name("ub3");
    let o = lab.run(&create_args(
        &c3,
        m,
        &keyring,
        &["--packages", "no-such-package"],
    ));
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("Couldn't find these debs: no-such-package"),
        "debootstrap's own reason: {}",
        stderr(&o)
    );
    assert!(!Path::new(&lab.lxcpath).join(&c3).exists());
    let leftovers: Vec<_> = std::fs::read_dir(Path::new(CACHE).join("ubuntu"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".partial") || n.starts_with("rootfs-noble-amd64-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A mirror not signed by the keyring given: refused by debootstrap.
    let o = lab.run(&create_args(
        &c3,
        m,
        "/usr/share/keyrings/debian-archive-keyring.gpg",
        // (in the mirror: only the signature can fail)
        &["--packages", "dbus"],
    ));
    assert!(
        stderr(&o).contains("Release signed by unknown key"),
        "{}",
        stderr(&o)
    );
    assert!(!Path::new(&lab.lxcpath).join(&c3).exists());
    // No keyring at all: named before anything runs.
    let o = lab.run(&create_args(&c3, m, "/nonexistent.gpg", &[]));
    assert!(
        stderr(&o).contains("the keyring /nonexistent.gpg")
            && stderr(&o).contains("ubuntu-keyring"),
        "{}",
        stderr(&o)
    );
    for n in [&c, &c2] {
        lab.ok(&["destroy", "-n", n]);
        lab.assert_clean(n);
    }
}

/// A host user made for the test, removed with its home on drop.
struct HostUser(String);

impl Drop for HostUser {
    fn drop(&mut self) {
        let _ = run(Command::new("userdel").args(["-r", &self.0]));
    }
}

#[test]
fn bindhome_gives_the_guest_the_host_users_account_and_home() {
    let Some((lab, m)) = lab_with_cache() else {
        return;
    };
    let keyring = m.1.display().to_string();
    let user = HostUser(format!("rlxcb{}", std::process::id()));
    let o = run(Command::new("useradd").args(["-m", "-s", "/bin/bash", &user.0]));
    assert!(o.status.success(), "useradd: {}", stderr(&o));
    let home = PathBuf::from(format!("/home/{}", user.0));
    std::fs::write(home.join("from-the-host"), "hello\n").unwrap();
    let c = lab.name("ubb");
    lab.ok(&create_args(&c, m, &keyring, &["-b", &user.0]));
    let root = lab.rootfs(&c);
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    assert!(passwd.contains(&format!("\n{}:x:", user.0)), "{passwd}");
    assert!(!passwd.contains("\nubuntu:"), "no ubuntu user with -b");
    let cfg = std::fs::read_to_string(Path::new(&lab.lxcpath).join(&c).join("config")).unwrap();
    assert!(
        cfg.contains(&format!(
            "lxc.mount.entry = /home/{u} home/{u} none bind,create=dir 0 0",
            u = user.0
        )),
        "{cfg}"
    );
    // -S with -b is refused, naming why.
    let o = lab.run(&create_args(
        "x",
        m,
        &keyring,
        &["-b", &user.0, "-S", "/etc/hostname"],
    ));
    assert!(stderr(&o).contains("-S with -b"), "{}", stderr(&o));
    // An unknown user is named before anything is built.
    let o = lab.run(&create_args("x", m, &keyring, &["-b", "no-such-user-rlxc"]));
    assert!(
        stderr(&o).contains("-b no-such-user-rlxc: no such user"),
        "{}",
        stderr(&o)
    );
    lab.ok(&["start", "-n", &c, "-d"]);
    assert_eq!(
        lab.attach_sh(
            &c,
            &format!("cat /home/{}/from-the-host; id -nG {}", user.0, user.0)
        )
        .lines()
        .next(),
        Some("hello")
    );
    let groups = lab.attach_sh(&c, &format!("id -nG {}", user.0));
    assert!(groups.split_whitespace().any(|g| g == "sudo"), "{groups}");
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.ok(&["destroy", "-n", &c]);
    lab.assert_clean(&c);
    assert!(
        home.join("from-the-host").is_file(),
        "the host's home is untouched"
    );
}

/// `UUID` and `Parent UUID` of a subvolume, from `btrfs subvolume show`.
fn uuids(p: &Path) -> (String, String) {
    let o = run(Command::new("btrfs").args(["subvolume", "show"]).arg(p));
    let text = rlxc_tests::stdout(&o);
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(k))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    (field("UUID:"), field("Parent UUID:"))
}

#[test]
fn on_btrfs_the_cache_is_a_subvolume_and_rootfses_are_its_snapshots() {
    let Some((lab, m)) = lab_with_cache() else {
        return;
    };
    let Some(fs) = rlxc_tests::LoopBtrfs::new(lab.path(), "2G") else {
        return;
    };
    let keyring = m.1.display().to_string();
    // The lxcpath and the template cache on the btrfs.
    let (lp, cache) = (fs.mnt.join("lxc"), fs.mnt.join("cache"));
    std::fs::create_dir_all(&lp).unwrap();
    let _sweep = rlxc_tests::SweepAt(&lab, lp.clone());
    let conf = lab.path().join("lxc.conf");
    let sys = std::fs::read_to_string(&conf)
        .unwrap()
        .replace(CACHE, &cache.display().to_string());
    std::fs::write(&conf, sys).unwrap();
    let create = |c: &str, more: &[&str]| {
        let mut args = create_args(c, m, &keyring, &["--trim"]);
        args.extend_from_slice(more);
        run(&mut lab.cmd_at(&lp, &args))
    };
    let c = lab.name("bt");
    let o = create(&c, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let entries: Vec<PathBuf> = std::fs::read_dir(cache.join("ubuntu"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("rootfs-noble-amd64-")
        })
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(entry).unwrap().ino(),
        256,
        "the entry is a subvolume"
    );
    let (entry_uuid, _) = uuids(entry);
    let rootfs = lp.join(&c).join("rootfs");
    let (_, parent) = uuids(&rootfs);
    assert!(
        !entry_uuid.is_empty() && parent == entry_uuid,
        "the rootfs is a snapshot of the entry: {parent} / {entry_uuid}"
    );
    // Made its own all the same: its hostname, not in the cache.
    assert_eq!(
        std::fs::read_to_string(rootfs.join("etc/hostname")).unwrap(),
        format!("{c}\n")
    );
    assert!(!entry.join("home/ubuntu").exists());
    let o = run(&mut lab.cmd_at(&lp, &["start", "-n", &c, "-d"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&mut lab.cmd_at(&lp, &["attach", "-n", &c, "--", "id", "-nG", "ubuntu"]));
    assert!(rlxc_tests::stdout(&o).contains("sudo"), "{}", stderr(&o));
    let o = run(&mut lab.cmd_at(&lp, &["stop", "-n", &c, "-k"]));
    assert!(o.status.success(), "{}", stderr(&o));
    // A build that fails leaves no subvolume behind.
    let c2 = lab.name("bt2");
    assert!(!create(&c2, &["--packages", "no-such-package"])
        .status
        .success());
    let names: Vec<String> = std::fs::read_dir(cache.join("ubuntu"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".partial"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
    let o = run(&mut lab.cmd_at(&lp, &["destroy", "-n", &c]));
    assert!(o.status.success(), "{}", stderr(&o));
    // `cache rm` frees a subvolume entry (`cache` takes no lxcpath).
    let name = entry.file_name().unwrap().to_string_lossy().into_owned();
    let o = run(Command::new(rlxc_tests::rlxc_bin())
        .args(["cache", "rm", "ubuntu", &name])
        .env("RLXC_SYSTEM_CONFIG", &conf));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!entry.exists());
}
