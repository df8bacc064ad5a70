//! `rlxc create` (lxc-create) and `rlxc destroy` (lxc-destroy).

use std::path::PathBuf;

use clap::Args;

use super::Common;

/// `create -n NAME [-t TEMPLATE] [-f CONFIG] [-B BACKEND] [backend options] [-- TEMPLATE ARGS]`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// LXC's common options.
    #[command(flatten)]
    pub common: Common,
    /// Container name.
    #[arg(short = 'n', long = "name")]
    pub name: String,
    /// Template (built-in name, e.g. busybox).
    #[arg(short = 't', long = "template")]
    pub template: Option<String>,
    /// Initial config file (instead of the system's default config).
    #[arg(short = 'f', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Storage backend: dir, lvm, btrfs, zfs, or best.
    #[arg(short = 'B', long = "bdev", default_value = "dir")]
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
    /// Destroy its snapshots too.
    #[arg(short = 's', long = "snapshots")]
    pub snapshots: bool,
}
