//! The `rlxc` command line: `rlxc COMMAND …`, or LXC's `lxc-COMMAND …`
//! through a symlink. Parses arguments, sets up logging, dispatches to the
//! handlers (each: parse → one call of core's `Container` façade → print),
//! and maps errors to exit codes in one place.
//!
//! As a library it lets a downstream crate ship its own `rlxc` with more
//! backends: build a registry ([`registry::registry`] plus its own) and call
//! [`main_with`]. The `rlxc` binary is exactly that with this build's registry.
//!
//! ```no_run
//! let mut registry = rlxc::registry::registry();
//! // registry.add_storage(Arc::new(MyStorage)); registry.add_network(Arc::new(MyNet));
//! rlxc::main_with(registry)
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod aliases;
mod args;
mod cmd;
mod logging;
pub mod registry;

use rlxc_core::registry::Registry;

use clap::{CommandFactory, Parser};

use args::{Cli, Command, Common};
use cmd::{Ctx, Failure};

/// Runs the command line with `registry` as this build's backends; exits
/// with the command's status.
pub fn main_with(registry: Registry) -> ! {
    let argv: Vec<String> = std::env::args().collect();
    let prog = argv
        .first()
        .and_then(|a| a.rsplit('/').next())
        .unwrap_or("rlxc")
        .to_string();
    let argv = aliases::rewrite(argv);
    let cli = match Cli::try_parse_from(&argv) {
        Ok(c) => c,
        Err(e) => {
            // Only on failure: building the command tree again costs startup time.
            if let Some(missing) = unimplemented_command(&argv) {
                eprintln!(
                    "{prog}: `{missing}` is not implemented in rlxc {} yet",
                    rlxc_core::VERSION
                );
                std::process::exit(1);
            }
            e.exit()
        }
    };
    std::process::exit(match run(&cli, registry) {
        Ok(()) => 0,
        Err(e) => report(&prog, &e),
    });
}

/// A known LXC command that this build has no handler for yet.
fn unimplemented_command(argv: &[String]) -> Option<String> {
    let cmd = argv.get(1)?;
    let known = aliases::ALIASES.iter().any(|(_, c)| c == cmd);
    (known && Cli::command().find_subcommand(cmd).is_none()).then(|| cmd.clone())
}

fn common(cmd: &Command) -> Common {
    match cmd {
        Command::Ls(a) => a.common.clone(),
        Command::Create(a) => a.common.clone(),
        Command::Destroy(a) => a.common.clone(),
        Command::Copy(a) => a.common.clone(),
        Command::Clone(a) => a.common(),
        Command::Snapshot(a) => a.common.clone(),
        Command::Backup(a) => a.common.common(),
        Command::Restore(a) => a.common.clone(),
        Command::StartEphemeral(a) => a.common.common(),
        Command::Start(a) => a.common.clone(),
        Command::Execute(a) => a.common.clone(),
        Command::Stop(a) => a.common.clone(),
        Command::Shutdown(a) => a.common.clone(),
        Command::Kill(a) => a.common.clone(),
        Command::Freeze(a) | Command::Unfreeze(a) => a.common.clone(),
        Command::Info(a) => a.common.clone(),
        Command::Wait(a) => a.common.clone(),
        Command::Monitor(a) => a.common.clone(),
        Command::Cgroup(a) => a.common.clone(),
        Command::Ps(a) => a.common.clone(),
        Command::Netstat(a) => a.common.clone(),
        Command::Console(a) => a.common.clone(),
        Command::Attach(a) => a.common.clone(),
        Command::List(a) => a.common.clone(),
        _ => Common::default(),
    }
}

fn run(cli: &Cli, registry: Registry) -> anyhow::Result<()> {
    let c = common(&cli.command);
    logging::init(c.logfile.as_deref(), c.logpriority.as_deref(), c.quiet)?;
    let user = rlxc_core::config::user_dirs::UserDirs::current();
    let system =
        rlxc_core::config::SystemConfig::load_for(&Ctx::system_config_path(user.as_ref()), user)?;
    let ctx = Ctx { system, registry };
    match &cli.command {
        Command::Config(a) => cmd::config::run(a, &ctx),
        Command::UpdateConfig(a) => cmd::update_config::run(a),
        Command::Ls(a) => cmd::ls::run(a, &ctx),
        Command::Create(a) => cmd::create::run_create(a, &ctx),
        Command::Destroy(a) => cmd::create::run_destroy(a, &ctx),
        Command::Copy(a) => cmd::create::run_copy(a, &ctx),
        Command::Clone(a) => cmd::create::run_clone(a, &ctx),
        Command::Snapshot(a) => cmd::snapshot::run(a, &ctx),
        Command::Backup(a) => cmd::backup::backup(a, &ctx),
        Command::Restore(a) => cmd::backup::restore(a, &ctx),
        Command::StartEphemeral(a) => cmd::create::run_start_ephemeral(a, &ctx),
        Command::Start(a) => cmd::run::start(a, &ctx),
        Command::Execute(a) => cmd::run::execute(a, &ctx),
        Command::Stop(a) => cmd::control::stop(a, &ctx),
        Command::Shutdown(a) => cmd::control::shutdown(a, &ctx),
        Command::Kill(a) => cmd::control::kill(a, &ctx),
        Command::Freeze(a) => cmd::control::freeze(a, &ctx, true),
        Command::Unfreeze(a) => cmd::control::freeze(a, &ctx, false),
        Command::Info(a) => cmd::info::info(a, &ctx),
        Command::Wait(a) => cmd::control::wait(a, &ctx),
        Command::Monitor(a) => cmd::monitor::run(a, &ctx),
        Command::Cgroup(a) => cmd::info::cgroup(a, &ctx),
        Command::Ps(a) => cmd::info::ps(a, &ctx),
        Command::Console(a) => cmd::console::run(a, &ctx),
        Command::Attach(a) => cmd::attach::run(a, &ctx),
        Command::List(a) => cmd::info::list(a, &ctx),
        Command::Checkconfig(a) => cmd::checkconfig::run(a),
        Command::Unshare(a) => cmd::unshare::run(a),
        Command::Net(a) => cmd::net::run(a, &ctx),
        Command::Cache(a) => cmd::cache::run(a, &ctx),
        Command::Netstat(a) => cmd::info::netstat(a, &ctx),
        Command::Version => cmd::version::run(),
        Command::Backends(a) => cmd::checkconfig::backends(a, &ctx),
        Command::InstallLinks(a) => cmd::install_links::run(a, &ctx),
        Command::TemplateScript(a) => cmd::template_script::run(a, &ctx),
        Command::Usernsexec(a) => cmd::usernsexec::run(a),
        Command::UnprivStart(a) => cmd::unpriv::run("start", a),
        Command::UnprivAttach(a) => cmd::unpriv::run("attach", a),
    }
}

/// Prints the error and returns the exit code: the one a [`Failure`] carries, 1 otherwise.
fn report(prog: &str, e: &anyhow::Error) -> i32 {
    if let Some(f) = e.downcast_ref::<Failure>() {
        if let Some(m) = &f.message {
            eprintln!("{prog}: {m}");
            logging::error_to_file(m);
        }
        return f.code;
    }
    let m = message(e);
    eprintln!("{prog}: {m}");
    logging::error_to_file(&m);
    1
}

/// The error and its causes, leaving out a cause whose text the message
/// already contains (our errors usually embed their source).
fn message(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}
