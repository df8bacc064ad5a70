//! Container states and how a client learns them: a container with no live
//! monitor is STOPPED; otherwise its monitor answers on the command socket
//! (`<rundir>/<lxcpath>/<name>/command`) with one JSON line.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// LXC's states, in `state.h` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    /// Not running.
    Stopped,
    /// Being started.
    Starting,
    /// Running.
    Running,
    /// Being stopped.
    Stopping,
    /// A start failed and is being undone.
    Aborting,
    /// Being frozen.
    Freezing,
    /// Frozen.
    Frozen,
    /// Just thawed (sent to listeners; the stored state becomes RUNNING).
    Thawed,
}

impl State {
    /// LXC's name (`RUNNING`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Stopped => "STOPPED",
            State::Starting => "STARTING",
            State::Running => "RUNNING",
            State::Stopping => "STOPPING",
            State::Aborting => "ABORTING",
            State::Freezing => "FREEZING",
            State::Frozen => "FROZEN",
            State::Thawed => "THAWED",
        }
    }

    /// Parses LXC's name (any case).
    pub fn parse(s: &str) -> Option<State> {
        let all = [
            State::Stopped,
            State::Starting,
            State::Running,
            State::Stopping,
            State::Aborting,
            State::Freezing,
            State::Frozen,
            State::Thawed,
        ];
        all.into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }
}

/// What the monitor reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StateReply {
    /// Current state.
    pub state: State,
    /// PID of the container's init, when it has one.
    pub pid: Option<i32>,
}

/// Asks the monitor behind `socket` for the state. No socket, or nobody
/// listening on it, means STOPPED.
pub fn query(socket: &Path) -> StateReply {
    ask(socket).unwrap_or(StateReply {
        state: State::Stopped,
        pid: None,
    })
}

fn ask(socket: &Path) -> Option<StateReply> {
    let mut s = UnixStream::connect(socket).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"{\"cmd\":\"state\"}\n").ok()?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).ok()?;
    parse_reply(&line)
}

/// Parses the monitor's state reply line, e.g. `{"state":"RUNNING","pid":42}`
/// (other fields of the reply are ignored).
pub fn parse_reply(line: &str) -> Option<StateReply> {
    serde_json::from_str(line.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_monitor_means_stopped() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(query(&d.path().join("command")).state, State::Stopped);
    }

    #[test]
    fn parses_replies() {
        let r = parse_reply("{\"state\":\"RUNNING\",\"pid\":42}\n").unwrap();
        assert_eq!(
            r,
            StateReply {
                state: State::Running,
                pid: Some(42)
            }
        );
        let r = parse_reply("{\"state\": \"FROZEN\", \"pid\": null}").unwrap();
        assert_eq!(r.pid, None);
        assert!(parse_reply("{\"state\":\"DANCING\"}").is_none());
        assert_eq!(State::parse("frozen"), Some(State::Frozen));
    }

    #[test]
    fn talks_to_a_listening_monitor() {
        let d = tempfile::tempdir().unwrap();
        let sock = d.path().join("command");
        let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let t = std::thread::spawn(move || {
            let (mut c, _) = listener.accept().unwrap();
            let mut req = String::new();
            BufReader::new(c.try_clone().unwrap())
                .read_line(&mut req)
                .unwrap();
            assert_eq!(req, "{\"cmd\":\"state\"}\n");
            c.write_all(b"{\"state\":\"RUNNING\",\"pid\":7}\n").unwrap();
        });
        assert_eq!(
            query(&sock),
            StateReply {
                state: State::Running,
                pid: Some(7)
            }
        );
        t.join().unwrap();
    }
}
