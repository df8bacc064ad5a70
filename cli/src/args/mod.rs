//! Command-line arguments: clap structs only, one file per command. Flags
//! follow LXC's spellings so `lxc-NAME` scripts keep working.

pub mod cache;
pub mod checkconfig;
pub mod common;
pub mod config;
pub mod control;
pub mod create;
pub mod install_links;
pub mod ls;
pub mod net;
pub mod run;
pub mod template_script;
pub mod unpriv;
pub mod unshare;
pub mod update_config;
pub mod usernsexec;

use clap::{Parser, Subcommand};

pub use common::{Common, Format};

/// rlxc: Linux containers, the LXC commands in one binary.
#[derive(Debug, Parser)]
#[command(
    name = "rlxc",
    version,
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command of this build.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read the system config (lxc-config) or check and show container configs.
    Config(config::ConfigArgs),
    /// Rewrite a config from legacy keys to modern ones (lxc-update-config).
    UpdateConfig(update_config::UpdateConfigArgs),
    /// Create a container (lxc-create).
    Create(create::CreateArgs),
    /// Destroy a container (lxc-destroy).
    Destroy(create::DestroyArgs),
    /// Copy a container, or make a snapshot clone of it (lxc-copy).
    Copy(create::CopyArgs),
    /// Copy a container, the 12.04 guide's form (lxc-clone).
    Clone(create::CloneArgs),
    /// Start an ephemeral copy of a container, the guide's form (lxc-start-ephemeral).
    #[command(name = "start-ephemeral")]
    StartEphemeral(create::StartEphemeralArgs),
    /// Back a container up: the guide's rootfs.backup.N, or `-o FILE` (lxc-backup).
    Backup(create::BackupArgs),
    /// Put a backup back, or make a container from an archive (lxc-restore).
    Restore(create::RestoreArgs),
    /// Take, list, restore or destroy a container's snapshots (lxc-snapshot).
    Snapshot(create::SnapshotArgs),
    /// Start a container (lxc-start).
    Start(run::StartArgs),
    /// Run a command in a container with rlxc's init as pid 1 (lxc-execute).
    Execute(run::ExecuteArgs),
    /// Stop a container (lxc-stop).
    Stop(control::StopArgs),
    /// Shut a container down cleanly (the old lxc-shutdown).
    Shutdown(control::ShutdownArgs),
    /// Send a signal to a container's init (lxc-kill).
    Kill(control::KillArgs),
    /// Freeze every process of a container (lxc-freeze).
    Freeze(control::NameArgs),
    /// Thaw a frozen container (lxc-unfreeze).
    Unfreeze(control::NameArgs),
    /// Show a container's state, pid, IPs and resource use (lxc-info).
    Info(control::InfoArgs),
    /// Wait for a container state (lxc-wait).
    Wait(control::WaitArgs),
    /// Print state changes of containers (lxc-monitor).
    Monitor(control::MonitorArgs),
    /// Read or write a container's cgroup file (lxc-cgroup).
    Cgroup(control::CgroupArgs),
    /// Show a container's processes (lxc-ps).
    Ps(control::PsArgs),
    /// Connect to a container's console or tty (lxc-console).
    Console(control::ConsoleArgs),
    /// Run a command inside a running container (lxc-attach).
    Attach(control::AttachArgs),
    /// Running containers first, then frozen, then stopped (the old lxc-list).
    List(control::ListArgs),
    /// List containers (lxc-ls).
    Ls(ls::LsArgs),
    /// Report what this kernel supports (lxc-checkconfig).
    Checkconfig(checkconfig::CheckconfigArgs),
    /// Run a command in new namespaces (lxc-unshare).
    Unshare(unshare::UnshareArgs),
    /// The container's sockets, from its own network namespace (lxc-netstat).
    Netstat(control::NetstatArgs),
    /// The default network: lxcbr0 with NAT and DHCP (LXC's lxc-net).
    Net(net::NetArgs),
    /// The template cache: list it, free it.
    Cache(cache::CacheArgs),
    /// Print the version (lxc-version).
    Version,
    /// List the storage, network and template backends of this build.
    Backends(checkconfig::BackendsArgs),
    /// Run a command as root in a new user namespace (lxc-usernsexec).
    Usernsexec(usernsexec::UsernsexecArgs),
    /// Start a user's container in a cgroup delegated to it: a systemd user
    /// scope with Delegate=yes unless it has one (lxc-unpriv-start).
    #[command(name = "unpriv-start")]
    UnprivStart(unpriv::UnprivArgs),
    /// Attach to a user's container from a delegated cgroup likewise
    /// (lxc-unpriv-attach).
    #[command(name = "unpriv-attach")]
    UnprivAttach(unpriv::UnprivArgs),
    /// Create lxc-* symlinks to this binary in DIR.
    InstallLinks(install_links::InstallLinksArgs),
    /// A built-in template run as LXC runs a template script (what an
    /// `lxc-NAME` link to rlxc does: `lxc-debian --clean`, or LXC's lxc-create
    /// calling it).
    #[command(hide = true, disable_help_flag = true)]
    TemplateScript(template_script::TemplateScriptArgs),
}

#[cfg(test)]
mod tests {
    /// Clap's own checks of the whole tree (clashing short options and the
    /// like), which it otherwise makes only when a command is first parsed.
    #[test]
    fn the_command_tree_is_consistent() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
