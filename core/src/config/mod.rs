//! The LXC config language, both dialects.
//!
//! - [`document`] — a file as lines, saved byte for byte with in-place edits.
//! - [`keys`] — the table of every modern key; [`value`] — the value checks.
//! - [`legacy`] — legacy names and `update-config`.
//! - [`load`] — includes, overrides, every error collected.
//! - [`model`] — the effective config; [`net`] — NICs; [`cgroup`] — v1/v2 settings and translation.
//! - [`system`] — `/etc/lxc/lxc.conf`.
//! - [`show`] — the effective configuration as this host would apply it.

pub mod cgroup;
pub mod clone;
pub mod document;
pub mod error;
pub mod keys;
pub mod legacy;
pub mod load;
pub mod model;
pub mod net;
pub mod show;
pub mod system;
pub mod user_dirs;
pub mod value;

pub use error::{ConfigError, ConfigErrors, Origin};
pub use load::{load_file, load_text, Loader};
pub use model::{Config, Item};
pub use net::Nic;
pub use system::SystemConfig;

#[cfg(test)]
mod roundtrip_tests;
