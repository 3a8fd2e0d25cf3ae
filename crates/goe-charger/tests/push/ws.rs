//! The WebSocket API at `/ws` with a Rust client (tokio-tungstenite): hello,
//! the pbkdf2 challenge–response, `fullStatus` chunks, `deltaStatus`,
//! `securedMsg` writes and their refusals, silence before authentication,
//! and the `wccw` counter. The password hash and the HMAC are computed here
//! from the reference formulas, independently of the server's code.

use super::ws_auth::{auth_message, secured};
use crate::common::{Charger, Ordered, SERIAL};
use crate::support::*;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The hashed password (see [`HASHED`](super::ws_auth::HASHED)); serial 012345 only.
fn hashed(password: &str, serial: &str) -> String {
    assert_eq!(
        serial, SERIAL,
        "the reference hashes are for serial {SERIAL}"
    );
    super::ws_auth::hashed(password).to_owned()
}

/// What the server sent.
#[derive(Debug)]
enum Frame {
    /// A text frame (JSON text).
    Text(String),
    /// Anything else but a close (binary, ping, pong), for messages.
    Other(#[allow(dead_code)] String),
    /// A close frame, or the connection ended.
    Closed,
}

async fn connect(port: u16) -> Ws {
    let (ws, _) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws")),
    )
    .await
    .expect("WebSocket connect timed out")
    .expect("WebSocket connect");
    ws
}

/// The next frame within `limit`, `None` when nothing came.
async fn recv(ws: &mut Ws, limit: Duration) -> Option<Frame> {
    loop {
        return match tokio::time::timeout(limit, ws.next()).await {
            Err(_) => None,
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => Some(Frame::Closed),
            Ok(Some(Ok(Message::Text(t)))) => Some(Frame::Text(t.to_string())),
            Ok(Some(Ok(Message::Ping(_)))) | Ok(Some(Ok(Message::Pong(_)))) => continue,
            Ok(Some(Ok(other))) => Some(Frame::Other(format!("{other:?}"))),
        };
    }
}

/// The next text frame as JSON (panics on anything else or a timeout).
async fn recv_json(ws: &mut Ws, what: &str) -> (Value, String) {
    match recv(ws, WAIT).await {
        Some(Frame::Text(t)) => {
            let v: Value = serde_json::from_str(&t)
                .unwrap_or_else(|e| panic!("{what}: frame is not JSON ({e}): {t}"));
            (v, t)
        }
        other => panic!("{what}: expected a JSON text frame, got {other:?}"),
    }
}

/// Frames until one of `kind` arrives; returns it and the frames before it.
async fn recv_until(ws: &mut Ws, kind: &str) -> (Value, Vec<Value>) {
    let mut before = Vec::new();
    let end = Instant::now() + WAIT;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let frame = recv(ws, left).await;
        let Some(Frame::Text(t)) = frame else {
            panic!("waiting for {kind}: got {frame:?} after {before:#?}");
        };
        let v: Value = serde_json::from_str(&t).expect("JSON frame");
        if v["type"] == kind {
            return (v, before);
        }
        before.push(v);
    }
}

/// The next `deltaStatus` that names `key`, skipping those that only carry
/// `wcch` (every HTTP request of the test opens and closes a connection,
/// #13); returns it and the other frames seen.
async fn recv_delta_with(ws: &mut Ws, key: &str) -> (Value, Vec<Value>) {
    let mut seen = Vec::new();
    loop {
        let (delta, others) = recv_until(ws, "deltaStatus").await;
        seen.extend(others);
        let status = delta["status"].as_object().expect("status object");
        if status.contains_key(key) {
            return (delta, seen);
        }
        if status.keys().any(|k| k != "wcch") {
            seen.push(delta);
        }
    }
}

async fn send(ws: &mut Ws, text: String) {
    ws.send(Message::Text(text.into())).await.expect("send");
}

/// Reads `hello` and `authRequired`.
async fn greet(ws: &mut Ws) -> (Value, Value) {
    let (hello, _) = recv_json(ws, "first frame").await;
    assert_eq!(hello["type"], "hello", "{hello}");
    let (challenge, _) = recv_json(ws, "second frame").await;
    assert_eq!(challenge["type"], "authRequired", "{challenge}");
    (hello, challenge)
}

/// Connects and authenticates with `password`; returns the socket, the
/// fullStatus frames' raw texts and the frames seen between authSuccess and
/// the last chunk (none expected).
async fn login(port: u16, password: &str) -> (Ws, Vec<String>) {
    let mut ws = connect(port).await;
    let (_, challenge) = greet(&mut ws).await;
    let key = hashed(password, SERIAL);
    let answer = auth_message(
        &key,
        challenge["token1"].as_str().unwrap(),
        challenge["token2"].as_str().unwrap(),
    );
    send(&mut ws, answer).await;
    let (ok, _) = recv_json(&mut ws, "answer to auth").await;
    assert_eq!(ok["type"], "authSuccess", "{ok}");
    let mut chunks = Vec::new();
    loop {
        let (v, raw) = recv_json(&mut ws, "fullStatus").await;
        assert_eq!(v["type"], "fullStatus", "after authSuccess: {raw}");
        assert!(v["partial"].is_boolean(), "{raw}");
        chunks.push(raw);
        if v["partial"] == false {
            return (ws, chunks);
        }
        assert!(chunks.len() < 1000, "endless fullStatus");
    }
}

async fn wccw(api: &crate::common::Api, want: i64) {
    let got = poll(WAIT, || async {
        (api.value("wccw").await == Some(Value::from(want))).then_some(())
    })
    .await;
    assert!(
        got.is_some(),
        "wccw must become {want}, is {:?}",
        api.value("wccw").await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_authentication_full_status_delta_status_and_wccw() {
    let charger = Charger::fresh_with(&MANUAL_2021);
    let api = charger.api();
    let status = api.status().await;

    let mut ws = connect(charger.port).await;
    let (hello, challenge) = greet(&mut ws).await;
    assert_eq!(hello["serial"], SERIAL, "{hello}");
    assert_eq!(Some(&hello["hostname"]), status.get("host"), "{hello}");
    assert_eq!(Some(&hello["friendly_name"]), status.get("fna"), "{hello}");
    assert_eq!(hello["manufacturer"], "go-e", "{hello}");
    assert!(
        hello["devicetype"].as_str().is_some_and(|s| !s.is_empty()),
        "{hello}"
    );
    assert_eq!(Some(&hello["version"]), status.get("fwv"), "{hello}");
    assert_eq!(hello["protocol"], 2, "{hello}");
    assert_eq!(hello["secured"], true, "{hello}");
    let t1 = challenge["token1"].as_str().expect("token1");
    let t2 = challenge["token2"].as_str().expect("token2");
    assert!(!t1.is_empty() && !t2.is_empty() && t1 != t2, "{challenge}");
    assert_eq!(challenge["hash"], "pbkdf2", "{challenge}");

    // no password set: the empty password's hash authenticates
    send(&mut ws, auth_message(&hashed("", SERIAL), t1, t2)).await;
    let (ok, _) = recv_json(&mut ws, "answer to auth").await;
    assert_eq!(ok["type"], "authSuccess", "{ok}");
    assert_eq!(ok["token3"], "0123456789abcdef0123456789abcdef", "{ok}");

    // fullStatus: every readable key once, in registration order, partial on all but the last
    let mut keys: Vec<String> = Vec::new();
    let mut values: Vec<(String, String)> = Vec::new();
    let mut frames = 0;
    loop {
        let (v, raw) = recv_json(&mut ws, "fullStatus").await;
        assert_eq!(v["type"], "fullStatus", "{raw}");
        frames += 1;
        let frame = Ordered::parse(&raw).expect("fullStatus object");
        let chunk = Ordered::parse(frame.raw_of("status").expect("status")).expect("status object");
        for e in chunk.entries {
            keys.push(e.key.clone());
            values.push((e.key, e.raw));
        }
        match &v["partial"] {
            Value::Bool(true) => {}
            Value::Bool(false) => break,
            other => panic!("partial must be a bool, got {other} in {raw}"),
        }
    }
    assert!(frames > 1, "fullStatus comes in chunks");
    let want: Vec<String> = readable_keys(crate::common::FW_2021)
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(
        keys, want,
        "fullStatus keys: each readable key once, in registration order"
    );
    let now = api.status().await;
    for (key, raw) in &values {
        if !LIVE.contains(&key.as_str()) && key != "wccw" && key != "wcch" {
            assert_eq!(Some(raw.as_str()), now.raw_of(key), "fullStatus {key}");
        }
    }
    wccw(&api, 1).await;

    // deltaStatus: the changed keys with their new values
    let before = api.status().await;
    api.set_ok(&[("amp", "10")]).await;
    let after = api.status().await;
    let (delta, others) = recv_delta_with(&mut ws, "amp").await;
    assert!(others.is_empty(), "unexpected frames: {others:#?}");
    let changed = delta["status"].as_object().expect("status object");
    assert_eq!(changed.get("amp"), Some(&json!(10)), "{delta}");
    for (k, v) in changed {
        assert!(
            before.raw_of(k) != after.raw_of(k) || LIVE.contains(&k.as_str()) || k == "wcch",
            "{k} in deltaStatus but unchanged: {delta}"
        );
        assert!(
            crate::common::json_eq(v, after.get(k).unwrap()),
            "{k}: {delta}"
        );
    }

    // a second client: wccw 2 (and the first one hears about it), then back down
    let (mut second, _) = login(charger.port, "").await;
    wccw(&api, 2).await;
    let (delta, _) = recv_delta_with(&mut ws, "wccw").await;
    assert_eq!(delta["status"]["wccw"], 2, "{delta}");
    second.close(None).await.expect("close");
    wccw(&api, 1).await;
    ws.close(None).await.expect("close");
    wccw(&api, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secured_set_value_is_applied_and_bad_or_unwrapped_writes_are_refused() {
    let charger = Charger::fresh_with(&MANUAL);
    let api = charger.api();
    api.set_ok(&[("pass", "\"ws-secret 1\"")]).await;
    let key = hashed("ws-secret 1", SERIAL);
    let (mut ws, _) = login(charger.port, "ws-secret 1").await;

    // a correctly signed write: response to the inner id, with the new value
    send(&mut ws, secured(&key, 1, "amp", json!(10))).await;
    let (r, _) = recv_until(&mut ws, "response").await;
    assert_eq!(r["requestId"], 1, "{r}");
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(r["status"], json!({"amp": 10}), "{r}");
    assert_eq!(api.value("amp").await, Some(json!(10)));

    // a string value, through the same validation as /api/set
    send(&mut ws, secured(&key, 2, "fna", json!("ws garage"))).await;
    let (r, _) = recv_until(&mut ws, "response").await;
    assert_eq!(
        (&r["requestId"], &r["success"]),
        (&json!(2), &json!(true)),
        "{r}"
    );
    assert_eq!(api.value("fna").await, Some(json!("ws garage")));

    // invalid values: success false with the firmware's message, nothing changes
    send(&mut ws, secured(&key, 3, "amp", json!(40))).await;
    let (r, _) = recv_until(&mut ws, "response").await;
    assert_eq!(
        (&r["requestId"], &r["success"]),
        (&json!(3), &json!(false)),
        "{r}"
    );
    let message = r["message"].as_str().expect("message");
    assert!(message.contains("exceeds range 6 to 32"), "{r}");
    send(&mut ws, secured(&key, 4, "fna", json!(0))).await;
    let (r, _) = recv_until(&mut ws, "response").await;
    assert_eq!(r["success"], false, "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("value must be string"),
        "{r}"
    );

    // a bad HMAC (signed with another password's hash) is refused
    send(
        &mut ws,
        secured(&hashed("not it", SERIAL), 5, "amp", json!(12)),
    )
    .await;
    let (r, _) = recv_until(&mut ws, "response").await;
    assert_eq!(r["success"], false, "{r}");
    assert!(r["message"].as_str().is_some_and(|m| !m.is_empty()), "{r}");
    // so is a tampered message with the original signature
    let good = secured(&key, 6, "amp", json!(13));
    let tampered = good.replace(r#"\"value\":13"#, r#"\"value\":14"#);
    assert_ne!(good, tampered);
    send(&mut ws, tampered).await;
    let (r, _) = recv_until(&mut ws, "response").await;
    assert_eq!(r["success"], false, "{r}");

    // an unwrapped setValue is refused on the secured local connection
    let plain = json!({"type": "setValue", "requestId": 7, "key": "amp", "value": 15});
    send(&mut ws, plain.to_string()).await;
    let (r, _) = recv_until(&mut ws, "response").await;
    assert_eq!(
        (&r["requestId"], &r["success"]),
        (&json!(7), &json!(false)),
        "{r}"
    );
    assert!(r["message"].as_str().is_some_and(|m| !m.is_empty()), "{r}");

    assert_eq!(
        api.value("amp").await,
        Some(json!(10)),
        "refused writes changed amp"
    );
    // no deltaStatus ever showed another amp
    let rest = {
        let mut v = Vec::new();
        while let Some(Frame::Text(t)) = recv(&mut ws, Duration::from_millis(300)).await {
            v.push(t);
        }
        v
    };
    for t in &rest {
        let v: Value = serde_json::from_str(t).unwrap();
        if let Some(amp) = v["status"].get("amp") {
            assert_eq!(amp, &json!(10), "{t}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_gets_auth_error_then_the_connection_closes() {
    let charger = Charger::fresh_with(&MANUAL_2021);
    let api = charger.api();
    api.set_ok(&[("pass", "\"right one\"")]).await;
    // the empty password no longer works once one is set; nor does any other
    for wrong in ["", "wrong one"] {
        let mut ws = connect(charger.port).await;
        let (_, challenge) = greet(&mut ws).await;
        let answer = auth_message(
            &hashed(wrong, SERIAL),
            challenge["token1"].as_str().unwrap(),
            challenge["token2"].as_str().unwrap(),
        );
        send(&mut ws, answer).await;
        let (err, raw) = recv_json(&mut ws, "answer to a wrong auth").await;
        assert_eq!(err["type"], "authError", "{raw}");
        assert_eq!(err["message"], "Wrong password", "{raw}");
        // then nothing but the end of the connection
        let mut after = Vec::new();
        loop {
            match recv(&mut ws, WAIT).await {
                Some(Frame::Closed) => break,
                None => panic!("connection not closed after authError; frames: {after:#?}"),
                Some(f) => after.push(f),
            }
        }
        assert!(after.is_empty(), "frames after authError: {after:#?}");
        assert_eq!(api.value("wccw").await, Some(json!(0)));
    }
    // the right password still works
    let (_ws, chunks) = login(charger.port, "right one").await;
    assert!(!chunks.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_sent_or_applied_before_authentication() {
    let charger = Charger::fresh_with(&MANUAL_2021);
    let api = charger.api();
    api.set_ok(&[("pass", "\"early bird\"")]).await;
    let key = hashed("early bird", SERIAL);
    let mut ws = connect(charger.port).await;
    let (_, challenge) = greet(&mut ws).await;

    send(&mut ws, "garbage".into()).await;
    send(&mut ws, "{\"type\":".into()).await;
    ws.send(Message::Binary(vec![0u8, 1, 2].into()))
        .await
        .unwrap();
    send(&mut ws, json!({"type": "auth"}).to_string()).await;
    send(
        &mut ws,
        json!({"type": "setValue", "requestId": 1, "key": "amp", "value": 10}).to_string(),
    )
    .await;
    send(&mut ws, secured(&key, 2, "amp", json!(11))).await;
    send(&mut ws, json!({"type": "ping"}).to_string()).await;
    // a change that an authenticated client would hear about
    api.set_ok(&[("fna", "\"changed early\"")]).await;
    if let Some(f) = recv(&mut ws, Duration::from_millis(1500)).await {
        panic!("nothing may be sent before authentication, got {f:?}");
    }
    assert_eq!(
        api.value("amp").await,
        Some(json!(16)),
        "a write before auth was applied"
    );
    assert_eq!(api.value("wccw").await, Some(json!(0)));

    // authentication still works afterwards, and the first frames are the status
    let answer = auth_message(
        &key,
        challenge["token1"].as_str().unwrap(),
        challenge["token2"].as_str().unwrap(),
    );
    send(&mut ws, answer).await;
    let (ok, _) = recv_json(&mut ws, "answer to auth").await;
    assert_eq!(ok["type"], "authSuccess", "{ok}");
    // then the fullStatus chunks and nothing else: no late answer to the early writes
    let mut status = serde_json::Map::new();
    loop {
        let (v, raw) = recv_json(&mut ws, "fullStatus after a late auth").await;
        assert_eq!(v["type"], "fullStatus", "{raw}");
        status.extend(v["status"].as_object().unwrap().clone());
        if v["partial"] == false {
            break;
        }
    }
    assert_eq!(status.get("amp"), Some(&json!(16)));
    assert_eq!(status.get("fna"), Some(&json!("changed early")));
    if let Some(Frame::Text(t)) = recv(&mut ws, Duration::from_millis(500)).await {
        let v: Value = serde_json::from_str(&t).unwrap();
        assert_ne!(
            v["type"], "response",
            "an early write was answered late: {t}"
        );
    }
    assert_eq!(api.value("amp").await, Some(json!(16)));
}
