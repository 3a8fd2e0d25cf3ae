//! The web dashboard under `/sim/ui/` (issue #16): a page per charger served
//! from assets embedded in the binary (no CDN, no build step), fed live by
//! server-sent events on `/sim/events`. It lives in the control API's
//! namespace, so nothing a real client can reach outside `/sim/` changes.
//! The fleet page (`/sim/ui/fleet.html`) is fed by `/sim/fleet/events`
//! ([`fleet_events`]): one hub per fleet, a fleet of 1 on a single charger.

pub mod events;
pub mod fleet_events;
pub mod keys;

use crate::device::Device;
use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use std::sync::Arc;

/// One embedded asset: its name under `/sim/ui/`, content type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "",
        content_type: "text/html; charset=utf-8",
        body: include_str!("assets/index.html"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/app.css"),
    },
    Asset {
        name: "keys.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/keys.js"),
    },
    Asset {
        name: "keys.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/keys.css"),
    },
    // uPlot for the power chart: pinned, MIT, ~50 KB (assets/vendor/README.md)
    Asset {
        name: "vendor/uPlot-1.6.32.iife.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/vendor/uPlot-1.6.32.iife.min.js"),
    },
    Asset {
        name: "vendor/uPlot-1.6.32.min.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/vendor/uPlot-1.6.32.min.css"),
    },
    Asset {
        name: "vendor/uPlot-LICENSE",
        content_type: "text/plain; charset=utf-8",
        body: include_str!("assets/vendor/uPlot-LICENSE"),
    },
    Asset {
        name: "words.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/words.js"),
    },
    Asset {
        name: "fleet.html",
        content_type: "text/html; charset=utf-8",
        body: include_str!("assets/fleet.html"),
    },
    Asset {
        name: "fleet.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/fleet.js"),
    },
    Asset {
        name: "fleet.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/fleet.css"),
    },
];

/// The fleet page's event stream.
const FLEET_EVENTS: &str = "/sim/fleet/events";

/// Ends every dashboard event stream of the process (called when a server
/// stops): the charger page's and the fleet page's.
pub fn stop_streams() {
    events::stop_streams();
    fleet_events::stop_streams();
}

/// Answers `/sim/fleet/events` of a fleet (one [`fleet_events::Hub`] for all
/// its chargers, whichever charger's listener is asked); `None` for every
/// other path.
pub fn route_fleet(fleet: &crate::fleet::Fleet, method: &Method, path: &str) -> Option<Response> {
    if path != FLEET_EVENTS {
        return None;
    }
    Some(match only_get(method, path) {
        Some(refused) => refused,
        None => fleet_events::stream(fleet.ui_hub().clone()),
    })
}

/// The 405 of a method other than GET/HEAD on a dashboard path.
fn only_get(method: &Method, path: &str) -> Option<Response> {
    if method == Method::GET || method == Method::HEAD {
        return None;
    }
    let mut response = plain(
        StatusCode::METHOD_NOT_ALLOWED,
        "application/json",
        format!("{{\"error\":\"{method} is not allowed for {path}; use GET\"}}"),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    Some(response)
}

/// Answers the dashboard's paths (`/sim/ui`, `/sim/ui/…`, `/sim/events`,
/// `/sim/history` and `/sim/fleet/events` of a single charger);
/// `None` for every other path, which the control API answers as before.
pub fn route(device: &Arc<Device>, method: &Method, path: &str) -> Option<Response> {
    let is_ui = path == "/sim/ui" || path.starts_with("/sim/ui/");
    if !is_ui && path != "/sim/events" && path != "/sim/history" && path != FLEET_EVENTS {
        return None;
    }
    if let Some(refused) = only_get(method, path) {
        return Some(refused);
    }
    if path == "/sim/events" {
        return Some(events::stream(device.clone()));
    }
    if path == "/sim/history" {
        // the last hour of power flows, as the event stream's first frame has it
        let (history, _) = events::history(device, None);
        return Some(plain(
            StatusCode::OK,
            "application/json",
            history.to_string(),
        ));
    }
    if path == FLEET_EVENTS {
        // a single charger is a fleet of 1 (its own hub per page: no sharing to gain)
        return Some(fleet_events::stream(fleet_events::Hub::new(vec![
            device.clone(),
        ])));
    }
    if path == "/sim/ui" {
        let mut response = plain(StatusCode::MOVED_PERMANENTLY, "text/plain", String::new());
        response
            .headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/sim/ui/"));
        return Some(response);
    }
    let name = path.strip_prefix("/sim/ui/").unwrap_or("");
    let name = if name == "index.html" { "" } else { name };
    if name == "keys.json" {
        // the key metadata of this charger's firmware (ui/keys.rs)
        return Some(keys::response(device));
    }
    Some(match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) => {
            let mut response = Response::new(Body::from(asset.body));
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            );
            // the assets change with the binary: revalidate every time (cheap, local)
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            response
        }
        None => plain(
            StatusCode::NOT_FOUND,
            "application/json",
            format!("{{\"error\":\"no dashboard asset {path}\"}}"),
        ),
    })
}

fn plain(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}
