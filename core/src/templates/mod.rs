//! Built-in templates (small ones live in core; distribution templates have
//! their own crates).

mod busybox;

pub use busybox::{parse_applets, Busybox};
