//! LXC's seccomp policy language, versions 1 and 2, as `lxc.seccomp.profile`
//! files are written:
//!
//! ```text
//! 2
//! denylist [DEFAULT-ACTION]        # or allowlist; blacklist/whitelist too
//! reject_force_umount              # umount2(…, MNT_FORCE) gets EACCES
//! [all]                            # or [x86_64], [x86], [x32], [arm64] …
//! kexec_load errno 1
//! mount errno 1 [2,1,SCMP_CMP_MASKED_EQ,1]   # [arg,value,op(,mask)]
//! ```
//!
//! Version 1 is `1`, `allowlist`, then one syscall number per line. As in
//! LXC, a denylist's rules default to `kill` and its other calls are allowed;
//! an allowlist's rules default to `allow` and its other calls are killed.
//! Every error names the file and line.

use std::path::Path;

/// What a filter does with a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Let it run.
    Allow,
    /// Kill the process (LXC's `kill`).
    Kill,
    /// Fail with this errno.
    Errno(u16),
    /// Send `SIGSYS`.
    Trap,
    /// Log and let it run.
    Log,
    /// Ask a user-space supervisor (`lxc.seccomp.notify.proxy`).
    Notify,
}

/// A comparison of one syscall argument (`[index,value,op(,mask)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArgCmp {
    /// Argument 0–5.
    pub index: u8,
    /// Comparison.
    pub op: CmpOp,
    /// Value compared with (after the mask for `MaskedEq`).
    pub value: u64,
    /// Mask for `MaskedEq`.
    pub mask: u64,
}

/// `SCMP_CMP_*` and their symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `==`.
    Eq,
    /// `>=`.
    Ge,
    /// `>`.
    Gt,
    /// `&=`: `arg & mask == value`.
    MaskedEq,
}

/// Which ABI a rule is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArchSel {
    /// Every ABI this host runs.
    All,
    /// `[x86_64]`.
    X86_64,
    /// `[x86]`: i386.
    I386,
    /// `[x32]`.
    X32,
    /// A section for an architecture this host does not run: skipped.
    Other,
}

/// Which syscall a rule names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Syscall {
    /// By name, resolved per ABI.
    Name(String),
    /// By native number (version 1).
    Number(u32),
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    /// The syscall.
    pub syscall: Syscall,
    /// Its ABI section.
    pub arch: ArchSel,
    /// What happens when it matches.
    pub action: Action,
    /// All must hold.
    pub args: Vec<ArgCmp>,
    /// 1-based line in the policy file.
    pub line: usize,
}

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Policy {
    /// What calls no rule names get.
    pub default: Action,
    /// Rules, in file order (the first that matches decides).
    pub rules: Vec<Rule>,
}

/// A policy that cannot be used; it names the file and line.
#[derive(Debug, thiserror::Error)]
#[error("seccomp policy {file}{}: {why}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct PolicyError {
    /// The policy file.
    pub file: String,
    /// The line, when one is at fault.
    pub line: Option<usize>,
    /// What is wrong.
    pub why: String,
}

/// `MNT_FORCE`, for `reject_force_umount`.
const MNT_FORCE: u64 = 1;

impl Policy {
    /// Reads and parses policy file `path`.
    pub fn read(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
            file: path.display().to_string(),
            line: None,
            why: format!("cannot be read: {e}"),
        })?;
        Policy::parse(&text, &path.display().to_string())
    }

    /// Parses policy `text` (from `file`, for errors).
    pub fn parse(text: &str, file: &str) -> Result<Policy, PolicyError> {
        let err = |line: Option<usize>, why: String| PolicyError {
            file: file.to_string(),
            line,
            why,
        };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let version = lines.next().map(|(_, l)| l.trim());
        let style = lines.next().map(|(_, l)| strip_comment(l).to_string());
        let Some(style) = style else {
            return Err(err(
                None,
                "needs a version line and a policy-style line (`2` then `denylist`)".into(),
            ));
        };
        let words: Vec<&str> = style.split_whitespace().collect();
        if words.contains(&"debug") {
            return Err(err(
                Some(2),
                "`debug` is not supported (nor is it by LXC)".into(),
            ));
        }
        match version {
            Some("1") => parse_v1(lines, &words, &err),
            Some("2") => parse_v2(lines, &words, &err),
            other => Err(err(
                Some(1),
                format!("version `{}` is not 1 or 2", other.unwrap_or("")),
            )),
        }
    }
}

type ErrFn<'a> = dyn Fn(Option<usize>, String) -> PolicyError + 'a;

fn strip_comment(l: &str) -> &str {
    l.split('#').next().unwrap_or("").trim()
}

fn is_allowlist(w: &str) -> bool {
    w == "allowlist" || w == "whitelist"
}

fn is_denylist(w: &str) -> bool {
    w == "denylist" || w == "blacklist"
}

fn parse_v1<'a>(
    lines: impl Iterator<Item = (usize, &'a str)>,
    style: &[&str],
    err: &ErrFn<'_>,
) -> Result<Policy, PolicyError> {
    if !style.first().is_some_and(|w| is_allowlist(w)) {
        return Err(err(
            Some(2),
            "version 1 policies are allowlists only".into(),
        ));
    }
    let mut rules = Vec::new();
    for (n, l) in lines {
        let l = strip_comment(l);
        if l.is_empty() {
            continue;
        }
        let nr = l
            .parse::<u32>()
            .map_err(|_| err(Some(n), format!("`{l}` is not a syscall number")))?;
        rules.push(Rule {
            syscall: Syscall::Number(nr),
            arch: ArchSel::All,
            action: Action::Allow,
            args: Vec::new(),
            line: n,
        });
    }
    Ok(Policy {
        default: Action::Kill,
        rules,
    })
}

fn parse_v2<'a>(
    lines: impl Iterator<Item = (usize, &'a str)>,
    style: &[&str],
    err: &ErrFn<'_>,
) -> Result<Policy, PolicyError> {
    let deny = match style.first() {
        Some(w) if is_denylist(w) => true,
        Some(w) if is_allowlist(w) => false,
        _ => {
            return Err(err(
                Some(2),
                format!(
                    "policy style `{}` is not denylist or allowlist",
                    style.join(" ")
                ),
            ))
        }
    };
    let given = parse_action(&style[1..]).map_err(|why| err(Some(2), why))?;
    let (default, rule_default) = if deny {
        (given.unwrap_or(Action::Allow), Action::Kill)
    } else {
        (given.unwrap_or(Action::Kill), Action::Allow)
    };
    let mut arch = ArchSel::All;
    let mut rules = Vec::new();
    for (n, l) in lines {
        let l = strip_comment(l);
        if l.is_empty() {
            continue;
        }
        if l.starts_with('[') {
            arch = section(l)
                .ok_or_else(|| err(Some(n), format!("unknown architecture section `{l}`")))?;
            continue;
        }
        rules.extend(rule(l, n, arch, rule_default).map_err(|why| err(Some(n), why))?);
    }
    Ok(Policy { default, rules })
}

fn section(l: &str) -> Option<ArchSel> {
    let name = l.strip_prefix('[')?.strip_suffix(']')?.to_ascii_lowercase();
    Some(match name.as_str() {
        "all" => ArchSel::All,
        "x86_64" => ArchSel::X86_64,
        "x86" => ArchSel::I386,
        "x32" => ArchSel::X32,
        "arm" | "arm64" | "ppc" | "ppc64" | "ppc64le" | "mips" | "mips64" | "mips64n32"
        | "mipsel" | "mipsel64" | "mipsel64n32" | "s390" | "s390x" => ArchSel::Other,
        _ => return None,
    })
}

/// The action words after a syscall or policy style; `None` when absent.
fn parse_action(words: &[&str]) -> Result<Option<Action>, String> {
    let Some(first) = words.first() else {
        return Ok(None);
    };
    Ok(Some(match *first {
        "kill" => Action::Kill,
        "allow" => Action::Allow,
        "trap" => Action::Trap,
        "log" => Action::Log,
        "notify" => Action::Notify,
        "errno" => {
            let n = words
                .get(1)
                .ok_or("`errno` needs a number, e.g. `errno 1`")?;
            Action::Errno(
                n.parse::<u16>()
                    .ok()
                    .filter(|n| *n <= 4095)
                    .ok_or_else(|| format!("`errno {n}` is not an errno number (0-4095)"))?,
            )
        }
        other => {
            return Err(format!(
                "unknown action `{other}` (kill, errno N, allow, trap, log, notify)"
            ))
        }
    }))
}

/// One v2 rule line: `name [action] [arg]…`, or `reject_force_umount`.
fn rule(l: &str, n: usize, arch: ArchSel, default: Action) -> Result<Option<Rule>, String> {
    let (head, args) = match l.find('[') {
        Some(i) => (&l[..i], &l[i..]),
        None => (l, ""),
    };
    let words: Vec<&str> = head.split_whitespace().collect();
    let name = words[0];
    if name == "reject_force_umount" {
        return Ok(Some(Rule {
            syscall: Syscall::Name("umount2".into()),
            arch,
            action: Action::Errno(libc::EACCES as u16),
            args: vec![ArgCmp {
                index: 1,
                op: CmpOp::MaskedEq,
                value: MNT_FORCE,
                mask: MNT_FORCE,
            }],
            line: n,
        }));
    }
    if arch == ArchSel::Other {
        return Ok(None);
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("`{name}` is not a syscall name"));
    }
    let given = parse_action(&words[1..])?;
    let used = 1 + given.map_or(0, |a| 1 + usize::from(matches!(a, Action::Errno(_))));
    if let Some(extra) = words.get(used) {
        return Err(format!("unexpected `{extra}` after the action"));
    }
    let action = given.unwrap_or(default);
    Ok(Some(Rule {
        syscall: Syscall::Name(name.into()),
        arch,
        action,
        args: parse_args(args)?,
        line: n,
    }))
}

fn parse_args(s: &str) -> Result<Vec<ArgCmp>, String> {
    let mut out = Vec::new();
    for part in s.split(']').map(str::trim).filter(|p| !p.is_empty()) {
        let body = part.strip_prefix('[').ok_or_else(|| {
            format!("`{part}` is not an argument filter like `[1,0,SCMP_CMP_EQ]`")
        })?;
        let f: Vec<&str> = body.split(',').map(str::trim).collect();
        let bad = || format!("`[{body}]` is not `[index,value,op]` or `[index,value,op,mask]`");
        if f.len() != 3 && f.len() != 4 {
            return Err(bad());
        }
        let index = f[0]
            .parse::<u8>()
            .ok()
            .filter(|i| *i < 6)
            .ok_or_else(|| format!("argument index `{}` is not 0-5", f[0]))?;
        let value = number(f[1]).ok_or_else(bad)?;
        let op = cmp_op(f[2]).ok_or_else(|| format!("unknown comparison `{}`", f[2]))?;
        // For `MaskedEq` the fourth field is the mask: `arg & mask == value`.
        let mask = f
            .get(3)
            .map(|m| number(m).ok_or_else(bad))
            .transpose()?
            .unwrap_or(0);
        out.push(ArgCmp {
            index,
            op,
            value,
            mask,
        });
    }
    if out.len() > 6 {
        return Err("a rule takes at most 6 argument filters".into());
    }
    Ok(out)
}

fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None if s.len() > 1 && s.starts_with('0') => u64::from_str_radix(&s[1..], 8).ok(),
        None => s.parse().ok(),
    }
}

fn cmp_op(s: &str) -> Option<CmpOp> {
    Some(match s {
        "SCMP_CMP_NE" | "!=" => CmpOp::Ne,
        "SCMP_CMP_LT" | "<" => CmpOp::Lt,
        "SCMP_CMP_LE" | "<=" => CmpOp::Le,
        "SCMP_CMP_EQ" | "==" => CmpOp::Eq,
        "SCMP_CMP_GE" | ">=" => CmpOp::Ge,
        "SCMP_CMP_GT" | ">" => CmpOp::Gt,
        "SCMP_CMP_MASKED_EQ" | "&=" => CmpOp::MaskedEq,
        _ => return None,
    })
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
