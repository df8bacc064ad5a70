//! One container's cgroups on fake trees: create, limits, access, removal.
use super::*;
use crate::cgroups::place;
use crate::sys::RealSys;

/// The layout a test's cgroups were planned from.
fn layout_of(c: &ContainerCgroups) -> CgroupLayout {
    CgroupLayout {
        v1: c
            .dirs
            .iter()
            .filter(|d| !d.unified)
            .map(|d| crate::cgroups::V1Hierarchy {
                mountpoint: d.path.parent().unwrap().to_path_buf(),
                controllers: d.controllers.clone(),
            })
            .collect(),
        unified: c.dirs.iter().find(|d| d.unified).map(|d| d.path.clone()),
        unified_controllers: c.unified_controllers.clone(),
    }
}

fn fake(root: &Path) -> ContainerCgroups {
    let mut layout = CgroupLayout::fake_legacy(&["memory", "cpuset", "freezer"]);
    for h in &mut layout.v1 {
        h.mountpoint = root.join(h.mountpoint.file_name().unwrap());
        std::fs::create_dir_all(&h.mountpoint).unwrap();
    }
    std::fs::write(root.join("cpuset/cpuset.cpus"), "0-1\n").unwrap();
    ContainerCgroups::plan(&layout, "c1", "rlxc.payload.c1")
}

#[test]
fn plans_one_directory_per_hierarchy() {
    let layout = CgroupLayout::fake_unified(&["memory"]);
    let c = ContainerCgroups::plan(&layout, "c1", "rlxc.payload.c1");
    assert_eq!(c.dirs.len(), 1);
    assert_eq!(c.dirs[0].path, Path::new("/sys/fs/cgroup/rlxc.payload.c1"));
    assert!(c.dirs[0].unified);
}

#[test]
fn creates_inherits_cpuset_writes_and_removes() {
    let t = tempfile::tempdir().unwrap();
    let mut c = fake(t.path());
    c.create(&RealSys).unwrap();
    let cpus = t.path().join("cpuset/rlxc.payload.c1/cpuset.cpus");
    assert_eq!(std::fs::read_to_string(cpus).unwrap(), "0-1");
    let layout = layout_of(&c);
    let apply = |sets: &[CgroupSetting]| {
        let p = place(sets, &layout);
        c.apply(&RealSys, &p.writes).map(|()| p)
    };
    apply(&[CgroupSetting::new(
        Version::V1,
        "memory.limit_in_bytes",
        "320000000",
    )])
    .unwrap();
    assert_eq!(
        c.read("memory.limit_in_bytes").as_deref(),
        Some("320000000")
    );
    // A v2 key on a v1-only host is translated.
    let v2 = CgroupSetting::new(Version::V2, "memory.max", "1000000");
    assert_eq!(apply(&[v2]).unwrap().translated.len(), 1);
    assert_eq!(c.read("memory.limit_in_bytes").as_deref(), Some("1000000"));
    // A controller the host lacks cannot be placed; the note names the key.
    let bad = CgroupSetting::new(Version::V1, "blkio.weight", "10");
    let p = apply(&[bad]).unwrap();
    assert!(p.untranslatable[0]
        .describe()
        .contains("lxc.cgroup.blkio.weight"));
    // lxc-cgroup's access, by either version's name.
    assert_eq!(c.get("memory.max").unwrap(), "1000000");
    let note = c.set(&RealSys, "memory.max", "2000000").unwrap();
    assert!(note.unwrap().contains("memory.limit_in_bytes"));
    assert!(c
        .get("nosuch.file")
        .unwrap_err()
        .to_string()
        .contains("nosuch.file"));
    // Files created by the test make the plain rmdir fail here, which
    // proves errors are collected rather than ignored.
    assert!(!c.remove(&RealSys).is_empty());
}

#[test]
fn v2_limits_enable_their_controller_and_nested_dirs_go_away() {
    let t = tempfile::tempdir().unwrap();
    let mut layout = CgroupLayout::fake_unified(&["memory", "pids"]);
    layout.unified = Some(t.path().to_path_buf());
    let mut c = ContainerCgroups::plan(&layout, "c1", "site/c1");
    c.create(&RealSys).unwrap();
    assert_eq!(c.made_parents, vec![t.path().join("site")]);
    let placed = |sets: &[CgroupSetting]| place(sets, &layout);
    c.apply(
        &RealSys,
        &placed(&[CgroupSetting::new(Version::V2, "pids.max", "64")]).writes,
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(t.path().join("site/cgroup.subtree_control")).unwrap(),
        "+pids"
    );
    assert_eq!(
        std::fs::read_to_string(t.path().join("cgroup.subtree_control")).unwrap(),
        "+pids"
    );
    assert_eq!(c.read("pids.max").as_deref(), Some("64"));
    // A v1 key is translated for a v2-only host.
    let p = placed(&[CgroupSetting::new(
        Version::V1,
        "memory.limit_in_bytes",
        "1048576",
    )]);
    c.apply(&RealSys, &p.writes).unwrap();
    assert!(!p.translated.is_empty());
    assert_eq!(c.read("memory.max").as_deref(), Some("1048576"));
    // Plain rmdir fails on this fake (files in it); the real cgroupfs
    // allows it. The parent is only removed when empty.
    for f in ["pids.max", "memory.max"] {
        std::fs::remove_file(t.path().join("site/c1").join(f)).unwrap();
    }
    std::fs::remove_file(t.path().join("site/cgroup.subtree_control")).unwrap();
    assert!(c.remove(&RealSys).is_empty());
    assert!(t.path().exists(), "the hierarchy root stays");
    assert!(!t.path().join("site").exists());
}

#[test]
fn records_and_reads_back() {
    let t = tempfile::tempdir().unwrap();
    let c = fake(t.path());
    let f = t.path().join("cgroups");
    c.record(&f).unwrap();
    assert_eq!(ContainerCgroups::recorded(&f), Some(c));
}
