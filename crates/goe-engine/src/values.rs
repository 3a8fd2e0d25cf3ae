//! A charger's key values, with the large factory defaults shared by every
//! charger of the process.
//!
//! A fleet runs thousands of chargers; most of them never change `wifis`,
//! `cards`, the scheduler's week or the LED patterns. Those defaults are 23 KB
//! of strings, arrays and objects per charger when each holds its own copy. So
//! a value that is still its (serial-independent) factory default points at
//! one process-wide copy, and is copied only when something writes it.

use crate::keyset::KeySet;
use goe_keys::{KEYS, KeyDef, KeyId, Lookup, Profile, Value};
use std::ops::{Index, IndexMut};
use std::sync::LazyLock;

/// Per profile, per key: the factory default every charger of that firmware
/// can share (values that own memory and do not depend on the serial), or `None`.
static SHARED_DEFAULTS: LazyLock<Vec<Vec<Option<Value>>>> = LazyLock::new(|| {
    goe_keys::profiles()
        .iter()
        .map(|profile| {
            (0..KEYS.len())
                .map(|kid| {
                    let def = own_def(profile, kid);
                    // `{fwv}`: a clone of a real unit says its own version
                    // on its base profile's defaults (Profile::captured)
                    if def.default.contains("{serial}") || def.default.contains("{fwv}") {
                        return None;
                    }
                    let value = factory_value(profile, kid, "");
                    let owns_memory = match &value {
                        Value::Str(s) => !s.is_empty(),
                        Value::Array(_) | Value::Object(_) => true,
                        _ => false,
                    };
                    owns_memory.then_some(value)
                })
                .collect()
        })
        .collect()
});

/// The definition a charger of `profile` holds a key's value by: the
/// firmware's own, or for a key that firmware does not print, the table's
/// main one (the logic still keeps such values; no output shows them).
fn own_def(profile: &Profile, kid: KeyId) -> &'static KeyDef {
    profile.def(kid).unwrap_or(&KEYS[kid])
}

/// The factory value of a key on `profile` (see [`own_def`]).
fn factory_value(profile: &Profile, kid: KeyId, serial: &str) -> Value {
    goe_keys::default_value_with(own_def(profile, kid), serial, profile.fwv)
}

/// The values of one charger, indexed by [`KeyId`].
#[derive(Debug, Clone)]
pub(crate) struct Values {
    /// Own values; `Null` placeholders where `shared` holds the key.
    slots: Vec<Value>,
    /// Keys whose value is the shared factory default.
    shared: KeySet,
    /// The firmware whose defaults these are.
    profile: &'static Profile,
}

impl Values {
    /// Factory defaults for a charger with this serial on this firmware.
    pub(crate) fn factory(serial: &str, profile: &'static Profile) -> Values {
        let mut values = Values {
            slots: Vec::with_capacity(KEYS.len()),
            shared: KeySet::new(),
            profile,
        };
        for kid in 0..KEYS.len() {
            if values.shared_default(kid).is_some() {
                values.shared.insert(kid);
                values.slots.push(Value::Null);
            } else {
                values.slots.push(factory_value(profile, kid, serial));
            }
        }
        values
    }

    #[inline]
    fn shared_default(&self, kid: KeyId) -> Option<&'static Value> {
        SHARED_DEFAULTS[self.profile.index][kid].as_ref()
    }

    /// Replaces a value; a value equal to the shared default shares it again.
    pub(crate) fn set(&mut self, kid: KeyId, value: Value) {
        if self.shared_default(kid) == Some(&value) {
            self.shared.insert(kid);
            self.slots[kid] = Value::Null;
        } else {
            self.shared.remove(kid);
            self.slots[kid] = value;
        }
    }

    /// Back to the factory default.
    pub(crate) fn reset(&mut self, kid: KeyId, serial: &str) {
        if self.shared_default(kid).is_some() {
            self.shared.insert(kid);
            self.slots[kid] = Value::Null;
        } else {
            self.slots[kid] = factory_value(self.profile, kid, serial);
        }
    }

    /// The charger's own value, if it is not the shared default (writing
    /// through it needs no copy).
    #[inline]
    pub(crate) fn owned_mut(&mut self, kid: KeyId) -> Option<&mut Value> {
        if self.shared.contains(kid) {
            None
        } else {
            Some(&mut self.slots[kid])
        }
    }

    /// How many values are still the shared defaults (for tests).
    #[cfg(test)]
    pub(crate) fn shared_count(&self) -> usize {
        self.shared.len()
    }
}

impl Index<KeyId> for Values {
    type Output = Value;

    #[inline]
    fn index(&self, kid: KeyId) -> &Value {
        if self.shared.contains(kid)
            && let Some(shared) = self.shared_default(kid)
        {
            return shared;
        }
        &self.slots[kid]
    }
}

/// Mutable access copies a shared default first (copy on write).
impl IndexMut<KeyId> for Values {
    fn index_mut(&mut self, kid: KeyId) -> &mut Value {
        if self.shared.contains(kid) {
            self.shared.remove(kid);
            if let Some(shared) = self.shared_default(kid) {
                self.slots[kid] = shared.clone();
            }
        }
        &mut self.slots[kid]
    }
}

impl Lookup for Values {
    fn lookup(&self, key: &str) -> Option<&Value> {
        goe_keys::key_id(key).map(|kid| &self[kid])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_defaults_read_like_own_ones_and_copy_on_write() {
        let serial = "098765";
        let profile = goe_keys::default_profile();
        let mut values = Values::factory(serial, profile);
        assert!(values.shared_count() > 20, "{}", values.shared_count());
        for (kid, def) in profile.keys() {
            assert_eq!(
                values[kid],
                goe_keys::default_value_with(def, serial, profile.fwv),
                "{}",
                def.name
            );
        }
        let cards = goe_keys::key_id("cards").unwrap();
        assert!(values.owned_mut(cards).is_none());
        let before = values.shared_count();
        if let Value::Array(list) = &mut values[cards] {
            list.clear();
        }
        assert_eq!(values.shared_count(), before - 1);
        assert_eq!(values[cards], Value::Array(Vec::new()));
        // the shared copy is untouched
        let other = Values::factory(serial, profile);
        assert_ne!(other[cards], Value::Array(Vec::new()));
        values.set(cards, other[cards].clone());
        assert_eq!(
            values.shared_count(),
            before,
            "equal to the default: shared again"
        );
        values.reset(cards, serial);
        assert_eq!(values[cards], other[cards]);
    }
}
