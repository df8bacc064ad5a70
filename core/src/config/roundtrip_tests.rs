//! Completeness: every key in the table parses, prints and re-parses to the
//! same value, and can be cleared — with the table's example and with
//! generated values (a property test).

use std::path::Path;

use proptest::prelude::*;
use proptest::sample::select;

use super::keys::{example_key, KEYS};
use super::value::{Check, ARCHES, CAPABILITIES, LOG_LEVELS, NAMESPACES};
use super::{load_text, Config, Origin};

fn reparse(c: &Config) -> Config {
    let text = c.to_lines().join("\n") + "\n";
    load_text(text.as_bytes(), Path::new("printed"))
        .unwrap_or_else(|e| panic!("printed config does not parse: {e}\n{text}"))
}

fn pairs(c: &Config) -> Vec<(String, String)> {
    c.items()
        .iter()
        .map(|i| (i.key.clone(), i.value.clone()))
        .collect()
}

#[test]
fn every_key_sets_prints_reparses_and_clears() {
    for spec in KEYS {
        let key = example_key(spec);
        if spec.clears.is_some() || key == "lxc.include" {
            continue;
        }
        let mut c = Config::new();
        let net_type = key.starts_with("lxc.net.") && key != "lxc.net.0.type";
        if net_type {
            c.set("lxc.net.0.type", "veth", &Origin::default()).unwrap();
        }
        c.set(&key, spec.example.1, &Origin::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.get(&key), Some(spec.example.1), "{key}");
        let again = reparse(&c);
        assert_eq!(pairs(&again), pairs(&c), "{key}");
        c.set(&key, "", &Origin::default()).unwrap();
        assert_eq!(c.get(&key), None, "{key} was not cleared by an empty value");
    }
}

#[test]
fn clear_keys_clear_their_group() {
    for spec in KEYS.iter().filter(|s| s.clears.is_some()) {
        let super::keys::Pattern::Exact(clear_key) = spec.pattern else {
            continue;
        };
        let member = KEYS
            .iter()
            .find(|s| Some(s.group) == spec.clears && s.clears.is_none())
            .unwrap_or_else(|| panic!("{clear_key} clears a group with no member"));
        let key = example_key(member);
        let mut c = Config::new();
        if key.starts_with("lxc.net.") && key != "lxc.net.0.type" {
            c.set("lxc.net.0.type", "veth", &Origin::default()).unwrap();
        }
        c.set(&key, member.example.1, &Origin::default()).unwrap();
        c.set(clear_key, "", &Origin::default()).unwrap();
        assert_eq!(c.get(&key), None, "{clear_key} did not clear {key}");
    }
}

fn word(max: usize) -> BoxedStrategy<String> {
    proptest::collection::vec(
        select(
            "abcdefghijklmnopqrstuvwxyz0123456789_-"
                .chars()
                .collect::<Vec<_>>(),
        ),
        1..max,
    )
    .prop_map(|v| v.into_iter().collect())
    .boxed()
}

fn path() -> BoxedStrategy<String> {
    proptest::collection::vec(word(8), 1..4)
        .prop_map(|v| format!("/{}", v.join("/")))
        .boxed()
}

#[allow(clippy::needless_pass_by_value)] // used as a prop_map function over owned Vecs
fn join(items: Vec<&str>) -> String {
    items.join(" ")
}

fn ipv4() -> BoxedStrategy<String> {
    any::<[u8; 4]>()
        .prop_map(|a| std::net::Ipv4Addr::from(a).to_string())
        .boxed()
}

fn ipv6() -> BoxedStrategy<String> {
    any::<[u16; 8]>()
        .prop_map(|a| std::net::Ipv6Addr::from(a).to_string())
        .boxed()
}

fn value_for(check: Check, example: &'static str) -> BoxedStrategy<String> {
    use Check::*;
    match check {
        Any | NonEmpty => prop_oneof![word(20), path()].boxed(),
        AbsPath => path(),
        Bool => select(vec!["0", "1"]).prop_map(str::to_string).boxed(),
        UInt => any::<u32>().prop_map(|n| n.to_string()).boxed(),
        Int => any::<i32>().prop_map(|n| n.to_string()).boxed(),
        Signal | SignalOrZero => prop_oneof![
            (1..=64i32).prop_map(|n| n.to_string()),
            select(vec!["SIGPWR", "SIGKILL", "TERM", "SIGRTMIN+3", "sigint"])
                .prop_map(str::to_string),
        ]
        .boxed(),
        Arch => select(ARCHES.to_vec()).prop_map(str::to_string).boxed(),
        Hostname | IfName => word(15),
        Caps => proptest::collection::vec(select(CAPABILITIES.to_vec()), 1..4)
            .prop_map(join)
            .boxed(),
        CapsOrNone => prop_oneof![
            Just("none".to_string()),
            proptest::collection::vec(select(CAPABILITIES.to_vec()), 1..4).prop_map(join)
        ]
        .boxed(),
        IdMap => (
            select(vec!["u", "g", "b"]),
            0..65536u32,
            0..1_000_000u32,
            1..65536u32,
        )
            .prop_map(|(k, a, b, n)| format!("{k} {a} {b} {n}"))
            .boxed(),
        NetType => select(vec![
            "empty", "veth", "vlan", "macvlan", "ipvlan", "phys", "none",
        ])
        .prop_map(str::to_string)
        .boxed(),
        NetFlags => Just("up".to_string()).boxed(),
        Hwaddr => proptest::collection::vec(select(vec!["00", "16", "3e", "xx", "ff", "a0"]), 6)
            .prop_map(|v| v.join(":"))
            .boxed(),
        Ipv4Address => (ipv4(), 0..=32u8, proptest::option::of(ipv4()))
            .prop_map(|(a, p, b)| match b {
                Some(b) => format!("{a}/{p} {b}"),
                None => format!("{a}/{p}"),
            })
            .boxed(),
        Ipv4Route => (ipv4(), 0..=32u8)
            .prop_map(|(a, p)| format!("{a}/{p}"))
            .boxed(),
        Ipv4Gateway => {
            prop_oneof![ipv4(), Just("auto".to_string()), Just("dev".to_string())].boxed()
        }
        Ipv6Address => (ipv6(), 0..=128u8)
            .prop_map(|(a, p)| format!("{a}/{p}"))
            .boxed(),
        Ipv6Gateway => prop_oneof![ipv6(), Just("auto".to_string())].boxed(),
        VethMode => select(vec!["bridge", "router"])
            .prop_map(str::to_string)
            .boxed(),
        MacvlanMode => select(vec!["private", "vepa", "bridge", "passthru"])
            .prop_map(str::to_string)
            .boxed(),
        IpvlanMode => select(vec!["l3", "l3s", "l2"])
            .prop_map(str::to_string)
            .boxed(),
        IpvlanIsolation => select(vec!["bridge", "private", "vepa"])
            .prop_map(str::to_string)
            .boxed(),
        VlanId => (0..=4094u32).prop_map(|n| n.to_string()).boxed(),
        VethVlanId => prop_oneof![
            (1..=4094u32).prop_map(|n| n.to_string()),
            Just("none".to_string())
        ]
        .boxed(),
        LogLevel => prop_oneof![
            select(LOG_LEVELS.to_vec()).prop_map(str::to_string),
            (0..=8u32).prop_map(|n| n.to_string())
        ]
        .boxed(),
        Syslog => select(vec!["daemon", "local0", "local7"])
            .prop_map(str::to_string)
            .boxed(),
        MountAuto => proptest::collection::vec(
            select(vec![
                "proc",
                "proc:mixed",
                "sys:ro",
                "cgroup:mixed",
                "cgroup-full:rw:force",
                "shmounts:/a",
            ]),
            1..4,
        )
        .prop_map(join)
        .boxed(),
        MountEntry => (
            path(),
            word(10),
            select(vec!["none", "proc", "tmpfs"]),
            select(vec!["bind", "ro,bind", "defaults"]),
        )
            .prop_map(|(s, t, f, o)| format!("{s} {t} {f} {o} 0 0"))
            .boxed(),
        Namespaces => proptest::collection::vec(select(NAMESPACES.to_vec()), 1..4)
            .prop_map(join)
            .boxed(),
        TimeOffset => (
            -10_000..10_000i32,
            select(vec!["", "h", "m", "s", "ms", "us", "ns"]),
        )
            .prop_map(|(n, u)| format!("{n}{u}"))
            .boxed(),
        Prlimit => (any::<u32>(), proptest::option::of(any::<u32>()))
            .prop_map(|(s, h)| match h {
                Some(h) => format!("{s}:{h}"),
                None => s.to_string(),
            })
            .boxed(),
        Environment => (word(8), word(8))
            .prop_map(|(k, v)| format!("{}={v}", k.to_uppercase()))
            .boxed(),
        SizeOrAuto => prop_oneof![
            Just("auto".to_string()),
            (0..100_000u32, select(vec!["", "K", "MB", "G"])).prop_map(|(n, u)| format!("{n}{u}"))
        ]
        .boxed(),
        Gids => proptest::collection::vec(any::<u16>(), 1..4)
            .prop_map(|v| {
                v.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .boxed(),
        Backend => select(vec!["dir", "lvm", "btrfs", "zfs"])
            .prop_map(str::to_string)
            .boxed(),
        ClearOnly => Just(String::new()).boxed(),
        CgroupV1 => prop_oneof![
            any::<u32>().prop_map(|n| n.to_string()),
            Just("-1".to_string())
        ]
        .boxed(),
        CgroupV2 => prop_oneof![
            any::<u32>().prop_map(|n| n.to_string()),
            Just("max".to_string()),
            Just(example.to_string())
        ]
        .boxed(),
    }
}

fn key_and_value() -> impl Strategy<Value = (String, String)> {
    let usable: Vec<usize> = (0..KEYS.len())
        .filter(|i| KEYS[*i].clears.is_none() && example_key(&KEYS[*i]) != "lxc.include")
        .collect();
    select(usable).prop_flat_map(|i| {
        let spec = &KEYS[i];
        (
            Just(example_key(spec)),
            value_for(spec.check, spec.example.1),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn parse_print_parse_is_stable(kvs in proptest::collection::vec(key_and_value(), 1..6)) {
        let mut text = String::from("lxc.net.0.type = veth\n");
        for (k, v) in &kvs {
            text.push_str(&format!("{k} = {v}\n"));
        }
        let first = load_text(text.as_bytes(), Path::new("generated"))
            .unwrap_or_else(|e| panic!("generated config does not parse: {e}\n{text}"));
        let second = reparse(&first);
        prop_assert_eq!(pairs(&first), pairs(&second));
        for (k, _) in &kvs {
            prop_assert!(first.get(k).is_some(), "{} lost", k);
        }
    }
}
