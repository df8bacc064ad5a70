//! Containers on disk: names, paths, locks and the list of defined containers.

pub mod create;
pub mod list;
pub mod lock;
pub mod name;
pub mod paths;
pub mod state;

pub use list::{list_defined, ContainerEntry};
pub use lock::ContainerLock;
pub use name::{validate_name, NameError};
pub use paths::Paths;
