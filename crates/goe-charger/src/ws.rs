//! The local WebSocket API at `/ws`: one task per connection.
//!
//! Sequence: `hello`, `authRequired` → the client's `auth` is checked against
//! the stored password hash → `authSuccess` and the `fullStatus` chunks, then a
//! `deltaStatus` whenever keys change, and a `response` to every `securedMsg`.
//! Nothing but `hello` and `authRequired` is sent before authentication; a
//! wrong password gets `authError` and the connection is closed.

use crate::device::Device;
use axum::extract::ws::{Message, WebSocket};
use goe_proto::ws::{self as proto, ClientMessage};
use std::sync::Arc;
use std::time::Duration;

/// How long a client may take to authenticate.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(30);

fn random_token() -> String {
    let mut bytes = [0u8; 16];
    // The OS generator; if it were unavailable the tokens would be weak but the
    // connection still works, as a real unit's would.
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}

async fn send(socket: &mut WebSocket, text: String) -> bool {
    socket.send(Message::Text(text.into())).await.is_ok()
}

/// Serves one WebSocket connection until the client goes away.
pub async fn serve_socket(mut socket: WebSocket, device: Arc<Device>) {
    let hello = device.with_charger(|c, _| proto::hello(c));
    let (token1, token2) = (random_token(), random_token());
    if !send(&mut socket, hello).await
        || !send(&mut socket, proto::auth_required(&token1, &token2)).await
    {
        return;
    }
    let hashed = device.password_hash();
    let authed = tokio::time::timeout(AUTH_TIMEOUT, async {
        while let Some(Ok(msg)) = socket.recv().await {
            let Message::Text(text) = msg else {
                continue;
            };
            match proto::parse_client(&text) {
                Ok(ClientMessage::Auth { token3, hash }) => {
                    if proto::verify_auth(&hashed, &token1, &token2, &token3, &hash) {
                        let ok = proto::auth_success(&hashed, &token1, &token3);
                        return send(&mut socket, ok).await;
                    }
                    let _ = send(&mut socket, proto::auth_error(&token3)).await;
                    return false;
                }
                _ => continue, // nothing else is answered before authentication
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    if !authed {
        let _ = socket.send(Message::Close(None)).await;
        return;
    }
    device.websocket_clients(1);
    run_authenticated(&mut socket, &device, &hashed).await;
    device.websocket_clients(-1);
}

async fn run_authenticated(socket: &mut WebSocket, device: &Arc<Device>, hashed: &str) {
    let mut changes = device.subscribe();
    let (frames, mut seen) = device.with_charger(|c, now| {
        let frames = proto::full_status(c, now);
        (frames, c.generation())
    });
    for frame in frames {
        if !send(socket, frame).await {
            return;
        }
    }
    loop {
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                let (delta, now_seen) = device.websocket_delta(seen);
                seen = now_seen;
                if let Some(frame) = delta
                    && socket.send(Message::Text(frame)).await.is_err()
                {
                    return;
                }
            }
            msg = socket.recv() => {
                let Some(Ok(msg)) = msg else { return };
                let text = match msg {
                    Message::Text(t) => t.to_string(),
                    Message::Close(_) => return,
                    _ => continue,
                };
                let reply = handle_message(device, hashed, &text).await;
                if let Some(reply) = reply
                    && !send(socket, reply).await
                {
                    return;
                }
            }
        }
    }
}

/// The `response` to one client message, if it needs one.
async fn handle_message(device: &Arc<Device>, hashed: &str, text: &str) -> Option<String> {
    match proto::parse_client(text) {
        Ok(ClientMessage::SecuredMsg {
            data,
            request_id,
            hmac,
        }) => {
            if !proto::verify_hmac(hashed, &data, &hmac) {
                tracing::warn!("websocket: securedMsg with a bad HMAC refused");
                return Some(proto::response_error(&request_id, "invalid hmac"));
            }
            match proto::parse_client(&data) {
                Ok(ClientMessage::SetValue {
                    request_id: inner,
                    key,
                    value,
                }) => Some(apply(device, inner, key, value).await),
                _ => Some(proto::response_error(&request_id, "unsupported message")),
            }
        }
        Ok(ClientMessage::SetValue { request_id, .. }) => Some(proto::response_error(
            &request_id,
            "setValue must be sent as securedMsg",
        )),
        Ok(_) => None,
        Err(e) => {
            tracing::debug!("websocket: {e}");
            None
        }
    }
}

async fn apply(
    device: &Arc<Device>,
    request_id: serde_json::Value,
    key: String,
    value: serde_json::Value,
) -> String {
    let raw = value.to_string();
    let dev = device.clone();
    let key2 = key.clone();
    let raw2 = raw.clone();
    let result = tokio::task::spawn_blocking(move || dev.set_one(&key2, &raw2))
        .await
        .unwrap_or_else(|_| Err(goe_keys::SetError::Rejected("internal error".into())));
    match result {
        Ok(()) => device.with_charger(|c, _| proto::response_ok(&request_id, &key, c)),
        Err(e) => {
            let shown = if crate::device::is_secret(&key) {
                crate::device::MASK
            } else {
                raw.as_str()
            };
            proto::response_error(&request_id, &e.http_text(&key, shown))
        }
    }
}
