//! A charger as the server sees it: engine state, its durable store and its clock,
//! behind one lock.
//!
//! Architecture invariant: a write to a persisted key is on disk before
//! [`Device::set`] (and every other write path: [`Device::set_one`],
//! [`Device::apply_v1`], [`Device::sim`]) returns success, and a failed save
//! leaves both memory and disk as they were before the request. No lock is
//! held across a long simulated span ([`Device::advance`]).

use crate::clock::{AdvanceTurn, ClockMode, SimClock};
use crate::profiles::Profiles;
use crate::status_cache::StatusCache;
use axum::body::Bytes;
use goe_engine::{CarProfile, Charger, KeySet, SimTime};
use goe_keys::{Secret, SetError};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// What error texts show instead of a secret's raw value (the v1 API's mask):
/// the key table's one mask, re-exported for the interfaces.
pub use goe_keys::render::MASK;

/// Whether what is sent for `key` must never be echoed (passwords, keys).
pub fn is_secret(key: &str) -> bool {
    goe_keys::key(key).is_some_and(|d| d.secret != Secret::No)
}
use goe_store::{Document, Store, StoreError};
use parking_lot::Mutex;
use std::path::Path;
use std::sync::Arc;

/// Why a device could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The store could not be opened or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored configuration does not fit the key table.
    #[error("configuration in {path} cannot be loaded: {source}")]
    Engine {
        /// The store's file.
        path: String,
        /// What is wrong.
        source: goe_engine::EngineError,
    },
    /// The data directory belongs to another serial number.
    #[error("data directory {dir} belongs to charger {stored}, not {requested}")]
    SerialMismatch {
        /// The directory.
        dir: String,
        /// Serial in the store.
        stored: String,
        /// Serial asked for on the command line.
        requested: String,
    },
}

/// Whether the chargers of this process draw their cloud tokens from the
/// simulation seed and serial instead of OS entropy; see [`seeded_cloud_tokens`].
static SEEDED_CLOUD_TOKENS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Makes the cloud tokens (`cak`) of every charger opened after this call
/// follow the simulation seed and the serial (`goe-charger --seed S` given
/// explicitly: a reproducible run) instead of OS entropy (the default: a
/// token nobody can predict from the serial).
pub fn seeded_cloud_tokens(on: bool) {
    SEEDED_CLOUD_TOKENS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// 32 bytes from the OS for the cloud token generator; should the OS fail,
/// the host time and process id still make tokens differ between starts.
fn os_entropy() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    if getrandom::fill(&mut bytes).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        bytes[..16].copy_from_slice(&t.to_le_bytes());
        bytes[16..20].copy_from_slice(&std::process::id().to_le_bytes());
    }
    bytes
}

/// Serial used when neither the command line nor the store names one.
pub const DEFAULT_SERIAL: &str = "012345";

/// The ticker saves counters the logic changed (`eto`, card energies) at most
/// this often; control actions and API writes always save at once.
pub const STEP_SAVE_INTERVAL: Duration = Duration::from_secs(1);

/// Real time one slice of an advance steps the charger while holding its
/// lock (plus one save): other requests wait at most about this long.
pub const ADVANCE_SLICE_BUDGET: Duration = Duration::from_millis(20);

/// Simulated time stepped between two looks at the slice's real-time budget.
const ADVANCE_CHUNK_MS: i64 = 60_000;

/// Longest single `/sim/advance`: ten years.
pub const MAX_ADVANCE_MS: i64 = 10 * 366 * 24 * 3600 * 1000;

/// The refusal of an advance out of range (one text for device and fleet).
const ADVANCE_RANGE: &str = "seconds must be more than 0 and at most 10 years (316224000)";

/// The one range check of `/sim/advance` (device and fleet): 1 ms up to
/// [`MAX_ADVANCE_MS`].
pub fn check_advance_ms(ms: i64) -> Result<(), SimFailure> {
    if (1..=MAX_ADVANCE_MS).contains(&ms) {
        Ok(())
    } else {
        Err(SimFailure::BadRequest(ADVANCE_RANGE.into()))
    }
}

/// The `seconds` of `/sim/advance` as checked milliseconds (rounded to the
/// millisecond); the refusal names the value given.
pub fn advance_ms(seconds: f64) -> Result<i64, SimFailure> {
    let ms = (seconds * 1000.0).round();
    if !(seconds > 0.0 && ms >= 1.0 && ms <= MAX_ADVANCE_MS as f64) {
        return Err(SimFailure::BadRequest(format!(
            "{ADVANCE_RANGE}, got {seconds}"
        )));
    }
    check_advance_ms(ms as i64)?;
    Ok(ms as i64)
}

struct Inner {
    charger: Charger,
    store: Store,
    /// The logic changed persisted values that are not saved yet.
    dirty: bool,
    /// When the ticker last saved.
    last_step_save: Option<Instant>,
    /// The ticker's last save failed (logged once per streak of failures).
    save_failing: bool,
    /// Rendered `/api/status` answers, reused while nothing they show changed.
    status_cache: StatusCache,
    /// The last `deltaStatus` frame, shared by WebSocket watchers that saw the
    /// same generation (a fan-out to 100 watchers renders it once).
    ws_delta: Option<SharedDelta>,
    /// Modbus AMPERE_VOLATILE (#15): `amp` as saved while the charger runs
    /// on a volatile one (the written value, the saved JSON).
    volatile_amp: Option<(goe_keys::Value, serde_json::Value)>,
    /// `--replay` (#17): the trace sets the values instead of the logic.
    replay: Option<crate::replay::Replay>,
}

/// A rendered `deltaStatus`: the changes after generation `since` up to `at`.
struct SharedDelta {
    since: u64,
    at: u64,
    frame: Option<Utf8Bytes>,
}

/// One virtual charger served over the network.
pub struct Device {
    inner: Mutex<Inner>,
    /// Tells push channels (MQTT, WebSocket) that values may have changed;
    /// carries the charger's generation.
    changes: tokio::sync::watch::Sender<u64>,
    /// Hash of the empty password, used for WebSocket authentication while
    /// no password is set (computed on first use: PBKDF2 is slow on purpose).
    empty_password_hash: std::sync::OnceLock<String>,
    clock: Arc<SimClock>,
    seed: u64,
    profiles: Profiles,
    /// The firmware this charger is (fixed for its life): read without the lock.
    firmware: &'static goe_keys::Profile,
    /// This process's claim on the data directory (`None` inside a fleet,
    /// whose root is claimed by the [`crate::fleet::Fleet`]).
    _dir_lock: Option<goe_store::DirLock>,
    /// Open HTTP connections of this charger's server (shown in `wcch`).
    http_clients: std::sync::atomic::AtomicI64,
    /// The Modbus TCP slave's listen address and state (#15).
    modbus: crate::modbus::Slot,
}

/// A change to the simulated world (`/sim/…`).
#[derive(Debug, Clone, PartialEq)]
pub enum SimAction {
    /// Plug in a car of `profile` at `soc` percent.
    Plug {
        /// The car.
        profile: CarProfile,
        /// State of charge in percent.
        soc: f64,
    },
    /// Unplug the car.
    Unplug,
    /// Swipe the RFID card of a slot (0..=9).
    Rfid(usize),
    /// Present an RFID card by its id (OCPP idTag, #14).
    RfidId(String),
    /// Press the button.
    Button,
    /// Move a manual clock forward by this many milliseconds.
    Advance(i64),
    /// Set PV, house and home-battery power; `None` keeps a value.
    Grid {
        /// PV production in W.
        pv_w: Option<f64>,
        /// House consumption in W.
        house_w: Option<f64>,
        /// Battery power in W (negative = charging).
        battery_w: Option<f64>,
    },
    /// Add, change or (capacity 0) remove the home battery.
    Battery(goe_engine::BatterySettings),
    /// Inject a fault (`err` code; 0 clears).
    Fault(u8),
    /// Set the ambient temperature in °C.
    Temperature(f64),
    /// Switch the legacy access mode (`ast`) or turn it off.
    LegacyAccess(Option<u8>),
}

/// Why a control action failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimFailure {
    /// The request cannot be carried out (HTTP 400).
    #[error("{0}")]
    BadRequest(String),
    /// The result could not be saved; nothing changed (HTTP 500).
    #[error("{0}")]
    NotPersisted(String),
}

/// The answer to an `/api/set` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetReply {
    /// The JSON body: one entry per key, `true` or the error text.
    pub body: String,
    /// Whether every key succeeded (HTTP 200) or not (500).
    pub all_ok: bool,
}

/// The OCPP client's state for `/sim/state` (`null` on a firmware without
/// OCPP): the connection, the connector status and the transaction.
fn ocpp_state(charger: &Charger) -> serde_json::Value {
    if charger.value("ocppe").is_none() {
        return serde_json::Value::Null;
    }
    let key = |k: &str| {
        charger
            .value(k)
            .map_or(serde_json::Value::Null, goe_keys::Value::to_serde_exact)
    };
    serde_json::json!({
        "enabled": key("ocppe"),
        "started": key("ocpps"),
        "connected": key("ocppc"),
        "accepted": key("ocppa"),
        "connector_status": key("ocppcs"),
        "transaction_id": key("ocppti"),
        "last_error": key("ocpple"),
    })
}

/// The firmware whose key table wrote the stores of the builds before
/// firmware profiles (they printed the 2021 table).
const STORE_FIRMWARE_BEFORE_PROFILES: &str = "051.4";

impl Device {
    /// Opens the charger stored in `data_dir` (creating it on first use), boots
    /// it (incrementing `rbc`) and saves the result before returning.
    ///
    /// The directory is claimed for this process (a second process on it is
    /// refused, naming the holder's pid: [`goe_store::DirLock`]). When the
    /// open fails and this process created the directory, it is removed
    /// again while still locked ([`goe_store::Claim`]): a start that never
    /// served leaves nothing behind, and a start refused because another
    /// process holds the directory never touches it.
    pub fn open(
        data_dir: &Path,
        serial: Option<&str>,
        clock: impl Into<Arc<SimClock>>,
        seed: u64,
    ) -> Result<Device, DeviceError> {
        Device::open_on(goe_keys::default_profile(), data_dir, serial, clock, seed)
    }

    /// [`Device::open`] for a charger of firmware `firmware` (`--firmware`).
    pub fn open_on(
        firmware: &'static goe_keys::Profile,
        data_dir: &Path,
        serial: Option<&str>,
        clock: impl Into<Arc<SimClock>>,
        seed: u64,
    ) -> Result<Device, DeviceError> {
        Device::open_in(firmware, data_dir, serial, clock.into(), seed, true)
    }

    /// [`Device::open`] for a directory inside one the caller has claimed
    /// already (a fleet's root, [`goe_store::DirLock`]): takes no lock of its own.
    pub fn open_claimed(
        firmware: &'static goe_keys::Profile,
        data_dir: &Path,
        serial: Option<&str>,
        clock: impl Into<Arc<SimClock>>,
        seed: u64,
    ) -> Result<Device, DeviceError> {
        Device::open_in(firmware, data_dir, serial, clock.into(), seed, false)
    }

    fn open_in(
        firmware: &'static goe_keys::Profile,
        data_dir: &Path,
        serial: Option<&str>,
        clock: Arc<SimClock>,
        seed: u64,
        lock: bool,
    ) -> Result<Device, DeviceError> {
        // removes the directory again if this start created it and fails
        let claim = if lock {
            goe_store::Claim::acquire(data_dir)?
        } else {
            goe_store::Claim::inside_claimed(data_dir)?
        };
        let mut device = Device::boot(firmware, data_dir, serial, clock, seed)?;
        device._dir_lock = claim.keep();
        Ok(device)
    }

    fn boot(
        firmware: &'static goe_keys::Profile,
        data_dir: &Path,
        serial: Option<&str>,
        clock: Arc<SimClock>,
        seed: u64,
    ) -> Result<Device, DeviceError> {
        let (mut store, doc) = Store::open_claimed(data_dir)?;
        // a clone stays the clone its store describes, unless started as
        // another one (`--clone-from` again) (#17)
        let firmware = match doc.as_ref().and_then(|d| d.clone.as_ref()) {
            Some(entry) if firmware.capture().is_none() => crate::clone::profile_from_store(entry)
                .map_err(|reason| StoreError::Corrupt {
                    path: store.path().to_owned(),
                    reason,
                })?,
            _ => firmware,
        };
        let serial = match (&doc, serial) {
            (Some(doc), Some(requested)) if doc.serial != requested => {
                return Err(DeviceError::SerialMismatch {
                    dir: data_dir.display().to_string(),
                    stored: doc.serial.clone(),
                    requested: requested.to_owned(),
                });
            }
            (Some(doc), _) => doc.serial.clone(),
            (None, Some(s)) => s.to_owned(),
            (None, None) => DEFAULT_SERIAL.to_owned(),
        };
        // a store another firmware wrote keeps what this firmware accepts,
        // like a firmware update; the same firmware's store is taken strictly
        let migrated = doc.as_ref().and_then(|d| {
            let written_by = d.firmware.as_deref().unwrap_or(STORE_FIRMWARE_BEFORE_PROFILES);
            (goe_keys::Firmware::parse(written_by) != Some(firmware.firmware)).then(|| {
                let (kept, dropped) = goe_engine::migrate_stored(firmware, &serial, &d.values);
                if !dropped.is_empty() {
                    tracing::warn!(
                        from = written_by,
                        to = %firmware.firmware,
                        settings = %dropped.join(","),
                        "firmware changed: settings this firmware does not have or accept are back to their defaults"
                    );
                }
                kept
            })
        });
        let stored = migrated.as_ref().or(doc.as_ref().map(|d| &d.values));
        let mut charger =
            Charger::boot_on(firmware, &serial, stored, clock.now(), seed).map_err(|source| {
                DeviceError::Engine {
                    path: store.path().display().to_string(),
                    source,
                }
            })?;
        // cloud tokens (`cak`) come from the OS unless `--seed` asked for
        // a reproducible run (#15)
        if !SEEDED_CLOUD_TOKENS.load(std::sync::atomic::Ordering::Relaxed) {
            charger.seed_cloud_tokens(os_entropy());
        }
        charger.ensure_cloud_token();
        save(&mut store, &charger)?;
        let (changes, _) = tokio::sync::watch::channel(charger.generation());
        let empty_password_hash = std::sync::OnceLock::new();
        Ok(Device {
            changes,
            empty_password_hash,
            inner: Mutex::new(Inner {
                charger,
                store,
                dirty: false,
                last_step_save: None,
                save_failing: false,
                status_cache: StatusCache::default(),
                ws_delta: None,
                volatile_amp: None,
                replay: None,
            }),
            clock,
            seed,
            http_clients: std::sync::atomic::AtomicI64::new(0),
            modbus: crate::modbus::Slot::default(),
            profiles: Profiles::builtin(),
            firmware,
            _dir_lock: None,
        })
    }

    /// The device with `profiles` available to `/sim/plug`.
    pub fn with_profiles(mut self, profiles: Profiles) -> Device {
        self.profiles = profiles;
        self
    }

    /// The device replaying `replay` (`--replay`, #17): its status is put
    /// now, its changes follow the clock; the logic no longer runs.
    pub fn with_replay(self, mut replay: crate::replay::Replay) -> Device {
        let generation = {
            let mut inner = self.inner.lock();
            replay.begin(&mut inner.charger);
            inner.replay = Some(replay);
            inner.step(self.clock.now());
            inner.charger.generation()
        };
        self.notify(generation);
        self
    }

    /// Whether a replay sets `key` (server-owned status keys keep the trace's value).
    fn replay_owns(&self, key: &str) -> bool {
        self.inner
            .lock()
            .replay
            .as_ref()
            .is_some_and(|r| r.owns(key))
    }

    /// The car profiles `/sim/plug` accepts.
    pub fn profiles(&self) -> &Profiles {
        &self.profiles
    }

    /// The firmware profile this charger runs (`--firmware`).
    pub fn firmware(&self) -> &'static goe_keys::Profile {
        self.firmware
    }

    /// The seed the charger was booted with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The device's clock.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// The charger's serial.
    pub fn serial(&self) -> String {
        self.inner.lock().charger.serial().to_owned()
    }

    /// Runs the once-a-second logic up to now. Saves counters the logic
    /// changed, at most every [`STEP_SAVE_INTERVAL`] (the rest is saved by the
    /// next save or [`Device::flush`]). Blocking (fsync): call from a blocking
    /// context.
    pub fn step(&self) {
        self.step_with(|| self.clock.now());
    }

    /// Steps to the time `now()` gives, read under the lock so no answer shows
    /// an older time than one before it; saves at most every
    /// [`STEP_SAVE_INTERVAL`]; notifies the push channels.
    fn step_with(&self, now: impl FnOnce() -> SimTime) {
        let mut inner = self.inner.lock();
        let now = now();
        if inner.step(now).persist {
            inner.dirty = true;
        }
        let due = inner
            .last_step_save
            .is_none_or(|at| at.elapsed() >= STEP_SAVE_INTERVAL);
        if inner.dirty && due {
            inner.last_step_save = Some(Instant::now());
            // A failed save keeps the values dirty: retried at the next
            // interval (and by every write, which saves them too).
            match inner.save() {
                Ok(()) if inner.save_failing => {
                    inner.save_failing = false;
                    tracing::info!("configuration saved again after failed saves");
                }
                Ok(()) => {}
                Err(e) if !inner.save_failing => {
                    inner.save_failing = true;
                    tracing::error!("{e}; counters stay unsaved, retrying every second");
                }
                Err(e) => tracing::debug!("{e}"),
            }
        }
        self.release_and_notify(inner);
    }

    /// Unlocks the device, then tells push channels about the charger's
    /// generation at that moment (the tail of every step, write and action).
    fn release_and_notify(&self, inner: parking_lot::MutexGuard<'_, Inner>) {
        let generation = inner.charger.generation();
        let modbus = crate::modbus::enabled(&inner.charger);
        drop(inner);
        self.modbus.observe(modbus);
        self.notify(generation);
    }

    /// Tells push channels that values changed (after steps, writes, actions).
    fn notify(&self, generation: u64) {
        self.changes.send_replace(generation);
    }

    /// A receiver that wakes whenever values may have changed.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Runs `f` on the charger at the current simulated time, under the lock.
    /// Keep `f` short: every API waits for it.
    pub fn with_charger<R>(&self, f: impl FnOnce(&mut Charger, SimTime) -> R) -> R {
        let mut inner = self.inner.lock();
        let now = self.clock.now();
        f(&mut inner.charger, now)
    }

    /// The stored password hash (or the empty password's when none is set).
    pub fn password_hash(&self) -> String {
        self.with_charger(|c, _| {
            c.value("pass")
                .and_then(goe_keys::Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| {
            self.empty_password_hash
                .get_or_init(|| goe_engine::secrets::password_hash("", &self.serial()))
                .clone()
        })
    }

    /// Whether `hashed` is still the password hash [`Device::password_hash`]
    /// gives (a WebSocket session closes when it is not).
    pub fn password_is(&self, hashed: &str) -> bool {
        let inner = self.inner.lock();
        self.password_matches(&inner.charger, hashed)
    }

    fn password_matches(&self, charger: &Charger, hashed: &str) -> bool {
        match charger.value("pass").and_then(goe_keys::Value::as_str) {
            Some(stored) => stored == hashed,
            // no password: only the empty one's hash (computed before any
            // session could authenticate with it)
            None => self.empty_password_hash.get().is_some_and(|h| h == hashed),
        }
    }

    /// The WebSocket `deltaStatus` frame for a watcher that has seen
    /// generation `seen` (`None` when nothing changed), and the generation it
    /// has seen afterwards. Watchers that saw the same generation share one
    /// rendering, unless something other than the clock keys changed since.
    /// `None` when the password is no longer `hashed`, the one the watcher
    /// authenticated with (checked under the same lock: no extra cost).
    pub fn websocket_delta(&self, seen: u64, hashed: &str) -> Option<(Option<Utf8Bytes>, u64)> {
        let mut inner = self.inner.lock();
        if !self.password_matches(&inner.charger, hashed) {
            return None;
        }
        let now = self.clock.now();
        let Inner {
            charger, ws_delta, ..
        } = &mut *inner;
        if let Some(shared) = ws_delta
            && shared.since == seen
            && !charger.changed_after(None, shared.at, &Charger::clock_keys())
        {
            return Some((shared.frame.clone(), shared.at));
        }
        let at = charger.generation();
        let keys = charger.changes_since(seen);
        let frame = goe_proto::ws::delta_status(charger, now, &keys).map(Utf8Bytes::from);
        *ws_delta = Some(SharedDelta {
            since: seen,
            at,
            frame: frame.clone(),
        });
        Some((frame, at))
    }

    /// Counts the open HTTP connections in `wcch` (`delta` = +1 on accept,
    /// −1 on close or upgrade to a WebSocket), where the firmware has `wcch`.
    pub fn http_clients(&self, delta: i64) {
        let n = self
            .http_clients
            .fetch_add(delta, std::sync::atomic::Ordering::AcqRel)
            + delta;
        if self.firmware.key("wcch").is_none() {
            return; // 055+ has no wcch: never wait for the charger's lock
        }
        if self.replay_owns("wcch") {
            return;
        }
        let shown = n.clamp(0, i64::from(u8::MAX));
        let generation = self.with_charger(|c, _| {
            c.set_status("wcch", goe_keys::Value::Int(shown))
                .then(|| c.generation())
        });
        if let Some(generation) = generation {
            self.notify(generation);
        }
    }

    /// Counts WebSocket clients in `wccw` (`delta` = +1 on connect, −1 on close).
    pub fn websocket_clients(&self, delta: i64) {
        if self.replay_owns("wccw") {
            return;
        }
        let generation = self.with_charger(|c, _| {
            let n = c
                .value("wccw")
                .and_then(goe_keys::Value::as_i64)
                .unwrap_or(0);
            c.set_status("wccw", goe_keys::Value::Int((n + delta).max(0)));
            c.generation()
        });
        self.notify(generation);
    }

    /// The MQTT settings (`mce`, `mcu`, `mtp`, `mcr`; the TLS keys for an
    /// `mqtts://` URL).
    pub fn mqtt_config(&self) -> crate::mqtt::MqttConfig {
        self.with_charger(|c, _| {
            let text = |k: &str| {
                c.value(k)
                    .and_then(goe_keys::Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let flag = |k: &str| c.value(k).and_then(goe_keys::Value::as_bool) == Some(true);
            let url = text("mcu");
            // (plain connections never copy or compare the certificates)
            let tls = if url.starts_with("mqtts://") {
                crate::tls::TlsSettings {
                    server_cert: text("msc"),
                    client_cert: text("mqcc"),
                    client_key: text("mck"),
                    global_ca: flag("mqg"),
                    skip_verification: flag("mqss"),
                    skip_name_check: flag("mqcn"),
                }
            } else {
                crate::tls::TlsSettings::default()
            };
            crate::mqtt::MqttConfig {
                enabled: flag("mce"),
                url,
                prefix: text("mtp"),
                read_only: flag("mcr"),
                tls,
            }
        })
    }

    /// Reports the MQTT client's state in `mcs`, `mcc`, `mcca`, `mlr`, `mlra`.
    pub fn mqtt_status(&self, started: bool, connected: bool, error: Option<String>) {
        if self.replay_owns("mcc") {
            return;
        }
        use goe_keys::Value;
        let generation = self.with_charger(|c, now| {
            let rbt = c.millis_since_boot(now);
            let was_connected = c.value("mcc").and_then(Value::as_bool) == Some(true);
            c.set_status("mcs", Value::Bool(started));
            c.set_status("mcc", Value::Bool(connected));
            if connected && !was_connected {
                c.set_status("mcca", Value::Int(rbt));
            }
            if !connected {
                c.set_status("mcca", Value::Null);
            }
            if let Some(e) = error {
                c.set_status("mlr", Value::Str(e));
                c.set_status("mlra", Value::Int(rbt));
            }
            c.generation()
        });
        self.notify(generation);
    }

    /// Runs an action of a protocol client on the charger (an OCPP command):
    /// steps to now, runs `f`, and saves before returning when persisted
    /// values changed (a failed save undoes the action). Blocking (fsync).
    pub fn act<R>(&self, f: impl FnOnce(&mut Charger, SimTime) -> R) -> Result<R, StoreError> {
        let mut inner = self.inner.lock();
        let now = self.clock.now();
        if inner.step(now).persist {
            inner.dirty = true;
        }
        let before = inner.charger.clone();
        let stored = inner.charger.persisted_values();
        let result = f(&mut inner.charger, now);
        if (inner.dirty || inner.charger.persisted_values() != stored)
            && let Err(e) = inner.save()
        {
            inner.charger = before;
            drop(inner);
            return Err(e);
        }
        self.release_and_notify(inner);
        Ok(result)
    }

    /// Changes status keys the server owns (`f` returns whether anything
    /// changed): watchers are woken only then, so a client reporting the
    /// same state again costs nobody a wake-up.
    pub fn update_status(&self, f: impl FnOnce(&mut Charger, SimTime) -> bool) {
        let changed = self.with_charger(|c, now| f(c, now).then(|| c.generation()));
        if let Some(generation) = changed {
            self.notify(generation);
        }
    }

    /// The charger's data directory (its store, the OCPP queue).
    pub fn data_dir(&self) -> Option<std::path::PathBuf> {
        self.inner.lock().store.path().parent().map(Into::into)
    }

    /// Applies writes in order like `/api/set` (one save), one result per
    /// distinct key: a clone's settings (`--clone-from`). Blocking (fsync).
    pub fn set_each(&self, pairs: &[(String, String)]) -> Vec<(String, Result<(), SetError>)> {
        self.apply_writes(pairs)
    }

    /// Applies one write (MQTT `/set`, WebSocket `setValue`) like `/api/set`
    /// does, saving before returning. Blocking (fsync).
    pub fn set_one(&self, key: &str, raw: &str) -> Result<(), SetError> {
        let pairs = [(key.to_owned(), raw.to_owned())];
        let results = self.apply_writes(&pairs);
        results
            .into_iter()
            .next()
            .map_or(Ok(()), |(_, result)| result)
    }

    /// Applies an API v1 `key=value` payload, saving when configuration changed.
    /// On a failed save nothing changed (memory is restored) and the error is
    /// returned: the v1 API must not answer a write it could not persist.
    /// Blocking (fsync).
    pub fn apply_v1(&self, payload: &str) -> Result<(), StoreError> {
        let mut inner = self.inner.lock();
        let now = self.clock.now();
        let before = inner.charger.clone();
        let mut result = Ok(());
        if (goe_proto::v1::apply_payload(&mut inner.charger, now, payload) || inner.dirty)
            && let Err(e) = inner.save()
        {
            tracing::error!("{e}");
            inner.charger = before;
            result = Err(e);
        } else if let Inner {
            charger,
            replay: Some(replay),
            ..
        } = &mut *inner
        {
            replay.took_over(&before, charger);
        }
        self.release_and_notify(inner);
        result
    }

    /// Steps the logic up to `target` (a fleet's shared second), saving like
    /// [`Device::step`]. Blocking (fsync).
    pub fn step_until(&self, target: SimTime) {
        self.step_with(|| target);
    }

    /// Saves what the logic changed and is not saved yet, now (a fleet
    /// advance's slice end); the error when that failed (still unsaved).
    /// Blocking (fsync).
    pub fn save_now(&self) -> Result<(), StoreError> {
        let mut inner = self.inner.lock();
        if inner.dirty { inner.save() } else { Ok(()) }
    }

    /// Saves what the logic changed and is not saved yet (at shutdown).
    pub fn flush(&self) {
        let mut inner = self.inner.lock();
        if inner.dirty
            && let Err(e) = inner.save()
        {
            tracing::error!("{e}");
        }
    }

    /// `/sim/state`: the engine's snapshot plus the clock, as JSON.
    pub fn sim_state(&self) -> String {
        let mut inner = self.inner.lock();
        let now = self.clock.now();
        if inner.step(now).persist {
            inner.dirty = true;
        }
        self.render_state(&inner.charger, now)
    }

    fn render_state(&self, charger: &Charger, now: SimTime) -> String {
        let mut state = serde_json::to_value(charger.sim_state(now))
            .unwrap_or_else(|_| serde_json::Value::Object(Default::default()));
        if let Some(obj) = state.as_object_mut() {
            let clock = match self.clock.mode() {
                ClockMode::Manual => {
                    serde_json::json!({"mode": "manual", "speed": null, "paused": null})
                }
                ClockMode::Real { speed } => serde_json::json!({
                    "mode": "real",
                    "speed": speed,
                    "paused": self.clock.is_paused()
                }),
            };
            obj.insert("clock".into(), clock);
            obj.insert("ocpp".into(), ocpp_state(charger));
            obj.insert("modbus".into(), self.modbus.state_json());
        }
        state.to_string()
    }

    /// Carries out a control action at the current simulated time (the logic
    /// is stepped up to now first; `Advance` goes to [`Device::advance`]) and
    /// saves before returning when persisted values changed; a failed save
    /// undoes the action ([`SimFailure::NotPersisted`]). Returns `/sim/state`.
    /// Blocking (fsync, long advances): call from a blocking context.
    pub fn sim(&self, action: SimAction) -> Result<String, SimFailure> {
        if let SimAction::Advance(ms) = action {
            // async callers take the turn before `spawn_blocking` instead
            return self.advance(ms, self.clock.advance_turn_blocking());
        }
        let mut inner = self.inner.lock();
        let now = self.clock.now();
        if inner.step(now).persist {
            inner.dirty = true;
        }
        let before = inner.charger.clone();
        let stored = inner.charger.persisted_values();
        let bad = |e: goe_engine::SimError| SimFailure::BadRequest(e.to_string());
        let Inner { charger, .. } = &mut *inner;
        match action {
            SimAction::Plug { profile, soc } => charger.plug(now, profile, soc).map_err(bad)?,
            SimAction::Unplug => charger.unplug(now).map_err(bad)?,
            SimAction::Rfid(slot) => charger.swipe_card(now, slot).map_err(bad)?,
            SimAction::RfidId(id) => charger.swipe_id(now, &id).map_err(bad)?,
            SimAction::Button => charger.press_button(now),
            SimAction::Advance(_) => unreachable!("handled by Device::advance"),
            SimAction::Grid {
                pv_w,
                house_w,
                battery_w,
            } => charger
                .set_grid(now, pv_w, house_w, battery_w)
                .map_err(bad)?,
            SimAction::Battery(settings) => charger.set_battery(now, &settings).map_err(bad)?,
            SimAction::Fault(err) => charger.inject_fault(now, err).map_err(bad)?,
            SimAction::Temperature(c) => charger.set_ambient(now, c).map_err(bad)?,
            SimAction::LegacyAccess(ast) => charger.set_legacy_access(now, ast).map_err(bad)?,
        }
        if (inner.dirty || inner.charger.persisted_values() != stored)
            && let Err(e) = inner.save()
        {
            tracing::error!("{e}");
            inner.charger = before;
            return Err(SimFailure::NotPersisted(format!("not persisted: {e}")));
        }
        let state = self.render_state(&inner.charger, now);
        self.release_and_notify(inner);
        Ok(state)
    }

    /// `/sim/advance` on this device: moves the manual clock forward by `ms`
    /// in slices, each holding the device lock for at most
    /// [`ADVANCE_SLICE_BUDGET`] of stepping plus one save, so every other
    /// request is answered between two slices.
    ///
    /// Write order: a write (or any request) that gets the lock between two
    /// slices takes effect at the simulated time the advance has reached
    /// (the clock's time then, the end of the last finished slice); the
    /// remaining slices run with it in force.
    ///
    /// Durability: each slice is saved before the clock moves on to it. When
    /// a save fails, that slice is undone (memory and clock as before it; no
    /// request ever saw it) and the advance stops with
    /// [`SimFailure::NotPersisted`], naming how far it got; the slices before
    /// it are on disk. Two advances never interleave: the caller holds the
    /// clock's [`AdvanceTurn`] (taken in the async handler, so a queued
    /// advance holds no blocking thread). Blocking: call from a blocking context.
    pub fn advance(&self, ms: i64, _turn: AdvanceTurn) -> Result<String, SimFailure> {
        check_advance_ms(ms)?;
        let bad_clock = |e: crate::clock::ClockError| SimFailure::BadRequest(e.to_string());
        let start = self.clock.now();
        let target = self.clock.target(ms).map_err(bad_clock)?;
        loop {
            let mut inner = self.inner.lock();
            let from = self.clock.now();
            if from >= target {
                let state = self.render_state(&inner.charger, from);
                self.release_and_notify(inner);
                return Ok(state);
            }
            let (before, was_dirty) = (inner.charger.clone(), inner.dirty);
            let stored = inner.charger.persisted_values();
            let began = Instant::now();
            let mut t = from;
            while t < target && began.elapsed() < ADVANCE_SLICE_BUDGET {
                t = t.plus_ms(ADVANCE_CHUNK_MS).min(target);
                if inner.step(t).persist {
                    inner.dirty = true;
                }
            }
            if (inner.dirty || inner.charger.persisted_values() != stored)
                && let Err(e) = inner.save()
            {
                tracing::error!("{e}");
                inner.charger = before;
                inner.dirty = was_dirty;
                drop(inner);
                let done = (from.millis() - start.millis()) as f64 / 1000.0;
                return Err(SimFailure::NotPersisted(format!(
                    "not persisted: {e}; the advance stopped after {done} of {} seconds \
                     (those are saved)",
                    ms as f64 / 1000.0
                )));
            }
            self.clock
                .advance(t.millis() - from.millis())
                .map_err(bad_clock)?;
            let generation = inner.charger.generation();
            // hand the lock to whoever waits (a request), not back to us
            parking_lot::MutexGuard::unlock_fair(inner);
            self.notify(generation);
        }
    }

    /// Whether a bool key is true right now (e.g. `hai`, `hla`).
    pub fn flag(&self, key: &str) -> bool {
        self.inner
            .lock()
            .charger
            .value(key)
            .and_then(goe_keys::Value::as_bool)
            .unwrap_or(false)
    }

    /// The status JSON, all readable keys or those in `filter`.
    pub fn status(&self, filter: Option<&KeySet>) -> Bytes {
        self.status_where(filter, None).unwrap_or_default()
    }

    /// `/api/status`: the status JSON, or `None` while the HTTP API is off
    /// (`hai` false) — checked under the same lock as the rendering.
    pub fn api_status(&self, filter: Option<&KeySet>) -> Option<Bytes> {
        self.status_where(filter, Some("hai"))
    }

    fn status_where(&self, filter: Option<&KeySet>, enabled_by: Option<&str>) -> Option<Bytes> {
        let mut inner = self.inner.lock();
        if let Some(flag) = enabled_by
            && inner.charger.value(flag).and_then(goe_keys::Value::as_bool) != Some(true)
        {
            return None;
        }
        // read the clock under the lock, so no answer shows an older time than one before it
        let now = self.clock.now();
        // a manual clock shared by a fleet may have moved without stepping us
        if self.clock.is_manual() && inner.step(now).persist {
            inner.dirty = true;
        }
        let Inner {
            charger,
            status_cache,
            ..
        } = &mut *inner;
        Some(status_cache.render(charger, now, filter))
    }

    /// Applies writes in order and persists before returning. Blocking (fsync):
    /// call from a blocking context.
    pub fn set(&self, pairs: &[(String, String)]) -> SetReply {
        self.set_refusing(pairs, &[])
    }

    /// [`Device::set`] of `pairs`, with `refused` (key and value as sent, and
    /// why) answered after them without being applied: what the HTTP layer
    /// could not even decode. One reply, rendered and masked like any other.
    /// Blocking (fsync): call from a blocking context.
    pub fn set_refusing(
        &self,
        pairs: &[(String, String)],
        refused: &[(String, String, SetError)],
    ) -> SetReply {
        let mut results = if pairs.is_empty() && !refused.is_empty() {
            Vec::new()
        } else {
            self.apply_writes(pairs)
        };
        let mut sent = pairs.to_vec();
        for (key, raw, error) in refused {
            sent.push((key.clone(), raw.clone()));
            results.push((key.clone(), Err(error.clone())));
        }
        let borrowed: Vec<(&str, Result<(), SetError>)> = results
            .iter()
            .map(|(k, r)| (k.as_str(), r.clone()))
            .collect();
        render_reply(&sent, &borrowed)
    }

    /// Applies writes in order (one result per distinct key, at its first
    /// position, with its last result) and saves before returning.
    fn apply_writes(&self, pairs: &[(String, String)]) -> Vec<(String, Result<(), SetError>)> {
        let mut inner = self.inner.lock();
        let now = self.clock.now();
        let before = inner.charger.clone();
        let mut results: Vec<(String, Result<(), SetError>)> = Vec::with_capacity(pairs.len());
        let (mut persist, mut restart) = (false, false);
        let before_volatile = inner.volatile_amp.clone();
        for (key, raw) in pairs {
            let answer = inner
                .replay
                .as_ref()
                .and_then(|r| r.unknown_key_answer(key));
            if let Some(answer) = answer {
                match results.iter_mut().find(|(k, _)| k == key) {
                    Some(entry) => entry.1 = answer,
                    None => results.push((key.clone(), answer)),
                }
                continue;
            }
            let result = inner.charger.set(now, key, raw);
            if let (Ok(_), Some(replay)) = (&result, &mut inner.replay) {
                replay.written(key);
            }
            if let Ok(outcome) = &result {
                if key == "amp" {
                    // a persisted write of `amp` ends a Modbus volatile one
                    inner.volatile_amp = None;
                }
                persist |= outcome.persist;
                restart |= outcome.restart;
            }
            let result = result.map(|_| ());
            match results.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = result,
                None => results.push((key.clone(), result)),
            }
        }
        if restart {
            // a reboot loads `amp` from the EEPROM: a Modbus volatile one ends
            if let Some((_, saved)) = inner.volatile_amp.take() {
                let _ = inner.charger.set(now, "amp", &saved.to_string());
            }
            inner.charger.restart(now);
            persist = true;
        }
        if (persist || inner.dirty)
            && let Err(e) = inner.save()
        {
            tracing::error!("{e}");
            inner.charger = before;
            inner.volatile_amp = before_volatile;
            for (_, result) in results.iter_mut() {
                if result.is_ok() {
                    *result = Err(SetError::Rejected(format!("not persisted: {e}")));
                }
            }
        }
        self.release_and_notify(inner);
        results
    }
}

/// Modbus TCP (#15): the slave's settings and its writes.
impl Device {
    /// The Modbus slave's state (listen address, bound address).
    pub fn modbus(&self) -> &crate::modbus::Slot {
        &self.modbus
    }

    /// Runs a Modbus read on the charger as `/api/status` sees it at this
    /// instant (a fleet's manual clock stepped to now, the clock keys fresh).
    pub fn modbus_read<R>(&self, f: impl FnOnce(&Charger) -> R) -> R {
        let mut inner = self.inner.lock();
        let now = self.clock.now();
        if self.clock.is_manual() && inner.step(now).persist {
            inner.dirty = true;
        }
        inner.charger.refresh_clock(now);
        f(&inner.charger)
    }

    /// Applies the key writes of one Modbus function 16 request, all or
    /// nothing: every write through the same validation as `/api/set`; the
    /// persisted ones are saved before returning, a volatile `amp` is kept
    /// in memory only (the store keeps the saved one). `Err` names the
    /// first refusal (nothing changed). Blocking (fsync).
    pub fn modbus_write(&self, writes: &[goe_proto::modbus::KeyWrite]) -> Result<(), String> {
        let mut inner = self.inner.lock();
        let now = self.clock.now();
        if inner.step(now).persist {
            inner.dirty = true;
        }
        let before = inner.charger.clone();
        let before_volatile = inner.volatile_amp.clone();
        let mut persist = false;
        for w in writes {
            if w.key == "amp" {
                if w.volatile {
                    if inner.volatile_amp.is_none() {
                        let saved = inner.charger.persisted_values().get("amp").cloned();
                        let current = inner.charger.value("amp").cloned();
                        if let (Some(saved), Some(current)) = (saved, current) {
                            inner.volatile_amp = Some((current, saved));
                        }
                    }
                } else {
                    inner.volatile_amp = None;
                }
            }
            match inner.charger.set(now, w.key, &w.raw) {
                Ok(outcome) => persist |= outcome.persist && !w.volatile,
                Err(e) => {
                    inner.charger = before;
                    inner.volatile_amp = before_volatile;
                    drop(inner);
                    return Err(e.http_text(w.key, &w.raw));
                }
            }
            if w.volatile {
                let written = inner.charger.value("amp").cloned();
                if let (Some(written), Some((_, saved))) = (written, inner.volatile_amp.clone()) {
                    inner.volatile_amp = Some((written, saved));
                }
            }
        }
        if (persist || inner.dirty)
            && let Err(e) = inner.save()
        {
            tracing::error!("{e}");
            inner.charger = before;
            inner.volatile_amp = before_volatile;
            drop(inner);
            return Err(format!("not persisted: {e}"));
        }
        if let Some(replay) = &mut inner.replay {
            writes.iter().for_each(|w| replay.written(w.key));
        }
        self.release_and_notify(inner);
        Ok(())
    }
}

impl Inner {
    /// The charger's logic up to `now`, or a replay's recorded values (#17).
    fn step(&mut self, now: SimTime) -> goe_engine::StepOutcome {
        match &mut self.replay {
            Some(replay) => replay.step(&mut self.charger, now),
            None => self.charger.step(now),
        }
    }

    /// Saves the persisted values now; on success nothing is left unsaved.
    fn save(&mut self) -> Result<(), StoreError> {
        if let Some((written, saved)) = &self.volatile_amp {
            if self.charger.value("amp") == Some(written) {
                let mut values = self.charger.persisted_values();
                values.insert("amp".to_owned(), saved.clone());
                self.store.save(&Document {
                    serial: self.charger.serial().to_owned(),
                    firmware: Some(self.charger.profile().firmware.to_string()),
                    values,
                    clone: crate::clone::store_entry(self.charger.profile()),
                })?;
                self.dirty = false;
                return Ok(());
            }
            self.volatile_amp = None;
        }
        save(&mut self.store, &self.charger)?;
        self.dirty = false;
        Ok(())
    }
}

fn save(store: &mut Store, charger: &Charger) -> Result<(), StoreError> {
    store.save(&Document {
        serial: charger.serial().to_owned(),
        firmware: Some(charger.profile().firmware.to_string()),
        values: charger.persisted_values(),
        clone: crate::clone::store_entry(charger.profile()),
    })
}

fn render_reply(pairs: &[(String, String)], results: &[(&str, Result<(), SetError>)]) -> SetReply {
    let mut body = String::from("{");
    let mut all_ok = true;
    for (i, (key, result)) in results.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        goe_keys::value::write_string(key, &mut body);
        body.push(':');
        match result {
            Ok(()) => body.push_str("true"),
            Err(e) => {
                all_ok = false;
                // the raw text of the last occurrence of this key in the query
                let raw = pairs
                    .iter()
                    .rev()
                    .find(|(k, _)| k == key)
                    .map_or("", |(_, v)| v.as_str());
                // Never echo what was sent for a secret, not even in an error.
                let secret = goe_keys::key(key).is_some_and(|d| d.secret != Secret::No);
                let raw = if secret { MASK } else { raw };
                goe_keys::value::write_string(&e.http_text(key, raw), &mut body);
            }
        }
    }
    body.push('}');
    SetReply { body, all_ok }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(dir: &Path) -> Device {
        let clock = SimClock::manual(SimTime(1_726_644_683_457));
        Device::open(dir, Some("000777"), clock, 1).expect("open")
    }

    /// Watchers that saw the same generation get the very same frame; a
    /// write makes a new one that carries the written key.
    #[test]
    fn websocket_deltas_are_rendered_once_per_change() {
        let dir = tempfile::tempdir().unwrap();
        let device = device(dir.path());
        let seen = device.with_charger(|c, _| c.generation()) - 1;
        let hashed = device.password_hash();
        let delta = |seen| {
            device
                .websocket_delta(seen, &hashed)
                .expect("same password")
        };
        let set = device.set(&[("amp".to_owned(), "9".to_owned())]);
        assert!(set.all_ok, "{}", set.body);
        let (first, after_first) = delta(seen);
        let (second, after_second) = delta(seen);
        let (first, second) = (first.expect("a delta"), second.expect("a delta"));
        assert!(first.as_str().contains("\"amp\":9"), "{}", first.as_str());
        assert_eq!(after_first, after_second);
        assert_eq!(
            first.as_str().as_ptr(),
            second.as_str().as_ptr(),
            "shared, not re-rendered"
        );

        let set = device.set(&[("amp".to_owned(), "10".to_owned())]);
        assert!(set.all_ok, "{}", set.body);
        let (third, _) = delta(seen);
        let third = third.expect("a delta");
        assert!(third.as_str().contains("\"amp\":10"), "{}", third.as_str());
        let (fourth, _) = delta(after_first);
        assert!(fourth.expect("a delta").as_str().contains("\"amp\":10"));
    }
}
