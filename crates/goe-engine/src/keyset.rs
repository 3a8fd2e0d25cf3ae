//! A set of keys as a bitset over the key table: filters cost no allocation
//! and iterate in registration order for free.

use goe_keys::{KEYS, KeyId};

const WORDS: usize = 8;

/// A set of [`KeyId`]s (up to 512 keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeySet {
    bits: [u64; WORDS],
}

impl KeySet {
    /// The empty set.
    pub const fn new() -> Self {
        KeySet { bits: [0; WORDS] }
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

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|w| *w == 0)
    }

    /// Number of keys in the set.
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The keys in registration order.
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
