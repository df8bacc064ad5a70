//! The ubuntu template's options, as LXC's `lxc-ubuntu` and the Server
//! Guide spell them, with its environment variables (`MIRROR`,
//! `SECURITY_MIRROR`), and what they turn into: debootstrap's arguments and
//! the guest's `sources.list`.

use rlxc_core::template::TemplateError;
use rlxc_core::templates::args::{entry_for, is_name, ArgReader};

/// What `-t ubuntu -- …` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `-r RELEASE` (default: the host's when it is Ubuntu, else the newest LTS).
    pub release: String,
    /// `-a ARCH` (default: the host's).
    pub arch: String,
    /// `-b USER`: the host user whose account and home the guest gets.
    pub bindhome: Option<String>,
    /// `-S FILE`: a public key for the user's `authorized_keys`.
    pub auth_key: Option<String>,
    /// `-u USER` (default `ubuntu`).
    pub user: String,
    /// `--password` (default `ubuntu`).
    pub password: String,
    /// `--packages a,b`: more packages.
    pub packages: Vec<String>,
    /// `-v VARIANT` (debootstrap's; default minbase).
    pub variant: String,
    /// `--trim`: none of the template's convenience packages (ssh, vim,
    /// language packs), the smallest guest that boots and networks.
    pub trim: bool,
    /// `-F`: build the cache again.
    pub flush_cache: bool,
    /// `--mirror` / `$MIRROR`.
    pub mirror: String,
    /// `--security-mirror` / `$SECURITY_MIRROR`.
    pub security_mirror: String,
    /// `--keyring FILE`: the keys the mirror's Release is signed with
    /// (default: the Ubuntu archive's, from the host's ubuntu-keyring).
    pub keyring: String,
}

/// The help text (`create -t ubuntu -h`).
pub const HELP: &str = "ubuntu template: debootstrap from an Ubuntu mirror into a cache, copied into the container

  -r, --release NAME       Ubuntu release (default: the host's on Ubuntu, else the newest LTS)
  -a, --arch ARCH          architecture (default: the host's; i386 on amd64; others need qemu-user-static)
  -b, --bindhome USER      give the guest the host USER's account (passwd, shadow, group, shell,
                           sudo) and bind its home at start, instead of the `ubuntu` user
  -S, --auth-key FILE      public key for the user's ~/.ssh/authorized_keys
  -u, --user NAME          the user made in the guest (default ubuntu)
      --password PW        its password (default ubuntu)
      --packages A,B       more packages to install
  -v, --variant NAME       debootstrap variant (default minbase)
      --trim               leave out ssh, vim and the language packs
  -F, --flush-cache        build the cached rootfs again
      --mirror URL         package mirror ($MIRROR; default http://archive.ubuntu.com/ubuntu)
      --security-mirror URL  security mirror ($SECURITY_MIRROR)
      --keyring FILE       keys the mirror is signed with
                           (default /usr/share/keyrings/ubuntu-archive-keyring.gpg, package ubuntu-keyring)
";

/// Where the Ubuntu archive's keys are on a host with ubuntu-keyring.
pub const UBUNTU_KEYRING: &str = "/usr/share/keyrings/ubuntu-archive-keyring.gpg";

/// The newest LTS when the host has no distro-info data to say.
pub const FALLBACK_LTS: &str = "noble";

/// Releases in order, oldest first, as far as the template's choices
/// depend on them (a name not listed is taken as newer than all).
const RELEASES: &[&str] = &[
    "trusty", "xenial", "yakkety", "zesty", "artful", "bionic", "cosmic", "disco", "eoan", "focal",
    "groovy", "hirsute", "impish", "jammy", "kinetic", "lunar", "mantic", "noble",
];

fn usage(reason: String) -> TemplateError {
    TemplateError::Usage {
        template: "ubuntu".into(),
        reason,
    }
}

/// The host's Ubuntu codename, from `/etc/os-release`.
pub fn host_release(os_release: &str) -> Option<String> {
    let field = |k: &str| {
        os_release
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.trim_matches('"').to_string())
            .filter(|v| !v.is_empty())
    };
    if field("ID=")? != "ubuntu" {
        return None;
    }
    field("UBUNTU_CODENAME=").or_else(|| field("VERSION_CODENAME="))
}

/// The newest LTS released by `today` (`YYYY-MM-DD`), from distro-info's
/// `ubuntu.csv` (version,codename,series,created,release,eol,…).
pub fn newest_lts(csv: &str, today: &str) -> Option<String> {
    csv.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let (released, series) = (*f.get(4)?, *f.get(2)?);
            (f.first()?.contains("LTS") && !released.is_empty() && released <= today)
                .then(|| (released.to_string(), series.to_string()))
        })
        .max()
        .map(|(_, series)| series)
}

impl Options {
    /// Parses the arguments after `--`. `env` looks up `MIRROR` and
    /// `SECURITY_MIRROR`; `default_release` is the release when `-r` is not given.
    pub fn parse(
        args: &[String],
        env: impl Fn(&str) -> Option<String>,
        default_release: &str,
        host_arch: &str,
    ) -> Result<Options, TemplateError> {
        let mut o = Options {
            release: default_release.to_string(),
            arch: host_arch.to_string(),
            bindhome: None,
            auth_key: None,
            user: "ubuntu".into(),
            password: "ubuntu".into(),
            packages: Vec::new(),
            variant: "minbase".into(),
            trim: false,
            flush_cache: false,
            mirror: String::new(),
            security_mirror: String::new(),
            keyring: UBUNTU_KEYRING.into(),
        };
        let (mut mirror, mut security) = (env("MIRROR"), env("SECURITY_MIRROR"));
        let mut r = ArgReader::new("ubuntu", args);
        while let Some(flag) = r.next_flag() {
            match flag.as_str() {
                "-r" | "--release" => o.release = r.value()?,
                "-a" | "--arch" => o.arch = r.value()?,
                "-b" | "--bindhome" => o.bindhome = Some(r.value()?),
                "-S" | "--auth-key" => o.auth_key = Some(r.value()?),
                "-u" | "--user" => o.user = r.value()?,
                "--password" => o.password = r.value()?,
                "--packages" => o.packages.extend(
                    r.value()?
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(str::to_string),
                ),
                "-v" | "--variant" => o.variant = r.value()?,
                "--trim" => o.trim = true,
                "-F" | "--flush-cache" => o.flush_cache = true,
                "--mirror" => mirror = Some(r.value()?),
                "--security-mirror" => security = Some(r.value()?),
                "--keyring" => o.keyring = r.value()?,
                _ => return Err(r.unknown()),
            }
        }
        let ports = !matches!(o.arch.as_str(), "amd64" | "i386");
        o.mirror = mirror.unwrap_or_else(|| {
            if ports {
                "http://ports.ubuntu.com/ubuntu-ports".into()
            } else {
                "http://archive.ubuntu.com/ubuntu".into()
            }
        });
        o.security_mirror = security.unwrap_or_else(|| {
            if ports {
                "http://ports.ubuntu.com/ubuntu-ports".into()
            } else {
                "http://security.ubuntu.com/ubuntu".into()
            }
        });
        o.check()?;
        Ok(o)
    }

    fn check(&self) -> Result<(), TemplateError> {
        for (what, v) in [
            ("release", &self.release),
            ("architecture", &self.arch),
            ("user", &self.user),
            ("variant", &self.variant),
        ] {
            if !is_name(v) {
                return Err(usage(format!("`{v}` is not a {what} name")));
            }
        }
        if self.password.contains(['\n', ':']) {
            return Err(usage("a password cannot hold `:` or a newline".into()));
        }
        if let Some(p) = self.packages.iter().find(|p| !is_name(p)) {
            return Err(usage(format!("`{p}` is not a package name")));
        }
        Ok(())
    }

    /// Whether the release is `name` or newer.
    pub fn at_least(&self, name: &str) -> bool {
        let pos = |r: &str| RELEASES.iter().position(|x| *x == r).unwrap_or(usize::MAX);
        pos(&self.release) >= pos(name)
    }

    /// The packages on top of the variant: an init, the release's network
    /// configuration (netplan since artful, ifupdown before, as lxc-ubuntu
    /// chooses), sudo for the user, and unless `--trim` lxc-ubuntu's ssh,
    /// vim and English language pack.
    pub fn include(&self) -> Vec<String> {
        let mut v: Vec<&str> = vec!["init", "iproute2", "sudo", "ca-certificates"];
        if self.at_least("artful") {
            // dbus: the system bus networkd and resolved talk over (and
            // debootstrap does not resolve their virtual dependency on it).
            v.extend(["netplan.io", "dbus"]);
        } else {
            v.extend(["ifupdown", "isc-dhcp-client"]);
        }
        if self.at_least("lunar") {
            // Split out of systemd there; netplan's DNS goes through it.
            v.push("systemd-resolved");
        }
        if !self.trim {
            v.extend(["ssh", "vim", "language-pack-en"]);
        }
        let mut v: Vec<String> = v.into_iter().map(str::to_string).collect();
        v.extend(self.packages.iter().cloned());
        v
    }

    /// The cache entry: `rootfs-RELEASE-ARCH` for the default set; another
    /// set (packages, a variant, `--trim`) gets an entry of its own.
    pub fn cache_entry(&self) -> String {
        let base = format!("rootfs-{}-{}", self.release, self.arch);
        if self.packages.is_empty() && self.variant == "minbase" && !self.trim {
            return base;
        }
        let mut pkgs = self.packages.clone();
        pkgs.sort();
        let key = format!("{}|{}|{}", pkgs.join(","), self.variant, self.trim);
        entry_for(&base, &key)
    }

    /// debootstrap's options: the signature is checked, always.
    pub fn debootstrap_options(&self) -> Vec<String> {
        vec![
            format!("--variant={}", self.variant),
            format!("--arch={}", self.arch),
            "--components=main,universe".into(),
            format!("--include={}", self.include().join(",")),
            format!("--keyring={}", self.keyring),
            "--force-check-gpg".into(),
        ]
    }

    /// The guest's `sources.list`, as lxc-ubuntu writes it.
    pub fn sources_list(&self) -> String {
        let comps = "main restricted universe multiverse";
        format!(
            "deb {m} {r} {comps}\ndeb {m} {r}-updates {comps}\ndeb {s} {r}-security {comps}\n",
            m = self.mirror,
            r = self.release,
            s = self.security_mirror
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Options, TemplateError> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        Options::parse(
            &args,
            |k| {
                env.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            },
            "noble",
            "amd64",
        )
    }

    #[test]
    fn the_guides_options() {
        let o = parse(&[], &[]).unwrap();
        assert_eq!((o.user.as_str(), o.password.as_str()), ("ubuntu", "ubuntu"));
        assert_eq!(o.mirror, "http://archive.ubuntu.com/ubuntu");
        assert_eq!(o.cache_entry(), "rootfs-noble-amd64");
        assert_eq!(
            o.include().join(","),
            "init,iproute2,sudo,ca-certificates,netplan.io,dbus,systemd-resolved,ssh,vim,language-pack-en"
        );
        let args = o.debootstrap_options();
        assert!(args.contains(&"--force-check-gpg".to_string()));
        assert!(o
            .sources_list()
            .contains("deb http://security.ubuntu.com/ubuntu noble-security main restricted"));
        let o = parse(
            &[
                "-r",
                "xenial",
                "-b",
                "jo",
                "-S",
                "/k.pub",
                "--trim",
                "--packages=less",
            ],
            &[("MIRROR", "file:///m")],
        )
        .unwrap();
        assert_eq!(o.mirror, "file:///m");
        assert_eq!(o.bindhome.as_deref(), Some("jo"));
        assert_eq!(
            o.include().join(","),
            "init,iproute2,sudo,ca-certificates,ifupdown,isc-dhcp-client,less"
        );
        assert!(o.cache_entry().starts_with("rootfs-xenial-amd64-"));
        // A release newer than the list is taken as the newest.
        assert!(parse(&["-r", "resolute"], &[]).unwrap().at_least("noble"));
        assert_eq!(
            parse(&["-a", "arm64"], &[]).unwrap().mirror,
            "http://ports.ubuntu.com/ubuntu-ports"
        );
        for bad in [
            &["--bogus"][..],
            &["-r"],
            &["-u", "a:b"],
            &["--password", "a:b"],
        ] {
            assert!(parse(bad, &[]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_default_release() {
        assert_eq!(
            host_release("ID=ubuntu\nVERSION_CODENAME=jammy\nUBUNTU_CODENAME=jammy\n").as_deref(),
            Some("jammy")
        );
        assert_eq!(host_release("ID=debian\nVERSION_CODENAME=bookworm\n"), None);
        let csv = "version,codename,series,created,release,eol,eol-server\n\
                   22.04 LTS,Jammy Jellyfish,jammy,2021-10-14,2022-04-21,2027-06-01\n\
                   24.04 LTS,Noble Numbat,noble,2023-10-12,2024-04-25,2029-05-31\n\
                   24.10,Oracular Oriole,oracular,2024-04-25,2024-10-10,2025-07-10\n\
                   26.04 LTS,Resolute Raccoon,resolute,2025-10-09,2026-04-23,2031-05-29\n";
        assert_eq!(newest_lts(csv, "2026-12-01").as_deref(), Some("resolute"));
        assert_eq!(newest_lts(csv, "2025-01-01").as_deref(), Some("noble"));
        assert_eq!(newest_lts("", "2025-01-01"), None);
    }
}
