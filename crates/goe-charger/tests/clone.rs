//! `goe-charger --clone-from HOST|FILE` (#17): a clone of each real capture
//! in `tests/fixtures/real-status/` (the crate's copy of
//! `../shared/fixtures/real-status/`: its API v2 bodies) prints every key of
//! the capture in its order, with its settings; keys the project does not
//! know are carried verbatim on every output and are read-only; a live
//! charger can be cloned; bad captures are refused; a restart stays the clone.
//! The fixtures are the ground truth and are never edited: the unknown keys
//! are added to a copy in a temporary file.

#![allow(dead_code)]

#[path = "common/mod.rs"]
mod common;
#[path = "push/support.rs"]
mod support;
#[path = "push/ws_auth.rs"]
mod ws_auth;

use common::{Charger, Ordered, enc};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tokio_tungstenite::tungstenite::Message;

fn fixtures() -> PathBuf {
    // the crate's copy of ../shared/fixtures/real-status (tests never read outside the repository)
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-status")
}

/// The API v2 `/api/status` captures (SOURCES.md: the MQTT snapshots and
/// the filtered HTTP bodies); the `v1-*` files are API v1 documents.
fn v2_captures() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixtures directory tests/fixtures/real-status")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.ends_with(".json") && !name.starts_with("v1-")
        })
        .collect();
    out.sort();
    assert!(out.len() >= 8, "{out:?}");
    out
}

fn read(path: &Path) -> Ordered {
    Ordered::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Keys no firmware has, in a capture: inserted after the first key and at the end.
const UNKNOWN_1: (&str, &str) = ("zzq1", "{\"a\":[1, 2.50],\"b\":null}");
const UNKNOWN_2: (&str, &str) = ("zzq2", "1e3");

/// A copy of `fixture` with the two unknown keys, in `dir`.
fn with_unknown_keys(fixture: &str, dir: &Path) -> (PathBuf, Ordered) {
    let capture = read(&fixtures().join(fixture));
    let mut parts: Vec<String> = Vec::new();
    for (i, e) in capture.entries.iter().enumerate() {
        parts.push(format!(
            "{}:{}",
            serde_json::to_string(&e.key).unwrap(),
            e.raw
        ));
        if i == 0 {
            parts.push(format!("\"{}\":{}", UNKNOWN_1.0, UNKNOWN_1.1));
        }
    }
    parts.push(format!("\"{}\":{}", UNKNOWN_2.0, UNKNOWN_2.1));
    let text = format!("{{\n{}\n}}\n", parts.join(",\n"));
    let path = dir.join(format!("unknown-{fixture}"));
    std::fs::write(&path, &text).unwrap();
    (path, Ordered::parse(&text).unwrap())
}

/// Whether two JSON values are the same, numbers to float precision.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= 1e-6 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && same(a, b))
        }
        _ => a == b,
    }
}

/// Whether the table says a clone copies `key` (a writable Config key that
/// is not a secret).
fn is_setting(key: &str) -> bool {
    goe_keys::key(key).is_some_and(|d| {
        d.category == goe_keys::Category::Config
            && d.access.writable()
            && d.secret == goe_keys::Secret::No
    })
}

fn clone_of(path: &Path, extra: &[&str]) -> Charger {
    let mut args = vec!["--clock", "manual", "--clone-from", path.to_str().unwrap()];
    args.extend_from_slice(extra);
    Charger::fresh_with(&args)
}

/// Every key of `capture` in its order; every setting with the capture's
/// value unless stderr reports it refused (with its key and reason).
fn check_clone(name: &str, capture: &Ordered, status: &Ordered, stderr: &str) {
    assert_eq!(
        status.keys(),
        capture.keys(),
        "{name}: the capture's keys in its order"
    );
    let mut copied = 0;
    for e in &capture.entries {
        let got = status.get(&e.key).unwrap();
        if goe_keys::key(&e.key).is_none() {
            assert_eq!(
                status.raw_of(&e.key),
                Some(e.raw.as_str()),
                "{name}: {} verbatim",
                e.key
            );
        } else if is_setting(&e.key) && status.raw_of(&e.key) != Some(e.raw.as_str()) {
            let refused = format!("setting {} not copied: {}: ", e.key, e.key);
            assert!(
                same(got, &e.value) || stderr.contains(&refused),
                "{name}: {} is {got}, the capture says {} and stderr reports no refusal:\n{stderr}",
                e.key,
                e.raw
            );
            copied += 1;
        } else if is_setting(&e.key) {
            copied += 1;
        }
    }
    assert!(
        stderr.contains("settings copied"),
        "{name}: summary line:\n{stderr}"
    );
    let _ = copied;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clone_of_each_capture_prints_its_keys_in_order_with_its_settings() {
    let mut settings_seen = 0;
    for path in v2_captures() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let capture = read(&path);
        let charger = clone_of(&path, &[]);
        let status = charger.api().status().await;
        check_clone(
            &name,
            &capture,
            &status,
            &charger.stderr_with("settings copied"),
        );
        settings_seen += capture.keys().iter().filter(|k| is_setting(k)).count();
        // a filter works on the clone's keys (its print order, not the filter's)
        let keys = capture.keys();
        let (a, b) = (keys[keys.len() - 1], keys[0]);
        let filtered = charger.api().status_filter(&enc(&format!("{a},{b}"))).await;
        let want: Vec<&str> = if a == b { vec![a] } else { vec![b, a] };
        assert_eq!(filtered.keys(), want, "{name}");
    }
    assert!(
        settings_seen > 100,
        "the captures hold settings: {settings_seen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_keys_are_carried_verbatim_filterable_and_read_only() {
    let tmp = tempfile::tempdir().unwrap();
    // 053.1 runs on the nearest profile, 051.4, which lacks some of its keys
    let (path, capture) = with_unknown_keys("syssi-mqtt-fw053.1.json", tmp.path());
    let charger = clone_of(&path, &[]);
    let api = charger.api();
    let status = api.status().await;
    check_clone(
        "053.1+unknown",
        &capture,
        &status,
        &charger.stderr_with("settings copied"),
    );
    assert_eq!(status.raw_of(UNKNOWN_1.0), Some(UNKNOWN_1.1));
    assert_eq!(status.raw_of(UNKNOWN_2.0), Some(UNKNOWN_2.1));
    assert_eq!(
        status.get("fwv"),
        Some(&Value::from("053.1")),
        "the unit's version"
    );
    // keys 051.4 does not have are verbatim too (the capture's own values)
    let base = goe_keys::profile("051.4").unwrap();
    let lacking: Vec<&str> = capture
        .keys()
        .into_iter()
        .filter(|k| {
            goe_keys::key(k).is_some() && !base.key(k).is_some_and(|(_, d)| d.access.readable())
        })
        .collect();
    assert!(!lacking.is_empty(), "053.1 has keys 051.4 lacks");
    for k in &lacking {
        assert_eq!(status.raw_of(k), capture.raw_of(k), "{k} verbatim");
    }
    let f = api
        .status_filter(&format!("{},amp,{}", UNKNOWN_2.0, UNKNOWN_1.0))
        .await;
    let mut want = vec![UNKNOWN_1.0, "amp", UNKNOWN_2.0];
    want.sort_by_key(|k| capture.keys().iter().position(|c| c == k));
    assert_eq!(f.keys(), want);
    assert_eq!(f.raw_of(UNKNOWN_1.0), Some(UNKNOWN_1.1));
    let r = api.set(&[(UNKNOWN_1.0, "1")]).await;
    assert_eq!(
        r.get(UNKNOWN_1.0),
        Some(&Value::from(
            "zzq1: tried to set api key without setter (1)"
        )),
        "{}",
        r.body
    );
    let r = api.set(&[(lacking[0], "1")]).await;
    assert_eq!(
        r.get(lacking[0]),
        Some(&Value::from(format!(
            "{}: tried to set api key without setter (1)",
            lacking[0]
        ))),
        "{}",
        r.body
    );
    // a key the capture does not show is not printed, and stays unknown to filters
    let hidden = base
        .readable_keys()
        .map(|(_, d)| d.name)
        .find(|k| !capture.has(k))
        .expect("a key of 051.4 the capture does not show");
    let f = api.status_filter(&format!("amp,{hidden}")).await;
    assert_eq!(f.keys(), ["amp"], "{hidden}");
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(support::WAIT, ws.next())
            .await
            .expect("WebSocket frame in time")
            .expect("WebSocket open")
            .expect("WebSocket frame");
        if let Message::Text(t) = m {
            return serde_json::from_str(&t).expect("JSON frame");
        }
    }
}

/// The merged `fullStatus` after logging in with the empty password (serial 012345).
async fn ws_full_status(port: u16) -> Vec<(String, String)> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .expect("WebSocket connect");
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    let challenge = next_json(&mut ws).await;
    assert_eq!(challenge["type"], "authRequired", "{challenge}");
    let answer = ws_auth::auth_message(
        ws_auth::hashed(""),
        challenge["token1"].as_str().unwrap(),
        challenge["token2"].as_str().unwrap(),
    );
    ws.send(Message::Text(answer.into())).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "authSuccess");
    let mut keys = Vec::new();
    loop {
        let v = next_json(&mut ws).await;
        assert_eq!(v["type"], "fullStatus", "{v}");
        for (k, val) in v["status"].as_object().unwrap() {
            keys.push((k.clone(), val.to_string()));
        }
        if v["partial"] == false {
            return keys;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_and_mqtt_carry_the_unknown_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, capture) = with_unknown_keys("syssi-mqtt-fw060.5.json", tmp.path());
    let broker = support::Broker::start();
    let mut sub = support::Sub::connect(broker.port, "clone-test", &["#"]).await;
    let charger = clone_of(&path, &["--mqtt", &broker.url()]);
    let full = ws_full_status(charger.port).await;
    let names: Vec<&str> = full.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        capture.keys(),
        "fullStatus: the capture's keys in its order"
    );
    let zzq1 = &full.iter().find(|(k, _)| k == UNKNOWN_1.0).unwrap().1;
    let want: Value = serde_json::from_str(UNKNOWN_1.1).unwrap();
    assert_eq!(serde_json::from_str::<Value>(zzq1).unwrap(), want);
    // the capture does not show `mtp`: the clone has the factory topic
    assert!(!capture.has("mtp"));
    let mtp = goe_keys::profile("060.5")
        .unwrap()
        .default_value(goe_keys::key_id("mtp").unwrap(), common::SERIAL);
    let prefix = mtp.as_str().unwrap().to_owned();
    let m = sub
        .wait_for(
            &format!("{prefix}{}", UNKNOWN_1.0),
            |_| true,
            "the unknown key",
        )
        .await;
    assert_eq!(m.payload, UNKNOWN_1.1, "verbatim on MQTT");
    sub.wait_payload(&format!("{prefix}{}", UNKNOWN_2.0), UNKNOWN_2.1)
        .await;
    // and a write over MQTT is refused like one over HTTP
    sub.publish(&format!("{prefix}{}/set", UNKNOWN_2.0), "5")
        .await;
    sub.wait_payload(
        &format!("{prefix}{}/result", UNKNOWN_2.0),
        "tried to set api key without setter 5",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_charger_can_be_cloned_with_its_identity() {
    let original = Charger::fresh_with(&[
        "--clock",
        "manual",
        "--firmware",
        "056.2",
        "--serial",
        "204242",
    ]);
    let api = original.api();
    let r = api
        .set(&[("amp", "13"), ("fna", "\"Garage\""), ("lbr", "77")])
        .await;
    assert!(r.all_true(&["amp", "fna", "lbr"]), "{}", r.body);
    let before = api.status().await;
    let host = format!("127.0.0.1:{}", original.port);
    let clone = Charger::fresh_with(&["--clock", "manual", "--clone-from", &host]);
    let status = clone.api().status().await;
    assert_eq!(status.keys(), before.keys());
    for (k, v) in [
        ("amp", "13"),
        ("fna", "\"Garage\""),
        ("lbr", "77"),
        ("sse", "\"204242\""),
    ] {
        assert_eq!(status.raw_of(k), Some(v), "{k}");
    }
    assert!(
        clone
            .stderr_with(&format!("cloned {host}"))
            .contains(&format!("cloned {host}")),
        "{}",
        clone.stderr()
    );
    // --serial overrides the captured one
    let renamed = Charger::fresh_with(&[
        "--clock",
        "manual",
        "--clone-from",
        &host,
        "--serial",
        "300001",
    ]);
    assert_eq!(
        renamed.api().value("sse").await,
        Some(Value::from("300001"))
    );
    assert_eq!(
        renamed.api().value("fna").await,
        Some(Value::from("Garage"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_captures_and_unreachable_hosts_are_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{\"amp\":6,\n \"alw\": }\n").unwrap();
    let v1 = fixtures().join("v1-evcc-pr1609-fw051.4-legacy-status.json");
    let cases: [(&str, &[&str]); 4] = [
        (bad.to_str().unwrap(), &["line 2 column 9", "bad.json"]),
        (v1.to_str().unwrap(), &["API v1", "/api/status"]),
        (
            "127.0.0.1:1",
            &["cannot fetch http://127.0.0.1:1/api/status", "unreachable"],
        ),
        ("/nonexistent/status.json", &["cannot read"]),
    ];
    for (arg, wants) in cases {
        let dir = tmp.path().join("data");
        let f = match Charger::try_start(&dir, &["--clone-from", arg]) {
            Ok(_) => panic!("--clone-from {arg} started"),
            Err(f) => f,
        };
        assert!(f.status.is_some_and(|s| !s.success()), "{arg}: {f:?}");
        for want in wants {
            assert!(
                f.stderr.contains(want),
                "{arg}: wants {want:?}: {}",
                f.stderr
            );
        }
        assert!(!f.stderr.contains("panicked"), "{}", f.stderr);
        assert!(!dir.join("config.json").exists(), "{arg}: nothing claimed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_without_clone_from_stays_the_clone() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, capture) = with_unknown_keys("syssi-mqtt-fw055.6.json", tmp.path());
    let dir = tmp.path().join("data");
    let mut first = Charger::start_with(
        &dir,
        &["--clock", "manual", "--clone-from", path.to_str().unwrap()],
    );
    let r = first.api().set(&[("amp", "7")]).await;
    assert!(r.all_true(&["amp"]), "{}", r.body);
    let before = first.api().status().await;
    first.terminate();
    std::fs::remove_file(&path).unwrap();
    let again = Charger::start_with(&dir, &["--clock", "manual"]);
    let status = again.api().status().await;
    assert_eq!(status.keys(), capture.keys());
    assert_eq!(status.raw_of(UNKNOWN_1.0), Some(UNKNOWN_1.1));
    assert_eq!(
        status.raw_of("amp"),
        Some("7"),
        "a setting written after the clone"
    );
    assert_eq!(status.raw_of("fwv"), before.raw_of("fwv"));
    assert_eq!(status.raw_of("fna"), before.raw_of("fna"));
}

/// A trace (`goe record`'s format) is a FILE too: the clone is the unit as
/// the trace starts (its line 2, keys in its order), not as later changes
/// left it; a trace with a bad line is refused with the line and the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_is_cloned_from_the_state_it_starts_with() {
    let tmp = tempfile::tempdir().unwrap();
    let mut status: goe_trace::Object = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("syssi-mqtt-fw060.5.json")).unwrap(),
    )
    .unwrap();
    status.insert("zzq3".into(), serde_json::json!([1, "x"]));
    let amp = status.get("amp").cloned().expect("the fixture's amp");
    assert_ne!(amp, Value::from(11));
    let header = goe_trace::Header::new(
        "2026-12-01T10:00:00Z",
        "redacted",
        goe_trace::Transport::Poll,
        "test",
    );
    let mut trace = goe_trace::Writer::new(Vec::new(), &header, 0, &status).unwrap();
    let mut later = status.clone();
    later.insert("amp".into(), Value::from(11));
    trace
        .delta(&goe_trace::Delta::between(5000, &status, &later))
        .unwrap();
    let text = String::from_utf8(trace.into_inner()).unwrap();
    let path = tmp.path().join("bug.trace.jsonl");
    std::fs::write(&path, &text).unwrap();
    let charger = clone_of(&path, &[]);
    let got = charger.api().status().await;
    let want_keys: Vec<&str> = status.keys().map(String::as_str).collect();
    assert_eq!(got.keys(), want_keys, "the trace's keys in its order");
    assert_eq!(
        got.raw_of("amp"),
        Some(amp.to_string().as_str()),
        "the setting as the trace starts"
    );
    assert_eq!(
        got.raw_of("zzq3"),
        Some("[1,\"x\"]"),
        "an unknown key verbatim"
    );
    // a bad line in the middle names the line
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, "{\"type\":\"delta\",\"t\":");
    let bad = tmp.path().join("bad.trace.jsonl");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let dir = tmp.path().join("data");
    let f = match Charger::try_start(&dir, &["--clone-from", bad.to_str().unwrap()]) {
        Ok(_) => panic!("a trace with a bad line was cloned"),
        Err(f) => f,
    };
    assert!(f.stderr.contains("line 3"), "{}", f.stderr);
    assert!(f.stderr.contains("bad.trace.jsonl"), "{}", f.stderr);
    assert!(!f.stderr.contains("panicked"), "{}", f.stderr);
}
