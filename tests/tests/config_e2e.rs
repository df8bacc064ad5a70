//! The config language from the built binary: Debian's LXC configs, the 12.04
//! guide's legacy lines, update-config, and bad configs.

use std::path::{Path, PathBuf};

use rlxc_core::config::document::Document;
use rlxc_tests::{require, rlxc, stderr, stdout};

const LXC_CONFIG_DIR: &str = "/usr/share/lxc/config";

fn debian_configs() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(LXC_CONFIG_DIR)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "conf"));
    files.sort();
    files
}

#[test]
fn every_debian_lxc_config_parses_and_round_trips() {
    let files = debian_configs();
    if !require(
        files.len() > 30,
        "Debian's liblxc-common and lxc-templates in /usr/share/lxc/config",
    ) {
        return;
    }
    for f in &files {
        let original = std::fs::read(f).unwrap();
        let doc = Document::parse(&original, Some(f)).unwrap();
        assert_eq!(
            doc.to_bytes(),
            original,
            "{} does not round-trip byte for byte",
            f.display()
        );
        rlxc_core::config::load_file(f).unwrap_or_else(|e| panic!("{e}"));
        let copy = tempfile::NamedTempFile::new().unwrap();
        doc.write_atomic(copy.path()).unwrap();
        assert_eq!(std::fs::read(copy.path()).unwrap(), original);
    }
    let mut args = vec!["config", "check"];
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = rlxc(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).matches(": ok").count(), files.len());
}

const GUIDE: &str = "\
lxc.utsname = CN
lxc.network.type=veth
lxc.network.link = lxcbr0
lxc.network.flags = up
lxc.network.ipv4 = 10.0.3.5/24
lxc.cgroup.memory.limit_in_bytes = 320000000
lxc.rootfs = /var/lib/lxc/CN/rootfs
lxc.mount.entry=proc /var/lib/lxc/CN/rootfs/proc proc nodev,noexec,nosuid 0 0
lxc.mount = /var/lib/lxc/CN/fstab
lxc.cap.drop = sys_admin
lxc.aa_profile = lxc-CN-profile
lxc.tty=5
lxc.pts=1024
lxc.devttydir = lxc
lxc.console=/var/log/lxc/CN.console
lxc.arch = amd64
";

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn guide_lines_parse_show_and_convert() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write(d.path(), "config", GUIDE.as_bytes());
    let p = cfg.to_str().unwrap();
    let out = rlxc(&["config", "check", p]);
    assert!(out.status.success(), "{}", stderr(&out));
    let show = rlxc(&["config", "show", p]);
    let text = stdout(&show);
    for line in [
        "lxc.uts.name = CN",
        "lxc.net.0.type = veth",
        "lxc.net.0.ipv4.address = 10.0.3.5/24",
        "lxc.tty.max = 5",
        "lxc.apparmor.profile = lxc-CN-profile",
    ] {
        assert!(text.contains(line), "`{line}` missing from show:\n{text}");
    }
    assert!(text.contains("memory"), "{text}");
    let up = rlxc(&["update-config", "-c", p]);
    assert!(up.status.success(), "{}{}", stdout(&up), stderr(&up));
    let converted = std::fs::read_to_string(&cfg).unwrap();
    for line in [
        "lxc.uts.name = CN",
        "lxc.net.0.type=veth",
        "lxc.net.0.link = lxcbr0",
        "lxc.net.0.ipv4.address = 10.0.3.5/24",
        "lxc.rootfs.path = dir:/var/lib/lxc/CN/rootfs",
        "lxc.mount.fstab = /var/lib/lxc/CN/fstab",
        "lxc.apparmor.profile = lxc-CN-profile",
        "lxc.tty.max=5",
        "lxc.pty.max=1024",
        "lxc.tty.dir = lxc",
        "lxc.console.path=/var/log/lxc/CN.console",
    ] {
        assert!(converted.contains(line), "`{line}` missing:\n{converted}");
    }
    assert_eq!(
        std::fs::read_to_string(d.path().join("config.backup")).unwrap(),
        GUIDE
    );
    assert!(
        stdout(&up).contains("config:1: changed `lxc.utsname` → `lxc.uts.name`"),
        "{}",
        stdout(&up)
    );
    // A second run finds nothing to do and changes nothing.
    let before = std::fs::read(&cfg).unwrap();
    let again = rlxc(&["update-config", "-c", p]);
    assert!(again.status.success());
    assert!(stdout(&again).contains("nothing changed"));
    assert_eq!(std::fs::read(&cfg).unwrap(), before);
}

#[test]
fn bad_configs_name_file_line_and_key() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "loop-a.conf", b"lxc.include = loop-b.conf\n");
    write(d.path(), "loop-b.conf", b"lxc.include = loop-a.conf\n");
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            write(d.path(), "unknown", b"lxc.tty.max = 4\nlxc.colour = blue\n"),
            "unknown:2: key `lxc.colour`: unknown key",
        ),
        (
            write(d.path(), "badvalue", b"\nlxc.signal.halt = SIGNOPE\n"),
            "badvalue:2: key `lxc.signal.halt`",
        ),
        (
            d.path().join("loop-a.conf"),
            "key `lxc.include`: include loop",
        ),
        (
            write(
                d.path(),
                "unreadable",
                b"lxc.include = /nonexistent/dir/x.conf\n",
            ),
            "unreadable:1: key `lxc.include`: cannot read /nonexistent/dir/x.conf",
        ),
        (
            write(
                d.path(),
                "garbage",
                b"lxc.arch = amd64\n\x7fELF\x02\x01\x01\x00\x00\xff\xfe\n",
            ),
            "garbage:2: the line",
        ),
        (
            write(d.path(), "nolxc", b"hostname = web\n"),
            "nolxc:1: key `hostname`",
        ),
    ];
    for (file, expected) in cases {
        let out = rlxc(&["config", "check", file.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            file.display(),
            stderr(&out)
        );
        assert!(
            stderr(&out).contains(expected),
            "{}: expected `{expected}` in:\n{}",
            file.display(),
            stderr(&out)
        );
        let show = rlxc(&["config", "show", file.to_str().unwrap()]);
        assert_eq!(show.status.code(), Some(1));
        assert!(stderr(&show).contains(expected), "show: {}", stderr(&show));
        assert!(!stderr(&show).contains("panicked"));
    }
}

#[test]
fn modern_only_file_is_unchanged_by_update_config() {
    let d = tempfile::tempdir().unwrap();
    let text = b"# modern\nlxc.net.0.type = veth\nlxc.net.0.link = lxcbr0\n\nlxc.uts.name = c1\nlxc.cgroup2.memory.max = 512M\n";
    let cfg = write(d.path(), "config", text);
    let out = rlxc(&["update-config", "-c", cfg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&cfg).unwrap(), text);
    assert!(!d.path().join("config.backup").exists());
}

#[test]
fn system_config_keys() {
    let d = tempfile::tempdir().unwrap();
    let sys = write(d.path(), "lxc.conf", b"lxcpath = /srv/containers\n");
    let get = |key: &str| {
        rlxc_tests::run(
            std::process::Command::new(rlxc_tests::rlxc_bin())
                .args(["config", key])
                .env("RLXC_SYSTEM_CONFIG", &sys),
        )
    };
    assert_eq!(stdout(&get("lxc.lxcpath")), "/srv/containers\n");
    assert_eq!(stdout(&get("lxc.bdev.lvm.vg")), "lxc\n");
    assert_eq!(
        stdout(&get("lxc.cgroup.pattern")),
        "lxc.cgroup.pattern is not set.\n"
    );
    assert_eq!(get("lxc.nope").status.code(), Some(1));
    let list = rlxc(&["config", "-l"]);
    assert!(stdout(&list).contains("lxc.lxcpath\n"));
}
