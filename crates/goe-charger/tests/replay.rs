//! `goe-charger --replay TRACE` (#17) over real sockets: a trace recorded
//! from a live `goe-charger` (manual clock, a car plugged and charging) is
//! served again byte for byte on HTTP at the recorded instants, its changes
//! reach WebSocket and MQTT watchers, writes of known keys take over from the
//! trace, writes of keys the firmware does not know are refused (or answered
//! as the trace's `answer` line shows), a cut-off last line is dropped with a
//! warning and a malformed trace is refused at start with line and reason.

#[path = "common/mod.rs"]
mod common;
#[path = "push/support.rs"]
mod support;
#[path = "push/ws_auth.rs"]
#[allow(dead_code)]
mod ws_auth;

use common::{Api, BIN, Charger, json::scan_object};
use futures_util::{SinkExt, StreamExt};
use goe_trace::{Delta, Header, Object, Transport, Writer};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Broker, MANUAL, Sub, WAIT};
use tokio_tungstenite::tungstenite::Message;

/// Keys whose values follow the replaying charger's own clock.
const CLOCK: [&str; 4] = ["rbt", "utc", "loc", "inva"];

/// Simulated seconds between the recorded snapshots (after the plug-in second).
const STEPS: [u64; 4] = [1, 60, 60, 120];

/// One recorded instant: its time and the `/api/status` body, masked like
/// `goe record` masks it.
struct Recorded {
    t: u64,
    body: Object,
}

/// `cak` and the export token of `dll` as `goe record` masks them.
fn mask(status: &mut Object) {
    if status.contains_key("cak") {
        status.insert("cak".into(), Value::from("********"));
    }
    if let Some(Value::String(dll)) = status.get("dll").cloned()
        && let Some(i) = dll.find("export?e=")
    {
        let masked = format!("{}export?e=...", &dll[..i]);
        status.insert("dll".into(), Value::from(masked));
    }
}

fn object(text: &str) -> Object {
    match serde_json::from_str(text) {
        Ok(Value::Object(o)) => o,
        other => panic!("not a JSON object: {other:?}: {text}"),
    }
}

/// Records a live charger: its status, a car plugged in, then the status
/// after each of [`STEPS`] simulated seconds (the time `t` of each line is
/// the simulated time since the start). Returns the trace and the instants.
async fn record() -> (String, Vec<Recorded>) {
    let live = Charger::fresh_with(&MANUAL);
    let api = live.api();
    let mut instants = Vec::new();
    let mut body = object(&api.get("/api/status").await.body);
    mask(&mut body);
    instants.push(Recorded { t: 0, body });
    let (code, text) = api.post("/sim/plug?car=ev-3p-11kw&soc=40").await;
    assert_eq!(code, 200, "{text}");
    let mut t = 0;
    for step in STEPS {
        let (code, text) = api.post(&format!("/sim/advance?seconds={step}")).await;
        assert_eq!(code, 200, "{text}");
        t += step * 1000;
        let mut body = object(&api.get("/api/status").await.body);
        mask(&mut body);
        instants.push(Recorded { t, body });
    }
    let first = &instants[0].body;
    let mut header = Header::new(
        "2024-06-03T06:00:00.000Z",
        "127.0.0.1",
        Transport::Poll,
        "replay test",
    );
    header.interval_ms = Some(1000);
    header.fwv = first.get("fwv").and_then(Value::as_str).map(str::to_owned);
    header.serial = first.get("sse").and_then(Value::as_str).map(str::to_owned);
    let mut writer = Writer::new(Vec::new(), &header, 0, first).expect("write");
    for pair in instants.windows(2) {
        let delta = Delta::between(pair[1].t, &pair[0].body, &pair[1].body);
        if !delta.is_empty() {
            writer.delta(&delta).expect("write");
        }
    }
    let trace = String::from_utf8(writer.into_inner()).expect("UTF-8");
    (trace, instants)
}

/// The trace in a file of its own directory (kept while the test runs).
fn trace_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("charger.trace");
    std::fs::write(&path, text).expect("write trace");
    (dir, path)
}

/// A replaying charger on the manual clock.
fn replay(path: &std::path::Path, extra: &[&str]) -> Charger {
    let mut args = vec!["--replay", path.to_str().unwrap()];
    args.extend_from_slice(&MANUAL);
    args.extend_from_slice(extra);
    Charger::fresh_with(&args)
}

/// `(key, raw JSON)` of a body, the clock keys left out.
fn without_clock(body: &str) -> Vec<(String, String)> {
    scan_object(body)
        .unwrap_or_else(|e| panic!("not a JSON object ({e}): {body}"))
        .into_iter()
        .filter(|(k, _)| !CLOCK.contains(&k.trim_matches('"')))
        .collect()
}

fn rendered(o: &Object) -> String {
    Value::Object(o.clone()).to_string()
}

async fn advance(api: &Api, ms: u64) {
    let (code, text) = api
        .post(&format!("/sim/advance?seconds={}", ms as f64 / 1000.0))
        .await;
    assert_eq!(code, 200, "{text}");
}

/// The trace's first instants with the car plugged: a key that changed.
fn changed_key(instants: &[Recorded]) -> (&'static str, Value) {
    let after = &instants[1].body;
    assert_ne!(
        instants[0].body.get("car"),
        after.get("car"),
        "the plug-in changes car"
    );
    ("car", after["car"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_trace_replays_byte_identically_at_the_recorded_instants() {
    let (trace, instants) = record().await;
    assert!(trace.lines().count() >= 4, "{trace}");
    let (_dir, path) = trace_file(&trace);
    let charger = replay(&path, &[]);
    let api = charger.api();
    let mut now = 0;
    for instant in &instants {
        if instant.t > now {
            advance(&api, instant.t - now).await;
            now = instant.t;
        }
        let got = api.get("/api/status").await;
        assert_eq!(got.status, 200, "{}", got.body);
        let want = rendered(&instant.body);
        assert_eq!(
            without_clock(&got.body),
            without_clock(&want),
            "at t = {} ms the replay must print the recorded status",
            instant.t
        );
    }
    // the end of the trace: the last state holds
    advance(&api, 3_600_000).await;
    let got = api.get("/api/status").await;
    let last = rendered(&instants.last().unwrap().body);
    assert_eq!(without_clock(&got.body), without_clock(&last));
    assert!(
        charger.stderr_with("replaying").contains("replaying"),
        "{}",
        charger.stderr()
    );
}

/// A short hand-made trace on top of a recorded status: `amp` 16 → 20 at
/// 2 s → 24 at 4 s, one key the project does not know, one answer line.
fn amp_trace(status: &Object) -> String {
    let mut status = status.clone();
    status.insert("amp".into(), Value::from(16));
    status.insert("xyz".into(), Value::from("a key goe does not know"));
    let header = Header::new("2024-06-03T06:00:00.000Z", "x", Transport::Poll, "test");
    let mut text = String::from_utf8(
        Writer::new(Vec::new(), &header, 0, &status)
            .expect("write")
            .into_inner(),
    )
    .unwrap();
    text.push_str("{\"type\":\"delta\",\"t\":2000,\"changes\":{\"amp\":20}}\n");
    text.push_str(
        "{\"type\":\"answer\",\"t\":2500,\"api\":\"http\",\"request\":{\"qrs\":1},\"status\":400,\"response\":{\"qrs\":\"Key not found\"}}\n",
    );
    text.push_str("{\"type\":\"delta\",\"t\":4000,\"changes\":{\"amp\":24}}\n");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_takes_over_from_the_trace_and_unknown_keys_are_refused() {
    let live = Charger::fresh_with(&MANUAL);
    let status = object(&live.api().get("/api/status").await.body);
    let live_refusal = live.api().set(&[("amp", "99")]).await;
    let (_dir, path) = trace_file(&amp_trace(&status));
    let charger = replay(&path, &[]);
    let api = charger.api();
    assert_eq!(api.value("amp").await, Some(Value::from(16)));
    advance(&api, 2000).await;
    assert_eq!(
        api.value("amp").await,
        Some(Value::from(20)),
        "follows the trace"
    );

    // validation and error texts of the key table
    let refused = api.set(&[("amp", "99")]).await;
    assert_eq!(
        (refused.status, &refused.body),
        (live_refusal.status, &live_refusal.body)
    );
    assert_eq!(api.value("amp").await, Some(Value::from(20)));

    let ok = api.set(&[("amp", "10")]).await;
    assert!(ok.all_true(&["amp"]), "{}", ok.body);
    advance(&api, 3000).await;
    assert_eq!(
        api.value("amp").await,
        Some(Value::from(10)),
        "a written key no longer follows the trace"
    );

    // a key of the trace the firmware profile does not know: "without setter"
    let xyz = api.set(&[("xyz", "1")]).await;
    assert_eq!(
        xyz.get("xyz"),
        Some(&Value::from("xyz: tried to set api key without setter (1)")),
        "{}",
        xyz.body
    );
    assert_ne!(xyz.status, 200);
    // a key with an answer line: answered as the unit answered
    let qrs = api.set(&[("qrs", "1")]).await;
    assert_eq!(
        qrs.get("qrs"),
        Some(&Value::from("Key not found")),
        "{}",
        qrs.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_last_line_is_dropped_with_a_warning() {
    let live = Charger::fresh_with(&MANUAL);
    let status = object(&live.api().get("/api/status").await.body);
    let mut trace = amp_trace(&status);
    trace.push_str("{\"type\":\"delta\",\"t\":6000,\"changes\":{\"amp\":");
    let (_dir, path) = trace_file(&trace);
    let charger = replay(&path, &[]);
    let api = charger.api();
    advance(&api, 10_000).await;
    assert_eq!(api.value("amp").await, Some(Value::from(24)));
    let stderr = charger.stderr_with("line 6");
    assert!(
        stderr.contains("warning") && stderr.contains("line 6") && stderr.contains("cut off"),
        "{stderr}"
    );
}

/// Runs `goe-charger` with `args` to its exit (a hang guard of 60 s).
fn run_to_exit(args: &[&str]) -> (std::process::ExitStatus, String) {
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path().join("d"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let status = common::wait_timeout(&mut child, Duration::from_secs(60));
    let Some(status) = status else {
        let _ = child.kill();
        panic!("goe-charger did not exit");
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status, stderr)
}

#[test]
fn a_malformed_trace_is_refused_at_start_with_the_line_and_the_reason() {
    let header = Header::new("2024-06-03T06:00:00.000Z", "x", Transport::Poll, "test");
    let mut status = Object::new();
    status.insert("amp".into(), Value::from(16));
    let mut trace = String::from_utf8(
        Writer::new(Vec::new(), &header, 0, &status)
            .unwrap()
            .into_inner(),
    )
    .unwrap();
    trace.push_str("{\"type\":\"delta\",\"t\":1000,\"changes\":{\"amp\":17}}\n");
    trace.push_str("{\"type\":\"delta\",\"t\":2000,\"changes\":\n");
    trace.push_str("{\"type\":\"delta\",\"t\":3000,\"changes\":{\"amp\":18}}\n");
    let (_dir, path) = trace_file(&trace);
    let (status, stderr) = run_to_exit(&["--replay", path.to_str().unwrap()]);
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("line 4") && stderr.contains("not JSON"),
        "{stderr}"
    );

    // and --replay does not go with a fleet
    let (status, stderr) = run_to_exit(&["--replay", path.to_str().unwrap(), "--chargers", "2"]);
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("--chargers"), "{stderr}");
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame as JSON (pings and pongs skipped).
async fn text_frame(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
            .expect("the socket open")
            .expect("a frame");
        if let Message::Text(t) = frame {
            return serde_json::from_str(&t).expect("JSON");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_watchers_see_the_replayed_changes() {
    let (trace, instants) = record().await;
    let (key, value) = changed_key(&instants);
    let (_dir, path) = trace_file(&trace);
    let charger = replay(&path, &[]);
    let (mut ws, _) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/ws", charger.port)),
    )
    .await
    .expect("connect timed out")
    .expect("connect");
    let hello = text_frame(&mut ws).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    let challenge = text_frame(&mut ws).await;
    assert_eq!(challenge["type"], "authRequired", "{challenge}");
    let auth = ws_auth::auth_reply(ws_auth::hashed(""), &challenge);
    ws.send(Message::Text(auth.into())).await.expect("send");
    let mut full = serde_json::Map::new();
    let end = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < end, "no complete fullStatus");
        let v = text_frame(&mut ws).await;
        if v["type"] == "fullStatus" {
            full.extend(v["status"].as_object().unwrap().clone());
            if v["partial"] == false {
                break;
            }
        }
    }
    assert_eq!(
        full.get(key),
        instants[0].body.get(key),
        "the trace's start"
    );
    advance(&charger.api(), 1000).await;
    loop {
        assert!(Instant::now() < end + WAIT, "no deltaStatus with {key}");
        let v = text_frame(&mut ws).await;
        if v["type"] == "deltaStatus"
            && let Some(got) = v["status"].get(key)
        {
            assert_eq!(got, &value, "{v}");
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_sees_the_replayed_changes() {
    let (trace, instants) = record().await;
    let (key, value) = changed_key(&instants);
    let broker = Broker::start();
    let mut sub = Sub::connect_retry(broker.port, "replay-test", &["go-eCharger/012345/#"]).await;
    let (_dir, path) = trace_file(&trace);
    let charger = replay(&path, &["--mqtt", &broker.url()]);
    let topic = format!("go-eCharger/012345/{key}");
    let start = instants[0].body[key].to_string();
    sub.wait_payload(&topic, &start).await;
    advance(&charger.api(), 1000).await;
    sub.wait_payload(&topic, &value.to_string()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_v1_shows_the_replayed_values_and_its_writes_take_over() {
    let live = Charger::fresh_with(&MANUAL);
    let status = object(&live.api().get("/api/status").await.body);
    let (_dir, path) = trace_file(&amp_trace(&status));
    let charger = replay(&path, &[]);
    let api = charger.api();
    assert!(api.set(&[("hla", "true")]).await.all_true(&["hla"]));
    advance(&api, 2000).await;
    let v1 = api.get("/status").await.object("/status");
    assert_eq!(
        v1.get("amp"),
        Some(&Value::from("20")),
        "the trace's amp at 2 s"
    );
    let r = api.get("/mqtt?payload=amp=12").await;
    assert_eq!(r.status, 200, "{}", r.body);
    advance(&api, 3000).await;
    let v1 = api.get("/status").await.object("/status");
    assert_eq!(
        v1.get("amp"),
        Some(&Value::from("12")),
        "the v1 write holds"
    );
    assert_eq!(api.value("amp").await, Some(Value::from(12)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_speed_the_timeline_runs_on_the_real_clock() {
    let live = Charger::fresh_with(&MANUAL);
    let status = object(&live.api().get("/api/status").await.body);
    let (_dir, path) = trace_file(&amp_trace(&status));
    let charger = Charger::fresh_with(&["--replay", path.to_str().unwrap(), "--speed", "100"]);
    let api = charger.api();
    // 4 simulated seconds are 40 ms at speed 100: wait for the last change
    let end = Instant::now() + WAIT;
    while api.value("amp").await != Some(Value::from(24)) {
        assert!(Instant::now() < end, "amp never reached the trace's 24");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A trace of a real unit (each v2 capture of `tests/fixtures/real-status/`
/// as its line 2, plus a key no firmware has) replays with every key the unit
/// printed, in its order: known keys with the trace's values, the unknown one
/// verbatim; a later change of a known status key follows the timeline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_units_trace_replays_its_keys_in_its_order() {
    // the crate's copy of ../shared/fixtures/real-status
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-status");
    let mut replayed = 0;
    for name in [
        "syssi-mqtt-fw053.1.json",
        "syssi-mqtt-fw056.2.json",
        "syssi-mqtt-fw060.5.json",
    ] {
        let mut status = object(&std::fs::read_to_string(fixtures.join(name)).unwrap());
        status.insert("zzq9".into(), serde_json::json!({"a": [1, "x"]}));
        let header = Header::new("2024-06-03T06:00:00.000Z", "x", Transport::Poll, "test");
        let mut text = String::from_utf8(
            Writer::new(Vec::new(), &header, 0, &status)
                .expect("write")
                .into_inner(),
        )
        .unwrap();
        text.push_str(
            "{\"type\":\"delta\",\"t\":2000,\"changes\":{\"car\":2,\"zzq9\":{\"a\":[2,\"y\"]}}}\n",
        );
        let (_dir, path) = trace_file(&text);
        let charger = replay(&path, &[]);
        let api = charger.api();
        let body = api.get("/api/status").await.body;
        let got: Vec<String> = scan_object(&body)
            .unwrap_or_else(|e| panic!("{name}: {e}: {body}"))
            .into_iter()
            .map(|(k, _)| k.trim_matches('"').to_owned())
            .collect();
        let want: Vec<String> = status.keys().cloned().collect();
        assert_eq!(got, want, "{name}: the unit's keys in its order");
        let got = object(&body);
        assert_eq!(got.get("zzq9"), status.get("zzq9"), "{name}: verbatim");
        for key in ["fwv", "amp", "frc", "car", "modelStatus"] {
            assert_eq!(got.get(key), status.get(key), "{name}: {key}");
        }
        // a filtered status (cached per filter) before the change
        let filtered = api.get("/api/status?filter=zzq9,car").await.body;
        assert_eq!(
            filtered,
            "{\"car\":1,\"zzq9\":{\"a\":[1,\"x\"]}}"
                .replace("\"car\":1", &format!("\"car\":{}", status["car"])),
            "{name}"
        );
        advance(&api, 2000).await;
        assert_eq!(api.value("car").await, Some(Value::from(2)), "{name}");
        // the unknown key follows the timeline too, on every rendering
        let after = object(&api.get("/api/status").await.body);
        assert_eq!(
            after.get("zzq9"),
            Some(&serde_json::json!({"a": [2, "y"]})),
            "{name}"
        );
        let filtered = api.get("/api/status?filter=zzq9,car").await.body;
        assert!(
            filtered.contains("\"zzq9\":{\"a\":[2,\"y\"]}"),
            "{name}: {filtered}"
        );
        replayed += 1;
    }
    assert_eq!(replayed, 3);
}
