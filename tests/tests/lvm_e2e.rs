//! The lvm backend with real lvm2 tools: a volume group on a loop device
//! (pvcreate/vgcreate, made and removed by the test). Where the kernel has
//! device-mapper, a container is a logical volume through its whole life;
//! where it has none (this project's test machines), `create -B lvm` fails
//! with an error that says so and leaves nothing: no container, no LV.

use std::path::Path;

use rlxc_tests::{run, Lab};

/// A VG on a loop device over a file; all three go on drop.
struct Vg {
    name: String,
    loopdev: String,
}

fn sh(cmd: &str) -> (bool, String) {
    let o = run(std::process::Command::new("sh")
        .args(["-c", cmd])
        .env("LVM_SUPPRESS_FD_WARNINGS", "1"));
    (
        o.status.success(),
        rlxc_tests::stdout(&o) + &rlxc_tests::stderr(&o),
    )
}

impl Vg {
    fn new(dir: &Path) -> Option<Vg> {
        if !rlxc_tests::require(sh("command -v vgcreate").0, "lvm2") {
            return None;
        }
        let img = dir.join("pv.img");
        let (ok, out) = sh(&format!(
            "truncate -s 128M {0} && losetup -f --show {0}",
            img.display()
        ));
        assert!(ok, "{out}");
        let vg = Vg {
            name: format!("rlxcvg{}", std::process::id()),
            loopdev: out.trim().to_string(),
        };
        let (ok, out) = sh(&format!(
            "pvcreate -q {0} && vgcreate -q {1} {0}",
            vg.loopdev, vg.name
        ));
        assert!(ok, "pvcreate/vgcreate: {out}");
        Some(vg)
    }

    fn lv_count(&self) -> String {
        sh(&format!("vgs --noheadings -o lv_count {}", self.name))
            .1
            .trim()
            .to_string()
    }
}

impl Drop for Vg {
    fn drop(&mut self) {
        let _ = sh(&format!(
            "vgremove -f -q {0}; pvremove -q {1}; losetup -d {1}",
            self.name, self.loopdev
        ));
    }
}

#[test]
fn a_container_on_lvm_or_a_clear_no_device_mapper_error() {
    let Some(lab) = Lab::new() else { return };
    let Some(vg) = Vg::new(lab.path()) else {
        return;
    };
    let c = lab.name("lvm1");
    let args = [
        "create", "-n", &c, "-t", "busybox", "-B", "lvm", "--vgname", &vg.name, "--fssize", "32M",
    ];
    let device_mapper = std::fs::read_to_string("/proc/misc")
        .is_ok_and(|m| m.lines().any(|l| l.ends_with(" device-mapper")));
    if !device_mapper {
        let err = lab.fails(&args, 1);
        assert!(err.contains("this kernel has no device-mapper"), "{err}");
        assert!(
            err.contains(&format!(
                "lvcreate -Wy --yes -n {c} -L 33554432b {}",
                vg.name
            )),
            "{err}"
        );
        assert!(
            !Path::new(&lab.lxcpath).join(&c).exists(),
            "no container left"
        );
        assert_eq!(vg.lv_count(), "0", "no LV left");
        return;
    }
    lab.ok(&args);
    let cfg = std::fs::read_to_string(Path::new(&lab.lxcpath).join(&c).join("config")).unwrap();
    assert!(
        cfg.contains(&format!("lxc.rootfs.path = lvm:/dev/{}/{c}\n", vg.name)),
        "{cfg}"
    );
    assert_eq!(
        lab.ok(&["execute", "-n", &c, "--", "hostname"]),
        format!("{c}\n")
    );
    let s = lab.name("lvm2");
    lab.ok(&["copy", "-n", &c, "-N", &s, "-s"]);
    assert_eq!(vg.lv_count(), "2");
    lab.ok(&["destroy", "-n", &c, "-s"]);
    assert_eq!(vg.lv_count(), "0");
    lab.assert_clean(&c);
}
