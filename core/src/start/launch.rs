//! The staged start: each [`Stage`] makes one thing and knows how to undo it.
//! A stage is recorded as done *before* it runs, so a failure part-way is
//! undone too (every undo copes with a run that stopped early); a failure at
//! any stage undoes every recorded stage in reverse and gathers each undo
//! error. Stop runs the same undos ([`Launch::teardown`]).
//!
//! Runs in the monitor, single-threaded until the clone. Every kernel change
//! goes through [`Sys`], so the recording fake drives this in unit tests.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::Arc;

pub use super::child_link::Child;
use super::plan::StartPlan;
use super::{block_on, StartError};
use crate::cgroups::ContainerCgroups;
use crate::network::{NetContext, NicState};
use crate::run::hooks::HookKind;
use crate::run::pty::Ptys;
use crate::run::warmup::Warmup;
use crate::sys::{MountRequest, Sys, SysError};

/// One step of a start, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The runtime directory (`/run/rlxc/<lxcpath>/<name>`), after removing
    /// what a SIGKILLed monitor left there.
    RunDir,
    /// `lxc.hook.pre-start`; its undo is `lxc.hook.post-stop`, which so runs
    /// last, after a stop and after a failed start alike.
    PreStart,
    /// A generated AppArmor profile loaded (hosts with AppArmor only).
    Lsm,
    /// The cgroups, recorded for a later clean-up, with their limits.
    Cgroups,
    /// The monitor's own mount namespace and `Storage::mount` of the rootfs.
    Rootfs,
    /// Console and tty ptys.
    Ptys,
    /// The command socket.
    Socket,
    /// `clone` into the namespaces, and the child put into its cgroups.
    Clone,
    /// `Network::setup_host` of NIC N (plan order), with the netns handle.
    Nic(usize),
    /// `lxc.hook.start-host`: namespaces and NICs made, init not yet run.
    StartHost,
    /// The go message to the child, then its report (network ready, exec or error).
    Release,
    /// The `-p` pid file.
    Pidfile,
}

/// A start in progress, and what it made so far.
#[derive(Debug)]
pub struct Launch {
    /// The plan.
    pub plan: StartPlan,
    pub(super) sys: Arc<dyn Sys>,
    pub(super) warm: Option<Warmup>,
    /// The runtime directory.
    pub run_dir: PathBuf,
    /// The cgroups, once made.
    pub cgroups: Option<ContainerCgroups>,
    /// The ptys, once open.
    pub ptys: Option<Ptys>,
    /// The caller's terminal, for a foreground start on one.
    pub(super) terminal: Option<OwnedFd>,
    /// The command socket, once bound.
    pub listener: Option<UnixListener>,
    /// The child, once cloned.
    pub child: Option<Child>,
    pub(super) netns: Option<OwnedFd>,
    /// The namespaces `lxc.namespace.share.*` name, for the child to join.
    pub(super) shared_ns: Vec<(i32, OwnedFd)>,
    /// The idmapped trees of `idmap=container` binds, by mount entry.
    pub(super) idmapped_binds: Vec<Option<OwnedFd>>,
    /// What each NIC's host half made (plan order).
    pub nic_states: Vec<NicState>,
    /// The thread answering seccomp notifications (`notify` rules) of init
    /// and of attached processes; the command socket's server shares it.
    pub seccomp: crate::seccomp::notify::Supervisor,
    /// The child's namespaces, held for `lxc.hook.stop` (only when one is set).
    pub(super) stop_ns: Vec<(&'static str, OwnedFd)>,
    pub(super) done: Vec<Stage>,
}

/// The file a start records its cgroups in, for the clean-up after SIGKILL.
pub fn cgroup_record(run_dir: &std::path::Path) -> PathBuf {
    run_dir.join("cgroups")
}

/// The file a start records what each NIC's host half made in, so the next
/// start can undo what a SIGKILLed monitor left (a phys NIC to rename back).
pub fn nic_record(run_dir: &std::path::Path) -> PathBuf {
    run_dir.join("nics")
}

impl Launch {
    /// A start of `plan`, nothing made yet.
    pub fn new(plan: StartPlan, sys: Arc<dyn Sys>, warm: Warmup) -> Launch {
        let run_dir = plan.paths.run_root().join(&plan.name);
        let seccomp = crate::seccomp::notify::Supervisor::new(plan.spec.seccomp_proxy.clone());
        Launch {
            plan,
            sys,
            warm: Some(warm),
            run_dir,
            cgroups: None,
            ptys: None,
            terminal: None,
            listener: None,
            child: None,
            netns: None,
            shared_ns: Vec::new(),
            idmapped_binds: Vec::new(),
            nic_states: Vec::new(),
            seccomp,
            stop_ns: Vec::new(),
            done: Vec::new(),
        }
    }

    /// The stages of this plan, in order.
    pub fn stages(&self) -> Vec<Stage> {
        let hooks = &self.plan.spec.hooks;
        let mut s = vec![Stage::RunDir];
        if hooks.has(HookKind::PreStart) || hooks.has(HookKind::PostStop) {
            s.push(Stage::PreStart);
        }
        // A user's container: no profile to load, no cgroups of its own,
        // no monitor mount namespace (its first process binds the rootfs).
        let user = self.plan.unprivileged;
        if self.plan.spec.lsm.load.is_some() && !user {
            s.push(Stage::Lsm);
        }
        // A user's cgroups: only below the ones delegated to it.
        if !user || !crate::cgroups::delegation::is_empty(&self.plan.layout) {
            s.push(Stage::Cgroups);
        }
        // pre-mount hooks run in the monitor's own mount namespace, which
        // this stage makes even for a start without a rootfs.
        if (self.plan.rootfs.is_some() || hooks.has(HookKind::PreMount)) && !user {
            s.push(Stage::Rootfs);
        }
        s.extend([Stage::Ptys, Stage::Socket, Stage::Clone]);
        s.extend((0..self.plan.nics.len()).map(Stage::Nic));
        if hooks.has(HookKind::StartHost) {
            s.push(Stage::StartHost);
        }
        s.push(Stage::Release);
        if self.plan.options.pidfile.is_some() {
            s.push(Stage::Pidfile);
        }
        s
    }

    /// The boundary this launch uses.
    pub fn sys(&self) -> Arc<dyn Sys> {
        self.sys.clone()
    }

    /// The stages done (or begun), in order.
    pub fn done(&self) -> &[Stage] {
        &self.done
    }

    /// Runs every stage; on a failure undoes what was done and returns the
    /// error (with any undo failures).
    pub fn run(mut self) -> Result<Launch, StartError> {
        for stage in self.stages() {
            self.done.push(stage);
            if let Err(e) = self.enter(stage) {
                let e = self.child_report_or(e);
                let undo = self.teardown();
                return Err(StartError::with_undo(e, undo));
            }
        }
        Ok(self)
    }

    /// Undoes every stage done, in reverse; returns every failure.
    pub fn teardown(&mut self) -> Vec<String> {
        let mut errors = Vec::new();
        while let Some(stage) = self.done.pop() {
            errors.extend(self.undo(stage));
        }
        if let Some(w) = self.warm.take() {
            w.finish();
        }
        errors
    }

    /// Undoes a served start but for its command socket and the run
    /// directory that holds it: clients that connect meanwhile queue there
    /// instead of being told "stopped" too early. [`teardown`](Self::teardown)
    /// then removes both.
    pub fn teardown_but_socket(&mut self) -> Vec<String> {
        let kept = |s: &Stage| matches!(s, Stage::RunDir | Stage::Socket);
        let socket: Vec<Stage> = self.done.iter().copied().filter(kept).collect();
        self.done.retain(|s| !kept(s));
        let errors = self.teardown();
        self.done = socket;
        errors
    }

    fn enter(&mut self, stage: Stage) -> Result<(), StartError> {
        match stage {
            Stage::RunDir => self.make_run_dir(),
            Stage::PreStart => self.hook_pre_start(),
            Stage::Lsm => self.load_profile(),
            Stage::Cgroups => self.make_cgroups(),
            Stage::Rootfs => self.mount_rootfs(),
            Stage::Ptys => self.open_ptys(),
            Stage::Socket => self.bind_socket(),
            Stage::Clone => self.clone_child(),
            Stage::Nic(i) => self.nic_host_half(i),
            Stage::StartHost => self.hook_start_host(),
            Stage::Release => self.release(),
            Stage::Pidfile => self.write_pidfile(),
        }
    }

    fn undo(&mut self, stage: Stage) -> Vec<String> {
        let sys = self.sys.clone();
        match stage {
            Stage::RunDir => {
                for f in [
                    "command",
                    "cgroups",
                    "devices",
                    "nics",
                    "rootfs",
                    "apparmor.profile",
                ] {
                    let p = self.run_dir.join(f);
                    let _ = std::fs::remove_file(&p).or_else(|_| std::fs::remove_dir(&p));
                }
                let _ = std::fs::remove_dir(&self.run_dir);
                Vec::new()
            }
            Stage::PreStart => self.hook_post_stop(),
            Stage::Lsm => self.unload_profile(),
            Stage::Cgroups => {
                let Some(cg) = self.cgroups.take() else {
                    return Vec::new();
                };
                let errors: Vec<String> = cg.remove(&*sys).iter().map(|e| e.to_string()).collect();
                let _ = std::fs::remove_file(cgroup_record(&self.run_dir));
                errors
            }
            Stage::Rootfs => self.umount_rootfs(),
            Stage::Ptys => {
                self.ptys = None;
                self.terminal = None;
                Vec::new()
            }
            Stage::Socket => {
                self.listener = None;
                let _ = std::fs::remove_file(self.run_dir.join("command"));
                Vec::new()
            }
            Stage::Clone => {
                if let Some(c) = self.child.take() {
                    // Already gone when init exited: both calls then fail harmlessly.
                    if !c.killed {
                        let _ = sys.pidfd_signal(c.pid, c.pidfd.as_fd(), libc::SIGKILL);
                    }
                    let _ = sys.reap(c.pid);
                }
                // After init is gone: a leftover process's notified call
                // then fails with ENOSYS; a reboot's clone needs one thread.
                self.seccomp.stop();
                self.netns = None;
                self.hook_stop()
            }
            Stage::Nic(i) => self.nic_teardown(i),
            Stage::StartHost | Stage::Release => Vec::new(),
            Stage::Pidfile => {
                if let Some(p) = &self.plan.options.pidfile {
                    let _ = std::fs::remove_file(p);
                }
                Vec::new()
            }
        }
    }

    pub(super) fn io(&self, what: &str) -> impl FnOnce(std::io::Error) -> StartError {
        let (name, what) = (self.plan.name.clone(), what.to_string());
        move |source| StartError::Io { name, what, source }
    }

    pub(super) fn sys_err(&self, what: &str) -> impl FnOnce(SysError) -> StartError {
        let (name, what) = (self.plan.name.clone(), what.to_string());
        move |source| StartError::Sys { name, what, source }
    }

    fn make_run_dir(&mut self) -> Result<(), StartError> {
        // Read before clean_stale removes it, used only once that found the
        // container not running.
        let left: Vec<NicState> = std::fs::read_to_string(nic_record(&self.run_dir))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        crate::run::monitor::clean_stale(&self.plan.paths, &self.plan.name, &*self.sys)?;
        self.recover_nics(&left);
        std::fs::create_dir_all(&self.run_dir).map_err(self.io("making the run directory"))?;
        // A container in a user namespace reaches its rootfs mount point in
        // here as its mapped root: search, but no listing.
        let mode = if self.plan.spec.idmap.is_some() {
            0o711
        } else {
            0o700
        };
        let _ = std::fs::set_permissions(&self.run_dir, std::fs::Permissions::from_mode(mode));
        Ok(())
    }

    fn make_cgroups(&mut self) -> Result<(), StartError> {
        let cg = self.cgroups.insert(ContainerCgroups::plan(
            &self.plan.layout,
            &self.plan.name,
            &self.plan.cgroup_dir,
        ));
        cg.create(&*self.sys)?;
        cg.record(&cgroup_record(&self.run_dir))
            .map_err(|source| StartError::Io {
                name: self.plan.name.clone(),
                what: "recording the cgroups".into(),
                source,
            })?;
        cg.apply(&*self.sys, &self.plan.cgroup.writes)?;
        cg.apply_devices(&*self.sys, &self.plan.devices, &self.run_dir)?;
        // (A user may not chown them to the container's root: they stay
        // the user's.)
        if let (Some(maps), false) = (&self.plan.spec.idmap, self.plan.unprivileged) {
            let dirs: Vec<PathBuf> = cg.dirs.iter().map(|d| d.path.clone()).collect();
            self.give_cgroups(&dirs, maps)?;
        }
        Ok(())
    }

    /// lxc.idmap: the container's root owns its cgroup directories and the
    /// files that place processes and enable controllers, as LXC gives
    /// them, so that its init (systemd) can make cgroups below; the limits
    /// the config set stay the host's.
    fn give_cgroups(&self, dirs: &[PathBuf], maps: &crate::userns::Maps) -> Result<(), StartError> {
        let (uid, gid) = maps.root();
        let (uid, gid) = (
            uid.map(nix::unistd::Uid::from_raw),
            gid.map(nix::unistd::Gid::from_raw),
        );
        for d in dirs {
            let files = [
                "cgroup.procs",
                "cgroup.threads",
                "cgroup.subtree_control",
                "tasks",
            ];
            for p in std::iter::once(d.clone()).chain(files.iter().map(|f| d.join(f))) {
                match nix::unistd::chown(&p, uid, gid) {
                    Ok(()) | Err(nix::errno::Errno::ENOENT) => {}
                    Err(e) => {
                        return Err(self.io(&format!(
                            "giving {} to the container's root (lxc.idmap)",
                            p.display()
                        ))(e.into()))
                    }
                }
            }
        }
        Ok(())
    }

    /// The rootfs is mounted in the monitor's own mount namespace (a slave
    /// of the host's), so it never shows on the host and goes away with the
    /// monitor even after SIGKILL; the child inherits it through `clone`.
    fn mount_rootfs(&mut self) -> Result<(), StartError> {
        self.prepare_shmount()?;
        // unshare(CLONE_NEWNS) refuses a process that shares its fs with threads.
        if let Some(w) = self.warm.take() {
            w.finish();
        }
        if self.plan.spec.ephemeral {
            crate::run::ephemeral::remember_mount_ns();
        }
        self.sys
            .unshare(libc::CLONE_NEWNS)
            .map_err(self.sys_err("making the monitor's mount namespace"))?;
        self.sys
            .mount(&MountRequest {
                source: None,
                target: "/".into(),
                fstype: None,
                flags: nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_SLAVE,
                data: None,
            })
            .map_err(self.sys_err("making / a slave in the monitor's mount namespace"))?;
        self.run_hook(HookKind::PreMount, &[], &[])?;
        let Some(r) = self.plan.rootfs.clone() else {
            return Ok(());
        };
        std::fs::create_dir_all(&r.target).map_err(self.io("making the rootfs mount point"))?;
        match self.plan.spec.rootfs_idmap() {
            Some(maps) => self.mount_idmapped(&r, maps),
            None => self.mount_storage(&r),
        }
    }

    /// The rootfs's backend mounts it at its target.
    fn mount_storage(&self, r: &super::RootfsPlan) -> Result<(), StartError> {
        block_on(r.storage.mount(&*self.sys, &r.spec, &r.target))
            .map_err(self.io("starting the I/O runtime"))?
            .map_err(|source| StartError::Storage {
                name: self.plan.name.clone(),
                backend: r.storage.name(),
                source: Box::new(source),
            })
    }

    /// `idmap=container`: the container's root sees the host's owners
    /// through its maps (checked at plan time: only with lxc.idmap). A
    /// rootfs over layers (an overlay clone), which cannot be idmapped
    /// itself, is mounted over its idmapped lower layers, in the run
    /// directory's `layers/`; any other is mounted and an idmapped copy of
    /// its mount put on top.
    fn mount_idmapped(
        &self,
        r: &super::RootfsPlan,
        maps: &crate::userns::Maps,
    ) -> Result<(), StartError> {
        use crate::userns::idmapped;
        let done = match r.storage.userns_mount(&r.spec) {
            Some(desc) => {
                let scratch = self.run_dir.join("layers");
                idmapped::mount_layers_idmapped(&desc, &r.target, maps, &scratch)
            }
            None => {
                self.mount_storage(r)?;
                idmapped::idmap_in_place(&r.target, maps)
            }
        };
        done.map_err(|why| StartError::Child {
            name: self.plan.name.clone(),
            message: format!("lxc.rootfs.options = idmap=container: {why}"),
        })
    }

    fn umount_rootfs(&mut self) -> Vec<String> {
        let Some(r) = self.plan.rootfs.clone() else {
            return Vec::new();
        };
        let mut errors = Vec::new();
        // The idmapped copy on top goes first (it holds the mount below),
        // or the overlay over idmapped layers, and the layers.
        if self.plan.spec.rootfs_idmap().is_some() {
            let _ = nix::mount::umount2(&r.target, nix::mount::MntFlags::MNT_DETACH);
            let layers = self.run_dir.join("layers");
            if let Ok(rd) = std::fs::read_dir(&layers) {
                for e in rd.flatten() {
                    let _ = nix::mount::umount2(&e.path(), nix::mount::MntFlags::MNT_DETACH);
                    let _ = std::fs::remove_dir(e.path());
                }
                let _ = std::fs::remove_dir(&layers);
            }
        }
        let done = block_on(r.storage.umount(&*self.sys, &r.spec, &r.target))
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        if let Err(e) = done {
            errors.push(format!(
                "container `{}`: storage `{}`: unmounting {}: {e}",
                self.plan.name,
                r.storage.name(),
                r.target.display()
            ));
        }
        if r.own_target {
            let _ = std::fs::remove_dir(&r.target);
        }
        errors
    }

    fn open_ptys(&mut self) -> Result<(), StartError> {
        let o = &self.plan.options;
        let on_tty = nix::unistd::isatty(0).unwrap_or(false);
        // The console: the caller's terminal when in the foreground on one,
        // else a pty served by the monitor (none for execute off a terminal).
        self.terminal = if o.foreground && on_tty && self.plan.rootfs.is_some() {
            std::io::stdin().as_fd().try_clone_to_owned().ok()
        } else {
            None
        };
        let want_pty = self.plan.spec.console && self.terminal.is_none() && !o.execute;
        let ttys = if o.execute { 0 } else { self.plan.spec.ttys };
        self.ptys = Some(Ptys::open(want_pty, ttys).map_err(self.io("allocating ptys"))?);
        // lxc.idmap: the container's root owns its console and ttys, as it
        // could not open them otherwise (a user gives them from a user
        // namespace: it may not chown to other ids itself).
        if let (Some(maps), Some(p), true) =
            (&self.plan.spec.idmap, &self.ptys, self.plan.unprivileged)
        {
            let fds: Vec<i32> = p
                .console
                .iter()
                .chain(&p.ttys)
                .map(|t| std::os::fd::AsRawFd::as_raw_fd(&t.slave))
                .collect();
            let (uid, gid) = (
                nix::unistd::getuid().as_raw(),
                nix::unistd::getgid().as_raw(),
            );
            crate::userns::shift::in_users_namespace(maps, uid, gid, move || {
                let mut code = 0;
                for fd in &fds {
                    if nix::unistd::fchown(
                        *fd,
                        Some(nix::unistd::Uid::from_raw(0)),
                        Some(nix::unistd::Gid::from_raw(0)),
                    )
                    .is_err()
                    {
                        code = 1;
                    }
                }
                code
            })
            .map_err(|e| {
                self.io("giving the ptys to the container's root")(std::io::Error::other(
                    e.to_string(),
                ))
            })?;
        } else if let (Some(maps), Some(p)) = (&self.plan.spec.idmap, &self.ptys) {
            let (uid, gid) = maps.root();
            for pty in p.console.iter().chain(&p.ttys) {
                nix::unistd::fchown(
                    std::os::fd::AsRawFd::as_raw_fd(&pty.slave),
                    uid.map(nix::unistd::Uid::from_raw),
                    gid.map(nix::unistd::Gid::from_raw),
                )
                .map_err(|e| self.io("giving the ptys to the container's root")(e.into()))?;
            }
        }
        Ok(())
    }

    fn bind_socket(&mut self) -> Result<(), StartError> {
        let socket = self.run_dir.join("command");
        let l = UnixListener::bind(&socket).map_err(self.io("binding the command socket"))?;
        let _ = std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600));
        self.listener = Some(l);
        Ok(())
    }

    fn nic_context(&self) -> NetContext<'_> {
        NetContext {
            sys: &*self.sys,
            container: &self.plan.name,
            init_pid: self.child.as_ref().map_or(0, |c| c.pid),
            netns: self.netns.as_ref().map(|f| f.as_fd()),
        }
    }

    fn nic_host_half(&mut self, i: usize) -> Result<(), StartError> {
        let pid = self.child.as_ref().map_or(0, |c| c.pid);
        // A user's monitor may not open the non-dumpable child's namespaces:
        // its veths are made by the set-user-id helper.
        if self.plan.unprivileged {
            return self.user_nic_host_half(i, pid);
        }
        if self.netns.is_none() && self.plan.spec.ns.net {
            self.netns = Some(
                self.sys
                    .open_netns(pid)
                    .map_err(self.sys_err("opening the container's network namespace"))?,
            );
        }
        let np = self.plan.nics[i].clone();
        let state = block_on(np.backend.setup_host(self.nic_context(), &np.nic))
            .map_err(self.io("starting the I/O runtime"))?
            .map_err(|e| {
                StartError::network(&self.plan.name, &np, "setting up the host side", &e)
            })?;
        self.nic_states.push(state);
        if let Ok(text) = serde_json::to_string(&self.nic_states) {
            let _ = std::fs::write(nic_record(&self.run_dir), text);
        }
        Ok(())
    }

    /// A user's NIC: `veth` through `rlxc-user-nic`; `empty` and `none`
    /// have no host half.
    fn user_nic_host_half(&mut self, i: usize, pid: i32) -> Result<(), StartError> {
        let np = self.plan.nics[i].clone();
        if np.nic.kind.as_deref() != Some("veth") {
            self.nic_states.push(NicState {
                index: np.nic.index,
                ..NicState::default()
            });
            return Ok(());
        }
        let fail = |message: String| StartError::Network {
            name: self.plan.name.clone(),
            index: np.nic.index,
            backend: "veth",
            what: "making it through rlxc-user-nic",
            message,
        };
        let helper = crate::usernic::client::helper().map_err(fail)?;
        let ask = crate::usernic::client::Ask {
            helper: &helper,
            lxcpath: &self.plan.paths.lxcpath,
            name: &self.plan.name,
            pid,
        };
        let peer = crate::network::ip::IpSettings::parse(&np.nic)
            .map_err(|e| fail(e.to_string()))?
            .name;
        let state = block_on(crate::usernic::client::veth(
            &*self.sys, ask, &np.nic, &peer,
        ))
        .map_err(self.io("starting the I/O runtime"))?
        .map_err(fail)?;
        self.nic_states.push(state);
        Ok(())
    }

    /// What a SIGKILLed monitor's NICs left: each backend's teardown, without
    /// a namespace (the container's is gone), from the recorded state.
    fn recover_nics(&self, left: &[NicState]) {
        // A user's veths went with their namespace (and it could not
        // delete a host link).
        if self.plan.unprivileged {
            return;
        }
        let ctx = NetContext {
            sys: &*self.sys,
            container: &self.plan.name,
            init_pid: 0,
            netns: None,
        };
        for st in left {
            let Some(np) = self.plan.nics.iter().find(|n| n.nic.index == st.index) else {
                continue;
            };
            if let Ok(errors) = block_on(np.backend.teardown(ctx, &np.nic, st)) {
                for e in errors {
                    tracing::warn!(
                        "container `{}`: after a killed monitor: {e}",
                        self.plan.name
                    );
                }
            }
        }
    }

    fn nic_teardown(&mut self, i: usize) -> Vec<String> {
        // A user's veths go with the container's namespace; its monitor
        // could not delete a host link anyway.
        if self.plan.unprivileged {
            return Vec::new();
        }
        let np = self.plan.nics[i].clone();
        let Some(pos) = self.nic_states.iter().position(|s| s.index == np.nic.index) else {
            return Vec::new();
        };
        let state = self.nic_states.remove(pos);
        match block_on(np.backend.teardown(self.nic_context(), &np.nic, &state)) {
            Ok(errors) => errors
                .iter()
                .map(|e| StartError::network(&self.plan.name, &np, "tearing down", e).to_string())
                .collect(),
            Err(e) => vec![format!(
                "container `{}`: lxc.net.{}: no runtime to tear it down: {e}",
                self.plan.name, np.nic.index
            )],
        }
    }

    fn write_pidfile(&mut self) -> Result<(), StartError> {
        let (Some(p), Some(c)) = (&self.plan.options.pidfile, &self.child) else {
            return Ok(());
        };
        std::fs::write(p, format!("{}\n", c.pid))
            .map_err(self.io(&format!("writing the pid file {}", p.display())))
    }
}
