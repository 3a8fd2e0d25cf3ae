//! A file that holds a charger's status: a trace, or a saved `/api/status`
//! body (what `goe-charger --clone-from FILE` accepts).

use crate::error::{Problem, TraceError};
use crate::{Object, Trace};
use serde_json::Value;

/// Whether `text` is a trace: its first line is a trace header (a saved
/// status body is one JSON object, whose first line is never one).
pub fn is_trace(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    matches!(
        serde_json::from_str::<Value>(first),
        Ok(Value::Object(o)) if o.get("type").and_then(Value::as_str) == Some("header")
    )
}

/// What a capture file turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Capture {
    /// A trace (its line 1 is a goe trace header).
    Trace(Box<Trace>),
    /// One JSON object: the charger's status as `/api/status` printed it.
    Status(Object),
}

impl Capture {
    /// Reads `text` as a trace if its first line is a trace header, else as
    /// one status object. Errors name the line: a trace's bad line, or where
    /// the status body stops being JSON.
    pub fn parse(text: &str) -> Result<Capture, TraceError> {
        if is_trace(text) {
            return Trace::parse(text).map(|t| Capture::Trace(Box::new(t)));
        }
        if text.trim().is_empty() {
            return Err(TraceError::Empty);
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(status)) => Ok(Capture::Status(status)),
            Ok(_) => Err(TraceError::Malformed {
                line: 1,
                problem: Problem::NotAnObject,
            }),
            Err(e) => Err(TraceError::Malformed {
                line: e.line().max(1),
                problem: Problem::NotJson(e.to_string()),
            }),
        }
    }

    /// The full status: a trace's line 2, or the body.
    pub fn status(&self) -> &Object {
        match self {
            Capture::Trace(t) => &t.status,
            Capture::Status(s) => s,
        }
    }
}
