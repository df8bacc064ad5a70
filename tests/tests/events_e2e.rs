//! `wait` and `monitor`, fed by the monitors' state events, and the `lxc-*`
//! names through symlinks.

use std::io::BufRead;

use rlxc_tests::Lab;

#[test]
fn wait_and_monitor_see_a_start_and_a_stop() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("events");
    let mut mon = lab
        .cmd(&["monitor", "-n", &format!("{c}|nomatch"), "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // `monitor` is listening once its socket exists.
    let events = std::path::Path::new(&lab.rundir);
    for _ in 0..200 {
        if std::fs::read_dir(events)
            .map(|d| d.count() > 0)
            .unwrap_or(false)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    let mut waiter = lab
        .cmd(&["wait", "-n", &c, "-s", "RUNNING|FROZEN"])
        .spawn()
        .unwrap();
    lab.ok(&["start", "-n", &c]);
    assert!(waiter.wait().unwrap().success());
    // A state it is already in returns at once; a timeout fails.
    lab.ok(&["wait", "-n", &c, "-s", "RUNNING", "-t", "1"]);
    let o = lab.run(&["wait", "-n", &c, "-s", "STOPPED", "-t", "1"]);
    assert_eq!(o.status.code(), Some(1));
    lab.ok(&["freeze", "-n", &c]);
    lab.ok(&["unfreeze", "-n", &c]);
    lab.ok(&["stop", "-n", &c, "-k"]);
    let mut lines = std::io::BufReader::new(mon.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for l in lines.by_ref().map_while(Result::ok) {
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(v["name"], c.as_str());
        seen.push(v["state"].as_str().unwrap().to_string());
        if seen.last().map(String::as_str) == Some("STOPPED") {
            break;
        }
    }
    let _ = mon.kill();
    let _ = mon.wait();
    assert_eq!(
        seen,
        ["STARTING", "RUNNING", "FREEZING", "FROZEN", "THAWED", "RUNNING", "STOPPING", "STOPPED"]
    );
}

#[test]
fn lxc_names_drive_the_same_lifecycle() {
    let Some(lab) = Lab::new() else { return };
    let bin = lab.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let o = rlxc_tests::rlxc(&["install-links", bin.to_str().unwrap()]);
    assert!(o.status.success(), "{}", rlxc_tests::stderr(&o));
    let c = lab.busybox("lxcnames");
    let lxc = |tool: &str, args: &[&str]| {
        let mut cmd = std::process::Command::new(bin.join(tool));
        cmd.args(["-P", &lab.lxcpath]).args(args);
        cmd.env("RLXC_RUNDIR", &lab.rundir)
            .env("RLXC_SYSTEM_CONFIG", lab.path().join("lxc.conf"))
            .stdin(std::process::Stdio::null());
        let o = rlxc_tests::run(&mut cmd);
        assert!(
            o.status.success(),
            "{tool} {args:?}: {}",
            rlxc_tests::stderr(&o)
        );
        rlxc_tests::stdout(&o)
    };
    lxc("lxc-start", &["-n", &c, "-d"]);
    assert!(lxc("lxc-info", &["-n", &c, "-s"]).contains("RUNNING"));
    assert_eq!(lxc("lxc-attach", &["-n", &c, "--", "hostname"]).trim(), c);
    assert!(lxc("lxc-ls", &["--running"]).contains(&c));
    assert!(lxc("lxc-list", &[]).starts_with(&format!("RUNNING\n  {c}\n")));
    lxc("lxc-stop", &["-n", &c]);
    assert!(lxc("lxc-info", &["-n", &c]).contains("STOPPED"));
    lab.assert_clean(&c);
}
