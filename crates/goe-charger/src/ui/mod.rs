//! The web dashboard under `/sim/ui/` (issue #16): a page per charger served
//! from assets embedded in the binary (no CDN, no build step), fed live by
//! server-sent events on `/sim/events`. It lives in the control API's
//! namespace, so nothing a real client can reach outside `/sim/` changes.

pub mod events;
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
];

/// Answers the dashboard's paths (`/sim/ui`, `/sim/ui/…`, `/sim/events`,
/// `/sim/history`); `None` for every other path, which the control API
/// answers as before.
pub fn route(device: &Arc<Device>, method: &Method, path: &str) -> Option<Response> {
    let is_ui = path == "/sim/ui" || path.starts_with("/sim/ui/");
    if !is_ui && path != "/sim/events" && path != "/sim/history" {
        return None;
    }
    if method != Method::GET && method != Method::HEAD {
        let mut response = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "application/json",
            format!("{{\"error\":\"{method} is not allowed for {path}; use GET\"}}"),
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET"));
        return Some(response);
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
