//! No acknowledged write that was not persisted, on the push channels: an
//! MQTT `…/set` (real mosquitto) and a WebSocket `securedMsg` on a full disk
//! answer a refusal in their own style (`…/result` text, `response` with
//! `success: false`), change nothing, and after the disk has room again and
//! the charger restarts (`kill -9`), the disk holds the old value and the
//! write acknowledged before the disk filled. The disk: see `tiny_disk`.

use super::ws_auth::{auth_reply, hashed, secured};
use crate::support::*;
use crate::tiny_disk::{TinyDisk, stored};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_set_is_refused_on_a_full_disk() {
    let disk = TinyDisk::new();
    let broker = Broker::start();
    let mut live = Sub::connect(broker.port, "test-durability", &["#"]).await;
    let url = broker.url();
    let mut args = MANUAL.to_vec();
    args.extend(["--firmware", MQTT_FW, "--mqtt", url.as_str()]);
    let ch = disk.start("mqtt", &args);
    read_dump(&mut live, PREFIX).await;
    let set = format!("{PREFIX}amp/set");
    let result = format!("{PREFIX}amp/result");

    live.publish(&set, "10").await;
    live.wait_payload(&result, "success").await;
    disk.fill();
    live.publish(&set, "13").await;
    let got = live
        .wait_for(&result, |p| p != "success", "a refusal")
        .await;
    assert!(
        got.payload.contains("not persisted") && got.payload.ends_with(" 13"),
        "{}",
        got.payload
    );
    let api = crate::common::Api::new(ch.port());
    assert_eq!(api.value("amp").await, Some(json!(10)), "rolled back");
    disk.unfill();
    ch.kill9();
    assert_eq!(stored(&disk.root.join("mqtt"))["amp"], json!(10));
    let ch = disk.start("mqtt", &args);
    let api = crate::common::Api::new(ch.port());
    assert_eq!(api.value("amp").await, Some(json!(10)));
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON text frame of `kind`, skipping others.
async fn next_of(ws: &mut Ws, kind: &str) -> Value {
    let end = tokio::time::Instant::now() + WAIT;
    loop {
        let frame = tokio::time::timeout_at(end, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind} within {WAIT:?}"));
        match frame {
            Some(Ok(Message::Text(t))) => {
                let v: Value = serde_json::from_str(&t).expect("JSON frame");
                if v["type"] == kind {
                    return v;
                }
            }
            Some(Ok(_)) => {}
            other => panic!("waiting for {kind}: {other:?}"),
        }
    }
}

/// Connects and authenticates with the empty password (none is set).
async fn login(port: u16) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .expect("WebSocket connect");
    let challenge = next_of(&mut ws, "authRequired").await;
    let auth = auth_reply(hashed(""), &challenge);
    ws.send(Message::Text(auth.into())).await.unwrap();
    next_of(&mut ws, "authSuccess").await;
    ws
}

/// Sends a signed `setValue` and returns the `response`.
async fn secured_set(ws: &mut Ws, id: u64, key: &str, value: Value) -> Value {
    let msg = secured(hashed(""), id, key, value);
    ws.send(Message::Text(msg.into())).await.unwrap();
    next_of(ws, "response").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_secured_write_is_refused_on_a_full_disk() {
    let disk = TinyDisk::new();
    let ch = disk.start("ws", &MANUAL);
    let mut ws = login(ch.port()).await;
    let r = secured_set(&mut ws, 1, "amp", json!(10)).await;
    assert_eq!(r["success"], true, "{r}");
    disk.fill();
    let r = secured_set(&mut ws, 2, "amp", json!(13)).await;
    assert_eq!(
        (&r["requestId"], &r["success"]),
        (&json!(2), &json!(false)),
        "{r}"
    );
    assert!(
        r["message"]
            .as_str()
            .unwrap_or("")
            .contains("not persisted"),
        "{r}"
    );
    let api = crate::common::Api::new(ch.port());
    assert_eq!(api.value("amp").await, Some(json!(10)), "rolled back");
    disk.unfill();
    ch.kill9();
    assert_eq!(stored(&disk.root.join("ws"))["amp"], json!(10));
    let ch = disk.start("ws", &MANUAL);
    let api = crate::common::Api::new(ch.port());
    assert_eq!(api.value("amp").await, Some(json!(10)));
}
