use super::*;

fn r(allow: bool, t: &str) -> DeviceRule {
    DeviceRule::parse(allow, t).unwrap()
}

#[test]
fn rules_parse_and_print_as_the_kernel_takes_them() {
    assert_eq!(r(true, "c 136:* rwm").value(), "c 136:* rwm");
    assert_eq!(r(true, "b 8:0 mr").value(), "b 8:0 rm");
    assert_eq!(r(false, "a").value(), "a");
    assert_eq!(r(false, "a").file(), "devices.deny");
    assert_eq!(r(true, "a *:* rwm").kind, DevKind::All);
    for bad in [
        "",
        "x 1:3 r",
        "c 1:3",
        "c 1 r",
        "c 1:3 rx",
        "c a:3 r",
        "c 1:3 r extra",
    ] {
        let e = DeviceRule::parse(true, bad).unwrap_err();
        assert!(e.contains("is not a device rule"), "{bad}: {e}");
    }
}

#[test]
fn the_default_list_opens_only_the_nodes_rlxc_makes() {
    let l = DeviceList::from_rules(&default_rules());
    assert!(!l.default_allow);
    for (maj, min) in [
        (1, 3),
        (1, 5),
        (1, 7),
        (1, 8),
        (1, 9),
        (5, 0),
        (5, 1),
        (5, 2),
        (136, 4),
    ] {
        assert!(
            l.allows(DevKind::Char, maj, min, READ | WRITE),
            "{maj}:{min}"
        );
    }
    // Any node may be made, a disk cannot be opened, /dev/mem neither.
    assert!(l.allows(DevKind::Block, 8, 0, MKNOD));
    assert!(!l.allows(DevKind::Block, 8, 0, READ));
    assert!(!l.allows(DevKind::Char, 1, 1, READ));
    assert!(
        !l.allows(DevKind::Block, 1, 3, READ),
        "a block 1:3 is not /dev/null"
    );
}

#[test]
fn the_kernels_merge_and_removal_semantics() {
    // Under a default deny, allows merge per device; a deny takes bits off.
    let mut l = DeviceList::from_rules(&[r(false, "a"), r(true, "c 1:3 r"), r(true, "c 1:3 w")]);
    assert!(l.allows(DevKind::Char, 1, 3, READ | WRITE));
    assert_eq!(l.exceptions.len(), 1);
    l.apply(&r(false, "c 1:3 r"));
    assert!(!l.allows(DevKind::Char, 1, 3, READ));
    assert!(l.allows(DevKind::Char, 1, 3, WRITE));
    l.apply(&r(false, "c 1:3 w"));
    assert!(l.exceptions.is_empty());
    // A deny of a wildcard does not take bits off a narrower exception.
    let l = DeviceList::from_rules(&[r(false, "a"), r(true, "c 1:3 rw"), r(false, "c 1:* rw")]);
    assert!(l.allows(DevKind::Char, 1, 3, READ));
    // Under a default allow a deny shares any bit to refuse.
    let l = DeviceList::from_rules(&[r(false, "b 8:* w")]);
    assert!(!l.allows(DevKind::Block, 8, 1, READ | WRITE));
    assert!(l.allows(DevKind::Block, 8, 1, READ));
    // `a` resets whatever came before.
    let l = DeviceList::from_rules(&[r(false, "a"), r(true, "c 1:3 rwm"), r(true, "a")]);
    assert_eq!(l, DeviceList::default());
}

fn s(v: Version, f: &str, val: &str) -> CgroupSetting {
    CgroupSetting::new(v, f, val)
}

fn hybrid() -> CgroupLayout {
    let mut l = CgroupLayout::fake_legacy(&["devices", "memory"]);
    l.unified = Some("/sys/fs/cgroup/unified".into());
    l
}

#[test]
fn a_config_without_rules_gets_the_default_where_the_host_enforces() {
    let p = DevicePolicy::for_host(&[], &hybrid()).unwrap();
    assert_eq!(p.v1.len(), DEFAULT_RULES.len());
    assert!(p.v1.iter().all(|(_, key)| key.is_none()));
    assert_eq!(p.bpf, None, "v1 enforces it on a hybrid host: no program");
    let p = DevicePolicy::for_host(&[], &CgroupLayout::fake_unified(&["memory"])).unwrap();
    assert!(p.v1.is_empty());
    assert_eq!(p.bpf, Some(DeviceList::from_rules(&default_rules())));
    let p = DevicePolicy::for_host(&[], &CgroupLayout::default()).unwrap();
    assert_eq!(p, DevicePolicy::default());
}

#[test]
fn each_dialect_goes_where_it_is_native_and_fills_the_other() {
    let v1 = s(Version::V1, "devices.allow", "a");
    let v2 = s(Version::V2, "devices.deny", "a");
    // Both: v1 rules in v1, v2 rules in a program.
    let p = DevicePolicy::for_host(&[v1.clone(), v2.clone()], &hybrid()).unwrap();
    assert_eq!(p.v1.len(), 1);
    assert!(p.v1[0].0.allow);
    assert!(!p.bpf.unwrap().default_allow);
    // v2 only on a hybrid host: both places enforce them.
    let p = DevicePolicy::for_host(std::slice::from_ref(&v2), &hybrid()).unwrap();
    assert_eq!(p.v1[0].1.as_deref(), Some("lxc.cgroup2.devices.deny"));
    assert!(p.bpf.is_some());
    // v1 only on a v2 host: the program takes them.
    let p = DevicePolicy::for_host(&[v1], &CgroupLayout::fake_unified(&[])).unwrap();
    assert_eq!(p.bpf, Some(DeviceList::default()));
}

#[test]
fn a_bad_rule_names_its_key() {
    let bad = s(Version::V2, "devices.allow", "q 1:1 r");
    let (key, why) = DevicePolicy::for_host(&[bad], &hybrid()).unwrap_err();
    assert_eq!(key, "lxc.cgroup2.devices.allow");
    assert!(why.contains("`q 1:1 r`"), "{why}");
}

#[test]
fn rules_a_host_cannot_enforce_are_an_error() {
    let rule = s(Version::V1, "devices.deny", "a");
    let (key, why) =
        DevicePolicy::for_host(&[rule], &CgroupLayout::fake_legacy(&["memory"])).unwrap_err();
    assert_eq!(key, "lxc.cgroup.devices.deny");
    assert!(why.contains("neither"), "{why}");
}
