//! `/sim/fleet/events`: the fleet page's live feed, server-sent events of
//! compact charger summaries (not `/api/status`): a first frame with every
//! charger, then frames with only the chargers whose summary changed.
//!
//! One [`Hub`] per fleet does the work for every page watching it: at most
//! [`MAX_RATE`] times a second it looks at each charger's change watch (an
//! atomic read), reads only the chargers whose watch fired and whose summary
//! keys changed after its last reading (`Charger::changed_after`, the same
//! generations the status cache uses), renders each changed summary once and
//! sends the frame to every watcher through one bounded broadcast channel. A
//! watcher that falls more than [`BACKLOG`] frames behind gets a fresh first
//! frame instead of the missed ones, so memory stays bounded whatever the
//! page's connection does. The hub runs only while a page watches.

use crate::device::Device;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use goe_engine::{Charger, KeySet};
use goe_keys::Value;
use parking_lot::Mutex;
use serde::Serialize;
use std::convert::Infallible;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Most frames a second the hub sends.
pub const MAX_RATE: u64 = 10;

/// Frames a watcher may fall behind before it is sent a first frame again.
pub const BACKLOG: usize = 16;

/// The keys a summary is read from: a charger none of whose keys changed
/// after its last reading is not read again.
const SUMMARY_KEYS: &[&str] = &[
    "car",
    "modelStatus",
    "err",
    "nrg",
    "pha",
    "acu",
    "loe",
    "log",
    "lot",
    "loty",
];

static SUMMARY_SET: LazyLock<KeySet> = LazyLock::new(|| {
    let mut set = KeySet::new();
    for key in SUMMARY_KEYS {
        if let Some(kid) = goe_keys::key_id(key) {
            set.insert(kid);
        }
    }
    set
});

/// What the fleet page shows of one charger. Numbers are rounded (whole
/// watts, tenths of an ampere) so that noise below what a tile shows is no
/// change.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The charger's serial (`sse`).
    pub serial: String,
    /// `car` (car state).
    pub car: Option<i64>,
    /// The key table's name of `car`'s value.
    pub car_name: Option<&'static str>,
    /// `modelStatus`: why the charger charges or not.
    pub model_status: Option<i64>,
    /// The key table's name of `modelStatus`'s value.
    pub reason: Option<&'static str>,
    /// `err`.
    pub err: Option<i64>,
    /// The key table's name of `err`'s value.
    pub err_name: Option<&'static str>,
    /// Total power, W (`nrg[11]`).
    pub power_w: i64,
    /// The highest phase current, A (`nrg[4..7]`).
    pub amps: f64,
    /// Phases after the contactor (`pha[0..3]` that are on).
    pub phases: u8,
    /// Allowed current, A (`acu`).
    pub acu: Option<i64>,
    /// The load-balancing group (`log`) while `loe` is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The amps per phase this member's `lot` gives the group (the
    /// coordinator uses the smallest of the members').
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot: Option<i64>,
}

impl Summary {
    /// Reads the summary of `charger` (a few values; no rendering).
    pub fn read(charger: &Charger) -> Summary {
        let int = |key: &str| charger.value(key).and_then(Value::as_i64);
        let profile = charger.profile();
        let name = |key: &str, value: Option<i64>| {
            profile.key(key).and_then(|(_, def)| def.enum_name(value?))
        };
        let nrg = |i: usize| match charger.value("nrg") {
            Some(Value::Array(items)) => items.get(i).and_then(Value::as_f64).unwrap_or(0.0),
            _ => 0.0,
        };
        let phases = match charger.value("pha") {
            Some(Value::Array(items)) => items
                .iter()
                .take(3)
                .filter(|v| v.as_bool() == Some(true))
                .count() as u8,
            _ => 0,
        };
        let amps = (4..7).map(nrg).fold(0.0_f64, f64::max);
        let group = charger.load_group().map(str::to_owned);
        let lot = group.as_ref().map(|_| charger.load_total());
        let (car, model_status, err) = (int("car"), int("modelStatus"), int("err"));
        Summary {
            serial: charger.serial().to_owned(),
            car,
            car_name: name("car", car),
            model_status,
            reason: name("modelStatus", model_status),
            err,
            err_name: name("err", err),
            power_w: nrg(11).round() as i64,
            amps: (amps * 10.0).round() / 10.0,
            phases,
            acu: int("acu"),
            group,
            lot,
        }
    }
}

/// One charger as the hub last read it.
struct Row {
    changes: watch::Receiver<u64>,
    /// The charger's generation sealed after the last reading.
    sealed: u64,
    summary: Option<Summary>,
    /// `summary` as JSON.
    json: String,
}

struct State {
    /// Whether the hub's task runs (a page watches).
    running: bool,
    /// Frames sent so far.
    seq: u64,
    rows: Vec<Row>,
    /// The first frame at `seq`, shared by pages that open in between.
    full: Option<Arc<str>>,
}

/// The shared computation behind every fleet page of one fleet (or of one
/// charger, a fleet of 1).
pub struct Hub {
    devices: Vec<Arc<Device>>,
    state: Mutex<State>,
    frames: broadcast::Sender<Arc<str>>,
}

impl Hub {
    /// A hub over `devices` (in the order the page shows them); nothing runs
    /// until a page subscribes.
    pub fn new(devices: Vec<Arc<Device>>) -> Arc<Hub> {
        let rows = devices
            .iter()
            .map(|d| Row {
                changes: d.subscribe(),
                sealed: 0,
                summary: None,
                json: String::new(),
            })
            .collect();
        Arc::new(Hub {
            devices,
            state: Mutex::new(State {
                running: false,
                seq: 0,
                rows,
                full: None,
            }),
            frames: broadcast::channel(BACKLOG).0,
        })
    }

    /// Reads the charger of `row` if its summary keys changed; whether the
    /// summary is different.
    fn refresh(row: &mut Row, device: &Device) -> bool {
        let known = row.summary.is_some();
        let sealed = row.sealed;
        let read = device.with_charger(|c, _| {
            if known && !c.changed_after(Some(&SUMMARY_SET), sealed, &KeySet::new()) {
                return None;
            }
            Some((Summary::read(c), c.seal_generation()))
        });
        let Some((summary, sealed)) = read else {
            return false;
        };
        row.sealed = sealed;
        if row.summary.as_ref() == Some(&summary) {
            return false;
        }
        row.json = serde_json::to_string(&summary).unwrap_or_default();
        row.summary = Some(summary);
        true
    }

    /// One frame of `rows` (`full` for a first frame).
    fn frame<'a>(full: bool, seq: u64, rows: impl Iterator<Item = &'a Row>) -> Arc<str> {
        let mut out = format!("{{\"full\":{full},\"seq\":{seq},\"chargers\":[");
        for (i, row) in rows.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&row.json);
        }
        out.push_str("]}");
        out.into()
    }

    /// A first frame and the receiver of the frames after it; starts the
    /// hub's task if none runs. Blocking (reads every charger when starting).
    fn subscribe_blocking(self: &Arc<Hub>) -> (Arc<str>, broadcast::Receiver<Arc<str>>, bool) {
        let mut state = self.state.lock();
        let start = !state.running;
        if start {
            // nobody watched: every summary may be old
            for (row, device) in state.rows.iter_mut().zip(&self.devices) {
                row.changes.borrow_and_update();
                Hub::refresh(row, device);
            }
            state.full = None;
            state.running = true;
        }
        let full = match &state.full {
            Some(full) => full.clone(),
            None => {
                let full = Hub::frame(true, state.seq, state.rows.iter());
                state.full = Some(full.clone());
                full
            }
        };
        // under the lock: no frame is sent between the first frame and this
        let receiver = self.frames.subscribe();
        (full, receiver, start)
    }

    /// A first frame and the frames after it (async: the readings run on a
    /// blocking thread).
    async fn subscribe(self: &Arc<Hub>) -> Option<(Arc<str>, broadcast::Receiver<Arc<str>>)> {
        let hub = self.clone();
        let (full, receiver, start) = tokio::task::spawn_blocking(move || hub.subscribe_blocking())
            .await
            .ok()?;
        if start {
            tokio::spawn(self.clone().run());
        }
        Some((full, receiver))
    }

    /// The hub's task: a look at every charger [`MAX_RATE`] times a second
    /// until no page watches or the servers stop.
    async fn run(self: Arc<Hub>) {
        let mut stopping = STOPPING.subscribe();
        loop {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(1000 / MAX_RATE)) => {}
                _ = stopping.changed() => {}
            }
            let hub = self.clone();
            let stop = *stopping.borrow();
            let go_on = tokio::task::spawn_blocking(move || hub.tick(stop))
                .await
                .unwrap_or(false);
            if !go_on {
                return;
            }
        }
    }

    /// Reads the chargers whose change watch fired and sends a frame of the
    /// changed summaries; `false` (and stopped) once nobody watches.
    fn tick(&self, stop: bool) -> bool {
        let mut state = self.state.lock();
        if stop || self.frames.receiver_count() == 0 {
            state.running = false;
            return false;
        }
        let mut changed = Vec::new();
        for (i, (row, device)) in state.rows.iter_mut().zip(&self.devices).enumerate() {
            if !row.changes.has_changed().unwrap_or(false) {
                continue;
            }
            row.changes.borrow_and_update();
            if Hub::refresh(row, device) {
                changed.push(i);
            }
        }
        if changed.is_empty() {
            return true;
        }
        state.seq += 1;
        state.full = None;
        let frame = Hub::frame(false, state.seq, changed.iter().map(|&i| &state.rows[i]));
        let _ = self.frames.send(frame);
        true
    }
}

/// Set once the process's HTTP servers stop: every fleet stream ends then.
static STOPPING: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::channel(false).0);

/// Ends every fleet stream of the process (called when a server stops).
pub fn stop_streams() {
    STOPPING.send_replace(true);
}

/// Where a watcher's stream is.
enum Step {
    /// Not subscribed yet (or again, after falling behind).
    Subscribe,
    /// Sending the frames of the hub.
    Follow(broadcast::Receiver<Arc<str>>),
}

/// The event stream of `hub`: `event: fleet` frames, the first with every
/// charger (`"full":true`), then only the changed ones.
pub fn stream(hub: Arc<Hub>) -> Response {
    let stopping = STOPPING.subscribe();
    let frames = futures_util::stream::unfold(
        (hub, Step::Subscribe, stopping),
        |(hub, step, mut stopping)| async move {
            if *stopping.borrow() {
                return None;
            }
            let (data, receiver) = match step {
                Step::Subscribe => {
                    let (full, receiver) = hub.subscribe().await?;
                    (full, receiver)
                }
                Step::Follow(mut receiver) => {
                    let next = tokio::select! {
                        next = receiver.recv() => next,
                        _ = stopping.changed() => return None,
                    };
                    match next {
                        Ok(frame) => (frame, receiver),
                        // fell behind: start over with a first frame
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            drop(receiver);
                            let (full, receiver) = hub.subscribe().await?;
                            (full, receiver)
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            };
            let event = Event::default().event("fleet").data(&*data);
            Some((
                Ok::<_, Infallible>(event),
                (hub, Step::Follow(receiver), stopping),
            ))
        },
    );
    Sse::new(frames)
        .keep_alive(KeepAlive::default())
        .into_response()
}
