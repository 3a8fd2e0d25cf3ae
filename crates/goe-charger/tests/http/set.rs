//! `GET /api/set`: a round trip for every writable key, wrong types,
//! out-of-range values, read-only and unknown keys, invalid JSON, partial
//! failure, answer order and duplicates, write-only commands and `rst`.
//! The tests that enumerate every key do so for the 2021 table and run a
//! charger of its firmware ([`FW_2021`]); the others run the default firmware.

use crate::common::values::{self, read_write, write_only};
use crate::common::{Api, Charger, FW_2021, Ordered, SetResp};
use goe_keys::{Access, Base, KeyDef};
use serde_json::{Value, json};

/// Checks that `r` is a failed set of exactly `key` with `message`
/// (`None`: only `<key>: failed: … (<raw>)` is specified).
///
/// Secret keys (`pass`, `wak`, `facwak`, `wifis`, `cards`) must not echo what
/// was sent even in an error: the parenthesised part must differ from `raw`
/// (the server shows a mask there).
pub fn check_error(r: &SetResp, key: &str, raw: &str, message: Option<&str>) -> Result<(), String> {
    if r.status != 500 {
        return Err(format!(
            "{key}={raw}: HTTP {} (want 500), body {}",
            r.status, r.body
        ));
    }
    if r.obj.keys() != [key] {
        return Err(format!(
            "{key}={raw}: answer must have exactly one entry, got {}",
            r.body
        ));
    }
    let Some(text) = r.get(key).and_then(Value::as_str) else {
        return Err(format!(
            "{key}={raw}: entry must be an error string, got {}",
            r.body
        ));
    };
    let secret = goe_keys::key(key).is_some_and(|d| d.secret != goe_keys::Secret::No);
    let head = match message {
        Some(m) => format!("{key}: {m} ("),
        None => format!("{key}: failed: "),
    };
    let echoed = if secret { "<masked>" } else { raw };
    let shape = if message.is_some() {
        format!("\"{head}{echoed})\"")
    } else {
        format!("\"{head}… ({echoed})\"")
    };
    let ok = if secret {
        // the echoed part: after the last " (" (or the head) up to the final ")"
        let inner = text
            .strip_suffix(')')
            .and_then(|t| t.rfind(" (").map(|p| &t[p + 2..]));
        text.starts_with(&head)
            && inner.is_some_and(|i| i != raw && !(raw.len() > 2 && i.contains(raw)))
    } else if message.is_some() {
        text == format!("{head}{raw})")
    } else {
        text.starts_with(&head) && text.ends_with(&format!(" ({raw})"))
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{key}={raw}: got {text:?}, want {shape}"))
    }
}

/// The R/W values that must not change without an acknowledged write
/// (`utc` moves with the clock and is left out).
pub async fn config_snapshot(api: &Api) -> Vec<(&'static str, Value)> {
    let st = api.status().await;
    read_write()
        .filter(|d| d.name != "utc")
        .map(|d| (d.name, st.get(d.name).cloned().unwrap_or(Value::Null)))
        .collect()
}

/// Differences between two snapshots.
pub fn snapshot_diff(before: &[(&str, Value)], after: &[(&str, Value)]) -> Vec<String> {
    before
        .iter()
        .zip(after)
        .filter(|(a, b)| !crate::common::json_eq(&a.1, &b.1))
        .map(|(a, b)| format!("{} changed from {} to {}", a.0, a.1, b.1))
        .collect()
}

fn first_branch(st: &Ordered) -> String {
    st.get("ocu")
        .and_then(|o| o.get(0))
        .and_then(Value::as_str)
        .expect("ocu lists at least one branch")
        .to_owned()
}

#[tokio::test]
async fn every_read_write_key_round_trips() {
    let ch = Charger::fresh_on(FW_2021);
    let api = ch.api();
    let st = api.status().await;
    let branch = first_branch(&st);
    let mut failures = Vec::new();
    let mut expected = Vec::new();
    for def in read_write() {
        let current = st.get(def.name).cloned().unwrap_or(Value::Null);
        let w = values::fresh_value(def, &current, &branch);
        let r = api.set(&[(def.name, &w.raw)]).await;
        if !r.all_true(&[def.name]) {
            failures.push(format!(
                "{}={}: want 200 {{\"{}\":true}}, got {} {}",
                def.name, w.raw, def.name, r.status, r.body
            ));
            continue;
        }
        let shown = api.value(def.name).await;
        if let Err(e) = w.expect.check(shown.as_ref()) {
            failures.push(format!("{}={}: {e}", def.name, w.raw));
        }
        expected.push((def.name, w));
    }
    // all writes are still in place at the end (no write undid another;
    // `cards` shows the per-card keys written after it)
    let mut expected: Vec<(&'static str, values::Expect)> =
        expected.into_iter().map(|(n, w)| (n, w.expect)).collect();
    values::mirror_per_card_keys(&mut expected);
    let st = api.status().await;
    for (name, expect) in &expected {
        if let Err(e) = expect.check(st.get(name)) {
            failures.push(format!("{name} after all writes: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn bool_keys_accept_0_and_1() {
    let ch = Charger::fresh_on(FW_2021);
    let api = ch.api();
    let mut failures = Vec::new();
    for def in read_write().filter(|d| d.base() == Base::Bool) {
        // hai=0 would switch the HTTP API off
        let seq: &[(&str, bool)] = if def.name == "hai" {
            &[("1", true)]
        } else {
            &[("1", true), ("0", false), ("1", true)]
        };
        for (raw, want) in seq {
            let r = api.set(&[(def.name, raw)]).await;
            if !r.all_true(&[def.name]) {
                failures.push(format!("{}={raw}: got {} {}", def.name, r.status, r.body));
                continue;
            }
            let got = api.value(def.name).await;
            if got != Some(json!(want)) {
                failures.push(format!(
                    "{}={raw}: status shows {got:?}, want {want}",
                    def.name
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The writable keys (R/W and W) whose errors are tested; `rst` only with
/// invalid values (a valid one restarts the charger).
fn all_writable() -> impl Iterator<Item = &'static KeyDef> {
    values::table_2021().filter(|k| k.access.writable())
}

#[tokio::test]
async fn wrong_json_types_are_rejected() {
    let ch = Charger::fresh_on(FW_2021);
    let api = ch.api();
    let before = config_snapshot(&api).await;
    let mut failures = Vec::new();
    let mut count = 0;
    for def in all_writable() {
        for (raw, msg) in values::wrong_types(def) {
            count += 1;
            let r = api.set(&[(def.name, &raw)]).await;
            if let Err(e) = check_error(&r, def.name, &raw, Some(&msg)) {
                failures.push(e);
            }
        }
    }
    assert!(count > 100, "too few cases: {count}");
    let after = config_snapshot(&api).await;
    failures.extend(snapshot_diff(&before, &after));
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn out_of_range_values_are_rejected() {
    // fresh charger: mca=6, ama=16, var=11, so amp/mca/ama allow 6..16
    let ch = Charger::fresh_on(FW_2021);
    let api = ch.api();
    let before = config_snapshot(&api).await;
    let mut failures = Vec::new();
    let mut keys_tested = 0;
    for def in all_writable() {
        let cases = values::out_of_range(def);
        keys_tested += usize::from(!cases.is_empty());
        for (raw, msg) in cases {
            let r = api.set(&[(def.name, &raw)]).await;
            if let Err(e) = check_error(&r, def.name, &raw, msg.as_deref()) {
                failures.push(e);
            }
        }
    }
    assert!(
        keys_tested > 50,
        "too few keys with range tests: {keys_tested}"
    );
    let after = config_snapshot(&api).await;
    failures.extend(snapshot_diff(&before, &after));
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn spec_examples_of_range_errors() {
    let ch = Charger::fresh();
    let api = ch.api();
    for (k, raw, msg) in [
        // (060.5: amp 6 to 32 on every variant; 051.4's mca..ama: tests/http/types.rs)
        ("amp", "5", "failed: Value 5 exceeds range 6 to 32"),
        ("amp", "33", "failed: Value 33 exceeds range 6 to 32"),
        ("lbr", "256", "failed: Value 256 exceeds range 0 to 255"),
        ("frc", "3", "failed: Value 3 exceeds range 0 to 2"),
        ("lmo", "2", "failed: Value 2 exceeds range 3 to 5"),
        ("lmo", "6", "failed: Value 6 exceeds range 3 to 5"),
        (
            "fna",
            "\"go\"",
            "failed: String length  2 exceeds range 4 to 64",
        ),
        ("cid", "\"blue\"", "failed: color must be #RRGGBB"),
        ("fna", "7", "value must be string"),
        ("dwo", "\"x\"", "value must be null or number"),
        ("amp", "true", "value must be integer"),
        // (a bool key: `bac` is a uint8 lock mode since fw 055.2)
        ("acp", "\"x\"", "value must be boolean"),
        ("clp", "{}", "value must be JsonArray"),
        ("sch_week", "[]", "value must be JsonObject"),
        ("ids", "[]", "value must be null or JsonObject"),
    ] {
        let r = api.set(&[(k, raw)]).await;
        check_error(&r, k, raw, Some(msg)).unwrap();
    }
    // 060.5: amp 6 to 32 whatever ama says (ama limits acu, not the setting)
    api.set_ok(&[("ama", "12"), ("mca", "8"), ("amp", "13")])
        .await;
    // 051.4: amp's range follows mca and ama
    let ch = Charger::fresh_with(&["--firmware", "051.4"]);
    let api = ch.api();
    api.set_ok(&[("ama", "12"), ("mca", "8")]).await;
    let r = api.set(&[("amp", "13")]).await;
    check_error(
        &r,
        "amp",
        "13",
        Some("failed: Value 13 exceeds range 8 to 12"),
    )
    .unwrap();
    let r = api.set(&[("amp", "7")]).await;
    check_error(
        &r,
        "amp",
        "7",
        Some("failed: Value 7 exceeds range 8 to 12"),
    )
    .unwrap();
    api.set_ok(&[("amp", "12")]).await;
    assert_eq!(api.value("amp").await, Some(json!(12)));
}

#[tokio::test]
async fn read_only_keys_are_rejected() {
    let ch = Charger::fresh_on(FW_2021);
    let api = ch.api();
    let st = api.status().await;
    for (k, raw) in [("alw", "true"), ("car", "2")] {
        let r = api.set(&[(k, raw)]).await;
        check_error(&r, k, raw, Some("tried to set api key without setter")).unwrap();
        assert_eq!(
            r.body,
            format!("{{\"{k}\":\"{k}: tried to set api key without setter ({raw})\"}}"),
            "exact body"
        );
    }
    let after = api.status_filter("alw,car").await;
    assert_eq!(after.get("alw"), st.get("alw"), "alw unchanged");
    assert_eq!(after.get("car"), st.get("car"), "car unchanged");
    // every read-only key, with values of any type
    let mut failures = Vec::new();
    for def in values::table_2021().filter(|k| k.access == Access::Read) {
        for raw in ["1", "\"x\""] {
            let r = api.set(&[(def.name, raw)]).await;
            if let Err(e) = check_error(
                &r,
                def.name,
                raw,
                Some("tried to set api key without setter"),
            ) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn unknown_keys_are_rejected() {
    let ch = Charger::fresh();
    let api = ch.api();
    for (k, raw) in [
        ("nosuchkey", "1"),
        ("foo", "\"bar\""),
        ("x", "go"),
        ("amps", "10"),
    ] {
        let r = api.set(&[(k, raw)]).await;
        check_error(&r, k, raw, Some("unknown api key")).unwrap();
    }
}

#[tokio::test]
async fn invalid_json_is_rejected_with_arduinojson_error_names() {
    let ch = Charger::fresh();
    let api = ch.api();
    let before = config_snapshot(&api).await;
    let deep = format!("{}1{}", "[".repeat(12), "]".repeat(12));
    let cases: Vec<(&str, String, &str)> = vec![
        ("fna", "go".into(), "InvalidInput"),
        ("fna", "'abc'".into(), "InvalidInput"),
        ("amp", "1 2".into(), "InvalidInput"),
        ("amp", "1x".into(), "InvalidInput"),
        ("fna", "\"abc".into(), "IncompleteInput"),
        ("clp", "[6,10".into(), "IncompleteInput"),
        ("sch_week", "{\"control\":".into(), "IncompleteInput"),
        ("fna", "".into(), "EmptyInput"),
        ("amp", "   ".into(), "EmptyInput"),
        ("clp", deep.clone(), "TooDeep"),
        ("amp", deep, "TooDeep"),
    ];
    for (k, raw, name) in &cases {
        let r = api.set(&[(k, raw)]).await;
        let msg = format!("tried to set api key with invalid json {name}");
        check_error(&r, k, raw, Some(&msg)).unwrap();
    }
    // ten levels are fine for the parser (the value is then checked by the key's rule)
    let ten = format!("{}6{}", "[".repeat(10), "]".repeat(10));
    let r = api.set(&[("clp", &ten)]).await;
    let text = r.get("clp").and_then(Value::as_str).unwrap_or_default();
    assert!(
        !text.contains("TooDeep"),
        "10 levels must not be TooDeep: {}",
        r.body
    );
    let after = config_snapshot(&api).await;
    let diff = snapshot_diff(&before, &after);
    assert!(diff.is_empty(), "{}", diff.join("\n"));
}

#[tokio::test]
async fn partial_failure_is_500_with_good_keys_applied() {
    let ch = Charger::fresh();
    let api = ch.api();
    let r = api.set_query("amp=10&alw=true&fna=%22garage%22").await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.obj.keys(), ["amp", "alw", "fna"], "{}", r.body);
    assert_eq!(r.get("amp"), Some(&json!(true)));
    assert_eq!(
        r.get("alw"),
        Some(&json!("alw: tried to set api key without setter (true)"))
    );
    assert_eq!(r.get("fna"), Some(&json!(true)));
    assert_eq!(
        r.body,
        r#"{"amp":true,"alw":"alw: tried to set api key without setter (true)","fna":true}"#
    );
    let st = api.status_filter("amp,fna").await;
    assert_eq!(st.get("amp"), Some(&json!(10)));
    assert_eq!(st.get("fna"), Some(&json!("garage")));
    // a failing key first, then good ones
    let r = api.set_query("nosuch=1&lbr=7&amp=99&ust=2").await;
    assert_eq!(r.status, 500);
    assert_eq!(r.obj.keys(), ["nosuch", "lbr", "amp", "ust"], "{}", r.body);
    let st = api.status_filter("lbr,amp,ust").await;
    assert_eq!(st.get("lbr"), Some(&json!(7)));
    assert_eq!(
        st.get("amp"),
        Some(&json!(10)),
        "failed amp=99 must not change amp"
    );
    assert_eq!(st.get("ust"), Some(&json!(2)));
}

#[tokio::test]
async fn answers_follow_query_order_and_duplicates_collapse() {
    let ch = Charger::fresh();
    let api = ch.api();
    let r = api
        .set_query("fna=%22abcd%22&amp=10&lbr=7&cid=%22%23ABCDEF%22")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, r#"{"fna":true,"amp":true,"lbr":true,"cid":true}"#);
    let r = api.set_query("lbr=8&fna=%22wxyz%22").await;
    assert_eq!(r.body, r#"{"lbr":true,"fna":true}"#);
    // duplicates: applied in order, one entry at the first position
    let r = api.set_query("amp=7&amp=8").await;
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"amp":true}"#));
    assert_eq!(
        api.value("amp").await,
        Some(json!(8)),
        "last duplicate wins"
    );
    let r = api.set_query("amp=10&fna=%22dupe%22&amp=99").await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.obj.keys(), ["amp", "fna"], "{}", r.body);
    assert_eq!(
        r.get("amp"),
        Some(&json!("amp: failed: Value 99 exceeds range 6 to 32 (99)"))
    );
    assert_eq!(r.get("fna"), Some(&json!(true)));
    let st = api.status_filter("amp,fna").await;
    assert_eq!(
        st.get("amp"),
        Some(&json!(10)),
        "first amp applied, second refused"
    );
    assert_eq!(st.get("fna"), Some(&json!("dupe")));
    let r = api.set_query("amp=99&lbr=1&amp=9").await;
    assert_eq!(r.obj.keys(), ["amp", "lbr"], "{}", r.body);
    assert_eq!(
        r.get("amp"),
        Some(&json!(true)),
        "last result for amp: {}",
        r.body
    );
    assert_eq!(api.value("amp").await, Some(json!(9)));
}

#[tokio::test]
async fn empty_set_answers_empty_object() {
    let ch = Charger::fresh();
    let api = ch.api();
    for pq in ["/api/set", "/api/set?"] {
        let r = api.get(pq).await;
        assert_eq!((r.status, r.body.as_str()), (200, "{}"), "{pq}");
    }
}

#[tokio::test]
async fn write_only_keys_are_accepted_and_never_shown() {
    let ch = Charger::fresh_on(FW_2021);
    let api = ch.api();
    let st = api.status().await;
    let branch = first_branch(&st);
    let mut failures = Vec::new();
    let mut tested = Vec::new();
    for def in write_only().filter(|d| d.name != "rst") {
        let w = values::fresh_value(def, &Value::Null, &branch);
        let r = api.set(&[(def.name, &w.raw)]).await;
        if !r.all_true(&[def.name]) {
            failures.push(format!(
                "{}={}: got {} {}",
                def.name, w.raw, r.status, r.body
            ));
        }
        tested.push(def.name);
    }
    for k in ["pass", "delw", "lrn", "del", "oct", "ids"] {
        assert!(
            tested.contains(&k),
            "{k} must be a write-only key of the table"
        );
    }
    // the other command values of the spec
    for (k, raw) in [("delw", "0"), ("lrn", "9"), ("del", "0")] {
        let r = api.set(&[(k, raw)]).await;
        if !r.all_true(&[k]) {
            failures.push(format!("{k}={raw}: got {} {}", r.status, r.body));
        }
    }
    let st = api.status().await;
    for def in write_only() {
        if st.has(def.name) {
            failures.push(format!("{} appears in the status", def.name));
        }
    }
    // inverter data is read back through pgrid/ppv/pakku
    let got = api.status_filter("pgrid,ppv,pakku").await;
    let nums: Vec<Option<f64>> = ["pgrid", "ppv", "pakku"]
        .iter()
        .map(|k| got.get(k).and_then(Value::as_f64))
        .collect();
    if nums != [Some(-1500.0), Some(2000.0), Some(0.0)] {
        failures.push(format!("ids not reflected in pgrid/ppv/pakku: {}", got.raw));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn oct_needs_a_branch_from_ocu() {
    let ch = Charger::fresh();
    let api = ch.api();
    let r = api.set(&[("oct", "\"no-such-branch\"")]).await;
    check_error(&r, "oct", "\"no-such-branch\"", None).unwrap();
}

/// Polls until `rbt` ≥ `min_ms` (bounded), returns the status.
async fn status_after(api: &Api, min_ms: i64) -> Ordered {
    for _ in 0..100 {
        let st = api.status().await;
        if st.get("rbt").and_then(Value::as_i64).unwrap_or(0) >= min_ms {
            return st;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("rbt never reached {min_ms} ms");
}

#[tokio::test]
async fn rst_restarts_and_keeps_configuration() {
    let mut ch = Charger::fresh();
    let api = ch.api();
    api.set_ok(&[("fna", "\"before-rst\""), ("amp", "11"), ("lbr", "99")])
        .await;
    let st = status_after(&api, 1500).await;
    let rbc0 = st.get("rbc").and_then(Value::as_i64).unwrap();
    let rbt0 = st.get("rbt").and_then(Value::as_i64).unwrap();
    assert_eq!(rbc0, 1);
    let r = api.set(&[("rst", "true")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"rst":true}"#));
    // the same process answers again after its restart
    let mut after = None;
    for _ in 0..100 {
        if let Ok(r) = api.try_get("/api/status").await
            && r.status == 200
        {
            after = Some(r.object("status after rst"));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let after = after.expect("status after rst");
    assert!(ch.running(), "rst must not end the process");
    assert_eq!(
        after.get("rbc"),
        Some(&json!(rbc0 + 1)),
        "rbc + 1 after rst"
    );
    let rbt1 = after.get("rbt").and_then(Value::as_i64).unwrap();
    assert!(rbt1 < rbt0, "rbt restarts from 0: was {rbt0}, now {rbt1}");
    assert_eq!(after.get("fna"), Some(&json!("before-rst")));
    assert_eq!(after.get("amp"), Some(&json!(11)));
    assert_eq!(after.get("lbr"), Some(&json!(99)));
    // the new boot counter is durable too
    ch.kill9();
    let ch2 = Charger::start_in(&ch.dir);
    let st = ch2.api().status_filter("rbc,fna").await;
    assert_eq!(
        st.get("rbc"),
        Some(&json!(rbc0 + 2)),
        "rbc after rst and a restart"
    );
    assert_eq!(st.get("fna"), Some(&json!("before-rst")));
}
