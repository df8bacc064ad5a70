//! Everything cgroup, in one place: the host's layout (v1, v2 or hybrid),
//! one v1⇄v2 translation table, where each setting goes on this host, and
//! the manager of one container's cgroups (create, attach, limits,
//! freeze/thaw, device access, stats, file access, kill, remove). Start, execute, attach,
//! `info`, `cgroup`, `ps` and stop all go through it.

mod access;
pub mod delegation;
pub mod device_access;
pub mod device_bpf;
pub mod devices;
mod freezer;
pub mod layout;
pub mod manager;
pub mod place;
pub mod stats;
pub mod translate;

pub use devices::{DeviceList, DevicePolicy, DeviceRule};
pub use layout::{CgroupLayout, LayoutKind, V1Hierarchy};
pub use manager::{CgroupError, ContainerCgroups, Dir};
pub use place::{place, Placed, Placement};
pub use stats::Stats;
pub use translate::{translate, Translation, TranslationReport};
