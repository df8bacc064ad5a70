//! rlxc's built-in templates as LXC template scripts: `install-links
//! --templates DIR` makes `lxc-NAME` links, which run with LXC's calling
//! convention (`--path --name --rootfs`, config lines appended, as LXC's
//! lxc-create calls a script) and take the guide's `SUITE=sid lxc-debian
//! --clean`.

use std::path::Path;
use std::process::Command;

use rlxc_tests::{run, stderr, stdout, Lab};

#[test]
fn template_links_run_with_lxcs_convention_and_clean_the_cache() {
    let Some(lab) = Lab::new() else { return };
    let cache = lab.path().join("cache");
    for e in [
        "rootfs-sid-amd64",
        "rootfs-sid-amd64-0badf00d",
        "rootfs-bookworm-amd64",
    ] {
        std::fs::create_dir_all(cache.join("debian").join(e).join("etc")).unwrap();
    }
    let conf = lab.path().join("lxc.conf");
    let mut sys = std::fs::read_to_string(&conf).unwrap();
    sys.push_str(&format!("lxc.cache_dir = {}\n", cache.display()));
    std::fs::write(&conf, sys).unwrap();
    let (bin, tdir) = (lab.path().join("bin"), lab.path().join("templates"));
    let o = run(Command::new(rlxc_tests::rlxc_bin())
        .arg("install-links")
        .arg(&bin)
        .arg("--templates")
        .arg(&tdir));
    assert!(o.status.success(), "{}", stderr(&o));
    for t in ["busybox", "sshd", "debian", "ubuntu", "ubuntu-cloud"] {
        assert!(tdir.join(format!("lxc-{t}")).exists(), "lxc-{t}");
    }
    let script = |name: &str, env: &[(&str, &str)], args: &[&str]| {
        let mut c = Command::new(tdir.join(name));
        c.args(args)
            .env("RLXC_SYSTEM_CONFIG", &conf)
            .env_remove("SUITE");
        for (k, v) in env {
            c.env(k, v);
        }
        run(&mut c)
    };
    // The guide's form: that suite's entries go, the others stay.
    let o = script("lxc-debian", &[("SUITE", "sid")], &["--clean"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2, "{}", stdout(&o));
    let left: Vec<String> = std::fs::read_dir(cache.join("debian"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(left, ["rootfs-bookworm-amd64"]);
    // Without a suite, lxc-debian's whole cache, as LXC purges it.
    let o = script("lxc-debian", &[], &["--clean"]);
    assert!(stdout(&o).contains("purged") && !cache.join("debian/rootfs-bookworm-amd64").exists());
    assert!(stdout(&script("lxc-debian", &[], &["-h"])).contains("--mirror URL"));
    let o = script("lxc-busybox", &[], &["--clean"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("template `busybox`: it has no `--clean`"),
        "{}",
        stderr(&o)
    );
    // As LXC's lxc-create calls a script: a container directory with its
    // config, then --path --name --rootfs; the lines are appended.
    let c = lab.name("script");
    let dir = Path::new(&lab.lxcpath).join(&c);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config"),
        format!(
            "lxc.net.0.type = empty\nlxc.rootfs.path = dir:{}/rootfs\n",
            dir.display()
        ),
    )
    .unwrap();
    let (d, r) = (
        dir.display().to_string(),
        format!("{}/rootfs", dir.display()),
    );
    let o = script(
        "lxc-busybox",
        &[],
        &["--path", &d, "--name", &c, "--rootfs", &r],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let cfg = std::fs::read_to_string(dir.join("config")).unwrap();
    assert!(
        cfg.starts_with("lxc.net.0.type = empty\n") && cfg.contains("lxc.tty.max"),
        "{cfg}"
    );
    assert!(dir.join("rootfs/bin/busybox").exists());
    lab.ok(&["start", "-n", &c, "-d"]);
    assert_eq!(lab.attach_sh(&c, "hostname"), format!("{c}\n"));
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.ok(&["destroy", "-n", &c]);
    lab.assert_clean(&c);
    // Without --path and --name: told what it needs.
    let o = script("lxc-busybox", &[], &[]);
    assert!(
        stderr(&o).contains("needs `--path DIR --name NAME`"),
        "{}",
        stderr(&o)
    );
}
