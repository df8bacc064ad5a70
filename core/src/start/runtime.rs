//! The monitor's one tokio runtime (`current_thread`), built on first use and
//! kept for the backends' async calls of every stage, the event loop and the
//! teardown, so a start pays for one runtime, not one per call.
//!
//! The clone needs a single-threaded process: a current-thread runtime has no
//! threads of its own, but a backend that used the blocking pool left some,
//! and then the runtime is dropped (which joins them) before the clone. The
//! container's first process never uses the copy it inherited (its epoll is
//! shared with the monitor's): it forgets it and builds its own.

use std::cell::RefCell;

use tokio::runtime::{Builder, Runtime};

thread_local! {
    static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

/// Runs `f` to completion on the monitor's runtime (built on first use).
/// Not to be called from inside it.
pub fn block_on<F: std::future::Future>(f: F) -> std::io::Result<F::Output> {
    RUNTIME.with(|cell| {
        let mut slot = cell.borrow_mut();
        let rt = match slot.take() {
            Some(rt) => rt,
            None => Builder::new_current_thread().enable_all().build()?,
        };
        let out = rt.block_on(f);
        *slot = Some(rt);
        Ok(out)
    })
}

/// Before a clone: drops the runtime if this process has more than one
/// thread (its blocking pool), which joins them.
pub fn shed_threads() {
    if crate::run::clone::thread_count() > 1 {
        RUNTIME.with(|cell| drop(cell.borrow_mut().take()));
    }
}

/// Drops the runtime and every task still on it.
pub fn reset() {
    RUNTIME.with(|cell| drop(cell.borrow_mut().take()));
}

/// In the container's first process: leaves the inherited runtime alone
/// (dropping it would deregister the monitor's fds from their shared epoll).
pub fn forget_inherited() {
    RUNTIME.with(|cell| {
        if let Some(rt) = cell.borrow_mut().take() {
            std::mem::forget(rt);
        }
    });
}

/// [`block_on`] for the container's first process: a runtime of its own,
/// I/O and timers only, dropped afterwards.
pub fn block_on_in_child<F: std::future::Future>(f: F) -> std::io::Result<F::Output> {
    forget_inherited();
    let rt = Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    Ok(rt.block_on(f))
}
