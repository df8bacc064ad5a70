use super::*;
use crate::seccomp::policy::Policy;

/// Runs a filter on one call as the kernel would; `None` for a program the
/// kernel's checker would refuse (a jump out of it, an unknown opcode).
fn run(p: &[Insn], arch: u32, nr: u32, args: [u64; 6]) -> Option<u32> {
    let mut data = [0u8; 64];
    data[0..4].copy_from_slice(&nr.to_ne_bytes());
    data[4..8].copy_from_slice(&arch.to_ne_bytes());
    for (i, a) in args.iter().enumerate() {
        data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
    }
    let (mut a, mut pc) = (0u32, 0usize);
    loop {
        let i = p.get(pc)?;
        pc += 1;
        let cond = |c: bool| if c { i.jt } else { i.jf } as usize;
        match i.code {
            LD_ABS => {
                let o = i.k as usize;
                a = u32::from_ne_bytes(data.get(o..o + 4)?.try_into().ok()?);
            }
            AND_K => a &= i.k,
            JA => pc += i.k as usize,
            JEQ => pc += cond(a == i.k),
            JGT => pc += cond(a > i.k),
            JGE => pc += cond(a >= i.k),
            RET => return Some(i.k),
            _ => return None,
        }
    }
}

fn filter(text: &str) -> Filter {
    compile(&Policy::parse(text, "t").unwrap())
}

const ALLOW: u32 = 0x7fff_0000;
const EPERM: u32 = 0x0005_0001;
const KILL: u32 = 0x8000_0000;

#[test]
fn a_denied_call_is_denied_on_every_abi() {
    let f = filter(crate::seccomp::DEFAULT_POLICY);
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    let p = &f.insns;
    // kexec_load: 246 on x86_64, 283 on i386, 528 | X32 bit on x32.
    assert_eq!(run(p, ARCH_X86_64, 246, [0; 6]), Some(EPERM));
    assert_eq!(run(p, ARCH_I386, 283, [0; 6]), Some(EPERM));
    assert_eq!(run(p, ARCH_X86_64, X32_BIT | 528, [0; 6]), Some(EPERM));
    // keyctl (250 / 288 / 250 | bit).
    assert_eq!(run(p, ARCH_X86_64, 250, [0; 6]), Some(EPERM));
    assert_eq!(run(p, ARCH_I386, 288, [0; 6]), Some(EPERM));
    assert_eq!(run(p, ARCH_X86_64, X32_BIT | 250, [0; 6]), Some(EPERM));
    // read is allowed everywhere; an arch this kernel does not run is killed.
    assert_eq!(run(p, ARCH_X86_64, 0, [0; 6]), Some(ALLOW));
    assert_eq!(run(p, ARCH_I386, 3, [0; 6]), Some(ALLOW));
    assert_eq!(run(p, ARCH_X86_64, X32_BIT, [0; 6]), Some(ALLOW));
    assert_eq!(run(p, 0xc000_00b7, 0, [0; 6]), Some(KILL));
}

#[test]
fn a_forced_umount_is_refused_and_a_plain_one_is_not() {
    let p = filter(crate::seccomp::DEFAULT_POLICY).insns;
    let eacces = 0x0005_0000 | 13;
    // umount2 is 166 on x86_64, 52 on i386; MNT_FORCE is 1, MNT_DETACH 2.
    assert_eq!(run(&p, ARCH_X86_64, 166, [0, 1, 0, 0, 0, 0]), Some(eacces));
    assert_eq!(run(&p, ARCH_X86_64, 166, [0, 3, 0, 0, 0, 0]), Some(eacces));
    assert_eq!(run(&p, ARCH_X86_64, 166, [0, 2, 0, 0, 0, 0]), Some(ALLOW));
    assert_eq!(run(&p, ARCH_I386, 52, [0, 1, 0, 0, 0, 0]), Some(eacces));
}

#[test]
fn an_allowlist_kills_what_it_does_not_name() {
    let p = filter("2\nallowlist\nread\n[x86_64]\nwrite\n").insns;
    assert_eq!(run(&p, ARCH_X86_64, 0, [0; 6]), Some(ALLOW));
    assert_eq!(run(&p, ARCH_X86_64, 1, [0; 6]), Some(ALLOW));
    assert_eq!(
        run(&p, ARCH_I386, 4, [0; 6]),
        Some(KILL),
        "write is in [x86_64] only"
    );
    assert_eq!(run(&p, ARCH_X86_64, 2, [0; 6]), Some(KILL));
    // Version 1 numbers are native numbers: x86_64's only.
    let p = filter("1\nallowlist\n39\n").insns;
    assert_eq!(run(&p, ARCH_X86_64, 39, [0; 6]), Some(ALLOW));
    assert_eq!(run(&p, ARCH_I386, 39, [0; 6]), Some(KILL));
}

#[test]
fn the_first_matching_rule_decides_and_unknown_names_are_reported() {
    let f = filter("2\ndenylist\nwrite errno 5 [0,2,==]\nwrite errno 1\nno_such_call\n");
    assert_eq!(f.warnings.len(), 1);
    assert!(
        f.warnings[0].starts_with("line 5: syscall `no_such_call` is unknown"),
        "{:?}",
        f.warnings
    );
    assert_eq!(
        run(&f.insns, ARCH_X86_64, 1, [2, 0, 0, 0, 0, 0]),
        Some(0x0005_0005)
    );
    assert_eq!(
        run(&f.insns, ARCH_X86_64, 1, [1, 0, 0, 0, 0, 0]),
        Some(EPERM)
    );
}

fn cmp_holds(op: CmpOp, a: u64, v: u64, m: u64) -> bool {
    match op {
        CmpOp::Ne => a != v,
        CmpOp::Lt => a < v,
        CmpOp::Le => a <= v,
        CmpOp::Eq => a == v,
        CmpOp::Ge => a >= v,
        CmpOp::Gt => a > v,
        CmpOp::MaskedEq => a & m == v,
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn op() -> impl Strategy<Value = CmpOp> {
        prop_oneof![
            Just(CmpOp::Ne),
            Just(CmpOp::Lt),
            Just(CmpOp::Le),
            Just(CmpOp::Eq),
            Just(CmpOp::Ge),
            Just(CmpOp::Gt),
            Just(CmpOp::MaskedEq)
        ]
    }

    /// Values near the 32-bit halves' edges, where a two-word compare errs.
    fn word() -> impl Strategy<Value = u64> {
        let half = prop_oneof![
            Just(0u64),
            Just(1),
            Just(0xffff_ffff),
            Just(0x8000_0000),
            0u64..4
        ];
        (half.clone(), half).prop_map(|(h, l)| (h << 32) | l)
    }

    proptest! {
        #[test]
        fn a_64_bit_comparison_decides_as_rust_does(
            ops in prop::collection::vec((op(), 0u8..6, word(), word()), 1..4),
            args in prop::array::uniform6(word()),
        ) {
            let mut rule = String::from("write errno 7");
            for (op, i, v, m) in &ops {
                let sym = match op {
                    CmpOp::Ne => "!=", CmpOp::Lt => "<", CmpOp::Le => "<=", CmpOp::Eq => "==",
                    CmpOp::Ge => ">=", CmpOp::Gt => ">", CmpOp::MaskedEq => "&=",
                };
                rule.push_str(&format!(" [{i},{v},{sym},{m}]"));
            }
            let p = filter(&format!("2\ndenylist\n{rule}\n")).insns;
            let want = ops.iter().all(|(op, i, v, m)| cmp_holds(*op, args[*i as usize], *v, *m));
            let got = run(&p, ARCH_X86_64, 1, args);
            prop_assert_eq!(got, Some(if want { 0x0005_0007 } else { ALLOW }));
        }
    }
}

#[test]
fn a_policy_that_denies_nothing_compiles_to_nothing() {
    assert!(filter("2\ndenylist\n").insns.is_empty());
    assert!(
        !filter("2\nallowlist\n").insns.is_empty(),
        "an empty allowlist kills everything"
    );
}

#[test]
fn i386_reads_only_the_low_half_and_the_multiplexed_socket_call() {
    let f = filter("2\ndenylist\n[all]\nsocket errno 1\nioctl errno 5 [1,0x5412,==]\n");
    let p = &f.insns;
    // i386 socket is 359; through socketcall (102) with SYS_SOCKET (1).
    assert_eq!(run(p, ARCH_I386, 359, [0; 6]), Some(EPERM));
    assert_eq!(run(p, ARCH_I386, 102, [1, 0, 0, 0, 0, 0]), Some(EPERM));
    assert_eq!(
        run(p, ARCH_I386, 102, [3, 0, 0, 0, 0, 0]),
        Some(ALLOW),
        "connect is not denied"
    );
    // ioctl (54 on i386): garbage in the high half does not dodge the rule.
    let garbage = 0xdead_beef_0000_0000u64 | 0x5412;
    assert_eq!(
        run(p, ARCH_I386, 54, [0, garbage, 0, 0, 0, 0]),
        Some(0x0005_0005)
    );
    // On x86_64 the full 64 bits count.
    assert_eq!(
        run(p, ARCH_X86_64, 16, [0, garbage, 0, 0, 0, 0]),
        Some(ALLOW)
    );
    assert_eq!(
        run(p, ARCH_X86_64, 16, [0, 0x5412, 0, 0, 0, 0]),
        Some(0x0005_0005)
    );
}

#[test]
fn x32_also_matches_the_64_bit_number_with_the_x32_bit() {
    let p = filter(crate::seccomp::DEFAULT_POLICY).insns;
    // kexec_load: x32 528, and old kernels ran 246 | bit as the 64-bit call.
    assert_eq!(run(&p, ARCH_X86_64, X32_BIT | 246, [0; 6]), Some(EPERM));
}

#[test]
fn ipc_versions_and_x32_only_numbers_do_not_dodge_a_rule() {
    let p = filter("2\ndenylist\n[all]\nmsgget errno 1\nkexec_load errno 1\n").insns;
    // ipc(2) with a version in the high 16 bits still is msgget (13).
    assert_eq!(
        run(&p, ARCH_I386, 117, [0x1_000d, 0, 0, 0, 0, 0]),
        Some(EPERM)
    );
    assert_eq!(run(&p, ARCH_I386, 117, [14, 0, 0, 0, 0, 0]), Some(ALLOW));
    // x32's kexec_load number without the bit (old shared tables).
    assert_eq!(run(&p, ARCH_X86_64, 528, [0; 6]), Some(EPERM));
    // A wide value: `!=` always holds on i386, `==` never does.
    let p = filter(
        "2\ndenylist\n[x86]\nwrite errno 5 [0,0x100000000,!=]\nread errno 6 [0,0x100000000,==]\n",
    )
    .insns;
    assert_eq!(run(&p, ARCH_I386, 4, [7, 0, 0, 0, 0, 0]), Some(0x0005_0005));
    assert_eq!(run(&p, ARCH_I386, 3, [0, 0, 0, 0, 0, 0]), Some(ALLOW));
}
