//! The translation table, both ways.
use super::*;

fn files(r: &TranslationReport) -> Vec<String> {
    r.settings.iter().map(ToString::to_string).collect()
}

#[test]
fn v1_to_v2_table() {
    let input = vec![
        v1("memory.limit_in_bytes", "320000000"),
        v1("memory.memsw.limit_in_bytes", "420000000"),
        v1("cpu.shares", "1024"),
        v1("cpu.cfs_quota_us", "50000"),
        v1("cpu.cfs_period_us", "100000"),
        v1("blkio.weight", "500"),
        v1("blkio.throttle.read_bps_device", "8:0 1048576"),
        v1("pids.max", "100"),
        v1("devices.deny", "a"),
        v1("cpuset.cpus", "0-1"),
        v1("net_cls.classid", "1"),
        v2("memory.high", "1G"),
    ];
    let r = translate(&input, Version::V2);
    assert_eq!(
        files(&r),
        vec![
            "lxc.cgroup2.memory.max = 320000000",
            "lxc.cgroup2.memory.swap.max = 100000000",
            "lxc.cgroup2.cpu.weight = 100",
            "lxc.cgroup2.cpu.max = 50000 100000",
            "lxc.cgroup2.io.weight = 4950",
            "lxc.cgroup2.io.max = 8:0 rbps=1048576",
            "lxc.cgroup2.pids.max = 100",
            "lxc.cgroup2.devices.deny = a",
            "lxc.cgroup2.cpuset.cpus = 0-1",
            "lxc.cgroup2.memory.high = 1G",
        ]
    );
    assert_eq!(r.translated.len(), 9);
    assert_eq!(
        r.translated[3].from.len(),
        2,
        "quota and period go together"
    );
    assert_eq!(r.untranslatable.len(), 1);
    assert!(r.untranslatable[0].note.contains("nftables"));
}

#[test]
fn v2_to_v1_table() {
    let input = vec![
        v2("memory.max", "512M"),
        v2("memory.swap.max", "0"),
        v2("cpu.weight", "100"),
        v2("cpu.max", "max 100000"),
        v2("io.max", "8:0 rbps=100 wiops=max"),
        v2("memory.high", "1G"),
    ];
    let r = translate(&input, Version::V1);
    assert_eq!(
        files(&r),
        vec![
            "lxc.cgroup.memory.limit_in_bytes = 512M",
            "lxc.cgroup.memory.memsw.limit_in_bytes = 536870912",
            "lxc.cgroup.cpu.shares = 1024",
            "lxc.cgroup.cpu.cfs_period_us = 100000",
            "lxc.cgroup.cpu.cfs_quota_us = -1",
            "lxc.cgroup.blkio.throttle.read_bps_device = 8:0 100",
        ]
    );
    assert_eq!(r.untranslatable.len(), 1);
}

#[test]
fn memsw_without_memory_is_reported() {
    let r = translate(&[v1("memory.memsw.limit_in_bytes", "1G")], Version::V2);
    assert!(r.settings.is_empty());
    assert!(r.untranslatable[0].note.contains("swap part is unknown"));
}

#[test]
fn hugetlb_sizes_carry_across_and_other_files_name_themselves() {
    let r = translate(&[v1("hugetlb.2MB.limit_in_bytes", "-1")], Version::V2);
    assert_eq!(files(&r), vec!["lxc.cgroup2.hugetlb.2MB.max = max"]);
    let back = translate(&r.settings, Version::V1);
    assert_eq!(
        files(&back),
        vec!["lxc.cgroup.hugetlb.2MB.limit_in_bytes = -1"]
    );
    assert_eq!(
        other_file(Version::V1, "memory.limit_in_bytes", Some("5")),
        Some(v2("memory.max", "5"))
    );
    assert_eq!(other_file(Version::V2, "memory.high", None), None);
    let t = &translate(&[v2("pids.max", "9")], Version::V1).translated[0];
    assert_eq!(
        t.describe(),
        "lxc.cgroup2.pids.max = 9 applied as lxc.cgroup.pids.max = 9 (same file and syntax)"
    );
}
