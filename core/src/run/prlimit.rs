//! `lxc.prlimit.NAME = SOFT[:HARD]`: resource limits set on init just before
//! it execs (as LXC sets them on init; attached processes keep the caller's,
//! as with `lxc-attach`). Set before the capability drop, since raising a
//! hard limit needs `CAP_SYS_RESOURCE`.

use crate::config::Config;

/// One resource limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prlimit {
    /// Its name in `lxc.prlimit.NAME`.
    pub name: &'static str,
    /// `RLIMIT_*` number.
    pub resource: i32,
    /// Soft limit (`RLIM_INFINITY` for `unlimited`).
    pub soft: u64,
    /// Hard limit; the soft one when only one is given.
    pub hard: u64,
}

/// Resource names (as in `lxc.prlimit.NAME`) and their `RLIMIT_*` numbers.
const RESOURCES: &[(&str, libc::__rlimit_resource_t)] = &[
    ("as", libc::RLIMIT_AS),
    ("core", libc::RLIMIT_CORE),
    ("cpu", libc::RLIMIT_CPU),
    ("data", libc::RLIMIT_DATA),
    ("fsize", libc::RLIMIT_FSIZE),
    ("locks", libc::RLIMIT_LOCKS),
    ("memlock", libc::RLIMIT_MEMLOCK),
    ("msgqueue", libc::RLIMIT_MSGQUEUE),
    ("nice", libc::RLIMIT_NICE),
    ("nofile", libc::RLIMIT_NOFILE),
    ("nproc", libc::RLIMIT_NPROC),
    ("rss", libc::RLIMIT_RSS),
    ("rtprio", libc::RLIMIT_RTPRIO),
    ("rttime", libc::RLIMIT_RTTIME),
    ("sigpending", libc::RLIMIT_SIGPENDING),
    ("stack", libc::RLIMIT_STACK),
];

impl Prlimit {
    /// The limit `lxc.prlimit.NAME = VALUE` asks for, or why it cannot be used.
    pub fn parse(name: &str, value: &str) -> Result<Prlimit, String> {
        let (name, resource) = RESOURCES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, r)| (*n, *r as i32))
            .ok_or_else(|| format!("`{name}` is not a resource limit"))?;
        let one = |s: &str| match s {
            "unlimited" => Ok(libc::RLIM_INFINITY),
            n => n
                .parse::<u64>()
                .map_err(|_| format!("`{n}` is not a number or `unlimited`")),
        };
        let (soft, hard) = match value.split_once(':') {
            Some((s, h)) => (one(s)?, one(h)?),
            None => (one(value)?, one(value)?),
        };
        if soft > hard {
            return Err(format!(
                "the soft limit {soft} is above the hard one {hard}"
            ));
        }
        Ok(Prlimit {
            name,
            resource,
            soft,
            hard,
        })
    }

    /// Every `lxc.prlimit.*` of `cfg`, as (key, value) pairs in config order.
    pub fn keys(cfg: &Config) -> Vec<(String, String)> {
        cfg.items()
            .iter()
            .filter(|i| i.key.starts_with("lxc.prlimit."))
            .map(|i| (i.key.clone(), i.value.clone()))
            .collect()
    }

    /// Sets the limit on the calling process.
    pub fn apply(&self) -> Result<(), String> {
        let lim = libc::rlimit {
            rlim_cur: self.soft,
            rlim_max: self.hard,
        };
        // SAFETY: setrlimit reads one rlimit struct.
        if unsafe { libc::setrlimit(self.resource as libc::__rlimit_resource_t, &lim) } != 0 {
            return Err(format!(
                "setting lxc.prlimit.{}: {}",
                self.name,
                std::io::Error::last_os_error()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_and_hard_as_lxc_writes_them() {
        let p = Prlimit::parse("nofile", "512:1024").unwrap();
        assert_eq!(
            (p.resource, p.soft, p.hard),
            (libc::RLIMIT_NOFILE as i32, 512, 1024)
        );
        let p = Prlimit::parse("core", "unlimited").unwrap();
        assert_eq!((p.soft, p.hard), (libc::RLIM_INFINITY, libc::RLIM_INFINITY));
        let p = Prlimit::parse("nproc", "100:unlimited").unwrap();
        assert_eq!((p.soft, p.hard), (100, libc::RLIM_INFINITY));
    }

    #[test]
    fn bad_limits_say_why() {
        assert!(Prlimit::parse("bogus", "1").unwrap_err().contains("bogus"));
        assert!(Prlimit::parse("nofile", "lots")
            .unwrap_err()
            .contains("lots"));
        assert!(Prlimit::parse("nofile", "10:5")
            .unwrap_err()
            .contains("above"));
    }

    #[test]
    fn the_table_names_what_the_config_accepts() {
        let names: Vec<&str> = RESOURCES.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, crate::config::keys::RLIMITS);
    }
}
