//! Rendered `/api/status` bodies, reused until a key they show changes.
//!
//! The logic runs once a second, but clients poll as fast as they like (evcc
//! every few seconds per charger, load tests thousands of times a second).
//! Rendering 7 KB of JSON with ArduinoJson's float formatting on every request
//! would make the status path the most expensive thing a charger does. So each
//! device keeps up to [`MAX_ENTRIES`] renderings, one per filter, and redraws
//! one only when a key it shows changed after it was drawn (the engine's
//! per-key generations tell). The clock keys (`rbt`, `utc`, `loc`, `inva`)
//! change with every millisecond of reading: renderings keep holes for them
//! and splice the fresh values in on every request.
//!
//! Memory is only spent on devices someone reads: an idle charger of a fleet
//! holds an empty vector.

use axum::body::Bytes;
use goe_engine::{Charger, KeySet, SimTime};
use goe_keys::KeyId;

/// Renderings kept per device (distinct filters); the least recently used
/// one makes room for a new filter.
pub const MAX_ENTRIES: usize = 4;

/// A device's cached status renderings.
#[derive(Debug, Default)]
pub struct StatusCache {
    entries: Vec<Entry>,
    /// Counts lookups, to find the least recently used entry.
    uses: u64,
}

#[derive(Debug)]
struct Entry {
    filter: Option<KeySet>,
    /// The charger's generation the rendering shows.
    sealed: u64,
    rendering: Rendering,
    last_use: u64,
}

#[derive(Debug)]
enum Rendering {
    /// No clock key shown: the answer as it is, shared without copying.
    Whole(Bytes),
    /// The text with holes at `(offset, key)` for the clock keys.
    WithHoles(String, Vec<(usize, KeyId)>),
}

impl StatusCache {
    /// The status JSON of `charger` at `now` for `filter` (all readable keys
    /// with `None`): byte for byte what [`Charger::write_status`] writes.
    pub fn render(
        &mut self,
        charger: &mut Charger,
        now: SimTime,
        filter: Option<&KeySet>,
    ) -> Bytes {
        let clock = Charger::clock_keys();
        if filter.is_none_or(|f| f.intersects(&clock)) {
            charger.refresh_clock(now);
        }
        self.uses += 1;
        let found = self
            .entries
            .iter()
            .position(|e| e.filter.as_ref() == filter);
        let index = match found {
            Some(i) if !charger.changed_after(filter, self.entries[i].sealed, &clock) => i,
            _ => self.store(found, draw(charger, filter, &clock)),
        };
        let entry = &mut self.entries[index];
        entry.last_use = self.uses;
        match &entry.rendering {
            Rendering::Whole(body) => body.clone(),
            Rendering::WithHoles(text, holes) => {
                let mut out = String::with_capacity(text.len() + 48 * holes.len());
                let mut at = 0;
                for &(offset, kid) in holes {
                    out.push_str(&text[at..offset]);
                    charger.write_key(kid, &mut out);
                    at = offset;
                }
                out.push_str(&text[at..]);
                Bytes::from(out)
            }
        }
    }

    /// Puts `entry` in place of entry `replace`, in a free slot, or in place
    /// of the least recently used one; returns its index.
    fn store(&mut self, replace: Option<usize>, entry: Entry) -> usize {
        let index = match replace {
            Some(i) => i,
            None if self.entries.len() < MAX_ENTRIES => {
                self.entries.push(entry);
                return self.entries.len() - 1;
            }
            None => (0..self.entries.len())
                .min_by_key(|&i| self.entries[i].last_use)
                .unwrap_or(0),
        };
        self.entries[index] = entry;
        index
    }

    /// Number of renderings held (for tests).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no rendering is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn draw(charger: &mut Charger, filter: Option<&KeySet>, clock: &KeySet) -> Entry {
    let mut text = String::with_capacity(if filter.is_some() { 512 } else { 8 * 1024 });
    let mut holes = Vec::new();
    charger.write_status_template(filter, clock, &mut text, &mut holes);
    let sealed = charger.seal_generation();
    let rendering = if holes.is_empty() {
        Rendering::Whole(Bytes::from(text))
    } else {
        Rendering::WithHoles(text, holes)
    };
    Entry {
        filter: filter.copied(),
        sealed,
        rendering,
        last_use: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use goe_engine::CarProfile;

    const START: SimTime = SimTime(1_726_644_683_457);

    fn uncached(c: &mut Charger, now: SimTime, filter: Option<&KeySet>) -> String {
        let mut out = String::new();
        c.write_status(now, filter, &mut out);
        out
    }

    fn set_of(names: &[&str]) -> KeySet {
        let mut s = KeySet::new();
        for n in names {
            s.insert(goe_keys::key_id(n).unwrap());
        }
        s
    }

    /// Over a day with a car, writes and filters with and without clock
    /// keys, every cached answer equals a fresh rendering at the same moment.
    #[test]
    fn cached_answers_equal_fresh_renderings() {
        let mut a = Charger::boot("000123", None, START, 7).unwrap();
        let mut b = a.clone();
        let mut cache = StatusCache::default();
        let filters = [
            None,
            Some(set_of(&["alw", "car", "eto", "nrg", "wh", "trx", "cards"])),
            Some(set_of(&["amp", "rbt"])),
            Some(set_of(&["utc", "loc", "frc"])),
        ];
        // no more filters than entries: every answer after the first could come from the cache
        assert!(filters.len() <= MAX_ENTRIES);
        let mut now = START;
        for i in 0..600i64 {
            now = now.plus_ms(137 + (i % 7) * 100);
            if i == 100 {
                for c in [&mut a, &mut b] {
                    c.plug(now, CarProfile::builtin("ev-3p-11kw").unwrap(), 30.0)
                        .unwrap();
                }
            }
            if i % 50 == 25 {
                let amp = (6 + i % 10).to_string();
                a.set(now, "amp", &amp).unwrap();
                b.set(now, "amp", &amp).unwrap();
            }
            if i % 3 == 0 {
                a.step(now);
                b.step(now);
            }
            for f in &filters {
                let cached = cache.render(&mut a, now, f.as_ref());
                let fresh = uncached(&mut b, now, f.as_ref());
                assert_eq!(
                    std::str::from_utf8(&cached).unwrap(),
                    fresh,
                    "step {i}, filter {f:?}"
                );
            }
        }
        assert!(cache.len() <= MAX_ENTRIES);
    }

    /// Without changes the same bytes come back (no redraw); a write to a
    /// shown key redraws; a write to a key not shown does not.
    #[test]
    fn redraws_only_when_a_shown_key_changed() {
        let mut c = Charger::boot("000123", None, START, 7).unwrap();
        let mut cache = StatusCache::default();
        let f = set_of(&["amp", "frc"]);
        let one = cache.render(&mut c, START, Some(&f));
        let two = cache.render(&mut c, START.plus_ms(10), Some(&f));
        assert_eq!(one.as_ptr(), two.as_ptr(), "the same rendering is shared");
        c.set(START, "psm", "2").unwrap();
        let three = cache.render(&mut c, START.plus_ms(20), Some(&f));
        assert_eq!(one.as_ptr(), three.as_ptr(), "psm is not shown");
        c.set(START, "amp", "9").unwrap();
        let four = cache.render(&mut c, START.plus_ms(30), Some(&f));
        assert_ne!(one.as_ptr(), four.as_ptr());
        assert!(std::str::from_utf8(&four).unwrap().contains("\"amp\":9"));
    }

    #[test]
    fn least_recently_used_filter_is_evicted() {
        let mut c = Charger::boot("000123", None, START, 7).unwrap();
        let mut cache = StatusCache::default();
        for name in ["amp", "frc", "psm", "alw", "car", "amp"] {
            cache.render(&mut c, START, Some(&set_of(&[name])));
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
    }
}
