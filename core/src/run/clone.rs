//! The single-thread check before `clone(2)` (the clone itself is
//! [`Sys::clone_process`](crate::sys::Sys::clone_into)): the child is a copy of
//! the caller, and namespaces such as the user namespace refuse threaded callers.

/// The number of threads of this process (from /proc/self/status).
pub fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(1)
}
