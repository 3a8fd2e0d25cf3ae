//! Line 1 of a trace: what was recorded, when and how.

use crate::Object;
use serde::{Deserialize, Serialize};

/// The `format` of every trace header.
pub const FORMAT: &str = "goe-trace";

/// The format version this crate writes and the newest it reads. It only
/// grows when the meaning of an existing field or line kind changes; new
/// optional fields and new line kinds keep it (readers ignore what they do
/// not know), see `docs/trace-format.md`.
pub const VERSION: u32 = 1;

/// How the values were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// The charger's WebSocket: `fullStatus`, then each `deltaStatus`.
    Ws,
    /// `GET /api/status` every `interval_ms`, changes found by comparison.
    Poll,
}

/// The header line (`"type":"header"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version ([`VERSION`] when written by this crate).
    pub version: u32,
    /// When the recording started (time 0 of the lines), host clock, UTC,
    /// RFC 3339 with milliseconds (`2026-12-01T22:46:11.123Z`).
    pub started: String,
    /// What was recorded: the address as given (`192.168.1.50`,
    /// `http://…`), or `"redacted"`.
    pub source: String,
    /// WebSocket or polling.
    pub transport: Transport,
    /// The polling interval in milliseconds (polling only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_ms: Option<u64>,
    /// The charger's firmware version (`fwv`), if it reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fwv: Option<String>,
    /// The charger's serial number (`sse`), if it reported one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The recording tool and its version (`goe 0.1.0`).
    pub tool: String,
    /// The redactions applied (`host`, `ssid`, `ip`, `mac`), in this order;
    /// empty without `--redact`. Secrets are always masked (not listed).
    #[serde(default)]
    pub redactions: Vec<String>,
    /// Fields of newer writers of the same version, kept as they are.
    #[serde(flatten)]
    pub extra: Object,
}

impl Header {
    /// A header of this format version; the optional fields empty.
    pub fn new(started: &str, source: &str, transport: Transport, tool: &str) -> Header {
        Header {
            format: FORMAT.to_owned(),
            version: VERSION,
            started: started.to_owned(),
            source: source.to_owned(),
            transport,
            interval_ms: None,
            fwv: None,
            serial: None,
            tool: tool.to_owned(),
            redactions: Vec::new(),
            extra: Object::new(),
        }
    }
}
