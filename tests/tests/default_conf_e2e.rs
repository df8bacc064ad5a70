//! The default config this repository ships (`etc/lxc/default.conf`) is valid
//! and asks for a veth on lxcbr0, as Debian's does.

use rlxc_tests::{rlxc, stderr, stdout};

#[test]
fn the_shipped_default_config_is_debians_nic_on_lxcbr0() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../etc/lxc/default.conf");
    let o = rlxc(&["config", "check", file]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let text = std::fs::read_to_string(file).unwrap();
    for line in [
        "lxc.net.0.type = veth",
        "lxc.net.0.link = lxcbr0",
        "lxc.net.0.flags = up",
    ] {
        assert!(text.contains(line), "{line}");
    }
}
