//! No secret in any output at any log level (issue #11 point 6): the real
//! binary with `RUST_LOG=trace` gets passwords (`pass`), `wak`, a Wi-Fi key,
//! a card id, a broker password inside `mcu`, a backend password inside
//! `ocppu` and the OCPP key and certificates (`ocppck`, `ocppcc`,
//! `ocppsc`, #14) and the MQTT TLS key and certificates (`mck`, `mqcc`,
//! `msc`, #15) over `/api/set`, a
//! WebSocket `securedMsg` and MQTT `/set`; then every output is searched
//! for each of them: stdout, the stderr log, `/api/status`, the WebSocket
//! frames (`fullStatus`, responses), every retained MQTT topic and every
//! message the broker delivered. Once per firmware profile: each has its own
//! secret keys (`wak` up to 055, the per-card ids `c0i`..`c9i` from 060) and
//! its own MQTT publication set. The cloud token `cak` (#15), readable on
//! the local API by design, is used on the cloud stand-in in every form and
//! replaced; it appears in neither the log, stdout nor MQTT.

use super::ws_auth::{HASHED, auth_reply, hashed, secured};
use crate::common::{BIN, Captured, SERIAL, enc};
use crate::support::*;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A charger process started with `RUST_LOG=trace`, its stdout and stderr
/// collected in full.
struct Traced {
    child: Child,
    port: u16,
    /// The cloud API stand-in's port (`--cloud-listen`, #15).
    cloud: u16,
    stdout: Captured,
    stderr: Captured,
    _dir: tempfile::TempDir,
}

impl Traced {
    fn start(firmware: &str, broker_url: &str) -> Traced {
        let dir = tempfile::tempdir().unwrap();
        // a free port for the cloud stand-in (bound, noted, closed)
        let cloud = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let mut child = Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(MANUAL)
            .args(["--firmware", firmware, "--mqtt", broker_url])
            .args(["--cloud-listen", &format!("127.0.0.1:{cloud}")])
            .env("RUST_LOG", "trace")
            .env_remove("NO_COLOR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn goe-charger");
        let stderr = Captured::default();
        stderr.drain(child.stderr.take().unwrap());
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).expect("read stdout");
        let port = first
            .trim_end()
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("no listening line: {first:?}; log: {}", stderr.text()));
        let stdout = Captured::default();
        stdout.drain(std::io::Cursor::new(first.clone().into_bytes()).chain(out));
        Traced {
            child,
            port,
            cloud,
            stdout,
            stderr,
            _dir: dir,
        }
    }
}

impl Drop for Traced {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn ws_recv(ws: &mut Ws) -> Option<String> {
    loop {
        return match tokio::time::timeout(WAIT, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => Some(t.to_string()),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            _ => None,
        };
    }
}

/// Logs in with `password`; returns the socket and every frame up to the
/// last `fullStatus` chunk.
async fn ws_login(port: u16, password: &str) -> (Ws, Vec<String>) {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .expect("WebSocket connect");
    let mut frames = Vec::new();
    let challenge = loop {
        let t = ws_recv(&mut ws).await.expect("hello/authRequired");
        let v: Value = serde_json::from_str(&t).unwrap();
        frames.push(t);
        if v["type"] == "authRequired" {
            break v;
        }
    };
    let auth = auth_reply(hashed(password), &challenge);
    ws.send(Message::Text(auth.into())).await.unwrap();
    loop {
        let t = ws_recv(&mut ws).await.expect("authSuccess and fullStatus");
        let v: Value = serde_json::from_str(&t).unwrap();
        frames.push(t);
        assert_ne!(v["type"], "authError", "login with {password:?} refused");
        if v["type"] == "fullStatus" && v["partial"] == false {
            return (ws, frames);
        }
    }
}

/// Sends a signed `setValue`; returns the `response` frame and what came before it.
async fn ws_set(ws: &mut Ws, password: &str, id: u64, key: &str, value: Value) -> Vec<String> {
    let msg = secured(hashed(password), id, key, value);
    ws.send(Message::Text(msg.into())).await.unwrap();
    let mut frames = Vec::new();
    while let Some(t) = ws_recv(ws).await {
        let v: Value = serde_json::from_str(&t).unwrap();
        frames.push(t);
        if v["type"] == "response" {
            assert_eq!(v["success"], true, "{key} over the WebSocket: {v}");
            return frames;
        }
    }
    frames // the session may end after a password change
}

/// A PEM text of `label` with the base64 `body`.
fn pem(label: &str, body: &str) -> String {
    format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
}

/// The ways a secret could be written out: as sent, percent-encoded,
/// form-encoded, JSON-escaped.
fn spellings(secret: &str) -> Vec<String> {
    let mut out = vec![
        secret.to_owned(),
        enc(secret),
        secret.replace(' ', "+"),
        serde_json::to_string(secret)
            .unwrap()
            .trim_matches('"')
            .to_owned(),
    ];
    out.dedup();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_any_output_at_log_level_trace() {
    // the default firmware: per-card ids c0i..c9i, no wak
    no_secret_in_any_output(goe_keys::DEFAULT_FIRMWARE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_any_output_at_log_level_trace_on_056_2() {
    no_secret_in_any_output("056.2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_appears_in_any_output_at_log_level_trace_on_051_4() {
    // the 2021 firmware: wak, and MQTT publishes mcu, mcc and the 2021 internals
    no_secret_in_any_output(crate::common::FW_2021).await;
}

/// A write the charger refuses, of a secret key `profile` has: too short or
/// too long for the key's length rule; its text contains "short".
fn refused_secret(profile: &goe_keys::Profile) -> (&'static str, String) {
    profile
        .keys()
        .find_map(|(_, def)| match (def.secret, def.rule) {
            (goe_keys::Secret::IsSet, goe_keys::Rule::StrLen(min, max))
                if def.access.writable() =>
            {
                let text = if min > "short".len() {
                    "short".to_owned()
                } else {
                    format!("short-{}", "x".repeat(max))
                };
                Some((def.name, json!(text).to_string()))
            }
            _ => None,
        })
        .expect("a secret key with a length rule")
}

/// Every secret of firmware `firmware`'s keys, written over `/api/set`,
/// the WebSocket and MQTT, appears in no output.
async fn no_secret_in_any_output(firmware: &str) {
    let profile = goe_keys::profile(firmware).unwrap();
    let broker = Broker::start();
    let prefix = format!("go-eCharger/{SERIAL}/");
    let mut live = Sub::connect(broker.port, "test-live", &["#"]).await;
    let charger = Traced::start(firmware, &broker.url());
    let api = crate::common::Api::new(charger.port);
    let broker_url = |user: &str, pw: &str| format!("mqtt://{user}:{pw}@127.0.0.1:{}", broker.port);
    wait_full_dump(&mut live, &prefix, firmware).await;

    // every secret, by channel (the keys this firmware has: wak up to 055,
    // the per-card ids c0i..c9i from 060)
    let http = [
        ("pass", "ws-secret 1".to_owned()),
        ("wak", "wak-http-Zq8pL3xY".to_owned()),
        ("wifis", "wifi-http-Kd93hQ".to_owned()),
        ("cards", "card-http-77a1".to_owned()),
        ("c3i", "cXi-http-3c3c".to_owned()),
        ("mcu", "mqtt-http-Pw51".to_owned()),
        ("ocppu", "ocpp-http-Pw81".to_owned()),
        // (PEM bodies: base64 of a DER SEQUENCE, as 060.5 checks them)
        ("ocppck", "MBgEFm9jcHBjay1odHRwLXNlY3JldC1BYjM=".to_owned()),
        ("ocppcc", "MBgEFm9jcHBjYy1odHRwLXNlY3JldC1BYjM=".to_owned()),
        ("ocppsc", "MBgEFm9jcHBzYy1odHRwLXNlY3JldC1BYjM=".to_owned()),
        ("mck", "MBYEFG1jay1odHRwLXNlY3JldC1NcTE1".to_owned()),
        ("mqcc", "MBcEFW1xY2MtaHR0cC1zZWNyZXQtTXExNQ==".to_owned()),
        ("msc", "MBYEFG1zYy1odHRwLXNlY3JldC1NcTE1".to_owned()),
    ];
    let websocket = [
        ("wak", "wak-ws-Hh2kP0qR".to_owned()),
        ("wifis", "wifi-ws-Tt61zQ".to_owned()),
        ("cards", "card-ws-90bc".to_owned()),
        ("c4i", "cXi-ws-4d4d".to_owned()),
        ("mcu", "mqtt-ws-Pw62".to_owned()),
        ("ocppu", "ocpp-ws-Pw92".to_owned()),
        ("ocppck", "MBYEFG9jcHBjay13cy1zZWNyZXQtQ2Q0".to_owned()),
        ("ocppcc", "MBYEFG9jcHBjYy13cy1zZWNyZXQtQ2Q0".to_owned()),
        ("ocppsc", "MBYEFG9jcHBzYy13cy1zZWNyZXQtQ2Q0".to_owned()),
        ("mck", "MBQEEm1jay13cy1zZWNyZXQtTXExNQ==".to_owned()),
        ("mqcc", "MBUEE21xY2Mtd3Mtc2VjcmV0LU1xMTU=".to_owned()),
        ("msc", "MBQEEm1zYy13cy1zZWNyZXQtTXExNQ==".to_owned()),
        ("pass", "right one".to_owned()),
    ];
    let mqtt = [
        ("wak", "wak-mqtt-Jj7mN2sT".to_owned()),
        ("wifis", "wifi-mqtt-Uu42wR".to_owned()),
        ("cards", "card-mqtt-13de".to_owned()),
        ("c5i", "cXi-mqtt-5e5e".to_owned()),
        ("pass", "early bird".to_owned()),
        ("ocppu", "ocpp-mqtt-Pw03".to_owned()),
        ("ocppck", "MBgEFm9jcHBjay1tcXR0LXNlY3JldC1FZjU=".to_owned()),
        ("ocppcc", "MBgEFm9jcHBjYy1tcXR0LXNlY3JldC1FZjU=".to_owned()),
        ("ocppsc", "MBgEFm9jcHBzYy1tcXR0LXNlY3JldC1FZjU=".to_owned()),
        // (with the plain mqtt:// of this test the TLS keys do not reconnect)
        ("mck", "MBYEFG1jay1tcXR0LXNlY3JldC1NcTE1".to_owned()),
        ("mqcc", "MBcEFW1xY2MtbXF0dC1zZWNyZXQtTXExNQ==".to_owned()),
        ("msc", "MBYEFG1zYy1tcXR0LXNlY3JldC1NcTE1".to_owned()),
        ("mcu", "mqtt-mqtt-Pw73".to_owned()),
    ];
    let has = |(key, _): &(&str, String)| profile.key(key).is_some();
    let http: Vec<_> = http.into_iter().filter(has).collect();
    let websocket: Vec<_> = websocket.into_iter().filter(has).collect();
    let mqtt: Vec<_> = mqtt.into_iter().filter(has).collect();
    // every writable secret of this firmware is written (c3i..c5i stand for
    // the per-card ids)
    let written: Vec<&str> = http
        .iter()
        .chain(&websocket)
        .chain(&mqtt)
        .map(|(k, _)| *k)
        .collect();
    for (_, def) in profile.keys() {
        let card_id = def.name.len() == 3 && def.name.starts_with('c') && def.name.ends_with('i');
        if def.access.writable() && !matches!(def.secret, goe_keys::Secret::No) {
            assert!(
                written.contains(&def.name) || card_id,
                "{} is a secret of {firmware} that this test does not write",
                def.name
            );
        }
    }
    // the JSON value that writes `secret` to `key`
    let value_of = |key: &str, secret: &str, user: &str| -> Value {
        match key {
            "wifis" => json!([{}, {"ssid": "garage", "key": secret}]),
            "cards" => json!([{"cardId": secret}]),
            "mcu" => json!(broker_url(user, secret)),
            // (ocppe stays false: nothing connects to this backend)
            "ocppu" => json!(format!("ws://{user}:{secret}@127.0.0.1:9/ocpp/{SERIAL}")),
            "ocppck" | "mck" => json!(pem("PRIVATE KEY", secret)),
            "ocppcc" | "ocppsc" | "mqcc" | "msc" => json!(pem("CERTIFICATE", secret)),
            _ => json!(secret),
        }
    };

    // /api/set
    for (key, secret) in &http {
        let raw = value_of(key, secret, "http-user").to_string();
        api.set_ok(&[(key, raw.as_str())]).await;
    }
    // a refused write of a secret echoes nothing either
    let (key, raw) = refused_secret(profile);
    let refused = api.set(&[(key, raw.as_str()), ("mcu", "7")]).await;
    assert_eq!(refused.status, 500, "{key}={raw}: {}", refused.body);
    assert!(!refused.body.contains("short"), "{}", refused.body);
    // 60.5 checks OCPP keys when set (#14): a refused key is not echoed either
    let not_pem = "not-a-pem-Sq9Kx2";
    let pem_checked = profile
        .key("ocppck")
        .is_some_and(|(_, d)| d.rule == goe_keys::Rule::PemKey);
    if pem_checked {
        let raw = json!(not_pem).to_string();
        let refused = api.set(&[("ocppck", raw.as_str())]).await;
        assert!(
            refused.body.contains("could not parse private key"),
            "{}",
            refused.body
        );
        assert!(!refused.body.contains(not_pem), "{}", refused.body);
    }
    // the connection with the new mcu is subscribed once its dump is out
    wait_full_dump(&mut live, &prefix, firmware).await;

    // WebSocket securedMsg (the last one changes the password)
    let (mut ws, mut frames) = ws_login(charger.port, "ws-secret 1").await;
    // (a frame that is not JSON is logged at debug: proof that the level is in effect)
    ws.send(Message::Text("{not json".into())).await.unwrap();
    for (i, (key, secret)) in websocket.iter().enumerate() {
        let value = value_of(key, secret, "ws-user");
        frames.extend(ws_set(&mut ws, "ws-secret 1", 100 + i as u64, key, value).await);
    }
    drop(ws);
    wait_full_dump(&mut live, &prefix, firmware).await;

    // MQTT /set (the last one reconnects to the same broker as another user)
    for (key, secret) in &mqtt {
        let value = value_of(key, secret, "mqtt-user");
        live.publish(&format!("{prefix}{key}/set"), &value.to_string())
            .await;
        live.wait_for(
            &format!("{prefix}{key}/result"),
            |_| true,
            &format!("the result of {key}/set"),
        )
        .await;
    }
    let end = Instant::now() + WAIT;
    while api.value("mcu").await != Some(json!(broker_url("mqtt-user", "********"))) {
        assert!(Instant::now() < end, "mcu over MQTT not applied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // connected again with the new URL: the retained dump is complete
    let end = Instant::now() + WAIT;
    while api.value("mcc").await != Some(json!(true)) {
        assert!(Instant::now() < end, "no MQTT connection after mcu changed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        api.value("mcu").await,
        Some(json!(broker_url("mqtt-user", "********"))),
        "mcu shows host and user, not the password"
    );

    // the cloud token (#15): readable on the local API by design, never on
    // MQTT, stdout or in the log, even while it is used and replaced
    let tokens = cloud_tokens(&charger, &api, profile).await;

    // every output
    let (_ws, final_frames) = ws_login(charger.port, "early bird").await;
    frames.extend(final_frames);
    let status = api.get("/api/status").await.body;
    live.drain_quiet(Duration::from_millis(500)).await;
    let mut retained = Sub::connect(broker.port, "test-retained", &["#"]).await;
    // every published key (mcu too where the firmware publishes it) is
    // retained (waited for with the helpers' deadline, not a quiet spell),
    // then everything else the broker keeps
    retained.wait_all_keys_of(&prefix, firmware).await;
    retained.drain_quiet(Duration::from_millis(800)).await;
    let stored = retained.seen.clone();
    // (the `/set`s are this test's own publications, not the charger's)
    let topics = |msgs: &[Msg]| -> String {
        msgs.iter()
            .filter(|m| !m.topic.ends_with("/set"))
            .map(|m| format!("{} {}\n", m.topic, m.payload))
            .collect()
    };
    // let the last log lines arrive
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = charger.stderr.text();
    assert!(
        log.contains("DEBUG goe_charger::ws: websocket: not JSON"),
        "RUST_LOG=trace must be in effect: {}",
        &log[..log.len().min(2000)]
    );
    let outputs = [
        ("stdout", charger.stdout.text()),
        ("stderr log", log),
        ("/api/status", status),
        ("WebSocket frames", frames.join("\n")),
        ("MQTT messages delivered", topics(&live.seen)),
        ("retained MQTT topics", topics(&stored)),
    ];
    let mut secrets: Vec<String> = http
        .iter()
        .chain(&websocket)
        .chain(&mqtt)
        .map(|(_, s)| s.clone())
        .collect();
    // the password hashes are the WebSocket's keys: secrets too
    secrets.extend(HASHED[1..].iter().map(|(_, h)| (*h).to_owned()));
    if pem_checked {
        secrets.push(not_pem.to_owned());
    }
    let mut leaks = Vec::new();
    for (name, text) in &outputs {
        for secret in &secrets {
            for form in spellings(secret) {
                if let Some(at) = text.find(&form) {
                    let from = text[..at]
                        .char_indices()
                        .rev()
                        .nth(120)
                        .map_or(0, |(i, _)| i);
                    let to = (at + form.len() + 120).min(text.len());
                    let to = (to..=text.len())
                        .find(|i| text.is_char_boundary(*i))
                        .unwrap();
                    leaks.push(format!(
                        "{secret:?} ({form:?}) in {name}: …{}…",
                        &text[from..to]
                    ));
                }
            }
        }
    }
    // the cloud tokens: everywhere but the local API's answers
    for (name, text) in &outputs {
        if matches!(*name, "/api/status" | "WebSocket frames") {
            continue;
        }
        for token in &tokens {
            if text.contains(token.as_str()) {
                leaks.push(format!("the cloud token (cak) in {name}"));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

/// Turns the cloud API on, uses the token on the stand-in in every form
/// (`?token=`, Bearer, Basic; status and a set), replaces it by writing
/// `cak` and uses the new one: returns both tokens (none on firmware
/// without the cloud API).
async fn cloud_tokens(
    charger: &Traced,
    api: &crate::common::Api,
    profile: &goe_keys::Profile,
) -> Vec<String> {
    if profile.key("cak").is_none() {
        return Vec::new();
    }
    api.set_ok(&[("cae", "true")]).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://127.0.0.1:{}/{SERIAL}", charger.cloud);
    let mut tokens = Vec::new();
    for round in 0..2 {
        let token = api.value("cak").await.unwrap();
        let token = token.as_str().unwrap().to_owned();
        let status = format!("{base}/api/status?filter=amp&token={token}");
        let end = Instant::now() + WAIT;
        while http.get(&status).send().await.unwrap().status() != 200 {
            assert!(Instant::now() < end, "the cloud never took the token");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for scheme in ["Bearer", "Basic"] {
            let r = http
                .get(format!("{base}/api/status?filter=amp"))
                .header("Authorization", format!("{scheme} {token}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{scheme}");
        }
        let r = http
            .get(format!("{base}/api/set?token={token}&amp=1{round}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        tokens.push(token);
        if round == 0 {
            api.set_ok(&[("cak", "\"new\"")]).await;
        }
    }
    tokens
}

/// A `--mqtt` URL the charger refuses (longer than `mcu`'s 256 bytes) stops
/// start-up with an error that names the URL without its password.
#[test]
fn a_refused_mqtt_flag_does_not_print_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let password = format!("flag-secret-{}", "p".repeat(300));
    let url = format!("mqtt://me:{password}@127.0.0.1:1883");
    let f = match crate::common::Charger::try_start(dir.path(), &["--mqtt", &url]) {
        Ok(_) => panic!("a 330-byte mcu must be refused"),
        Err(f) => f,
    };
    let all = format!("{}{}", f.stdout, f.stderr);
    assert!(
        all.contains("--mqtt mqtt://me:********@127.0.0.1:1883"),
        "{all}"
    );
    assert!(!all.contains("flag-secret"), "{all}");
}
