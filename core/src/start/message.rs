//! The typed messages between the monitor and the container's first process,
//! one JSON line each over two close-on-exec pipes. The monitor's pipe
//! carries [`ToChild`]; closing it without a message tells the child to
//! leave quietly. The child's pipe carries [`ToMonitor`]; it reaches end of
//! file when the child execs (or dies), which is how the monitor knows init runs.

use std::io::{BufRead, BufReader, Read, Write};

use crate::network::NicState;

/// From the monitor to the container's first process.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "msg", rename_all = "kebab-case")]
pub enum ToChild {
    /// The host side is ready (cgroups joined, every NIC's host half set
    /// up): set up the container halves and exec.
    Go {
        /// What each NIC's host half made, in plan order.
        nics: Vec<NicState>,
    },
    /// The monitor holds its own copy of the seccomp listener now.
    ListenerTaken,
}

/// From the container's first process to the monitor.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "msg", rename_all = "kebab-case")]
pub enum ToMonitor {
    /// The rootfs, mounts and pivot are done, the go is awaited (sent only
    /// when a `start-host` hook waits for it).
    Prepared,
    /// Every NIC's container half is done.
    NetworkReady,
    /// The seccomp filter's notification listener is this fd of the child:
    /// the monitor takes a copy (`pidfd_getfd`) and says `ListenerTaken`.
    SeccompListener {
        /// The fd number in the child.
        fd: i32,
    },
    /// A stage failed; the process exits after this.
    Failed {
        /// The stage (`mounts`, `network`, `exec` …).
        stage: String,
        /// What went wrong, naming the key, file or NIC.
        message: String,
    },
}

/// Writes one message as a JSON line.
pub fn send<T: serde::Serialize>(to: &mut impl Write, msg: &T) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(msg).map_err(std::io::Error::other)?;
    line.push(b'\n');
    to.write_all(&line)
}

/// What the child's pipe carried next.
#[derive(Debug, PartialEq, Eq)]
pub enum Report {
    /// A message.
    Msg(ToMonitor),
    /// The errno of a failed exec, written bare by the sealed exec program.
    ExecErrno(i32),
    /// End of file: the child exec'd (or died).
    End,
}

/// Reads the child's next report: a message line, or at the very end the
/// four bytes of an errno from the exec program.
pub fn receive_report(from: &mut BufReader<impl Read>) -> std::io::Result<Report> {
    // A message is a JSON object; the exec program's errno starts with 0xff
    // (its other bytes may hold a newline or a brace).
    match from.fill_buf()?.first().copied() {
        None => return Ok(Report::End),
        Some(0xff) => {
            let mut b = [0u8; 4];
            from.read_exact(&mut b)?;
            let errno = crate::run::trampoline::decode_errno(b).unwrap_or(0);
            return Ok(Report::ExecErrno(errno));
        }
        Some(_) => {}
    }
    let mut line = Vec::new();
    from.read_until(b'\n', &mut line)?;
    serde_json::from_slice(&line).map(Report::Msg).map_err(|e| {
        std::io::Error::other(format!(
            "bad message `{}`: {e}",
            String::from_utf8_lossy(&line).trim()
        ))
    })
}

/// Reads the next message; `None` at end of file.
pub fn receive<T: serde::de::DeserializeOwned>(
    from: &mut BufReader<impl Read>,
) -> std::io::Result<Option<T>> {
    let mut line = String::new();
    if from.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    serde_json::from_str(&line)
        .map(Some)
        .map_err(|e| std::io::Error::other(format!("bad message `{}`: {e}", line.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_lines() {
        let mut buf = Vec::new();
        let go = ToChild::Go {
            nics: vec![NicState {
                index: 1,
                host_ifname: Some("vethX".into()),
                transit_ifname: None,
                gateways: Vec::new(),
                bare: false,
            }],
        };
        send(&mut buf, &go).unwrap();
        send(&mut buf, &ToMonitor::NetworkReady).unwrap();
        let mut r = BufReader::new(&buf[..]);
        assert_eq!(receive::<ToChild>(&mut r).unwrap(), Some(go));
        assert_eq!(
            receive::<ToMonitor>(&mut r).unwrap(),
            Some(ToMonitor::NetworkReady)
        );
        assert_eq!(receive::<ToMonitor>(&mut r).unwrap(), None);
        assert!(String::from_utf8(buf).unwrap().contains("\"msg\":\"go\""));
    }

    #[test]
    fn a_bare_errno_after_the_messages_is_the_execs() {
        let mut buf = Vec::new();
        send(&mut buf, &ToMonitor::NetworkReady).unwrap();
        buf.extend_from_slice(&((10u32 << 8) | 0xff).to_ne_bytes());
        let mut r = BufReader::new(&buf[..]);
        assert_eq!(
            receive_report(&mut r).unwrap(),
            Report::Msg(ToMonitor::NetworkReady)
        );
        assert_eq!(
            receive_report(&mut r).unwrap(),
            Report::ExecErrno(10),
            "ECHILD is a newline byte"
        );
        assert_eq!(receive_report(&mut r).unwrap(), Report::End);
    }
}
