//! A [`DeviceList`] as a cgroup2 `BPF_CGROUP_DEVICE` program: cgroup2 has no
//! `devices.allow`, the kernel asks an eBPF program attached to the cgroup
//! instead (it returns 1 to allow, 0 to refuse). The program is a straight
//! run of one test block per exception, so it decides exactly what
//! [`DeviceList::allows`] does; the unit tests run it in a small interpreter
//! against that function.
//!
//! Generating it takes microseconds, so there is nothing to cache; the
//! kernel's verifier runs once per start on a program of a few dozen
//! instructions.

#[cfg(test)]
use super::devices::DevKind;
use super::devices::{DeviceList, Exception, MKNOD, READ, WRITE};

/// One eBPF instruction (`struct bpf_insn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// Opcode.
    pub code: u8,
    /// Destination register (low nibble) and source register (high nibble).
    pub regs: u8,
    /// Jump offset or memory offset.
    pub off: i16,
    /// Immediate.
    pub imm: i32,
}

/// `BPF_LDX | BPF_MEM | BPF_W`: `dst = *(u32 *)(src + off)`.
pub const LDXW: u8 = 0x61;
/// `BPF_ALU64 | BPF_AND | BPF_K`.
pub const AND_K: u8 = 0x57;
/// `BPF_ALU64 | BPF_RSH | BPF_K`.
pub const RSH_K: u8 = 0x77;
/// `BPF_ALU64 | BPF_MOV | BPF_K`.
pub const MOV_K: u8 = 0xb7;
/// `BPF_ALU64 | BPF_MOV | BPF_X`.
pub const MOV_X: u8 = 0xbf;
/// `BPF_JMP | BPF_JNE | BPF_K`.
pub const JNE_K: u8 = 0x55;
/// `BPF_JMP | BPF_JEQ | BPF_K`.
pub const JEQ_K: u8 = 0x15;
/// `BPF_JMP | BPF_EXIT`.
pub const EXIT: u8 = 0x95;

/// Registers the program keeps its inputs in.
const CTX: u8 = 1;
const TYPE: u8 = 2;
const ACCESS: u8 = 3;
const MAJOR: u8 = 4;
const MINOR: u8 = 5;
const SCRATCH: u8 = 1;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

/// The program for `list`.
pub fn program(list: &DeviceList) -> Vec<Insn> {
    // bpf_cgroup_dev_ctx: access_type (type | access << 16), major, minor.
    let mut p = vec![
        insn(LDXW, TYPE, CTX, 0, 0),
        insn(AND_K, TYPE, 0, 0, 0xffff),
        insn(LDXW, ACCESS, CTX, 0, 0),
        insn(RSH_K, ACCESS, 0, 0, 16),
        insn(LDXW, MAJOR, CTX, 4, 0),
        insn(LDXW, MINOR, CTX, 8, 0),
    ];
    for e in &list.exceptions {
        p.extend(block(e, list.default_allow));
    }
    p.push(insn(MOV_K, 0, 0, 0, i32::from(list.default_allow)));
    p.push(insn(EXIT, 0, 0, 0, 0));
    p
}

/// The test of one exception: every check jumps past the block's end when it
/// fails; falling through returns the exception's verdict.
fn block(e: &Exception, default_allow: bool) -> Vec<Insn> {
    let mut checks: Vec<Vec<Insn>> = vec![vec![insn(JNE_K, TYPE, 0, 0, e.kind.bpf() as i32)]];
    let all = MKNOD | READ | WRITE;
    if default_allow {
        // Refuse when the access shares a bit with the exception's.
        checks.push(vec![
            insn(MOV_X, SCRATCH, ACCESS, 0, 0),
            insn(AND_K, SCRATCH, 0, 0, i32::from(e.access)),
            insn(JEQ_K, SCRATCH, 0, 0, 0),
        ]);
    } else if e.access != all {
        // Allow only when every bit asked is in the exception.
        checks.push(vec![
            insn(MOV_X, SCRATCH, ACCESS, 0, 0),
            insn(AND_K, SCRATCH, 0, 0, i32::from(!e.access & all)),
            insn(JNE_K, SCRATCH, 0, 0, 0),
        ]);
    }
    if let Some(m) = e.major {
        checks.push(vec![insn(JNE_K, MAJOR, 0, 0, m as i32)]);
    }
    if let Some(m) = e.minor {
        checks.push(vec![insn(JNE_K, MINOR, 0, 0, m as i32)]);
    }
    let mut out: Vec<Insn> = checks.into_iter().flatten().collect();
    out.push(insn(MOV_K, 0, 0, 0, i32::from(!default_allow)));
    out.push(insn(EXIT, 0, 0, 0, 0));
    let len = out.len();
    for (i, x) in out.iter_mut().enumerate() {
        if x.code == JNE_K || x.code == JEQ_K {
            // Offsets count from the next instruction.
            x.off = (len - i - 1) as i16;
        }
    }
    out
}

/// The program as the kernel takes it (`bpf_insn` array, host byte order).
pub fn bytes(p: &[Insn]) -> Vec<u8> {
    p.iter()
        .flat_map(|i| {
            let mut b = [0u8; 8];
            b[0] = i.code;
            b[1] = i.regs;
            b[2..4].copy_from_slice(&i.off.to_ne_bytes());
            b[4..8].copy_from_slice(&i.imm.to_ne_bytes());
            b
        })
        .collect()
}

/// Runs `p` on one request, as the kernel would (for the unit tests).
#[cfg(test)]
pub fn run(p: &[Insn], kind: DevKind, major: u32, minor: u32, access: u8) -> Option<u64> {
    let ctx = [kind.bpf() | (u32::from(access) << 16), major, minor];
    let mut r = [0u64; 11];
    let mut pc = 0usize;
    loop {
        let i = p.get(pc)?;
        let (dst, src) = (usize::from(i.regs & 0xf), usize::from(i.regs >> 4));
        let imm = i64::from(i.imm) as u64;
        let jump = |c: bool| if c { i.off as isize } else { 0 };
        let mut next = pc as isize + 1;
        match i.code {
            LDXW if src == usize::from(CTX) => r[dst] = u64::from(*ctx.get(i.off as usize / 4)?),
            AND_K => r[dst] &= imm,
            RSH_K => r[dst] >>= imm,
            MOV_K => r[dst] = imm,
            MOV_X => r[dst] = r[src],
            JNE_K => next += jump(r[dst] != imm),
            JEQ_K => next += jump(r[dst] == imm),
            EXIT => return Some(r[0]),
            _ => return None,
        }
        pc = usize::try_from(next).ok()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::devices::{default_rules, DeviceRule};

    fn agree(list: &DeviceList) {
        let p = program(list);
        for kind in [DevKind::Block, DevKind::Char] {
            for (major, minor) in [(1, 3), (1, 4), (5, 0), (136, 7), (8, 0), (10, 200), (7, 1)] {
                for access in 1..=7u8 {
                    let want = list.allows(kind, major, minor, access);
                    let got = run(&p, kind, major, minor, access);
                    assert_eq!(
                        got,
                        Some(u64::from(want)),
                        "{kind:?} {major}:{minor} access {access} in {list:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_program_decides_as_the_v1_model_does() {
        agree(&DeviceList::from_rules(&default_rules()));
        agree(&DeviceList::default());
        let r = |allow, t| DeviceRule::parse(allow, t).unwrap();
        agree(&DeviceList::from_rules(&[
            r(false, "c 1:3 w"),
            r(false, "b 8:* rwm"),
        ]));
        agree(&DeviceList::from_rules(&[
            r(false, "a"),
            r(true, "c 1:3 r"),
            r(true, "c 1:3 w"),
            r(true, "b *:1 m"),
            r(false, "c 1:3 r"),
        ]));
    }

    #[test]
    fn the_default_list_is_a_short_program() {
        let p = program(&DeviceList::from_rules(&default_rules()));
        assert!(p.len() < 80, "{}", p.len());
        assert_eq!(bytes(&p).len(), p.len() * 8);
        assert_eq!(p.last().unwrap().code, EXIT);
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use crate::cgroups::devices::DeviceRule;
    use proptest::prelude::*;

    fn rule() -> impl Strategy<Value = DeviceRule> {
        let kind = prop_oneof![
            1 => Just(DevKind::All),
            4 => Just(DevKind::Block),
            4 => Just(DevKind::Char)
        ];
        let num = prop::option::of(0u32..4);
        (any::<bool>(), kind, num.clone(), num, 1u8..8).prop_map(
            |(allow, kind, major, minor, access)| DeviceRule {
                allow,
                kind,
                major,
                minor,
                access,
            },
        )
    }

    proptest! {
        #[test]
        fn any_rule_list_runs_as_it_is_modelled(rules in prop::collection::vec(rule(), 0..12)) {
            let list = DeviceList::from_rules(&rules);
            let p = program(&list);
            for kind in [DevKind::Block, DevKind::Char] {
                for major in 0..4 {
                    for minor in 0..4 {
                        for access in 1..8u8 {
                            let want = u64::from(list.allows(kind, major, minor, access));
                            prop_assert_eq!(run(&p, kind, major, minor, access), Some(want));
                        }
                    }
                }
            }
        }
    }
}
