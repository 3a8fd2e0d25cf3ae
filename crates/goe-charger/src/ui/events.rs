//! `/sim/events`: the charger's state as server-sent events, one JSON frame
//! per change of the device (its change watch), coalesced to at most
//! [`MAX_RATE`] frames a second so the page keeps up at any `--speed`.
//! The first frame carries the whole power history (the last hour of
//! simulated time, `goe_engine::history`), later ones only newer samples,
//! so a page opened late still charts the whole hour.

use crate::device::Device;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use goe_engine::SimTime;
use goe_engine::history::{INTERVAL_MS, SERIES};
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

/// The power history (`/sim/history`, and the `history` of a frame): the
/// samples after `after` (all with `None`) in uPlot's column layout, `data`
/// = `[t, charging, pv, house, grid, battery]` with `t` in the charger's
/// wall-clock seconds (as `utc`) and powers in W; `full` says whether this is
/// the whole history (the page replaces its data) or only newer samples (it
/// appends them). Also returns the newest sample's simulated time, for the
/// next call's `after`.
pub fn history(device: &Device, after: Option<SimTime>) -> (Value, Option<SimTime>) {
    device.with_charger(|charger, _| {
        let mut columns: Vec<Vec<Value>> = vec![Vec::new(); 1 + SERIES.len()];
        let mut newest = after;
        for (t, powers) in charger.power_history().since(after) {
            let wall_ms = charger.wall_clock_ms(t);
            columns[0].push(json!(wall_ms.div_euclid(1000)));
            for (column, w) in columns[1..].iter_mut().zip(powers) {
                column.push(json!(w));
            }
            newest = Some(t);
        }
        let mut series = vec!["t"];
        series.extend(SERIES);
        let value = json!({
            "full": after.is_none(),
            "interval_s": INTERVAL_MS / 1000,
            "series": series,
            "data": columns,
        });
        (value, newest)
    })
}

/// One frame: `serial`, the full `/api/status` object (`status`), `/sim/state`
/// (`sim`) and the enum names of `NAMED` keys (`names`).
pub fn frame(device: &Device) -> String {
    frame_value(device).to_string()
}

/// [`frame`] as JSON.
fn frame_value(device: &Device) -> Value {
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
    json!({ "serial": device.serial(), "status": status, "sim": sim, "names": names })
}

/// A frame of the charger page's stream: [`frame`] plus the power history
/// after `after` (`history`: [`history`]); returns the newest sample's time
/// too, the next frame's `after`.
pub fn frame_with_history(device: &Device, after: Option<SimTime>) -> (String, Option<SimTime>) {
    let (history, newest) = history(device, after);
    let mut frame = frame_value(device);
    if let Some(obj) = frame.as_object_mut() {
        obj.insert("history".into(), history);
    }
    (frame.to_string(), newest)
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
        (device, changes, stopping, true, None),
        |(device, mut changes, mut stopping, first, after)| async move {
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
            let (data, after) = tokio::task::spawn_blocking(move || frame_with_history(&d, after))
                .await
                .ok()?;
            let event = Event::default().event("state").data(data);
            Some((
                Ok::<_, Infallible>(event),
                (device, changes, stopping, false, after),
            ))
        },
    );
    Sse::new(frames)
        .keep_alive(KeepAlive::default())
        .into_response()
}
