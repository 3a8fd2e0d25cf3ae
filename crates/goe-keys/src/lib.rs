//! The go-eCharger API v2 key table, typed values and the JSON wire format.
//!
//! This crate is the project's single source of truth about keys. It does no
//! I/O and knows nothing of HTTP or MQTT:
//!
//! - [`def`]: what a key is ([`KeyDef`]: access, type, category, enums, unit, rule).
//! - [`table`]: every key in firmware registration order ([`KEYS`]).
//! - [`value`]: typed values and the firmware's number formatting.
//! - [`set`]: validation of writes with the firmware's error texts.
//! - [`stored`]: the same rules applied to values read back from the store.
//! - [`render`]: how values leave the charger (secrets masked).
//! - [`docs`]: the generated `docs/KEYS.md`.
//! - [`firmware`]: firmware versions and the ranges in which keys exist.
//! - [`pem`]: the check of PEM keys and certificates (`ocppck`, `ocppcc`, `ocppsc`).
//! - [`mod@profile`]: the table resolved for one firmware version (`--firmware`).
//! - [`capture`]: a real unit's saved `/api/status` body (`--clone-from`).

pub mod capture;
pub mod def;
pub mod docs;
pub mod firmware;
pub mod pem;
pub mod profile;
pub mod render;
pub mod set;
pub mod stored;
pub mod table;
pub mod value;

pub use capture::{Capture, CaptureError};
pub use def::{Access, Base, Category, JsonKind, KeyDef, Rule, Secret, ValueType};
pub use firmware::{Firmware, FwRange, fw};
pub use profile::{
    DEFAULT_FIRMWARE, Printed, Profile, UnknownFirmware, Verbatim, default_profile, profile,
    profiles,
};
pub use set::{JsonError, Lookup, SetError};
pub use table::KEYS;
pub use value::Value;

use std::collections::HashMap;
use std::sync::LazyLock;

/// Index of a key in [`KEYS`]; values are stored per charger in this order.
pub type KeyId = usize;

static INDEX: LazyLock<HashMap<&'static str, KeyId>> =
    LazyLock::new(|| KEYS.iter().enumerate().map(|(i, k)| (k.name, i)).collect());

/// The index of `name` in [`KEYS`], if the key exists (case-sensitive, like the firmware).
pub fn key_id(name: &str) -> Option<KeyId> {
    INDEX.get(name).copied()
}

/// The definition of `name`, if the key exists.
pub fn key(name: &str) -> Option<&'static KeyDef> {
    key_id(name).map(|i| &KEYS[i])
}

/// The factory value of a key for a charger with this serial on the default
/// firmware (see [`default_value_with`]).
pub fn default_value(def: &KeyDef, serial: &str) -> Value {
    default_value_with(def, serial, default_profile().fwv)
}

/// The factory value of a key: the table's default with its `{serial}` and
/// `{fwv}` placeholders filled in.
pub fn default_value_with(def: &KeyDef, serial: &str, fwv: &str) -> Value {
    let text = def
        .default
        .replace("{serial}", serial)
        .replace("{fwv}", fwv);
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(json) => narrow(def, Value::from_json(&json)),
        Err(_) => Value::Null,
    }
}

/// Brings a parsed value into the key's declared number representation
/// (e.g. `float` keys hold 32-bit floats, also inside arrays like `nrg`).
pub fn narrow(def: &KeyDef, value: Value) -> Value {
    fn to_float(v: Value) -> Value {
        match v {
            Value::Int(i) => Value::Float(i as f32),
            Value::UInt(u) => Value::Float(u as f32),
            Value::Double(d) => Value::Float(d as f32),
            Value::Array(a) => Value::Array(a.into_iter().map(to_float).collect()),
            other => other,
        }
    }
    match (def.base(), def.name) {
        (Base::Float, _) | (_, "nrg" | "tma") => to_float(value),
        (Base::Double, _) => match value {
            Value::Int(i) => Value::Double(i as f64),
            Value::UInt(u) => Value::Double(u as f64),
            other => other,
        },
        _ => value,
    }
}
