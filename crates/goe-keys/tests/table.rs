//! Checks of the key table itself: seed coverage, order, defaults, docs.

use goe_keys::{Access, KEYS, Value, key, render, set};
use std::path::Path;

fn seed_rows() -> Vec<(String, String, String, String)> {
    let text = include_str!("../seed/keys-2021.txt");
    text.lines()
        .filter_map(|l| {
            let mut it = l.splitn(5, ' ');
            let (name, acc, ty, cat) = (it.next()?, it.next()?, it.next()?, it.next()?);
            matches!(cat, "Constant" | "Status" | "Config" | "Other").then(|| {
                (
                    name.to_owned(),
                    acc.to_owned(),
                    ty.to_owned(),
                    cat.to_owned(),
                )
            })
        })
        .collect()
}

#[test]
fn every_seed_key_is_in_the_table_with_its_category() {
    let rows = seed_rows();
    assert_eq!(rows.len(), 174, "seed parse");
    // the seed is the 2021 table: compare with each key's 051.4 definition
    let seed_fw = goe_keys::profile("051.4").unwrap();
    for (name, acc, ty, cat) in &rows {
        let (_, def) = seed_fw
            .key(name)
            .unwrap_or_else(|| panic!("seed key {name} missing from 051.4"));
        assert!(def.in_seed, "{name} must be marked as seed key");
        assert_eq!(def.category.as_str(), cat, "{name} category");
        // Documented corrections (docs/compat.md): lbr and trx are writable,
        // acu and lbp may be null.
        if !matches!(name.as_str(), "lbr" | "trx") {
            assert_eq!(def.access.as_str(), acc, "{name} access");
        }
        if !matches!(name.as_str(), "acu" | "lbp") {
            assert_eq!(def.ty.to_string(), *ty, "{name} type");
        }
    }
    assert_eq!(KEYS.iter().filter(|k| k.in_seed).count(), 174);
}

#[test]
fn seed_keys_keep_the_seed_order() {
    let seed: Vec<String> = seed_rows().into_iter().map(|r| r.0).collect();
    let ours: Vec<&str> = KEYS.iter().filter(|k| k.in_seed).map(|k| k.name).collect();
    assert_eq!(ours, seed);
}

#[test]
fn newer_keys_follow_their_v5_predecessor() {
    // (newer key, the seed key it must follow, possibly with other newer keys between)
    for (newer, after) in [
        ("cll", "acu"),
        ("tcl", "ama"),
        ("frm", "awpl"),
        ("fst", "awe"),
        ("pgrid", "atp"),
        ("sua", "su"),
        ("avgfhz", "fhz"),
        ("psm", "spl3"),
        ("hai", "loty"),
        ("mlra", "loty"),
        ("stao", "rfb"),
    ] {
        let pos = |n: &str| KEYS.iter().position(|k| k.name == n).unwrap();
        let (p_new, p_after) = (pos(newer), pos(after));
        assert!(p_new > p_after, "{newer} after {after}");
        assert!(
            KEYS[p_after + 1..p_new].iter().all(|k| !k.in_seed),
            "only newer keys between {after} and {newer}"
        );
    }
}

#[test]
fn required_newer_keys_exist() {
    for name in "psm cards ids pgrid ppv pakku cll tcl pnp frm fup hai hla rst sua avgfhz \
                 mce mcu mcr mtp mcs mcc mcca mlr mlra fst fzf zfo pgt sh psh po fmt deltap deltaa"
        .split_whitespace()
    {
        assert!(key(name).is_some(), "{name} missing");
    }
}

#[test]
fn names_are_unique() {
    let mut names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), KEYS.len());
}

#[test]
fn every_default_parses_and_passes_its_own_validation() {
    let defaults: Vec<Value> = KEYS
        .iter()
        .map(|k| goe_keys::default_value(k, "012345"))
        .collect();

    for def in KEYS {
        let text = def.default.replace("{serial}", "012345");
        let json: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: default {text} is not JSON: {e}", def.name));
        if def.access == Access::Read || def.access == Access::Write {
            continue;
        }
        if matches!(def.name, "utc" | "wak") {
            continue; // utc is live, filled from the clock; wak's factory state is "not set"
        }
        set::validate(def, &json, &defaults)
            .unwrap_or_else(|e| panic!("{}: default {text} refused: {e}", def.name));
    }
}

#[test]
fn secrets_never_render_in_clear() {
    for name in ["wak", "facwak"] {
        let def = key(name).unwrap();
        let shown = render::shown(def, &Value::Str("hunter2hunter2".into()));
        assert_eq!(shown, "true");
    }
    let def = key("wifis").unwrap();
    let v = goe_keys::default_value(def, "1");
    let shown = render::shown(def, &v);
    assert!(!shown.contains("virtual"), "{shown}");
    assert!(shown.contains("\"key\":true"));
    assert_eq!(key("pass").unwrap().access, Access::Write);
}

#[test]
fn keys_md_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/KEYS.md");
    let want = goe_keys::docs::keys_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/KEYS.md is stale: run `UPDATE_DOCS=1 cargo test -p goe-keys --test table`"
    );
}

/// Every profile's order file lists exactly the keys the table gives that
/// firmware, each once.
#[test]
fn every_profile_order_matches_the_table() {
    for p in goe_keys::profiles() {
        assert!(
            p.order_mismatch.is_empty(),
            "profiles/{}.keys: {:?}",
            p.firmware,
            p.order_mismatch
        );
    }
}

/// Unknown versions are refused naming the known ones; both spellings work.
#[test]
fn firmware_versions_resolve_or_are_refused_with_the_known_ones() {
    assert_eq!(
        goe_keys::profile("60.5").unwrap().firmware.to_string(),
        "060.5"
    );
    assert_eq!(goe_keys::profile("056.2").unwrap().fwv, "56.2");
    assert_eq!(
        goe_keys::default_profile().firmware.to_string(),
        goe_keys::DEFAULT_FIRMWARE
    );
    let e = goe_keys::profile("057.0").unwrap_err().to_string();
    assert!(e.contains("051.4, 056.2, 060.5"), "{e}");
}
