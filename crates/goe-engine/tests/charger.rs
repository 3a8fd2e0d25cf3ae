//! Engine behaviour on simulated time, without any server.

use goe_engine::charger::API_UP_RBT_MS;
use goe_engine::{Charger, KeySet, SimTime};
use goe_keys::{Value, key_id};

const T0: SimTime = SimTime(1_726_644_683_457); // 2024-09-18T07:31:23.457Z

fn status(c: &mut Charger, now: SimTime, filter: Option<&KeySet>) -> serde_json::Value {
    let mut s = String::new();
    c.write_status(now, filter, &mut s);
    serde_json::from_str(&s).unwrap()
}

#[test]
fn first_boot_counts_one_and_clock_runs_from_boot() {
    let mut c = Charger::boot("012345", None, T0, 1).unwrap();
    let s = status(&mut c, T0.plus_ms(1500), None);
    assert_eq!(s["rbc"], 1);
    // the API answers API_UP_RBT_MS after the boot (#13: rbt is never 0)
    assert_eq!(s["rbt"], API_UP_RBT_MS + 1500);
    assert_eq!(s["utc"], "2024-09-18T07:31:24.957");
    assert_eq!(s["loc"], "2024-09-18T09:31:24.957 +02:00");
    assert_eq!(s["sse"], "012345");
}

/// The 2021 firmware's full status is byte for byte what the charger printed
/// before firmware profiles existed (issue #12): `golden/status-051.4.json`
/// was printed by the build before #12's key data (commit f620136), with
/// `fwv` "051.4"; since #13 `rbt` and `lmsc` count from `API_UP_RBT_MS`
/// (the only two values that moved). `UPDATE_GOLDEN=1` rewrites it.
#[test]
fn the_051_4_status_is_the_2021_status_byte_for_byte() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/status-051.4.json"
    );
    let old = goe_keys::profile("051.4").unwrap();
    let mut c = Charger::boot_on(old, "012345", None, T0, 1).unwrap();
    let mut s = String::new();
    c.write_status(T0.plus_ms(1500), None, &mut s);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &s).unwrap();
    }
    let want = std::fs::read_to_string(path).unwrap();
    if s != want {
        let at = s
            .bytes()
            .zip(want.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let around = |t: &str| {
            let b = t.as_bytes();
            String::from_utf8_lossy(&b[at.saturating_sub(60)..(at + 60).min(b.len())]).into_owned()
        };
        panic!(
            "051.4 status differs at byte {at}: ours …{}… golden …{}…",
            around(&s),
            around(&want)
        );
    }
}

#[test]
fn tab_rbt_and_lto_give_the_local_time_on_60() {
    // 060.5: tab (boot time, UTC ms) + rbt + lto (local offset) = local time
    let mut c = Charger::boot("012345", None, T0, 1).unwrap();
    let s = status(&mut c, T0.plus_ms(1500), None);
    assert_eq!(s["tab"], T0.millis() - API_UP_RBT_MS);
    assert_eq!(s["lto"], 7_200_000, "CEST in September");
    assert_eq!(s["rbt"], API_UP_RBT_MS + 1500);
    // a clock set moves the boot time with it
    c.set(T0.plus_ms(1500), "utc", "\"2030-01-01T00:00:00.000\"")
        .unwrap();
    let s = status(&mut c, T0.plus_ms(3500), None);
    assert_eq!(s["tab"], 1_893_456_000_000i64 + 2000 - 3500 - API_UP_RBT_MS);
    assert_eq!(s["lto"], 3_600_000, "CET in January");
}

#[test]
fn boot_from_stored_values_increments_rbc_and_keeps_config() {
    let mut c = Charger::boot("012345", None, T0, 1).unwrap();
    c.set(T0, "amp", "10").unwrap();
    c.set(T0, "fna", "\"garage\"").unwrap();
    let stored = c.persisted_values();
    let mut c2 = Charger::boot("012345", Some(&stored), T0.plus_ms(5000), 1).unwrap();
    let s = status(&mut c2, T0.plus_ms(5000), None);
    assert_eq!(s["rbc"], 2);
    assert_eq!(s["amp"], 10);
    assert_eq!(s["fna"], "garage");
    assert_eq!(s["rbt"], API_UP_RBT_MS);
}

#[test]
fn restart_keeps_configuration() {
    // every firmware; the 2021 firmware also prints the reset reason `rr`
    // (software reset = 3), which the newer ones no longer have
    for profile in goe_keys::profiles() {
        let mut c = Charger::boot_on(profile, "012345", None, T0, 1).unwrap();
        let out = c.set(T0, "rst", "true").unwrap();
        assert!(out.restart);
        c.set(T0, "amp", "12").unwrap();
        c.restart(T0.plus_ms(10_000));
        let s = status(&mut c, T0.plus_ms(10_250), None);
        assert_eq!(s["rbc"], 2, "{}", profile.firmware);
        assert_eq!(s["rbt"], API_UP_RBT_MS + 250, "{}", profile.firmware);
        assert_eq!(s["amp"], 12, "{}", profile.firmware);
    }
    let old = goe_keys::profile("051.4").unwrap();
    let mut c = Charger::boot_on(old, "012345", None, T0, 1).unwrap();
    c.set(T0, "rst", "true").unwrap();
    c.restart(T0.plus_ms(10_000));
    assert_eq!(status(&mut c, T0.plus_ms(10_250), None)["rr"], 3);
}

#[test]
fn filter_keeps_registration_order() {
    let mut c = Charger::boot("012345", None, T0, 1).unwrap();
    let mut f = KeySet::new();
    for k in ["cards", "trx", "wh", "nrg", "eto", "car", "alw"] {
        f.insert(key_id(k).unwrap());
    }
    let mut s = String::new();
    c.write_status(T0, Some(&f), &mut s);
    let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&s)
        .unwrap()
        .keys()
        .cloned()
        .collect::<Vec<_>>();
    // serde_json's map sorts; check the raw text order instead.
    assert_eq!(keys.len(), 7);
    let order: Vec<usize> = [
        "\"alw\"",
        "\"eto\"",
        "\"car\"",
        "\"wh\"",
        "\"trx\"",
        "\"nrg\"",
        "\"cards\"",
    ]
    .iter()
    .map(|k| s.find(k).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{s}");
}

#[test]
fn utc_can_be_set_and_keeps_running() {
    let mut c = Charger::boot("012345", None, T0, 1).unwrap();
    c.set(T0, "utc", "\"2030-01-01T00:00:00.000\"").unwrap();
    let s = status(&mut c, T0.plus_ms(2000), None);
    assert_eq!(s["utc"], "2030-01-01T00:00:02.000");
    assert_eq!(s["loc"], "2030-01-01T01:00:02.000 +01:00");
}

#[test]
fn password_is_stored_hashed_and_never_shown() {
    // `pass` is a key of the 2021 firmware (the newer key exports lack it)
    let old = goe_keys::profile("051.4").unwrap();
    let mut c = Charger::boot_on(old, "012345", None, T0, 1).unwrap();
    c.set(T0, "pass", "\"topsecret\"").unwrap();
    let mut s = String::new();
    c.write_status(T0, None, &mut s);
    assert!(!s.contains("topsecret"));
    assert!(!s.contains("\"pass\""));
    let stored = c.persisted_values();
    let hash = stored["pass"].as_str().unwrap();
    assert_eq!(hash.len(), 32);
    assert!(!hash.contains("topsecret"));
}

#[test]
fn inverter_data_expires() {
    let mut c = Charger::boot("012345", None, T0, 1).unwrap();
    c.set(T0, "ids", r#"{"pGrid":-1500,"pPv":2000.5}"#).unwrap();
    let s = status(&mut c, T0.plus_ms(1000), None);
    assert_eq!(s["pgrid"], -1500);
    assert_eq!(s["ppv"], 2000.5);
    assert_eq!(s["pakku"], serde_json::Value::Null);
    assert_eq!(s["inva"], 1000);
    c.step(T0.plus_ms(11_000));
    let s = status(&mut c, T0.plus_ms(11_000), None);
    assert_eq!(s["pgrid"], serde_json::Value::Null);
}

#[test]
fn transaction_needs_a_learned_card() {
    let mut c = Charger::boot("012345", None, T0, 1).unwrap();
    assert!(c.set(T0, "trx", "0").is_ok());
    let err = c.set(T0, "trx", "3").unwrap_err().to_string();
    assert!(err.contains("not learned"), "{err}");
    c.set(T0, "cards", r#"[{},{},{"cardId":"04AB12CD"}]"#)
        .unwrap();
    assert!(c.set(T0, "trx", "3").is_ok());
    assert_eq!(c.value("trx"), Some(&Value::Int(3)));
}

#[test]
fn mtp_null_restores_default() {
    let mut c = Charger::boot("012345", None, T0, 1).unwrap();
    c.set(T0, "mtp", "\"x/\"").unwrap();
    c.set(T0, "mtp", "null").unwrap();
    assert_eq!(
        c.value("mtp"),
        Some(&Value::Str("go-eCharger/012345/".into()))
    );
}

#[test]
fn floats_survive_persistence_bit_exact() {
    let mut c = Charger::boot("012345", None, T0, 1).unwrap();
    c.set(T0, "awp", "8.333").unwrap();
    c.set(T0, "dwo", "23980.87648").unwrap();
    let stored = c.persisted_values();
    let c2 = Charger::boot("012345", Some(&stored), T0, 1).unwrap();
    assert_eq!(c2.value("awp"), Some(&Value::Float(8.333)));
    assert_eq!(c2.value("dwo"), Some(&Value::Double(23980.87648)));
}

#[test]
fn bad_stored_value_is_an_error() {
    let mut stored = serde_json::Map::new();
    stored.insert("amp".into(), serde_json::json!("sixteen"));
    let err = Charger::boot("012345", Some(&stored), T0, 1).unwrap_err();
    assert!(err.to_string().contains("amp"));
}

#[test]
fn changes_are_tracked_per_consumer() {
    let mut c = Charger::boot("012345", None, T0, 1).unwrap();
    let name = |set: &KeySet| -> Vec<&str> { set.iter().map(|i| goe_keys::KEYS[i].name).collect() };
    let g0 = c.generation();
    c.set(T0, "amp", "10").unwrap();
    let changed = name(&c.changes_since(g0));
    assert_eq!(changed, ["amp"]);
    // writing the same value again is no change
    let g1 = c.generation();
    c.set(T0, "amp", "10").unwrap();
    assert!(c.changes_since(g1).is_empty());
    // a second of logic changes the clock keys, not the configuration
    let g2 = c.generation();
    c.step(T0.plus_ms(1000));
    let changed = name(&c.changes_since(g2));
    assert!(
        changed.contains(&"rbt") && changed.contains(&"utc"),
        "{changed:?}"
    );
    assert!(!changed.contains(&"amp") && !changed.contains(&"fna"));
    // the earlier consumer still sees everything since its own generation
    assert!(name(&c.changes_since(g0)).contains(&"amp"));
    // write-only keys are never reported (ocppao: a write-only setting of 060.5)
    let g3 = c.generation();
    c.set(T0, "ocppao", "true").unwrap();
    assert!(c.changes_since(g3).is_empty());
}
