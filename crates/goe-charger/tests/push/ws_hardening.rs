//! The WebSocket API against hostile clients (issue #11, point 3), over real
//! sockets against the real binary: floods before authentication do not lift
//! the server's memory, oversized messages after it close only that
//! connection, a `pass` change (over `/api/set`, MQTT or a `securedMsg`)
//! closes the sessions of the old password, a replayed `securedMsg` is
//! refused, and wrong passwords are limited per connection and per address.
//!
//! The password hashes and HMACs are computed here from the reference
//! formulas (see `ws.rs`), independently of the server's code.

use super::ws_auth::{auth_reply, hashed, secured};
use crate::common::Charger;
use crate::support::*;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// The client addresses: the loopback default and a second one (Linux
/// routes all of 127/8 to the loopback interface).
const HOST_A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const HOST_B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

#[derive(Debug)]
enum Frm {
    Text(String),
    Closed,
}

/// A WebSocket connection to the charger from the local address `from`.
async fn connect_from(port: u16, from: Ipv4Addr) -> Ws {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(IpAddr::V4(from), 0))
        .expect("bind the client address");
    let stream = tokio::time::timeout(WAIT, socket.connect(([127, 0, 0, 1], port).into()))
        .await
        .expect("connect timed out")
        .expect("connect");
    let (ws, _) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::client_async(format!("ws://127.0.0.1:{port}/ws"), stream),
    )
    .await
    .expect("WebSocket handshake timed out")
    .expect("WebSocket handshake");
    ws
}

async fn recv(ws: &mut Ws, limit: Duration) -> Option<Frm> {
    loop {
        return match tokio::time::timeout(limit, ws.next()).await {
            Err(_) => None,
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => Some(Frm::Closed),
            Ok(Some(Ok(Message::Text(t)))) => Some(Frm::Text(t.to_string())),
            Ok(Some(Ok(_))) => continue,
        };
    }
}

async fn recv_json(ws: &mut Ws, what: &str) -> Value {
    match recv(ws, WAIT).await {
        Some(Frm::Text(t)) => {
            serde_json::from_str(&t).unwrap_or_else(|e| panic!("{what}: {e}: {t}"))
        }
        other => panic!("{what}: expected a JSON text frame, got {other:?}"),
    }
}

/// Frames until one of `kind`, skipping status frames.
async fn recv_kind(ws: &mut Ws, kind: &str) -> Value {
    let end = Instant::now() + WAIT;
    loop {
        let frame = recv(ws, end.saturating_duration_since(Instant::now())).await;
        let Some(Frm::Text(t)) = frame else {
            panic!("waiting for {kind}: got {frame:?}");
        };
        let v: Value = serde_json::from_str(&t).expect("JSON");
        if v["type"] == kind {
            return v;
        }
    }
}

/// Waits until the server closes `ws` (status frames before it are fine).
async fn expect_closed(ws: &mut Ws, what: &str) {
    let end = Instant::now() + WAIT;
    loop {
        match recv(ws, end.saturating_duration_since(Instant::now())).await {
            Some(Frm::Closed) => return,
            None => panic!("{what}: the connection was not closed within {WAIT:?}"),
            Some(Frm::Text(t)) => {
                let v: Value = serde_json::from_str(&t).expect("JSON");
                assert!(
                    matches!(v["type"].as_str(), Some("deltaStatus" | "response")),
                    "{what}: unexpected frame before the close: {t}"
                );
            }
        }
    }
}

async fn send(ws: &mut Ws, text: String) {
    ws.send(Message::Text(text.into())).await.expect("send");
}

/// Reads `hello` and `authRequired`; returns the challenge.
async fn greet(ws: &mut Ws) -> Value {
    let hello = recv_json(ws, "hello").await;
    assert_eq!(hello["type"], "hello", "{hello}");
    let challenge = recv_json(ws, "authRequired").await;
    assert_eq!(challenge["type"], "authRequired", "{challenge}");
    challenge
}

/// Connects from `from` and answers the challenge with `password`; returns
/// the socket and the answer (`authSuccess` or `authError`).
async fn try_login(port: u16, password: &str, from: Ipv4Addr) -> (Ws, Value) {
    let mut ws = connect_from(port, from).await;
    let challenge = greet(&mut ws).await;
    send(&mut ws, auth_reply(hashed(password), &challenge)).await;
    let answer = recv_json(&mut ws, "answer to auth").await;
    (ws, answer)
}

/// Logs in and reads the whole `fullStatus`.
async fn login(port: u16, password: &str, from: Ipv4Addr) -> Ws {
    let (mut ws, answer) = try_login(port, password, from).await;
    assert_eq!(
        answer["type"], "authSuccess",
        "login with {password:?}: {answer}"
    );
    loop {
        let v = recv_json(&mut ws, "fullStatus").await;
        assert_eq!(v["type"], "fullStatus", "{v}");
        if v["partial"] == false {
            return ws;
        }
    }
}

/// The child's resident set in KiB (`VmRSS` of `/proc/<pid>/status`).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// What 20 unauthenticated clients sending 60 MB each may add to the RSS.
const FLOOD_RSS_LIMIT_KIB: u64 = 4 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_unauthenticated_floods_of_60_mb_do_not_lift_the_rss() {
    const CLIENTS: usize = 20;
    const TOTAL: usize = 60_000_000;
    const FRAME: usize = 1_000_000;
    let charger = Charger::fresh_with(&MANUAL);
    let (port, pid) = (charger.port, charger.pid());
    // warm up what every connection uses (tasks, buffers, the status render)
    for _ in 0..3 {
        let mut ws = login(port, "", HOST_A).await;
        let _ = ws.close(None).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let base = rss_kib(pid);
    let over = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(base));
    let done = Arc::new(AtomicBool::new(false));
    let monitor = tokio::spawn({
        let (over, peak, done) = (over.clone(), peak.clone(), done.clone());
        async move {
            while !done.load(Ordering::Relaxed) {
                let now = rss_kib(pid);
                peak.fetch_max(now, Ordering::Relaxed);
                if now > base + FLOOD_RSS_LIMIT_KIB {
                    // stop early: today's server would take gigabytes
                    over.store(true, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
    let payload = bytes::Bytes::from(vec![b'a'; FRAME]);
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let (over, payload) = (over.clone(), payload.clone());
        clients.push(tokio::spawn(async move {
            let mut ws = connect_from(port, HOST_A).await;
            greet(&mut ws).await;
            let mut sent = 0usize;
            let mut first = true;
            while sent < TOTAL && !over.load(Ordering::Relaxed) {
                // even clients: one message of 60 frames; odd: 60 messages of one frame
                let (opcode, fin) = if i % 2 == 0 {
                    let op = if first { Data::Text } else { Data::Continue };
                    (op, sent + FRAME >= TOTAL)
                } else {
                    (Data::Text, true)
                };
                first = false;
                let frame = Frame::message(payload.clone(), OpCode::Data(opcode), fin);
                if ws.send(Message::Frame(frame)).await.is_err() {
                    break; // the server closed the connection
                }
                sent += FRAME;
            }
            sent
        }));
    }
    let mut sent = Vec::new();
    for c in clients {
        sent.push(
            tokio::time::timeout(Duration::from_secs(300), c)
                .await
                .expect("flood hung")
                .unwrap(),
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    done.store(true, Ordering::Relaxed);
    monitor.await.unwrap();
    let peak = peak.load(Ordering::Relaxed);
    let after = rss_kib(pid);
    eprintln!(
        "RSS before {base} KiB, peak {peak} KiB (+{} KiB), after {after} KiB; bytes accepted per client: {sent:?}",
        peak - base
    );
    assert!(
        peak <= base + FLOOD_RSS_LIMIT_KIB,
        "20 unauthenticated floods lifted the RSS from {base} KiB to {peak} KiB (limit +{FLOOD_RSS_LIMIT_KIB} KiB)"
    );
    // the server is fine: a normal client still logs in and reads the status
    let mut ws = login(port, "", HOST_A).await;
    let _ = ws.close(None).await;
    assert!(charger.api().status().await.get("amp").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_after_authentication_closes_only_that_connection() {
    let charger = Charger::fresh_with(&MANUAL);
    let api = charger.api();
    let key = hashed("");
    let mut other = login(charger.port, "", HOST_A).await;

    // a large message under the limit gets the usual refusal, the session stays
    let mut big = login(charger.port, "", HOST_A).await;
    send(&mut big, secured(key, 1, "fna", json!("x".repeat(30_000)))).await;
    let r = recv_kind(&mut big, "response").await;
    assert_eq!(
        (&r["requestId"], &r["success"]),
        (&json!(1), &json!(false)),
        "{r}"
    );
    send(&mut big, secured(key, 2, "amp", json!(9))).await;
    let r = recv_kind(&mut big, "response").await;
    assert_eq!(r["success"], true, "{r}");

    // one over the limit (here 100 KiB) ends that connection, nothing applied
    let mut huge = login(charger.port, "", HOST_A).await;
    send(
        &mut huge,
        secured(key, 1, "fna", json!("y".repeat(100 * 1024))),
    )
    .await;
    let end = Instant::now() + WAIT;
    loop {
        match recv(&mut huge, end.saturating_duration_since(Instant::now())).await {
            Some(Frm::Closed) => break,
            None => panic!("a 100 KiB message after authentication did not close the connection"),
            Some(Frm::Text(t)) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                let head: String = t.chars().take(200).collect();
                assert_ne!(
                    v["type"], "response",
                    "the oversized message was handled: {head}…"
                );
            }
        }
    }
    assert_ne!(api.value("fna").await, Some(json!("y".repeat(100 * 1024))));

    // the server and the other clients are unaffected
    send(&mut other, secured(key, 1, "amp", json!(10))).await;
    let r = recv_kind(&mut other, "response").await;
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(api.value("amp").await, Some(json!(10)));
    // the session that sent the large message hears about it
    loop {
        let d = recv_kind(&mut big, "deltaStatus").await;
        if d["status"]["amp"] == 10 {
            break;
        }
    }
    let _fresh = login(charger.port, "", HOST_A).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_pass_over_api_set_or_secured_msg_closes_the_old_sessions() {
    let charger = Charger::fresh_with(&MANUAL_2021);
    let api = charger.api();
    api.set_ok(&[("pass", "\"ws-secret 1\"")]).await;
    let mut a = login(charger.port, "ws-secret 1", HOST_A).await;
    let mut b = login(charger.port, "ws-secret 1", HOST_A).await;

    // over /api/set: both sessions end, the new password logs in
    api.set_ok(&[("pass", "\"right one\"")]).await;
    expect_closed(&mut a, "session A after /api/set pass").await;
    expect_closed(&mut b, "session B after /api/set pass").await;
    let mut c = login(charger.port, "right one", HOST_A).await;
    let mut d = login(charger.port, "right one", HOST_A).await;

    // over a securedMsg: the writer gets its response, then both sessions end
    send(
        &mut c,
        secured(hashed("right one"), 1, "pass", json!("early bird")),
    )
    .await;
    let r = recv_kind(&mut c, "response").await;
    assert_eq!(
        (&r["requestId"], &r["success"]),
        (&json!(1), &json!(true)),
        "{r}"
    );
    expect_closed(&mut c, "the session that changed pass").await;
    expect_closed(&mut d, "another session after a securedMsg pass").await;
    let (_, answer) = try_login(charger.port, "right one", HOST_A).await;
    assert_eq!(
        answer["type"], "authError",
        "the old password still works: {answer}"
    );
    let mut e = login(charger.port, "early bird", HOST_A).await;

    // the new session works: writes apply and wccw counts only it
    send(&mut e, secured(hashed("early bird"), 1, "amp", json!(11))).await;
    let r = recv_kind(&mut e, "response").await;
    assert_eq!(r["success"], true, "{r}");
    let got = poll(WAIT, || async {
        (api.value("wccw").await == Some(json!(1))).then_some(())
    })
    .await;
    assert!(got.is_some(), "wccw: {:?}", api.value("wccw").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_pass_over_mqtt_closes_the_old_sessions() {
    let broker = Broker::start();
    let mut live = Sub::connect(broker.port, "test-live", &["#"]).await;
    let url = broker.url();
    let mut args = MANUAL.to_vec();
    args.extend(["--firmware", MQTT_FW, "--mqtt", url.as_str()]);
    let charger = Charger::fresh_with(&args);
    read_dump(&mut live, PREFIX).await;
    let mut a = login(charger.port, "", HOST_A).await;
    live.publish(&format!("{PREFIX}pass/set"), "\"not it\"")
        .await;
    expect_closed(&mut a, "a session after an MQTT pass write").await;
    let _b = login(charger.port, "not it", HOST_A).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_secured_msg_is_refused_and_not_applied_again() {
    let charger = Charger::fresh_with(&MANUAL);
    let api = charger.api();
    let key = hashed("");
    let mut ws = login(charger.port, "", HOST_A).await;
    let first = secured(key, 1, "amp", json!(10));
    send(&mut ws, first.clone()).await;
    let r = recv_kind(&mut ws, "response").await;
    assert_eq!(r["success"], true, "{r}");
    send(&mut ws, secured(key, 2, "amp", json!(12))).await;
    let r = recv_kind(&mut ws, "response").await;
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(api.value("amp").await, Some(json!(12)));

    // the same message again, and with another (unsigned) outer id
    let relabelled = first.replace("\"1sm\"", "\"99sm\"");
    assert_ne!(first, relabelled);
    for again in [first, relabelled] {
        send(&mut ws, again).await;
        let r = recv_kind(&mut ws, "response").await;
        assert_eq!(
            (&r["requestId"], &r["success"]),
            (&json!(1), &json!(false)),
            "{r}"
        );
        assert_eq!(
            r["message"], "requestId already used in this session",
            "{r}"
        );
    }
    assert_eq!(
        api.value("amp").await,
        Some(json!(12)),
        "the replay was applied"
    );
    // a fresh id still works
    send(&mut ws, secured(key, 3, "amp", json!(13))).await;
    let r = recv_kind(&mut ws, "response").await;
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(api.value("amp").await, Some(json!(13)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_are_limited_per_connection() {
    let charger = Charger::fresh_with(&MANUAL_2021);
    let api = charger.api();
    api.set_ok(&[("pass", "\"right one\"")]).await;
    // a wrong and then the right answer on one connection: one attempt only,
    // answered after the failure delay (1 s)
    let mut ws = connect_from(charger.port, HOST_A).await;
    let challenge = greet(&mut ws).await;
    let sent = Instant::now();
    send(&mut ws, auth_reply(hashed("wrong one"), &challenge)).await;
    send(&mut ws, auth_reply(hashed("right one"), &challenge)).await;
    let answer = recv_json(&mut ws, "answer to the wrong auth").await;
    let waited = sent.elapsed();
    assert_eq!(answer["type"], "authError", "{answer}");
    assert!(
        waited >= Duration::from_millis(900),
        "authError came after {waited:?}, before the 1 s failure delay"
    );
    match recv(&mut ws, WAIT).await {
        Some(Frm::Closed) => {}
        other => panic!("after authError the connection must close, got {other:?}"),
    }
    assert_eq!(api.value("wccw").await, Some(json!(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_are_limited_per_address() {
    let charger = Charger::fresh_with(&MANUAL);
    let api = charger.api();
    api.set_ok(&[("pass", "\"right one\"")]).await;
    // five wrong passwords from one address (in parallel)
    let mut tries = Vec::new();
    for _ in 0..5 {
        let port = charger.port;
        tries.push(tokio::spawn(async move {
            try_login(port, "wrong one", HOST_A).await.1
        }));
    }
    for t in tries {
        let answer = t.await.unwrap();
        assert_eq!(answer["type"], "authError", "{answer}");
    }
    // now even the right one is refused from that address ...
    let (_, answer) = try_login(charger.port, "right one", HOST_A).await;
    assert_eq!(
        answer["type"], "authError",
        "the right password was checked after 5 failures from the address: {answer}"
    );
    assert_eq!(answer["message"], "Wrong password", "{answer}");
    // ... while another address logs in
    let _ws = login(charger.port, "right one", HOST_B).await;
    assert!(api.status().await.get("amp").is_some());
}
