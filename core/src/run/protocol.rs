//! The command socket protocol: one JSON request line, one JSON reply line
//! (`watch` then streams one line per state change; `console` turns the
//! connection into the tty's byte stream). State events also go, as one
//! datagram each, to every listener socket in `<rundir>/<lxcpath>/events/`
//! (that is how `monitor` and `wait` see containers that start later).

use std::path::{Path, PathBuf};

use crate::cgroups::ContainerCgroups;
use crate::container::state::State;

/// How `stop` asks init to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StopKind {
    /// The halt signal (`lxc.signal.halt`).
    Halt,
    /// The reboot signal (`lxc.signal.reboot`).
    Reboot,
    /// The stop signal (`lxc.signal.stop`, SIGKILL).
    Kill,
}

/// A request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase")]
pub enum Request {
    /// State and pid.
    State,
    /// State, pid, cgroups and tty count.
    Info,
    /// Send a signal to init.
    Kill {
        /// Signal number.
        signal: i32,
    },
    /// Begin a stop (the state becomes STOPPING).
    Stop {
        /// Which signal.
        how: StopKind,
    },
    /// Freeze every process.
    Freeze,
    /// Thaw.
    Thaw,
    /// Stream state changes.
    Watch,
    /// Connect to tty N (0 = `/dev/console`).
    Console {
        /// tty number.
        tty: u32,
    },
    /// Supervise an attached process's seccomp listener. Two steps: the
    /// monitor replies (ready), then the client sends one byte carrying the
    /// listener fd (`SCM_RIGHTS`) and the monitor replies again.
    SeccompListener,
}

/// A reply; fields a request does not need are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reply {
    /// Why the request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// Init's pid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// The cgroups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroups: Option<ContainerCgroups>,
    /// `lxc.tty.max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttys: Option<u32>,
    /// The byte counters of the NICs' host sides (read in the monitor's netns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<super::netinfo::LinkStat>>,
}

impl Reply {
    /// A failure.
    pub fn error(msg: impl Into<String>) -> Reply {
        Reply {
            error: Some(msg.into()),
            ..Reply::default()
        }
    }

    /// One line of JSON, with the newline.
    pub fn line(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }
}

/// One state event.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// Container.
    pub name: String,
    /// The new state.
    pub state: State,
}

/// The directory of event listener sockets of one lxcpath.
pub fn events_dir(run_root: &Path) -> PathBuf {
    run_root.join("events")
}

/// Sends `event` to every listener; removes sockets nobody listens on.
pub fn broadcast(run_root: &Path, event: &Event) {
    let Ok(rd) = std::fs::read_dir(events_dir(run_root)) else {
        return;
    };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let _ = sock.set_nonblocking(true);
    let msg = serde_json::to_vec(event).unwrap_or_default();
    for e in rd.flatten() {
        if let Err(err) = sock.send_to(&msg, e.path()) {
            if err.raw_os_error() == Some(libc::ECONNREFUSED) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_one_json_line() {
        let r: Request = serde_json::from_str("{\"cmd\":\"state\"}").unwrap();
        assert_eq!(r, Request::State);
        let s = serde_json::to_string(&Request::Stop {
            how: StopKind::Halt,
        })
        .unwrap();
        assert_eq!(s, "{\"cmd\":\"stop\",\"how\":\"halt\"}");
    }

    #[test]
    fn state_replies_parse_with_the_light_client() {
        let r = Reply {
            state: Some(State::Running),
            pid: Some(9),
            ..Reply::default()
        };
        let parsed = crate::container::state::parse_reply(&r.line()).unwrap();
        assert_eq!(parsed.pid, Some(9));
        assert_eq!(parsed.state, State::Running);
    }

    #[test]
    fn events_reach_listeners() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(events_dir(d.path())).unwrap();
        let path = events_dir(d.path()).join("1.sock");
        let l = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        std::fs::write(events_dir(d.path()).join("dead.sock"), "").unwrap();
        broadcast(
            d.path(),
            &Event {
                name: "c1".into(),
                state: State::Running,
            },
        );
        let mut buf = [0u8; 256];
        let n = l.recv(&mut buf).unwrap();
        let e: Event = serde_json::from_slice(&buf[..n]).unwrap();
        assert_eq!(e.state, State::Running);
    }
}
