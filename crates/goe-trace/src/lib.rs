//! The goe trace format: one charger recorded as JSON Lines, so a bug seen on
//! someone's real go-eCharger can be replayed where the unit is not.
//!
//! A trace is UTF-8 text, one JSON object per line, each with a `"type"`:
//!
//! 1. [`Header`] (`"type":"header"`): format name and [`VERSION`], when and
//!    what was recorded, how (WebSocket or polling), the charger's firmware
//!    and serial, the tool, the redactions applied.
//! 2. the full status (`"type":"status"`, [`Snapshot`]) in the charger's key order.
//! 3. one [`Delta`] (`"type":"delta"`) per change: milliseconds since the
//!    start, the changed keys with their new values (in the order the charger
//!    sent them), the keys that vanished.
//!
//! [`Answer`] lines (`"type":"answer"`) hold how the unit answered a write;
//! `goe record` does not write them yet, the kind is reserved for replay.
//! The format is specified in `docs/trace-format.md`.
//!
//! [`Capture`] reads a file that is either a trace or a saved `/api/status`
//! body (for cloning a charger from either).
//!
//! This crate does no I/O of its own: [`Reader`] reads any [`std::io::BufRead`],
//! [`Writer`] writes any [`std::io::Write`] (one flush per line, so a trace
//! cut off at any moment loses at most its last line, which [`Reader`]
//! drops with a [`Warning`]).

mod capture;
mod error;
mod header;
mod line;
mod reader;
mod writer;

pub use capture::{Capture, is_trace};
pub use error::{Problem, TraceError, Warning};
pub use header::{FORMAT, Header, Transport, VERSION};
pub use line::{Answer, Delta, Event, Snapshot};
pub use reader::{MAX_LINE_BYTES, Reader, Trace};
pub use writer::Writer;

/// A JSON object whose keys keep their order (serde_json with
/// `preserve_order`, as everywhere in the project): a status or a delta.
pub type Object = serde_json::Map<String, serde_json::Value>;
