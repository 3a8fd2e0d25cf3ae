//! The mapping from the host's clock to simulated time.
//!
//! Only the server reads a real clock; the engine receives the resulting
//! [`SimTime`] as an argument.

use goe_engine::SimTime;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Simulated time that starts at `origin` and runs `speed` times faster than
/// the host's monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    started: Instant,
    origin: SimTime,
    speed: f64,
}

impl SimClock {
    /// A clock starting now at the host's wall-clock time, running at real speed.
    pub fn real_time() -> SimClock {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        SimClock::starting_at(SimTime(ms), 1.0)
    }

    /// A clock starting now at `origin`, running `speed` times real time.
    pub fn starting_at(origin: SimTime, speed: f64) -> SimClock {
        SimClock {
            started: Instant::now(),
            origin,
            speed,
        }
    }

    /// The simulated time now.
    pub fn now(&self) -> SimTime {
        let elapsed = self.started.elapsed().as_secs_f64() * 1000.0 * self.speed;
        self.origin.plus_ms(elapsed as i64)
    }

    /// How many simulated milliseconds pass per real millisecond.
    pub fn speed(&self) -> f64 {
        self.speed
    }
}
