//! Integration tests of the `goe-charger` binary's HTTP API v2 over real
//! sockets: the real binary is started on `127.0.0.1:0` in a temporary data
//! directory and driven with reqwest (or raw TCP for malformed requests).
//!
//! One test binary keeps link time down; the modules:
//! - [`status`]: `/api/status` key set, order, JSON kinds, headers, counters,
//!   clock formats, 404/414.
//! - [`filter`]: `?filter=` semantics.
//! - [`set`]: `/api/set` round trips for every writable key, error texts, 500 on
//!   partial failure, duplicates, `rst`.
//! - [`persistence`]: graceful restarts, `kill -9` during write bursts, corrupt store.
//! - [`secrets`]: secrets never leave the charger.
//! - [`fixtures`]: type/shape/float-format compatibility with real captures.
//! - [`captures`]: every real v2 capture against the charger of its closest
//!   firmware profile (key set, kinds and shapes, MQTT publication set, order).
//! - [`bad_input`]: malformed requests and a seeded fuzz loop.
//! - [`durability`]: every write path refuses on a full disk (tiny tmpfs).
//! - [`store_load`]: invalid `config.json` values, the data-directory lock,
//!   a start that fails on its port.
//! - [`advance`]: a long `/sim/advance` does not freeze the charger.
//! - [`raw_request`]: raw `"`, `[`, `{`, `<`, `>`, spaces, UTF-8 in the request
//!   line answered like their percent-encoded forms; refused heads in httpd's style.
//! - [`types`]: the types that changed per firmware (`--firmware 060.5/056.2/051.4`).
//! - [`client_keys`]: keys clients read on newer firmware (#12): per-card
//!   keys ↔ `cards`, `awcp` never null, the energy split by source, defaults.
//! - [`connections`]: header and idle timeouts, the connection cap with LRU
//!   purging, memory after a connection storm.

#[path = "../common/mod.rs"]
mod common;

mod advance;
mod bad_input;
mod captures;
mod client_keys;
mod clients;
mod connections;
mod durability;
mod filter;
mod fixtures;
mod persistence;
mod raw_request;
mod secrets;
mod set;
mod status;
mod store_load;
/// The MQTT helpers of the push tests (a private mosquitto, a subscriber),
/// used by [`captures`].
#[path = "../push/support.rs"]
mod support;
mod tiny_disk;
mod types;
