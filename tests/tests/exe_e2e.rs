//! The host's rlxc binary out of the container's reach (CVE-2019-5736):
//! `execute`'s init is a sealed memfd program, not the host's rlxc, so its
//! `/proc/1/exe` cannot be written even by a container process that may
//! ptrace it; `attach` and the container's first exec go through a sealed
//! program, so the container never gets the host's binary to run as a
//! script's interpreter.

use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use rlxc_tests::Lab;

/// Whether `/proc/PID/exe` is a sealed memfd (or on a read-only mount).
fn exe_protected(pid: i32) -> bool {
    let f = std::fs::File::open(format!("/proc/{pid}/exe")).unwrap();
    // SAFETY: fstatvfs/fcntl on an open fd.
    let (ro, seals) = unsafe {
        let mut st: libc_statvfs::Statvfs = std::mem::zeroed();
        let ro = libc_statvfs::fstatvfs(f.as_raw_fd(), &mut st) == 0 && st.f_flag & 1 != 0;
        (ro, libc_statvfs::fcntl(f.as_raw_fd(), 1034))
    };
    // F_GET_SEALS is 1034, F_SEAL_WRITE 8.
    ro || (seals > 0 && seals & 8 != 0)
}

/// The struct and calls this test needs, without a libc dependency.
mod libc_statvfs {
    #[repr(C)]
    pub struct Statvfs {
        pub f_bsize: u64,
        pub f_frsize: u64,
        pub f_blocks: u64,
        pub f_bfree: u64,
        pub f_bavail: u64,
        pub f_files: u64,
        pub f_ffree: u64,
        pub f_favail: u64,
        pub f_fsid: u64,
        pub f_flag: u64,
        pub f_namemax: u64,
        pub spare: [i32; 6],
    }
    extern "C" {
        pub fn fstatvfs(fd: i32, buf: *mut Statvfs) -> i32;
        pub fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    }
}

fn children(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn wait_for(mut f: impl FnMut() -> Option<i32>) -> i32 {
    let t = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(t.elapsed() < Duration::from_secs(5), "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_host_binary_is_neither_writable_as_init_nor_runnable_through_attach() {
    let Some(lab) = Lab::new() else { return };
    let c = lab.busybox("exero");
    // execute: the monitor's child is the container's init; once the
    // command runs (init's own child), init is the sealed supervisor.
    let mut monitor = lab
        .cmd(&["execute", "-n", &c, "--", "sleep", "1"])
        .spawn()
        .unwrap();
    let mpid = monitor.id() as i32;
    let init = wait_for(|| children(mpid).first().copied());
    // (init execs the supervisor right after forking the command.)
    wait_for(|| exe_protected(init).then_some(0));
    assert!(monitor.wait().unwrap().success());
    // attach: a `#!/proc/self/exe` script in the container names whatever
    // execs it as its interpreter. The host's rlxc must not be that: the
    // sealed exec program is, and it refuses to run as an interpreter.
    lab.ok(&["start", "-n", &c]);
    let trick = lab.rootfs(&c).join("bin/trick");
    std::fs::write(&trick, "#!/proc/self/exe\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&trick, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = lab.run(&["attach", "-n", &c, "--", "/bin/trick"]);
    let err = rlxc_tests::stderr(&o);
    assert_eq!(o.status.code(), Some(127), "{err}");
    assert!(
        !err.contains("Usage") && !err.contains("rlxc"),
        "the host's rlxc ran in the container: {err}"
    );
    lab.ok(&["stop", "-n", &c, "-k"]);
    lab.assert_clean(&c);
}
