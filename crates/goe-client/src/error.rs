//! What can go wrong when talking to a charger, in words a user can act on.

/// The result of one key of a write: `Ok` or the charger's message for that key.
pub type KeyResult = (String, Result<(), String>);

/// Why a request to the charger did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The charger could not be reached at all (refused, timed out, no route, DNS).
    #[error("cannot reach the charger at {host}: {reason}")]
    Unreachable {
        /// The host as given.
        host: String,
        /// The innermost cause in words (e.g. "connection refused").
        reason: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// HTTP 404 from the local API with the firmware's own 404 text (see
    /// [`is_firmware_404`]): the HTTP API v2 is disabled on the charger (`hai=false`).
    #[error(
        "the charger at {host} answered 404: HTTP API v2 disabled (hai=false; enable the local HTTP API v2 in the go-e app)"
    )]
    ApiDisabled {
        /// The host as given.
        host: String,
    },
    /// Something answered, but not like a go-eCharger's local API: a 404 page
    /// that is not the firmware's, or a status or write answer that is not its
    /// JSON. Usually the wrong address or port (another web server).
    #[error("the server at {host} does not answer like a go-eCharger: {reason}")]
    NotACharger {
        /// The host as given.
        host: String,
        /// What it answered instead (status and shortened body).
        reason: String,
    },
    /// Any other HTTP status that does not carry an answer, with the body the charger sent.
    #[error("the charger at {host} answered HTTP {status}: {body}")]
    Http {
        /// The host as given.
        host: String,
        /// The HTTP status code.
        status: u16,
        /// The response body (shortened).
        body: String,
    },
    /// The answer is not the JSON the API promises.
    #[error("cannot decode the charger's answer: {reason}")]
    Decode {
        /// What is wrong with it.
        reason: String,
    },
    /// At least one key of a write was refused; every key's result in the charger's order.
    #[error("{}", partial_text(.results))]
    PartialFailure {
        /// Each key with `Ok` or the charger's message.
        results: Vec<KeyResult>,
    },
    /// The key is not in the key table.
    #[error("unknown key {key}{}", suggestion_text(.suggestion))]
    UnknownKey {
        /// The name as given.
        key: String,
        /// A key with a similar name, if there is one.
        suggestion: Option<&'static str>,
    },
    /// The key exists but is write-only, so it never appears in a status.
    #[error("key {key} is write-only and cannot be read")]
    NotReadable {
        /// The key.
        key: String,
    },
    /// The charger's status lacks a key that was asked for (older firmware or unsupported key).
    #[error("the charger did not report key {key}")]
    Missing {
        /// The key.
        key: String,
    },
    /// A value that cannot be turned into the JSON the key needs.
    #[error("bad value for {key}: {value:?}: {reason}")]
    BadValue {
        /// The key.
        key: String,
        /// The value as given.
        value: String,
        /// What was expected.
        reason: String,
    },
    /// The host is not an address, a `HOST:PORT` or an `http://` URL, or a serial is malformed.
    #[error("invalid charger address {host:?}: {reason}")]
    InvalidHost {
        /// The host as given.
        host: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The charger refused the password on its WebSocket (`authError`): it is not
    /// the one set in the app or with `/api/set?pass=…`.
    #[error("the charger at {host} refused the password (WebSocket authError)")]
    WrongPassword {
        /// The host as given.
        host: String,
    },
    /// The WebSocket API cannot be used: no connection, the upgrade was refused
    /// (HTTP 400/404), no answer in time, or the charger broke the protocol or closed.
    #[error("cannot use the WebSocket of the charger at {host}: {reason}")]
    WebSocket {
        /// The host as given.
        host: String,
        /// What went wrong, in words (e.g. "connection refused", "HTTP 404: …").
        reason: String,
    },
    /// Cloud API 401: the token is wrong.
    #[error("the go-e cloud refused the token (HTTP 401): check the cloud API key (cak)")]
    Unauthorized,
    /// Cloud API 403: the charger is offline or its cloud API is disabled (`cae=false`).
    #[error(
        "the go-e cloud answered 403: the charger is offline or its cloud API is disabled (cae)"
    )]
    Offline,
    /// Cloud API 404: the cloud has no status newer than the allowed age.
    #[error("the go-e cloud has no recent data (HTTP 404): {reason}")]
    Outdated {
        /// The cloud's reason text.
        reason: String,
    },
}

impl ClientError {
    /// Every key's result of a failed write, if this is a [`ClientError::PartialFailure`].
    pub fn key_results(&self) -> Option<&[KeyResult]> {
        match self {
            ClientError::PartialFailure { results } => Some(results),
            _ => None,
        }
    }
}

fn partial_text(results: &[KeyResult]) -> String {
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().err().cloned())
        .collect();
    format!(
        "the charger refused {} of {} key(s): {}",
        failed.len(),
        results.len(),
        failed.join("; ")
    )
}

fn suggestion_text(suggestion: &Option<&'static str>) -> String {
    match suggestion {
        Some(s) => format!(" (did you mean {s}?)"),
        None => String::new(),
    }
}

impl ClientError {
    /// The per-key results of a write, or [`ClientError::PartialFailure`]
    /// when any key failed (the local API and the cloud answer alike).
    pub(crate) fn unless_partial(results: Vec<KeyResult>) -> Result<Vec<KeyResult>, ClientError> {
        if results.iter().any(|(_, r)| r.is_err()) {
            return Err(ClientError::PartialFailure { results });
        }
        Ok(results)
    }
}

/// The texts of the go-eCharger's own 404 answer (the ESP-IDF httpd's): IDF 4.x
/// as on firmware 05x, and newer IDF as on 60.x. A 404 with any other body
/// comes from something that is not a charger.
pub const FIRMWARE_404_TEXTS: [&str; 2] =
    ["This URI does not exist", "Nothing matches the given URI"];

/// Whether a 404 body is the charger's own (the API is switched off, `hai=false`)
/// rather than another web server's page.
pub fn is_firmware_404(body: &str) -> bool {
    FIRMWARE_404_TEXTS.contains(&body.trim())
}

/// Shortens a body for an error message (at most 200 characters, one line).
pub(crate) fn short_body(body: &str) -> String {
    let one_line: String = body.trim().replace(['\r', '\n'], " ");
    if one_line.chars().count() > 200 {
        let cut: String = one_line.chars().take(200).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// The innermost cause of a transport error, in words.
pub(crate) fn transport_reason(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".to_owned();
    }
    let mut cause: &dyn std::error::Error = err;
    let mut innermost = None;
    while let Some(next) = cause.source() {
        if let Some(io) = next.downcast_ref::<std::io::Error>() {
            innermost = Some(match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
                std::io::ErrorKind::TimedOut => "timed out".to_owned(),
                std::io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
                _ => io.to_string(),
            });
            break;
        }
        cause = next;
    }
    innermost.unwrap_or_else(|| cause.to_string())
}
