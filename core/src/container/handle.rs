//! The [`Container`] façade: one value per container, one method per
//! operation. Every CLI handler is "parse → one call here → print"; the
//! domain logic (plans, stages, cgroups, the monitor protocol) stays in core.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cgroups::{CgroupError, CgroupLayout, ContainerCgroups, Stats};
use crate::config::{Config, ConfigErrors, Loader};
use crate::container::lock::LockError;
use crate::container::state::{query, State};
use crate::container::{ContainerLock, NameError, Paths};
use crate::registry::Registry;
use crate::run::attach::{attach, AttachError, AttachRequest, NAMESPACES};
use crate::run::protocol::{Reply, Request, StopKind};
use crate::run::warmup::Warmup;
use crate::run::{launch, serve, start_daemon, Client, ClientError};
use crate::start::{StartError, StartOptions, StartPlan};
use crate::sys::{RealSys, Sys};

/// Why an operation on a container failed; every message names it.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// Bad name.
    #[error(transparent)]
    Name(#[from] NameError),
    /// No such container.
    #[error("container `{name}` does not exist (no config at {config})")]
    Missing {
        /// Container.
        name: String,
        /// Where its config would be.
        config: PathBuf,
    },
    /// Its config does not load.
    #[error("container `{name}`: {source}")]
    Config {
        /// Container.
        name: String,
        /// Every error.
        source: ConfigErrors,
    },
    /// It is not stopped (for start) or not running (for the others).
    #[error("container `{name}` is already running ({})", state.as_str())]
    Running {
        /// Container.
        name: String,
        /// Its state.
        state: State,
    },
    /// Locked.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The start failed.
    #[error(transparent)]
    Start(Box<StartError>),
    /// Talking to the monitor failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A cgroup read or write failed.
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    /// Create or destroy failed.
    #[error(transparent)]
    Create(Box<super::create::CreateError>),
    /// Attach failed.
    #[error(transparent)]
    Attach(#[from] AttachError),
    /// A config value cannot be used (attach reads the limits it runs under).
    #[error(transparent)]
    Spec(#[from] crate::run::spec::SpecError),
    /// A request that makes no sense (a bad namespace name, no tty …).
    #[error("container `{name}`: {why}")]
    Invalid {
        /// Container.
        name: String,
        /// Why.
        why: String,
    },
    /// The monitor's answer lacks what was asked.
    #[error("container `{name}`: {why}")]
    Monitor {
        /// Container.
        name: String,
        /// What is missing.
        why: String,
    },
}

impl From<StartError> for ContainerError {
    fn from(e: StartError) -> Self {
        ContainerError::Start(Box::new(e))
    }
}

impl From<super::create::CreateError> for ContainerError {
    fn from(e: super::create::CreateError) -> Self {
        ContainerError::Create(Box::new(e))
    }
}

/// What `info` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Info {
    /// Container.
    pub name: String,
    /// Its state.
    pub state: State,
    /// Init's pid, when running.
    pub pid: Option<i32>,
    /// Its addresses (read from init's network namespace).
    pub ips: Vec<std::net::IpAddr>,
    /// Resource use, when running.
    pub stats: Option<Stats>,
    /// The byte counters of the NICs' host sides, when running.
    pub links: Vec<crate::run::netinfo::LinkStat>,
}

/// How to attach (`lxc-attach`'s options).
#[derive(Debug, Clone, Default)]
pub struct AttachOptions {
    /// `-s 'MOUNT|PID|…'`; `None` enters every namespace.
    pub namespaces: Option<String>,
    /// The command; empty runs the user's shell.
    pub argv: Vec<String>,
    /// `--keep-env`.
    pub keep_env: bool,
    /// `-v VAR=VALUE`.
    pub extra_env: Vec<String>,
    /// `-e`: no cgroup, no capability drop.
    pub elevated: bool,
    /// `-u`; default `lxc.init.uid`.
    pub uid: Option<u32>,
    /// `-g`; default `lxc.init.gid`.
    pub gid: Option<u32>,
}

/// One container of one lxcpath, with its config loaded (if it has one).
#[derive(Debug, Clone)]
pub struct Container {
    /// Its name.
    pub name: String,
    /// The lxcpath's paths.
    pub paths: Paths,
    /// Its config (with `-s` overrides); `None` for a container that has none
    /// (`execute` may run such a one).
    pub config: Option<Config>,
}

impl Container {
    /// The container `name` of `lxcpath`, its config (or `rcfile`) loaded with
    /// `defines` (`KEY=VALUE` overrides). With `allow_missing`, a container
    /// without a config is returned with none.
    pub fn load(
        paths: &Paths,
        name: &str,
        rcfile: Option<&Path>,
        defines: &[String],
        allow_missing: bool,
    ) -> Result<Container, ContainerError> {
        let dir = paths.container_dir(name)?;
        let file = rcfile.map_or_else(|| dir.join("config"), Path::to_path_buf);
        let exists = file.exists();
        if !exists && (rcfile.is_some() || !allow_missing) {
            return Err(ContainerError::Missing {
                name: name.into(),
                config: file,
            });
        }
        let mut loader = Loader::new();
        if exists {
            loader.file(&file, None);
        }
        for d in defines {
            loader.override_item(d);
        }
        let config = loader.finish().map_err(|source| ContainerError::Config {
            name: name.into(),
            source,
        })?;
        Ok(Container {
            name: name.to_string(),
            paths: paths.clone(),
            config: Some(config),
        })
    }

    /// A container known by name only (a command that needs no config).
    pub fn named(paths: &Paths, name: &str) -> Result<Container, ContainerError> {
        paths.container_dir(name)?;
        Ok(Container {
            name: name.to_string(),
            paths: paths.clone(),
            config: None,
        })
    }

    /// Whether it is defined (has a config) or runs.
    pub fn exists(&self) -> bool {
        self.paths.config(&self.name).is_ok_and(|c| c.exists()) || self.state() != State::Stopped
    }

    /// Its state (STOPPED when no monitor answers).
    pub fn state(&self) -> State {
        self.paths
            .command_socket(&self.name)
            .map_or(State::Stopped, |s| query(&s).state)
    }

    /// The plan of a start with `options`, resolved against `registry` and
    /// this host's cgroup layout: fails before anything is created.
    pub fn plan(
        &self,
        registry: &Registry,
        options: StartOptions,
    ) -> Result<StartPlan, ContainerError> {
        let empty = Config::new();
        let config = self.config.as_ref().unwrap_or(&empty);
        let layout = CgroupLayout::host().unwrap_or_default();
        StartPlan::build(&self.name, &self.paths, config, registry, &layout, options)
            .map_err(|e| StartError::from(e).into())
    }

    /// Starts it. In the background (`start -d`, the default) this returns 0
    /// once init runs; in the foreground (`-F`, `execute`) it serves the
    /// container and returns init's exit code.
    pub fn start(&self, plan: StartPlan, warm: Warmup) -> Result<i32, ContainerError> {
        let lock = self.lock()?;
        let sys: Arc<dyn Sys> = Arc::new(RealSys);
        if plan.options.foreground {
            let launched = launch(plan, sys, warm)?;
            return Ok(serve(launched, lock, None));
        }
        Ok(start_daemon(plan, sys, lock, warm)?)
    }

    /// Refuses a container that is not stopped and takes its lock.
    fn lock(&self) -> Result<ContainerLock, ContainerError> {
        let state = self.state();
        if state != State::Stopped {
            return Err(ContainerError::Running {
                name: self.name.clone(),
                state,
            });
        }
        Ok(ContainerLock::try_acquire(
            &self.name,
            &self.paths.lock_file(&self.name)?,
        )?)
    }

    /// A client of its monitor.
    pub fn client(&self) -> Result<Client, ContainerError> {
        Ok(Client::new(&self.paths, &self.name)?)
    }

    /// The monitor's info, or a stopped container's.
    fn reply(&self) -> Result<Reply, ContainerError> {
        match self.client()?.request(&Request::Info) {
            Err(ClientError::NotRunning { .. }) => Ok(Reply {
                state: Some(State::Stopped),
                ..Reply::default()
            }),
            other => Ok(other?),
        }
    }

    /// State, pid, addresses and resource use.
    pub fn info(&self) -> Result<Info, ContainerError> {
        let r = self.reply()?;
        Ok(Info {
            name: self.name.clone(),
            state: r.state.unwrap_or(State::Stopped),
            pid: r.pid,
            ips: r
                .pid
                .map(crate::run::netinfo::addresses)
                .unwrap_or_default(),
            stats: r.cgroups.as_ref().map(Stats::read),
            links: r.links.unwrap_or_default(),
        })
    }

    /// The running container's cgroups.
    pub fn cgroups(&self) -> Result<ContainerCgroups, ContainerError> {
        self.client()?
            .request(&Request::Info)?
            .cgroups
            .ok_or_else(|| ContainerError::Monitor {
                name: self.name.clone(),
                why: "its monitor reported no cgroups".into(),
            })
    }

    /// Reads cgroup file `file` (a v1 or v2 name, translated for this host).
    pub fn cgroup_get(&self, file: &str) -> Result<String, ContainerError> {
        Ok(self.cgroups()?.get(file)?)
    }

    /// Writes cgroup file `file`; returns a note when it was translated.
    /// A device rule (`devices.allow`/`deny`, either version's name) changes
    /// the v1 file and the cgroup2 program, wherever the start enforced it.
    pub fn cgroup_set(&self, file: &str, value: &str) -> Result<Option<String>, ContainerError> {
        let cgroups = self.cgroups()?;
        if !crate::cgroups::devices::is_device_file(file) {
            return Ok(cgroups.set(&RealSys, file, value)?);
        }
        let run_dir = self.paths.run_dir(&self.name)?;
        if cgroups.set_device(&RealSys, file, value, &run_dir)? {
            Ok(None)
        } else {
            Ok(cgroups.set(&RealSys, file, value)?)
        }
    }

    /// The pids of its processes (from its cgroups).
    pub fn pids(&self) -> Result<Vec<i32>, ContainerError> {
        Ok(self.cgroups()?.procs())
    }

    /// Stops it: `how`'s signal, then SIGKILL after `timeout` unless `nokill`.
    pub fn stop(
        &self,
        how: StopKind,
        timeout: Option<std::time::Duration>,
        nokill: bool,
    ) -> Result<(), ContainerError> {
        Ok(self.client()?.stop(how, timeout, nokill)?)
    }

    /// Sends `signal` to init.
    pub fn kill(&self, signal: i32) -> Result<(), ContainerError> {
        self.client()?.request(&Request::Kill { signal })?;
        Ok(())
    }

    /// Freezes every process.
    pub fn freeze(&self) -> Result<(), ContainerError> {
        self.client()?.request(&Request::Freeze)?;
        Ok(())
    }

    /// Thaws it.
    pub fn thaw(&self) -> Result<(), ContainerError> {
        self.client()?.request(&Request::Thaw)?;
        Ok(())
    }

    /// Runs a command inside the running container; returns its exit status.
    pub fn attach(&self, o: AttachOptions) -> Result<i32, ContainerError> {
        let client = self.client()?;
        let info = client.request(&Request::Info)?;
        let (Some(pid), Some(cgroups)) = (info.pid, info.cgroups) else {
            return Err(ContainerError::Monitor {
                name: self.name.clone(),
                why: "its monitor reported no init".into(),
            });
        };
        // Capabilities and ids come from the config the container runs with;
        // one that no longer reads refuses rather than attach without limits.
        let dir = self.paths.container_dir(&self.name)?;
        let spec = self
            .config
            .as_ref()
            .map(|cfg| crate::run::spec::RunSpec::from_config(&self.name, &dir, cfg))
            .transpose()?;
        let empty = Config::default();
        let cfg = self.config.as_ref().unwrap_or(&empty);
        let seccomp =
            crate::run::spec::seccomp_filter(&self.name, cfg, &self.paths.seccomp_cache())?;
        let req = AttachRequest {
            name: self.name.clone(),
            pid,
            cgroups,
            namespaces: self.namespaces(o.namespaces.as_deref())?,
            argv: o.argv,
            keep_env: o.keep_env,
            extra_env: o.extra_env,
            elevated: o.elevated,
            uid: o.uid.or(spec.as_ref().map(|s| s.uid)).unwrap_or(0),
            gid: o.gid.or(spec.as_ref().map(|s| s.gid)).unwrap_or(0),
            lsm_label: spec.as_ref().and_then(|s| s.lsm.exec_label.clone()),
            privs: spec.map(|s| s.privs).unwrap_or_default(),
            seccomp,
        };
        // Connected now: the attach enters the container's mount namespace.
        let supervisor = req
            .seccomp
            .as_ref()
            .filter(|s| s.filter.notify && !o.elevated)
            .and_then(|_| match client.seccomp_listener() {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!("{e}: the attached process's seccomp notifications get ENOSYS");
                    None
                }
            });
        Ok(attach(&RealSys, &req, supervisor)?)
    }

    /// `-s 'MOUNT|PID|…'` checked, or every namespace.
    fn namespaces(&self, list: Option<&str>) -> Result<Vec<String>, ContainerError> {
        let Some(list) = list else {
            return Ok(NAMESPACES.iter().map(|(l, _, _)| l.to_string()).collect());
        };
        let names: Vec<String> = list
            .split('|')
            .map(|n| n.trim().to_ascii_uppercase())
            .collect();
        if let Some(bad) = names
            .iter()
            .find(|n| !NAMESPACES.iter().any(|(l, _, _)| l == n))
        {
            return Err(ContainerError::Invalid {
                name: self.name.clone(),
                why: format!(
                    "-s: `{bad}` is not a namespace (MOUNT, PID, UTSNAME, IPC, NETWORK, USER, CGROUP)"
                ),
            });
        }
        Ok(names)
    }

    /// A connection to tty `tty` (0 = `/dev/console`), or to the first free
    /// tty and then the console; the tty number with it.
    pub fn console(
        &self,
        tty: Option<u32>,
    ) -> Result<(std::os::unix::net::UnixStream, u32), ContainerError> {
        let c = self.client()?;
        let ttys = c.request(&Request::Info)?.ttys.unwrap_or(0);
        let order: Vec<u32> = match tty {
            Some(n) => vec![n],
            None => (1..=ttys).chain([0]).collect(),
        };
        let mut last = None;
        for n in order {
            match c.console(n) {
                Ok(stream) => return Ok((stream, n)),
                Err(e @ ClientError::Refused { .. }) => last = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last.map_or_else(
            || ContainerError::Invalid {
                name: self.name.clone(),
                why: "it has no tty to connect to".into(),
            },
            Into::into,
        ))
    }

    /// Runs the host's `netstat ARGS` (or `ss ARGS` where net-tools is
    /// missing) in the container's network namespace, so its sockets show
    /// without any tool inside it; returns the exit status.
    pub fn netstat(&self, args: &[String]) -> Result<i32, ContainerError> {
        let pid = self.info()?.pid.ok_or_else(|| {
            ContainerError::Client(ClientError::NotRunning {
                name: self.name.clone(),
            })
        })?;
        let netns = RealSys
            .open_netns(pid)
            .map_err(|e| ContainerError::Invalid {
                name: self.name.clone(),
                why: e.to_string(),
            })?;
        crate::run::attach::in_netns(&RealSys, &netns, &["netstat", "ss"], args).map_err(|why| {
            ContainerError::Invalid {
                name: self.name.clone(),
                why,
            }
        })
    }

    /// A config value as `lxc-info -c KEY` shows it; `None` for an unknown key.
    pub fn config_value(&self, key: &str) -> Option<Vec<String>> {
        let cfg = self.config.as_ref()?;
        crate::config::keys::resolve(key).ok()?;
        if key == "lxc.rootfs.path" {
            return Some(
                cfg.rootfs_path()
                    .map(|r| vec![crate::storage::RootfsSpec::parse(&r).location])
                    .unwrap_or_default(),
            );
        }
        Some(cfg.get_all(key).iter().map(|s| s.to_string()).collect())
    }
}
