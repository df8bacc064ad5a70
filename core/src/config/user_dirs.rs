//! Where a user other than root keeps containers, as LXC does: the system
//! config `~/.config/lxc/lxc.conf` (with its `default.conf` beside it),
//! containers in `~/.local/share/lxc`, the template cache in `~/.cache/lxc`
//! (each following its `XDG_*_HOME`), and rlxc's runtime files under
//! `$XDG_RUNTIME_DIR/rlxc`, or `~/.cache/rlxc/run` when that is unset.

use std::path::{Path, PathBuf};

/// A user's own places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDirs {
    /// `~/.config/lxc`.
    pub config: PathBuf,
    /// `~/.local/share/lxc`: the lxcpath.
    pub data: PathBuf,
    /// `~/.cache/lxc`: the template cache.
    pub cache: PathBuf,
    /// Runtime files: locks, sockets, monitor state.
    pub run: PathBuf,
}

impl UserDirs {
    /// The places of a caller with effective uid `euid` (`None` for root),
    /// from its environment and, without `HOME`, its passwd entry.
    pub fn from_env(
        euid: u32,
        env: impl Fn(&str) -> Option<String>,
        home_of: impl Fn(u32) -> Option<PathBuf>,
    ) -> Option<UserDirs> {
        if euid == 0 {
            return None;
        }
        let home = env("HOME")
            .filter(|h| h.starts_with('/'))
            .map(PathBuf::from)
            .or_else(|| home_of(euid))?;
        let xdg = |var: &str, fallback: &str| {
            env(var)
                .filter(|v| v.starts_with('/'))
                .map_or_else(|| home.join(fallback), PathBuf::from)
        };
        let cache_home = xdg("XDG_CACHE_HOME", ".cache");
        let run = env("XDG_RUNTIME_DIR")
            .filter(|v| v.starts_with('/') && Path::new(v).is_dir())
            .map_or_else(
                || cache_home.join("rlxc/run"),
                |r| Path::new(&r).join("rlxc"),
            );
        Some(UserDirs {
            config: xdg("XDG_CONFIG_HOME", ".config").join("lxc"),
            data: xdg("XDG_DATA_HOME", ".local/share").join("lxc"),
            cache: cache_home.join("lxc"),
            run,
        })
    }

    /// The calling process's (`None` when it runs as root).
    pub fn current() -> Option<UserDirs> {
        let euid = nix::unistd::geteuid().as_raw();
        UserDirs::from_env(
            euid,
            |k| std::env::var(k).ok(),
            |uid| {
                nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
                    .ok()
                    .flatten()
                    .map(|u| u.dir)
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lxcs_places_for_users() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            UserDirs::from_env(0, env(&[("HOME", "/root")]), |_| None),
            None
        );
        let d = UserDirs::from_env(1000, env(&[("HOME", "/home/jo")]), |_| None).unwrap();
        assert_eq!(d.config, Path::new("/home/jo/.config/lxc"));
        assert_eq!(d.data, Path::new("/home/jo/.local/share/lxc"));
        assert_eq!(d.cache, Path::new("/home/jo/.cache/lxc"));
        assert_eq!(d.run, Path::new("/home/jo/.cache/rlxc/run"));
        let d = UserDirs::from_env(
            1000,
            env(&[
                ("HOME", "/home/jo"),
                ("XDG_DATA_HOME", "/data"),
                ("XDG_RUNTIME_DIR", "/"),
            ]),
            |_| None,
        )
        .unwrap();
        assert_eq!(
            (d.data.as_path(), d.run.as_path()),
            (Path::new("/data/lxc"), Path::new("/rlxc"))
        );
        // No HOME: the passwd entry's; a relative XDG value is ignored.
        let d = UserDirs::from_env(1000, env(&[("XDG_CONFIG_HOME", "rel")]), |_| {
            Some("/home/x".into())
        })
        .unwrap();
        assert_eq!(d.config, Path::new("/home/x/.config/lxc"));
    }
}
