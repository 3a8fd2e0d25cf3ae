//! The local WebSocket API at `/ws`: one task per connection.
//!
//! Sequence: `hello`, `authRequired` → the client's `auth` is checked against
//! the stored password hash → `authSuccess` and the `fullStatus` chunks, then a
//! `deltaStatus` whenever keys change, and a `response` to every `securedMsg`.
//! Nothing but `hello` and `authRequired` is sent before authentication; a
//! wrong password gets `authError` (after [`AUTH_FAILURE_DELAY`]) and the
//! connection is closed.
//!
//! Limits (see `docs/compat.md`, WebSocket): before authentication a client
//! may send [`upgrade::PRE_AUTH_BYTES`] in all; after it, messages up to
//! [`upgrade::MAX_MESSAGE`]. After [`AUTH_MAX_FAILURES`] wrong passwords from
//! one address within [`AUTH_WINDOW`] that address's attempts are refused
//! unchecked until the window ends. A `securedMsg` is applied at most once
//! per session ([`ReplayGuard`]). When `pass` changes, by any path, every
//! session authenticated with the old one is closed.

pub mod upgrade;

use crate::device::Device;
use futures_util::{SinkExt as _, StreamExt as _};
use goe_proto::ws::{self as proto, ClientMessage};
pub use goe_proto::ws_guard::{AUTH_MAX_FAILURES, AUTH_WINDOW};
use goe_proto::ws_guard::{AuthLimiter, ReplayGuard};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use upgrade::{GateKey, Socket};

/// How long a client may take to authenticate.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a wrong (or refused) `auth` waits before its `authError`: one
/// connection tries one password per second at most.
pub const AUTH_FAILURE_DELAY: Duration = Duration::from_secs(1);

/// The refusal of a `securedMsg` whose inner `requestId` this session used.
pub const REPLAY_TEXT: &str = "requestId already used in this session";

/// The wrong-password table of the process, keyed by charger serial and
/// peer address (IPv6 by /64 prefix).
static AUTH_LIMITER: LazyLock<parking_lot::Mutex<AuthLimiter<(String, IpAddr)>>> =
    LazyLock::new(Default::default);

/// The address an attempt counts for: IPv4 (also when mapped into IPv6) or
/// the /64 prefix of an IPv6 address (one host usually owns a whole /64).
fn peer_key(addr: SocketAddr) -> IpAddr {
    match addr.ip() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 16];
    // The OS generator; if it were unavailable the tokens would be weak but the
    // connection still works, as a real unit's would.
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}

async fn send(socket: &mut Socket, text: String) -> bool {
    socket.send(Message::Text(text.into())).await.is_ok()
}

async fn close(socket: &mut Socket, code: CloseCode, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// Serves a WebSocket handshake's connection once upgraded, until the client
/// goes away. `peer` is the client's address when the listener knows it;
/// without it wrong passwords are limited per connection only.
pub async fn serve_upgrade(
    on_upgrade: hyper::upgrade::OnUpgrade,
    device: Arc<Device>,
    peer: Option<SocketAddr>,
) {
    if let Some((socket, gate)) = upgrade::socket(on_upgrade).await {
        serve_socket(socket, gate, device, peer).await;
    }
}

/// Checks one `auth`: through the address's limiter when the address is known.
fn check_auth(device: &Device, peer: Option<SocketAddr>, check: impl FnOnce() -> bool) -> bool {
    match peer {
        Some(addr) => {
            let key = (device.serial(), peer_key(addr));
            AUTH_LIMITER.lock().attempt(&key, Instant::now(), check)
        }
        None => check(),
    }
}

/// Serves one WebSocket connection until the client goes away.
async fn serve_socket(
    mut socket: Socket,
    gate: GateKey,
    device: Arc<Device>,
    peer: Option<SocketAddr>,
) {
    let hello = device.with_charger(|c, _| proto::hello(c));
    let (token1, token2) = (random_token(), random_token());
    if !send(&mut socket, hello).await
        || !send(&mut socket, proto::auth_required(&token1, &token2)).await
    {
        return;
    }
    let hashed = device.password_hash();
    let authed = tokio::time::timeout(AUTH_TIMEOUT, async {
        while let Some(Ok(msg)) = socket.next().await {
            let Message::Text(text) = msg else {
                continue;
            };
            match proto::parse_client(&text) {
                Ok(ClientMessage::Auth { token3, hash }) => {
                    let mut checked = false;
                    let right = check_auth(&device, peer, || {
                        checked = true;
                        proto::verify_auth(&hashed, &token1, &token2, &token3, &hash)
                    });
                    if right {
                        gate.open();
                        let ok = proto::auth_success(&hashed, &token1, &token3);
                        return send(&mut socket, ok).await;
                    }
                    // attempts refused unchecked (an address over its limit)
                    // are not worth a line each: a client could flood the log
                    if checked {
                        tracing::warn!("websocket: wrong password from {peer:?}");
                    } else {
                        tracing::debug!(
                            "websocket: login from {peer:?} refused (too many wrong passwords)"
                        );
                    }
                    tokio::time::sleep(AUTH_FAILURE_DELAY).await;
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

/// Ends a session whose password is no longer the charger's.
async fn password_changed(socket: &mut Socket) {
    tracing::info!("websocket: password changed, closing a session of the old one");
    close(socket, CloseCode::Policy, "password changed").await;
}

async fn run_authenticated(socket: &mut Socket, device: &Arc<Device>, hashed: &str) {
    let mut changes = device.subscribe();
    let mut replay = ReplayGuard::default();
    let (frames, mut seen) = device.with_charger(|c, now| {
        let frames = proto::full_status(c, now);
        (frames, c.generation())
    });
    for frame in frames {
        if !send(socket, frame).await {
            return;
        }
    }
    // a change between reading the hash and subscribing sent no notification
    if !device.password_is(hashed) {
        return password_changed(socket).await;
    }
    loop {
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                let Some((delta, now_seen)) = device.websocket_delta(seen, hashed) else {
                    return password_changed(socket).await;
                };
                seen = now_seen;
                if let Some(frame) = delta
                    && socket.send(Message::Text(frame)).await.is_err()
                {
                    return;
                }
            }
            msg = socket.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t.to_string(),
                    Some(Ok(Message::Close(_))) | None => return,
                    Some(Ok(_)) => continue,
                    Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(e))) => {
                        tracing::warn!("websocket: {e}; closing");
                        close(socket, CloseCode::Size, "message too big").await;
                        return;
                    }
                    Some(Err(_)) => return,
                };
                if !device.password_is(hashed) {
                    return password_changed(socket).await; // nothing applied
                }
                let reply = handle_message(device, hashed, &mut replay, &text).await;
                if let Some(reply) = reply
                    && !send(socket, reply).await
                {
                    return;
                }
                // this session's own securedMsg may have changed it
                if !device.password_is(hashed) {
                    return password_changed(socket).await;
                }
            }
        }
    }
}

/// The `response` to one client message, if it needs one.
async fn handle_message(
    device: &Arc<Device>,
    hashed: &str,
    replay: &mut ReplayGuard,
    text: &str,
) -> Option<String> {
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
                }) => {
                    if !replay.first_use(&inner, &hmac) {
                        tracing::warn!("websocket: replayed securedMsg refused");
                        return Some(proto::response_error(&inner, REPLAY_TEXT));
                    }
                    Some(apply(device, inner, key, value).await)
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_keys_group_ipv6_by_prefix_and_unmap_ipv4() {
        let key = |s: &str| peer_key(s.parse().unwrap());
        assert_eq!(key("192.0.2.7:5000"), key("192.0.2.7:6000"));
        assert_eq!(key("[::ffff:192.0.2.7]:1"), key("192.0.2.7:1"));
        assert_eq!(key("[2001:db8:1:2::5]:1"), key("[2001:db8:1:2:aaaa::9]:2"));
        assert_ne!(key("[2001:db8:1:2::5]:1"), key("[2001:db8:1:3::5]:1"));
    }
}
