//! The one place that knows which backends this build has. One line per
//! backend crate, each behind its Cargo feature; a feature that is off
//! records the backend as "not compiled" so naming it says which feature to turn on.

use std::sync::Arc;

use rlxc_core::registry::{Absence, Kind, Registry};

/// Records every name of a compiled backend crate that does not work yet.
#[allow(dead_code)]
fn shell(r: &mut Registry, kind: Kind, names: &[&str], reason: &'static str) {
    for n in names {
        r.add_absent(kind, n, Absence::NotAvailable { reason });
    }
}

/// Records every name of a backend crate this build left out.
#[allow(dead_code)]
fn missing(r: &mut Registry, kind: Kind, names: &[&str], feature: &'static str) {
    for n in names {
        r.add_absent(kind, n, Absence::NotCompiled { feature });
    }
}

/// The registry of this build.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.add_template(Arc::new(rlxc_core::templates::Busybox::new()));
    #[cfg(feature = "storage-dir")]
    r.add_storage(Arc::new(rlxc_storage_dir::Driver::new()));
    #[cfg(not(feature = "storage-dir"))]
    missing(&mut r, Kind::Storage, &["dir"], "storage-dir");
    #[cfg(feature = "storage-lvm")]
    shell(
        &mut r,
        Kind::Storage,
        rlxc_storage_lvm::NAMES,
        rlxc_storage_lvm::UNAVAILABLE,
    );
    #[cfg(not(feature = "storage-lvm"))]
    missing(&mut r, Kind::Storage, &["lvm"], "storage-lvm");
    #[cfg(feature = "storage-btrfs")]
    shell(
        &mut r,
        Kind::Storage,
        rlxc_storage_btrfs::NAMES,
        rlxc_storage_btrfs::UNAVAILABLE,
    );
    #[cfg(not(feature = "storage-btrfs"))]
    missing(&mut r, Kind::Storage, &["btrfs"], "storage-btrfs");
    #[cfg(feature = "storage-zfs")]
    shell(
        &mut r,
        Kind::Storage,
        rlxc_storage_zfs::NAMES,
        rlxc_storage_zfs::UNAVAILABLE,
    );
    #[cfg(not(feature = "storage-zfs"))]
    missing(&mut r, Kind::Storage, &["zfs"], "storage-zfs");
    #[cfg(feature = "net-veth")]
    shell(
        &mut r,
        Kind::Network,
        rlxc_net_veth::NAMES,
        rlxc_net_veth::UNAVAILABLE,
    );
    #[cfg(not(feature = "net-veth"))]
    missing(&mut r, Kind::Network, &["veth"], "net-veth");
    #[cfg(feature = "net-macvlan")]
    shell(
        &mut r,
        Kind::Network,
        rlxc_net_macvlan::NAMES,
        rlxc_net_macvlan::UNAVAILABLE,
    );
    #[cfg(not(feature = "net-macvlan"))]
    missing(&mut r, Kind::Network, &["macvlan"], "net-macvlan");
    #[cfg(feature = "net-phys")]
    shell(
        &mut r,
        Kind::Network,
        rlxc_net_phys::NAMES,
        rlxc_net_phys::UNAVAILABLE,
    );
    #[cfg(not(feature = "net-phys"))]
    missing(&mut r, Kind::Network, &["phys"], "net-phys");
    #[cfg(feature = "templates-ubuntu")]
    shell(
        &mut r,
        Kind::Template,
        rlxc_templates_ubuntu::NAMES,
        rlxc_templates_ubuntu::UNAVAILABLE,
    );
    #[cfg(not(feature = "templates-ubuntu"))]
    missing(
        &mut r,
        Kind::Template,
        &["ubuntu", "ubuntu-cloud"],
        "templates-ubuntu",
    );
    #[cfg(feature = "templates-debian")]
    shell(
        &mut r,
        Kind::Template,
        rlxc_templates_debian::NAMES,
        rlxc_templates_debian::UNAVAILABLE,
    );
    #[cfg(not(feature = "templates-debian"))]
    missing(&mut r, Kind::Template, &["debian"], "templates-debian");
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
            "lvm",
            "btrfs",
            "zfs",
            "veth",
            "macvlan",
            "phys",
            "ubuntu",
            "ubuntu-cloud",
            "debian",
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
