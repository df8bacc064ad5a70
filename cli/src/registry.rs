//! The one place that knows which backends this build has: one line per
//! backend crate, naming its Cargo feature, its crate, its kind and names.
//! A compiled crate registers itself (`CRATE::register`); a feature that is
//! off records the names as "not compiled" so naming one says which feature
//! to turn on. Adding a backend crate: one feature line in `Cargo.toml`, one
//! line here.

use rlxc_core::registry::Registry;

/// Each line: `"feature" => crate, Kind ["name", …];`.
macro_rules! backends {
    ($r:ident; $($feature:literal => $krate:ident, $kind:ident [$($name:literal),+];)*) => {$(
        #[cfg(feature = $feature)]
        $krate::register(&mut $r);
        #[cfg(not(feature = $feature))]
        $r.add_not_compiled(rlxc_core::registry::Kind::$kind, &[$($name),+], $feature);
    )*};
}

/// The registry of this build: core's own backends, then every crate's.
pub fn registry() -> Registry {
    let mut r = Registry::core();
    backends! { r;
        "storage-dir" => rlxc_storage_dir, Storage ["dir", "overlay", "loop"];
        "storage-lvm" => rlxc_storage_lvm, Storage ["lvm"];
        "storage-btrfs" => rlxc_storage_btrfs, Storage ["btrfs"];
        "storage-zfs" => rlxc_storage_zfs, Storage ["zfs"];
        "net-veth" => rlxc_net_veth, Network ["veth"];
        "net-macvlan" => rlxc_net_macvlan, Network ["macvlan", "ipvlan", "vlan"];
        "net-phys" => rlxc_net_phys, Network ["phys"];
        "templates-ubuntu" => rlxc_templates_ubuntu, Template ["ubuntu", "ubuntu-cloud"];
        "templates-debian" => rlxc_templates_debian, Template ["debian"];
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every backend crate of the workspace appears in the registry, compiled or not.
    #[test]
    fn every_backend_is_in_the_registry() {
        let r = registry();
        let names: Vec<String> = r.entries().into_iter().map(|e| e.name).collect();
        for n in [
            "dir",
            "overlay",
            "lvm",
            "btrfs",
            "zfs",
            "veth",
            "macvlan",
            "phys",
            "ubuntu",
            "ubuntu-cloud",
            "debian",
            "sshd",
        ] {
            assert!(
                names.iter().any(|x| x == n),
                "{n} missing from the registry"
            );
        }
    }

    #[cfg(not(feature = "storage-zfs"))]
    #[test]
    fn a_left_out_backend_names_its_feature() {
        let err = registry().storage("zfs").unwrap_err().to_string();
        assert_eq!(
            err,
            "storage backend `zfs` is not compiled into this build (feature `storage-zfs`)"
        );
    }
}
