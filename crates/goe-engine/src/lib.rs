//! The virtual go-eCharger's engine: key values, boot/restart, writes and the
//! once-a-second logic, as a pure state machine.
//!
//! Architecture invariant: nothing in this crate reads a clock, opens a socket
//! or touches a file. Time comes in as [`SimTime`] arguments (`step(now)`),
//! persistence goes out as [`Charger::persisted_values`]. That makes the engine
//! deterministic, replayable and able to run faster than real time.
//!
//! - [`average`]: the 30 s power average `tpa`.
//! - [`battery`]: the home battery and its self-consumption controller.
//! - [`charger`]: one charger's state and the effects of writes.
//! - [`cards`]: `cards` and the per-card keys `c0n…c9i` kept equal.
//! - [`clock`]: simulated time and the `utc`/`loc` formats, time zones, DST.
//! - [`errors`]: how each `err` code clears (by itself, replug, restart).
//! - [`history`]: the last hour of power flows, one sample per 10 s (#16).
//! - [`keyset`]: key filters as bitsets.
//! - [`loadbalance`]: current sharing inside a group of chargers.
//! - [`logic`]: the once-a-second decision cascade and physics.
//! - [`ocpp`]: what the OCPP backend decided (authorization, limits, availability).
//! - [`ids`]: key ids the engine uses.
//! - [`secrets`]: the stored form of the password.
//! - [`car`]: car profiles and the plugged car.
//! - [`world`]: the simulated world around the charger (`/sim/` control).

pub mod average;
pub mod battery;
pub mod car;
pub mod cards;
pub mod charger;
pub mod clock;
pub mod cloud_token;
pub mod delay;
pub mod errors;
pub mod history;
pub mod ids;
pub mod keyset;
pub mod loadbalance;
pub mod logic;
pub mod ocpp;
pub mod secrets;
mod values;
pub mod world;

pub use battery::{BatterySettings, HomeBattery};
pub use car::{CarProfile, DEFAULT_PROFILE};
pub use charger::{Charger, EngineError, SetOutcome, StepOutcome, migrate_stored};
pub use clock::SimTime;
pub use keyset::KeySet;
pub use ocpp::{OcppLink, Swipe};
pub use world::{SimError, SimState};
