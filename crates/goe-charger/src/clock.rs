//! The mapping from the host's clock to simulated time.
//!
//! Only the server reads a real clock; the engine receives the resulting
//! [`SimTime`] as an argument. Two modes:
//!
//! - **real** (`--clock real`, the default): simulated time starts at an
//!   origin and runs `speed` times faster than the host's monotonic clock;
//!   it can be paused, resumed and given another speed while it runs
//!   ([`SimClock::set_rate`], `POST /sim/clock`), without a jump in
//!   simulated time: one clock per process, so a fleet's chargers all follow;
//! - **manual** (`--clock manual`): simulated time stands still at the origin
//!   until [`SimClock::advance`] moves it forward (`POST /sim/advance`).

use goe_engine::SimTime;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// How simulated time moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClockMode {
    /// Runs `speed` times faster than real time.
    Real {
        /// Simulated milliseconds per real millisecond (> 0).
        speed: f64,
    },
    /// Stands still until advanced.
    Manual,
}

/// Why the clock refused to move.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClockError {
    /// `advance` on a clock that follows real time.
    #[error("clock is not manual (start goe-charger with --clock manual to advance time)")]
    NotManual,
    /// The advance would leave the representable range of time.
    #[error("cannot advance beyond the year 9999")]
    Overflow,
    /// Pause or speed on a manual clock (it only moves when advanced).
    #[error(
        "the clock is manual: it stands still until /sim/advance moves it \
         (start goe-charger with --clock real to pause it or change its speed)"
    )]
    Manual,
    /// A speed outside (0, [`MAX_SPEED`]].
    #[error("speed must be a number above 0 and at most 1000000, got {0}")]
    BadSpeed(f64),
}

/// The highest speed (`--speed`, `/sim/clock?speed=`): a million times real time.
pub const MAX_SPEED: f64 = 1e6;

/// Whether `speed` is one a real clock accepts (finite, above 0, ≤ [`MAX_SPEED`]).
pub fn valid_speed(speed: f64) -> bool {
    speed.is_finite() && speed > 0.0 && speed <= MAX_SPEED
}

/// A real clock's rate since its last change: simulated time was `at_ms`
/// at host instant `since` and runs `speed` times real time from there
/// unless `paused`.
#[derive(Debug, Clone, Copy)]
struct Rate {
    since: Instant,
    at_ms: i64,
    speed: f64,
    paused: bool,
}

impl Rate {
    /// Simulated ms at host instant `now` (never before `since`).
    fn at(&self, now: Instant) -> i64 {
        if self.paused {
            return self.at_ms;
        }
        let elapsed = now.saturating_duration_since(self.since).as_secs_f64();
        let ms = (elapsed * 1000.0 * self.speed).min(MAX_MS as f64);
        self.at_ms.saturating_add(ms as i64).min(MAX_MS)
    }
}

/// Latest simulated time a manual clock can reach (9999-12-31T23:59:59.999Z).
const MAX_MS: i64 = 253_402_300_799_999;

/// Simulated time: real-scaled or manual, starting at an origin.
#[derive(Debug)]
pub struct SimClock {
    manual: bool,
    /// A real clock's current rate (unused by a manual clock).
    rate: parking_lot::Mutex<Rate>,
    /// Wakes the tickers when the rate changes ([`SimClock::rate_changed`]).
    rate_changed: tokio::sync::Notify,
    origin: SimTime,
    /// Milliseconds a manual clock has been advanced by.
    advanced_ms: AtomicI64,
    /// Held for the whole of a `/sim/advance` (device or fleet), so two
    /// advances run one after the other instead of interleaving their slices.
    /// An async mutex: a queued advance waits in its async handler
    /// ([`SimClock::advance_turn`]), costing no blocking-pool thread.
    advancing: Arc<tokio::sync::Mutex<()>>,
}

/// The right to run one advance: while it is alive, no other advance of the
/// same clock runs ([`SimClock::advance_turn`]). Move it into the blocking
/// task that runs the advance.
#[derive(Debug)]
pub struct AdvanceTurn {
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

/// The host's wall-clock time as a [`SimTime`].
pub fn host_now() -> SimTime {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    SimTime(ms)
}

impl SimClock {
    /// A clock starting now at the host's wall-clock time, running at real speed.
    pub fn real_time() -> SimClock {
        SimClock::new(host_now(), ClockMode::Real { speed: 1.0 })
    }

    /// A clock starting now at `origin`, running `speed` times real time.
    pub fn starting_at(origin: SimTime, speed: f64) -> SimClock {
        SimClock::new(origin, ClockMode::Real { speed })
    }

    /// A manual clock standing at `origin`.
    pub fn manual(origin: SimTime) -> SimClock {
        SimClock::new(origin, ClockMode::Manual)
    }

    /// A clock of `mode` starting now at `origin`.
    pub fn new(origin: SimTime, mode: ClockMode) -> SimClock {
        let (manual, speed) = match mode {
            ClockMode::Real { speed } => (false, speed),
            ClockMode::Manual => (true, 0.0),
        };
        SimClock {
            manual,
            rate: parking_lot::Mutex::new(Rate {
                since: Instant::now(),
                at_ms: origin.millis(),
                speed,
                paused: false,
            }),
            rate_changed: tokio::sync::Notify::new(),
            origin,
            advanced_ms: AtomicI64::new(0),
            advancing: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Serialises advances: waits (asynchronously, holding no thread) until
    /// no other advance runs; hold the turn while an advance runs its slices.
    pub async fn advance_turn(&self) -> AdvanceTurn {
        AdvanceTurn {
            _guard: self.advancing.clone().lock_owned().await,
        }
    }

    /// [`SimClock::advance_turn`] for a caller already in a blocking context
    /// (never from an async task: it parks the thread).
    pub fn advance_turn_blocking(&self) -> AdvanceTurn {
        AdvanceTurn {
            _guard: self.advancing.clone().blocking_lock_owned(),
        }
    }

    /// Where advancing a manual clock by `ms` would take it, without moving it.
    pub fn target(&self, ms: i64) -> Result<SimTime, ClockError> {
        if !self.manual {
            return Err(ClockError::NotManual);
        }
        let next = self
            .advanced_ms
            .load(Ordering::Acquire)
            .checked_add(ms.max(0))
            .ok_or(ClockError::Overflow)?;
        if self.origin.millis().saturating_add(next) > MAX_MS {
            return Err(ClockError::Overflow);
        }
        Ok(self.origin.plus_ms(next))
    }

    /// The simulated time now.
    pub fn now(&self) -> SimTime {
        if self.manual {
            return self
                .origin
                .plus_ms(self.advanced_ms.load(Ordering::Acquire));
        }
        SimTime(self.rate.lock().at(Instant::now()))
    }

    /// Changes a real clock's speed and/or pauses (`Some(true)`) or resumes
    /// it (`Some(false)`), from the simulated time it has reached: no jump,
    /// only the rate changes. A manual clock refuses ([`ClockError::Manual`]),
    /// so does a speed outside (0, [`MAX_SPEED`]]; nothing changes then.
    pub fn set_rate(&self, speed: Option<f64>, paused: Option<bool>) -> Result<(), ClockError> {
        if self.manual {
            return Err(ClockError::Manual);
        }
        if let Some(s) = speed
            && !valid_speed(s)
        {
            return Err(ClockError::BadSpeed(s));
        }
        let mut rate = self.rate.lock();
        let now = Instant::now();
        *rate = Rate {
            since: now,
            at_ms: rate.at(now),
            speed: speed.unwrap_or(rate.speed),
            paused: paused.unwrap_or(rate.paused),
        };
        drop(rate);
        self.rate_changed.notify_waiters();
        Ok(())
    }

    /// Completes when [`SimClock::set_rate`] next changes the rate: a ticker
    /// waiting a whole second at ×1 takes up ×1000 at once.
    pub async fn rate_changed(&self) {
        self.rate_changed.notified().await;
    }

    /// Whether a real clock is paused (a manual clock never is: it only
    /// stands still between advances).
    pub fn is_paused(&self) -> bool {
        !self.manual && self.rate.lock().paused
    }

    /// Moves a manual clock forward by `ms` milliseconds and returns the new time.
    pub fn advance(&self, ms: i64) -> Result<SimTime, ClockError> {
        if !self.manual {
            return Err(ClockError::NotManual);
        }
        let ms = ms.max(0);
        let mut current = self.advanced_ms.load(Ordering::Acquire);
        loop {
            let next = current.checked_add(ms).ok_or(ClockError::Overflow)?;
            if self.origin.millis().saturating_add(next) > MAX_MS {
                return Err(ClockError::Overflow);
            }
            match self.advanced_ms.compare_exchange(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(self.origin.plus_ms(next)),
                Err(actual) => current = actual,
            }
        }
    }

    /// How time moves (a real clock with its current speed).
    pub fn mode(&self) -> ClockMode {
        if self.manual {
            ClockMode::Manual
        } else {
            ClockMode::Real {
                speed: self.speed(),
            }
        }
    }

    /// Whether time only moves through [`SimClock::advance`].
    pub fn is_manual(&self) -> bool {
        self.manual
    }

    /// How many simulated milliseconds pass per real millisecond while the
    /// clock runs (0 when manual; a paused clock keeps its speed for resuming).
    pub fn speed(&self) -> f64 {
        if self.manual {
            0.0
        } else {
            self.rate.lock().speed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_stands_still_until_advanced() {
        let clock = SimClock::manual(SimTime(1_000));
        assert_eq!(clock.now(), SimTime(1_000));
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert_eq!(clock.now(), SimTime(1_000));
        assert_eq!(clock.advance(2_500), Ok(SimTime(3_500)));
        assert_eq!(clock.now(), SimTime(3_500));
        assert!(clock.is_manual());
        assert_eq!(clock.speed(), 0.0);
        assert_eq!(clock.advance(i64::MAX), Err(ClockError::Overflow));
        assert_eq!(clock.now(), SimTime(3_500));
    }

    #[test]
    fn real_clock_cannot_be_advanced_and_runs_scaled() {
        let clock = SimClock::starting_at(SimTime(0), 1000.0);
        assert_eq!(clock.advance(1), Err(ClockError::NotManual));
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now().millis() >= 20_000);
        assert_eq!(
            clock.set_rate(Some(0.0), None),
            Err(ClockError::BadSpeed(0.0))
        );
        assert!(clock.set_rate(Some(f64::NAN), None).is_err());
    }

    #[test]
    fn a_paused_clock_stands_still_and_resumes_without_a_jump() {
        let clock = SimClock::starting_at(SimTime(0), 1000.0);
        clock.set_rate(None, Some(true)).unwrap();
        let paused_at = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(clock.now(), paused_at);
        assert!(clock.is_paused());
        // a new speed while paused: still standing, resumed from where it stood
        clock.set_rate(Some(1.0), Some(false)).unwrap();
        let resumed = clock.now();
        assert!(resumed >= paused_at && resumed.millis() - paused_at.millis() < 1000);
        assert_eq!(clock.speed(), 1.0);
        assert_eq!(
            SimClock::manual(SimTime(0)).set_rate(None, Some(true)),
            Err(ClockError::Manual)
        );
    }
}
