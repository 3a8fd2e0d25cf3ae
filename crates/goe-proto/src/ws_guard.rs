//! The WebSocket API's defences as pure state machines: at most one
//! application of a `securedMsg` per session ([`ReplayGuard`]) and the
//! wrong-password limiter per peer address ([`AuthLimiter`]).
//!
//! Both have bounded memory whatever a client sends, and take the time as an
//! argument (this crate reads no clock). The server owns one `ReplayGuard`
//! per authenticated session and one `AuthLimiter` keyed by charger and address.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hash, RandomState};
use std::time::{Duration, Instant};

/// How many `requestId`s a session remembers exactly (a FIFO window).
pub const REPLAY_WINDOW: usize = 1024;

/// Refuses a repeated `requestId` within one session.
///
/// The id that counts is the one inside the signed `data` (the outer
/// `"<n>sm"` id is not covered by the HMAC, so a replay could change it
/// freely); a `setValue` without an id is keyed by its HMAC instead. The
/// last [`REPLAY_WINDOW`] ids are remembered as 64-bit keyed hashes; for
/// integer ids (what wattpilot, the go-e app and `goe` send: a counter) every
/// id at or below the largest one that left the window is refused too, so a
/// counting client gets a strict at-most-once in a session of any length.
#[derive(Debug)]
pub struct ReplayGuard {
    hasher: RandomState,
    seen: HashSet<u64>,
    order: VecDeque<(u64, Option<i128>)>,
    /// Largest integer id evicted from the window.
    floor: Option<i128>,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        ReplayGuard {
            hasher: RandomState::new(),
            seen: HashSet::new(),
            order: VecDeque::new(),
            floor: None,
        }
    }
}

fn integer_id(id: &serde_json::Value) -> Option<i128> {
    let n = id.as_number()?;
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

impl ReplayGuard {
    /// Records the inner `requestId` (`id`) of a correctly signed message;
    /// `false` when it was seen before in this session (refuse the message).
    pub fn first_use(&mut self, id: &serde_json::Value, hmac: &str) -> bool {
        let number = integer_id(id);
        if let (Some(n), Some(floor)) = (number, self.floor)
            && n <= floor
        {
            return false;
        }
        let key = match id {
            serde_json::Value::Null => self.hasher.hash_one(("hmac", hmac.to_ascii_lowercase())),
            other => self.hasher.hash_one(("id", other.to_string())),
        };
        if !self.seen.insert(key) {
            return false;
        }
        self.order.push_back((key, number));
        if self.order.len() > REPLAY_WINDOW
            && let Some((old, old_number)) = self.order.pop_front()
        {
            self.seen.remove(&old);
            if let Some(n) = old_number {
                self.floor = Some(self.floor.map_or(n, |f| f.max(n)));
            }
        }
        true
    }
}

/// Wrong passwords allowed from one address within [`AUTH_WINDOW`].
pub const AUTH_MAX_FAILURES: u32 = 5;

/// The window in which [`AUTH_MAX_FAILURES`] wrong passwords block an
/// address; it starts at the first failure, and the block ends with it.
pub const AUTH_WINDOW: Duration = Duration::from_secs(60);

/// Addresses the limiter remembers at most (about 64 bytes each).
pub const AUTH_TABLE_CAP: usize = 1024;

#[derive(Debug, Clone, Copy)]
struct Failures {
    since: Instant,
    count: u32,
}

/// Counts wrong passwords per peer address (`K`: an address or prefix) and
/// blocks an address after [`AUTH_MAX_FAILURES`] of them within
/// [`AUTH_WINDOW`]: its further `auth` attempts are refused without being
/// checked until the window ends. A correct password clears the address.
///
/// At most [`AUTH_TABLE_CAP`] addresses are kept: expired entries go first,
/// then the one whose window started longest ago.
#[derive(Debug)]
pub struct AuthLimiter<K> {
    table: HashMap<K, Failures>,
}

impl<K> Default for AuthLimiter<K> {
    fn default() -> Self {
        AuthLimiter {
            table: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> AuthLimiter<K> {
    /// Whether `addr` is blocked at `now`.
    pub fn blocked(&self, addr: &K, now: Instant) -> bool {
        self.table.get(addr).is_some_and(|f| {
            f.count >= AUTH_MAX_FAILURES && now.saturating_duration_since(f.since) < AUTH_WINDOW
        })
    }

    /// Checks one `auth` attempt from `addr` with `check` (called only when
    /// the address is not blocked) and records the outcome; `true` when the
    /// password was right. Call it under one lock so that concurrent attempts
    /// from one address cannot all pass the check before any failure counts.
    pub fn attempt(&mut self, addr: &K, now: Instant, check: impl FnOnce() -> bool) -> bool {
        if self.blocked(addr, now) {
            return false;
        }
        if check() {
            self.table.remove(addr);
            return true;
        }
        self.failure(addr, now);
        false
    }

    fn failure(&mut self, addr: &K, now: Instant) {
        if let Some(f) = self.table.get_mut(addr) {
            if now.saturating_duration_since(f.since) >= AUTH_WINDOW {
                *f = Failures {
                    since: now,
                    count: 1,
                };
            } else {
                f.count = f.count.saturating_add(1);
            }
            return;
        }
        if self.table.len() >= AUTH_TABLE_CAP {
            self.table
                .retain(|_, f| now.saturating_duration_since(f.since) < AUTH_WINDOW);
        }
        if self.table.len() >= AUTH_TABLE_CAP
            && let Some(oldest) = self
                .table
                .iter()
                .min_by_key(|(_, f)| f.since)
                .map(|(k, _)| k.clone())
        {
            self.table.remove(&oldest);
        }
        self.table.insert(
            addr.clone(),
            Failures {
                since: now,
                count: 1,
            },
        );
    }

    /// How many addresses are remembered (for tests).
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether no address is remembered.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_repeated_id_is_refused_and_the_window_is_bounded() {
        let mut g = ReplayGuard::default();
        assert!(g.first_use(&json!(1), "aa"));
        assert!(g.first_use(&json!(2), "bb"));
        assert!(!g.first_use(&json!(1), "cc"));
        assert!(g.first_use(&json!("1"), "dd"), "a string id is another id");
        assert!(!g.first_use(&json!("1"), "dd"));
        assert!(g.first_use(&json!(null), "ee"));
        assert!(!g.first_use(&json!(null), "EE"), "same signature again");
        for n in 3..5000 {
            assert!(g.first_use(&json!(n), "x"));
        }
        assert!(g.order.len() <= REPLAY_WINDOW && g.seen.len() <= REPLAY_WINDOW);
        // integer ids that left the window stay refused
        assert!(!g.first_use(&json!(1), "x"));
        assert!(!g.first_use(&json!(100), "x"));
        assert!(!g.first_use(&json!(4999), "x"));
        assert!(g.first_use(&json!(5000), "x"));
    }

    #[test]
    fn an_address_is_blocked_after_the_allowed_failures_until_the_window_ends() {
        let t0 = Instant::now();
        let mut l = AuthLimiter::<u32>::default();
        for i in 0..AUTH_MAX_FAILURES {
            assert!(!l.attempt(&1, t0 + Duration::from_secs(u64::from(i)), || false));
        }
        // blocked: not even a right password is checked
        let mut checked = false;
        assert!(!l.attempt(&1, t0 + Duration::from_secs(10), || {
            checked = true;
            true
        }));
        assert!(!checked);
        // another address is not affected
        assert!(l.attempt(&2, t0, || true));
        // after the window, the right password works and clears the entry
        assert!(l.attempt(&1, t0 + AUTH_WINDOW, || true));
        assert!(l.is_empty());
    }

    #[test]
    fn fewer_failures_do_not_block_and_a_success_clears_them() {
        let t0 = Instant::now();
        let mut l = AuthLimiter::<u32>::default();
        for _ in 1..AUTH_MAX_FAILURES {
            assert!(!l.attempt(&1, t0, || false));
        }
        assert!(l.attempt(&1, t0, || true));
        for _ in 1..AUTH_MAX_FAILURES {
            assert!(!l.attempt(&1, t0, || false));
        }
        assert!(!l.blocked(&1, t0));
    }

    #[test]
    fn the_table_is_bounded() {
        let t0 = Instant::now();
        let mut l = AuthLimiter::<u32>::default();
        for a in 0..(AUTH_TABLE_CAP as u32 * 3) {
            l.attempt(&a, t0 + Duration::from_millis(u64::from(a)), || false);
            assert!(l.len() <= AUTH_TABLE_CAP);
        }
    }
}
