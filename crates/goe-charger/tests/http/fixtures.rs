//! Compatibility with real go-eCharger captures (tests/fixtures/real-status,
//! provenance in SOURCES.md there; API v2 only, the v1-* files are not used).
//!
//! For every key our table shares with a capture:
//! - JSON kind: equal. A captured `null` is compatible only when our type is
//!   optional (we could show `null` too); when *our* value is `null` (an
//!   optional key that is unset on a fresh charger) the captured value is
//!   compared with the kind our table declares instead.
//! - Integer keys: the captured number must be integral.
//! - Arrays: same length, except variable-length lists ([`VARIABLE_LENGTH`]);
//!   elements compared pairwise.
//! - Objects: every captured field (except the authors' literal `redacted`
//!   placeholder field) exists in ours, unless listed in [`KNOWN_EXTRA_FIELDS`];
//!   and every field of ours appears in at least one capture of that key.
//!   Nested `null`s are not typed and are skipped.
//! - Known, documented differences are listed in [`KNOWN_KIND_DIFFERENCES`];
//!   the test also checks that each listed difference still exists.
//!
//! Float formatting: every non-integral number in the captures is written
//! back through `/api/set` and must come out as the same text: numbers with
//! 9-10 significant digits are float32 artefacts of newer firmware and go
//! through a float key (`awp`); shorter ones through a double key (`ate`).

use crate::common::json::number_tokens;
use crate::common::{Charger, Ordered, shared, shared_on};
use goe_keys::JsonKind;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The API v2 captures, in firmware order.
pub const CAPTURES: &[(&str, &str)] = &[
    (
        "goe-docs-screenshot-fw051-legacyfilter.json",
        include_str!("../fixtures/real-status/goe-docs-screenshot-fw051-legacyfilter.json"),
    ),
    (
        "evcc-pr1609-fw051.4-filtered-charging.json",
        include_str!("../fixtures/real-status/evcc-pr1609-fw051.4-filtered-charging.json"),
    ),
    (
        "syssi-mqtt-fw053.1.json",
        include_str!("../fixtures/real-status/syssi-mqtt-fw053.1.json"),
    ),
    (
        "syssi-mqtt-fw055.2.json",
        include_str!("../fixtures/real-status/syssi-mqtt-fw055.2.json"),
    ),
    (
        "syssi-mqtt-fw055.5.json",
        include_str!("../fixtures/real-status/syssi-mqtt-fw055.5.json"),
    ),
    (
        "syssi-mqtt-fw055.6.json",
        include_str!("../fixtures/real-status/syssi-mqtt-fw055.6.json"),
    ),
    (
        "syssi-mqtt-fw056.2.json",
        include_str!("../fixtures/real-status/syssi-mqtt-fw056.2.json"),
    ),
    (
        "syssi-mqtt-fw060.5.json",
        include_str!("../fixtures/real-status/syssi-mqtt-fw060.5.json"),
    ),
];

/// Lists whose length depends on the environment (branches, scan results, …).
const VARIABLE_LENGTH: &[&str] = &["ocu", "scan", "awpl", "lom", "ccw.ipv6"];

/// Captured object fields our fresh charger does not show, and why.
const KNOWN_EXTRA_FIELDS: &[(&str, &str, &str)] = &[
    (
        "cll",
        "awattar",
        "cll lists only the limits that currently apply; aWATTar was active in fw 56.2",
    ),
    (
        "cll",
        "loadLimit",
        "cll lists only the limits that currently apply; load management was active in fw 56.2",
    ),
];

/// Keys whose JSON kind differs from a capture on purpose, and why.
/// (Empty: `bac`, a bool in the 2021 table and fw 053.1 and a number from fw
/// 055.2 on, is now a per-firmware definition in the key table, and each
/// capture is compared with the profile of its firmware.)
const KNOWN_KIND_DIFFERENCES: &[(&str, &str)] = &[];

fn capture(name: &str, text: &str) -> Ordered {
    Ordered::parse(text).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn kind_of(v: &Value, raw: Option<&str>) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) if raw.is_some_and(|r| !r.contains(['.', 'e', 'E'])) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn declared(kind: JsonKind) -> &'static str {
    match kind {
        JsonKind::Bool => "bool",
        JsonKind::Integer => "integer",
        JsonKind::Number => "number",
        JsonKind::String => "string",
        JsonKind::Array => "array",
        JsonKind::Object => "object",
    }
}

/// Whether a value of kind `got` fits kind `want` (integers are numbers).
fn fits(got: &str, want: &str) -> bool {
    got == want || (want == "number" && got == "integer")
}

/// Records the field sets of every object in a capture value, by path.
fn collect_fields(path: &str, v: &Value, out: &mut BTreeMap<String, BTreeSet<String>>) {
    match v {
        Value::Object(o) => {
            let set = out.entry(path.to_owned()).or_default();
            set.extend(o.keys().filter(|k| *k != "redacted").cloned());
            for (k, x) in o {
                collect_fields(&format!("{path}.{k}"), x, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                collect_fields(&format!("{path}[]"), x, out);
            }
        }
        _ => {}
    }
}

/// Compares the shapes of two non-top-level values.
pub fn compare_nested(path: &str, ours: &Value, theirs: &Value, out: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Array(a), Value::Array(b)) => {
            let var = VARIABLE_LENGTH.contains(&path);
            if !var && a.len() != b.len() {
                out.push(format!(
                    "{path}: length {} vs captured {}",
                    a.len(),
                    b.len()
                ));
            }
            for (x, y) in a.iter().zip(b) {
                compare_nested(&format!("{path}[]"), x, y, out);
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            let key = path.split(['.', '[']).next().unwrap_or(path);
            for (f, y) in b {
                if f == "redacted" {
                    continue;
                }
                match a.get(f) {
                    Some(x) => compare_nested(&format!("{path}.{f}"), x, y, out),
                    None if KNOWN_EXTRA_FIELDS
                        .iter()
                        .any(|(k, ef, _)| *k == key && ef == f) => {}
                    None => out.push(format!("{path}: captured field {f:?} missing in ours")),
                }
            }
        }
        _ => {
            let (k1, k2) = (kind_of(ours, None), kind_of(theirs, None));
            if k1 != k2 {
                out.push(format!("{path}: {k1} vs captured {k2} ({theirs})"));
            }
        }
    }
}

#[tokio::test]
async fn shared_keys_have_the_captured_types_and_shapes() {
    // each capture against the charger of its closest firmware profile
    let mut all_ours: Vec<Ordered> = Vec::new();
    let mut problems: Vec<(String, String)> = Vec::new(); // (key, text)
    let mut unions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut shared_keys = BTreeSet::new();
    for (name, text) in CAPTURES {
        let profile = crate::captures::closest(crate::captures::firmware_of(name));
        let ours = shared_on(&profile.firmware.to_string())
            .api()
            .status()
            .await;
        let cap = capture(name, text);
        for e in &cap.entries {
            let Some((_, def)) = profile.key(&e.key) else {
                continue; // presence: captures.rs
            };
            let capture_fw = crate::captures::firmware_of(name);
            if goe_keys::key(&e.key)
                .and_then(|k| k.on(capture_fw))
                .is_some_and(|d| !std::ptr::eq(d, def))
            {
                continue; // a definition that changed in between: captures.rs
            }
            if !def.access.readable() {
                continue;
            }
            shared_keys.insert(e.key.clone());
            collect_fields(&e.key, &e.value, &mut unions);
            let mine = ours
                .get(&e.key)
                .unwrap_or_else(|| panic!("{} missing in our status", e.key));
            let mine_raw = ours.raw_of(&e.key).unwrap();
            let mut report = |t: String| problems.push((e.key.clone(), format!("{name}: {t}")));
            let theirs_kind = kind_of(&e.value, Some(&e.raw));
            if e.value.is_null() {
                if !def.ty.optional {
                    report(format!("captured null, but our {} is not optional", def.ty));
                }
                continue;
            }
            let want = if def.secret == goe_keys::Secret::IsSet {
                "bool"
            } else {
                declared(def.base().json_kind())
            };
            if !fits(theirs_kind, want) {
                report(format!(
                    "captured {theirs_kind} {}, our table declares {want} ({})",
                    e.raw, def.ty
                ));
                continue;
            }
            if mine.is_null() {
                continue; // unset optional: kind compared with the declaration above
            }
            let mine_kind = kind_of(mine, Some(mine_raw));
            if !(fits(mine_kind, theirs_kind) || fits(theirs_kind, mine_kind)) {
                report(format!(
                    "ours {mine_kind} {mine_raw}, captured {theirs_kind} {}",
                    e.raw
                ));
                continue;
            }
            let mut nested = Vec::new();
            compare_nested(&e.key, mine, &e.value, &mut nested);
            for n in nested {
                report(n);
            }
        }
        all_ours.push(ours);
    }
    // our object fields all appear in some capture of the same key
    for (key, ours) in shared_keys
        .iter()
        .flat_map(|k| all_ours.iter().filter(|o| o.has(k)).map(move |o| (k, o)))
    {
        let mut stack: Vec<(String, &Value)> = vec![(key.clone(), ours.get(key).unwrap())];
        while let Some((path, v)) = stack.pop() {
            match v {
                Value::Object(o) => {
                    if let Some(union) = unions.get(&path) {
                        for f in o.keys() {
                            if !union.contains(f) {
                                problems.push((
                                    key.clone(),
                                    format!("{path}: our field {f:?} is in no capture"),
                                ));
                            }
                        }
                    }
                    stack.extend(o.iter().map(|(f, x)| (format!("{path}.{f}"), x)));
                }
                Value::Array(a) => stack.extend(a.iter().map(|x| (format!("{path}[]"), x))),
                _ => {}
            }
        }
    }
    assert!(
        shared_keys.len() > 60,
        "only {} shared keys",
        shared_keys.len()
    );
    for (key, field, why) in KNOWN_EXTRA_FIELDS {
        let ours_has = all_ours
            .iter()
            .any(|ours| ours.get(key).and_then(|v| v.get(field)).is_some());
        let captured = unions.get(*key).is_some_and(|u| u.contains(*field));
        assert!(
            captured && !ours_has,
            "known difference {key}.{field} ({why}) no longer exists: remove it from the list"
        );
    }
    for (key, why) in KNOWN_KIND_DIFFERENCES {
        assert!(
            problems.iter().any(|(k, _)| k == key),
            "known difference of {key} ({why}) no longer exists: remove it from the list"
        );
    }
    let unexpected: Vec<String> = problems
        .iter()
        .filter(|(k, _)| !KNOWN_KIND_DIFFERENCES.iter().any(|(kk, _)| kk == k))
        .map(|(k, t)| format!("{k}: {t}"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "shape differences:\n{}",
        unexpected.join("\n")
    );
}

#[tokio::test]
async fn key_order_matches_the_unsorted_captures() {
    // 055.2 and 055.5 are in the firmware's publish (registration) order; 053.1
    // and 060.5 were sorted by their author, and 055.6/056.2 append keys that
    // firmware added later at the end, so they are not used here.
    let ours = shared().api().status().await;
    let our_keys = ours.keys();
    for (name, text) in CAPTURES
        .iter()
        .filter(|(n, _)| n.contains("055.2") || n.contains("055.5"))
    {
        let cap = capture(name, text);
        let theirs: Vec<&str> = cap
            .keys()
            .into_iter()
            .filter(|k| our_keys.contains(k))
            .collect();
        let mine: Vec<&str> = our_keys
            .iter()
            .copied()
            .filter(|k| theirs.contains(k))
            .collect();
        assert!(theirs.len() > 50, "{name}: {} shared keys", theirs.len());
        assert_eq!(mine, theirs, "{name}: relative order of shared keys");
    }
}

/// Significant digits of a decimal token (integral part without leading zeros + decimals).
fn significant_digits(tok: &str) -> usize {
    let t = tok.trim_start_matches('-');
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    int.trim_start_matches('0').len() + frac.len()
}

#[tokio::test]
async fn captured_numbers_round_trip_with_the_same_text() {
    let ch = Charger::fresh();
    let api = ch.api();
    let mut tokens = BTreeSet::new();
    for (_, text) in CAPTURES {
        for t in number_tokens(text) {
            if t.contains('.') {
                tokens.insert(t);
            }
        }
    }
    assert!(tokens.len() > 20, "{tokens:?}");
    let mut failures = Vec::new();
    let mut cases: Vec<(&str, String, String)> = tokens
        .iter()
        .map(|t| {
            let key = if significant_digits(t) >= 9 {
                "awp"
            } else {
                "ate"
            };
            (key, t.clone(), t.clone())
        })
        .collect();
    // whole floats print without a decimal point
    for (key, sent, want) in [
        ("fst", "1400", "1400"),
        ("fst", "1400.0", "1400"),
        ("po", "-300.0", "-300"),
        ("awp", "21.000", "21"),
        ("ate", "18000.0", "18000"),
        ("cco", "0.5", "0.5"),
        ("spl3", "4200.25", "4200.25"),
    ] {
        cases.push((key, sent.into(), want.into()));
    }
    for (key, sent, want) in cases {
        let r = api.set(&[(key, &sent)]).await;
        if !r.all_true(&[key]) {
            failures.push(format!("{key}={sent}: {} {}", r.status, r.body));
            continue;
        }
        let st = api.status_filter(key).await;
        let got = st.raw_of(key).unwrap_or("<missing>");
        if got != want {
            failures.push(format!(
                "{key}={sent}: status prints {got}, the firmware prints {want}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
