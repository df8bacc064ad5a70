//! `rlxc create` (lxc-create) and `rlxc destroy` (lxc-destroy).

use std::path::PathBuf;

use clap::Args;

use super::Common;

/// `create -n NAME [-t TEMPLATE] [-f CONFIG] [-B BACKEND] [backend options] [-- TEMPLATE ARGS]`.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Print help (with `-t`: the template's own options too).
    #[arg(short = 'h', long = "help")]
    pub help: bool,
    /// Container name.
    #[arg(
        short = 'n',
        long = "name",
        required_unless_present = "help",
        default_value = ""
    )]
    pub name: String,
    /// Template (built-in name, e.g. busybox).
    #[arg(short = 't', long = "template")]
    pub template: Option<String>,
    /// Initial config file (instead of the system's default config).
    #[arg(short = 'f', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Storage backend: dir, btrfs, lvm, zfs, or best (default: btrfs when
    /// the lxcpath is on btrfs, else dir).
    #[arg(short = 'B', long = "bdev", default_value = "")]
    pub bdev: String,
    /// Where to put a dir rootfs (default: <lxcpath>/<name>/rootfs).
    #[arg(long = "dir", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// LVM volume group.
    #[arg(long)]
    pub vgname: Option<String>,
    /// LVM logical volume name.
    #[arg(long)]
    pub lvname: Option<String>,
    /// LVM thin pool.
    #[arg(long)]
    pub thinpool: Option<String>,
    /// Filesystem to make on a block backend.
    #[arg(long)]
    pub fstype: Option<String>,
    /// Size of a block backend (e.g. 1G).
    #[arg(long)]
    pub fssize: Option<String>,
    /// ZFS dataset under which to create the container's.
    #[arg(long)]
    pub zfsroot: Option<String>,
    /// Arguments for the template.
    #[arg(last = true)]
    pub template_args: Vec<String>,
}

/// `destroy -n NAME [-f] [-s]`.
#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// Stop a running container first.
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Destroy its snapshots and the clones that depend on it too.
    #[arg(short = 's', long = "snapshots")]
    pub snapshots: bool,
}

/// `copy -n NAME -N NEWNAME [-s] [-B TYPE] [-P NEWPATH] [-K] [-M] [-- HOOK ARGS]` (lxc-copy).
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// The container to copy.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// The new container's name (with -e: default NAME_XXXXXX).
    #[arg(
        short = 'N',
        long = "newname",
        required_unless_present = "ephemeral",
        default_value = ""
    )]
    pub newname: String,
    /// The new container's lxcpath (default: the origin's).
    #[arg(short = 'p', long = "newpath", value_name = "PATH")]
    pub newpath: Option<PathBuf>,
    /// A snapshot clone (overlay on a dir container) rather than a copy.
    #[arg(short = 's', long = "snapshot")]
    pub snapshot: bool,
    /// The new rootfs's backend.
    #[arg(short = 'B', long = "backingstorage", value_name = "TYPE")]
    pub backend: Option<String>,
    /// Keep the hostname.
    #[arg(short = 'K', long = "keepname")]
    pub keepname: bool,
    /// Keep the MAC addresses.
    #[arg(short = 'M', long = "keepmac")]
    pub keepmac: bool,
    /// Size of a block backend (e.g. 1G).
    #[arg(short = 'L', long = "fssize")]
    pub fssize: Option<String>,
    /// Rename: copy, then destroy the original (not with snapshots or clones).
    #[arg(short = 'R', long = "rename", conflicts_with_all = ["snapshot", "ephemeral"])]
    pub rename: bool,
    /// ZFS dataset under which to make the copy's (with -B zfs).
    #[arg(long)]
    pub zfsroot: Option<String>,
    /// An ephemeral clone: a snapshot, started now, destroyed when it stops.
    #[arg(short = 'e', long = "ephemeral")]
    pub ephemeral: bool,
    /// With -e: keep it when it stops.
    #[arg(short = 'D', long = "keepdata", requires = "ephemeral")]
    pub keepdata: bool,
    /// With -e: the overlay's delta on a tmpfs.
    #[arg(
        short = 't',
        long = "tmpfs",
        requires = "ephemeral",
        conflicts_with = "keepdata"
    )]
    pub tmpfs: bool,
    /// With -e: mounts, `bind=SRC[:DST][:ro|rw]` or `overlay=SRC[:DST]`, comma-separated.
    #[arg(
        short = 'm',
        long = "mount",
        requires = "ephemeral",
        value_delimiter = ','
    )]
    pub mount: Vec<String>,
    /// With -e: stay in the foreground.
    #[arg(short = 'F', long = "foreground", requires = "ephemeral")]
    pub foreground: bool,
    /// With -e: in the background (the default).
    #[arg(short = 'd', long = "daemon", requires = "ephemeral")]
    pub daemon: bool,
    /// Arguments for `lxc.hook.clone`; with -e, the command to run in it.
    #[arg(last = true)]
    pub hook_args: Vec<String>,
}

/// The 12.04 guide's `clone -o ORIG -n NEW [-s] [-B TYPE] [-K] [-M] [-p LXCPATH]
/// [-P NEWPATH]` (LXC 1.0's lxc-clone: its `-o` is the origin, so the common
/// `-o LOGFILE` is `--logfile` only, and `-p`/`-P` are the two lxcpaths).
#[derive(Debug, Args)]
pub struct CloneArgs {
    /// The origin's lxcpath.
    #[arg(short = 'p', long = "lxcpath", value_name = "PATH")]
    pub lxcpath: Option<PathBuf>,
    /// The new container's lxcpath.
    #[arg(short = 'P', long = "newpath", value_name = "PATH")]
    pub newpath: Option<PathBuf>,
    /// Write the log to FILE.
    #[arg(long = "logfile", value_name = "FILE")]
    pub logfile: Option<PathBuf>,
    /// Log level.
    #[arg(short = 'l', long = "logpriority", value_name = "LEVEL")]
    pub logpriority: Option<String>,
    /// Print nothing but errors.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// The container to copy.
    #[arg(short = 'o', long = "orig")]
    pub orig: String,
    /// The new container's name.
    #[arg(short = 'n', long = "new")]
    pub new: String,
    /// A snapshot clone.
    #[arg(short = 's', long = "snapshot")]
    pub snapshot: bool,
    /// The new rootfs's backend.
    #[arg(short = 'B', long = "backingstore", value_name = "TYPE")]
    pub backend: Option<String>,
    /// Keep the hostname.
    #[arg(short = 'K', long = "keepname")]
    pub keepname: bool,
    /// Keep the MAC addresses.
    #[arg(short = 'M', long = "keepmac")]
    pub keepmac: bool,
    /// Arguments for `lxc.hook.clone`.
    #[arg(last = true)]
    pub hook_args: Vec<String>,
}

impl CloneArgs {
    /// Its common options, as the other commands take them.
    pub fn common(&self) -> Common {
        Common {
            lxcpath: self.lxcpath.clone(),
            logfile: self.logfile.clone(),
            logpriority: self.logpriority.clone(),
            quiet: self.quiet,
            ..Common::default()
        }
    }
}

/// `snapshot -n NAME [-c FILE] | -L [-C] | -r SNAP [-N NEW] | -d SNAP` (lxc-snapshot).
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// The container.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// A file whose text is kept with the new snapshot.
    #[arg(short = 'c', long = "comment", value_name = "FILE")]
    pub comment: Option<PathBuf>,
    /// List the snapshots.
    #[arg(short = 'L', long = "list", conflicts_with_all = ["restore", "destroy"])]
    pub list: bool,
    /// With -L: print each snapshot's comment.
    #[arg(short = 'C', long = "showcomments", requires = "list")]
    pub showcomments: bool,
    /// Restore this snapshot (over the container, or as -N).
    #[arg(
        short = 'r',
        long = "restore",
        value_name = "SNAP",
        conflicts_with = "destroy"
    )]
    pub restore: Option<String>,
    /// With -r: the restored container's name.
    #[arg(short = 'N', long = "newname", requires = "restore")]
    pub newname: Option<String>,
    /// Destroy this snapshot (`ALL`: every one).
    #[arg(short = 'd', long = "destroy", value_name = "SNAP")]
    pub destroy: Option<String>,
    /// With -r: the restored container's name (LXC's positional form).
    #[arg(requires = "restore")]
    pub newname_arg: Option<String>,
}

/// The guide's `start-ephemeral -o ORIG [-n NAME] [-b USER] [-d] [-K] [-- CMD]`
/// (its `-o` is the origin, so the common `-o LOGFILE` is `--logfile` only).
#[derive(Debug, Args)]
pub struct StartEphemeralArgs {
    /// LXC's common options, with the log file as `--logfile` only.
    #[command(flatten)]
    pub common: super::common::CommonLongLog,
    /// The container to start a copy of.
    #[arg(short = 'o', long = "orig")]
    pub orig: String,
    /// The copy's name (default: ORIG_XXXXXX).
    #[arg(short = 'n', long = "name")]
    pub name: Option<String>,
    /// Bind this user's home into the copy and run the command as the user.
    #[arg(short = 'b', long = "bind-user", value_name = "USER")]
    pub user: Option<String>,
    /// In the background.
    #[arg(short = 'd', long = "daemon")]
    pub daemon: bool,
    /// Keep the hostname.
    #[arg(short = 'K', long = "keepname")]
    pub keepname: bool,
    /// The command to run in it.
    #[arg(last = true)]
    pub command: Vec<String>,
}

/// `backup [-n NAME] [-o FILE]`: the guide's rootfs.backup.N of one or every
/// container, or with -o the container as one compressed tar.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// LXC's common options, with the log file as `--logfile` only.
    #[command(flatten)]
    pub common: super::common::CommonLongLog,
    /// The container (default: every container of the lxcpath).
    #[arg(short = 'n', long = "name")]
    pub name: Option<String>,
    /// The container, the guide's positional form.
    #[arg(conflicts_with = "name")]
    pub name_arg: Option<String>,
    /// Write the container to this archive (`.tar.zst`, `.tar.gz`, `.tar`).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `restore -n NAME [N]` (the guide's) or `restore -i FILE [-n NEW] [-B TYPE]`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// The container (with -i: the new container's name).
    #[arg(short = 'n', long = "name")]
    pub name: Option<String>,
    /// The backup number (default: the newest).
    pub number: Option<u32>,
    /// Make a container from this archive.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// With -i: the new rootfs's backend (default dir).
    #[arg(short = 'B', long = "bdev", requires = "input")]
    pub bdev: Option<String>,
}
