//! The RFID cards seen twice: the `cards` array and, on firmware 60.x, the
//! per-card keys `c0n…c9n` (name), `c0e…c9e` (energy in Wh) and `c0i…c9i`
//! (the id, shown as learned or not).
//!
//! Real 060.5 units print both (syssi's 060.5 capture), so both must say the
//! same thing: `cards` is the one place the engine changes (RFID learning,
//! deleting, energy booking, writes to `cards`), and every change is copied to
//! the per-card keys; a write to a per-card key changes `cards` first. The
//! per-card keys of a firmware without them are kept in step too (never
//! printed), so nothing here depends on the version.

use crate::charger::Charger;
use crate::ids::k;
use goe_keys::{KeyId, Value, key_id};
use std::sync::LazyLock;

/// Number of card slots.
pub const SLOTS: usize = 10;

/// Per slot: the ids of `cXn`, `cXe`, `cXi`.
static CARD_KEYS: LazyLock<[[KeyId; 3]; SLOTS]> = LazyLock::new(|| {
    std::array::from_fn(|slot| {
        ["n", "e", "i"].map(|suffix| {
            let name = format!("c{slot}{suffix}");
            key_id(&name).unwrap_or_else(|| panic!("key {name} missing from the table"))
        })
    })
});

/// The `cards` field a per-card key mirrors, by the key's last letter.
const FIELDS: [&str; 3] = ["name", "energy", "cardId"];

/// The slot and `cards` field of a per-card key name (`c3e` → (3, "energy")).
pub fn per_card_key(name: &str) -> Option<(usize, &'static str)> {
    let b = name.as_bytes();
    if b.len() != 3 || b[0] != b'c' || !b[1].is_ascii_digit() {
        return None;
    }
    let field = match b[2] {
        b'n' => FIELDS[0],
        b'e' => FIELDS[1],
        b'i' => FIELDS[2],
        _ => return None,
    };
    Some(((b[1] - b'0') as usize, field))
}

impl Charger {
    /// Copies `cards` to the per-card keys (changes recorded as such).
    pub(crate) fn mirror_cards(&mut self) {
        let mut shown: Vec<[Value; 3]> = Vec::with_capacity(SLOTS);
        for slot in 0..SLOTS {
            let card = match &self.values[k().cards] {
                Value::Array(cards) => cards.get(slot),
                _ => None,
            };
            let field = |f: &str| card.and_then(|c| c.field(f));
            let name = field("name").cloned().unwrap_or(Value::Str(String::new()));
            let energy = match field("energy").and_then(Value::as_f64) {
                Some(wh) if wh > 0.0 => Value::Int(wh.round() as i64),
                _ => Value::Int(0),
            };
            let id = match field("cardId") {
                Some(Value::Str(s)) => Value::Str(s.clone()),
                _ => Value::Str(String::new()),
            };
            shown.push([name, energy, id]);
        }
        for (slot, values) in shown.into_iter().enumerate() {
            for (kid, value) in CARD_KEYS[slot].into_iter().zip(values) {
                self.put(kid, value);
            }
        }
    }

    /// Applies a validated write to a per-card key: `cards` first, then the mirror.
    pub(crate) fn set_per_card_key(&mut self, slot: usize, field: &'static str, value: Value) {
        if let Value::Array(cards) = self.put_mut(k().cards)
            && let Some(Value::Object(fields)) = cards.get_mut(slot)
        {
            match fields.iter_mut().find(|(name, _)| name == field) {
                Some((_, v)) => *v = value,
                None => fields.push((field.to_owned(), value)),
            }
        }
        self.mirror_cards();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_card_key_names() {
        assert_eq!(per_card_key("c0n"), Some((0, "name")));
        assert_eq!(per_card_key("c9e"), Some((9, "energy")));
        assert_eq!(per_card_key("c4i"), Some((4, "cardId")));
        for other in ["cch", "cid", "cfi", "cwc", "c0", "c10n", "cards", "c0x"] {
            assert_eq!(per_card_key(other), None, "{other}");
        }
    }
}
