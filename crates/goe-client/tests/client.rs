//! The client against a real `goe-charger` server on 127.0.0.1 (in-process,
//! real sockets): typed status, filters, sets, per-key failures and error paths.

use goe_client::{CarState, Client, ClientError, ForceState, LogicMode, TypedValue};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

/// A virtual charger served on a free port until the test ends.
struct Server {
    addr: SocketAddr,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Server {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let device = goe_charger::device::Device::open(
        dir.path(),
        None,
        goe_charger::clock::SimClock::real_time(),
        1,
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(goe_charger::serve(listener, Arc::new(device), async {
        let _ = stopped.await;
    }));
    Server {
        addr,
        _dir: dir,
        _stop: stop,
    }
}

fn client(server: &Server) -> Client {
    Client::new(&server.addr.to_string()).unwrap()
}

/// A port nothing listens on: bind, note the port, close.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_status_is_typed() {
    let server = start().await;
    let status = client(&server).status().await.unwrap();
    assert!(status.len() > 150, "{} keys", status.len());
    assert_eq!(status.serial(), Some("012345"));
    assert_eq!(status.car_state(), Some(CarState::Idle));
    assert_eq!(status.force_state(), Some(ForceState::Neutral));
    assert_eq!(status.logic_mode(), Some(LogicMode::Default));
    assert_eq!(status.requested_current(), Some(16));
    let model = status.model_status().unwrap();
    assert!(model.name().is_some(), "{model:?}");
    assert!(!model.reason().is_empty());
    let energy = status.energy().unwrap();
    assert!(
        energy.phases.iter().all(|p| p.voltage > 100.0),
        "{energy:?}"
    );
    assert!(!status.temperatures().unwrap().is_empty());
    assert!(status.uptime().is_some());
    // the charger's clock is the host's (real-time sim clock)
    let utc = status.utc().unwrap();
    let skew = (jiff::Timestamp::now().as_second() - utc.as_second()).abs();
    assert!(skew < 3600, "utc {utc}");
    // generic access through the key table
    assert!(matches!(status.get("rbt"), Some(TypedValue::Duration(_))));
    assert!(matches!(status.get("utc"), Some(TypedValue::Timestamp(_))));
    assert!(matches!(status.get("loc"), Some(TypedValue::LocalTime(_))));
    assert!(matches!(status.get("nrg"), Some(TypedValue::Energy(_))));
    match status.get("car") {
        Some(TypedValue::Enum(e)) => assert_eq!((e.value, e.name), (1, Some("Idle"))),
        other => panic!("{other:?}"),
    }
    // write-only keys never appear
    assert!(!status.contains("pass"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtered_status_and_get() {
    let server = start().await;
    let c = client(&server);
    let status = c.status_of(&["nrg", "car", "amp"]).await.unwrap();
    // the charger's order (registration order), only the keys asked for
    assert_eq!(status.keys().collect::<Vec<_>>(), ["amp", "car", "nrg"]);
    assert_eq!(c.get("amp").await.unwrap(), TypedValue::Int(16));
    assert!(matches!(
        c.get("ampp").await,
        Err(ClientError::UnknownKey {
            suggestion: Some("amp"),
            ..
        })
    ));
    assert!(matches!(
        c.get("pass").await,
        Err(ClientError::NotReadable { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_and_read_back() {
    let server = start().await;
    let c = client(&server);
    let results = c
        .set(&[("amp", json!(10)), ("fna", json!("a b & c"))])
        .await
        .unwrap();
    assert_eq!(
        results,
        vec![("amp".to_owned(), Ok(())), ("fna".to_owned(), Ok(()))]
    );
    let results = c
        .set_text(&[("frc", "on"), ("lmo", "eco"), ("psm", "1p")])
        .await
        .unwrap();
    assert_eq!(results.len(), 3);
    let s = c
        .status_of(&["amp", "fna", "frc", "lmo", "psm"])
        .await
        .unwrap();
    assert_eq!(s.requested_current(), Some(10));
    assert_eq!(s.friendly_name(), Some("a b & c"));
    assert_eq!(s.force_state(), Some(ForceState::On));
    assert_eq!(s.logic_mode(), Some(LogicMode::Eco));
    assert_eq!(s.raw("psm"), Some(&json!(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_failure_reports_every_key() {
    let server = start().await;
    let c = client(&server);
    let err = c
        .set(&[("amp", json!(12)), ("alw", json!(true)), ("amp2", json!(1))])
        .await
        .unwrap_err();
    let results = err.key_results().expect("partial failure");
    assert_eq!(results[0], ("amp".to_owned(), Ok(())));
    assert_eq!(
        results[1],
        (
            "alw".to_owned(),
            Err("alw: tried to set api key without setter (true)".to_owned())
        )
    );
    assert_eq!(results[2].0, "amp2");
    assert!(results[2].1.is_err());
    // the accepted key was applied
    assert_eq!(c.get("amp").await.unwrap(), TypedValue::Int(12));
    // out of range: the charger's own text
    let err = c.set(&[("amp", json!(40))]).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("exceeds range"), "{text}");
    // bad friendly value: refused before sending
    assert!(matches!(
        c.set_text(&[("lmo", "turbo")]).await,
        Err(ClientError::BadValue { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_disabled_is_named() {
    let server = start().await;
    let c = client(&server);
    c.set(&[("hai", json!(false))]).await.unwrap();
    let err = c.status().await.unwrap_err();
    assert!(matches!(err, ClientError::ApiDisabled { .. }), "{err:?}");
    assert!(err.to_string().contains("HTTP API v2 disabled"), "{err}");
    let err = c.set(&[("hai", json!(true))]).await.unwrap_err();
    assert!(matches!(err, ClientError::ApiDisabled { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_is_named() {
    let host = format!("127.0.0.1:{}", closed_port());
    let err = Client::new(&host).unwrap().status().await.unwrap_err();
    match &err {
        ClientError::Unreachable {
            host: h, reason, ..
        } => {
            assert_eq!(h, &host);
            assert_eq!(reason, "connection refused");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!("cannot reach the charger at {host}: connection refused")
    );
}

// ---- WebSocket ------------------------------------------------------------------

use goe_client::ws::{Update, WsClient};

/// A hang guard for waiting on pushed messages (not a timing assertion).
const HANG_GUARD: std::time::Duration = std::time::Duration::from_secs(30);

/// The key profile of the firmware [`start`]'s charger runs (the default).
fn charger_profile() -> &'static goe_client::goe_keys::Profile {
    goe_client::goe_keys::default_profile()
}

/// The range a write to `amp` must lie in on that firmware: its own range
/// (6 to 32 on 060.5), or the factory `mca` to `ama` where the firmware
/// bounds it by them (6 to 16 on 051.4).
fn amp_range() -> (i64, i64) {
    use goe_client::goe_keys::Rule;
    let profile = charger_profile();
    let factory = |name: &str| {
        let (kid, _) = profile.key(name).expect("a key of the profile");
        profile
            .default_value(kid, "012345")
            .as_i64()
            .expect("an integer")
    };
    match profile.key("amp").expect("amp").1.rule {
        Rule::Range(min, max) => (min, max),
        Rule::RequestedCurrent => (factory("mca"), factory("ama")),
        other => panic!("amp has the rule {other:?}"),
    }
}

/// A charger whose password is `secret` (set through the HTTP API, as the app does).
async fn start_with_password() -> Server {
    let server = start().await;
    client(&server)
        .set(&[("pass", json!("secret"))])
        .await
        .unwrap();
    server
}

/// The next update, or a panic after [`HANG_GUARD`] of silence.
async fn next_update(ws: &mut WsClient) -> Update {
    tokio::time::timeout(HANG_GUARD, ws.next())
        .await
        .expect("the charger sent nothing")
        .unwrap()
        .expect("the charger closed the WebSocket")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_wrong_password_is_typed() {
    let server = start_with_password().await;
    let err = WsClient::connect(&server.addr.to_string(), "wrong")
        .await
        .unwrap_err();
    match &err {
        ClientError::WrongPassword { host } => assert_eq!(host, &server.addr.to_string()),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "the charger at {} refused the password (WebSocket authError)",
            server.addr
        )
    );
    // the same through the HTTP client's address
    let err = client(&server).websocket("").await.unwrap_err();
    assert!(matches!(err, ClientError::WrongPassword { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_full_status_then_deltas() {
    let server = start_with_password().await;
    let http = client(&server);
    let mut ws = http.websocket("secret").await.unwrap();
    assert_eq!(ws.serial(), "012345");
    assert_eq!(ws.hello()["type"], "hello");
    assert_eq!(ws.url(), format!("ws://{}/ws", server.addr));
    // first: every readable key, in the charger's order, from the merged chunks
    let Update::Full(mut status) = next_update(&mut ws).await else {
        panic!("the first update is not the full status");
    };
    // (the readable keys of the firmware the charger runs, in its print order)
    let readable: Vec<&str> = charger_profile()
        .readable_keys()
        .map(|(_, k)| k.name)
        .collect();
    assert_eq!(status.keys().collect::<Vec<_>>(), readable);
    assert_eq!(status.serial(), Some("012345"));
    assert_eq!(status.requested_current(), Some(16));
    assert!(!status.contains("pass"));
    // then a delta with the change made through the HTTP API
    http.set(&[("amp", json!(10))]).await.unwrap();
    loop {
        match next_update(&mut ws).await {
            Update::Delta(delta) => {
                status.merge(&delta);
                if delta.contains("amp") {
                    assert_eq!(delta.requested_current(), Some(10));
                    assert!(delta.len() < readable.len(), "{} keys", delta.len());
                    break;
                }
            }
            Update::Full(_) => panic!("a second full status"),
        }
    }
    assert_eq!(status.requested_current(), Some(10));
    assert_eq!(status.len(), readable.len());
    ws.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_secured_set() {
    let server = start_with_password().await;
    let http = client(&server);
    let mut ws = WsClient::connect(&server.addr.to_string(), "secret")
        .await
        .unwrap();
    let answer = ws.set("amp", json!(12)).await.unwrap();
    assert_eq!(answer.json(), json!({"amp": 12}).as_object().unwrap());
    assert_eq!(http.get("amp").await.unwrap(), TypedValue::Int(12));
    let answer = ws.set_text("frc", "on").await.unwrap();
    assert_eq!(answer.force_state(), Some(ForceState::On));
    // out of range: the charger's message, as for /api/set
    let err = ws.set("amp", json!(40)).await.unwrap_err();
    let results = err.key_results().expect("a refusal");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].0, "amp");
    let message = results[0].1.as_ref().unwrap_err();
    let (min, max) = amp_range();
    assert!(
        message.contains(&format!("Value 40 exceeds range {min} to {max}")),
        "{message}"
    );
    assert_eq!(http.get("amp").await.unwrap(), TypedValue::Int(12));
    // the updates that arrived meanwhile are still delivered, full status first
    assert!(matches!(next_update(&mut ws).await, Update::Full(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_failures_are_named() {
    let host = format!("127.0.0.1:{}", closed_port());
    match WsClient::connect(&host, "secret").await.unwrap_err() {
        ClientError::WebSocket { host: h, reason } => {
            assert_eq!(h, host);
            assert_eq!(reason, "connection refused");
        }
        other => panic!("{other:?}"),
    }
    // a path without a WebSocket: the charger's 404
    let server = start().await;
    let url = format!("ws://{}/nope", server.addr);
    let err = WsClient::connect(&url, "secret").await.unwrap_err();
    match &err {
        ClientError::WebSocket { reason, .. } => assert!(
            reason.starts_with(&format!("HTTP 404: no WebSocket API at {url}")),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().starts_with(&format!(
            "cannot use the WebSocket of the charger at {url}: HTTP 404"
        )),
        "{err}"
    );
    assert!(matches!(
        WsClient::connect("https://charger.local", "x").await,
        Err(ClientError::InvalidHost { .. })
    ));
}
