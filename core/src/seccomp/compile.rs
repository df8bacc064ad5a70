//! A [`Policy`] compiled to a classic-BPF seccomp filter for an x86_64
//! kernel, which runs three ABIs: x86_64, x32 (x86_64's `arch` with
//! `__X32_SYSCALL_BIT` in the number) and i386 (`int 0x80`). A rule in `[all]`
//! is compiled for each ABI under that ABI's number, so a denied call cannot
//! be reached through another ABI's entry point; an unknown `arch` is killed.
//!
//! Each rule is a short block (the number, then its argument tests on both
//! 32-bit halves) that falls through to its action or jumps past itself; the
//! first rule that matches decides, as the file reads.

use super::policy::{Action, ArchSel, ArgCmp, CmpOp, Policy, Syscall};
use super::syscalls_x86::{I386, X32, X86_64};

/// One classic-BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Insn {
    /// Opcode.
    pub code: u16,
    /// Jump offset when true.
    pub jt: u8,
    /// Jump offset when false.
    pub jf: u8,
    /// Operand.
    pub k: u32,
}

/// `BPF_LD | BPF_W | BPF_ABS`.
pub const LD_ABS: u16 = 0x20;
/// `BPF_ALU | BPF_AND | BPF_K`.
pub const AND_K: u16 = 0x54;
/// `BPF_JMP | BPF_JA`.
pub const JA: u16 = 0x05;
/// `BPF_JMP | BPF_JEQ | BPF_K`.
pub const JEQ: u16 = 0x15;
/// `BPF_JMP | BPF_JGT | BPF_K`.
pub const JGT: u16 = 0x25;
/// `BPF_JMP | BPF_JGE | BPF_K`.
pub const JGE: u16 = 0x35;
/// `BPF_RET | BPF_K`.
pub const RET: u16 = 0x06;

/// `AUDIT_ARCH_X86_64`.
pub const ARCH_X86_64: u32 = 0xc000_003e;
/// `AUDIT_ARCH_I386`.
pub const ARCH_I386: u32 = 0x4000_0003;
/// `__X32_SYSCALL_BIT`.
pub const X32_BIT: u32 = 0x4000_0000;

/// `struct seccomp_data` offsets.
const NR: u32 = 0;
const ARCH: u32 = 4;
fn arg_lo(i: u8) -> u32 {
    16 + 8 * u32::from(i)
}
fn arg_hi(i: u8) -> u32 {
    arg_lo(i) + 4
}

/// The filter's return value for an action.
pub fn ret_value(a: Action) -> u32 {
    match a {
        Action::Allow => 0x7fff_0000,
        // The whole process, not one thread: a half-killed process helps nobody.
        Action::Kill => 0x8000_0000,
        Action::Errno(n) => 0x0005_0000 | u32::from(n),
        Action::Trap => 0x0003_0000,
        Action::Log => 0x7ffc_0000,
        Action::Notify => 0x7fc0_0000,
    }
}

/// A compiled filter and what the compiler had to say.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Filter {
    /// The program.
    pub insns: Vec<Insn>,
    /// Rules skipped (a syscall no ABI of this host has), by line.
    pub warnings: Vec<String>,
    /// Some rule's action is `notify`: the filter needs a listener.
    #[serde(default)]
    pub notify: bool,
}

/// The three ABIs, with the table, the number's bit, and the section that
/// picks only this ABI.
struct Abi {
    table: &'static [(&'static str, u32)],
    bit: u32,
    only: ArchSel,
}

const ABIS: [Abi; 3] = [
    Abi {
        table: X86_64,
        bit: 0,
        only: ArchSel::X86_64,
    },
    Abi {
        table: X32,
        bit: X32_BIT,
        only: ArchSel::X32,
    },
    Abi {
        table: I386,
        bit: 0,
        only: ArchSel::I386,
    },
];

fn lookup(table: &[(&str, u32)], name: &str) -> Option<u32> {
    table
        .binary_search_by(|(n, _)| (*n).cmp(name))
        .ok()
        .map(|i| table[i].1)
}

fn number(abi: &Abi, s: &Syscall) -> Option<u32> {
    match s {
        // Version 1 numbers are the host's own (x86_64) numbers.
        Syscall::Number(n) => (abi.only == ArchSel::X86_64).then_some(*n),
        Syscall::Name(name) => lookup(abi.table, name).map(|n| n | abi.bit),
    }
}

/// Every number a rule's call has on `abi`. Kernels that kept one table for
/// x86_64 and x32 (before 5.4) ran the x86_64 number with the x32 bit as the
/// 64-bit call, and the x32-only numbers (512 and up) without the bit as the
/// x32 call: both are matched too.
fn numbers(abi: &Abi, s: &Syscall) -> Vec<u32> {
    let mut v: Vec<u32> = number(abi, s).into_iter().collect();
    let extra = match (abi.only, s) {
        (ArchSel::X32, Syscall::Name(name)) => lookup(X86_64, name).map(|n| n | X32_BIT),
        (ArchSel::X86_64, Syscall::Name(name)) => lookup(X32, name).filter(|n| *n >= 512),
        _ => None,
    };
    v.extend(extra.filter(|n| !v.contains(n)));
    v
}

/// i386's multiplexed forms: `socketcall(2)` (102) and `ipc(2)` (117) with
/// the call's number as their first argument.
fn i386_multiplexed(name: &str) -> Option<(u32, u32)> {
    const SOCKETCALL: &[&str] = &[
        "socket",
        "bind",
        "connect",
        "listen",
        "accept",
        "getsockname",
        "getpeername",
        "socketpair",
        "send",
        "recv",
        "sendto",
        "recvfrom",
        "shutdown",
        "setsockopt",
        "getsockopt",
        "sendmsg",
        "recvmsg",
        "accept4",
        "recvmmsg",
        "sendmmsg",
    ];
    const IPC: &[(&str, u32)] = &[
        ("semop", 1),
        ("semget", 2),
        ("semctl", 3),
        ("semtimedop", 4),
        ("msgsnd", 11),
        ("msgrcv", 12),
        ("msgget", 13),
        ("msgctl", 14),
        ("shmat", 21),
        ("shmdt", 22),
        ("shmget", 23),
        ("shmctl", 24),
    ];
    if let Some(i) = SOCKETCALL.iter().position(|n| *n == name) {
        return Some((102, i as u32 + 1));
    }
    IPC.iter().find(|(n, _)| *n == name).map(|(_, c)| (117, *c))
}

fn insn(code: u16, jt: u8, jf: u8, k: u32) -> Insn {
    Insn { code, jt, jf, k }
}

/// Compiles `policy`; one that lets every call through compiles to no
/// instructions (nothing to load).
pub fn compile(policy: &Policy) -> Filter {
    if policy.rules.is_empty() && policy.default == Action::Allow {
        return Filter {
            insns: Vec::new(),
            warnings: Vec::new(),
            notify: false,
        };
    }
    let mut warnings = Vec::new();
    for r in &policy.rules {
        if let Syscall::Name(n) = &r.syscall {
            if ABIS.iter().all(|a| number(a, &r.syscall).is_none()) {
                warnings.push(format!(
                    "line {}: syscall `{n}` is unknown on this host's ABIs (x86_64, x32, i386): the rule is skipped",
                    r.line
                ));
            }
            let on_i386 = r.arch == ArchSel::All || r.arch == ArchSel::I386;
            if on_i386 && !r.args.is_empty() && i386_multiplexed(n).is_some() {
                warnings.push(format!(
                    "line {}: on i386, `{n}` through socketcall/ipc carries its arguments in memory a filter cannot read: only the direct call is filtered by argument",
                    r.line
                ));
            }
            if on_i386 && r.args.iter().any(never_on_32_bits) {
                warnings.push(format!(
                    "line {}: an argument value above 32 bits can never equal a 32-bit one: the rule is skipped on i386",
                    r.line
                ));
            }
        }
    }
    let sections: Vec<Vec<Insn>> = ABIS.iter().map(|a| abi_section(policy, a)).collect();
    let (s64, sx32, s32) = (&sections[0], &sections[1], &sections[2]);
    let mut p = vec![
        insn(LD_ABS, 0, 0, ARCH),
        insn(JEQ, 0, 1, ARCH_X86_64),
        insn(JA, 0, 0, 3), // to the x86_64 section
        insn(JEQ, 1, 0, ARCH_I386),
        insn(RET, 0, 0, ret_value(Action::Kill)),
        insn(JA, 0, 0, (3 + s64.len() + sx32.len()) as u32), // to i386
        // x86_64 and x32 share the arch value: the number's bit parts them.
        insn(LD_ABS, 0, 0, NR),
        insn(JGE, 0, 1, X32_BIT),
        insn(JA, 0, 0, s64.len() as u32),
    ];
    p.extend_from_slice(s64);
    p.extend_from_slice(sx32);
    p.extend_from_slice(s32);
    let notify = policy.rules.iter().any(|r| r.action == Action::Notify);
    Filter {
        insns: p,
        warnings,
        notify,
    }
}

/// The rules for one ABI, then the default.
fn abi_section(policy: &Policy, abi: &Abi) -> Vec<Insn> {
    let compat = abi.only == ArchSel::I386;
    let mut out = Vec::new();
    let mut a_holds_nr = false;
    for r in &policy.rules {
        if r.arch != ArchSel::All && r.arch != abi.only {
            continue;
        }
        // 32-bit calls read only the low half of each argument register.
        if compat && r.args.iter().any(never_on_32_bits) {
            continue;
        }
        let mut forms: Vec<(u32, Vec<ArgCmp>)> = numbers(abi, &r.syscall)
            .into_iter()
            .map(|nr| (nr, r.args.clone()))
            .collect();
        if let (true, Syscall::Name(name), true) = (compat, &r.syscall, r.args.is_empty()) {
            if let Some((mux, call)) = i386_multiplexed(name) {
                // ipc(2) takes the call in the low 16 bits (a version above).
                let first = ArgCmp {
                    index: 0,
                    op: CmpOp::MaskedEq,
                    value: u64::from(call),
                    mask: if mux == 117 { 0xffff } else { 0xffff_ffff },
                };
                forms.push((mux, vec![first]));
            }
        }
        for (nr, args) in forms {
            if !a_holds_nr {
                out.push(insn(LD_ABS, 0, 0, NR));
            }
            let mut block = vec![Pending::new(JEQ, Skip(0), Fail, nr)];
            block.extend(args.iter().flat_map(|a| arg_block(a, compat)));
            block.push(Pending::new(RET, Skip(0), Skip(0), ret_value(r.action)));
            out.extend(resolve(&block));
            // An argument test leaves an argument in A, not the number.
            a_holds_nr = args.is_empty();
        }
    }
    out.push(insn(RET, 0, 0, ret_value(policy.default)));
    out
}

/// A comparison a 32-bit argument can never satisfy (`==`, `>`, `>=` or a
/// masked compare against a value above 32 bits).
fn never_on_32_bits(a: &ArgCmp) -> bool {
    a.value > u64::from(u32::MAX)
        && matches!(a.op, CmpOp::Eq | CmpOp::Gt | CmpOp::Ge | CmpOp::MaskedEq)
}

/// Where a jump goes: a literal skip, or past the rule's action.
#[derive(Debug, Clone, Copy)]
enum Tgt {
    Skip(u8),
    Fail,
}
use Tgt::{Fail, Skip};

/// An instruction whose jumps may still be [`Tgt::Fail`].
#[derive(Debug, Clone, Copy)]
struct Pending {
    code: u16,
    jt: Tgt,
    jf: Tgt,
    k: u32,
}

impl Pending {
    fn new(code: u16, jt: Tgt, jf: Tgt, k: u32) -> Pending {
        Pending { code, jt, jf, k }
    }
}

/// A rule block with its `Fail` jumps pointing just past its end. A rule
/// has at most 6 argument tests of 7 instructions: every offset fits a u8.
fn resolve(block: &[Pending]) -> Vec<Insn> {
    let len = block.len();
    let off = |i: usize, t: Tgt| match t {
        Skip(n) => n,
        Fail => u8::try_from(len - i - 1).expect("a rule block is under 256 instructions"),
    };
    block
        .iter()
        .enumerate()
        .map(|(i, p)| insn(p.code, off(i, p.jt), off(i, p.jf), p.k))
        .collect()
}

/// The test of one 64-bit argument on its two 32-bit halves (high first);
/// falls through when it holds.
fn arg_block(c: &ArgCmp, compat: bool) -> Vec<Pending> {
    let (hi, lo) = ((c.value >> 32) as u32, c.value as u32);
    let (mhi, mlo) = ((c.mask >> 32) as u32, c.mask as u32);
    let ld_hi = Pending::new(LD_ABS, Skip(0), Skip(0), arg_hi(c.index));
    let ld_lo = Pending::new(LD_ABS, Skip(0), Skip(0), arg_lo(c.index));
    let j = |code, jt, jf, k| Pending::new(code, jt, jf, k);
    let and = |m| Pending::new(AND_K, Skip(0), Skip(0), m);
    if compat {
        // The low half only (the high one is whatever a 64-bit caller of
        // `int 0x80` left in the register). A value above 32 bits makes
        // `!=`, `<` and `<=` always true: no test at all.
        if c.value > u64::from(u32::MAX) {
            return Vec::new();
        }
        return match c.op {
            CmpOp::Eq => vec![ld_lo, j(JEQ, Skip(0), Fail, lo)],
            CmpOp::Ne => vec![ld_lo, j(JEQ, Fail, Skip(0), lo)],
            CmpOp::MaskedEq => vec![ld_lo, and(mlo), j(JEQ, Skip(0), Fail, lo)],
            CmpOp::Gt => vec![ld_lo, j(JGT, Skip(0), Fail, lo)],
            CmpOp::Ge => vec![ld_lo, j(JGE, Skip(0), Fail, lo)],
            CmpOp::Lt => vec![ld_lo, j(JGE, Fail, Skip(0), lo)],
            CmpOp::Le => vec![ld_lo, j(JGT, Fail, Skip(0), lo)],
        };
    }
    match c.op {
        CmpOp::Eq => vec![
            ld_hi,
            j(JEQ, Skip(0), Fail, hi),
            ld_lo,
            j(JEQ, Skip(0), Fail, lo),
        ],
        // Fails only when both halves are equal.
        CmpOp::Ne => vec![
            ld_hi,
            j(JEQ, Skip(0), Skip(2), hi),
            ld_lo,
            j(JEQ, Fail, Skip(0), lo),
        ],
        CmpOp::MaskedEq => vec![
            ld_hi,
            and(mhi),
            j(JEQ, Skip(0), Fail, hi),
            ld_lo,
            and(mlo),
            j(JEQ, Skip(0), Fail, lo),
        ],
        // A greater high half decides; an equal one leaves it to the low half.
        CmpOp::Gt | CmpOp::Ge => vec![
            ld_hi,
            j(JGT, Skip(3), Skip(0), hi),
            j(JEQ, Skip(0), Fail, hi),
            ld_lo,
            j(if c.op == CmpOp::Gt { JGT } else { JGE }, Skip(0), Fail, lo),
        ],
        CmpOp::Lt | CmpOp::Le => vec![
            ld_hi,
            j(JGT, Fail, Skip(0), hi),
            j(JEQ, Skip(0), Skip(2), hi),
            ld_lo,
            j(if c.op == CmpOp::Lt { JGE } else { JGT }, Fail, Skip(0), lo),
        ],
    }
}

#[cfg(test)]
#[path = "compile_tests.rs"]
mod tests;
