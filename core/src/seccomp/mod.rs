//! Seccomp for containers: LXC's policy language ([`policy`]), compiled by
//! rlxc itself to a classic-BPF filter ([`compile`]) for the three x86 ABIs,
//! cached by policy text ([`cache`]), and loaded in the container's first
//! process and every attached one ([`load`]).
//!
//! Why not libseccomp or `seccompiler`: libseccomp is a C library (a build
//! and link dependency for every distributor's static build), and
//! `seccompiler` takes its own JSON format and knows no x32/i386 sections,
//! no `notify` and no LXC syntax; LXC's language maps onto a few dozen lines
//! of BPF, which the unit tests run in an interpreter.
//!
//! `notify` rules: init's filter, and an attached process's, is loaded with
//! a listener handed to the monitor, which forwards each call to
//! `lxc.seccomp.notify.proxy` in LXC's message format ([`notify`]).
//!
//! With no `lxc.seccomp.profile`, rlxc loads [`DEFAULT_POLICY`], a deny list
//! like LXC's `common.seccomp` and wider. A policy that denies nothing
//! (`2` / `denylist` and no rules) loads no filter at all: that is how a
//! config opts out, in a file LXC reads the same way. Filters always stack on one the caller already has (tighter
//! than LXC, which skips its own unless `lxc.seccomp.allow_nesting`).

pub mod cache;
pub mod compile;
pub mod load;
pub mod notify;
pub mod policy;
mod syscalls_x86;

use std::path::{Path, PathBuf};

pub use compile::{Filter, Insn};
pub use policy::{Action, Policy, PolicyError};

/// rlxc's policy for a config without `lxc.seccomp.profile`: what LXC's
/// `common.seccomp` denies (module loading, kexec, `open_by_handle_at`, a
/// forced umount), plus the kernel keyring, swap and the kernel log.
pub const DEFAULT_POLICY: &str = "2
denylist
reject_force_umount
[all]
kexec_load errno 1
kexec_file_load errno 1
open_by_handle_at errno 1
init_module errno 1
finit_module errno 1
delete_module errno 1
keyctl errno 1
add_key errno 1
request_key errno 1
swapon errno 1
swapoff errno 1
syslog errno 1
";

/// Where a loaded filter came from, for messages.
pub const DEFAULT_SOURCE: &str = "rlxc's default seccomp deny list";

/// A filter ready to load, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seccomp {
    /// The policy file, or [`DEFAULT_SOURCE`].
    pub source: String,
    /// The program.
    pub filter: Filter,
}

impl Seccomp {
    /// Loads the filter into the calling process; with `notify` rules, returns
    /// the listener fd whose notifications the monitor answers.
    pub fn load(&self) -> Result<Option<std::os::fd::OwnedFd>, String> {
        load::load(&self.filter.insns, &self.source, self.filter.notify)
    }

    /// Loads the filter without a listener (an attached process whose
    /// monitor cannot take one): a `notify` call there fails with ENOSYS.
    pub fn load_unsupervised(&self) -> Result<(), String> {
        load::load(&self.filter.insns, &self.source, false).map(|_| ())
    }
}

/// The filter `lxc.seccomp.profile` asks for: the default deny list when the
/// key is absent; `None` for a policy that denies nothing. Compiled programs of a
/// file are cached in `cache_dir` by the file's text.
pub fn for_config(
    profile: Option<&str>,
    cache_dir: Option<&Path>,
) -> Result<Option<Seccomp>, PolicyError> {
    let (source, text) = match profile {
        None => (DEFAULT_SOURCE.to_string(), DEFAULT_POLICY.to_string()),
        Some(path) => {
            let p = PathBuf::from(path);
            let text = std::fs::read_to_string(&p).map_err(|e| PolicyError {
                file: path.to_string(),
                line: None,
                why: format!("cannot be read: {e}"),
            })?;
            (path.to_string(), text)
        }
    };
    // The built-in list compiles in microseconds: only files are cached.
    let cache_dir = cache_dir.filter(|_| profile.is_some());
    let filter = match cache_dir.and_then(|d| cache::lookup(d, &text)) {
        Some(f) => f,
        None => {
            let f = compile_checked(&text, &source)?;
            if let Some(d) = cache_dir {
                // A cache that cannot be written only costs the next start a compile.
                let _ = cache::store(d, &text, &f);
            }
            f
        }
    };
    Ok((!filter.insns.is_empty()).then_some(Seccomp { source, filter }))
}

/// Parses and compiles `text`. A `notify` rule sends the call to the
/// monitor, which forwards it to `lxc.seccomp.notify.proxy` (or answers
/// ENOSYS without one); as the default action it is refused, since every call
/// of init would then wait on the monitor.
pub fn compile_checked(text: &str, source: &str) -> Result<Filter, PolicyError> {
    let policy = Policy::parse(text, source)?;
    if policy.default == Action::Notify {
        return Err(PolicyError {
            file: source.to_string(),
            line: Some(2),
            why: "a default action of `notify` needs a seccomp notification proxy, which rlxc does not have yet".into(),
        });
    }
    Ok(compile::compile(&policy))
}
