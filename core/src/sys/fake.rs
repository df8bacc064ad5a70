//! A recording fake of [`Sys`] for unit tests.

use std::collections::{HashMap, VecDeque};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{Cloned, MountRequest, Sys, SysCall, SysError, Tool, ToolOutput};

/// Which calls fail: a predicate over the call about to be made.
pub type Fault = Box<dyn Fn(&SysCall) -> bool + Send + Sync>;

/// Records every call in order and answers tool runs from a per-program queue
/// of scripted outputs (a program with nothing queued "succeeds" silently).
/// Calls that match an injected [`Fault`] fail with `EPERM` (and are
/// recorded all the same). `clone_process` returns a made-up child whose pidfd
/// is `/dev/null`.
#[derive(Default)]
pub struct FakeSys {
    calls: Mutex<Vec<SysCall>>,
    answers: Mutex<HashMap<String, VecDeque<ToolOutput>>>,
    faults: Mutex<Vec<(Fault, nix::Error)>>,
    kinds: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for FakeSys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeSys")
            .field("calls", &self.calls)
            .finish_non_exhaustive()
    }
}

/// The pid the fake's `clone_process` reports.
pub const FAKE_CHILD: i32 = 4242;

/// The interface index the fake's link lookups answer.
pub const FAKE_IFINDEX: i32 = 42;

impl FakeSys {
    /// An empty fake.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues the output of the next run of `program`.
    pub fn answer(&self, program: &str, output: ToolOutput) -> &Self {
        self.answers
            .lock()
            .expect("fake sys lock")
            .entry(program.to_string())
            .or_default()
            .push_back(output);
        self
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<SysCall> {
        self.calls.lock().expect("fake sys lock").clone()
    }

    /// The tools run so far, as command lines.
    pub fn command_lines(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                SysCall::Run(t) => Some(t.command_line()),
                _ => None,
            })
            .collect()
    }

    /// Makes link lookups of `name` answer that it is of `kind` (`openvswitch` …).
    pub fn link_kind(&self, name: &str, kind: &str) -> &Self {
        self.kinds
            .lock()
            .expect("fake sys lock")
            .insert(name.to_string(), kind.to_string());
        self
    }

    /// Makes every later call that matches `fault` fail with `EPERM`.
    pub fn fail_on(&self, fault: impl Fn(&SysCall) -> bool + Send + Sync + 'static) -> &Self {
        self.fail_with(nix::Error::EPERM, fault)
    }

    /// Makes every later call that matches `fault` fail with `errno`.
    pub fn fail_with(
        &self,
        errno: nix::Error,
        fault: impl Fn(&SysCall) -> bool + Send + Sync + 'static,
    ) -> &Self {
        self.faults
            .lock()
            .expect("fake sys lock")
            .push((Box::new(fault), errno));
        self
    }

    fn record(&self, call: SysCall) {
        self.calls.lock().expect("fake sys lock").push(call);
    }

    /// Records `call`; `Err` when a fault matches it.
    fn check(&self, call: SysCall) -> Result<(), SysError> {
        let failed = self
            .faults
            .lock()
            .expect("fake sys lock")
            .iter()
            .find(|(f, _)| f(&call))
            .map(|(_, errno)| *errno);
        let what = format!("{call:?}");
        self.record(call);
        match failed {
            Some(source) => Err(SysError::Syscall {
                op: "injected fault",
                path: what,
                source,
            }),
            None => Ok(()),
        }
    }
}

fn dev_null() -> Result<OwnedFd, SysError> {
    std::fs::File::open("/dev/null")
        .map(OwnedFd::from)
        .map_err(|e| SysError::io("open", Path::new("/dev/null"), &e))
}

impl FakeSys {
    /// A run, recorded and answered from the queue of its program.
    fn scripted(&self, tool: &Tool) -> Result<ToolOutput, SysError> {
        self.check(SysCall::Run(tool.clone()))?;
        let answer = self
            .answers
            .lock()
            .expect("fake sys lock")
            .get_mut(&tool.program)
            .and_then(VecDeque::pop_front);
        Ok(answer.unwrap_or_default())
    }
}

#[async_trait]
impl Sys for FakeSys {
    async fn run(&self, tool: &Tool) -> Result<ToolOutput, SysError> {
        self.scripted(tool)
    }

    fn run_blocking(&self, tool: &Tool) -> Result<ToolOutput, SysError> {
        self.scripted(tool)
    }

    fn mount(&self, req: &MountRequest) -> Result<(), SysError> {
        self.check(SysCall::Mount(req.clone()))
    }

    fn umount(&self, target: &Path, detach: bool) -> Result<(), SysError> {
        self.check(SysCall::Umount {
            target: target.to_path_buf(),
            detach,
        })
    }

    fn kill(&self, pid: i32, signal: i32) -> Result<(), SysError> {
        self.check(SysCall::Kill { pid, signal })
    }

    fn mkdir(&self, path: &Path) -> Result<(), SysError> {
        self.check(SysCall::Mkdir(path.to_path_buf()))
    }

    fn rmdir(&self, path: &Path) -> Result<(), SysError> {
        self.check(SysCall::Rmdir(path.to_path_buf()))
    }

    fn write_file(&self, path: &Path, data: &[u8]) -> Result<(), SysError> {
        self.check(SysCall::Write {
            path: path.to_path_buf(),
            data: String::from_utf8_lossy(data).into_owned(),
        })
    }

    fn write_each(&self, path: &Path, items: &[&[u8]]) -> Result<(), (usize, SysError)> {
        for (i, data) in items.iter().enumerate() {
            self.write_file(path, data).map_err(|e| (i, e))?;
        }
        Ok(())
    }

    fn unshare(&self, flags: i32) -> Result<(), SysError> {
        self.check(SysCall::Unshare(flags))
    }

    fn clone_process(&self, flags: i32) -> Result<Cloned, SysError> {
        self.check(SysCall::Clone(flags))?;
        Ok(Cloned::Parent {
            pid: FAKE_CHILD,
            pidfd: dev_null()?,
        })
    }

    fn open_netns(&self, pid: i32) -> Result<OwnedFd, SysError> {
        self.check(SysCall::OpenNetns(pid))?;
        dev_null()
    }

    fn pidfd_signal(&self, pid: i32, _pidfd: BorrowedFd<'_>, signal: i32) -> Result<(), SysError> {
        self.check(SysCall::PidfdSignal { pid, signal })
    }

    fn mknod_char(
        &self,
        _: BorrowedFd<'_>,
        name: &str,
        major: u64,
        minor: u64,
    ) -> Result<(), SysError> {
        self.check(SysCall::Mknod {
            name: name.to_string(),
            major,
            minor,
        })
    }

    fn pivot_root(&self, new_root: &Path) -> Result<(), SysError> {
        self.check(SysCall::PivotRoot(new_root.to_path_buf()))
    }

    fn attach_device_program(&self, cgroup: &Path, insns: &[u8]) -> Result<(), SysError> {
        self.check(SysCall::DeviceProgram {
            cgroup: cgroup.to_path_buf(),
            insns: insns.len() / 8,
        })
    }

    fn setns(&self, _: BorrowedFd<'_>, nstype: i32) -> Result<(), SysError> {
        self.check(SysCall::Setns(nstype))
    }

    fn netlink(&self, req: &crate::netlink::Request) -> Result<Vec<Vec<u8>>, SysError> {
        self.check(SysCall::Netlink {
            kind: req.kind,
            what: req.what.clone(),
        })?;
        // A looked-up link exists, with index FAKE_IFINDEX.
        Ok(match req.kind {
            crate::netlink::Kind::GetLink => {
                // The name is the request's only attribute, after its ifinfomsg.
                let name = req.bytes.get(36..).map(|b| {
                    let end = b.iter().position(|c| *c == 0).unwrap_or(b.len());
                    String::from_utf8_lossy(&b[..end]).into_owned()
                });
                let kind =
                    name.and_then(|n| self.kinds.lock().expect("fake sys lock").get(&n).cloned());
                let mut body = match kind {
                    Some(k) => crate::netlink::new_link("x", &k).bytes[16..].to_vec(),
                    None => vec![0u8; 16],
                };
                body[4..8].copy_from_slice(&FAKE_IFINDEX.to_ne_bytes());
                vec![body]
            }
            // Every link has 10.0.3.1/24.
            crate::netlink::Kind::GetAddrs => {
                let addr = crate::netlink::new_addr(
                    FAKE_IFINDEX as u32,
                    "10.0.3.1".parse().expect("address"),
                    24,
                    None,
                );
                vec![addr.bytes[16..].to_vec()]
            }
            _ => Vec::new(),
        })
    }

    fn netlink_in(
        &self,
        _netns: BorrowedFd<'_>,
        req: &crate::netlink::Request,
    ) -> Result<Vec<Vec<u8>>, SysError> {
        let mut inside = req.clone();
        inside.what = format!("in the container: {}", req.what);
        self.netlink(&inside)
    }

    fn reap(&self, pid: i32) -> Result<Option<nix::sys::wait::WaitStatus>, SysError> {
        self.check(SysCall::Reap(pid))?;
        Ok(Some(nix::sys::wait::WaitStatus::Signaled(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
            false,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::run_checked;

    #[tokio::test(flavor = "current_thread")]
    async fn records_calls_and_replays_answers() {
        let fake = FakeSys::new();
        fake.answer("vgs", ToolOutput::ok("{}"))
            .answer("vgs", ToolOutput::failed(5, "no vg"));
        let t = Tool::new("vgs", ["--reportformat", "json"]);
        assert_eq!(fake.run(&t).await.unwrap().stdout, b"{}");
        let err = run_checked(&fake, &t).await.unwrap_err();
        assert!(err.to_string().contains("no vg"), "{err}");
        fake.kill(42, 9).unwrap();
        assert_eq!(fake.calls().len(), 3);
        assert_eq!(fake.calls()[2], SysCall::Kill { pid: 42, signal: 9 });
        assert_eq!(fake.command_lines()[0], "vgs --reportformat json");
        fake.fail_on(|c| matches!(c, SysCall::Mkdir(_)));
        assert!(fake.mkdir(Path::new("/x")).is_err());
        assert!(fake.rmdir(Path::new("/x")).is_ok());
        assert_eq!(fake.calls().len(), 5, "failed calls are recorded too");
    }
}
