//! A saved `/api/status` body of a real unit ("capture"), read for
//! `goe-charger --clone-from` (#17).
//!
//! A capture is data: every key the unit printed, in its order, with the raw
//! JSON text of its value. [`Profile::captured`] layers it on the key table
//! (the print order and the keys the table does not know); the server copies
//! its configuration through the API's validation. Pure: the caller reads
//! the file or fetches the URL.

use crate::firmware::Firmware;
use crate::profile::{Profile, profiles};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// Why a text is not a usable capture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// Not JSON, or not a JSON object; serde's reason with its position.
    #[error("not a JSON object: {reason} at line {line} column {column}")]
    Malformed {
        /// serde_json's reason.
        reason: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// An API v1 `/status` document (`"version":"B"`, numbers as strings).
    #[error(
        "an API v1 /status document (it has the v1 key \"version\"); --clone-from needs an API v2 /api/status body"
    )]
    ApiV1,
    /// The same key twice (a real unit prints each key once).
    #[error("key {0:?} appears twice")]
    Duplicate(String),
    /// An empty object.
    #[error("the status is empty (no keys)")]
    Empty,
    /// More keys this project cannot render than a filter can name.
    #[error("{0} keys unknown to this firmware profile; at most {MAX_VERBATIM} are supported")]
    TooManyUnknown(usize),
}

/// How many keys a captured profile may carry verbatim (the filter bitset's size).
pub const MAX_VERBATIM: usize = 256;

/// A parsed capture: `(key, raw JSON text of its value)` in the unit's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The keys and their values as the unit printed them.
    pub entries: Vec<(String, String)>,
}

struct Entries(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object (an /api/status body)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl Capture {
    /// Parses an `/api/status` body (compact or pretty-printed).
    pub fn parse(text: &str) -> Result<Capture, CaptureError> {
        let parsed: Entries = serde_json::from_str(text).map_err(|e| CaptureError::Malformed {
            reason: strip_position(&e.to_string()),
            line: e.line(),
            column: e.column(),
        })?;
        let mut entries: Vec<(String, String)> = Vec::with_capacity(parsed.0.len());
        let mut seen = std::collections::HashSet::new();
        for (k, v) in parsed.0 {
            if !seen.insert(k.clone()) {
                return Err(CaptureError::Duplicate(k));
            }
            entries.push((k, v.get().trim().to_owned()));
        }
        if entries.is_empty() {
            return Err(CaptureError::Empty);
        }
        // `version` is no API v2 key; every API v1 document starts with it
        if crate::key_id("version").is_none() && entries.iter().any(|(k, _)| k == "version") {
            return Err(CaptureError::ApiV1);
        }
        Ok(Capture { entries })
    }

    /// The raw JSON text of `key`.
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The string value of `key` (`fwv`, `sse`).
    pub fn text(&self, key: &str) -> Option<String> {
        match serde_json::from_str(self.raw(key)?) {
            Ok(serde_json::Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The firmware the unit says it runs (`fwv`), if it says and it parses.
    pub fn firmware(&self) -> Option<Firmware> {
        Firmware::parse(&self.text("fwv")?)
    }

    /// The built-in profile nearest to the capture's `fwv` (the older one
    /// on a tie), `fallback` without a usable `fwv` (a filtered capture).
    pub fn nearest_profile(&self, fallback: &'static Profile) -> &'static Profile {
        nearest_profile(self.firmware(), fallback)
    }
}

/// The built-in profile nearest to firmware `fw` (distance in minor
/// versions, the older one on a tie), `fallback` without one: what a clone
/// and a replay of a unit of a firmware we have no profile for run as.
pub fn nearest_profile(fw: Option<Firmware>, fallback: &'static Profile) -> &'static Profile {
    let Some(fw) = fw else {
        return fallback;
    };
    let number = |f: Firmware| f.major as i64 * 1000 + f.minor as i64;
    profiles()
        .iter()
        .min_by_key(|p| (number(p.firmware) - number(fw)).abs())
        .unwrap_or(fallback)
}

/// serde's message without its trailing " at line L column C" (we add ours).
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_raw_text() {
        let c = Capture::parse("{\"b\":1.50,\n \"a\": {\"x\":[1, 2]}, \"fwv\":\"55.6\"}").unwrap();
        let keys: Vec<&str> = c.entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a", "fwv"]);
        assert_eq!(c.raw("b"), Some("1.50"));
        assert_eq!(c.raw("a"), Some("{\"x\":[1, 2]}"));
        assert_eq!(c.nearest_profile(crate::default_profile()).fwv, "56.2");
    }

    #[test]
    fn nearest_profiles() {
        let near = |fwv: &str| {
            Capture::parse(&format!("{{\"fwv\":\"{fwv}\"}}"))
                .unwrap()
                .nearest_profile(crate::default_profile())
                .fwv
        };
        assert_eq!(near("053.1"), "051.4");
        assert_eq!(near("055.2"), "56.2");
        assert_eq!(near("59.0"), "60.5");
        assert_eq!(near("70.1"), "60.5");
        assert_eq!(near("040.0"), "051.4");
        let none = Capture::parse("{\"amp\":6}").unwrap();
        assert_eq!(
            none.nearest_profile(crate::profile("056.2").unwrap()).fwv,
            "56.2"
        );
    }

    #[test]
    fn a_captured_profile_prints_the_capture() {
        use crate::profile::Printed;
        let base = crate::profile("056.2").unwrap();
        let c =
            Capture::parse("{\"zzq\":[1, 2],\"amp\":6,\"fwv\":\"55.6\",\"c0n\":\"x\",\"rst\":1}")
                .unwrap();
        let p = Profile::captured(base, &c).unwrap();
        assert!(
            std::ptr::eq(p, Profile::captured(base, &c).unwrap()),
            "one leak per capture"
        );
        let amp = crate::key_id("amp").unwrap();
        let fwv = crate::key_id("fwv").unwrap();
        assert_eq!(
            p.printed(),
            [
                Printed::Verbatim(0),
                Printed::Key(amp),
                Printed::Key(fwv),
                Printed::Verbatim(1),
                Printed::Verbatim(2)
            ]
        );
        assert_eq!(p.verbatim(0).json, "[1, 2]");
        assert_eq!(p.verbatim_id("c0n"), Some(1), "a key 056.2 lacks");
        assert_eq!(p.verbatim_id("rst"), Some(2), "write-only on 056.2");
        assert_eq!(p.fwv, "55.6");
        assert_eq!(p.firmware, base.firmware);
        let car = crate::key_id("car").unwrap();
        assert!(
            !p.readable(car) && p.def(car).is_some(),
            "not shown, still there"
        );
        assert!(p.readable(amp) && !p.publishes(car));
        let names: Vec<&str> = p.readable_keys().map(|(_, d)| d.name).collect();
        assert_eq!(names, ["amp", "fwv"]);
        assert_eq!(
            p.keys().count(),
            base.keys().count(),
            "every key of the base"
        );
        assert_eq!(p.capture().map(|(_, b)| b.fwv), Some("56.2"));
    }

    #[test]
    fn refusals() {
        match Capture::parse("{\"amp\":6,\n\"x\": }") {
            Err(CaptureError::Malformed {
                line: 2, column, ..
            }) => assert!(column > 0),
            other => panic!("{other:?}"),
        }
        let e = Capture::parse("[1]").unwrap_err().to_string();
        assert!(e.contains("line 1 column"), "{e}");
        assert_eq!(
            Capture::parse("{\"version\":\"B\",\"amp\":\"6\"}"),
            Err(CaptureError::ApiV1)
        );
        assert_eq!(
            Capture::parse("{\"a\":1,\"a\":2}"),
            Err(CaptureError::Duplicate("a".into()))
        );
        assert_eq!(Capture::parse("{}"), Err(CaptureError::Empty));
    }
}
