use super::*;

/// Debian's `liblxc-common` `/usr/share/lxc/config/common.seccomp`, as shipped.
pub const COMMON_SECCOMP: &str = "2
denylist
reject_force_umount  # comment this to allow umount -f;  not recommended
[all]
kexec_load errno 1
open_by_handle_at errno 1
init_module errno 1
finit_module errno 1
delete_module errno 1
";

fn parse(t: &str) -> Result<Policy, PolicyError> {
    Policy::parse(t, "/p")
}

#[test]
fn lxcs_common_seccomp_parses() {
    let p = parse(COMMON_SECCOMP).unwrap();
    assert_eq!(p.default, Action::Allow);
    assert_eq!(p.rules.len(), 6);
    let force = &p.rules[0];
    assert_eq!(force.syscall, Syscall::Name("umount2".into()));
    assert_eq!(force.action, Action::Errno(13));
    assert_eq!(force.args[0].op, CmpOp::MaskedEq);
    assert!(p.rules[1..].iter().all(|r| r.action == Action::Errno(1)));
    assert_eq!(p.rules[1].line, 5);
    // The host's own copy, when liblxc-common is installed, reads the same.
    if let Ok(text) = std::fs::read_to_string("/usr/share/lxc/config/common.seccomp") {
        assert_eq!(parse(&text).unwrap().rules.len(), 6);
    }
}

#[test]
fn defaults_follow_the_policy_style_as_in_lxc() {
    let p = parse("2\nallowlist\nread\nwrite errno 5\n").unwrap();
    assert_eq!(p.default, Action::Kill);
    assert_eq!(p.rules[0].action, Action::Allow);
    assert_eq!(p.rules[1].action, Action::Errno(5));
    let p = parse("2\nblacklist errno 38\nmount\n").unwrap();
    assert_eq!(p.default, Action::Errno(38));
    assert_eq!(
        p.rules[0].action,
        Action::Kill,
        "a denylist rule kills by default"
    );
    let p = parse("2\nwhitelist trap\n").unwrap();
    assert_eq!(p.default, Action::Trap);
}

#[test]
fn version_1_is_an_allowlist_of_numbers() {
    let p = parse("1\nallowlist\n0\n1\n# comment\n60\n").unwrap();
    assert_eq!(p.default, Action::Kill);
    let nrs: Vec<_> = p.rules.iter().map(|r| r.syscall.clone()).collect();
    assert_eq!(
        nrs,
        vec![Syscall::Number(0), Syscall::Number(1), Syscall::Number(60)]
    );
    let e = parse("1\ndenylist\n0\n").unwrap_err().to_string();
    assert_eq!(
        e,
        "seccomp policy /p line 2: version 1 policies are allowlists only"
    );
    let e = parse("1\nallowlist\nread\n").unwrap_err().to_string();
    assert_eq!(
        e,
        "seccomp policy /p line 3: `read` is not a syscall number"
    );
}

#[test]
fn sections_pick_abis_and_foreign_ones_are_skipped() {
    let p = parse(
        "2\ndenylist\nfoo\n[x86_64]\nbar\n[X86]\nbaz\n[x32]\nqux\n[arm64]\nonly_arm\n[ALL]\nall\n",
    )
    .unwrap();
    let arches: Vec<_> = p.rules.iter().map(|r| r.arch).collect();
    assert_eq!(
        arches,
        vec![
            ArchSel::All,
            ArchSel::X86_64,
            ArchSel::I386,
            ArchSel::X32,
            ArchSel::All
        ]
    );
    let e = parse("2\ndenylist\n[vax]\n").unwrap_err().to_string();
    assert_eq!(
        e,
        "seccomp policy /p line 3: unknown architecture section `[vax]`"
    );
}

#[test]
fn argument_filters_in_both_spellings() {
    let p = parse(
        "2\ndenylist\nclone errno 1 [0,0x10000000,SCMP_CMP_MASKED_EQ,0x10000000]\n\
         socket errno 97 [0,16,==] [1, 3 ,!=]\nwrite [0,2,>=]\n",
    )
    .unwrap();
    let c = p.rules[0].args[0];
    assert_eq!(
        (c.index, c.op, c.value, c.mask),
        (0, CmpOp::MaskedEq, 0x1000_0000, 0x1000_0000)
    );
    assert_eq!(p.rules[1].args.len(), 2);
    assert_eq!(p.rules[1].args[1].op, CmpOp::Ne);
    assert_eq!(p.rules[1].args[1].value, 3);
    assert_eq!(p.rules[2].action, Action::Kill);
    assert_eq!(p.rules[2].args[0].op, CmpOp::Ge);
}

#[test]
fn bad_lines_are_named() {
    for (text, want) in [
        ("3\ndenylist\n", "line 1: version `3` is not 1 or 2"),
        (
            "2\nmaybelist\n",
            "line 2: policy style `maybelist` is not denylist or allowlist",
        ),
        ("2\ndenylist debug\n", "line 2: `debug` is not supported"),
        (
            "2\ndenylist\nmount errno\n",
            "line 3: `errno` needs a number",
        ),
        (
            "2\ndenylist\nmount errno 99999\n",
            "line 3: `errno 99999` is not an errno number",
        ),
        (
            "2\ndenylist\nmount explode\n",
            "line 3: unknown action `explode`",
        ),
        (
            "2\ndenylist\nmount kill now\n",
            "line 3: unexpected `now` after the action",
        ),
        (
            "2\ndenylist\nmount kill [6,0,==]\n",
            "line 3: argument index `6` is not 0-5",
        ),
        (
            "2\ndenylist\nmount kill [0,0,~]\n",
            "line 3: unknown comparison `~`",
        ),
        (
            "2\ndenylist\nmount kill [0,zero,==]\n",
            "line 3: `[0,zero,==]` is not",
        ),
        (
            "2\ndenylist\nmo/unt\n",
            "line 3: `mo/unt` is not a syscall name",
        ),
        ("2\n", "needs a version line and a policy-style line"),
    ] {
        let e = parse(text).unwrap_err().to_string();
        assert!(e.contains(want), "{text:?}: {e}");
        assert!(e.starts_with("seccomp policy /p"), "{e}");
    }
}
