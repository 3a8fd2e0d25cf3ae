//! The go-eCharger's OCPP 1.6J charge point, without I/O (issue #14).
//!
//! A [`session::Session`] is the charge point's protocol state machine: the
//! server's socket task feeds it the transport events (connected, a text
//! frame, closed) and a [`view::ChargerView`] of the charger once per
//! simulated second, and carries out what it returns ([`view::Output`]):
//! frames to send, records to make durable first, commands for the charger.
//! It never reads a clock (times come in the view) and never touches a
//! socket, so every message can be tested in-process and on simulated time.
//!
//! The 1.6 payload types are our own ([`messages`]): `rust-ocpp` 3.0 turns on
//! `serde_json/arbitrary_precision` for the whole build, which changes the
//! charger's ArduinoJson number formatting (see `docs/compat.md`, OCPP).
//!
//! Modules, each with one job: [`rpc`] (OCPP-J framing and CALLERROR codes),
//! [`messages`] (payloads), [`time`] (timestamps), [`config`] (configuration
//! keys), [`profiles`] (smart charging), [`status`] (connector status),
//! [`meter`] (sampled values), [`journal`] (queue replay), [`session`] (the
//! state machine), [`view`] (the contract with the server). Choices where
//! the go-e document is silent: `COMPAT-NOTES.md` next to this crate.

pub mod config;
pub mod journal;
pub mod messages;
pub mod meter;
pub mod profiles;
pub mod rpc;
pub mod session;
pub mod status;
pub mod time;
pub mod view;
