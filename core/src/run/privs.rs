//! What a container process may do once it runs the container's code:
//! `lxc.cap.drop` / `lxc.cap.keep` on every capability set and
//! `lxc.no_new_privs`, and the id change they wrap. Init and every attached
//! process go through [`Privileges::apply`] just before they exec.
//!
//! Why every set and not only the bounding one (which is all LXC drops): a
//! root process's exec keeps whatever is in its inheritable set, bounding set
//! or not (`P' = (P_inh & F_inh) | (F_prm & P_bnd) | P_amb`, and root's files
//! count as fully inheritable), so a caller with raised inheritable or ambient
//! capabilities would hand a dropped capability straight to the container.

/// The privilege limits a container's processes run under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Privileges {
    /// `lxc.cap.drop`, as capability numbers.
    pub cap_drop: Vec<u32>,
    /// `lxc.cap.keep` (drop every other), as numbers; `Some(empty)` is
    /// `lxc.cap.keep = none`, every capability dropped.
    pub cap_keep: Option<Vec<u32>>,
    /// `lxc.no_new_privs`: exec can never add privileges (setuid, file caps).
    pub no_new_privs: bool,
}

impl Privileges {
    /// Drops the config's capabilities from the bounding set (effective ones
    /// stay until [`apply`](Self::apply)); returns them. Idempotent, so the
    /// start does it before the `start` hook, as LXC does, and again in apply.
    pub fn drop_bounding(&self) -> Result<Vec<u32>, String> {
        // Nothing to drop (no keys): no file read, no capget/capset.
        if self.cap_keep.is_none() && self.cap_drop.is_empty() {
            return Ok(Vec::new());
        }
        let dropped = self.dropped(last_cap());
        for &cap in &dropped {
            // SAFETY: prctl with a capability number.
            if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) } != 0 {
                return Err(os_err(&format!(
                    "dropping capability {} from the bounding set ({})",
                    cap_name(cap),
                    self.key()
                )));
            }
        }
        Ok(dropped)
    }

    /// Applies the limits to the calling thread and takes on `uid`/`gid`:
    /// `no_new_privs`, the dropped capabilities out of the bounding set (which
    /// needs CAP_SETPCAP), the id change (which needs CAP_SETUID/SETGID, so a
    /// `lxc.cap.keep` without them still runs as its `lxc.init.uid`), then the
    /// dropped capabilities out of the inheritable, permitted and effective
    /// sets (lowering needs nothing) and the ambient set cleared. With
    /// `caps = false` (attach `-e`) the capabilities stay.
    pub fn apply(&self, caps: bool, uid: u32, gid: u32) -> Result<(), String> {
        if self.no_new_privs {
            // SAFETY: prctl with constant arguments.
            if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                return Err(os_err("setting no_new_privs (lxc.no_new_privs)"));
            }
        }
        let dropped = if caps {
            self.drop_bounding()?
        } else {
            Vec::new()
        };
        set_ids(uid, gid)?;
        if !caps {
            return Ok(());
        }
        if !dropped.is_empty() {
            clear_from_sets(&dropped).map_err(|e| {
                format!(
                    "dropping capabilities from the process's sets ({}): {e}",
                    self.key()
                )
            })?;
        }
        // SAFETY: prctl with constant arguments; clearing never needs privilege.
        if unsafe {
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL,
                0,
                0,
                0,
            )
        } != 0
        {
            return Err(os_err("clearing the ambient capabilities"));
        }
        Ok(())
    }

    /// The capability numbers to drop on a kernel whose last is `last`.
    pub fn dropped(&self, last: u32) -> Vec<u32> {
        match &self.cap_keep {
            None => self
                .cap_drop
                .iter()
                .copied()
                .filter(|c| *c <= last)
                .collect(),
            Some(keep) => (0..=last).filter(|c| !keep.contains(c)).collect(),
        }
    }

    fn key(&self) -> &'static str {
        if self.cap_keep.is_none() {
            "lxc.cap.drop"
        } else {
            "lxc.cap.keep"
        }
    }
}

/// Sets gid (with no supplementary groups) then uid.
fn set_ids(uid: u32, gid: u32) -> Result<(), String> {
    if uid == 0 && gid == 0 {
        return Ok(());
    }
    nix::unistd::setgroups(&[]).map_err(|e| format!("clearing groups: {}", e.desc()))?;
    nix::unistd::setgid(nix::unistd::Gid::from_raw(gid))
        .map_err(|e| format!("setting gid {gid} (lxc.init.gid): {}", e.desc()))?;
    nix::unistd::setuid(nix::unistd::Uid::from_raw(uid))
        .map_err(|e| format!("setting uid {uid} (lxc.init.uid): {}", e.desc()))
}

/// The kernel's highest capability number.
fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

fn cap_name(cap: u32) -> String {
    crate::config::value::CAPABILITIES
        .get(cap as usize)
        .map_or_else(|| cap.to_string(), |n| n.to_string())
}

fn os_err(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

/// `struct __user_cap_header_struct`.
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

/// One half of `struct __user_cap_data_struct[2]` (capabilities 0-31, 32-63).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets in two words.
const CAP_V3: u32 = 0x2008_0522;

/// Removes `caps` from this thread's effective, permitted and inheritable sets.
fn clear_from_sets(caps: &[u32]) -> std::io::Result<()> {
    let mut head = CapHeader {
        version: CAP_V3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: capget fills two data words for version 3 headers.
    if unsafe { libc::syscall(libc::SYS_capget, &mut head, data.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    for &cap in caps.iter().filter(|c| **c < 64) {
        let (word, bit) = ((cap / 32) as usize, 1u32 << (cap % 32));
        data[word].effective &= !bit;
        data[word].permitted &= !bit;
        data[word].inheritable &= !bit;
    }
    // SAFETY: capset reads the header and two data words; only lowering sets.
    if unsafe { libc::syscall(libc::SYS_capset, &mut head, data.as_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_list_names_only_what_the_kernel_has() {
        let p = Privileges {
            cap_drop: vec![16, 21, 45],
            ..Default::default()
        };
        assert_eq!(p.dropped(40), vec![16, 21]);
        assert_eq!(p.key(), "lxc.cap.drop");
    }

    #[test]
    fn keep_drops_every_other_capability() {
        let p = Privileges {
            cap_drop: vec![1],
            cap_keep: Some(vec![0, 2]),
            ..Default::default()
        };
        assert_eq!(p.dropped(3), vec![1, 3]);
        assert_eq!(p.key(), "lxc.cap.keep");
        let none = Privileges {
            cap_keep: Some(vec![]),
            ..Default::default()
        };
        assert_eq!(none.dropped(2), vec![0, 1, 2]);
    }

    #[test]
    fn names_come_from_the_capability_table() {
        assert_eq!(cap_name(21), "sys_admin");
        assert_eq!(cap_name(99), "99");
    }
}
