//! The namespaces a container gets, as `clone(2)` flags, and the one table
//! of their names (attach's labels, `/proc/PID/ns` names, flags).

use nix::sched::CloneFlags;

/// The namespaces a container gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Namespaces {
    /// CLONE_NEWNS.
    pub mnt: bool,
    /// CLONE_NEWPID.
    pub pid: bool,
    /// CLONE_NEWUTS.
    pub uts: bool,
    /// CLONE_NEWIPC.
    pub ipc: bool,
    /// CLONE_NEWNET (off when the only NIC is of type `none`).
    pub net: bool,
    /// CLONE_NEWCGROUP (entered after the cgroups are joined).
    pub cgroup: bool,
}

impl Namespaces {
    /// Every namespace rlxc makes by default.
    pub const ALL: Namespaces = Namespaces {
        mnt: true,
        pid: true,
        uts: true,
        ipc: true,
        net: true,
        cgroup: true,
    };

    /// The `CLONE_*` flags for `clone(2)` (without cgroup, which comes later).
    pub fn clone_flags(&self) -> libc::c_int {
        let mut f = 0;
        for (on, flag) in [
            (self.mnt, libc::CLONE_NEWNS),
            (self.pid, libc::CLONE_NEWPID),
            (self.uts, libc::CLONE_NEWUTS),
            (self.ipc, libc::CLONE_NEWIPC),
            (self.net, libc::CLONE_NEWNET),
        ] {
            if on {
                f |= flag;
            }
        }
        f
    }

    pub(super) fn set(&mut self, name: &str, on: bool) {
        match name {
            "mnt" => self.mnt = on,
            "pid" => self.pid = on,
            "uts" => self.uts = on,
            "ipc" => self.ipc = on,
            "net" => self.net = on,
            "cgroup" => self.cgroup = on,
            _ => {}
        }
    }
}

/// The namespaces attach can enter, in the order it enters them.
pub const NAMESPACES: &[(&str, &str, CloneFlags)] = &[
    ("USER", "user", CloneFlags::CLONE_NEWUSER),
    ("MOUNT", "mnt", CloneFlags::CLONE_NEWNS),
    ("PID", "pid", CloneFlags::CLONE_NEWPID),
    ("UTSNAME", "uts", CloneFlags::CLONE_NEWUTS),
    ("IPC", "ipc", CloneFlags::CLONE_NEWIPC),
    ("NETWORK", "net", CloneFlags::CLONE_NEWNET),
    ("CGROUP", "cgroup", CloneFlags::CLONE_NEWCGROUP),
    // lxc.time.offset.*: the clocks an attached process reads are init's.
    (
        "TIME",
        "time",
        CloneFlags::from_bits_retain(libc::CLONE_NEWTIME),
    ),
];

/// The `CLONE_NEW*` flag of namespace `ns` (its `/proc/PID/ns` name).
pub fn flag_of(ns: &str) -> Option<i32> {
    NAMESPACES
        .iter()
        .find(|(_, n, _)| *n == ns)
        .map(|(_, _, f)| f.bits())
}
