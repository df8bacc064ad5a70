//! macvlan networking for rlxc: private, vepa, bridge and passthru modes on a parent interface.
//!
//! **Status: not implemented yet.** This crate is a shell until its own issue
//! lands: the `rlxc` binary, when built with its feature, registers the names
//! below as *not available* so that naming them gives a clear error instead of
//! a fake success. It depends on `rlxc-core` and nothing else of ours.

/// The backend names this crate will provide.
pub const NAMES: &[&str] = &["macvlan"];

/// Why the backend cannot be used in this version.
pub const UNAVAILABLE: &str = "macvlan networking is not implemented yet in this version of rlxc";

/// Registers this crate's backends: while it is a shell, its names as not
/// available (with [`UNAVAILABLE`] as the reason).
pub fn register(r: &mut rlxc_core::registry::Registry) {
    r.add_unavailable(rlxc_core::registry::Kind::Network, NAMES, UNAVAILABLE);
}
