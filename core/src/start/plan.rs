//! The [`StartPlan`]: everything one start needs, resolved once from the
//! loaded config, the registry and the host's cgroup layout, before anything
//! is created. A backend this build lacks, a NIC its backend refuses, or a
//! cgroup limit this host cannot apply fails here, with nothing to undo.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cgroups::{place, CgroupLayout, DevicePolicy, Placement};
use crate::config::{Config, Nic};
use crate::container::Paths;
use crate::network::Network;
use crate::registry::{Registry, RegistryError};
use crate::run::spec::{seccomp_filter, RunSpec, SpecError};
use crate::storage::{RootfsSpec, Storage};

/// The rootfs and the backend that mounts it.
#[derive(Debug, Clone)]
pub struct RootfsPlan {
    /// The backend.
    pub storage: Arc<dyn Storage>,
    /// `lxc.rootfs.path`, parsed.
    pub spec: RootfsSpec,
    /// Where the monitor mounts it (in its own mount namespace), and where
    /// the container's first process pivots into: `lxc.rootfs.mount` (an
    /// existing directory, left as it was) or the run directory's `rootfs`.
    pub target: PathBuf,
    /// The target is the run directory's own (made and removed by the start).
    pub own_target: bool,
}

/// One NIC with the backend of its type.
#[derive(Debug, Clone)]
pub struct NicPlan {
    /// The whole `lxc.net.N` block.
    pub nic: Nic,
    /// The backend of `lxc.net.N.type`.
    pub backend: Arc<dyn Network>,
}

/// How this start runs.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// What to exec; empty takes `lxc.init.cmd` (start) or `lxc.execute.cmd`.
    pub command: Vec<String>,
    /// `execute`: rlxc's init is pid 1 and the caller's stdio is used.
    pub execute: bool,
    /// Stay in the foreground (`start -F`, `execute`), forwarding signals.
    pub foreground: bool,
    /// Where console output also goes (`-L`).
    pub console_log: Option<PathBuf>,
    /// Where to write init's pid (`-p`).
    pub pidfile: Option<PathBuf>,
    /// Variables from the caller's environment; the plan adds `TERM` and, for
    /// `execute`, the values of bare `lxc.environment` names.
    pub inherited: Vec<(String, String)>,
}

/// Why a start cannot even begin.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A key's value cannot be used.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The rootfs's backend is missing from this build.
    #[error("container `{name}`: lxc.rootfs.path = {rootfs}: {source}")]
    Storage {
        /// Container.
        name: String,
        /// The rootfs value.
        rootfs: String,
        /// What the registry said.
        source: RegistryError,
    },
    /// A NIC's type has no backend in this build, or none at all.
    #[error("container `{name}`: lxc.net.{index}: {why}")]
    Nic {
        /// Container.
        name: String,
        /// NIC index.
        index: u32,
        /// Why.
        why: String,
    },
    /// A cgroup limit this host cannot apply.
    #[error("container `{name}`: key `{key}`: {why}")]
    Cgroup {
        /// Container.
        name: String,
        /// The config key.
        key: String,
        /// Why.
        why: String,
    },
    /// Nothing to run.
    #[error("container `{name}`: {why}")]
    Command {
        /// Container.
        name: String,
        /// Why.
        why: String,
    },
}

/// Everything one start needs.
#[derive(Debug, Clone)]
pub struct StartPlan {
    /// Container name.
    pub name: String,
    /// The lxcpath's paths.
    pub paths: Paths,
    /// What the container's first process does (mounts, /dev, identity …).
    pub spec: RunSpec,
    /// The rootfs; `None` runs on the host's tree (`execute` without one).
    pub rootfs: Option<RootfsPlan>,
    /// Every NIC, in index order.
    pub nics: Vec<NicPlan>,
    /// The cgroup directory name below each hierarchy root.
    pub cgroup_dir: String,
    /// The cgroup limits as this host applies them.
    pub cgroup: Placement,
    /// The device rules and where this host enforces them.
    pub devices: DevicePolicy,
    /// The host's cgroup layout the limits were placed for (read once).
    pub layout: CgroupLayout,
    /// What to exec.
    pub argv: Vec<String>,
    /// How to run.
    pub options: StartOptions,
    /// Notes for the user (each cgroup translation, naming the key).
    pub warnings: Vec<String>,
    /// Started by a user other than root: no cgroups of its own, no mount
    /// namespace of the monitor's (the container's first process binds its
    /// rootfs), maps through newuidmap/newgidmap.
    pub unprivileged: bool,
}

impl StartPlan {
    /// Resolves a start of container `name` from its loaded config. Reads
    /// only `lxc.mount.fstab` and the caller's environment; nothing is created.
    pub fn build(
        name: &str,
        paths: &Paths,
        config: &Config,
        registry: &Registry,
        layout: &CgroupLayout,
        options: StartOptions,
    ) -> Result<StartPlan, PlanError> {
        let dir = paths
            .container_dir(name)
            .map_err(|e| command_error(name, e.to_string()))?;
        let unprivileged = !nix::unistd::geteuid().is_root();
        if unprivileged && !config.is_unprivileged() {
            return Err(PlanError::Spec(SpecError::Key {
                name: name.into(),
                key: "lxc.idmap".into(),
                why: "a user's container runs in a user namespace: give it lxc.idmap lines from your /etc/subuid and /etc/subgid ranges (in ~/.config/lxc/default.conf for new ones)".into(),
            }));
        }
        let mut spec = RunSpec::from_config(name, &dir, config)?;
        spec.seccomp = seccomp_filter(name, config, &paths.seccomp_cache())?;
        idmap_options(name, &spec, unprivileged)?;
        let mut rootfs = rootfs_plan(name, paths, config, registry)?;
        if unprivileged {
            user_rootfs(name, &dir, rootfs.as_mut())?;
        }
        // The backend's location, without the prefix that chose the backend.
        spec.rootfs = rootfs.as_ref().map(|r| PathBuf::from(&r.spec.location));
        if let Some(r) = &rootfs {
            spec.hooks.set_rootfs_mount(&r.target);
        }
        let nics = nic_plans(name, config, registry)?;
        if unprivileged {
            user_nics(name, &nics)?;
        }
        if let (Some(other), Some(n)) = (spec.share_of("net"), nics.first()) {
            return Err(PlanError::Nic {
                name: name.into(),
                index: n.nic.index,
                why: format!(
                    "the container joins the network of `{other}` (lxc.namespace.share.net): it has no NICs of its own"
                ),
            });
        }
        let settings = config.cgroup_settings();
        // A user's cgroups go below the ones delegated to it, if any.
        let own_layout = unprivileged.then(|| crate::cgroups::delegation::of_caller(layout));
        let layout = own_layout.as_ref().unwrap_or(layout);
        let user_notes = if unprivileged {
            user_cgroups(name, &settings, layout)?
        } else {
            Vec::new()
        };
        let cgroup = place(&settings, layout);
        if let Some(t) = cgroup.untranslatable.first() {
            return Err(PlanError::Cgroup {
                name: name.into(),
                key: t.from.first().map(|s| s.key()).unwrap_or_default(),
                why: t.note.clone(),
            });
        }
        let devices = if unprivileged {
            DevicePolicy::default()
        } else {
            DevicePolicy::for_host(&settings, layout).map_err(|(key, why)| PlanError::Cgroup {
                name: name.into(),
                key,
                why,
            })?
        };
        let mut warnings: Vec<String> = cgroup
            .translated
            .iter()
            .map(|t| format!("container `{name}`: {}", t.describe()))
            .chain(user_notes)
            .collect();
        warnings.extend(
            spec.lsm
                .notices
                .iter()
                .map(|n| format!("container `{name}`: {n}")),
        );
        if let Some(f) = &spec.seccomp {
            warnings.extend(
                f.filter
                    .warnings
                    .iter()
                    .map(|w| format!("container `{name}`: lxc.seccomp.profile: {}: {w}", f.source)),
            );
        }
        if unprivileged && spec.auto_mounts.cgroup != crate::run::cgroup_mount::CgroupMode::Off {
            // Without a cgroup of its own there is nothing of its to mount.
            spec.auto_mounts.cgroup = crate::run::cgroup_mount::CgroupMode::Off;
            warnings.push(format!(
                "container `{name}`: lxc.mount.auto cgroup: not mounted (a user's container does not mount its cgroups yet)"
            ));
        }
        let argv = command(name, &spec, &options, rootfs.is_some())?;
        let mut options = options;
        options.inherited.extend(caller_env(&spec, options.execute));
        Ok(StartPlan {
            name: name.to_string(),
            paths: paths.clone(),
            cgroup_dir: config
                .get("lxc.cgroup.dir")
                .map_or_else(|| format!("rlxc.payload.{name}"), str::to_string),
            spec,
            rootfs,
            nics,
            cgroup,
            devices,
            layout: layout.clone(),
            argv,
            options,
            warnings,
            unprivileged,
        })
    }
}

/// `idmap=container` (the rootfs's or a mount entry's) needs `lxc.idmap`,
/// and root: only the host's root makes idmapped mounts.
fn idmap_options(name: &str, spec: &RunSpec, unprivileged: bool) -> Result<(), PlanError> {
    use crate::userns::idmapped::asks_idmap;
    let entry = spec.mounts.iter().find(|m| asks_idmap(&m.options));
    let key = if asks_idmap(&spec.rootfs_options) {
        "lxc.rootfs.options"
    } else if entry.is_some() {
        "lxc.mount.entry"
    } else {
        return Ok(());
    };
    let why = if spec.idmap.is_none() {
        "idmap=container maps through the container's lxc.idmap, which it does not have"
    } else if unprivileged {
        "idmap=container: only root makes idmapped mounts (a user's container has its files mapped at create)"
    } else {
        return Ok(());
    };
    Err(PlanError::Spec(SpecError::Key {
        name: name.into(),
        key: key.into(),
        why: why.into(),
    }))
}

/// A user's cgroup settings, for the cgroups delegated to it (`layout`):
/// with none, any limit is refused (it could not be applied); device rules
/// are left out with a note (the kernel takes them from root only, and a
/// user namespace makes no device nodes anyway). Returns the notes.
fn user_cgroups(
    name: &str,
    settings: &[crate::config::cgroup::CgroupSetting],
    layout: &CgroupLayout,
) -> Result<Vec<String>, PlanError> {
    let devices = settings
        .iter()
        .filter(|s| crate::cgroups::devices::is_device_file(&s.file))
        .count();
    let limits = settings
        .iter()
        .find(|s| !crate::cgroups::devices::is_device_file(&s.file));
    if let (Some(s), true) = (limits, crate::cgroups::delegation::is_empty(layout)) {
        return Err(PlanError::Cgroup {
            name: name.into(),
            key: s.key(),
            why: "you have no delegated cgroup to put the container's below, so this limit cannot be applied: start it with `rlxc unpriv-start` (lxc-unpriv-start), or from a cgroup that is yours to write".into(),
        });
    }
    Ok((devices > 0)
        .then(|| {
            format!(
                "container `{name}`: {devices} device rule(s) of lxc.cgroup*.devices.* not applied: only root may set them, and a user's container cannot make device nodes"
            )
        })
        .into_iter()
        .collect())
}

/// A user's NICs: `empty`, `none`, or `veth` on a bridge through
/// `rlxc-user-nic`, without the keys that need root on the host.
fn user_nics(name: &str, nics: &[NicPlan]) -> Result<(), PlanError> {
    let bad = |index: u32, why: String| PlanError::Nic {
        name: name.into(),
        index,
        why,
    };
    for n in nics {
        match n.nic.kind.as_deref() {
            Some("empty" | "none") => {}
            Some("veth") => {
                if let Some((key, why)) = crate::usernic::client::unsupported(&n.nic) {
                    return Err(bad(
                        n.nic.index,
                        format!("lxc.net.{}.{key}: not for a user's container: {why}", n.nic.index),
                    ));
                }
            }
            other => {
                return Err(bad(
                    n.nic.index,
                    format!(
                        "a user's container gets veth NICs (through rlxc-user-nic), not {}: use veth, empty or none",
                        other.unwrap_or("?")
                    ),
                ))
            }
        }
    }
    Ok(())
}

/// A user's rootfs: a directory the container's first process binds
/// itself (the monitor has no mount namespace of its own then).
fn user_rootfs(name: &str, dir: &Path, rootfs: Option<&mut RootfsPlan>) -> Result<(), PlanError> {
    let Some(r) = rootfs else {
        return Ok(());
    };
    r.own_target = false;
    match r.storage.name() {
        "dir" => r.target = PathBuf::from(&r.spec.location),
        // A snapshot clone (an overlay): the first process mounts it on
        // the clone's own `rootfs` directory.
        _ if r.storage.userns_mount(&r.spec).is_some() => r.target = dir.join("rootfs"),
        other => {
            return Err(PlanError::Spec(SpecError::Key {
                name: name.into(),
                key: "lxc.rootfs.path".into(),
                why: format!(
                    "a user's container runs on a dir or overlay rootfs in this version of rlxc, not {other}"
                ),
            }))
        }
    }
    Ok(())
}

/// What the container takes from the caller's environment: `TERM`, for
/// programs on the caller's terminal, and for `execute` the value of each
/// bare `lxc.environment = VAR`.
fn caller_env(spec: &RunSpec, execute: bool) -> Vec<(String, String)> {
    let bare = spec.env.iter().filter(|e| execute && !e.contains('='));
    std::iter::once("TERM")
        .chain(bare.map(String::as_str))
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_string(), v)))
        .collect()
}

fn command_error(name: &str, why: String) -> PlanError {
    PlanError::Command {
        name: name.to_string(),
        why,
    }
}

/// The rootfs and its backend; `None` when the config has no rootfs.
fn rootfs_plan(
    name: &str,
    paths: &Paths,
    config: &Config,
    registry: &Registry,
) -> Result<Option<RootfsPlan>, PlanError> {
    let Some(raw) = config.rootfs_path().filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let (storage, spec) = registry.rootfs(&raw).map_err(|source| PlanError::Storage {
        name: name.into(),
        rootfs: raw.clone(),
        source,
    })?;
    let run_dir = paths
        .run_dir(name)
        .map_err(|e| command_error(name, e.to_string()))?;
    // The mount happens in the monitor's own mount namespace: a directory
    // the admin names is only borrowed, never made or removed.
    if let Some(m) = config.get("lxc.rootfs.mount") {
        if !std::path::Path::new(m).is_dir() {
            return Err(PlanError::Spec(SpecError::Key {
                name: name.into(),
                key: "lxc.rootfs.mount".into(),
                why: format!("{m} is not a directory"),
            }));
        }
        return Ok(Some(RootfsPlan {
            storage,
            spec,
            target: PathBuf::from(m),
            own_target: false,
        }));
    }
    Ok(Some(RootfsPlan {
        storage,
        spec,
        target: run_dir.join("rootfs"),
        own_target: true,
    }))
}

/// Every NIC with its backend, each checked by its backend.
fn nic_plans(name: &str, config: &Config, registry: &Registry) -> Result<Vec<NicPlan>, PlanError> {
    let bad = |index: u32, why: String| PlanError::Nic {
        name: name.into(),
        index,
        why,
    };
    config
        .nics()
        .into_iter()
        .map(|nic| {
            let kind = nic
                .kind
                .clone()
                .ok_or_else(|| bad(nic.index, "the NIC has no type (lxc.net.N.type)".into()))?;
            let backend = registry
                .network(&kind)
                .map_err(|e| bad(nic.index, e.to_string()))?;
            backend
                .validate(&nic)
                .map_err(|e| bad(nic.index, e.to_string()))?;
            Ok(NicPlan { nic, backend })
        })
        .collect()
}

/// The command: the one given, else `lxc.init.cmd` (start) or
/// `lxc.execute.cmd` (execute).
fn command(
    name: &str,
    spec: &RunSpec,
    options: &StartOptions,
    has_rootfs: bool,
) -> Result<Vec<String>, PlanError> {
    if !options.command.is_empty() {
        return Ok(options.command.clone());
    }
    if options.execute {
        return spec.execute_cmd.clone().ok_or_else(|| {
            command_error(
                name,
                "no command to execute (give one after `--` or set lxc.execute.cmd)".into(),
            )
        });
    }
    if !has_rootfs {
        return Err(command_error(
            name,
            "it has no rootfs (lxc.rootfs.path): use `execute` to run a command on the host's tree"
                .into(),
        ));
    }
    Ok(spec.init_cmd.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_text;
    use crate::registry::{Absence, Kind};
    use std::path::Path;

    fn plan(text: &str, registry: &Registry) -> Result<StartPlan, PlanError> {
        plan_with(text, registry, StartOptions::default())
    }

    fn plan_with(text: &str, registry: &Registry, o: StartOptions) -> Result<StartPlan, PlanError> {
        let cfg = load_text(text.as_bytes(), Path::new("config")).unwrap();
        let paths = Paths {
            lxcpath: "/var/lib/lxc".into(),
            rundir: "/run/rlxc".into(),
        };
        let layout = CgroupLayout::fake_legacy(&["memory", "devices"]);
        StartPlan::build("c1", &paths, &cfg, registry, &layout, o)
    }

    #[test]
    fn a_missing_backend_fails_before_anything_exists() {
        let mut r = Registry::core();
        r.add_absent(
            Kind::Network,
            "veth",
            Absence::NotCompiled {
                feature: "net-veth",
            },
        );
        let e = plan(
            "lxc.rootfs.path = /nonexistent\nlxc.net.0.type = empty\nlxc.net.1.type = veth\n",
            &r,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown storage backend"), "{e}");
        let e = plan("lxc.net.0.type = empty\nlxc.net.1.type = veth\n", &r)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "container `c1`: lxc.net.1: network type `veth` is not compiled into this build (feature `net-veth`)"
        );
    }

    #[test]
    fn limits_are_placed_and_both_dialects_do_not_warn() {
        let execute = || StartOptions {
            execute: true,
            ..StartOptions::default()
        };
        let p = plan_with(
            "lxc.execute.cmd = /bin/true\nlxc.cgroup.devices.deny = a\nlxc.cgroup2.devices.deny = a\n\
             lxc.cgroup2.memory.max = 1G\n",
            &Registry::core(),
            execute(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.argv, vec!["/bin/true"]);
        assert_eq!(p.cgroup.writes.len(), 1);
        assert_eq!(p.devices.v1.len(), 1, "v1's own rule, the v2 one dropped");
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        assert!(p.warnings[0].contains(
            "lxc.cgroup2.memory.max = 1G applied as lxc.cgroup.memory.limit_in_bytes = 1G"
        ));
        let e = plan_with("lxc.cgroup2.pids.max = 5\n", &Registry::core(), execute())
            .unwrap_err()
            .to_string();
        assert!(e.contains("key `lxc.cgroup2.pids.max`"), "{e}");
    }

    #[test]
    fn start_without_rootfs_or_command_is_refused() {
        let e = plan("lxc.uts.name = x\n", &Registry::core())
            .unwrap_err()
            .to_string();
        assert!(e.contains("use `execute`"), "{e}");
    }
}
