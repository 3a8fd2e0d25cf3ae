//! Wire formats of the charger's push and legacy APIs, without I/O.
//!
//! - [`ws`]: the local WebSocket (hello, authentication, full/delta status, writes).
//! - [`ws_guard`]: its replay guard and wrong-password limiter.
//! - [`mqtt`]: topics, retained dumps, `/set` and `/result`.
//! - [`ha_discovery`]: Home Assistant MQTT discovery configurations (`mhe`, `mht`).
//! - [`modbus`]: the Modbus TCP slave's framing and register map.
//! - [`v1`]: the legacy HTTP API v1 document and its `key=value` writes.
//!
//! Architecture invariant: like the engine, this crate opens no socket and
//! reads no clock; the server calls it with the charger and the time.

pub mod ha_discovery;
pub mod modbus;
pub mod mqtt;
pub mod v1;
pub mod ws;
pub mod ws_guard;
