//! The namespaces a container gets, as `clone(2)` flags.

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
