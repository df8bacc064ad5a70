//! `rlxc monitor [-n REGEX]` (lxc-monitor): prints every state change of the
//! matching containers of an lxcpath until interrupted.

use rlxc_core::container::state::State;

use super::control::Listener;
use super::Ctx;
use crate::args::control::MonitorArgs;
use crate::args::Format;

/// Runs until killed.
pub fn run(a: &MonitorArgs, ctx: &Ctx) -> anyhow::Result<()> {
    let re = regex::Regex::new(&format!("^(?:{})$", a.name))
        .map_err(|e| anyhow::anyhow!("-n `{}` is not a regular expression: {e}", a.name))?;
    let paths = ctx.paths(a.common.lxcpath.as_deref());
    let listener = Listener::bind(&paths.run_root())?;
    loop {
        let Some(e) = listener.next(None)? else {
            continue;
        };
        if !re.is_match(&e.name) {
            continue;
        }
        match a.format {
            Format::Json => println!("{}", serde_json::json!({"name": e.name, "state": e.state})),
            Format::Human => println!("'{}' changed state to [{}]", e.name, State::as_str(e.state)),
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
}
