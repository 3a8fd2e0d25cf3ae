//! A refused write changes nothing (issue #11 point 10): random sequences of
//! writes to every writable key, valid and invalid, on one charger; after
//! each refusal every value is as before. Deterministic (fixed seed, no
//! persistence file).

use goe_engine::{Charger, SimTime};
use goe_keys::{KEYS, KeyDef, Value};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};

const T0: SimTime = SimTime(1_726_644_683_457); // 2024-09-18T07:31:23.457Z

/// Every writable key but `pass`: an accepted password costs 100000
/// PBKDF2 rounds (seconds in a debug build); its refusals are pure
/// validation, covered by goe-keys' property test.
fn writable() -> Vec<&'static KeyDef> {
    KEYS.iter()
        .filter(|d| d.access.writable() && d.name != "pass")
        .collect()
}

/// Raw texts that reach every kind of rule: boundary numbers, strings near
/// length limits, structured values with the fields the rules know, and junk.
fn raw_text() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "0",
        "1",
        "-1",
        "5",
        "6",
        "10",
        "16",
        "17",
        "32",
        "33",
        "255",
        "256",
        "-129",
        "65536",
        "4294967296",
        "-9223372036854775809",
        "18446744073709551616",
        "1e30",
        "0.5",
        "16.0",
        "true",
        "false",
        "null",
        "\"\"",
        "\"x\"",
        "\"#00FF00\"",
        "\"#00FF0\"",
        "\"go-e/\"",
        "\"56.2\"",
        "\"2030-01-02T03:04:05.000\"",
        "\"2023-02-29T00:00:00\"",
        "\"mqtt://u:********@127.0.0.1:9\"",
        "[]",
        "{}",
        "[6,10,12,14,16]",
        "[6,10,12,14,16,16]",
        "[1,2,3]",
        "[1,2,4]",
        r#"{"pGrid":-100,"pPv":300}"#,
        r#"{"pPv":300}"#,
        r#"{"control":1,"ranges":[{"begin":{"hour":1,"minute":2},"end":{"hour":3,"minute":4}}]}"#,
        r#"{"control":3}"#,
        r#"[{},{"ssid":"x","key":"secret-key"}]"#,
        r#"[{"staticIp":"999.1.1.1"}]"#,
        r#"[{"cardId":"ABC"}]"#,
        r#"[{"energy":-1}]"#,
        r#"[{"start":1,"end":2,"marketprice":3.5}]"#,
        r#"[{"start":2,"end":1,"marketprice":3.5}]"#,
        "{",
        "[1,",
        "\"abc",
        "nul",
        "1 2",
    ])
    .prop_map(str::to_owned);
    prop_oneof![
        3 => fixed,
        1 => any::<String>(),
        1 => (0usize..300).prop_map(|n| format!("\"{}\"", "a".repeat(n))),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| f.to_string()),
    ]
}

/// Every value of the charger, in table order.
fn values(c: &Charger) -> Vec<Value> {
    (0..KEYS.len())
        .map(|kid| c.value_by_id(kid).clone())
        .collect()
}

fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x6f65_2d65_6e67_1110),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_refused_write_changes_no_value(
        writes in prop::collection::vec((prop::sample::select(writable()), raw_text()), 1..24),
    ) {
        let mut c = Charger::boot("012345", None, T0, 1).unwrap();
        for (i, (def, raw)) in writes.iter().enumerate() {
            let now = T0.plus_ms(i as i64 * 250);
            c.step(now);
            c.refresh_clock(now);
            let before = values(&c);
            let persisted = c.persisted_values();
            if let Err(e) = c.set(now, def.name, raw) {
                let after = values(&c);
                for (kid, (b, a)) in before.iter().zip(&after).enumerate() {
                    prop_assert_eq!(
                        b, a,
                        "{}={} was refused ({}) but changed {}", def.name, raw, e, KEYS[kid].name
                    );
                }
                prop_assert_eq!(&persisted, &c.persisted_values());
            }
        }
    }
}
