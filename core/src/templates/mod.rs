//! Built-in templates (small ones live in core; distribution templates have
//! their own crates), and what the distribution templates share.

pub mod args;
mod busybox;
pub mod cache;
pub mod debootstrap;
mod download;
pub mod external;
pub mod guest_files;
pub mod prerequisites;
pub mod script;
mod sshd;

pub use busybox::{parse_applets, Busybox};
pub use download::Download;
pub use external::ExternalTemplate;
pub use sshd::Sshd;
