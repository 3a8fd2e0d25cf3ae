//! The mapping from the host's clock to simulated time.
//!
//! Only the server reads a real clock; the engine receives the resulting
//! [`SimTime`] as an argument. Two modes:
//!
//! - **real** (`--clock real`, the default): simulated time starts at an
//!   origin and runs `speed` times faster than the host's monotonic clock;
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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// `advance` on a clock that follows real time.
    #[error("clock is not manual (start goe-charger with --clock manual to advance time)")]
    NotManual,
    /// The advance would leave the representable range of time.
    #[error("cannot advance beyond the year 9999")]
    Overflow,
}

/// Latest simulated time a manual clock can reach (9999-12-31T23:59:59.999Z).
const MAX_MS: i64 = 253_402_300_799_999;

/// Simulated time: real-scaled or manual, starting at an origin.
#[derive(Debug)]
pub struct SimClock {
    mode: ClockMode,
    started: Instant,
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
        SimClock {
            mode,
            started: Instant::now(),
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
        if self.mode != ClockMode::Manual {
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
        match self.mode {
            ClockMode::Real { speed } => {
                let elapsed = self.started.elapsed().as_secs_f64() * 1000.0 * speed;
                self.origin.plus_ms(elapsed as i64)
            }
            ClockMode::Manual => self
                .origin
                .plus_ms(self.advanced_ms.load(Ordering::Acquire)),
        }
    }

    /// Moves a manual clock forward by `ms` milliseconds and returns the new time.
    pub fn advance(&self, ms: i64) -> Result<SimTime, ClockError> {
        if self.mode != ClockMode::Manual {
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

    /// How time moves.
    pub fn mode(&self) -> ClockMode {
        self.mode
    }

    /// Whether time only moves through [`SimClock::advance`].
    pub fn is_manual(&self) -> bool {
        self.mode == ClockMode::Manual
    }

    /// How many simulated milliseconds pass per real millisecond (0 when manual).
    pub fn speed(&self) -> f64 {
        match self.mode {
            ClockMode::Real { speed } => speed,
            ClockMode::Manual => 0.0,
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
    }
}
