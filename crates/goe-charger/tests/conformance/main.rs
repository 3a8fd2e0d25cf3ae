//! Client conformance: software written for a real go-eCharger works against
//! `goe-charger` unchanged.
//!
//! The real clients, installed from PyPI at pinned versions into one virtual
//! environment each by `scripts/client-venvs.sh` (which `scripts/test.sh`
//! sources), drive a real `goe-charger` process with the charging logic and a
//! simulated car running on a manual clock. Clients that cannot run here are
//! replayed from what they send and rely on (`shared/reference/clients.md`
//! §1.5–1.6), and the live status is compared with real captures.
//!
//! - [`goe_lib`]: `goe` 0.3.2 (library and CLI) parses every component in
//!   every charger state it may meet.
//! - [`api_lite`]: `goecharger-api-lite` 1.5.1: full read set, every setter,
//!   each change visible in the next status and in the logic.
//! - [`goechargerv2`]: `goechargerv2` 0.2.2: unfiltered status, its setters as
//!   it sends them (`str(value)`, Basic auth, an empty `/api/set`).
//! - [`legacy_v1`]: `goecharger` 0.1.0 on API v1.
//! - [`wattpilot`]: `wattpilot` 0.2 on the WebSocket.
//! - [`prometheus`]: `goe-prometheus` 0.2.2 scraping a charger at `--speed 60`.
//! - [`evcc`]: replay of evcc's go-e driver.
//! - [`home_assistant`]: replay of the Home Assistant integration (marq24).
//! - [`golden`]: live states against real captures (keys, JSON shapes,
//!   ArduinoJson number formatting).
//!
//! Every test runs once per firmware profile of [`harness::FIRMWARES`]
//! (`060.5`, the default, and `056.2`): `<suite>::<test>::fw_060_5` and
//! `…::fw_056_2`, so a failure names its firmware; expectations (`fwv`, key
//! set and order, types) follow the profile (`goe_keys::profile`).
//!
//! [`harness`] starts chargers and Python drivers; a client's failure fails
//! the test with the client's own error and traceback.

#[path = "../common/mod.rs"]
mod common;

mod harness;

mod api_lite;
mod evcc;
mod goe_lib;
mod goechargerv2;
mod golden;
mod home_assistant;
mod legacy_v1;
mod prometheus;
mod wattpilot;
