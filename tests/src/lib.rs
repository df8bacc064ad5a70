//! Helpers for rlxc's end-to-end tests, which drive the built `rlxc` binary.
//!
//! The binary is found next to the test executable (`target/<profile>/rlxc`)
//! or through `RLXC_BIN`; build it first (`./run test` does). Tests that need
//! root check for it and fail, not skip, when `RLXC_REQUIRE_ROOT=1` (CI).
#![allow(clippy::print_stderr)]

pub mod netns;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `rlxc` binary under test.
pub fn rlxc_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("RLXC_BIN") {
        return PathBuf::from(p);
    }
    built_bin("rlxc", "rlxc")
}

/// A binary of the workspace, next to the test executable
/// (`target/<profile>/NAME`); `package` says what to build when it is missing.
pub fn built_bin(name: &str, package: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/test-xxxx → target/<profile>/NAME
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|p| p.join(name))
        .expect("target directory");
    assert!(
        bin.exists(),
        "{} does not exist: build it first with `cargo build -p {package}`",
        bin.display()
    );
    bin
}

/// Runs `rlxc ARGS`.
pub fn rlxc(args: &[&str]) -> Output {
    run(Command::new(rlxc_bin()).args(args))
}

/// Runs a prepared command and returns its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.env_remove("RUST_LOG")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Whether this process is root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc_geteuid() == 0 }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}

/// Sends signal `sig` to process `pid` (a test's own child or a container's).
pub fn kill(pid: i32, sig: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc_kill(pid, sig) };
}

/// The parent of process `pid` (a container init's monitor).
pub fn parent_of(pid: i32) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    stat.rsplit(')')
        .next()
        .and_then(|r| r.split_whitespace().nth(1))
        .and_then(|p| p.parse().ok())
        .expect("ppid")
}

/// Whether `done` holds within `secs` seconds (polled every 50 ms, and
/// once more at the end).
pub fn within(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < end {
        if done() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    done()
}

/// Asserts a root-only prerequisite: in CI (`RLXC_REQUIRE_ROOT=1`) a missing
/// prerequisite fails the test; elsewhere the test is skipped with a message.
pub fn require(cond: bool, what: &str) -> bool {
    if cond {
        return true;
    }
    if std::env::var("RLXC_REQUIRE_ROOT").as_deref() == Ok("1") {
        panic!("prerequisite missing: {what}");
    }
    eprintln!("skipped: {what}");
    false
}

/// A temporary lxcpath, runtime directory and system config for tests that
/// run containers. Every `rlxc` it runs is wrapped in
/// `unshare --mount --propagation private`, so whatever a command mounts
/// stays out of the test host's mount table. Containers left running are
/// stopped and destroyed on drop.
#[derive(Debug)]
pub struct Lab {
    dir: tempfile::TempDir,
    /// The lxcpath (`-P`).
    pub lxcpath: String,
    sys: PathBuf,
    /// The runtime directory (`RLXC_RUNDIR`).
    pub rundir: PathBuf,
}

impl Lab {
    /// A lab, or `None` (skipped) when not root or busybox is missing;
    /// with `RLXC_REQUIRE_ROOT=1` those fail the test instead.
    pub fn new() -> Option<Lab> {
        let busybox = std::path::Path::new("/bin/busybox").exists();
        if !require(is_root(), "root") || !require(busybox, "busybox (busybox-static)") {
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let lxcpath = dir.path().join("lxc");
        std::fs::create_dir_all(&lxcpath).expect("lxcpath");
        let default = dir.path().join("default.conf");
        std::fs::write(&default, "lxc.net.0.type = empty\n").expect("default.conf");
        let sys = dir.path().join("lxc.conf");
        std::fs::write(
            &sys,
            format!("lxc.default_config = {}\n", default.display()),
        )
        .expect("lxc.conf");
        Some(Lab {
            lxcpath: lxcpath.to_string_lossy().into_owned(),
            rundir: dir.path().join("run"),
            sys,
            dir,
        })
    }

    /// A container name unique to this test process (cgroup paths are global).
    pub fn name(&self, n: &str) -> String {
        format!("t{}-{n}", std::process::id())
    }

    /// The temporary directory.
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// `rlxc CMD -P LXCPATH ARGS…` in a private mount namespace.
    pub fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_of(&rlxc_bin(), args)
    }

    /// [`Lab::cmd`] with another build of the command line (a downstream one).
    pub fn cmd_of(&self, bin: &std::path::Path, args: &[&str]) -> Command {
        self.cmd_under(&[], bin, args)
    }

    /// [`Lab::cmd_of`] run by `wrapper` (a command and its arguments, such as
    /// `setpriv …`), which execs the rest.
    pub fn cmd_under(&self, wrapper: &[&str], bin: &std::path::Path, args: &[&str]) -> Command {
        let mut c = Command::new(wrapper.first().copied().unwrap_or("unshare"));
        if !wrapper.is_empty() {
            c.args(&wrapper[1..]).arg("unshare");
        }
        c.args(["--mount", "--propagation", "private", "--"])
            .arg(bin)
            .args(&args[..1])
            .args(["-P", &self.lxcpath])
            .args(&args[1..]);
        self.env(&mut c);
        c
    }

    /// [`Lab::cmd`] with another lxcpath (a symlink to this lab's, say).
    pub fn cmd_at(&self, lxcpath: &std::path::Path, args: &[&str]) -> Command {
        let mut c = Command::new("unshare");
        c.args(["--mount", "--propagation", "private", "--"])
            .arg(rlxc_bin())
            .args(&args[..1])
            .arg("-P")
            .arg(lxcpath)
            .args(&args[1..]);
        self.env(&mut c);
        c
    }

    /// `rlxc …` without the mount namespace wrapper.
    pub fn cmd_host(&self, args: &[&str]) -> Command {
        let mut c = Command::new(rlxc_bin());
        c.args(&args[..1])
            .args(["-P", &self.lxcpath])
            .args(&args[1..]);
        self.env(&mut c);
        c
    }

    fn env(&self, c: &mut Command) {
        c.env("RLXC_SYSTEM_CONFIG", &self.sys)
            .env("RLXC_RUNDIR", &self.rundir)
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::null());
    }

    /// Runs a command and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        run(&mut self.cmd(args))
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "rlxc {args:?} failed ({}): {}{}",
            o.status,
            stdout(&o),
            stderr(&o)
        );
        stdout(&o)
    }

    /// Runs `sh -c script` attached to running container `name`; it must
    /// succeed; returns its stdout.
    pub fn attach_sh(&self, name: &str, script: &str) -> String {
        self.ok(&["attach", "-n", name, "--", "sh", "-c", script])
    }

    /// Runs a command that must fail with `code`; returns its stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let o = self.run(args);
        assert_eq!(
            o.status.code(),
            Some(code),
            "rlxc {args:?}: {}{}",
            stdout(&o),
            stderr(&o)
        );
        stderr(&o)
    }

    /// Creates a busybox container; returns its name.
    pub fn busybox(&self, n: &str) -> String {
        let name = self.name(n);
        self.ok(&["create", "-n", &name, "-t", "busybox"]);
        name
    }

    /// The container's rootfs.
    pub fn rootfs(&self, name: &str) -> PathBuf {
        PathBuf::from(&self.lxcpath).join(name).join("rootfs")
    }

    /// Appends lines to a container's config.
    pub fn configure(&self, name: &str, lines: &str) {
        use std::io::Write;
        let p = PathBuf::from(&self.lxcpath).join(name).join("config");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(p)
            .expect("config");
        f.write_all(lines.as_bytes()).expect("append");
    }

    /// `info -s` state word.
    pub fn state(&self, name: &str) -> String {
        let out = self.ok(&["info", "-n", name, "-s"]);
        out.split_whitespace().nth(1).unwrap_or("").to_string()
    }

    /// Init's pid from `info -p`.
    pub fn pid(&self, name: &str) -> i32 {
        let out = self.ok(&["info", "-n", name, "-p"]);
        out.split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .expect("pid")
    }

    /// Every cgroup directory of container `name` that exists on the host.
    pub fn cgroup_dirs(name: &str) -> Vec<PathBuf> {
        let leaf = format!("rlxc.payload.{name}");
        std::fs::read_dir("/sys/fs/cgroup")
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path().join(&leaf))
                    .chain(std::iter::once(PathBuf::from("/sys/fs/cgroup").join(&leaf)))
                    .filter(|p| p.exists())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts the container left nothing behind: no cgroup, no run directory.
    pub fn assert_clean(&self, name: &str) {
        assert_eq!(
            Self::cgroup_dirs(name),
            Vec::<PathBuf>::new(),
            "cgroups of {name} left behind"
        );
        let left: Vec<_> = std::fs::read_dir(&self.rundir)
            .map(|rd| {
                rd.flatten()
                    .flat_map(|lp| std::fs::read_dir(lp.path()).into_iter().flatten().flatten())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            !left.contains(&name.to_string()),
            "run directory of {name} left behind: {left:?}"
        );
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        assert!(
            !mounts.contains(&self.lxcpath),
            "a mount under {} is left in the host's mount table",
            self.lxcpath
        );
    }
}

impl Lab {
    /// Destroys (`-f -s`) every container at `lxcpath`.
    pub fn destroy_all_at(&self, lxcpath: &Path) {
        let Ok(rd) = std::fs::read_dir(lxcpath) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().join("config").exists() {
                let _ = self
                    .cmd_at(lxcpath, &["destroy", "-n", &name, "-f", "-s"])
                    .output();
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.destroy_all_at(Path::new(&self.lxcpath));
    }
}

/// Destroys the containers of another lxcpath of a lab when dropped (a
/// test that failed midway): declared after what that lxcpath lives on
/// (a loop-mounted filesystem), so it goes first.
#[derive(Debug)]
pub struct SweepAt<'a>(pub &'a Lab, pub PathBuf);

impl Drop for SweepAt<'_> {
    fn drop(&mut self) {
        self.0.destroy_all_at(&self.1);
    }
}

/// A btrfs image mounted at `mnt`, unmounted (and its loop device freed)
/// on drop, also when the test fails.
#[derive(Debug)]
pub struct LoopBtrfs {
    /// Where it is mounted.
    pub mnt: PathBuf,
}

impl LoopBtrfs {
    /// A `size` (`256M`) image in `dir`, mounted at `dir/btrfs`; `None`
    /// (skipped) without mkfs.btrfs.
    pub fn new(dir: &Path, size: &str) -> Option<LoopBtrfs> {
        let img = dir.join("btrfs.img");
        let mnt = dir.join("btrfs");
        std::fs::create_dir_all(&mnt).unwrap();
        let made = run(Command::new("truncate").args(["-s", size]).arg(&img))
            .status
            .success()
            && run(Command::new("mkfs.btrfs").arg("-q").arg(&img))
                .status
                .success();
        if !require(made, "mkfs.btrfs (btrfs-progs)") {
            return None;
        }
        let o = run(Command::new("mount")
            .args(["-o", "loop"])
            .arg(&img)
            .arg(&mnt));
        assert!(o.status.success(), "mount -o loop: {}", stderr(&o));
        Some(LoopBtrfs { mnt })
    }
}

impl Drop for LoopBtrfs {
    fn drop(&mut self) {
        let _ = run(Command::new("umount").arg(&self.mnt));
    }
}

/// A user made for the test, removed with its home and ranges on drop.
#[derive(Debug)]
pub struct TestUser {
    /// Login name.
    pub name: String,
    /// Its uid.
    pub uid: u32,
    /// The first id of its first subordinate range.
    pub sub: u32,
    /// A copy of the binary under test the user can run (the checkout may
    /// be in a directory only root reaches).
    pub bin: PathBuf,
}

impl TestUser {
    /// A new user `rlxc<tag><pid>` with a home and subordinate ranges.
    pub fn new(tag: &str) -> Option<TestUser> {
        let name = format!("rlxc{tag}{}", std::process::id());
        let sub = 300_000 + (std::process::id() % 1000) * 70_000;
        let o = run(Command::new("useradd").args(["-m", "-s", "/bin/sh", &name]));
        assert!(o.status.success(), "useradd: {}", stderr(&o));
        let range = format!("{sub}-{}", sub + 65_535);
        let o = run(Command::new("usermod").args([
            "--add-subuids",
            &range,
            "--add-subgids",
            &range,
            &name,
        ]));
        assert!(o.status.success(), "usermod: {}", stderr(&o));
        let uid = stdout(&run(Command::new("id").args(["-u", &name])))
            .trim()
            .parse()
            .ok()?;
        // The defaults take the user's first range: useradd may have
        // granted one before ours.
        let first = std::fs::read_to_string("/etc/subuid")
            .unwrap()
            .lines()
            .find_map(|l| {
                l.strip_prefix(&format!("{name}:"))?
                    .split(':')
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or(sub);
        let dir = std::env::temp_dir().join(format!("rlxc-bin-{name}"));
        std::fs::create_dir_all(&dir).ok()?;
        let bin = dir.join("rlxc");
        std::fs::copy(rlxc_bin(), &bin).ok()?;
        for p in [&dir, &bin] {
            std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .ok()?;
        }
        Some(TestUser {
            name,
            uid,
            sub: first,
            bin,
        })
    }

    /// `rlxc ARGS` as this user (its own environment: HOME, no
    /// XDG_RUNTIME_DIR unless `env` gives one), in its home.
    pub fn rlxc(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        self.rlxc_in(None, env, args)
    }

    /// [`TestUser::rlxc`] in the network namespace `netns` (a test's
    /// [`netns::HostNs`]) when one is given.
    pub fn rlxc_in(&self, netns: Option<&str>, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut c = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "runuser"]);
                c
            }
            None => Command::new("runuser"),
        };
        c.args(["-u", &self.name, "--", "env", "-i"])
            .arg(format!("HOME=/home/{}", self.name))
            .arg("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
        for (k, v) in env {
            c.arg(format!("{k}={v}"));
        }
        c.arg(&self.bin)
            .args(args)
            .current_dir(format!("/home/{}", self.name));
        run(&mut c)
    }

    /// A user for a container test: made when this runs as root with
    /// busybox and newuidmap (else the test is skipped, or fails under
    /// `RLXC_REQUIRE_ROOT=1`), with `default` as its `default.conf` (see
    /// [`TestUser::default_conf`]).
    pub fn for_containers(tag: &str, default: &str) -> Option<TestUser> {
        let have = is_root()
            && std::path::Path::new("/bin/busybox").exists()
            && std::path::Path::new("/usr/bin/newuidmap").exists();
        if !require(
            have,
            "root (to make a user), busybox and newuidmap (uidmap)",
        ) {
            return None;
        }
        let u = TestUser::new(tag)?;
        u.default_conf(default);
        Some(u)
    }

    /// Writes the user's `~/.config/lxc/default.conf`: `lines`, then
    /// `lxc.idmap` of its first subordinate range (65536 ids from 0).
    pub fn default_conf(&self, lines: &str) {
        let home = PathBuf::from(format!("/home/{}", self.name));
        let cfg = home.join(".config/lxc");
        std::fs::create_dir_all(&cfg).unwrap();
        std::fs::write(
            cfg.join("default.conf"),
            format!(
                "{lines}lxc.idmap = u 0 {s} 65536\nlxc.idmap = g 0 {s} 65536\n",
                s = self.sub
            ),
        )
        .unwrap();
        for d in [home.join(".config"), cfg] {
            std::os::unix::fs::chown(&d, Some(self.uid), Some(self.uid)).unwrap();
        }
    }

    /// `rlxc usernsexec ARGS` as this user, in `dir`.
    pub fn exec(&self, dir: &Path, args: &[&str]) -> std::process::Output {
        run(Command::new("runuser")
            .args(["-u", &self.name, "--"])
            .arg(&self.bin)
            .arg("usernsexec")
            .args(args)
            .current_dir(dir))
    }
}

impl Drop for TestUser {
    fn drop(&mut self) {
        if let Some(d) = self.bin.parent() {
            let _ = std::fs::remove_dir_all(d);
        }
        // A failed test may leave the user's processes (a monitor) behind,
        // which userdel refuses to remove the user under.
        let _ = run(Command::new("pkill").args(["-9", "-u", &self.name]));
        std::thread::sleep(std::time::Duration::from_millis(100));
        let _ = run(Command::new("userdel").args(["-r", &self.name]));
    }
}
