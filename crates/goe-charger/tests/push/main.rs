//! Integration tests of the push and legacy APIs of the `goe-charger` binary
//! over real sockets: MQTT against a private mosquitto per test, the
//! WebSocket API at `/ws`, API v1 (`/status`, `/mqtt`), and the pinned PyPI
//! clients (`wattpilot` 0.2 over the WebSocket, `goecharger` 0.1.0 over API v1)
//! run from their venvs.
//!
//! What they need beyond cargo (`scripts/test.sh` installs it and exports the
//! paths; see [`support`] for the fallbacks of a plain `cargo test`):
//! `GOE_MOSQUITTO`, `GOE_VENV_WATTPILOT`, `GOE_VENV_GOECHARGER_V1`. A missing
//! tool fails the test with instructions; nothing is skipped.
//!
//! - [`mqtt`]: retained dump, client id, `/set` + `/result`, `mcr`, `mtp`,
//!   deltas, last will, broker restart and a broker down at start-up.
//! - [`ws`]: hello, authentication, `fullStatus`/`deltaStatus`, `securedMsg`,
//!   refusals, nothing before authentication, `wccw`.
//! - [`ws_hardening`]: hostile WebSocket clients: pre-auth floods, oversized
//!   messages, `pass` changes, replayed `securedMsg`, wrong-password limits.
//! - [`v1`]: `hla`/`hai` switches, the v1 `/status` document against a real
//!   capture, `/mqtt?payload=`.
//! - [`clients`]: the real Python clients.
//! - [`secrets_everywhere`]: no secret in any output, at `RUST_LOG=trace`.
//! - [`ws_auth`]: the client side of the WebSocket login and signed writes.
//! - [`durability`]: MQTT `/set` and WebSocket `securedMsg` on a full disk.

#[path = "../common/mod.rs"]
mod common;

mod clients;
mod durability;
mod mqtt;
mod secrets_everywhere;
mod support;
#[path = "../http/tiny_disk.rs"]
mod tiny_disk;
mod v1;
mod ws;
mod ws_auth;
mod ws_hardening;
