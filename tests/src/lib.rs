//! Helpers for rlxc's end-to-end tests, which drive the built `rlxc` binary.
//!
//! The binary is found next to the test executable (`target/<profile>/rlxc`)
//! or through `RLXC_BIN`; build it first (`./run test` does). Tests that need
//! root check for it and fail, not skip, when `RLXC_REQUIRE_ROOT=1` (CI).
#![allow(clippy::print_stderr)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The `rlxc` binary under test.
pub fn rlxc_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("RLXC_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/test-xxxx → target/<profile>/rlxc
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|p| p.join("rlxc"))
        .expect("target directory");
    assert!(
        bin.exists(),
        "{} does not exist: build it first with `cargo build -p rlxc` (or set RLXC_BIN)",
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
