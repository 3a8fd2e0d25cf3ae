//! The local HTTP API v2 (`/api/status`, `/api/set`) as a real unit answers it.
//!
//! Every request goes through one handler so that unknown paths, disabled
//! APIs and wrong methods answer exactly like the firmware's ESP-IDF web
//! server, whatever axum's defaults would be. Paths under `/sim/` go to the
//! control API ([`crate::sim_api`]), which `hai` does not switch off.
//!
//! - [`conn`]: the accept loop, connection limits and timeouts, and the
//!   adapter that puts [`head`] in front of hyper.
//! - [`head`]: the request-head normalizer (raw `"`, `<`, `>`, spaces in the
//!   target percent-encoded; unacceptable heads refused in httpd's style).
//! - [`query`]: strict percent-decoding of query strings.

pub mod conn;
pub mod head;
pub mod query;

use crate::device::Device;
use crate::fleet::Fleet;
use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use goe_engine::KeySet;
use std::sync::Arc;

pub use head::MAX_URI_LEN;

/// The ESP-IDF httpd's 404 text (IDF 4.x, as on firmware 05x).
pub const NOT_FOUND_TEXT: &str = "This URI does not exist";

/// Read buffer of a WebSocket connection. Clients send small messages
/// (`auth`, `securedMsg`); tungstenite zero-fills the whole free buffer before
/// every read attempt, so its 128 KiB default costs a 128 KiB memset each time
/// a watcher's task wakes to send a delta (and 128 KiB of memory per watcher).
/// Larger messages are simply read in several pieces.
pub const WS_READ_BUFFER: usize = 4 * 1024;

/// What every request handler sees: its charger and, in fleet mode, the fleet.
#[derive(Clone)]
pub struct AppState {
    /// The charger this listener serves.
    pub device: Arc<Device>,
    /// All chargers of the process, when running a fleet.
    pub fleet: Option<Arc<Fleet>>,
}

/// The router serving one device.
pub fn router(device: Arc<Device>) -> Router {
    app(AppState {
        device,
        fleet: None,
    })
}

/// The router of one charger of a fleet: `/sim/…?serial=S` addresses any
/// charger of the fleet, `/sim/fleet` lists them, `/sim/advance` moves the
/// whole fleet.
pub fn fleet_router(device: Arc<Device>, fleet: Arc<Fleet>) -> Router {
    app(AppState {
        device,
        fleet: Some(fleet),
    })
}

fn app(state: AppState) -> Router {
    Router::new()
        .route("/ws", axum::routing::any(websocket))
        .fallback(handle)
        .with_state(state)
}

/// `/ws`: upgrades to the WebSocket API ([`crate::ws`]). The peer address
/// comes from the listener's `ConnectInfo` extension when it sets one (for
/// the per-address wrong-password limit).
async fn websocket(
    State(AppState { device, .. }): State<AppState>,
    mut request: Request,
) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0);
    match crate::ws::upgrade::accept(&mut request) {
        Ok((response, on_upgrade)) => {
            tokio::spawn(crate::ws::serve_upgrade(on_upgrade, device, peer));
            response
        }
        // the ESP-IDF server's answer to a plain request on a WebSocket path
        Err(_) => text(
            StatusCode::BAD_REQUEST,
            "The WebSocket handshake Upgrade field is missing",
        ),
    }
}

/// Largest request body read (only the control API takes bodies).
const MAX_BODY: usize = 2 * 1024 * 1024;

async fn handle(State(AppState { device, fleet }): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let uri = &parts.uri;
    // `conn` refuses targets over MAX_URI_LEN bytes as received (414) before
    // they get here; percent-encoding raw bytes may triple a target's length.
    let uri_len = uri.path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > 3 * MAX_URI_LEN {
        return text(StatusCode::URI_TOO_LONG, "URI is too long");
    }
    let path = uri.path();
    if crate::sim_api::is_sim_path(path) {
        let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
            return text(StatusCode::PAYLOAD_TOO_LARGE, "Content too long");
        };
        let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
        if let Some(fleet) = fleet {
            return crate::sim_api::handle_fleet(fleet, device, method, uri, headers, body).await;
        }
        return crate::sim_api::handle(device, method, uri, headers, body).await;
    }
    let method = &parts.method;
    if matches!(path, "/status" | "/mqtt") {
        return legacy(&device, method, path, uri.query().unwrap_or("")).await;
    }
    if !matches!(path, "/api/status" | "/api/set") {
        return text(StatusCode::NOT_FOUND, NOT_FOUND_TEXT);
    }
    if *method != Method::GET {
        // the firmware answers 404 for everything while `hai` is off
        if !device.flag("hai") {
            return text(StatusCode::NOT_FOUND, NOT_FOUND_TEXT);
        }
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request method for this URI is not handled by server",
        );
    }
    let query = uri.query().unwrap_or("");
    if path == "/api/status" {
        let profile = device.firmware();
        let filter = parse_filter_on(query, profile);
        return match device.api_status(filter.keys.as_ref()) {
            Some(body) => {
                // 60.3+: the same JSON, but 400 when the filter named keys it does not print
                let status = if profile.filter_refuses_unknown && filter.names_unprinted {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::OK
                };
                json(status, body)
            }
            None => text(StatusCode::NOT_FOUND, NOT_FOUND_TEXT),
        };
    }
    if !device.flag("hai") {
        return text(StatusCode::NOT_FOUND, NOT_FOUND_TEXT);
    }
    let (pairs, undecodable) = set_pairs(query);
    let dev = device.clone();
    // the firmware's text for a value that is not JSON (JSON text is UTF-8)
    let refused: Vec<(String, String, goe_keys::SetError)> = undecodable
        .into_iter()
        .map(|(key, raw)| {
            let error = goe_keys::SetError::InvalidJson(goe_keys::JsonError::InvalidInput);
            (key, raw, error)
        })
        .collect();
    let reply = tokio::task::spawn_blocking(move || dev.set_refusing(&pairs, &refused)).await;
    match reply {
        Ok(reply) => {
            let status = if reply.all_ok {
                StatusCode::OK
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            json(status, reply.body)
        }
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "couldn't take api lock in 3s, please try again later",
        ),
    }
}

/// The ESP-IDF httpd's 500 text (`httpd_resp_send_500`): the v1 API's answer
/// to a write that could not be persisted.
pub const V1_WRITE_FAILED_TEXT: &str = "Server has encountered an unexpected error";

/// API v1 (`/status`, `/mqtt?payload=key=value`), served while `hla` is true.
async fn legacy(device: &Arc<Device>, method: &Method, path: &str, query: &str) -> Response {
    if !device.flag("hla") {
        return text(StatusCode::NOT_FOUND, NOT_FOUND_TEXT);
    }
    if method != Method::GET {
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request method for this URI is not handled by server",
        );
    }
    if path == "/mqtt" {
        // a payload that is not UTF-8 is not applied (never stored as U+FFFD)
        if let Ok(payload) = query::first(query, "payload").unwrap_or(Ok("".into())) {
            let payload = payload.into_owned();
            let dev = device.clone();
            // A write that could not be saved is not answered with the status
            // (which a v1 client reads as success): ESP-IDF's plain 500.
            if !matches!(
                tokio::task::spawn_blocking(move || dev.apply_v1(&payload)).await,
                Ok(Ok(()))
            ) {
                return text(StatusCode::INTERNAL_SERVER_ERROR, V1_WRITE_FAILED_TEXT);
            }
        }
    }
    let body = device.with_charger(goe_proto::v1::status);
    json(StatusCode::OK, body)
}

/// The keys named by `filter=` (comma list or legacy JSON array), readable ones
/// only; `None` means every key (no or empty filter).
/// A filter that is not UTF-8 once decoded names no key (`{}`).
pub fn parse_filter(query: &str) -> Option<KeySet> {
    parse_filter_on(query, goe_keys::default_profile()).keys
}

/// What `filter=` asks of a charger: the keys to print, and whether it named
/// one the charger does not print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// The named keys the charger prints; `None`: every key (no or empty filter).
    pub keys: Option<KeySet>,
    /// A name that `profile` does not print (unknown to this firmware, or
    /// write-only like `rst`): fw 60.3+ answers such a filter with HTTP 400
    /// ([`goe_keys::Profile::filter_refuses_unknown`]).
    pub names_unprinted: bool,
}

/// [`parse_filter`] for a charger of `profile`, in one pass over the names.
pub fn parse_filter_on(query: &str, profile: &goe_keys::Profile) -> Filter {
    let every = Filter {
        keys: None,
        names_unprinted: false,
    };
    let Some(raw) = query::first(query, "filter") else {
        return every;
    };
    let Ok(raw) = raw else {
        return Filter {
            keys: Some(KeySet::new()),
            names_unprinted: false,
        };
    };
    let raw = raw.trim();
    if raw.is_empty() {
        return every;
    }
    let mut set = KeySet::new();
    let mut names_unprinted = false;
    let mut add = |name: &str| match profile.key(name) {
        Some((id, _)) if profile.readable(id) => set.insert(id),
        // a clone's key carried as captured
        _ if let Some(v) = profile.verbatim_id(name) => set.insert_verbatim(v),
        _ => names_unprinted |= !name.is_empty(),
    };
    if raw.starts_with('[') {
        match serde_json::from_str::<Vec<String>>(raw) {
            Ok(list) => list.iter().for_each(|name| add(name)),
            Err(_) => raw
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .for_each(|s| add(s.trim().trim_matches('"'))),
        }
    } else {
        raw.split(',').for_each(|s| add(s.trim()));
    }
    Filter {
        keys: Some(set),
        names_unprinted,
    }
}

/// Decoded `key=value` pairs.
type Pairs = Vec<(String, String)>;

/// The `/api/set` pairs of `query`: the decodable ones, and (key as shown,
/// value as sent) of those whose key or value is not UTF-8 once decoded.
/// A key with any undecodable value is refused as a whole.
fn set_pairs(query: &str) -> (Pairs, Pairs) {
    let mut pairs = Vec::new();
    let mut undecodable: Vec<(String, String)> = Vec::new();
    for p in query::pairs(query) {
        match (p.key, p.value) {
            (Ok(k), Ok(v)) => pairs.push((k.into_owned(), v.into_owned())),
            (Ok(k), Err(_)) => undecodable.push((k.into_owned(), p.raw_value.to_owned())),
            // a key that is not UTF-8 is shown as sent (it names no key)
            (Err(_), _) => undecodable.push((p.raw_key.to_owned(), p.raw_value.to_owned())),
        }
    }
    if !undecodable.is_empty() {
        pairs.retain(|(k, _)| !undecodable.iter().any(|(u, _)| u == k));
        let mut seen = Vec::new();
        undecodable.retain(|(k, _)| {
            let first = !seen.contains(k);
            seen.push(k.clone());
            first
        });
    }
    (pairs, undecodable)
}

/// The answer to a request head refused by [`conn`]: the ESP-IDF httpd's
/// status and text; the connection closes after it.
pub(crate) fn refused(refusal: head::Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = text(status, refusal.text());
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn with_headers(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

fn json(status: StatusCode, body: impl Into<Body>) -> Response {
    with_headers(status, "application/json", body)
}

fn text(status: StatusCode, body: &'static str) -> Response {
    with_headers(status, "text/html", body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(set: &KeySet) -> Vec<&'static str> {
        set.iter().map(|i| goe_keys::KEYS[i].name).collect()
    }

    #[test]
    fn comma_filter_in_registration_order() {
        let set = parse_filter("filter=cards,trx,wh,nrg,eto,car,alw").unwrap();
        assert_eq!(
            names(&set),
            ["alw", "eto", "car", "wh", "trx", "nrg", "cards"]
        );
    }

    #[test]
    fn encoded_legacy_unknown_and_write_only() {
        let set = parse_filter("filter=alw%2Cacu,nope,pass,rst").unwrap();
        assert_eq!(names(&set), ["alw", "acu"]);
        // `rfb` exists on the 2021 firmware only
        let fw2021 = goe_keys::profile("051.4").unwrap();
        let set = parse_filter_on("filter=[\"rfb\",\"alw\"]", fw2021)
            .keys
            .unwrap();
        assert_eq!(names(&set), ["rfb", "alw"]);
        let set = parse_filter("filter=[\"rfb\",\"alw\"]").unwrap();
        assert_eq!(names(&set), ["alw"]);
        let set = parse_filter("filter=%5B%22amp%22%5D").unwrap();
        assert_eq!(names(&set), ["amp"]);
        assert!(parse_filter("filter=").is_none());
        assert!(parse_filter("").is_none());
        assert!(parse_filter("filter=zzz").unwrap().is_empty());
    }

    #[test]
    fn a_filter_tells_whether_it_named_a_key_the_charger_does_not_print() {
        let fw = goe_keys::profile("060.5").unwrap();
        let unprinted = |q: &str| parse_filter_on(q, fw).names_unprinted;
        assert!(
            unprinted("filter=alw,rfb"),
            "rfb ended with the 2021 firmware"
        );
        assert!(unprinted("filter=alw,rst"), "rst is write-only");
        assert!(unprinted("filter=[\"alw\",\"zzz\"]"));
        assert!(!unprinted("filter=alw,acu"));
        assert!(!unprinted("filter=alw,"), "an empty name names nothing");
        assert!(!unprinted("filter=[\"alw\"]"));
        assert!(!unprinted("filter="));
        assert!(!unprinted(""));
    }
}
