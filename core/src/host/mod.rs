//! What the host offers: the kernel features `checkconfig` reports (the
//! cgroup layout is in [`crate::cgroups`]). Every host path is injectable so tests can point it
//! at a temporary tree.

pub mod features;
