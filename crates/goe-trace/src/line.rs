//! The line kinds after the header, as typed values, and their JSON.

use crate::error::Problem;
use crate::{Header, Object};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The full status at `t` (`"type":"status"`): line 2 of every trace, and
/// later ones where a recorder took a fresh full status (keys missing from
/// it are gone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Milliseconds since the header's `started`.
    pub t: u64,
    /// Every key the charger printed, in its order, with its value.
    pub status: Object,
}

/// A change (`"type":"delta"`): the keys whose value changed at `t`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Delta {
    /// Milliseconds since the header's `started`.
    pub t: u64,
    /// The changed (or new) keys with their values, in the charger's order.
    #[serde(default)]
    pub changes: Object,
    /// Keys the charger no longer prints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

impl Delta {
    /// What changed from `old` to `new`, at `t`: keys of `new` whose value
    /// differs or that `old` lacks (in `new`'s order), keys of `old` that
    /// `new` lacks (in `old`'s order).
    pub fn between(t: u64, old: &Object, new: &Object) -> Delta {
        let changes = new
            .iter()
            .filter(|(k, v)| old.get(*k) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let removed = old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect();
        Delta {
            t,
            changes,
            removed,
        }
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.removed.is_empty()
    }

    /// Applies the change to `status`: changed keys take their new value in
    /// place, new keys go to the end, removed keys are taken out keeping the
    /// order of the others.
    pub fn apply(&self, status: &mut Object) {
        for (k, v) in &self.changes {
            status.insert(k.clone(), v.clone());
        }
        for k in &self.removed {
            status.shift_remove(k);
        }
    }
}

/// How the unit answered a write (`"type":"answer"`). Reserved: `goe record`
/// does not write these yet; a replay answers writes of keys it does not
/// know the way an answer line shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// Milliseconds since the header's `started`.
    pub t: u64,
    /// The API written through: `http` (`/api/set`), `ws` (`setValue`), `mqtt`, `v1`.
    pub api: String,
    /// The keys written with the values sent, in the request's order.
    pub request: Object,
    /// The HTTP status of the answer (HTTP and v1 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The unit's answer: its JSON body (`{"amp":true}`, `{"xyz":"…"}`), or a
    /// string when it was not JSON.
    pub response: Value,
}

/// One line after the header.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A full status.
    Status(Snapshot),
    /// A change.
    Delta(Delta),
    /// An answer to a write.
    Answer(Answer),
    /// A kind this reader does not know (a newer writer's addition of the
    /// same version): kept for the caller to skip or report.
    Unknown {
        /// Its `"type"`.
        kind: String,
        /// The whole line.
        line: Object,
    },
}

impl Event {
    /// The line's time, for kinds that have one.
    pub fn t(&self) -> Option<u64> {
        match self {
            Event::Status(s) => Some(s.t),
            Event::Delta(d) => Some(d.t),
            Event::Answer(a) => Some(a.t),
            Event::Unknown { line, .. } => line.get("t").and_then(Value::as_u64),
        }
    }
}

/// `{"type": kind, …fields of value}` as one line of JSON text (no newline).
pub(crate) fn render(kind: &str, value: &impl Serialize) -> String {
    let mut line = Object::new();
    line.insert("type".to_owned(), Value::String(kind.to_owned()));
    if let Ok(Value::Object(fields)) = serde_json::to_value(value) {
        line.extend(fields);
    }
    Value::Object(line).to_string()
}

/// The header as a line.
pub(crate) fn render_header(header: &Header) -> String {
    render("header", header)
}

/// The object of one line and its `"type"`.
pub(crate) fn split(text: &str) -> Result<(String, Object), Problem> {
    let value: Value = serde_json::from_str(text).map_err(|e| Problem::NotJson(e.to_string()))?;
    let Value::Object(mut object) = value else {
        return Err(Problem::NotAnObject);
    };
    match object.shift_remove("type") {
        Some(Value::String(kind)) => Ok((kind, object)),
        _ => Err(Problem::NoType),
    }
}

/// A line's fields as `T`.
pub(crate) fn fields<T: serde::de::DeserializeOwned>(
    kind: &'static str,
    object: Object,
) -> Result<T, Problem> {
    serde_json::from_value(Value::Object(object)).map_err(|e| Problem::BadField {
        kind,
        reason: e.to_string(),
    })
}

/// The header from line 1's fields: format and version first (a newer
/// version may have changed the other fields).
pub(crate) fn header(object: Object) -> Result<Header, Problem> {
    match object.get("format") {
        Some(Value::String(f)) if f == crate::FORMAT => {}
        Some(Value::String(f)) => return Err(Problem::NotATrace(f.clone())),
        _ => {
            return Err(Problem::BadField {
                kind: "header",
                reason: "missing string field `format`".to_owned(),
            });
        }
    }
    if let Some(found) = object.get("version").and_then(Value::as_u64)
        && found > u64::from(crate::VERSION)
    {
        return Err(Problem::NewerVersion {
            found,
            supported: crate::VERSION,
        });
    }
    fields("header", object)
}

/// An event from its kind and fields.
pub(crate) fn event(kind: String, object: Object) -> Result<Event, Problem> {
    Ok(match kind.as_str() {
        "status" => Event::Status(fields("status", object)?),
        "delta" => Event::Delta(fields("delta", object)?),
        "answer" => Event::Answer(fields("answer", object)?),
        "header" => return Err(Problem::SecondHeader),
        _ => Event::Unknown { kind, line: object },
    })
}
