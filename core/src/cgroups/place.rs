//! Where each cgroup setting of a config goes on this host: a setting whose
//! controller this host has in the setting's own version is applied as it is;
//! any other is translated to the other version (see [`super::translate`]).
//! When a config sets the same file in both dialects — LXC's own
//! `common.conf` has both `lxc.cgroup.devices.*` and `lxc.cgroup2.devices.*` —
//! the one for this host's version wins and the other is dropped silently.
//! Device rules are not placed here: [`super::devices::DevicePolicy`]
//! decides where they are enforced (v1 files or a cgroup2 program).

use super::devices::is_device_file;
use super::layout::CgroupLayout;
use super::translate::{translate, Translation};
use crate::config::cgroup::{CgroupSetting, Version};

/// One file write of a placed config.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Placed {
    /// What to write, in a version this host has for its controller.
    pub setting: CgroupSetting,
    /// The config key it came from (for errors).
    pub key: String,
}

/// A config's cgroup settings placed on one host.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Placement {
    /// The writes, in config order.
    pub writes: Vec<Placed>,
    /// Every setting that changed version, and how.
    pub translated: Vec<Translation>,
    /// Settings this host cannot apply, with why.
    pub untranslatable: Vec<Translation>,
}

impl Placement {
    /// The settings alone.
    pub fn settings(&self) -> Vec<CgroupSetting> {
        self.writes.iter().map(|w| w.setting.clone()).collect()
    }
}

/// The settings of `input` as this host applies them, in config order, with
/// every translation and every setting that cannot be applied (a controller
/// the host lacks in both versions, or no equivalent).
pub fn place(input: &[CgroupSetting], layout: &CgroupLayout) -> Placement {
    let native = |s: &CgroupSetting| layout.has_controller(s.version, s.controller());
    // Translations are computed per target version, over the whole input
    // (memsw needs memory's limit, quota goes with period).
    let report_for = |target: Version| {
        input
            .iter()
            .any(|s| s.version != target && !native(s))
            .then(|| translate(input, target))
    };
    let (to_v2, to_v1) = (report_for(Version::V2), report_for(Version::V1));
    let mut out = Placement::default();
    let mut used: Vec<*const Translation> = Vec::new();
    for s in input.iter().filter(|s| !is_device_file(&s.file)) {
        if native(s) {
            out.writes.push(Placed {
                setting: s.clone(),
                key: s.key(),
            });
            continue;
        }
        let report = match s.version {
            Version::V1 => to_v2.as_ref(),
            Version::V2 => to_v1.as_ref(),
        };
        let found = report.and_then(|r| {
            let bad = r.untranslatable.iter().find(|t| t.from.contains(s));
            let good = r.translated.iter().find(|t| t.from.contains(s));
            bad.map(|t| (t, false)).or(good.map(|t| (t, true)))
        });
        // Quota and period share one translation: place it once.
        let Some((t, ok)) = found.filter(|(t, _)| !used.contains(&std::ptr::from_ref(*t))) else {
            continue;
        };
        used.push(t);
        if ok {
            place_translated(&mut out, t, s, input, layout);
        } else {
            out.untranslatable.push(t.clone());
        }
    }
    out
}

/// A translation's settings, less those the config also sets natively (the
/// host's dialect wins, silently), checked against the host's controllers.
fn place_translated(
    out: &mut Placement,
    t: &Translation,
    s: &CgroupSetting,
    input: &[CgroupSetting],
    layout: &CgroupLayout,
) {
    let set_natively = |x: &CgroupSetting| {
        input.iter().any(|n| {
            n.version == x.version
                && n.file == x.file
                && layout.has_controller(n.version, n.controller())
        })
    };
    let kept: Vec<CgroupSetting> = t.to.iter().filter(|x| !set_natively(x)).cloned().collect();
    if kept.is_empty() {
        return;
    }
    if let Some(missing) = kept
        .iter()
        .find(|x| !layout.has_controller(x.version, x.controller()))
    {
        out.untranslatable.push(Translation {
            from: t.from.clone(),
            to: Vec::new(),
            note: format!(
                "controller `{}` is not available on this host (in cgroup v1 or v2)",
                missing.controller()
            ),
        });
        return;
    }
    let key = s.key();
    out.writes.extend(kept.iter().map(|x| Placed {
        setting: x.clone(),
        key: key.clone(),
    }));
    out.translated.push(Translation {
        from: t.from.clone(),
        to: kept,
        note: t.note.clone(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: Version, f: &str, val: &str) -> CgroupSetting {
        CgroupSetting::new(v, f, val)
    }

    fn hybrid() -> CgroupLayout {
        // v1 devices and memory, cgroup2 with pids only.
        let mut l = CgroupLayout::fake_legacy(&["devices", "memory"]);
        l.unified = Some("/sys/fs/cgroup/unified".into());
        l.unified_controllers = vec!["pids".into()];
        l
    }

    #[test]
    fn both_dialects_of_one_file_keep_the_hosts_silently() {
        let input = vec![
            s(Version::V1, "memory.limit_in_bytes", "1G"),
            s(Version::V2, "memory.max", "1G"),
        ];
        let r = place(&input, &hybrid());
        assert_eq!(r.settings(), input[..1].to_vec());
        assert!(r.translated.is_empty() && r.untranslatable.is_empty());
    }

    #[test]
    fn device_rules_are_left_to_the_device_policy() {
        // LXC's common.conf sets devices in both dialects.
        let input = vec![
            s(Version::V1, "devices.deny", "a"),
            s(Version::V2, "devices.allow", "c 1:3 rwm"),
        ];
        assert_eq!(
            place(&input, &CgroupLayout::fake_unified(&[])),
            Placement::default()
        );
    }

    #[test]
    fn per_controller_placement_on_a_hybrid_host() {
        let input = vec![
            s(Version::V2, "memory.max", "1G"),
            s(Version::V2, "pids.max", "64"),
            s(Version::V1, "pids.max", "32"),
            s(Version::V1, "cpu.shares", "512"),
        ];
        let r = place(&input, &hybrid());
        assert_eq!(
            r.settings(),
            vec![
                s(Version::V1, "memory.limit_in_bytes", "1G"),
                s(Version::V2, "pids.max", "64"),
            ]
        );
        assert_eq!(r.translated.len(), 1);
        assert!(r.translated[0].describe().starts_with(
            "lxc.cgroup2.memory.max = 1G applied as lxc.cgroup.memory.limit_in_bytes"
        ));
        // cpu exists in neither version here: an error naming the key.
        assert_eq!(r.untranslatable.len(), 1);
        assert!(r.untranslatable[0]
            .describe()
            .contains("lxc.cgroup.cpu.shares"));
        assert!(r.untranslatable[0].note.contains("`cpu` is not available"));
    }
}
