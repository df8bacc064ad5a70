//! Seccomp user notifications, the monitor's side. Each process loaded with a
//! `notify` rule has a listener fd: init's is taken by the monitor at start,
//! an attached process's is passed to it over the command socket. One thread
//! answers them all ([`Supervisor`]), through the proxy ([`proxy`]) or with
//! ENOSYS, until the container stops.

mod proxy;

pub use proxy::Proxy;

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use proxy::Answerer;

/// The monitor's seccomp supervision for one run of a container: the
/// answering thread is started with the first listener and stopped (with
/// every listener closed) by [`Supervisor::stop`]. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct Supervisor {
    proxy: Proxy,
    running: Arc<Mutex<Option<Notifier>>>,
    /// Set by [`Supervisor::stop`]: a listener handed over later is refused.
    stopped: Arc<AtomicBool>,
}

impl Supervisor {
    /// Supervision through `proxy` (no address: every call gets ENOSYS).
    pub fn new(proxy: Proxy) -> Supervisor {
        Supervisor {
            proxy,
            running: Arc::default(),
            stopped: Arc::default(),
        }
    }

    /// Answers `listener`'s notifications from now on (`init_pid`: the
    /// container's init, which the proxy is told).
    pub fn supervise(&self, listener: OwnedFd, init_pid: i32) -> Result<(), String> {
        if !proxy::probe_listener(&listener) {
            return Err("the fd is not a seccomp notification listener".into());
        }
        let mut slot = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if self.stopped.load(Ordering::SeqCst) {
            return Err("the container is stopping".into());
        }
        match slot.as_ref() {
            Some(n) => n.add(listener),
            None => {
                *slot = Some(Notifier::start(listener, self.proxy.clone(), init_pid)?);
                Ok(())
            }
        }
    }

    /// Ends the thread and closes the listeners: a call still waiting, or
    /// made later by a leftover process, then fails with ENOSYS.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let n = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(n);
    }
}

/// The answering thread and how to reach it.
#[derive(Debug)]
struct Notifier {
    /// An eventfd: written to wake the thread for `added` or `stopping`.
    wake: OwnedFd,
    added: Arc<Mutex<Vec<OwnedFd>>>,
    stopping: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Notifier {
    fn start(listener: OwnedFd, proxy: Proxy, init_pid: i32) -> Result<Notifier, String> {
        // SAFETY: eventfd, a new fd of ours.
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if efd < 0 {
            return Err(format!("eventfd: {}", nix::Error::last().desc()));
        }
        // SAFETY: ours.
        let wake: OwnedFd = unsafe { std::os::fd::FromRawFd::from_raw_fd(efd) };
        let theirs = wake.try_clone().map_err(|e| e.to_string())?;
        let added: Arc<Mutex<Vec<OwnedFd>>> = Arc::default();
        let stopping = Arc::new(AtomicBool::new(false));
        let (queue, stop) = (added.clone(), stopping.clone());
        let thread = std::thread::Builder::new()
            .name("seccomp-notify".into())
            .spawn(move || {
                // Signals are the monitor's main thread's (its signalfd): a
                // SIGTERM delivered here would kill the monitor.
                let all = nix::sys::signal::SigSet::all();
                let _ = nix::sys::signal::pthread_sigmask(
                    nix::sys::signal::SigmaskHow::SIG_BLOCK,
                    Some(&all),
                    None,
                );
                let answerer = Answerer::new(proxy, init_pid);
                serve(vec![listener], &theirs, &queue, &stop, answerer);
            })
            .map_err(|e| format!("starting the seccomp notification thread: {e}"))?;
        Ok(Notifier {
            wake,
            added,
            stopping,
            thread: Some(thread),
        })
    }

    fn add(&self, listener: OwnedFd) -> Result<(), String> {
        if self.thread.as_ref().is_none_or(|t| t.is_finished()) {
            return Err("the seccomp notification thread has ended".into());
        }
        self.added
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(listener);
        self.poke();
        Ok(())
    }

    fn poke(&self) {
        let one = 1u64.to_ne_bytes();
        // SAFETY: an 8-byte write to our eventfd.
        unsafe { libc::write(self.wake.as_raw_fd(), one.as_ptr().cast(), 8) };
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.poke();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answers every listener's notifications until `stopping`. A listener
/// whose processes are all gone (POLLHUP) is closed.
fn serve(
    mut listeners: Vec<OwnedFd>,
    wake: &OwnedFd,
    added: &Mutex<Vec<OwnedFd>>,
    stopping: &AtomicBool,
    mut answerer: Answerer,
) {
    loop {
        let mut pfd: Vec<libc::pollfd> = std::iter::once(wake)
            .chain(&listeners)
            .map(|fd| libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: poll on live fds, as many as the vector holds.
        if unsafe { libc::poll(pfd.as_mut_ptr(), pfd.len() as libc::nfds_t, -1) } < 0 {
            if nix::Error::last() == nix::Error::EINTR {
                continue;
            }
            return;
        }
        if pfd[0].revents != 0 {
            let mut buf = [0u8; 8];
            // SAFETY: an 8-byte read from our eventfd resets it.
            unsafe { libc::read(wake.as_raw_fd(), buf.as_mut_ptr().cast(), 8) };
            if stopping.load(Ordering::SeqCst) {
                return;
            }
        }
        let mut keep = Vec::with_capacity(listeners.len());
        for (l, p) in listeners.into_iter().zip(&pfd[1..]) {
            let alive = match p.revents {
                0 => true,
                r if r & libc::POLLIN != 0 => answerer.answer(&l),
                _ => false,
            };
            if alive {
                keep.push(l);
            }
        }
        keep.append(&mut added.lock().unwrap_or_else(|p| p.into_inner()));
        listeners = keep;
    }
}
