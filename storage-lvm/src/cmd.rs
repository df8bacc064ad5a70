//! The lvm2 command lines rlxc runs, built by pure functions, and the
//! parsers of `lvs`/`vgs --reportformat json`. `-Wy --yes` answers lvm's
//! questions (wipe an old signature) so that nothing waits on a terminal.

/// A new LV of `size` bytes in `vg` (`lvcreate -Wy --yes -n LV -L SIZEb VG`).
pub fn lvcreate(vg: &str, lv: &str, size: u64) -> Vec<String> {
    args(&["-Wy", "--yes", "-n", lv, "-L", &format!("{size}b"), vg])
}

/// A thin LV in `vg/pool` (`lvcreate -Wy --yes --thin -V SIZEb -n LV VG/POOL`).
pub fn lvcreate_thin(vg: &str, pool: &str, lv: &str, size: u64) -> Vec<String> {
    args(&[
        "-Wy",
        "--yes",
        "--thin",
        "-V",
        &format!("{size}b"),
        "-n",
        lv,
        &format!("{vg}/{pool}"),
    ])
}

/// A snapshot of `vg/origin`: a thin one (no size, activated: `-kn`) or a
/// classic copy-on-write one of `size` bytes.
pub fn snapshot(vg: &str, origin: &str, new: &str, size: Option<u64>) -> Vec<String> {
    let mut v = args(&["-s", "-n", new]);
    match size {
        Some(s) => v.extend(args(&["-L", &format!("{s}b")])),
        None => v.extend(args(&["-kn"])),
    }
    v.push(format!("{vg}/{origin}"));
    v
}

/// `lvremove -f VG/LV`.
pub fn lvremove(vg: &str, lv: &str) -> Vec<String> {
    args(&["-f", &format!("{vg}/{lv}")])
}

/// `lvs --reportformat json --units b --nosuffix -o … VG`.
pub fn lvs(vg: &str) -> Vec<String> {
    args(&[
        "--reportformat",
        "json",
        "--units",
        "b",
        "--nosuffix",
        "-o",
        "lv_name,vg_name,lv_attr,lv_size,pool_lv,origin",
        vg,
    ])
}

/// `vgs --reportformat json --units b --nosuffix VG`.
pub fn vgs(vg: &str) -> Vec<String> {
    args(&["--reportformat", "json", "--units", "b", "--nosuffix", vg])
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_string()).collect()
}

/// One logical volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lv {
    /// Its name.
    pub name: String,
    /// Its volume group.
    pub vg: String,
    /// `lv_attr` (`t` first: a thin pool; `V`: a thin volume; `s`: a snapshot).
    pub attr: String,
    /// Bytes.
    pub size: u64,
    /// The thin pool it lives in.
    pub pool: Option<String>,
    /// The LV it is a snapshot of.
    pub origin: Option<String>,
}

impl Lv {
    /// A thin pool.
    pub fn is_thin_pool(&self) -> bool {
        self.attr.starts_with('t')
    }
}

fn report_rows(
    json: &str,
    kind: &str,
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("lvm report: {e}"))?;
    let rows = v["report"]
        .as_array()
        .and_then(|r| r.first())
        .and_then(|r| r[kind].as_array())
        .ok_or_else(|| format!("lvm report: no `{kind}` list"))?;
    Ok(rows.iter().filter_map(|r| r.as_object().cloned()).collect())
}

fn field(r: &serde_json::Map<String, serde_json::Value>, k: &str) -> String {
    r.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string()
}

fn size(s: &str) -> u64 {
    // `--units b --nosuffix` gives bytes; an older lvm may still add `B`.
    s.trim_end_matches('B')
        .parse::<f64>()
        .map_or(0, |v| v as u64)
}

/// Parses `lvs --reportformat json` (see [`lvs`]).
pub fn parse_lvs(json: &str) -> Result<Vec<Lv>, String> {
    let opt = |s: String| (!s.is_empty()).then_some(s);
    Ok(report_rows(json, "lv")?
        .iter()
        .map(|r| Lv {
            name: field(r, "lv_name"),
            vg: field(r, "vg_name"),
            attr: field(r, "lv_attr"),
            size: size(&field(r, "lv_size")),
            pool: opt(field(r, "pool_lv")),
            origin: opt(field(r, "origin")),
        })
        .collect())
}

/// The volume group's free bytes, from `vgs --reportformat json`.
pub fn parse_vg_free(json: &str) -> Result<u64, String> {
    let rows = report_rows(json, "vg")?;
    let r = rows.first().ok_or("lvm report: no volume group")?;
    Ok(size(&field(r, "vg_free")))
}

/// What lvm says when the kernel has no device-mapper.
pub fn no_device_mapper(stderr: &str) -> bool {
    stderr.contains("device-mapper") || stderr.contains("/dev/mapper/control")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `vgs --reportformat json` on this machine (lvm2 2.03.16, a VG on a loop device).
    const VGS_REAL: &str = r#"  {
      "report": [
          {
              "vg": [
                  {"vg_name":"rlxcvg", "pv_count":"1", "lv_count":"0", "snap_count":"0", "vg_attr":"wz--n-", "vg_size":"264241152", "vg_free":"264241152"}
              ]
          }
      ]
  }
"#;

    /// `lvs` in lvm2's report format with a thin pool, a thin volume, a thin
    /// snapshot and a classic LV with its snapshot (written in the layout
    /// lvm2 2.03 prints; this kernel cannot activate LVs to print a real one).
    const LVS: &str = r#"  {
      "report": [
          {
              "lv": [
                  {"lv_name":"c1", "vg_name":"lxc", "lv_attr":"-wi-a-----", "lv_size":"1073741824", "pool_lv":"", "origin":""},
                  {"lv_name":"c2", "vg_name":"lxc", "lv_attr":"swi-a-s---", "lv_size":"1073741824", "pool_lv":"", "origin":"c1"},
                  {"lv_name":"lxc", "vg_name":"lxc", "lv_attr":"twi-aotz--", "lv_size":"4294967296", "pool_lv":"", "origin":""},
                  {"lv_name":"t1", "vg_name":"lxc", "lv_attr":"Vwi-a-tz--", "lv_size":"1073741824", "pool_lv":"lxc", "origin":""},
                  {"lv_name":"t2", "vg_name":"lxc", "lv_attr":"Vwi-a-tz-k", "lv_size":"1073741824", "pool_lv":"lxc", "origin":"t1"}
              ]
          }
      ]
  }
"#;

    #[test]
    fn reports_parse() {
        assert_eq!(parse_vg_free(VGS_REAL).unwrap(), 264_241_152);
        let lvs = parse_lvs(LVS).unwrap();
        assert_eq!(lvs.len(), 5);
        assert_eq!(lvs[1].origin.as_deref(), Some("c1"));
        assert!(lvs[2].is_thin_pool() && !lvs[3].is_thin_pool());
        assert_eq!(lvs[4].pool.as_deref(), Some("lxc"));
        assert_eq!(lvs[0].size, 1 << 30);
        assert!(parse_lvs("{}").is_err());
    }

    #[test]
    fn command_lines() {
        assert_eq!(
            lvcreate("lxc", "c1", 1 << 30).join(" "),
            "-Wy --yes -n c1 -L 1073741824b lxc"
        );
        assert_eq!(
            lvcreate_thin("lxc", "pool", "c1", 1 << 30).join(" "),
            "-Wy --yes --thin -V 1073741824b -n c1 lxc/pool"
        );
        assert_eq!(
            snapshot("lxc", "c1", "c2", None).join(" "),
            "-s -n c2 -kn lxc/c1"
        );
        assert_eq!(
            snapshot("lxc", "c1", "c2", Some(1 << 30)).join(" "),
            "-s -n c2 -L 1073741824b lxc/c1"
        );
        assert_eq!(lvremove("lxc", "c2").join(" "), "-f lxc/c2");
        assert!(no_device_mapper("  /dev/mapper/control: open failed: No such device\n  Failure to communicate with kernel device-mapper driver."));
    }
}
