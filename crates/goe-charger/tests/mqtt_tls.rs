//! MQTT over TLS (issue #15 point 3): `mqtts://` brokers verified against
//! `msc` (or skipped with `mqss`, the name check skipped with `mqcn`), and
//! the client certificate of `mqcc`/`mck` for mutual TLS. A real mosquitto
//! with a TLS listener (and a plain one for the test's own client) and
//! certificates made by rcgen; the charger is the real `goe-charger` process.
//! The three PEM keys read back only as set/not set, on HTTP, the WebSocket
//! and MQTT.

#[path = "common/mod.rs"]
mod common;
#[path = "push/support.rs"]
mod support;
#[path = "push/ws_auth.rs"]
#[allow(dead_code)]
mod ws_auth;

use common::{Api, Charger, SERIAL};
use futures_util::{SinkExt as _, StreamExt as _};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Log, PREFIX, Sub, WAIT, free_port, mosquitto};
use tokio_tungstenite::tungstenite::Message;

/// A certificate and its key, PEM.
#[derive(Clone)]
struct Pair {
    cert: String,
    key: String,
}

/// Two unrelated CAs; server certificates for 127.0.0.1 and for another
/// name, and a client certificate, all issued by the first.
struct Pki {
    ca: String,
    other_ca: String,
    server: Pair,
    wrong_name: Pair,
    client: Pair,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn pki() -> Pki {
    let ca1 = ca("goe test CA");
    let ca2 = ca("some other CA");
    let leaf = |names: Vec<String>, ip: bool| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        if ip {
            params
                .subject_alt_names
                .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        }
        let cert = params.signed_by(&key, &ca1).unwrap();
        Pair {
            cert: cert.pem(),
            key: key.serialize_pem(),
        }
    };
    Pki {
        ca: ca1.pem(),
        other_ca: ca2.pem(),
        server: leaf(vec!["localhost".into()], true),
        wrong_name: leaf(vec!["other.example".into()], false),
        client: leaf(vec![format!("go-echarger_{SERIAL}")], false),
    }
}

/// A private mosquitto with a plain listener (the test's client) and a TLS
/// listener (the charger); killed on drop.
struct TlsBroker {
    child: Child,
    plain: u16,
    tls: u16,
    log: Log,
    _dir: tempfile::TempDir,
}

impl TlsBroker {
    /// Serves `server` on the TLS port; with `require_client_cert`, only
    /// clients with a certificate issued by `ca` are let in.
    fn start(server: &Pair, ca: &str, require_client_cert: bool) -> TlsBroker {
        let mut last = String::new();
        for _ in 0..5 {
            match TlsBroker::try_start(server, ca, require_client_cert) {
                Ok(b) => return b,
                Err(e) => last = e, // most likely a port was taken meanwhile
            }
        }
        panic!("mosquitto with TLS did not start: {last}");
    }

    fn try_start(server: &Pair, ca: &str, require_client_cert: bool) -> Result<TlsBroker, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = |name: &str| dir.path().join(name);
        std::fs::write(path("ca.pem"), ca).unwrap();
        std::fs::write(path("server.pem"), &server.cert).unwrap();
        std::fs::write(path("server.key"), &server.key).unwrap();
        let (plain, tls) = (free_port(), free_port());
        let conf = format!(
            "per_listener_settings false\nallow_anonymous true\npersistence false\n\
             listener {plain} 127.0.0.1\n\
             listener {tls} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n\
             require_certificate {require_client_cert}\n",
            path("ca.pem").display(),
            path("server.pem").display(),
            path("server.key").display(),
        );
        std::fs::write(path("mosquitto.conf"), conf).unwrap();
        let bin = mosquitto();
        let mut child = Command::new(&bin)
            .arg("-c")
            .arg(path("mosquitto.conf"))
            .arg("-v")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
        let log = Log::default();
        log.drain(child.stdout.take().unwrap());
        log.drain(child.stderr.take().unwrap());
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(50));
                return Err(format!(
                    "mosquitto exited with {status}; log:\n{}",
                    log.text()
                ));
            }
            let up = |port| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
            if up(plain) && up(tls) {
                return Ok(TlsBroker {
                    child,
                    plain,
                    tls,
                    log,
                    _dir: dir,
                });
            }
            if Instant::now() >= end {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("mosquitto did not listen; log:\n{}", log.text()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `mqtts://127.0.0.1:PORT`
    fn url(&self) -> String {
        format!("mqtts://127.0.0.1:{}", self.tls)
    }
}

impl Drop for TlsBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn set_text(api: &Api, key: &str, text: &str) {
    let json = serde_json::to_string(text).unwrap();
    api.set_ok(&[(key, json.as_str())]).await;
}

/// Points the charger at `url` with `/set` allowed.
async fn enable(api: &Api, url: &str) {
    set_text(api, "mcu", url).await;
    api.set_ok(&[("mcr", "false"), ("mce", "true")]).await;
}

/// Waits until `mcc` is true; panics with `mlr` and the logs otherwise.
async fn connected(api: &Api, charger: &Charger, broker: &TlsBroker) {
    let end = Instant::now() + WAIT;
    loop {
        let s = api.status_filter("mcc,mlr").await;
        if s.get("mcc") == Some(&Value::Bool(true)) {
            return;
        }
        assert!(
            Instant::now() < end,
            "not connected over TLS; mlr: {:?}\ncharger: {}\nbroker: {}",
            s.get("mlr"),
            charger.stderr(),
            broker.log.text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for an `mlr` that `pred` accepts while `mcc` stays false; returns it.
async fn refused(api: &Api, pred: impl Fn(&str) -> bool, what: &str) -> String {
    refused_after(api, -1, pred, what).await.0
}

/// Like [`refused`], for an error reported after `mlra` = `after`; returns
/// `mlr` and `mlra`.
async fn refused_after(
    api: &Api,
    after: i64,
    pred: impl Fn(&str) -> bool,
    what: &str,
) -> (String, i64) {
    let end = Instant::now() + WAIT;
    loop {
        let s = api.status_filter("mcs,mcc,mlr,mlra").await;
        assert_eq!(
            s.get("mcc"),
            Some(&Value::Bool(false)),
            "connected: {}",
            s.raw
        );
        let mlra = s.get("mlra").and_then(Value::as_i64).unwrap_or(-1);
        if let Some(mlr) = s.get("mlr").and_then(Value::as_str)
            && pred(mlr)
            && mlra > after
        {
            assert!(!mlr.contains("BEGIN"), "a PEM in mlr: {mlr}");
            // started, not connected, retrying
            assert_eq!(s.get("mcs"), Some(&Value::Bool(true)), "{}", s.raw);
            return (mlr.to_owned(), mlra);
        }
        assert!(Instant::now() < end, "no mlr with {what}; last: {}", s.raw);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The whole dump arrives (so the `/set` subscription is in place) and a
/// `/set` round trip works.
async fn dump_and_set(sub: &mut Sub, api: &Api) {
    support::wait_full_dump(sub, PREFIX, goe_keys::DEFAULT_FIRMWARE).await;
    sub.publish(&format!("{PREFIX}amp/set"), "13").await;
    sub.wait_payload(&format!("{PREFIX}amp/result"), "success")
        .await;
    sub.wait_payload(&format!("{PREFIX}amp"), "13").await;
    assert_eq!(api.value("amp").await, Some(json!(13)));
}

/// The base64 lines of a PEM text (what a leak would show).
fn pem_lines(pem: &str) -> Vec<&str> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .collect()
}

fn assert_no_pem(what: &str, text: &str, pems: &[&str]) {
    assert!(!text.contains("BEGIN"), "{what} shows a PEM: {text}");
    for pem in pems {
        for line in pem_lines(pem) {
            assert!(!text.contains(line), "{what} shows a PEM line {line}");
        }
    }
}

/// Logs in on the WebSocket API (password `pass`); returns every frame up
/// to the last `fullStatus` chunk.
async fn ws_full_status(port: u16, password: &str) -> Vec<String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .expect("WebSocket connect");
    let mut frames = Vec::new();
    let next = async |ws: &mut tokio_tungstenite::WebSocketStream<_>| loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return t.to_string(),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            other => panic!("WebSocket: {other:?}"),
        }
    };
    let challenge = loop {
        let t = next(&mut ws).await;
        let v: Value = serde_json::from_str(&t).unwrap();
        frames.push(t);
        if v["type"] == "authRequired" {
            break v;
        }
    };
    let auth = ws_auth::auth_reply(ws_auth::hashed(password), &challenge);
    ws.send(Message::Text(auth.into())).await.unwrap();
    loop {
        let t = next(&mut ws).await;
        let v: Value = serde_json::from_str(&t).unwrap();
        frames.push(t);
        assert_ne!(v["type"], "authError");
        if v["type"] == "fullStatus" && v["partial"] == false {
            return frames;
        }
    }
}

#[tokio::test]
async fn server_only_tls_with_msc_as_trust_anchor() {
    let pki = pki();
    let broker = TlsBroker::start(&pki.server, &pki.ca, false);
    let mut sub = Sub::connect(broker.plain, "test-sub", &["#"]).await;
    let charger = Charger::fresh();
    let api = charger.api();
    set_text(&api, "msc", &pki.ca).await;
    enable(&api, &broker.url()).await;
    connected(&api, &charger, &broker).await;
    dump_and_set(&mut sub, &api).await;
    assert_eq!(api.value("mcu").await, Some(json!(broker.url())));
    assert_eq!(api.value("msc").await, Some(json!(true)));
    assert_eq!(api.value("mqcc").await, Some(json!(false)));
    assert_eq!(api.value("mck").await, Some(json!(false)));
    // a TLS key changed while connected: a new connection (the broker sees
    // the client id connect again), whose dump arrives too
    let connects = || {
        broker
            .log
            .text()
            .matches(&format!("as go-echarger_{SERIAL} "))
            .count()
    };
    assert_eq!(connects(), 1, "{}", broker.log.text());
    api.set_ok(&[("mqg", "true")]).await;
    let end = Instant::now() + WAIT;
    while connects() < 2 {
        assert!(Instant::now() < end, "no reconnect: {}", broker.log.text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    connected(&api, &charger, &broker).await;
    support::wait_full_dump(&mut sub, PREFIX, goe_keys::DEFAULT_FIRMWARE).await;
}

#[tokio::test]
async fn mutual_tls_needs_the_client_certificate_and_no_pem_is_ever_shown() {
    let pki = pki();
    let broker = TlsBroker::start(&pki.server, &pki.ca, true);
    let mut sub = Sub::connect(broker.plain, "test-sub", &["#"]).await;
    let charger = Charger::fresh();
    let api = charger.api();
    set_text(&api, "msc", &pki.ca).await;
    // no client certificate: the broker ends the session
    enable(&api, &broker.url()).await;
    let mlr = refused(
        &api,
        |e| e.starts_with("TLS with 127.0.0.1:"),
        "a TLS error",
    )
    .await;
    assert!(mlr.contains("wants a client certificate"), "{mlr}");
    // the certificate and key change the settings: the client reconnects
    set_text(&api, "mqcc", &pki.client.cert).await;
    set_text(&api, "mck", &pki.client.key).await;
    connected(&api, &charger, &broker).await;
    dump_and_set(&mut sub, &api).await;
    let log = broker.log.text();
    assert!(
        log.contains("New client connected from 127.0.0.1:")
            && log.contains(&format!("go-echarger_{SERIAL}")),
        "{log}"
    );

    // the three keys are set/not set only, on every output
    let pems = [
        pki.ca.as_str(),
        pki.client.cert.as_str(),
        pki.client.key.as_str(),
    ];
    let status = api.get("/api/status").await.body;
    let v: Value = serde_json::from_str(&status).unwrap();
    for key in ["msc", "mqcc", "mck"] {
        assert_eq!(v[key], json!(true), "{key} on HTTP");
    }
    assert_no_pem("/api/status", &status, &pems);
    api.set_ok(&[("pass", "\"right one\"")]).await;
    let frames = ws_full_status(charger.port, "right one").await;
    let full: Vec<Value> = frames
        .iter()
        .map(|f| serde_json::from_str::<Value>(f).unwrap())
        .filter(|v| v["type"] == "fullStatus")
        .collect();
    for key in ["msc", "mqcc", "mck"] {
        assert!(
            full.iter().any(|v| v["status"][key] == json!(true)),
            "{key} on the WebSocket: {frames:?}"
        );
    }
    assert_no_pem("the WebSocket", &frames.join("\n"), &pems);
    // MQTT: never published; a /set of the same certificate (no reconnect)
    // is answered without echoing it
    sub.publish(
        &format!("{PREFIX}mqcc/set"),
        &serde_json::to_string(&pki.client.cert).unwrap(),
    )
    .await;
    sub.wait_payload(&format!("{PREFIX}mqcc/result"), "success")
        .await;
    sub.publish(&format!("{PREFIX}mck/set"), "\"not a key\"")
        .await;
    let refusal = sub
        .wait_for(&format!("{PREFIX}mck/result"), |_| true, "an answer")
        .await;
    assert!(refusal.payload.contains("private key"), "{refusal:?}");
    assert!(!refusal.payload.contains("not a key"), "{refusal:?}");
    sub.drain_quiet(Duration::from_millis(300)).await;
    for m in &sub.seen {
        for key in ["msc", "mqcc", "mck"] {
            assert_ne!(m.topic, format!("{PREFIX}{key}"), "{key} published");
        }
        // (our own /set above carries the certificate: not the charger's output)
        if !m.topic.ends_with("/set") {
            assert_no_pem(&m.topic, &m.payload, &pems);
        }
    }
    assert_no_pem("the charger's log", &charger.stderr(), &pems);
}

#[tokio::test]
async fn an_unknown_ca_is_refused_unless_mqss() {
    let pki = pki();
    let broker = TlsBroker::start(&pki.server, &pki.ca, false);
    let mut sub = Sub::connect(broker.plain, "test-sub", &["#"]).await;
    let charger = Charger::fresh();
    let api = charger.api();
    set_text(&api, "msc", &pki.other_ca).await;
    enable(&api, &broker.url()).await;
    let (mlr, mlra) =
        refused_after(&api, -1, |e| e.contains("UnknownIssuer"), "UnknownIssuer").await;
    assert!(mlr.starts_with("TLS with 127.0.0.1:"), "{mlr}");
    // retried with backoff: still refused, nothing published
    assert!(
        sub.drain_quiet(Duration::from_millis(1500))
            .await
            .iter()
            .all(|m| !m.topic.starts_with(PREFIX)),
        "published over an unverified broker"
    );
    // no msc at all: only the global CA store, which does not know the test CA
    set_text(&api, "msc", "").await;
    refused_after(&api, mlra, |e| e.contains("UnknownIssuer"), "UnknownIssuer").await;
    api.set_ok(&[("mqss", "true")]).await;
    connected(&api, &charger, &broker).await;
    dump_and_set(&mut sub, &api).await;
}

#[tokio::test]
async fn a_name_mismatch_is_refused_unless_mqcn() {
    let pki = pki();
    let broker = TlsBroker::start(&pki.wrong_name, &pki.ca, false);
    let mut sub = Sub::connect(broker.plain, "test-sub", &["#"]).await;
    let charger = Charger::fresh();
    let api = charger.api();
    set_text(&api, "msc", &pki.ca).await;
    enable(&api, &broker.url()).await;
    let mlr = refused(
        &api,
        |e| e.contains("not valid for name"),
        "a name mismatch",
    )
    .await;
    assert!(mlr.starts_with("TLS with 127.0.0.1:"), "{mlr}");
    api.set_ok(&[("mqcn", "true")]).await;
    connected(&api, &charger, &broker).await;
    dump_and_set(&mut sub, &api).await;
}

/// The `sh` block of the README's "MQTT over TLS" section, run as written
/// (ports replaced) against a mutual-TLS mosquitto, with `ca.crt`,
/// `client.crt` and `client.key` in the working directory: every line
/// answers what its comment says (the last one once connected).
#[tokio::test]
async fn the_readme_example_connects() {
    let readme = include_str!("../../../README.md");
    let section = &readme[readme
        .find("\n## MQTT over TLS\n")
        .expect("the README section")..];
    let open = section.find("```sh\n").expect("an sh block") + "```sh\n".len();
    let block = &section[open..open + section[open..].find("```").unwrap()];
    for tool in ["curl", "jq"] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "the README's MQTT over TLS example needs {tool}: run scripts/test.sh (it installs \
             it) or `apt-get install {tool}`"
        );
    }
    let pki = pki();
    let broker = TlsBroker::start(&pki.server, &pki.ca, true);
    let charger = Charger::fresh();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.crt"), &pki.ca).unwrap();
    std::fs::write(dir.path().join("client.crt"), &pki.client.cert).unwrap();
    std::fs::write(dir.path().join("client.key"), &pki.client.key).unwrap();
    let lines: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 4, "{block}");
    for line in lines {
        let (command, want) = line.rsplit_once("# ").expect("an expected answer");
        let want = want.trim().trim_start_matches("once connected: ");
        let command = command
            .replace("127.0.0.1:8080", &format!("127.0.0.1:{}", charger.port))
            .replace("127.0.0.1:8883", &format!("127.0.0.1:{}", broker.tls));
        let end = Instant::now() + WAIT;
        loop {
            let out = Command::new("sh")
                .arg("-c")
                .arg(&command)
                .current_dir(dir.path())
                .output()
                .expect("sh (curl and jq: Debian's curl, jq)");
            let got = String::from_utf8_lossy(&out.stdout);
            if got.trim() == want {
                break;
            }
            assert!(
                Instant::now() < end,
                "README line {line:?} answered {got:?} (stderr {}), not {want:?}\ncharger: {}",
                String::from_utf8_lossy(&out.stderr),
                charger.stderr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A charger process with `RUST_LOG=trace`: its port and its whole stderr.
struct Traced {
    child: Child,
    port: u16,
    stderr: Log,
    _dir: tempfile::TempDir,
}

impl Traced {
    fn start() -> Traced {
        use std::io::BufRead as _;
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(common::BIN)
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .env("RUST_LOG", "trace")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn goe-charger");
        let stderr = Log::default();
        stderr.drain(child.stderr.take().unwrap());
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).expect("read stdout");
        let port = first
            .trim_end()
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("no listening line: {first:?}; log: {}", stderr.text()));
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Traced {
            child,
            port,
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

/// Every way a log could show a certificate or key: its PEM lines, and the
/// hex and byte-list forms of its DER (how `Debug` prints DER types).
fn der_spellings(pem: &str) -> Vec<String> {
    use rustls::pki_types::pem::PemObject as _;
    let mut out: Vec<String> = pem_lines(pem).iter().map(|l| (*l).to_owned()).collect();
    for der in rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .map(|c| c.unwrap().to_vec())
        .chain(
            rustls::pki_types::PrivateKeyDer::from_pem_slice(pem.as_bytes())
                .map(|k| k.secret_der().to_vec()),
        )
    {
        // a distinctive stretch from the middle (the start of every DER looks alike)
        let mid = &der[der.len() / 2..der.len() / 2 + 16];
        out.push(mid.iter().map(|b| format!("{b:02x}")).collect());
        out.push(
            mid.iter()
                .map(|b| b.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    out
}

/// No certificate or key in the log at `RUST_LOG=trace`, through a failed
/// and a successful mutual-TLS handshake (rustls logs the server's chain at
/// trace level and an unparsable trust anchor's bytes).
#[tokio::test]
async fn no_certificate_or_key_in_the_log_at_trace_level() {
    let pki = pki();
    let broker = TlsBroker::start(&pki.server, &pki.ca, true);
    let mut sub = Sub::connect(broker.plain, "test-sub", &["#"]).await;
    let charger = Traced::start();
    let api = Api::new(charger.port);
    set_text(&api, "msc", &pki.ca).await;
    enable(&api, &broker.url()).await;
    refused(
        &api,
        |e| e.contains("client certificate"),
        "no client certificate",
    )
    .await;
    set_text(&api, "mqcc", &pki.client.cert).await;
    set_text(&api, "mck", &pki.client.key).await;
    let end = Instant::now() + WAIT;
    while api.value("mcc").await != Some(json!(true)) {
        assert!(
            Instant::now() < end,
            "not connected: {}",
            charger.stderr.text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    support::wait_full_dump(&mut sub, PREFIX, goe_keys::DEFAULT_FIRMWARE).await;
    // (rustls is built without its `logging` feature, and main.rs filters
    // its targets out anyway: this guards both)
    let log = charger.stderr.text();
    for (what, pem) in [
        ("msc", &pki.ca),
        ("mqcc", &pki.client.cert),
        ("mck", &pki.client.key),
        ("the broker's certificate", &pki.server.cert),
    ] {
        for spelling in der_spellings(pem) {
            assert!(
                !log.contains(&spelling),
                "{what} in the trace log ({spelling}):\n{log}"
            );
        }
    }
}
