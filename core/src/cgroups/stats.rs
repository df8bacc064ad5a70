//! Resource use read from a container's cgroups, in whichever version the
//! host keeps each controller (`lxc-info -S`).

use super::manager::ContainerCgroups;

/// CPU, block I/O and memory use; `None` where the host has no such file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// CPU time in nanoseconds (`cpuacct.usage`, or `cpu.stat` usage_usec).
    pub cpu_ns: Option<u64>,
    /// Bytes read and written (`blkio.throttle.io_service_bytes` Total, or `io.stat`).
    pub blkio_bytes: Option<u64>,
    /// Memory in use (`memory.usage_in_bytes` or `memory.current`).
    pub memory_bytes: Option<u64>,
    /// Kernel memory in use (v1 `memory.kmem.usage_in_bytes`).
    pub kmem_bytes: Option<u64>,
    /// Swap in use (the `swap` line of v1 `memory.stat`, or v2
    /// `memory.swap.current`), as `lxc-ls -F SWAP` shows it.
    pub swap_bytes: Option<u64>,
}

impl Stats {
    /// Reads the stats of `cg`.
    pub fn read(cg: &ContainerCgroups) -> Stats {
        let file = |f: &str| cg.read(f);
        Stats::from_files(&file)
    }

    /// The stats from a reader of cgroup files by name (pure, for tests).
    pub fn from_files(read: &dyn Fn(&str) -> Option<String>) -> Stats {
        let num = |f: &str| read(f).and_then(|v| v.trim().parse::<u64>().ok());
        let sum_of = |f: &str, key: &str| -> Option<u64> {
            let text = read(f)?;
            Some(
                text.split_whitespace()
                    .filter_map(|w| w.strip_prefix(key).and_then(|v| v.parse::<u64>().ok()))
                    .sum(),
            )
        };
        let v1_blkio = || {
            read("blkio.throttle.io_service_bytes")?
                .lines()
                .find_map(|l| l.strip_prefix("Total ").and_then(|v| v.trim().parse().ok()))
        };
        let usage_usec = || {
            read("cpu.stat")?
                .lines()
                .find_map(|l| l.strip_prefix("usage_usec ")?.trim().parse::<u64>().ok())
        };
        // v2 also has a memory.stat, without a `swap` line, so the v1 reading
        // falls through to memory.swap.current there.
        let v1_swap = || {
            read("memory.stat")?
                .lines()
                .find_map(|l| l.strip_prefix("swap ")?.trim().parse::<u64>().ok())
        };
        Stats {
            cpu_ns: num("cpuacct.usage").or_else(|| usage_usec().map(|us| us * 1000)),
            blkio_bytes: v1_blkio()
                .or_else(|| Some(sum_of("io.stat", "rbytes=")? + sum_of("io.stat", "wbytes=")?)),
            memory_bytes: num("memory.usage_in_bytes").or_else(|| num("memory.current")),
            kmem_bytes: num("memory.kmem.usage_in_bytes"),
            swap_bytes: v1_swap().or_else(|| num("memory.swap.current")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_and_v2_files() {
        let v1 = |f: &str| match f {
            "cpuacct.usage" => Some("1500\n".to_string()),
            "blkio.throttle.io_service_bytes" => Some("8:0 Read 4\nTotal 12\n".into()),
            "memory.usage_in_bytes" => Some("4096".into()),
            "memory.stat" => Some("cache 1\nswap 2048\ntotal_swap 9\n".into()),
            _ => None,
        };
        let s = Stats::from_files(&v1);
        assert_eq!(
            (
                s.cpu_ns,
                s.blkio_bytes,
                s.memory_bytes,
                s.kmem_bytes,
                s.swap_bytes
            ),
            (Some(1500), Some(12), Some(4096), None, Some(2048))
        );
        let v2 = |f: &str| match f {
            "cpu.stat" => Some("usage_usec 7\nuser_usec 5\n".to_string()),
            "io.stat" => Some("8:0 rbytes=10 wbytes=5 rios=1\n8:16 rbytes=1 wbytes=0\n".into()),
            "memory.current" => Some("99\n".into()),
            "memory.stat" => Some("anon 1\nswapcached 3\n".into()),
            "memory.swap.current" => Some("5\n".into()),
            _ => None,
        };
        let s = Stats::from_files(&v2);
        assert_eq!(
            (s.cpu_ns, s.blkio_bytes, s.memory_bytes, s.swap_bytes),
            (Some(7000), Some(16), Some(99), Some(5))
        );
    }
}
