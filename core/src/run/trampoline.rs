//! The last exec of `attach`, made from a sealed 200-byte program instead of
//! the rlxc binary: at the moment the container's program is exec'd,
//! `/proc/self/exe` (which a `#!/proc/self/exe` script there would run as
//! its interpreter, and any process of the same user could then open) is
//! this sealed memfd, never the host's rlxc (the CVE-2019-5736 class). It
//! costs one exec of a page-sized static program, not a re-exec of rlxc.
//!
//! The program, x86_64 (`as` source):
//!
//! ```text
//! cmp qword [rsp], 3; jl exit        ; argc < 3: run as some script's interpreter
//! mov edi, 3; mov esi, 2; mov edx, 1; mov eax, 72; syscall   ; fcntl(3, F_SETFD, FD_CLOEXEC)
//! mov rdi, [rsp+16]; lea rsi, [rsp+24]                       ; argv[1] = path, argv+2
//! mov rcx, [rsp]; lea rdx, [rsp+rcx*8+16]; mov eax, 59; syscall ; execve(path, argv+2, envp)
//! neg eax; shl eax, 8; or eax, 0xff; push rax                ; errno << 8 | 0xff
//! mov edi, 3; mov rsi, rsp; mov edx, 4; mov eax, 1; syscall   ; write(3, &it, 4)
//! exit: mov edi, 127; mov eax, 60; syscall                   ; exit(127)
//! ```
//!
//! Fd 3 is a close-on-exec pipe to whoever waits for the exec: end of file
//! means the program runs; four bytes, `errno << 8 | 0xff` in host order,
//! are the errno of its failed exec ([`decode_errno`]; the 0xff first byte
//! never begins a JSON message on the same pipe).

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The code above, assembled.
const CODE: [u8; 98] = [
    0x48, 0x83, 0x3c, 0x24, 0x03, 0x7c, 0x4f, 0xbf, 0x03, 0x00, 0x00, 0x00, 0xbe, 0x02, 0x00, 0x00,
    0x00, 0xba, 0x01, 0x00, 0x00, 0x00, 0xb8, 0x48, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x8b, 0x7c,
    0x24, 0x10, 0x48, 0x8d, 0x74, 0x24, 0x18, 0x48, 0x8b, 0x0c, 0x24, 0x48, 0x8d, 0x54, 0xcc, 0x10,
    0xb8, 0x3b, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xf7, 0xd8, 0xc1, 0xe0, 0x08, 0x0d, 0xff, 0x00, 0x00,
    0x00, 0x50, 0xbf, 0x03, 0x00, 0x00, 0x00, 0x48, 0x89, 0xe6, 0xba, 0x04, 0x00, 0x00, 0x00, 0xb8,
    0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xbf, 0x7f, 0x00, 0x00, 0x00, 0xb8, 0x3c, 0x00, 0x00, 0x00,
    0x0f, 0x05,
];

/// `execute`'s pid 1 once the command is forked: `rlxc-init PID` waits for
/// every signal (all blocked since before the fork), forwards each to PID,
/// reaps every zombie on SIGCHLD, and exits with PID's status (128+N when
/// killed by signal N). Source:
///
/// ```text
/// cmp qword [rsp], 2; jl fail; prctl(PR_SET_DUMPABLE, 0); parse argv[1] into r12d
/// sub rsp, 160; mov qword [rsp], -1                 ; sigset: all
/// wait: rt_sigtimedwait(rsp, rsp+16, 0, 8); js wait
///       cmp eax, SIGCHLD; je reap; kill(r12d, eax); jmp wait
/// reap: wait4(-1, rsp+144, WNOHANG, 0); jle wait; cmp eax, r12d; jne reap
///       status & 127 ? exit(128 + sig) : exit(status >> 8 & 255)   ; exit_group
/// fail: exit_group(127)
/// ```
pub const SUPERVISOR: [u8; 200] = [
    0x48, 0x83, 0x3c, 0x24, 0x02, 0x0f, 0x8c, 0xb1, 0x00, 0x00, 0x00, 0xbf, 0x04, 0x00, 0x00, 0x00,
    0x31, 0xf6, 0xb8, 0x9d, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x8b, 0x74, 0x24, 0x10, 0x31, 0xdb,
    0x0f, 0xb6, 0x06, 0x84, 0xc0, 0x74, 0x0d, 0x83, 0xe8, 0x30, 0x6b, 0xdb, 0x0a, 0x01, 0xc3, 0x48,
    0xff, 0xc6, 0xeb, 0xec, 0x41, 0x89, 0xdc, 0x48, 0x81, 0xec, 0xa0, 0x00, 0x00, 0x00, 0x48, 0xc7,
    0x04, 0x24, 0xff, 0xff, 0xff, 0xff, 0x48, 0x89, 0xe7, 0x48, 0x8d, 0x74, 0x24, 0x10, 0x31, 0xd2,
    0x41, 0xba, 0x08, 0x00, 0x00, 0x00, 0xb8, 0x80, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x85, 0xc0, 0x78,
    0xe5, 0x83, 0xf8, 0x11, 0x74, 0x0e, 0x44, 0x89, 0xe7, 0x89, 0xc6, 0xb8, 0x3e, 0x00, 0x00, 0x00,
    0x0f, 0x05, 0xeb, 0xd2, 0xbf, 0xff, 0xff, 0xff, 0xff, 0x48, 0x8d, 0xb4, 0x24, 0x90, 0x00, 0x00,
    0x00, 0xba, 0x01, 0x00, 0x00, 0x00, 0x45, 0x31, 0xd2, 0xb8, 0x3d, 0x00, 0x00, 0x00, 0x0f, 0x05,
    0x85, 0xc0, 0x7e, 0xb2, 0x44, 0x39, 0xe0, 0x75, 0xdb, 0x8b, 0x84, 0x24, 0x90, 0x00, 0x00, 0x00,
    0x89, 0xc1, 0x83, 0xe1, 0x7f, 0x74, 0x08, 0x8d, 0xb9, 0x80, 0x00, 0x00, 0x00, 0xeb, 0x06, 0xc1,
    0xe8, 0x08, 0x0f, 0xb6, 0xf8, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xbf, 0x7f, 0x00, 0x00,
    0x00, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x0f, 0x05,
];

/// The errno in the four bytes the program writes after a failed exec;
/// `None` for bytes it did not write.
pub fn decode_errno(b: [u8; 4]) -> Option<i32> {
    let v = u32::from_ne_bytes(b);
    (v & 0xff == 0xff).then_some((v >> 8) as i32)
}

/// The fd the program reports a failed exec on.
pub const REPORT_FD: i32 = 3;

/// Where the program is loaded.
const BASE: u64 = 0x40_0000;
/// ELF header (64) and one program header (56).
const HEADERS: usize = 120;

/// A static x86_64 ELF executable of `code`: one read+execute segment.
pub fn elf(code: &[u8]) -> Vec<u8> {
    let total = (HEADERS + code.len()) as u64;
    let mut e = Vec::with_capacity(total as usize);
    e.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"); // 64-bit, LE, SysV
    e.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    e.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    e.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
    e.extend_from_slice(&(BASE + HEADERS as u64).to_le_bytes()); // entry
    e.extend_from_slice(&64u64.to_le_bytes()); // program headers at
    e.extend_from_slice(&0u64.to_le_bytes()); // no section headers
    e.extend_from_slice(&0u32.to_le_bytes()); // flags
    for v in [64u16, 56, 1, 64, 0, 0] {
        // header size, phdr size, phdr count, shdr size, shdr count, shstrndx
        e.extend_from_slice(&v.to_le_bytes());
    }
    e.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    e.extend_from_slice(&5u32.to_le_bytes()); // PF_R | PF_X
    e.extend_from_slice(&0u64.to_le_bytes()); // offset
    e.extend_from_slice(&BASE.to_le_bytes()); // vaddr
    e.extend_from_slice(&BASE.to_le_bytes()); // paddr
    e.extend_from_slice(&total.to_le_bytes()); // filesz
    e.extend_from_slice(&total.to_le_bytes()); // memsz
    e.extend_from_slice(&0x1000u64.to_le_bytes()); // align
    e.extend_from_slice(code);
    e
}

/// The exec program in a memfd, sealed against every change.
pub fn sealed() -> Result<OwnedFd, String> {
    sealed_program("rlxc-exec", &CODE)
}

/// The init supervisor in a memfd, sealed (see [`SUPERVISOR`]).
pub fn supervisor() -> Result<OwnedFd, String> {
    sealed_program("rlxc-init", &SUPERVISOR)
}

fn sealed_program(name: &str, code: &[u8]) -> Result<OwnedFd, String> {
    let name = CString::new(name).expect("no NUL");
    // MFD_EXEC where the kernel knows it (6.3+), so a vm.memfd_noexec
    // default of 1 does not make the memfd non-executable.
    const MFD_EXEC: libc::c_uint = 0x10;
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // SAFETY: memfd_create with a valid name.
    let mut fd = unsafe { libc::memfd_create(name.as_ptr(), flags | MFD_EXEC) };
    if fd < 0 && nix::Error::last() == nix::Error::EINVAL {
        // SAFETY: as above.
        fd = unsafe { libc::memfd_create(name.as_ptr(), flags) };
    }
    if fd < 0 {
        let e = nix::Error::last();
        let hint = if e == nix::Error::EACCES {
            " (vm.memfd_noexec = 2 forbids executable memfds, which rlxc execs the container's init through)"
        } else {
            ""
        };
        return Err(format!("memfd_create: {}{hint}", e.desc()));
    }
    // SAFETY: a new fd, ours.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let bytes = elf(code);
    nix::unistd::write(&fd, &bytes)
        .map_err(|e| format!("writing the exec program: {}", e.desc()))?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: fcntl on our fd.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) } != 0 {
        return Err(format!(
            "sealing the exec program: {}",
            nix::Error::last().desc()
        ));
    }
    Ok(fd)
}

/// The first executable `cmd` on `path` (a command with a `/` as it is), as
/// `execvp` would pick it.
pub fn resolve(cmd: &str, path: Option<&str>) -> Option<String> {
    if cmd.contains('/') {
        return Some(cmd.to_string());
    }
    let path = path.unwrap_or("/usr/local/bin:/usr/bin:/bin");
    path.split(':')
        .map(|d| if d.is_empty() { "." } else { d })
        .map(|d| format!("{d}/{cmd}"))
        .find(|p| {
            let c = CString::new(p.as_str()).ok();
            // SAFETY: access(2) on a NUL-terminated path.
            c.is_some_and(|c| unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0)
                && std::fs::metadata(p).is_ok_and(|m| m.is_file())
        })
}

/// Execs `argv` (already resolved to `path`) through the sealed program,
/// with `report` as its fd 3. Returns only on failure.
pub fn exec(
    program: &OwnedFd,
    report: &OwnedFd,
    path: &str,
    argv: &[String],
    env: &[CString],
) -> String {
    // The program must not sit on fd 3, which the report is about to take.
    // SAFETY: fcntl/dup2 on fds we hold; fd 3 then stays open across this
    // exec only (dup2 onto itself keeps close-on-exec: clear it).
    let moved = unsafe { libc::fcntl(program.as_raw_fd(), libc::F_DUPFD_CLOEXEC, REPORT_FD + 1) };
    let ok = moved >= 0
        && unsafe { libc::dup2(report.as_raw_fd(), REPORT_FD) } >= 0
        && unsafe { libc::fcntl(REPORT_FD, libc::F_SETFD, 0) } == 0;
    if !ok {
        return format!("setting up the report fd: {}", nix::Error::last().desc());
    }
    let args: Result<Vec<CString>, _> = ["rlxc-exec", path]
        .into_iter()
        .map(str::to_string)
        .chain(argv.iter().cloned())
        .map(CString::new)
        .collect();
    let Ok(args) = args else {
        return "an argument contains a NUL byte".into();
    };
    nix::unistd::fexecve(moved, &args, env)
        .unwrap_err()
        .desc()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_program_is_a_minimal_elf() {
        let e = elf(&CODE);
        assert_eq!(&e[..4], b"\x7fELF");
        assert_eq!(e.len(), HEADERS + CODE.len());
        assert_eq!(
            u64::from_le_bytes(e[24..32].try_into().unwrap()),
            BASE + 120
        );
    }

    #[test]
    fn paths_are_searched_as_execvp_does() {
        assert_eq!(resolve("/x/y", None).as_deref(), Some("/x/y"));
        assert_eq!(
            resolve("sh", Some("/nonexistent:/bin")).as_deref(),
            Some("/bin/sh")
        );
        assert_eq!(resolve("no-such-program-rlxc", Some("/bin")), None);
    }

    /// Runs `sh -c` through the program in a child and reads its report.
    fn run(cmd: &str, argv: &[&str]) -> (i32, Option<i32>) {
        let program = sealed().unwrap();
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        // SAFETY: the child only execs or exits.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                exec(&program, &w, cmd, &argv, &[]);
                // SAFETY: leave the child.
                unsafe { libc::_exit(99) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                drop(w);
                let mut buf = [0u8; 4];
                let n = nix::unistd::read(r.as_raw_fd(), &mut buf).unwrap();
                let errno = if n == 4 { decode_errno(buf) } else { None };
                let status = match nix::sys::wait::waitpid(child, None).unwrap() {
                    nix::sys::wait::WaitStatus::Exited(_, c) => c,
                    other => panic!("{other:?}"),
                };
                (status, errno)
            }
        }
    }

    #[test]
    fn it_execs_the_program_or_reports_the_errno() {
        assert_eq!(run("/bin/sh", &["sh", "-c", "exit 7"]), (7, None));
        assert_eq!(run("/no/such/program", &["x"]), (127, Some(libc::ENOENT)));
    }

    #[test]
    fn as_a_scripts_interpreter_it_only_exits() {
        // `#!/proc/self/exe` in a container runs it as [exe, script]: no loop.
        let program = sealed().unwrap();
        let path = format!("/proc/self/fd/{}", program.as_raw_fd());
        let st = std::process::Command::new(&path).arg("/bin/sh").status();
        assert_eq!(st.map(|s| s.code()).ok().flatten(), Some(127));
    }
}
