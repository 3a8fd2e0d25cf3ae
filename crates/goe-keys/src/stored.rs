//! Validation of values read back from a charger's store (`config.json`).
//!
//! A stored value must satisfy the same rules as a write through the API
//! ([`crate::set::validate`], one rule source), so a hand-edited or damaged
//! document cannot smuggle in an `amp` of 200 or a 100,000-character `fna`.
//! Where it differs from an API write, it is because the firmware itself wrote
//! these values:
//!
//! - keys the API cannot write but the firmware persists (counters such as
//!   `rbc`, `eto`, `wh`) get their type and range checks, not the
//!   "without setter" refusal;
//! - a key's factory default is always valid (`wak` ships empty although a
//!   written key needs 8 to 63 characters);
//! - limits that depend on other keys (`amp` ≤ `ama`, `mca` ≤ `ama`) are
//!   not applied, only each key's own range: writing `ama` below `amp`
//!   through the API is accepted, and the charger must start again;
//! - `pass` is stored as its hash, not as the password the API takes, so only
//!   its type is checked.

use crate::def::{Access, KeyDef};
use crate::default_value;
use crate::set::{self, Lookup, SetError};
use crate::value::Value;

/// Checks a stored value of `def` against the key's type and rule, as the API
/// would check a write of it; `current` gives the other values already loaded
/// (the variant `var` sets the largest current); `serial` is the
/// charger's (some defaults contain it). Returns the value to keep.
pub fn validate_stored(
    def: &KeyDef,
    json: &serde_json::Value,
    serial: &str,
    current: &dyn Lookup,
) -> Result<Value, SetError> {
    let factory = default_value(def, serial);
    if factory.to_serde_exact() == *json {
        return Ok(factory);
    }
    if def.name == "pass" {
        // the firmware stores the password's hash; null = no password
        return match json {
            serde_json::Value::Null => Ok(Value::Null),
            serde_json::Value::String(s) => Ok(Value::Str(s.clone())),
            _ => Err(SetError::WrongType("string")),
        };
    }
    let mut as_firmware = *def;
    if !as_firmware.access.writable() {
        as_firmware.access = Access::ReadWrite;
    }
    let json = &migrated(def, json);
    set::validate(&as_firmware, json, &OwnLimits(current))
}

/// A value an older firmware stored for a key whose type changed since, in
/// the newer type (a firmware update keeps the configuration): a bool of a
/// key that is now an integer range (`bac`, `sdp` before 055.2) becomes the
/// range's top for `true` (the 2021 "allowed": NeverLock) and its bottom for
/// `false` (AlwaysLock). (`lot`'s old number is valid as it is.)
fn migrated(def: &KeyDef, json: &serde_json::Value) -> serde_json::Value {
    let was_bool = def.eras.iter().any(|e| e.base() == crate::def::Base::Bool);
    match (json, def.rule) {
        (serde_json::Value::Bool(b), crate::def::Rule::Range(min, max))
            if was_bool && def.base().int_range().is_some() =>
        {
            serde_json::Value::from(if *b { max } else { min })
        }
        _ => json.clone(),
    }
}

/// The charger's values without the ones other keys' limits depend on
/// (`mca`, `ama`), so `amp` and `mca` are checked against their own range
/// (6 to the variant's maximum) only: the API lets `amp` end up above a
/// later-lowered `ama`, and a charger must always start again with values
/// it accepted.
struct OwnLimits<'a>(&'a dyn Lookup);

impl Lookup for OwnLimits<'_> {
    fn lookup(&self, key: &str) -> Option<&Value> {
        match key {
            "mca" | "ama" => None,
            _ => self.0.lookup(key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KEYS, key};

    fn defaults() -> Vec<Value> {
        KEYS.iter().map(|d| default_value(d, "012345")).collect()
    }

    #[test]
    fn factory_defaults_of_persisted_keys_are_valid() {
        let current = defaults();
        for (def, value) in KEYS.iter().zip(&current) {
            if def.persisted() {
                let json = value.to_serde_exact();
                validate_stored(def, &json, "012345", &current)
                    .unwrap_or_else(|e| panic!("{}: {e} ({json})", def.name));
            }
        }
    }

    #[test]
    fn an_older_firmwares_bool_becomes_the_newer_lock_mode() {
        let current = defaults();
        let bac = key("bac").unwrap();
        assert_eq!(
            validate_stored(bac, &true.into(), "012345", &current),
            Ok(Value::Int(3))
        );
        assert_eq!(
            validate_stored(bac, &false.into(), "012345", &current),
            Ok(Value::Int(0))
        );
        let old = bac.on(crate::firmware::fw(51, 4)).unwrap();
        assert_eq!(
            validate_stored(old, &true.into(), "012345", &current),
            Ok(Value::Bool(true))
        );
    }

    #[test]
    fn api_rules_apply_and_counters_are_range_checked() {
        let current = defaults();
        let check = |k: &str, j: serde_json::Value| {
            validate_stored(key(k).unwrap(), &j, "012345", &current)
        };
        assert!(check("amp", 200.into()).is_err());
        assert!(check("amp", 13.into()).is_ok());
        assert!(check("rbc", (-1).into()).is_err());
        // amp above a lowered ama is what the API allows (ama written later)
        let mut lowered = defaults();
        lowered[crate::key_id("ama").unwrap()] = Value::Int(8);
        lowered[crate::key_id("mca").unwrap()] = Value::Int(8);
        // (051.4: amp within mca..the variant's maximum; newer: 6 to 32 A on every variant)
        let amp = key("amp").unwrap().on(crate::firmware::fw(51, 4)).unwrap();
        assert!(validate_stored(amp, &16.into(), "012345", &lowered).is_ok());
        assert!(validate_stored(amp, &17.into(), "012345", &lowered).is_err());
        let amp = key("amp").unwrap();
        assert!(validate_stored(amp, &20.into(), "012345", &lowered).is_ok());
        assert!(validate_stored(amp, &33.into(), "012345", &lowered).is_err());
        assert!(check("rbc", 7.into()).is_ok());
        assert!(check("fna", "x".repeat(100_000).into()).is_err());
        assert!(check("cid", "blue".into()).is_err());
        assert!(check("pass", "0123abcd".into()).is_ok());
        assert!(check("pass", 5.into()).is_err());
    }
}
