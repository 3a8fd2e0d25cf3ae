//! A set of keys as a bitset over the key table: filters cost no allocation
//! and iterate in registration order for free.

use goe_keys::{KEYS, KeyId};

const WORDS: usize = 8;

const VERBATIM_WORDS: usize = goe_keys::capture::MAX_VERBATIM / 64;

/// A set of [`KeyId`]s (up to 512 keys), plus the verbatim entries of a
/// captured profile ([`goe_keys::Printed::Verbatim`], up to
/// [`goe_keys::capture::MAX_VERBATIM`]) that a filter can name too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeySet {
    bits: [u64; WORDS],
    verbatim: [u64; VERBATIM_WORDS],
}

impl KeySet {
    /// The empty set.
    pub const fn new() -> Self {
        KeySet {
            bits: [0; WORDS],
            verbatim: [0; VERBATIM_WORDS],
        }
    }

    /// Adds a verbatim entry of a captured profile (by its index).
    pub fn insert_verbatim(&mut self, index: usize) {
        assert!(index < VERBATIM_WORDS * 64, "verbatim index out of range");
        self.verbatim[index / 64] |= 1 << (index % 64);
    }

    /// Whether the verbatim entry `index` is in the set.
    pub fn contains_verbatim(&self, index: usize) -> bool {
        index < VERBATIM_WORDS * 64 && self.verbatim[index / 64] & (1 << (index % 64)) != 0
    }

    /// Whether the set holds any verbatim entry.
    pub fn has_verbatim(&self) -> bool {
        self.verbatim.iter().any(|w| *w != 0)
    }

    /// Adds a key.
    pub fn insert(&mut self, id: KeyId) {
        assert!(id < WORDS * 64 && id < KEYS.len(), "key id out of range");
        self.bits[id / 64] |= 1 << (id % 64);
    }

    /// Removes a key.
    pub fn remove(&mut self, id: KeyId) {
        if id < WORDS * 64 {
            self.bits[id / 64] &= !(1 << (id % 64));
        }
    }

    /// Whether the key is in the set.
    pub fn contains(&self, id: KeyId) -> bool {
        id < WORDS * 64 && self.bits[id / 64] & (1 << (id % 64)) != 0
    }

    /// Whether the two sets share a key.
    pub fn intersects(&self, other: &KeySet) -> bool {
        self.bits.iter().zip(&other.bits).any(|(a, b)| a & b != 0)
    }

    /// Whether the set is empty (no key, no verbatim entry).
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|w| *w == 0) && !self.has_verbatim()
    }

    /// Number of keys in the set (verbatim entries not counted).
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The keys in registration order (verbatim entries not included).
    pub fn iter(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.bits.iter().enumerate().flat_map(|(word, bits)| {
            let mut rest = *bits;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    word * 64 + bit
                })
            })
        })
    }

    /// The keys of `self` that are not in `other`.
    pub fn without(&self, other: &KeySet) -> KeySet {
        let mut out = *self;
        for (a, b) in out.bits.iter_mut().zip(&other.bits) {
            *a &= !b;
        }
        for (a, b) in out.verbatim.iter_mut().zip(&other.verbatim) {
            *a &= !b;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_fits() {
        assert!(KEYS.len() <= WORDS * 64);
    }

    #[test]
    fn insert_contains_iterate() {
        let mut s = KeySet::new();
        assert!(s.is_empty());
        s.insert(5);
        s.insert(70);
        s.insert(5);
        assert_eq!(s.len(), 2);
        assert!(s.contains(70) && !s.contains(6));
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![5, 70]);
    }

    #[test]
    fn iterates_every_word_in_order_and_subtracts() {
        let mut s = KeySet::new();
        let ids = [0, 1, 63, 64, 127, 128, 200, KEYS.len() - 1];
        for id in ids.iter().rev() {
            s.insert(*id);
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), ids);
        let mut skip = KeySet::new();
        skip.insert(63);
        skip.insert(200);
        let rest: Vec<_> = s.without(&skip).iter().collect();
        assert_eq!(rest, [0, 1, 64, 127, 128, KEYS.len() - 1]);
        assert!(s.intersects(&skip) && !s.without(&skip).intersects(&skip));
        s.remove(0);
        assert!(!s.contains(0));
    }
}
