//! What the host offers: the cgroup layout and the kernel features
//! `checkconfig` reports. Every host path is injectable so tests can point it
//! at a temporary tree.

pub mod cgroup;
pub mod features;
