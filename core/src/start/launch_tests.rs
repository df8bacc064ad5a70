//! The staged start driven by the recording fake: stages in order, and a
//! failure injected at each stage in turn undoes exactly what was done.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;

use super::launch::{Launch, Stage};
use super::plan::{StartOptions, StartPlan};
use crate::cgroups::CgroupLayout;
use crate::config::{load_text, Nic};
use crate::container::Paths;
use crate::network::{NetContext, Network, NetworkError, NicState};
use crate::registry::Registry;
use crate::run::warmup::Warmup;
use crate::storage::{CreateRequest, RootfsSpec, Storage, StorageCaps, StorageError};
use crate::sys::{FakeSys, Sys, SysCall, Tool, ToolOutput};

/// Backends that report each call to the fake, so one timeline holds them all.
#[derive(Debug)]
struct Rec;

async fn note(sys: &dyn Sys, what: &str) -> Result<(), crate::sys::SysError> {
    sys.run(&Tool::new("rec", [what])).await.map(|_| ())
}

#[async_trait]
impl Storage for Rec {
    fn name(&self) -> &'static str {
        "rec"
    }
    fn caps(&self) -> StorageCaps {
        StorageCaps::default()
    }
    fn detect(&self, _: &RootfsSpec) -> bool {
        true
    }
    async fn create(&self, _: &dyn Sys, _: &CreateRequest) -> Result<RootfsSpec, StorageError> {
        Ok(RootfsSpec::new("rec", "/x"))
    }
    async fn mount(&self, sys: &dyn Sys, s: &RootfsSpec, _: &Path) -> Result<(), StorageError> {
        note(sys, "mount")
            .await
            .map_err(|source| StorageError::Sys {
                rootfs: s.to_string(),
                source,
            })
    }
    async fn umount(&self, sys: &dyn Sys, s: &RootfsSpec, _: &Path) -> Result<(), StorageError> {
        note(sys, "umount")
            .await
            .map_err(|source| StorageError::Sys {
                rootfs: s.to_string(),
                source,
            })
    }
    async fn destroy(&self, _: &dyn Sys, _: &RootfsSpec) -> Result<(), StorageError> {
        Ok(())
    }
}

#[async_trait]
impl Network for Rec {
    fn name(&self) -> &'static str {
        "rec"
    }
    fn validate(&self, _: &Nic) -> Result<(), NetworkError> {
        Ok(())
    }
    async fn setup_host(&self, ctx: NetContext<'_>, nic: &Nic) -> Result<NicState, NetworkError> {
        assert!(ctx.netns.is_some(), "the host half gets the netns handle");
        let what = format!("setup_host {}", nic.index);
        note(ctx.sys, &what)
            .await
            .map_err(|source| NetworkError::Sys {
                index: nic.index,
                what,
                source,
            })?;
        Ok(NicState {
            index: nic.index,
            ..NicState::default()
        })
    }
    async fn setup_container(
        &self,
        _: NetContext<'_>,
        _: &Nic,
        _: &NicState,
    ) -> Result<(), NetworkError> {
        Ok(())
    }
    async fn teardown(&self, ctx: NetContext<'_>, nic: &Nic, _: &NicState) -> Vec<NetworkError> {
        let _ = note(ctx.sys, &format!("teardown {}", nic.index)).await;
        Vec::new()
    }
}

struct Lab {
    _dir: tempfile::TempDir,
    plan: StartPlan,
}

fn lab() -> Lab {
    lab_with("")
}

fn lab_with(extra: &str) -> Lab {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        lxcpath: dir.path().join("lxc"),
        rundir: dir.path().join("run"),
    };
    let mut layout = CgroupLayout::fake_legacy(&["memory"]);
    layout.v1[0].mountpoint = dir.path().join("memory");
    std::fs::create_dir(&layout.v1[0].mountpoint).unwrap();
    let mut r = Registry::core();
    r.add_storage(Arc::new(Rec));
    r.add_network(Arc::new(Rec));
    let text = format!(
        "lxc.rootfs.path = /srv/c1\nlxc.net.0.type = rec\nlxc.net.1.type = rec\n\
         lxc.cgroup.memory.limit_in_bytes = 1048576\n{extra}"
    );
    let cfg = load_text(text.as_bytes(), Path::new("config")).unwrap();
    let plan = StartPlan::build("c1", &paths, &cfg, &r, &layout, StartOptions::default()).unwrap();
    Lab { _dir: dir, plan }
}

/// A call as a short label.
fn label(c: &SysCall) -> String {
    let file = |p: &Path| {
        p.file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    };
    match c {
        SysCall::Run(t) => t.args.join(" "),
        SysCall::Mkdir(p) => format!("mkdir {}", file(p)),
        SysCall::Rmdir(p) => format!("rmdir {}", file(p)),
        SysCall::Write { path, .. } => format!("write {}", file(path)),
        SysCall::Unshare(_) => "unshare".into(),
        SysCall::Mount(m) => format!("mount {}", m.target.display()),
        SysCall::Clone(_) => "clone".into(),
        SysCall::OpenNetns(_) => "open netns".into(),
        SysCall::PidfdSignal { signal, .. } => format!("signal {signal}"),
        SysCall::Reap(_) => "reap".into(),
        other => format!("{other:?}"),
    }
}

fn labels(sys: &FakeSys) -> Vec<String> {
    sys.calls().iter().map(label).collect()
}

const STARTED: &[&str] = &[
    "mkdir rlxc.payload.c1",
    "write memory.limit_in_bytes",
    "unshare",
    "mount /",
    "mount",
    "clone",
    "write cgroup.procs",
    "open netns",
    "setup_host 0",
    "setup_host 1",
];

const TORN_DOWN: &[&str] = &[
    "teardown 1",
    "teardown 0",
    "signal 9",
    "reap",
    "umount",
    "rmdir rlxc.payload.c1",
];

#[test]
fn stages_run_in_order_and_teardown_reverses_them() {
    let lab = lab();
    let sys = Arc::new(FakeSys::new());
    let run_dir = lab.plan.paths.run_root().join("c1");
    let launch = Launch::new(lab.plan.clone(), sys.clone(), Warmup::none());
    assert_eq!(
        launch.stages(),
        vec![
            Stage::RunDir,
            Stage::Cgroups,
            Stage::Rootfs,
            Stage::Ptys,
            Stage::Socket,
            Stage::Clone,
            Stage::Nic(0),
            Stage::Nic(1),
            Stage::Release,
        ]
    );
    let mut started = launch.run().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(labels(&sys), STARTED);
    assert!(run_dir.join("command").exists() && run_dir.join("cgroups").exists());
    assert_eq!(started.nic_states.len(), 2);
    assert!(started.teardown().is_empty());
    assert_eq!(labels(&sys)[STARTED.len()..], *TORN_DOWN);
    assert!(
        !run_dir.exists(),
        "the run directory goes with the last undo"
    );
}

/// Which calls each injected fault hits, and how far the start got.
const FAULTS: &[(&str, usize)] = &[
    ("mkdir rlxc.payload.c1", 0),
    ("write memory.limit_in_bytes", 1),
    ("unshare", 2),
    ("mount", 4),
    ("clone", 5),
    ("write cgroup.procs", 6),
    ("open netns", 7),
    ("setup_host 0", 8),
    ("setup_host 1", 9),
];

#[test]
fn a_failure_at_each_stage_undoes_what_was_done() {
    for (fault, reached) in FAULTS {
        let lab = lab();
        let sys = Arc::new(FakeSys::new());
        let f = fault.to_string();
        sys.fail_on(move |c| label(c) == f);
        let run_dir = lab.plan.paths.run_root().join("c1");
        let launch = Launch::new(lab.plan.clone(), sys.clone(), Warmup::none());
        let e = launch.run().expect_err(fault).to_string();
        assert!(e.contains("container `c1`"), "{fault}: {e}");
        let calls = labels(&sys);
        assert_eq!(calls[..=*reached], STARTED[..=*reached], "{fault}");
        // A failure after the clone kills the child first (its report may
        // name the cause), then every undo of a stage that began, in
        // reverse: the NICs whose host half succeeded, the child, the
        // rootfs, the cgroups.
        let undo: Vec<&str> = calls[reached + 1..].iter().map(String::as_str).collect();
        let nics_up = reached.saturating_sub(8);
        let mut want: Vec<&str> = Vec::new();
        if *reached >= 6 {
            want.push("signal 9");
        }
        want.extend(&TORN_DOWN[2 - nics_up.min(2)..2]);
        if *reached >= 6 {
            want.push("reap");
        }
        if *reached >= 2 {
            want.push("umount");
        }
        want.push("rmdir rlxc.payload.c1");
        assert_eq!(undo, want, "{fault}: {e}");
        assert!(!run_dir.exists(), "{fault}: run directory left");
    }
}

#[test]
fn the_next_start_undoes_the_nics_a_killed_monitor_left() {
    let lab = lab();
    let sys = Arc::new(FakeSys::new());
    let mut first = Launch::new(lab.plan.clone(), sys.clone(), Warmup::none())
        .run()
        .unwrap_or_else(|e| panic!("{e}"));
    let record = lab.plan.paths.run_root().join("c1").join("nics");
    assert!(record.exists(), "the host halves are recorded");
    // As a SIGKILLed monitor leaves it: no teardown, the socket dead.
    let kept = std::fs::read(&record).unwrap();
    first.listener = None;
    drop(first);
    std::fs::write(&record, kept).unwrap();
    let _ = std::fs::remove_file(lab.plan.paths.run_root().join("c1").join("command"));
    let sys2 = Arc::new(FakeSys::new());
    let second = Launch::new(lab.plan.clone(), sys2.clone(), Warmup::none());
    let mut second = second.run().unwrap_or_else(|e| panic!("{e}"));
    let calls = labels(&sys2);
    assert_eq!(calls[..2], ["teardown 0", "teardown 1"], "{calls:?}");
    assert!(second.teardown().is_empty());
}

#[test]
fn a_nic_failure_names_the_nic_and_its_type() {
    let lab = lab();
    let sys = Arc::new(FakeSys::new());
    sys.fail_on(|c| label(c) == "setup_host 1");
    let launch = Launch::new(lab.plan.clone(), sys.clone(), Warmup::none());
    let e = launch.run().unwrap_err().to_string();
    assert!(
        e.starts_with("container `c1`: lxc.net.1 (type `rec`): setting up the host side:"),
        "{e}"
    );
}

// start-host waits for the child's report that its tree is ready, which
// the fake's child never sends: the e2e tests cover it.
const HOOKS: &str = "lxc.hook.post-stop = /h\nlxc.hook.stop = /h\n\
                     lxc.hook.pre-mount = /h\nlxc.hook.pre-start = /h\n";

#[test]
fn the_monitors_hooks_run_at_their_moments() {
    let lab = lab_with(HOOKS);
    let sys = Arc::new(FakeSys::new());
    let launch = Launch::new(lab.plan.clone(), sys.clone(), Warmup::none());
    let mut started = launch.run().unwrap_or_else(|e| panic!("{e}"));
    let hook = |k: &str| format!("-c /h c1 lxc {k}");
    let mut want: Vec<String> = vec![hook("pre-start")];
    want.extend(STARTED[..4].iter().map(|s| s.to_string()));
    want.push(hook("pre-mount"));
    want.extend(STARTED[4..].iter().map(|s| s.to_string()));
    assert_eq!(labels(&sys), want);
    assert!(started.teardown().is_empty());
    let mut end: Vec<String> = TORN_DOWN[..4].iter().map(|s| s.to_string()).collect();
    end.push(hook("stop"));
    end.extend(TORN_DOWN[4..].iter().map(|s| s.to_string()));
    end.push(hook("post-stop"));
    assert_eq!(labels(&sys)[want.len()..], end);
}

#[test]
fn a_failing_hook_fails_the_start_and_post_stop_still_runs() {
    let lab = lab_with(HOOKS);
    let sys = Arc::new(FakeSys::new());
    sys.answer("/bin/sh", ToolOutput::default());
    sys.answer("/bin/sh", ToolOutput::failed(2, "cannot unlock the disk\n"));
    let launch = Launch::new(lab.plan.clone(), sys.clone(), Warmup::none());
    let e = launch.run().unwrap_err().to_string();
    assert_eq!(
        e,
        "container `c1`: lxc.hook.pre-mount `/h` failed with exit status 2: cannot unlock the disk"
    );
    let calls = labels(&sys);
    let after: Vec<&str> = calls
        .iter()
        .skip_while(|c| !c.ends_with("pre-mount"))
        .skip(1)
        .map(String::as_str)
        .collect();
    assert_eq!(
        after,
        ["umount", "rmdir rlxc.payload.c1", "-c /h c1 lxc post-stop"]
    );
}

#[test]
fn a_generated_apparmor_profile_is_loaded_first_and_removed_last() {
    let mut lab = lab();
    let g = crate::run::apparmor_profile::generate(
        "c1",
        &lab.plan.paths.lxcpath,
        &load_text(b"", Path::new("config")).unwrap(),
    );
    lab.plan.spec.lsm.exec_label = Some((crate::run::lsm::Module::AppArmor, g.name.clone()));
    lab.plan.spec.lsm.load = Some(g);
    let sys = Arc::new(FakeSys::new());
    let launch = Launch::new(lab.plan.clone(), sys.clone(), Warmup::none());
    assert_eq!(
        launch.stages()[..3],
        [Stage::RunDir, Stage::Lsm, Stage::Cgroups]
    );
    let mut started = launch.run().unwrap_or_else(|e| panic!("{e}"));
    let calls = labels(&sys);
    assert!(
        calls[0].starts_with("--replace --write-cache --cache-loc="),
        "{calls:?}"
    );
    assert!(calls[0].ends_with("/c1/apparmor.profile"), "{calls:?}");
    assert!(started.teardown().is_empty());
    let calls = labels(&sys);
    assert!(calls.last().unwrap().starts_with("--remove "), "{calls:?}");
}
