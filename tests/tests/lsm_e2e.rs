//! AppArmor and SELinux on a host that has neither (this one): a profile or
//! context the config asks for is not applied, the start says so once per
//! key, and the container runs. Where the host has AppArmor the same keys
//! load and apply the profile (unit-tested: `run::lsm`, `run::apparmor_profile`).

use rlxc_tests::Lab;

#[test]
fn a_requested_profile_this_host_cannot_apply_is_said_once() {
    let Some(lab) = Lab::new() else { return };
    if std::path::Path::new("/sys/kernel/security/apparmor").exists() {
        return; // a host with AppArmor applies it instead
    }
    let c = lab.busybox("lsmnote");
    lab.configure(
        &c,
        "lxc.apparmor.profile = generated\nlxc.se_context = system_u:system_r:svirt_lxc_net_t:s0\n",
    );
    let o = lab.run(&["start", "-n", &c]);
    let err = rlxc_tests::stderr(&o);
    assert!(o.status.success(), "{err}");
    let aa: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("lxc.apparmor.profile"))
        .collect();
    assert_eq!(aa.len(), 1, "{err}");
    assert!(
        aa[0].contains("lxc.apparmor.profile = generated: not applied, this host has no AppArmor"),
        "{err}"
    );
    assert_eq!(
        err.matches("lxc.selinux.context = system_u:system_r:svirt_lxc_net_t:s0: not applied")
            .count(),
        1,
        "{err}"
    );
    assert_eq!(lab.state(&c), "RUNNING");
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}
