//! A charger's key values, with the large factory defaults shared by every
//! charger of the process.
//!
//! A fleet runs thousands of chargers; most of them never change `wifis`,
//! `cards`, the scheduler's week or the LED patterns. Those defaults are 23 KB
//! of strings, arrays and objects per charger when each holds its own copy. So
//! a value that is still its (serial-independent) factory default points at
//! one process-wide copy, and is copied only when something writes it.

use crate::keyset::KeySet;
use goe_keys::{KEYS, KeyId, Lookup, Value};
use std::ops::{Index, IndexMut};
use std::sync::LazyLock;

/// Per key: the factory default every charger can share (values that own
/// memory and do not depend on the serial), or `None`.
static SHARED_DEFAULTS: LazyLock<Vec<Option<Value>>> = LazyLock::new(|| {
    KEYS.iter()
        .map(|def| {
            if def.default.contains("{serial}") {
                return None;
            }
            let value = goe_keys::default_value(def, "");
            let owns_memory = match &value {
                Value::Str(s) => !s.is_empty(),
                Value::Array(_) | Value::Object(_) => true,
                _ => false,
            };
            owns_memory.then_some(value)
        })
        .collect()
});

/// The values of one charger, indexed by [`KeyId`].
#[derive(Debug, Clone)]
pub(crate) struct Values {
    /// Own values; `Null` placeholders where `shared` holds the key.
    slots: Vec<Value>,
    /// Keys whose value is the shared factory default.
    shared: KeySet,
}

impl Values {
    /// Factory defaults for a charger with this serial.
    pub(crate) fn factory(serial: &str) -> Values {
        let mut values = Values {
            slots: Vec::with_capacity(KEYS.len()),
            shared: KeySet::new(),
        };
        for (kid, def) in KEYS.iter().enumerate() {
            if SHARED_DEFAULTS[kid].is_some() {
                values.shared.insert(kid);
                values.slots.push(Value::Null);
            } else {
                values.slots.push(goe_keys::default_value(def, serial));
            }
        }
        values
    }

    /// Replaces a value; a value equal to the shared default shares it again.
    pub(crate) fn set(&mut self, kid: KeyId, value: Value) {
        if SHARED_DEFAULTS[kid].as_ref() == Some(&value) {
            self.shared.insert(kid);
            self.slots[kid] = Value::Null;
        } else {
            self.shared.remove(kid);
            self.slots[kid] = value;
        }
    }

    /// Back to the factory default.
    pub(crate) fn reset(&mut self, kid: KeyId, serial: &str) {
        if SHARED_DEFAULTS[kid].is_some() {
            self.shared.insert(kid);
            self.slots[kid] = Value::Null;
        } else {
            self.slots[kid] = goe_keys::default_value(&KEYS[kid], serial);
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
            && let Some(shared) = &SHARED_DEFAULTS[kid]
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
            if let Some(shared) = &SHARED_DEFAULTS[kid] {
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
        let mut values = Values::factory(serial);
        assert!(values.shared_count() > 20, "{}", values.shared_count());
        for (kid, def) in KEYS.iter().enumerate() {
            assert_eq!(
                values[kid],
                goe_keys::default_value(def, serial),
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
        let other = Values::factory(serial);
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
