//! The client side of the command socket, blocking and thread-free, for the
//! CLI commands that talk to a running container's monitor.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::protocol::{Reply, Request, StopKind};
use crate::container::state::State;
use crate::container::Paths;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No monitor: the container is stopped.
    #[error("container `{name}` is not running")]
    NotRunning {
        /// Container.
        name: String,
    },
    /// The socket failed.
    #[error("container `{name}`: talking to its monitor ({socket}): {source}")]
    Io {
        /// Container.
        name: String,
        /// The socket.
        socket: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The monitor refused the request.
    #[error("container `{name}`: {message}")]
    Refused {
        /// Container.
        name: String,
        /// The monitor's reason.
        message: String,
    },
    /// A wait ran out of time.
    #[error("container `{name}`: timed out after {secs} s waiting for {what}")]
    TimedOut {
        /// Container.
        name: String,
        /// Seconds waited.
        secs: u64,
        /// What for.
        what: String,
    },
}

/// A client of one container's monitor.
#[derive(Debug, Clone)]
pub struct Client {
    name: String,
    socket: PathBuf,
}

impl Client {
    /// A client for container `name` (the name is checked).
    pub fn new(paths: &Paths, name: &str) -> Result<Client, crate::container::NameError> {
        Ok(Client {
            name: name.to_string(),
            socket: paths.command_socket(name)?,
        })
    }

    fn io(&self, source: std::io::Error) -> ClientError {
        ClientError::Io {
            name: self.name.clone(),
            socket: self.socket.clone(),
            source,
        }
    }

    fn connect(&self) -> Result<UnixStream, ClientError> {
        UnixStream::connect(&self.socket).map_err(|e| match e.raw_os_error() {
            Some(libc::ENOENT | libc::ECONNREFUSED) => ClientError::NotRunning {
                name: self.name.clone(),
            },
            _ => self.io(e),
        })
    }

    fn send(&self, req: &Request) -> Result<BufReader<UnixStream>, ClientError> {
        let mut s = self.connect()?;
        let mut line = serde_json::to_string(req).map_err(|e| self.io(e.into()))?;
        line.push('\n');
        s.write_all(line.as_bytes()).map_err(|e| self.io(e))?;
        Ok(BufReader::new(s))
    }

    fn read_reply(&self, r: &mut BufReader<UnixStream>) -> Result<Reply, ClientError> {
        let mut line = String::new();
        if r.read_line(&mut line).map_err(|e| self.io(e))? == 0 {
            // The monitor went away between connect and reply: it stopped.
            return Err(ClientError::NotRunning {
                name: self.name.clone(),
            });
        }
        let reply: Reply = serde_json::from_str(&line).map_err(|e| self.io(e.into()))?;
        match reply.error {
            Some(message) => Err(ClientError::Refused {
                name: self.name.clone(),
                message,
            }),
            None => Ok(reply),
        }
    }

    /// One request, one reply.
    pub fn request(&self, req: &Request) -> Result<Reply, ClientError> {
        let mut r = self.send(req)?;
        self.read_reply(&mut r)
    }

    /// A stream of state changes, starting with the current state.
    pub fn watch(&self) -> Result<Watch, ClientError> {
        Ok(Watch {
            client: self.clone(),
            reader: self.send(&Request::Watch)?,
        })
    }

    /// Connects to tty `tty` (0 = console); the stream then carries its bytes.
    pub fn console(&self, tty: u32) -> Result<UnixStream, ClientError> {
        let mut r = self.send(&Request::Console { tty })?;
        self.read_reply(&mut r)?;
        Ok(r.into_inner())
    }

    /// Opens the way for a seccomp listener (see
    /// [`Request::SeccompListener`]); connected now, so that it can be given
    /// after the caller has entered the container's namespaces.
    pub fn seccomp_listener(&self) -> Result<ListenerHandover, ClientError> {
        let mut r = self.send(&Request::SeccompListener)?;
        self.read_reply(&mut r)?;
        Ok(ListenerHandover {
            client: self.clone(),
            reader: r,
        })
    }

    /// Stops the container: `how`'s signal, then (after `timeout`, unless
    /// `nokill`) SIGKILL; returns once the monitor has cleaned up.
    pub fn stop(
        &self,
        how: StopKind,
        timeout: Option<Duration>,
        nokill: bool,
    ) -> Result<(), ClientError> {
        let mut watch = self.watch()?;
        self.request(&Request::Stop { how })?;
        if how == StopKind::Reboot {
            return Ok(());
        }
        match watch.until(&[State::Stopped], timeout) {
            Err(ClientError::TimedOut { .. }) if !nokill && how != StopKind::Kill => {
                self.request(&Request::Stop {
                    how: StopKind::Kill,
                })?;
                watch.until(&[State::Stopped], None).map(|_| ())
            }
            other => other.map(|_| ()),
        }
    }
}

/// A connection waiting for a seccomp listener to hand to the monitor.
#[derive(Debug)]
pub struct ListenerHandover {
    client: Client,
    reader: BufReader<UnixStream>,
}

impl ListenerHandover {
    /// Gives the monitor `listener`; it answers the listener's calls from
    /// now on (the caller may close its copy).
    pub fn give(mut self, listener: &std::os::fd::OwnedFd) -> Result<(), ClientError> {
        use std::os::fd::AsFd;
        super::fd_passing::send_fds(self.reader.get_ref().as_fd(), b"L", &[listener.as_fd()])
            .map_err(|e| self.client.io(e))?;
        self.client.read_reply(&mut self.reader).map(|_| ())
    }
}

/// A `watch` stream.
#[derive(Debug)]
pub struct Watch {
    client: Client,
    reader: BufReader<UnixStream>,
}

impl Watch {
    /// The next state, `None` when the monitor is gone (STOPPED).
    pub fn next(&mut self, deadline: Option<Instant>) -> Result<Option<State>, ClientError> {
        let left = deadline.map(|d| {
            d.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        });
        self.reader
            .get_ref()
            .set_read_timeout(left)
            .map_err(|e| self.client.io(e))?;
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => Ok(None),
            Ok(_) => {
                let r: Reply = serde_json::from_str(&line).map_err(|e| self.client.io(e.into()))?;
                Ok(r.state)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Err(ClientError::TimedOut {
                    name: self.client.name.clone(),
                    secs: 0,
                    what: "a state".into(),
                })
            }
            Err(e) => Err(self.client.io(e)),
        }
    }

    /// Waits until one of `states` (the end of the stream counts as STOPPED).
    pub fn until(
        &mut self,
        states: &[State],
        timeout: Option<Duration>,
    ) -> Result<State, ClientError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let st = match self.next(deadline) {
                Ok(s) => s.unwrap_or(State::Stopped),
                Err(ClientError::TimedOut { name, .. }) => {
                    return Err(ClientError::TimedOut {
                        name,
                        secs: timeout.map_or(0, |t| t.as_secs()),
                        what: states
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join("|"),
                    })
                }
                Err(e) => return Err(e),
            };
            if states.contains(&st) {
                return Ok(st);
            }
            if st == State::Stopped {
                return Err(ClientError::NotRunning {
                    name: self.client.name.clone(),
                });
            }
        }
    }
}
