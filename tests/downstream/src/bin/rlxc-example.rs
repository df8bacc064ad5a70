//! rlxc with this crate's backends added: the whole command line, the
//! workspace's backends, and `journal` storage and networking.

fn main() {
    let mut registry = rlxc::registry::registry();
    rlxc_example_backends::register(&mut registry);
    rlxc::main_with(registry)
}
