//! The `bpf(2)` calls behind [`super::Sys::attach_device_program`]: load a
//! `BPF_PROG_TYPE_CGROUP_DEVICE` program and attach it to a cgroup2
//! directory. The attachment lives as long as the cgroup; the program fd is
//! closed right after. It is attached with `BPF_F_ALLOW_MULTI`, as LXC does,
//! so a nested container manager or systemd inside can attach its own below
//! it; a second attach (`lxc-cgroup devices.allow` on a running container)
//! replaces the one there atomically (`BPF_F_REPLACE`).

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::SysError;

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_PROG_QUERY: libc::c_long = 16;
const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;

/// The name rlxc gives its device programs (`bpf_prog_info.name`), so a
/// change at run time replaces rlxc's own and never another tool's.
const PROG_NAME: &[u8] = b"rlxc_devices";
const BPF_F_ALLOW_MULTI: u32 = 2;
const BPF_F_REPLACE: u32 = 4;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;

/// The head of `union bpf_attr` for `BPF_PROG_LOAD`, padded to the size the
/// kernel accepts from any caller (it checks the unknown tail is zero).
#[repr(C)]
#[derive(Default)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    pad: [u64; 10],
}

/// `union bpf_attr` for `BPF_PROG_ATTACH`.
#[repr(C)]
#[derive(Default)]
struct ProgAttach {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
    pad: [u32; 11],
}

/// `union bpf_attr` for `BPF_PROG_QUERY`.
#[repr(C)]
#[derive(Default)]
struct ProgQuery {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    pad: [u32; 11],
}

/// `union bpf_attr` for `BPF_PROG_GET_FD_BY_ID`.
#[repr(C)]
#[derive(Default)]
struct GetFdById {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
    pad: [u32; 13],
}

/// `union bpf_attr` for `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C)]
#[derive(Default)]
struct GetInfo {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
    pad: [u64; 6],
}

/// The name of the program behind `fd` (`bpf_prog_info.name`, at byte 64).
fn prog_name(fd: &OwnedFd) -> Option<Vec<u8>> {
    let mut info = [0u8; 96];
    let mut a = GetInfo {
        bpf_fd: fd.as_raw_fd() as u32,
        info_len: info.len() as u32,
        info: info.as_mut_ptr() as u64,
        ..GetInfo::default()
    };
    bpf(BPF_OBJ_GET_INFO_BY_FD, &mut a).ok()?;
    let name = &info[64..80];
    let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
    Some(name[..end].to_vec())
}

/// rlxc's device program on the cgroup at `dir` itself, if one is there.
fn attached(dir: &std::fs::File) -> Result<Option<OwnedFd>, nix::Error> {
    let mut ids = [0u32; 64];
    let mut q = ProgQuery {
        target_fd: dir.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        prog_ids: ids.as_mut_ptr() as u64,
        prog_cnt: ids.len() as u32,
        ..ProgQuery::default()
    };
    bpf(BPF_PROG_QUERY, &mut q)?;
    for id in &ids[..(q.prog_cnt as usize).min(ids.len())] {
        let mut g = GetFdById {
            prog_id: *id,
            ..GetFdById::default()
        };
        let Ok(raw) = bpf(BPF_PROG_GET_FD_BY_ID, &mut g) else {
            continue;
        };
        // SAFETY: a new fd the kernel gave us.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        if prog_name(&fd).as_deref() == Some(PROG_NAME) {
            return Ok(Some(fd));
        }
    }
    Ok(None)
}

fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> Result<i32, nix::Error> {
    // SAFETY: attr is a live, zero-padded bpf_attr of the size passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            std::ptr::from_mut(attr),
            std::mem::size_of::<T>(),
        )
    };
    if r < 0 {
        Err(nix::Error::last())
    } else {
        Ok(r as i32)
    }
}

/// Loads `insns` (a `bpf_insn` array) as a device program; a refusal by the
/// verifier carries its log.
fn load(insns: &[u8]) -> Result<OwnedFd, (nix::Error, String)> {
    let license = CString::new("GPL").expect("no NUL");
    let mut log = vec![0u8; 16 * 1024];
    let mut attr = ProgLoad {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: (insns.len() / 8) as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_name: {
            let mut n = [0u8; 16];
            n[..PROG_NAME.len()].copy_from_slice(PROG_NAME);
            n
        },
        ..ProgLoad::default()
    };
    if let Ok(fd) = bpf(BPF_PROG_LOAD, &mut attr) {
        // SAFETY: a new fd the kernel gave us.
        return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    // Again with the verifier's log, only to explain the refusal.
    attr.log_level = 1;
    attr.log_size = log.len() as u32;
    attr.log_buf = log.as_mut_ptr() as u64;
    match bpf(BPF_PROG_LOAD, &mut attr) {
        // SAFETY: as above.
        Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
        Err(e) => {
            let end = log.iter().position(|b| *b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]);
            Err((e, text.lines().last().unwrap_or("").to_string()))
        }
    }
}

/// Loads the program and attaches it to cgroup2 directory `cgroup`.
pub fn attach_device_program(cgroup: &Path, insns: &[u8]) -> Result<(), SysError> {
    let prog = load(insns).map_err(|(source, log)| SysError::Syscall {
        op: "bpf(BPF_PROG_LOAD) of the device program",
        path: if log.is_empty() {
            cgroup.display().to_string()
        } else {
            format!("{} (verifier: {log})", cgroup.display())
        },
        source,
    })?;
    let dir = std::fs::File::open(cgroup).map_err(|e| SysError::io("open", cgroup, &e))?;
    let old = attached(&dir).map_err(|source| SysError::Syscall {
        op: "bpf(BPF_PROG_QUERY) of the device programs",
        path: cgroup.display().to_string(),
        source,
    })?;
    let mut attr = ProgAttach {
        target_fd: dir.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI | old.as_ref().map_or(0, |_| BPF_F_REPLACE),
        replace_bpf_fd: old.as_ref().map_or(0, |f| f.as_raw_fd() as u32),
        ..ProgAttach::default()
    };
    bpf(BPF_PROG_ATTACH, &mut attr).map_err(|source| SysError::Syscall {
        op: match (source, old.is_some()) {
            // Replacing needs Linux 5.6.
            (nix::Error::EINVAL, true) => "bpf(BPF_PROG_ATTACH, BPF_F_REPLACE) of the device program (Linux 5.6 or later needed)",
            // A program attached without BPF_F_ALLOW_MULTI (an older rlxc).
            (nix::Error::EPERM, _) => "bpf(BPF_PROG_ATTACH) of the device program (another program is attached exclusively)",
            _ => "bpf(BPF_PROG_ATTACH) of the device program",
        },
        path: cgroup.display().to_string(),
        source,
    })?;
    Ok(())
}
