//! `/sim/events`: the charger's state as server-sent events, one JSON frame
//! per change of the device (its change watch), coalesced to at most
//! [`MAX_RATE`] frames a second so the page keeps up at any `--speed`.

use crate::device::Device;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// Most frames a second one stream sends.
pub const MAX_RATE: u64 = 10;

/// Keys whose enum value names the frame carries (from the key table), so the
/// page shows words without a copy of the table.
const NAMED: &[&str] = &[
    "car",
    "modelStatus",
    "err",
    "frc",
    "psm",
    "lmo",
    "cus",
    "ffb",
];

/// One frame: `serial`, the full `/api/status` object (`status`), `/sim/state`
/// (`sim`) and the enum names of `NAMED` keys (`names`).
pub fn frame(device: &Device) -> String {
    let status: Value = device
        .api_status(None)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let sim: Value = serde_json::from_str(&device.sim_state()).unwrap_or(Value::Null);
    let profile = device.firmware();
    let mut names = Map::new();
    for key in NAMED {
        let Some(value) = status.get(*key).and_then(Value::as_i64) else {
            continue;
        };
        if let Some(name) = profile.key(key).and_then(|(_, def)| def.enum_name(value)) {
            names.insert((*key).to_owned(), name.into());
        }
    }
    json!({ "serial": device.serial(), "status": status, "sim": sim, "names": names }).to_string()
}

/// Set once the process's HTTP servers stop: every stream ends then, so an
/// open dashboard does not hold the shutdown for its grace period.
static STOPPING: std::sync::LazyLock<tokio::sync::watch::Sender<bool>> =
    std::sync::LazyLock::new(|| tokio::sync::watch::channel(false).0);

/// Ends every event stream of the process (called when a server stops).
pub fn stop_streams() {
    STOPPING.send_replace(true);
}

/// The event stream of `device`: a frame at once, then one after each change.
pub fn stream(device: Arc<Device>) -> Response {
    let changes = device.subscribe();
    let stopping = STOPPING.subscribe();
    let frames = futures_util::stream::unfold(
        (device, changes, stopping, true),
        |(device, mut changes, mut stopping, first)| async move {
            if *stopping.borrow() {
                return None;
            }
            if !first {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(1000 / MAX_RATE)) => {}
                    _ = stopping.changed() => return None,
                }
                tokio::select! {
                    changed = changes.changed() => changed.ok()?,
                    _ = stopping.changed() => return None,
                }
            }
            changes.borrow_and_update();
            let d = device.clone();
            let data = tokio::task::spawn_blocking(move || frame(&d)).await.ok()?;
            let event = Event::default().event("state").data(data);
            Some((
                Ok::<_, Infallible>(event),
                (device, changes, stopping, false),
            ))
        },
    );
    Sse::new(frames)
        .keep_alive(KeepAlive::default())
        .into_response()
}
