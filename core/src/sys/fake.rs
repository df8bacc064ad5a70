//! A recording fake of [`Sys`] for unit tests.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{MountRequest, Sys, SysCall, SysError, Tool, ToolOutput};

/// Records every call in order and answers tool runs from a per-program queue
/// of scripted outputs (a program with nothing queued "succeeds" silently).
#[derive(Debug, Default)]
pub struct FakeSys {
    calls: Mutex<Vec<SysCall>>,
    answers: Mutex<HashMap<String, VecDeque<ToolOutput>>>,
}

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

    fn record(&self, call: SysCall) {
        self.calls.lock().expect("fake sys lock").push(call);
    }
}

#[async_trait]
impl Sys for FakeSys {
    async fn run(&self, tool: &Tool) -> Result<ToolOutput, SysError> {
        self.record(SysCall::Run(tool.clone()));
        let answer = self
            .answers
            .lock()
            .expect("fake sys lock")
            .get_mut(&tool.program)
            .and_then(VecDeque::pop_front);
        Ok(answer.unwrap_or_default())
    }

    fn mount(&self, req: &MountRequest) -> Result<(), SysError> {
        self.record(SysCall::Mount(req.clone()));
        Ok(())
    }

    fn umount(&self, target: &Path, detach: bool) -> Result<(), SysError> {
        self.record(SysCall::Umount {
            target: target.to_path_buf(),
            detach,
        });
        Ok(())
    }

    fn kill(&self, pid: i32, signal: i32) -> Result<(), SysError> {
        self.record(SysCall::Kill { pid, signal });
        Ok(())
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
    }
}
