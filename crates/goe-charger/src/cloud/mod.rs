//! The cloud API v3 stand-in (issue #15): `--cloud-listen ADDR` serves the
//! cloud's `/api/status` and `/api/set` for every charger of the process.
//!
//! - [`view`]: what the cloud knows of a charger and its answers (pure).
//! - [`uplink`]: each charger's contacts: its status and token uploaded,
//!   queued sets delivered, only while `cae` is on.
//! - this module: the listener and the request handler.
//!
//! A request names its charger by `Host: <serial>.api.v3.go-e.io` (the real
//! cloud's form), or, for clients that cannot set the Host header, by the
//! path `/<serial>/api/status` (a base URL `http://ADDR/<serial>` in place
//! of `https://<serial>.api.v3.go-e.io`) or `?serial=<serial>`. The token
//! comes as `?token=`, `Authorization: Bearer <token>` or
//! `Authorization: Basic <token>` (what `goechargerv2` sends).
//! Nothing here logs a token or a query string.

pub mod uplink;
pub mod view;

use crate::device::Device;
use crate::http::query;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;
use tokio::net::TcpListener;
use view::CloudView;

/// The cloud's domain below the serial.
pub const DOMAIN: &str = "api.v3.go-e.io";

/// One charger as the cloud holds it.
pub struct Member {
    /// The charger (reached only by [`uplink`]).
    pub device: Arc<Device>,
    /// Its firmware's key table (what the cloud can refuse itself).
    pub profile: &'static goe_keys::Profile,
    /// What the cloud knows of it.
    pub view: Arc<Mutex<CloudView>>,
}

/// Every charger of the process, by 6-digit serial.
pub struct Cloud {
    members: HashMap<String, Member>,
}

/// `serial` padded to 6 digits with leading zeros (cloudapi-en.md), or
/// `None` when it is not a charger number.
pub fn serial6(serial: &str) -> Option<String> {
    let s = serial.trim();
    (!s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{s:0>6}"))
}

impl Cloud {
    /// The cloud of `devices`.
    pub fn new(devices: &[Arc<Device>]) -> Cloud {
        let members = devices
            .iter()
            .map(|d| {
                let serial = d.serial();
                let key = serial6(&serial).unwrap_or(serial);
                (
                    key,
                    Member {
                        device: d.clone(),
                        profile: d.firmware(),
                        view: Arc::new(Mutex::new(CloudView::default())),
                    },
                )
            })
            .collect();
        Cloud { members }
    }

    /// The charger with serial `serial` (any number of leading zeros).
    pub fn member(&self, serial: &str) -> Option<&Member> {
        self.members.get(&serial6(serial)?)
    }
}

/// Serves the stand-in on `listener` for `devices` (and runs their uplinks)
/// until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    devices: Vec<Arc<Device>>,
    limits: crate::http::conn::Limits,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let cloud = Arc::new(Cloud::new(&devices));
    let uplinks: Vec<_> = cloud
        .members
        .values()
        .map(|m| tokio::spawn(uplink::run(m.device.clone(), m.view.clone())))
        .collect();
    let app = Router::new().fallback(handle).with_state(cloud);
    let result = crate::http::conn::serve(listener, app, limits, shutdown).await;
    for u in uplinks {
        u.abort();
    }
    result
}

/// Which endpoint a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Status,
    Set,
}

fn endpoint(path: &str) -> Option<Endpoint> {
    match path {
        "/api/status" => Some(Endpoint::Status),
        "/api/set" => Some(Endpoint::Set),
        _ => None,
    }
}

/// The serial in `Host: <serial>.api.v3.go-e.io[:port]`.
fn host_serial(host: &str) -> Option<&str> {
    let name = host.rsplit_once(':').map_or(host, |(n, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            n
        } else {
            host
        }
    });
    let (serial, domain) = name.split_once('.')?;
    domain.eq_ignore_ascii_case(DOMAIN).then_some(serial)
}

/// The token of a request: `?token=`, else `Authorization: Bearer|Basic`.
fn token_of(query: &str, request: &Request) -> Option<String> {
    if let Some(Ok(t)) = query::first(query, "token") {
        return Some(t.into_owned());
    }
    let auth = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, value) = auth.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("basic"))
        .then(|| value.trim().to_owned())
}

fn json(reply: view::Reply) -> Response {
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(at) = reply.last_modified
        && let Ok(ts) = jiff::Timestamp::try_from(at)
        && let Ok(v) = HeaderValue::from_str(&ts.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
    {
        headers.insert(header::LAST_MODIFIED, v);
    }
    response
}

fn refusal(status: u16, reason: &str) -> Response {
    let mut body = String::from("{\"success\":false,\"reason\":");
    goe_keys::value::write_string(reason, &mut body);
    body.push('}');
    json(view::Reply {
        status,
        body,
        last_modified: None,
    })
}

/// The one handler: finds the charger and the endpoint, then [`view`] answers.
async fn handle(State(cloud): State<Arc<Cloud>>, request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return refusal(405, "only GET");
    }
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    // `/<serial>/api/…` (path form), else `/api/…` with `?serial=` or the Host name
    let (serial, point) = match path.strip_prefix('/').and_then(|p| p.split_once('/')) {
        Some((first, rest)) if first.bytes().all(|b| b.is_ascii_digit()) && !first.is_empty() => {
            (Some(first.to_owned()), endpoint(&format!("/{rest}")))
        }
        _ => {
            let from_query = query::first(&query, "serial").and_then(Result::ok);
            let from_host = request
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .and_then(host_serial)
                .map(str::to_owned);
            (
                from_query.map(|s| s.into_owned()).or(from_host),
                endpoint(&path),
            )
        }
    };
    let Some(point) = point else {
        return refusal(404, "no such endpoint: /api/status and /api/set");
    };
    let Some(serial) = serial else {
        return refusal(
            404,
            "no charger named: use Host: <serial>.api.v3.go-e.io, /<serial>/api/… or ?serial=",
        );
    };
    let token = token_of(&query, &request);
    let Some(member) = cloud.member(&serial) else {
        return json(view::offline());
    };
    let now = SystemTime::now();
    match point {
        Endpoint::Status => {
            let age = query::first(&query, "age").and_then(Result::ok);
            let filter = query::first(&query, "filter").and_then(Result::ok);
            let v = member.view.lock();
            json(view::status(
                &v,
                token.as_deref(),
                age.as_deref(),
                filter.as_deref(),
                now,
            ))
        }
        Endpoint::Set => {
            let pairs: Vec<(String, Option<String>)> = query::pairs(&query)
                .filter_map(|p| {
                    let key = p.key.ok()?.into_owned();
                    (key != "token" && key != "serial")
                        .then(|| (key, p.value.ok().map(|v| v.into_owned())))
                })
                .collect();
            let reply = {
                let mut v = member.view.lock();
                view::set(&mut v, member.profile, token.as_deref(), &pairs, now)
            };
            json(reply)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_and_hosts() {
        assert_eq!(serial6("72246").as_deref(), Some("072246"));
        assert_eq!(serial6("012345").as_deref(), Some("012345"));
        assert_eq!(serial6("12a"), None);
        assert_eq!(host_serial("012345.api.v3.go-e.io"), Some("012345"));
        assert_eq!(host_serial("012345.API.v3.go-e.io:8443"), Some("012345"));
        assert_eq!(host_serial("127.0.0.1:8080"), None);
    }
}
