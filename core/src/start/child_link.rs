//! The monitor's side of the link to the container's first process: the
//! clone (the child's branch becomes [`crate::run::child::main`]), the go
//! message, and the child's typed report.

use std::fs::File;
use std::io::BufReader;
use std::os::fd::{AsFd, OwnedFd};

use super::launch::Launch;
use super::message::{receive, receive_report, send, Report, ToChild, ToMonitor};
use super::StartError;
use crate::run::child::{self, ChildPlan};
use crate::sys::Cloned;

/// The container's first process, seen from the monitor.
#[derive(Debug)]
pub struct Child {
    /// Its pid.
    pub pid: i32,
    /// Its pidfd.
    pub pidfd: OwnedFd,
    pub(super) go: Option<File>,
    /// The child's end of `go`, held until the release (see `clone_child`).
    pub(super) go_peer: Option<OwnedFd>,
    pub(super) report: Option<File>,
    pub(super) killed: bool,
}

impl Launch {
    /// After the clone, a stage that fails may only be failing because the
    /// child already died of its own error (a mount entry, say): that report
    /// names the cause, so it wins. The child is killed first, so reading its
    /// report cannot block.
    pub(super) fn child_report_or(&mut self, e: StartError) -> StartError {
        let Some(child) = self.child.as_mut() else {
            return e;
        };
        let Some(report) = child.report.take() else {
            return e;
        };
        let _ = self
            .sys
            .pidfd_signal(child.pid, child.pidfd.as_fd(), libc::SIGKILL);
        child.killed = true;
        let mut r = BufReader::new(report);
        while let Ok(Some(msg)) = receive::<ToMonitor>(&mut r) {
            if let ToMonitor::Failed { message, .. } = msg {
                return StartError::Child {
                    name: self.plan.name.clone(),
                    message,
                };
            }
        }
        e
    }

    pub(super) fn clone_child(&mut self) -> Result<(), StartError> {
        let pipe =
            || nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(std::io::Error::from);
        let (go_r, go_w) = pipe().map_err(self.io("pipe"))?;
        let (report_r, report_w) = pipe().map_err(self.io("pipe"))?;
        // lxc.idmap: the child waits on this until its maps are written.
        let mapped = match self.plan.spec.idmap {
            Some(_) => Some(pipe().map_err(self.io("pipe"))?),
            None => None,
        };
        self.shared_ns = self.open_shared_namespaces()?;
        if let Some(w) = self.warm.take() {
            w.finish();
        }
        super::runtime::shed_threads();
        // Made here, single-threaded (a throwaway namespace is forked).
        if let Some(maps) = &self.plan.spec.idmap {
            self.idmapped_binds =
                crate::run::mount_entry::idmapped_trees(&self.plan.spec.mounts, maps).map_err(
                    |message| StartError::Child {
                        name: self.plan.name.clone(),
                        message,
                    },
                )?;
        }
        // lxc.namespace.share.pid: the child is born in the other pid
        // namespace; the monitor's own later children (hooks) are not.
        let pid_ns = self
            .shared_ns
            .iter()
            .position(|(f, _)| *f == libc::CLONE_NEWPID);
        let own_pid_ns = match pid_ns {
            Some(i) => {
                let own = std::fs::File::open("/proc/self/ns/pid")
                    .map_err(self.io("opening /proc/self/ns/pid"))?;
                self.sys
                    .setns(self.shared_ns[i].1.as_fd(), libc::CLONE_NEWPID)
                    .map_err(
                        self.sys_err("joining the pid namespace of lxc.namespace.share.pid"),
                    )?;
                Some(OwnedFd::from(own))
            }
            None => None,
        };
        let user = if self.plan.spec.idmap.is_some() {
            libc::CLONE_NEWUSER
        } else {
            0
        };
        let cloned = self
            .sys
            .clone_process(self.plan.spec.ns.clone_flags() | user);
        if let (Ok(Cloned::Parent { .. }) | Err(_), Some(own)) = (&cloned, &own_pid_ns) {
            let _ = self.sys.setns(own.as_fd(), libc::CLONE_NEWPID);
        }
        let cloned = cloned.map_err(self.sys_err("cloning the container's first process"))?;
        let (pid, pidfd) = match cloned {
            Cloned::Child => self.become_child(go_r, report_w, mapped.map(|(r, _)| r)),
            Cloned::Parent { pid, pidfd } => (pid, pidfd),
        };
        drop(report_w);
        // A user may move only processes with its own ids (cgroup v1): the
        // first process is attached before its maps let it take root's.
        // root attaches it last, while it mounts.
        let attach_first = self.plan.unprivileged;
        if attach_first {
            self.attach_cgroups(pid)?;
        }
        if let (Some(maps), Some((_, w))) = (&self.plan.spec.idmap, mapped) {
            self.write_maps(pid, maps, &w)?;
        }
        // The read end of go stays open until the release, so the go message
        // always has somewhere to go even when the child is already gone.
        self.child = Some(Child {
            pid,
            pidfd,
            go: Some(File::from(go_w)),
            go_peer: Some(go_r),
            report: Some(File::from(report_r)),
            killed: false,
        });
        self.open_stop_namespaces(pid);
        for (file, value) in &self.plan.spec.kernel.proc {
            let path = std::path::PathBuf::from(format!("/proc/{pid}/{file}"));
            self.sys
                .write_file(&path, value.as_bytes())
                .map_err(self.sys_err(&format!("lxc.proc.{file} = {value}")))?;
        }
        if !attach_first {
            self.attach_cgroups(pid)?;
        }
        Ok(())
    }

    /// The first process into the container's cgroups, if it has any.
    fn attach_cgroups(&self, pid: i32) -> Result<(), StartError> {
        match &self.cgroups {
            Some(c) => c.attach(&*self.sys, pid).map_err(StartError::from),
            None => Ok(()),
        }
    }

    /// The child's `uid_map` and `gid_map` (root writes them itself), then
    /// the byte on `mapped` that lets it go on.
    fn write_maps(
        &self,
        pid: i32,
        maps: &crate::userns::Maps,
        mapped: &OwnedFd,
    ) -> Result<(), StartError> {
        if self.plan.unprivileged {
            // A user's: through the setuid helpers, which check its grants.
            crate::userns::exec::write_maps(pid, maps, false).map_err(|e| StartError::Child {
                name: self.plan.name.clone(),
                message: format!("lxc.idmap: {e}"),
            })?;
        } else {
            for (file, ranges) in [("uid_map", &maps.uid), ("gid_map", &maps.gid)] {
                let path = std::path::PathBuf::from(format!("/proc/{pid}/{file}"));
                self.sys
                    .write_file(&path, crate::userns::Maps::text(ranges).as_bytes())
                    .map_err(self.sys_err(&format!("writing the {file} of lxc.idmap")))?;
            }
        }
        nix::unistd::write(mapped, &[1]).map_err(|e| {
            self.io("letting the child go on after its maps")(std::io::Error::from(e))
        })?;
        Ok(())
    }

    fn become_child(&self, go: OwnedFd, report: OwnedFd, mapped: Option<OwnedFd>) -> ! {
        let ptys = self.ptys.as_ref();
        let console = self
            .terminal
            .as_ref()
            .or(ptys.and_then(|p| p.console.as_ref()).map(|p| &p.slave));
        child::main(ChildPlan {
            plan: &self.plan,
            sys: &*self.sys,
            // The pid namespace was joined around the clone already.
            shared_ns: self
                .shared_ns
                .iter()
                .filter(|(f, _)| *f != libc::CLONE_NEWPID)
                .map(|(f, fd)| (*f, fd))
                .collect(),
            console,
            ttys: ptys
                .map(|p| p.ttys.iter().map(|t| &t.slave).collect())
                .unwrap_or_default(),
            console_stdio: self.terminal.is_none() && !self.plan.options.execute,
            go,
            err: report,
            mapped,
            idmapped: &self.idmapped_binds,
        })
    }

    /// `lxc.namespace.share.*`: each namespace named by a pid, a namespace
    /// file, or a container of this lxcpath (its init's), opened with its flag.
    fn open_shared_namespaces(&self) -> Result<Vec<(i32, OwnedFd)>, StartError> {
        let mut out = Vec::new();
        for (ns, other) in &self.plan.spec.share {
            let flag = crate::run::namespaces::flag_of(ns).unwrap_or(0);
            let key = format!("lxc.namespace.share.{ns}");
            let path = if other.starts_with('/') {
                other.clone()
            } else if let Ok(pid) = other.parse::<i32>() {
                format!("/proc/{pid}/ns/{ns}")
            } else {
                let pid = self
                    .plan
                    .paths
                    .command_socket(other)
                    .ok()
                    .and_then(|s| crate::container::state::query(&s).pid)
                    .ok_or_else(|| StartError::Child {
                        name: self.plan.name.clone(),
                        message: format!(
                            "{key} = {other}: no container `{other}` runs in this lxcpath"
                        ),
                    })?;
                format!("/proc/{pid}/ns/{ns}")
            };
            let f =
                std::fs::File::open(&path).map_err(self.io(&format!("opening {path} ({key})")))?;
            out.push((flag, OwnedFd::from(f)));
        }
        Ok(out)
    }

    /// Waits until the child has its tree ready (the `start-host` hook runs
    /// after the container's mounts, as in LXC). Nothing else can be in the
    /// pipe meanwhile: the child waits for the go after this message.
    pub(super) fn wait_prepared(&mut self) -> Result<(), StartError> {
        let name = self.plan.name.clone();
        let read_err = self.io("reading the container's report");
        let Some(file) = self.child.as_mut().and_then(|c| c.report.as_mut()) else {
            return Ok(());
        };
        let mut one = [0u8; 1];
        let mut line = Vec::new();
        // Byte by byte, so nothing past this message is taken from the pipe.
        loop {
            match std::io::Read::read(file, &mut one) {
                Ok(1) if one[0] != b'\n' => line.push(one[0]),
                Ok(_) => break,
                Err(e) => return Err(read_err(e)),
            }
        }
        match serde_json::from_slice::<ToMonitor>(&line) {
            Ok(ToMonitor::Prepared) => Ok(()),
            Ok(ToMonitor::Failed { message, .. }) => Err(StartError::Child { name, message }),
            _ => Err(StartError::Child {
                name,
                message: "it ended before its rootfs was ready".into(),
            }),
        }
    }

    /// Copies the child's seccomp listener (fd `fd` there) through its
    /// pidfd and tells it so.
    fn take_listener(&mut self, fd: i32) -> Result<(), StartError> {
        let name = self.plan.name.clone();
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };
        // SAFETY: pidfd_getfd on the child's pidfd; the result is a new fd.
        let raw = unsafe {
            libc::syscall(
                libc::SYS_pidfd_getfd,
                std::os::fd::AsRawFd::as_raw_fd(&child.pidfd),
                fd,
                0,
            )
        };
        if raw < 0 {
            return Err(StartError::Child {
                name,
                message: format!(
                    "taking the seccomp notification listener (pidfd_getfd): {}",
                    nix::Error::last().desc()
                ),
            });
        }
        // SAFETY: ours.
        let listener: OwnedFd = unsafe { std::os::fd::FromRawFd::from_raw_fd(raw as i32) };
        // Served from now on: the start hook and the exec may already make
        // notified calls.
        self.seccomp
            .supervise(listener, child.pid)
            .map_err(|message| StartError::Child {
                name: name.clone(),
                message,
            })?;
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };
        if let Some(f) = child.go.as_mut() {
            send(f, &ToChild::ListenerTaken)
                .map_err(self.io("acknowledging the seccomp listener"))?;
        }
        Ok(())
    }

    /// The message for an exec the sealed exec program saw fail.
    fn exec_failure(&self, errno: i32) -> String {
        let what = if self.plan.options.execute {
            "the command"
        } else {
            "lxc.init.cmd"
        };
        let prog = self.plan.argv.first().map_or("", String::as_str);
        format!(
            "cannot run `{prog}` ({what}) in the container: {}",
            nix::Error::from_raw(errno).desc()
        )
    }

    pub(super) fn release(&mut self) -> Result<(), StartError> {
        let name = self.plan.name.clone();
        let Some(child) = self.child.as_mut() else {
            return Ok(());
        };
        let go = ToChild::Go {
            nics: self.nic_states.clone(),
        };
        // A child that died already cannot read it; its report says why.
        // The pipe stays open for a seccomp listener's acknowledgement.
        let sent = child.go.as_mut().map(|f| send(f, &go));
        let mut report = BufReader::new(child.report.take().ok_or_else(|| StartError::Child {
            name: name.clone(),
            message: "released twice".into(),
        })?);
        loop {
            match receive_report(&mut report) {
                Ok(Report::Msg(ToMonitor::NetworkReady | ToMonitor::Prepared)) => {
                    tracing::debug!("container `{name}`: network ready")
                }
                Ok(Report::Msg(ToMonitor::SeccompListener { fd })) => {
                    self.take_listener(fd)?;
                }
                Ok(Report::Msg(ToMonitor::Failed { stage, message })) => {
                    tracing::debug!("container `{name}`: the child failed at {stage}");
                    return Err(StartError::Child { name, message });
                }
                Ok(Report::ExecErrno(errno)) => {
                    return Err(StartError::Child {
                        message: self.exec_failure(errno),
                        name,
                    })
                }
                Ok(Report::End) => break,
                Err(e) => return Err(self.io("reading the container's report")(e)),
            }
        }
        if let Some(c) = self.child.as_mut() {
            c.go_peer = None;
            c.go = None;
        }
        if let Some(Err(e)) = sent {
            return Err(self.io("releasing the container")(e));
        }
        Ok(())
    }
}
