//! `rlxc-user-nic` (LXC's `lxc-user-nic`): installed set-user-id root, it
//! gives a user's own container a veth on a bridge within the quota of
//! `/etc/lxc/lxc-usernet`. A small binary of its own: the rest of rlxc is
//! never set-user-id. Its checks are in `rlxc_core::usernic`.
//!
//! `rlxc-user-nic create LXCPATH NAME PID veth BRIDGE NICNAME` prints
//! `NICNAME:HOSTNIC` and exits 0, or says why not and exits 1.

// Its answer and its errors are its interface.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;

use rlxc_core::usernic::{self, book, Caller};

fn run(args: &[String]) -> Result<String, String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("not set-user-id root: install it owned by root with mode 4755".into());
    }
    let req = usernic::parse_args(args)?;
    let caller = Caller::current()?;
    let usernet = usernic::trusted_file(Path::new(usernic::USERNET))?;
    usernic::create(
        &rlxc_core::sys::RealSys,
        &req,
        &caller,
        &usernet,
        Path::new(book::BOOK),
    )
}

fn main() {
    // Nothing of the caller's environment steers a set-user-id program.
    let vars: Vec<_> = std::env::vars_os().map(|(k, _)| k).collect();
    for k in vars {
        std::env::remove_var(k);
    }
    // SAFETY: umask only sets this process's file creation mask.
    unsafe { libc::umask(0o077) };
    // Nor do the caller's limits: a file size limit would fail the book's
    // write half-way (the book is replaced whole, but the NIC would go).
    let unlimited = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: setrlimit reads our struct.
    unsafe { libc::setrlimit(libc::RLIMIT_FSIZE, &unlimited) };
    let args: Result<Vec<String>, _> = std::env::args_os()
        .skip(1)
        .map(|a| a.into_string())
        .collect();
    let out = match args {
        Ok(a) => run(&a),
        Err(_) => Err("an argument is not UTF-8".into()),
    };
    match out {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("rlxc-user-nic: {e}");
            std::process::exit(1);
        }
    }
}
