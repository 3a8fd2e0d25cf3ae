//! A typed async client for the go-eCharger's local HTTP API v2, built on the
//! project's key table, so it knows every key's type, enum names and unit.
//! It talks to a real charger and to `goe-charger` alike.
//!
//! - [`Client`]: `status`, `status_of(keys)`, `get(key)`, `set(pairs)`, `set_text(pairs)`.
//! - [`Status`]: the answer of `/api/status` with typed accessors
//!   ([`Status::car_state`], [`Status::model_status`], [`Status::energy`], …)
//!   and [`Status::get`] for any key as a [`TypedValue`].
//! - [`parse_value`]: what a person typed (`frc=on`, `lmo=eco`, `amp=16`,
//!   `fna=garage`) into the JSON the API wants.
//! - [`ClientError`]: what went wrong, in words (unreachable, API disabled,
//!   per-key results of a partial failure, …).
//! - [`ws::WsClient`]: the local WebSocket API (`ws://<host>/ws`, needs the
//!   charger's password): the full status, then every change as it happens
//!   ([`ws::Update`]), and writes signed with the password.
//! - [`cloud`]: the cloud API v3 (`https://<serial>.api.v3.go-e.io`); sending
//!   requests there needs the `cloud` feature (rustls with `ring`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), goe_client::ClientError> {
//! use goe_client::{Client, CarState};
//! let charger = Client::new("127.0.0.1:8080")?;
//! let status = charger.status().await?;
//! if status.car_state() == Some(CarState::Charging) {
//!     println!("{}", status.model_status().unwrap().reason());
//! }
//! charger.set_text(&[("frc", "on"), ("amp", "10")]).await?;
//! # Ok(()) }
//! ```

pub mod client;
pub mod cloud;
pub mod error;
pub mod input;
pub mod status;
pub mod value;
pub mod ws;

pub use client::{Client, DEFAULT_TIMEOUT};
pub use error::{ClientError, KeyResult};
pub use input::{parse_value, suggest_key};
pub use status::{CarState, ForceState, LogicMode, ModelStatus, PhaseSwitchMode, Status};
pub use value::{Energy, EnumValue, PhaseReading, TypedValue};

/// The key table this client decodes with (re-exported for callers).
pub use goe_keys;
