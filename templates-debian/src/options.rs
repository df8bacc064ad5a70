//! The debian template's options, as LXC's `lxc-debian` spells them, with
//! its environment variables (`SUITE`, `MIRROR`, `SECURITY_MIRROR`).

use rlxc_core::template::TemplateError;
use rlxc_core::templates::args::{entry_for, is_name, ArgReader};

/// What `-t debian -- …` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-r SUITE` / `$SUITE` (default: the host's release when it is Debian,
    /// else the current stable).
    pub release: String,
    /// `-a ARCH` (default: the host's).
    pub arch: String,
    /// `--mirror` / `$MIRROR`.
    pub mirror: String,
    /// `--security-mirror` / `$SECURITY_MIRROR`.
    pub security_mirror: String,
    /// `--packages a,b`: more packages.
    pub packages: Vec<String>,
    /// `--variant` (debootstrap's; default minbase).
    pub variant: String,
    /// `--clean`: remove the cache of this release and arch (and make nothing).
    pub clean: bool,
    /// `-F` / `--flush-cache`: build the cache again.
    pub flush_cache: bool,
    /// `--enable-non-free`: contrib and non-free components.
    pub non_free: bool,
    /// `--keyring FILE`: the keys the mirror is signed with (debootstrap's
    /// default, the host's debian-archive-keyring, otherwise).
    pub keyring: Option<String>,
}

/// Releases in order, oldest first, as far as the template's choices
/// depend on them; a name not listed (sid, testing, a newer one) is newer.
const RELEASES: &[&str] = &[
    "etch", "lenny", "squeeze", "wheezy", "jessie", "stretch", "buster", "bullseye", "bookworm",
];

/// The inits a guest may ask for instead of the default one.
const OTHER_INITS: &[&str] = &["sysvinit-core", "runit-init", "openrc"];

/// The help text (`create -t debian -h`).
pub const HELP: &str = "debian template: debootstrap into a cache, copied into the container

  -r, --release SUITE      Debian release (default: the host's, else bookworm; $SUITE)
  -a, --arch ARCH          architecture (default: the host's)
      --mirror URL         package mirror ($MIRROR; default http://deb.debian.org/debian)
      --security-mirror URL  security mirror ($SECURITY_MIRROR)
      --packages A,B       more packages to install
      --variant NAME       debootstrap variant (default minbase)
      --enable-non-free    add the contrib and non-free components
      --keyring FILE       keys the mirror is signed with (default: debootstrap's)
                           releases before jessie boot sysvinit; newer ones too with --packages sysvinit-core
  -F, --flush-cache        build the cached rootfs again
  -c, --clean              remove the cached rootfs of this release and arch (with -r or $SUITE),
                           else the whole debian cache, as lxc-debian does; makes no container
";

/// The packages every guest gets on top of the variant: an init, DHCP on
/// its NICs, the tools a container's services expect.
pub const BASE_PACKAGES: &[&str] = &[
    "init",
    "ifupdown",
    "isc-dhcp-client",
    "iproute2",
    "netbase",
    "ca-certificates",
];

fn usage(reason: String) -> TemplateError {
    TemplateError::Usage {
        template: "debian".into(),
        reason,
    }
}

/// The host's Debian codename, from `/etc/os-release`.
fn host_release(os_release: &str) -> Option<String> {
    let id = os_release.lines().find_map(|l| l.strip_prefix("ID="))?;
    if id.trim_matches('"') != "debian" {
        return None;
    }
    os_release
        .lines()
        .find_map(|l| l.strip_prefix("VERSION_CODENAME="))
        .map(|v| v.trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

impl Options {
    /// Parses the arguments after `--`; `env` looks up `SUITE`, `MIRROR`,
    /// `SECURITY_MIRROR`.
    pub fn parse(
        args: &[String],
        env: impl Fn(&str) -> Option<String>,
        os_release: &str,
        host_arch: &str,
    ) -> Result<Options, TemplateError> {
        let mut o = Options {
            release: env("SUITE")
                .or_else(|| host_release(os_release))
                .unwrap_or_else(|| "bookworm".into()),
            arch: host_arch.to_string(),
            mirror: env("MIRROR").unwrap_or_default(),
            security_mirror: env("SECURITY_MIRROR").unwrap_or_default(),
            packages: Vec::new(),
            variant: "minbase".into(),
            clean: false,
            flush_cache: false,
            non_free: false,
            keyring: None,
        };
        let mut r = ArgReader::new("debian", args);
        while let Some(flag) = r.next_flag() {
            match flag.as_str() {
                "-r" | "--release" => o.release = r.value()?,
                "-a" | "--arch" => o.arch = r.value()?,
                "--mirror" => o.mirror = r.value()?,
                "--security-mirror" => o.security_mirror = r.value()?,
                "--packages" => o.packages.extend(
                    r.value()?
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(str::to_string),
                ),
                "--variant" => o.variant = r.value()?,
                "-c" | "--clean" => o.clean = true,
                "-F" | "--flush-cache" => o.flush_cache = true,
                "--enable-non-free" => o.non_free = true,
                "--keyring" => o.keyring = Some(r.value()?),
                _ => return Err(r.unknown()),
            }
        }
        // Releases gone from the mirrors are on Debian's archive server.
        let archived = !o.at_least("bullseye");
        if o.mirror.is_empty() {
            o.mirror = if archived {
                "http://archive.debian.org/debian".into()
            } else {
                "http://deb.debian.org/debian".into()
            };
        }
        if o.security_mirror.is_empty() {
            o.security_mirror = if archived {
                "http://archive.debian.org/debian-security".into()
            } else {
                "http://security.debian.org/debian-security".into()
            };
        }
        if !is_name(&o.release) || !is_name(&o.arch) {
            return Err(usage(format!(
                "`{}`/`{}` is not a release/architecture name",
                o.release, o.arch
            )));
        }
        Ok(o)
    }

    /// The cache entry's name: `rootfs-SUITE-ARCH`, as lxc-debian names it,
    /// for the default package set; what else was asked for (packages, a
    /// variant, non-free) gets an entry of its own, suffixed by a digest of it.
    pub fn cache_entry(&self) -> String {
        let base = format!("rootfs-{}-{}", self.release, self.arch);
        if self.packages.is_empty() && self.variant == "minbase" && !self.non_free {
            return base;
        }
        let mut pkgs = self.packages.clone();
        pkgs.sort();
        let key = format!("{}|{}|{}", pkgs.join(","), self.variant, self.non_free);
        entry_for(&base, &key)
    }

    /// Whether the release is `name` or newer.
    pub fn at_least(&self, name: &str) -> bool {
        let pos = |r: &str| RELEASES.iter().position(|x| *x == r).unwrap_or(usize::MAX);
        pos(&self.release) >= pos(name)
    }

    /// The packages on top of the variant: [`BASE_PACKAGES`], less `init`
    /// where the release predates it (sysvinit is then the init) or another
    /// init is asked for, and with `iproute` for `iproute2` before jessie.
    pub fn include(&self) -> Vec<String> {
        let other_init = self
            .packages
            .iter()
            .any(|p| OTHER_INITS.contains(&p.as_str()));
        let old = !self.at_least("jessie");
        let mut v: Vec<String> = BASE_PACKAGES
            .iter()
            .filter(|p| !(**p == "init" && (old || other_init)))
            .map(|p| match *p {
                "iproute2" if old => "iproute".to_string(),
                p => p.to_string(),
            })
            .collect();
        v.extend(self.packages.iter().cloned());
        v
    }

    /// debootstrap's options (the suite, target and mirror follow them).
    pub fn debootstrap_options(&self) -> Vec<String> {
        let include = self.include();
        let mut v = vec![
            format!("--variant={}", self.variant),
            format!("--arch={}", self.arch),
            format!("--include={}", include.join(",")),
        ];
        if self.non_free {
            let comps = if self.at_least("bookworm") {
                "main,contrib,non-free,non-free-firmware"
            } else {
                "main,contrib,non-free"
            };
            v.push(format!("--components={comps}"));
        }
        // The Release signature is checked, always (debootstrap otherwise
        // goes on unverified when it lacks the keys).
        v.push("--force-check-gpg".into());
        if let Some(k) = &self.keyring {
            v.push(format!("--keyring={k}"));
        }
        v
    }

    /// The guest's `sources.list`.
    pub fn sources_list(&self) -> String {
        let comps = if self.non_free {
            "main contrib non-free non-free-firmware"
        } else {
            "main"
        };
        let mut s = format!("deb {} {} {comps}\n", self.mirror, self.release);
        if !matches!(self.release.as_str(), "sid" | "unstable") {
            s.push_str(&format!(
                "deb {} {}-updates {comps}\n",
                self.mirror, self.release
            ));
            // `SUITE-security` since bullseye, `SUITE/updates` before.
            let security = if self.at_least("bullseye") {
                format!("{}-security", self.release)
            } else {
                format!("{}/updates", self.release)
            };
            s.push_str(&format!(
                "deb {} {security} {comps}\n",
                self.security_mirror
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OS: &str =
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_CODENAME=bookworm\n";

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Options, TemplateError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Options::parse(
            &args,
            |k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()),
            OS,
            "amd64",
        )
    }

    #[test]
    fn lxc_debians_options_and_environment() {
        let o = parse(&[], &[]).unwrap();
        assert_eq!(
            (o.release.as_str(), o.arch.as_str(), o.variant.as_str()),
            ("bookworm", "amd64", "minbase")
        );
        assert_eq!(o.cache_entry(), "rootfs-bookworm-amd64");
        let o = parse(
            &[
                "-r",
                "trixie",
                "--packages",
                "vim,less",
                "--mirror=http://m/debian",
                "-F",
            ],
            &[],
        )
        .unwrap();
        assert_eq!(o.release, "trixie");
        assert!(o.flush_cache);
        assert!(
            o.cache_entry().starts_with("rootfs-trixie-amd64-"),
            "extra packages: an entry of their own"
        );
        let args = o.debootstrap_options();
        assert_eq!(
            args[2],
            "--include=init,ifupdown,isc-dhcp-client,iproute2,netbase,ca-certificates,vim,less"
        );
        assert_eq!(o.mirror, "http://m/debian");
        assert_eq!(parse(&[], &[("SUITE", "sid")]).unwrap().release, "sid");
        assert_eq!(
            parse(&[], &[("SUITE", "sid")]).unwrap().sources_list(),
            "deb http://deb.debian.org/debian sid main\n"
        );
        // Old suites: no `init` (sysvinit), iproute, the archive server.
        let w = parse(&["-r", "wheezy"], &[]).unwrap();
        assert_eq!(
            w.include()[..4],
            ["ifupdown", "isc-dhcp-client", "iproute", "netbase"]
        );
        assert_eq!(w.mirror, "http://archive.debian.org/debian");
        assert!(w
            .sources_list()
            .contains("debian-security wheezy/updates main"));
        let sv = parse(&["--packages", "sysvinit-core"], &[]).unwrap();
        assert!(!sv.include().contains(&"init".to_string()));
        assert!(sv.include().contains(&"sysvinit-core".to_string()));
        assert!(parse(&["--keyring", "/k.gpg"], &[])
            .unwrap()
            .debootstrap_options()
            .contains(&"--keyring=/k.gpg".to_string()));
        assert!(parse(&["--bogus"], &[])
            .unwrap_err()
            .to_string()
            .contains("unknown argument `--bogus`"));
        assert!(parse(&["-r"], &[])
            .unwrap_err()
            .to_string()
            .contains("`-r` needs a value"));
        assert!(parse(&["-r", "../x"], &[]).is_err());
        assert_eq!(
            Options::parse(
                &[],
                |_| None,
                "ID=ubuntu\nVERSION_CODENAME=noble\n",
                "arm64"
            )
            .unwrap()
            .release,
            "bookworm"
        );
    }
}
