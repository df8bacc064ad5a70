//! Built-in templates (small ones live in core; distribution templates have
//! their own crates).

mod busybox;
pub mod cache;
pub mod external;
pub mod prerequisites;

pub use busybox::{parse_applets, Busybox};
pub use external::ExternalTemplate;
