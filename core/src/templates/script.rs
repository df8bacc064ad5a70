//! A built-in template run the way LXC runs a template script, so that
//! `lxc-NAME` links to rlxc work where LXC's scripts are expected: by
//! LXC's own `lxc-create` (`--path DIR --name NAME --rootfs ROOTFS
//! [--mapped-uid U --mapped-gid G] ARGS…`, the config lines appended to
//! `DIR/config` as LXC's scripts do), and by hand, as the guide cleans the
//! cache: `SUITE=sid lxc-debian --clean`.

use crate::template::{Template, TemplateError, TemplateRequest};
use std::path::{Path, PathBuf};

/// LXC's template calling convention, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptArgs {
    /// `--path`: the container directory.
    pub path: Option<PathBuf>,
    /// `--name`.
    pub name: Option<String>,
    /// `--rootfs` (default `PATH/rootfs`).
    pub rootfs: Option<PathBuf>,
    /// `--mapped-uid`.
    pub mapped_uid: Option<u32>,
    /// `--mapped-gid`.
    pub mapped_gid: Option<u32>,
    /// `-h` / `--help`.
    pub help: bool,
    /// Everything else: the template's own arguments.
    pub rest: Vec<String>,
}

/// What a script run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptOutcome {
    /// `-h`: the template's help.
    Help(String),
    /// `--clean`: the paths removed.
    Cleaned(Vec<PathBuf>),
    /// The rootfs is filled and `config` has the template's lines.
    Made {
        /// The config appended to.
        config: PathBuf,
    },
}

fn usage(template: &str, reason: String) -> TemplateError {
    TemplateError::Usage {
        template: template.into(),
        reason,
    }
}

/// Parses LXC's convention; `--` is dropped (lxc-create passes none, a
/// user may).
pub fn parse(template: &str, args: &[String]) -> Result<ScriptArgs, TemplateError> {
    let mut a = ScriptArgs::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| usage(template, format!("`{flag}` needs a value")))
        };
        let id = |v: String| {
            v.parse::<u32>()
                .map_err(|_| usage(template, format!("`{flag} {v}`: not an id")))
        };
        match flag {
            "--path" => a.path = Some(PathBuf::from(value()?)),
            "--name" => a.name = Some(value()?),
            "--rootfs" => a.rootfs = Some(PathBuf::from(value()?)),
            "--mapped-uid" => a.mapped_uid = Some(id(value()?)?),
            "--mapped-gid" => a.mapped_gid = Some(id(value()?)?),
            "-h" | "--help" => a.help = true,
            "--" => {}
            _ => a.rest.push(arg.clone()),
        }
    }
    Ok(a)
}

/// Runs `template` as a script with `args`, its cache under `cache_dir`.
pub fn run(
    template: &dyn Template,
    cache_dir: &Path,
    args: &[String],
) -> Result<ScriptOutcome, TemplateError> {
    let name = template.name().to_string();
    let a = parse(&name, args)?;
    if a.help {
        return Ok(ScriptOutcome::Help(template.help()));
    }
    if a.path.is_none() && a.rest.iter().any(|r| r == "--clean") {
        let rest: Vec<String> = a.rest.into_iter().filter(|r| r != "--clean").collect();
        return template.clean(cache_dir, &rest).map(ScriptOutcome::Cleaned);
    }
    let (Some(path), Some(cname)) = (a.path, a.name) else {
        return Err(usage(
            &name,
            "called as a template script it needs `--path DIR --name NAME` (LXC's lxc-create passes them), or `--clean`".into(),
        ));
    };
    let config = path.join("config");
    let rootfs = a.rootfs.unwrap_or_else(|| path.join("rootfs"));
    std::fs::create_dir_all(&rootfs).map_err(|source| TemplateError::Io {
        template: name.clone(),
        path: rootfs.clone(),
        source,
    })?;
    let base = config.is_file().then_some(config.as_path());
    let req = TemplateRequest {
        name: cname,
        path: path.clone(),
        rootfs,
        args: a.rest,
        mapped_uid: a.mapped_uid,
        mapped_gid: a.mapped_gid,
        cache_dir: cache_dir.to_path_buf(),
        nics: crate::container::create::base_nics(base),
        tty_max: crate::container::create::base_tty_max(base),
        quiet: false,
        volume: None,
    };
    let out = crate::start::runtime::block_on(template.create(&crate::sys::RealSys, &req))
        .map_err(|e| usage(&name, format!("cannot start the I/O runtime: {e}")))??;
    let mut text = out.config_lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&config)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|source| TemplateError::Io {
            template: name,
            path: config.clone(),
            source,
        })?;
    Ok(ScriptOutcome::Made { config })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lxcs_convention() {
        let v: Vec<String> = [
            "--path",
            "/var/lib/lxc/c1",
            "--name=c1",
            "--rootfs",
            "/r",
            "--mapped-uid",
            "100000",
            "--",
            "-r",
            "sid",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let a = parse("debian", &v).unwrap();
        assert_eq!(a.path.as_deref(), Some(Path::new("/var/lib/lxc/c1")));
        assert_eq!(a.name.as_deref(), Some("c1"));
        assert_eq!(a.mapped_uid, Some(100000));
        assert_eq!(a.rest, ["-r", "sid"]);
        assert!(parse("debian", &["--mapped-uid".into(), "x".into()]).is_err());
        // busybox keeps no cache: its --clean is refused by name.
        let e = run(
            &crate::templates::Busybox::new(),
            Path::new("/nonexistent"),
            &["--clean".into()],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("template `busybox`: it has no `--clean`"), "{e}");
        let e = run(&crate::templates::Busybox::new(), Path::new("/x"), &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs `--path DIR --name NAME`"), "{e}");
    }
}
