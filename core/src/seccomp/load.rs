//! Loading a compiled filter into the calling process (`seccomp(2)`). It
//! runs in the container's first process before the capability drop and in
//! each attached process; the filter then holds for everything they exec.
//! Without `no_new_privs` the kernel wants CAP_SYS_ADMIN, which both still
//! have at that point (the drop comes after).

use super::compile::Insn;

const SECCOMP_SET_MODE_FILTER: libc::c_uint = 1;

#[repr(C)]
struct SockFilter {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const SockFilter,
}

/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`.
const NEW_LISTENER: libc::c_uint = 8;

/// Loads `insns`, with a notification listener when `listener`; the error
/// says why, for the start's report.
pub fn load(
    insns: &[Insn],
    source: &str,
    listener: bool,
) -> Result<Option<std::os::fd::OwnedFd>, String> {
    let prog: Vec<SockFilter> = insns
        .iter()
        .map(|i| SockFilter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    let len = libc::c_ushort::try_from(prog.len()).map_err(|_| {
        format!(
            "the seccomp filter of {source} has {} instructions, more than the kernel takes",
            prog.len()
        )
    })?;
    let fprog = SockFprog {
        len,
        filter: prog.as_ptr(),
    };
    // SAFETY: fprog points at `prog`, alive for the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_SET_MODE_FILTER,
            if listener { NEW_LISTENER } else { 0 },
            std::ptr::from_ref(&fprog),
        )
    };
    if r >= 0 {
        // SAFETY: with NEW_LISTENER the result is a new fd of ours.
        Ok(listener.then(|| unsafe { std::os::fd::FromRawFd::from_raw_fd(r as i32) }))
    } else {
        Err(format!(
            "loading the seccomp filter of {source}: {}",
            nix::Error::last().desc()
        ))
    }
}
