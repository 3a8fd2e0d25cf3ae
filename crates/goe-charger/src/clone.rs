//! `goe-charger --clone-from HOST|FILE` (#17): a live virtual charger
//! configured like a real one.
//!
//! The capture (a real unit's `/api/status` body) becomes a captured
//! firmware profile ([`goe_keys::Profile::captured`]: its keys in its order,
//! unknown ones verbatim, on the nearest built-in profile), and its
//! configuration is written through the API's validation. The store keeps
//! the capture ([`store_entry`]), so a restart on the same data directory is
//! the same clone. A FILE may also be a trace (`goe record`): the clone takes
//! the state the trace starts with (its line 2).

use crate::device::Device;
use goe_keys::{Capture, CaptureError, Category, Profile, Secret, SetError};
use std::path::PathBuf;
use std::time::Duration;

/// Where a clone's capture comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloneSource {
    /// A live unit (or `goe-charger`): `GET http://HOST/api/status` once.
    Host(String),
    /// A saved `/api/status` body, or a trace (`goe record`; detected by its
    /// header line).
    File(PathBuf),
}

/// How long fetching a unit's status may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Why no clone could be made.
#[derive(Debug, thiserror::Error)]
pub enum CloneError {
    /// The file could not be read.
    #[error("--clone-from {path}: cannot read it: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The unit did not answer (or not with its status).
    #[error("--clone-from {host}: cannot fetch {url}: {reason}")]
    Fetch {
        /// As given.
        host: String,
        /// What was asked.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The file is a trace with a bad line.
    #[error("--clone-from {origin}: {source}")]
    Trace {
        /// The file.
        origin: String,
        /// The line and why.
        source: goe_trace::TraceError,
    },
    /// The text is no usable capture.
    #[error("--clone-from {origin}: {source}")]
    Capture {
        /// The file or host.
        origin: String,
        /// Why.
        source: CaptureError,
    },
}

impl CloneSource {
    /// `--clone-from`'s argument: an existing file, else a host (`host`,
    /// `host:port` or `http://host[:port]`); a path-like argument that names no
    /// file stays a file (and fails to read, saying so).
    pub fn parse(arg: &str) -> CloneSource {
        let path = std::path::Path::new(arg);
        let host_like = arg.starts_with("http://")
            || (!arg.contains('/') && !arg.contains('\\') && !arg.ends_with(".json"));
        if path.is_file() || !host_like {
            CloneSource::File(path.to_owned())
        } else {
            CloneSource::Host(arg.to_owned())
        }
    }

    /// How errors and logs name it.
    pub fn origin(&self) -> String {
        match self {
            CloneSource::Host(h) => h.clone(),
            CloneSource::File(p) => p.display().to_string(),
        }
    }

    /// The status body, read or fetched once.
    pub async fn body(&self) -> Result<String, CloneError> {
        match self {
            CloneSource::File(path) => {
                std::fs::read_to_string(path).map_err(|source| CloneError::Read {
                    path: path.display().to_string(),
                    source,
                })
            }
            CloneSource::Host(host) => {
                let base = host.strip_prefix("http://").unwrap_or(host);
                let url = format!("http://{}/api/status", base.trim_end_matches('/'));
                let fail = |reason: String| CloneError::Fetch {
                    host: host.clone(),
                    url: url.clone(),
                    reason,
                };
                let client = reqwest::Client::builder()
                    .timeout(FETCH_TIMEOUT)
                    .no_proxy()
                    .build()
                    .map_err(|e| fail(e.to_string()))?;
                let resp = client.get(&url).send().await.map_err(|e| {
                    fail(if e.is_timeout() {
                        format!("no answer within {} s", FETCH_TIMEOUT.as_secs())
                    } else {
                        format!("unreachable ({e})")
                    })
                })?;
                let status = resp.status();
                let text = resp.text().await.map_err(|e| fail(e.to_string()))?;
                if !status.is_success() {
                    return Err(fail(format!("HTTP {status}")));
                }
                Ok(text)
            }
        }
    }

    /// The capture and the captured profile on the built-in profile
    /// nearest to its `fwv` (`fallback`, i.e. `--firmware`, without one).
    pub async fn load(
        &self,
        fallback: &'static Profile,
    ) -> Result<(Capture, &'static Profile), CloneError> {
        let body = self.body().await?;
        let err = |source| CloneError::Capture {
            origin: self.origin(),
            source,
        };
        let body = status_of_trace(&body).map_err(|source| CloneError::Trace {
            origin: self.origin(),
            source,
        })?;
        let capture = Capture::parse(&body).map_err(err)?;
        let profile =
            Profile::captured(capture.nearest_profile(fallback), &capture).map_err(err)?;
        Ok((capture, profile))
    }
}

/// A trace's first full status (line 2: the unit as it was when the
/// recording began, before what the trace shows happened) as a status body
/// (keys in the charger's order; numbers as the trace holds them); any other
/// text unchanged, for the capture parser to read (or refuse) as a status body.
fn status_of_trace(body: &str) -> Result<String, goe_trace::TraceError> {
    if !goe_trace::is_trace(body) {
        return Ok(body.to_owned());
    }
    let trace = goe_trace::Trace::parse(body)?;
    Ok(serde_json::Value::Object(trace.status).to_string())
}

/// The serial a clone keeps: the capture's `sse` if it is one `--serial` accepts.
pub fn captured_serial(capture: &Capture) -> Option<String> {
    let sse = capture.text("sse")?;
    let ok = (1..=16).contains(&sse.len()) && sse.bytes().all(|b| b.is_ascii_alphanumeric());
    ok.then_some(sse)
}

/// The capture's settings that are copied: Config keys the profile has,
/// writable and not secret (a capture shows secrets masked anyway), in the
/// capture's order, as `(key, raw JSON)`.
pub fn settings(profile: &Profile, capture: &Capture) -> Vec<(String, String)> {
    capture
        .entries
        .iter()
        .filter(|(name, _)| {
            profile.verbatim_id(name).is_none()
                && profile.key(name).is_some_and(|(_, def)| {
                    def.category == Category::Config
                        && def.access.writable()
                        && def.secret == Secret::No
                })
        })
        .cloned()
        .collect()
}

/// Writes the capture's settings into `device` through the API's validation
/// (one save); returns the refused ones with the firmware's reason.
/// Blocking (fsync).
/// `hai` (the local HTTP API v2) is never copied: a clone is there to be
/// read, and a unit captured over MQTT often has it off (docs/compat.md).
pub fn copy_settings(device: &Device, capture: &Capture) -> (usize, Vec<(String, SetError)>) {
    let mut pairs = settings(device.firmware(), capture);
    let mut refused = Vec::new();
    if let Some(at) = pairs.iter().position(|(k, _)| k == KEPT_ON) {
        let (key, raw) = pairs.remove(at);
        if raw != "true" {
            let why = "the clone keeps its local HTTP API on (the unit had it off)";
            refused.push((key, SetError::Rejected(why.into())));
        }
    }
    let results = device.set_each(&pairs);
    let copied = results.iter().filter(|(_, r)| r.is_ok()).count();
    refused.extend(
        results
            .into_iter()
            .filter_map(|(k, r)| r.err().map(|e| (k, e))),
    );
    (copied, refused)
}

/// The setting a clone never takes over (see [`copy_settings`]).
pub const KEPT_ON: &str = "hai";

/// What the store keeps of a captured profile (`config.json`'s `clone`):
/// the base firmware and the capture as a JSON object text (raw values kept).
pub fn store_entry(profile: &Profile) -> Option<serde_json::Value> {
    let (capture, base) = profile.capture()?;
    let mut text = String::from("{");
    for (i, (k, v)) in capture.entries.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        goe_keys::value::write_string(k, &mut text);
        text.push(':');
        text.push_str(v);
    }
    text.push('}');
    Some(serde_json::json!({ "base": base.firmware.to_string(), "status": text }))
}

/// The captured profile a store's `clone` entry describes.
pub fn profile_from_store(entry: &serde_json::Value) -> Result<&'static Profile, String> {
    let base = entry
        .get("base")
        .and_then(serde_json::Value::as_str)
        .ok_or("clone: no base firmware")?;
    let base = goe_keys::profile(base).map_err(|e| format!("clone: {e}"))?;
    let status = entry
        .get("status")
        .and_then(serde_json::Value::as_str)
        .ok_or("clone: no status")?;
    let capture = Capture::parse(status).map_err(|e| format!("clone: {e}"))?;
    Profile::captured(base, &capture).map_err(|e| format!("clone: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert_eq!(
            CloneSource::parse("192.168.1.7"),
            CloneSource::Host("192.168.1.7".into())
        );
        assert_eq!(
            CloneSource::parse("http://127.0.0.1:8080"),
            CloneSource::Host("http://127.0.0.1:8080".into())
        );
        assert_eq!(
            CloneSource::parse("status.json"),
            CloneSource::File("status.json".into())
        );
        assert_eq!(
            CloneSource::parse("dir/status"),
            CloneSource::File("dir/status".into())
        );
    }

    #[test]
    fn store_entries_rebuild_the_same_profile() {
        let capture = Capture::parse("{\"zz\": [1, 2.50],\"amp\":6,\"fwv\":\"55.6\"}").unwrap();
        let p = Profile::captured(
            capture.nearest_profile(goe_keys::default_profile()),
            &capture,
        )
        .unwrap();
        let entry = store_entry(p).unwrap();
        let back = profile_from_store(&entry).unwrap();
        assert!(std::ptr::eq(p, back), "{entry}");
        assert!(store_entry(goe_keys::default_profile()).is_none());
        assert_eq!(settings(p, &capture), [("amp".to_owned(), "6".to_owned())]);
    }
}
