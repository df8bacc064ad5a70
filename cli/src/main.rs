//! The `rlxc` binary: the command line with this build's backends.

fn main() {
    rlxc::main_with(rlxc::registry::registry())
}
