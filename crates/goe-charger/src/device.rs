//! A charger as the server sees it: engine state, its durable store and its clock,
//! behind one lock.
//!
//! Architecture invariant: a write to a persisted key is on disk before
//! [`Device::set`] returns, and a failed save leaves both memory and disk as
//! they were before the request.

use crate::clock::SimClock;
use goe_engine::{Charger, KeySet};
use goe_keys::{Secret, SetError};

/// What error texts show instead of a secret's raw value (the v1 API's mask).
const MASK: &str = "********";
use goe_store::{Document, Store, StoreError};
use parking_lot::Mutex;
use std::path::Path;

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

/// Serial used when neither the command line nor the store names one.
pub const DEFAULT_SERIAL: &str = "012345";

struct Inner {
    charger: Charger,
    store: Store,
}

/// One virtual charger served over the network.
pub struct Device {
    inner: Mutex<Inner>,
    clock: SimClock,
}

/// The answer to an `/api/set` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetReply {
    /// The JSON body: one entry per key, `true` or the error text.
    pub body: String,
    /// Whether every key succeeded (HTTP 200) or not (500).
    pub all_ok: bool,
}

impl Device {
    /// Opens the charger stored in `data_dir` (creating it on first use), boots
    /// it (incrementing `rbc`) and saves the result before returning.
    pub fn open(
        data_dir: &Path,
        serial: Option<&str>,
        clock: SimClock,
    ) -> Result<Device, DeviceError> {
        let (mut store, doc) = Store::open(data_dir)?;
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
        let charger = Charger::boot(&serial, doc.as_ref().map(|d| &d.values), clock.now(), 0)
            .map_err(|source| DeviceError::Engine {
                path: store.path().display().to_string(),
                source,
            })?;
        save(&mut store, &charger)?;
        Ok(Device {
            inner: Mutex::new(Inner { charger, store }),
            clock,
        })
    }

    /// The device's clock.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// The charger's serial.
    pub fn serial(&self) -> String {
        self.inner.lock().charger.serial().to_owned()
    }

    /// Runs the once-a-second logic.
    pub fn step(&self) {
        let now = self.clock.now();
        self.inner.lock().charger.step(now);
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
    pub fn status(&self, filter: Option<&KeySet>) -> String {
        let mut out = String::with_capacity(if filter.is_some() { 512 } else { 12 * 1024 });
        let now = self.clock.now();
        self.inner
            .lock()
            .charger
            .write_status(now, filter, &mut out);
        out
    }

    /// Applies writes in order and persists before returning. Blocking (fsync):
    /// call from a blocking context.
    pub fn set(&self, pairs: &[(String, String)]) -> SetReply {
        let mut inner = self.inner.lock();
        let now = self.clock.now();
        let before = inner.charger.clone();
        let mut results: Vec<(&str, Result<(), SetError>)> = Vec::with_capacity(pairs.len());
        let (mut persist, mut restart) = (false, false);
        for (key, raw) in pairs {
            let result = inner.charger.set(now, key, raw);
            if let Ok(outcome) = &result {
                persist |= outcome.persist;
                restart |= outcome.restart;
            }
            let result = result.map(|_| ());
            match results.iter_mut().find(|(k, _)| *k == key.as_str()) {
                Some(entry) => entry.1 = result,
                None => results.push((key, result)),
            }
        }
        if restart {
            inner.charger.restart(now);
            persist = true;
        }
        if persist {
            let Inner { charger, store } = &mut *inner;
            if let Err(e) = save(store, charger) {
                tracing::error!("{e}");
                inner.charger = before;
                for (_, result) in results.iter_mut() {
                    if result.is_ok() {
                        *result = Err(SetError::Rejected(format!("not persisted: {e}")));
                    }
                }
            }
        }
        drop(inner);
        render_reply(pairs, &results)
    }
}

fn save(store: &mut Store, charger: &Charger) -> Result<(), StoreError> {
    store.save(&Document {
        serial: charger.serial().to_owned(),
        values: charger.persisted_values(),
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
