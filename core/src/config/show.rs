//! `config show`: the effective configuration as this host would apply it —
//! includes resolved, legacy keys under their modern names, cgroup keys in the
//! hierarchy version the host has, with every translation written as a comment.

use super::cgroup::Version;
use super::model::Config;
use crate::cgroups::{place, CgroupLayout, Placement};

/// Renders the effective configuration as config text.
pub fn render(config: &Config, layout: &CgroupLayout) -> String {
    let mut out = String::new();
    if let Some(top) = config.files.first() {
        out.push_str(&format!("# effective configuration of {}\n", top.display()));
    }
    for f in config.files.iter().skip(1) {
        out.push_str(&format!("# included: {}\n", f.display()));
    }
    let report = place(&config.cgroup_settings(), layout);
    let mut cgroup_written = false;
    for item in config.items() {
        let is_cgroup = matches!(item.spec().group, "cgroup" | "cgroup2");
        if is_cgroup {
            if !cgroup_written {
                write_cgroups(&mut out, &report, layout);
                cgroup_written = true;
            }
            continue;
        }
        let value = if item.key == "lxc.rootfs.path" {
            config.rootfs_path().unwrap_or_default()
        } else {
            item.value.clone()
        };
        out.push_str(&format!("{} = {}\n", item.key, value));
    }
    for ign in &config.ignored {
        out.push_str(&format!(
            "# ignored {} at {}: {}\n",
            ign.key, ign.origin, ign.why
        ));
    }
    out
}

fn write_cgroups(out: &mut String, report: &Placement, layout: &CgroupLayout) {
    let v = match layout.preferred_version() {
        Version::V1 => "v1",
        Version::V2 => "v2",
    };
    out.push_str(&format!(
        "# cgroup settings as this host ({}) applies them, in cgroup {v}:\n",
        layout.describe()
    ));
    for w in &report.writes {
        out.push_str(&format!("{}\n", w.setting));
    }
    for t in &report.translated {
        let from: Vec<String> = t.from.iter().map(ToString::to_string).collect();
        let to: Vec<String> = t.to.iter().map(ToString::to_string).collect();
        out.push_str(&format!(
            "# translated {} → {} ({})\n",
            from.join(", "),
            to.join(", "),
            t.note
        ));
    }
    for t in &report.untranslatable {
        let from: Vec<String> = t.from.iter().map(ToString::to_string).collect();
        out.push_str(&format!("# NOT APPLIED {}: {}\n", from.join(", "), t.note));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_text;
    use std::path::Path;

    #[test]
    fn shows_modern_names_and_translations() {
        let c = load_text(
            b"lxc.utsname = web\nlxc.cgroup.memory.limit_in_bytes = 320000000\nlxc.rootfs.backend = dir\nlxc.rootfs = /r\n",
            Path::new("/c/config"),
        )
        .unwrap();
        let v2 = CgroupLayout::fake_unified(&["memory", "cpu"]);
        let text = render(&c, &v2);
        assert!(text.contains("lxc.uts.name = web\n"), "{text}");
        assert!(
            text.contains("lxc.cgroup2.memory.max = 320000000\n"),
            "{text}"
        );
        assert!(text.contains(
            "# translated lxc.cgroup.memory.limit_in_bytes = 320000000 → lxc.cgroup2.memory.max"
        ));
        assert!(text.contains("lxc.rootfs.path = dir:/r\n"));
        assert!(text.contains("# ignored lxc.rootfs.backend at /c/config:3"));
        let v1 = CgroupLayout::fake_legacy(&["memory"]);
        assert!(render(&c, &v1).contains("lxc.cgroup.memory.limit_in_bytes = 320000000\n"));
    }
}
