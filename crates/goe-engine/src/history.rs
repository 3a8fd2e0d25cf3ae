//! The last hour of power flows at the charger (#16, the dashboard's chart):
//! one sample per [`INTERVAL_MS`] of simulated time, at most [`SAMPLES`],
//! kept as pure data next to the logic so that every simulated second counts
//! whatever the host's step granularity (a 1 ms tick at `--speed 1000`, a
//! 60 s advance slice, a fleet's second-by-second step).
//!
//! Cost: O(1) per tick (one division and at most one push), 20 bytes a
//! sample, so at most 7.2 KB per charger once an hour has passed (7.2 MB for
//! a fleet of 1,000); nothing is allocated until the first sample.

use crate::SimTime;
use std::collections::VecDeque;

/// Simulated time between two samples: 10 s.
pub const INTERVAL_MS: i64 = 10_000;

/// Samples kept: one hour at [`INTERVAL_MS`].
pub const SAMPLES: usize = 360;

/// One sample's powers in whole watts, in the order of [`SERIES`].
pub type Powers = [i32; 5];

/// The names of a sample's powers: the car's charging power, PV production,
/// house consumption, grid power at the meter (negative = export) and
/// home-battery power (negative = charging).
pub const SERIES: [&str; 5] = ["charging", "pv", "house", "grid", "battery"];

/// A bounded history: the first tick of every [`INTERVAL_MS`] bucket of
/// simulated time (buckets aligned to multiples of the interval).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PowerHistory {
    /// Oldest first; consecutive buckets, the newest is `newest`.
    samples: VecDeque<Powers>,
    /// Bucket index (simulated ms / [`INTERVAL_MS`]) of the newest sample.
    newest: i64,
}

impl PowerHistory {
    /// Records the tick at `now` if it is the first one of its bucket.
    /// A gap (a bucket without a tick) starts the history anew, so the
    /// samples always stand [`INTERVAL_MS`] apart.
    pub fn record(&mut self, now: SimTime, powers: impl FnOnce() -> Powers) {
        let bucket = now.millis().div_euclid(INTERVAL_MS);
        if !self.samples.is_empty() {
            if bucket <= self.newest {
                return;
            }
            if bucket != self.newest + 1 {
                self.samples.clear();
            }
        }
        if self.samples.capacity() == 0 {
            // exactly an hour, not the next power of two
            self.samples.reserve_exact(SAMPLES);
        }
        if self.samples.len() == SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(powers());
        self.newest = bucket;
    }

    /// How many samples there are.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether there is no sample yet.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The samples taken after simulated time `after` (all with `None`),
    /// oldest first, each with its bucket's start time.
    pub fn since(&self, after: Option<SimTime>) -> impl Iterator<Item = (SimTime, Powers)> + '_ {
        let first = self.newest - self.samples.len() as i64 + 1;
        self.samples
            .iter()
            .enumerate()
            .map(move |(i, p)| (SimTime((first + i as i64) * INTERVAL_MS), *p))
            .filter(move |(t, _)| after.is_none_or(|a| *t > a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_per_bucket_bounded_to_an_hour() {
        let mut h = PowerHistory::default();
        for s in 0..7200 {
            h.record(SimTime(5_500 + s * 1000), || [s as i32, 0, 0, 0, 0]);
        }
        assert_eq!(h.len(), SAMPLES);
        assert!(
            h.samples.capacity() < 2 * SAMPLES,
            "{}",
            h.samples.capacity()
        );
        let all: Vec<_> = h.since(None).collect();
        // the newest bucket starts at 7_200_000 (tick 7_205_500 is its first)
        assert_eq!(all.last().unwrap().0, SimTime(7_200_000));
        assert_eq!(all.last().unwrap().1[0], 7195);
        assert_eq!(all[0].0, SimTime(7_200_000 - 359 * INTERVAL_MS));
        assert_eq!(h.since(Some(SimTime(7_190_000))).count(), 1);
    }

    #[test]
    fn a_gap_starts_anew() {
        let mut h = PowerHistory::default();
        h.record(SimTime(0), || [1; 5]);
        h.record(SimTime(10_000), || [2; 5]);
        h.record(SimTime(35_000), || [3; 5]);
        let all: Vec<_> = h.since(None).collect();
        assert_eq!(all, vec![(SimTime(30_000), [3; 5])]);
    }
}
