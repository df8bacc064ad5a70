use super::*;

fn cfg(text: &str) -> Config {
    crate::config::load_text(text.as_bytes(), Path::new("config")).unwrap()
}

const NONE: HostLsm = HostLsm {
    apparmor: false,
    apparmor_mount: false,
    selinux: false,
};
const AA: HostLsm = HostLsm {
    apparmor: true,
    apparmor_mount: true,
    selinux: false,
};

fn plan_for(text: &str, host: HostLsm) -> Result<LsmPlan, String> {
    plan("c1", Path::new("/var/lib/lxc"), &cfg(text), host)
}

#[test]
fn without_apparmor_a_requested_profile_is_one_notice() {
    let p = plan_for("lxc.apparmor.profile = generated\n", NONE).unwrap();
    assert_eq!(p.exec_label, None);
    assert_eq!(
        p.notices,
        ["lxc.apparmor.profile = generated: not applied, this host has no AppArmor (no /sys/kernel/security/apparmor)"]
    );
    // The legacy key is the same key.
    let p = plan_for("lxc.aa_profile = lxc-container-default\n", NONE).unwrap();
    assert!(p.notices[0].starts_with("lxc.apparmor.profile = lxc-container-default: not applied"));
    // Nothing asked, nothing said; unconfined is what this host gives anyway.
    assert_eq!(plan_for("", NONE).unwrap(), LsmPlan::default());
    assert_eq!(
        plan_for("lxc.apparmor.profile = unconfined\n", NONE).unwrap(),
        LsmPlan::default()
    );
}

#[test]
fn with_apparmor_the_default_is_a_generated_profile() {
    let p = plan_for("", AA).unwrap();
    let g = p.load.expect("a profile to load");
    assert_eq!(g.name, "lxc-c1_</var/lib/lxc>");
    assert_eq!(p.exec_label, Some((Module::AppArmor, g.name)));
    let p = plan_for("lxc.apparmor.profile = my-profile\n", AA).unwrap();
    assert_eq!(p.exec_label, Some((Module::AppArmor, "my-profile".into())));
    assert_eq!(p.load, None);
    assert_eq!(
        plan_for("lxc.apparmor.profile = unchanged\n", AA).unwrap(),
        LsmPlan::default()
    );
}

#[test]
fn an_incomplete_profile_needs_allow_incomplete() {
    let old = HostLsm {
        apparmor_mount: false,
        ..AA
    };
    let e = plan_for("lxc.apparmor.profile = generated\n", old).unwrap_err();
    assert!(e.contains("cannot mediate mounts"), "{e}");
    assert!(e.contains("lxc.apparmor.allow_incomplete = 1"), "{e}");
    let p = plan_for(
        "lxc.apparmor.profile = generated\nlxc.apparmor.allow_incomplete = 1\n",
        old,
    )
    .unwrap();
    assert!(p.exec_label.is_some());
    // Unconfined needs no mount mediation.
    assert!(plan_for("lxc.apparmor.profile = unconfined\n", old).is_ok());
}

#[test]
fn selinux_contexts_apply_where_selinux_runs() {
    let p = plan_for(
        "lxc.selinux.context = system_u:system_r:svirt_lxc_net_t:s0\n",
        NONE,
    )
    .unwrap();
    assert!(
        p.notices[0].contains("this host has no SELinux"),
        "{:?}",
        p.notices
    );
    let se = HostLsm {
        selinux: true,
        ..NONE
    };
    let p = plan_for(
        "lxc.se_context = system_u:system_r:svirt_lxc_net_t:s0\n",
        se,
    )
    .unwrap();
    assert_eq!(
        p.exec_label,
        Some((
            Module::SeLinux,
            "system_u:system_r:svirt_lxc_net_t:s0".into()
        ))
    );
}

#[test]
fn hosts_are_read_from_securityfs_and_selinuxfs() {
    let d = tempfile::tempdir().unwrap();
    assert_eq!(HostLsm::at(d.path()), NONE);
    std::fs::create_dir_all(d.path().join("sys/kernel/security/apparmor/features/mount")).unwrap();
    std::fs::create_dir_all(d.path().join("sys/fs/selinux")).unwrap();
    std::fs::write(d.path().join("sys/fs/selinux/enforce"), "1").unwrap();
    assert_eq!(
        HostLsm::at(d.path()),
        HostLsm {
            apparmor: true,
            apparmor_mount: true,
            selinux: true
        }
    );
}

#[test]
fn a_label_file_off_procfs_is_refused() {
    // A container's fake /proc (CVE-2019-16884): a plain directory tree.
    let d = tempfile::tempdir().unwrap();
    let attr = d.path().join("self/attr/apparmor");
    std::fs::create_dir_all(&attr).unwrap();
    std::fs::write(attr.join("exec"), "").unwrap();
    let dir = |p: &Path| -> OwnedFd { std::fs::File::open(p).unwrap().into() };
    let e = open_exec_attr_at(&dir(d.path()), Module::AppArmor).unwrap_err();
    assert!(e.contains("is not on procfs"), "{e}");
    // The real one opens (the write itself needs a module this host lacks).
    assert!(open_exec_attr_at(&dir(Path::new("/proc")), Module::SeLinux).is_ok());
}
