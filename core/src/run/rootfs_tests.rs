//! The container's rootfs preparation driven by the recording fake: which
//! mounts, nodes and pivot it asks the kernel for, in order, and the
//! fallback to binds of the host's nodes where mknod is refused.

use std::path::Path;

use super::prepare_rootfs;
use crate::config::load_text;
use crate::run::spec::RunSpec;
use crate::sys::{FakeSys, SysCall};

fn label(c: &SysCall) -> String {
    match c {
        SysCall::Mount(m) => {
            let kind = m.fstype.clone().unwrap_or_else(|| {
                if m.flags.contains(nix::mount::MsFlags::MS_BIND) {
                    format!(
                        "bind {}",
                        m.source
                            .as_ref()
                            .map(|s| s.display().to_string())
                            .unwrap_or_default()
                    )
                } else {
                    "remount".into()
                }
            });
            let ro = if m.flags.contains(nix::mount::MsFlags::MS_RDONLY) {
                " ro"
            } else {
                ""
            };
            format!("mount {kind}{ro}")
        }
        SysCall::Mknod { name, .. } => format!("mknod {name}"),
        SysCall::PivotRoot(p) => format!("pivot {}", p.display()),
        SysCall::Umount { target, detach } => format!("umount {} {detach}", target.display()),
        other => format!("{other:?}"),
    }
}

fn prepare(sys: &FakeSys, extra: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let rootfs = t.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    let src = t.path().join("data");
    std::fs::create_dir(&src).unwrap();
    let text = format!(
        "lxc.mount.entry = tmpfs mnt/scratch tmpfs size=1m,create=dir 0 0\n\
         lxc.mount.entry = {} srv none bind,create=dir 0 0\n{extra}",
        src.display()
    );
    let cfg = load_text(text.as_bytes(), Path::new("config")).unwrap();
    let spec = RunSpec::from_config("c1", t.path(), &cfg).unwrap();
    let here = std::env::current_dir().unwrap();
    let r = prepare_rootfs(sys, &spec, &rootfs, &rootfs, None, &[], &[]);
    // pivot_into changes directory; the test process must not stay there.
    std::env::set_current_dir(here).unwrap();
    r.unwrap_or_else(|e| panic!("{e}"));
    assert!(rootfs.join("mnt/scratch").is_dir() && rootfs.join("dev/pts").is_dir());
    t
}

#[test]
fn mounts_nodes_and_pivot_in_order() {
    let sys = FakeSys::new();
    let t = prepare(&sys, "");
    let calls: Vec<String> = sys.calls().iter().map(label).collect();
    let data = format!("bind {}", t.path().join("data").display());
    let mut want = vec![
        "mount proc".to_string(),
        "mount sysfs".into(),
        "mount bind  ro".into(),
        "mount tmpfs".into(),
        "mount tmpfs".into(),
        format!("mount {data}"),
    ];
    want.extend(["null", "zero", "full", "random", "urandom", "tty"].map(|n| format!("mknod {n}")));
    want.extend([
        "mount devpts".into(),
        "pivot .".into(),
        "umount . true".into(),
    ]);
    assert_eq!(calls, want);
}

#[test]
fn refused_mknod_binds_the_hosts_nodes() {
    let sys = FakeSys::new();
    sys.fail_on(|c| matches!(c, SysCall::Mknod { .. }));
    prepare(&sys, "lxc.autodev = 1\n");
    let binds: Vec<String> = sys
        .calls()
        .iter()
        .map(label)
        .filter(|l| l.starts_with("mount bind /dev/"))
        .collect();
    assert_eq!(
        binds,
        ["null", "zero", "full", "random", "urandom", "tty"]
            .map(|n| format!("mount bind /dev/{n}"))
    );
}
