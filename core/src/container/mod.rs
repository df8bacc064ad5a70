//! Containers: the [`Container`] façade every command goes through, and on
//! disk: names, paths, locks and the list of defined containers.

pub mod archive;
pub mod backup;
pub mod clone_ops;
pub mod copy;
pub mod create;
pub mod define;
pub mod deps;
pub mod ephemeral_ops;
pub mod handle;
pub mod list;
pub mod lock;
pub mod name;
pub mod paths;
pub mod private_mounts;
mod restore;
pub mod snapshots;
pub mod state;

pub use clone_ops::CopyOptions;
pub use define::CreateOptions;
pub use ephemeral_ops::EphemeralOptions;
pub use handle::{AttachOptions, Container, ContainerError, Info};
pub use list::{list_defined, ContainerEntry};
pub use lock::ContainerLock;
pub use name::{validate_name, NameError};
pub use paths::Paths;
