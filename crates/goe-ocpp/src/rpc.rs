//! OCPP-J 1.6 framing (OCPP-J 1.6 §4): the three message types as JSON
//! arrays, the CALLERROR codes with their 1.6 spellings, and the charge
//! point's unique message ids.
//!
//! Parsing never panics: a frame that cannot be understood is either
//! answered with a CALLERROR (when its message id can be read) or ignored.

use serde_json::{Map, Value};

/// The largest frame the charge point reads (bytes). A real go-e runs on an
/// ESP32 with small buffers; anything larger is refused unread.
pub const MAX_FRAME: usize = 64 * 1024;

/// OCPP-J §4.1.4: a message id has at most 36 characters.
pub const MAX_ID: usize = 36;

/// The first unique id a real go-e uses after boot (traces in notes §4.10).
pub const FIRST_ID: u64 = 531_531_531;

/// A CALLERROR code (OCPP-J 1.6 §4.2.3), spelled as 1.6 spells them
/// (`FormationViolation`, `OccurenceConstraintViolation`: errata "do not fix").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The action is not known.
    NotImplemented,
    /// The action is known but not supported.
    NotSupported,
    /// An internal error.
    InternalError,
    /// The payload is incomplete.
    ProtocolError,
    /// A security problem.
    SecurityError,
    /// Syntactically wrong or not the PDU structure.
    FormationViolation,
    /// A field has an invalid value.
    PropertyConstraintViolation,
    /// A field occurs too often or not at all.
    OccurenceConstraintViolation,
    /// A field has the wrong data type.
    TypeConstraintViolation,
    /// Anything else.
    GenericError,
}

impl ErrorCode {
    /// The code as it goes on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotImplemented => "NotImplemented",
            ErrorCode::NotSupported => "NotSupported",
            ErrorCode::InternalError => "InternalError",
            ErrorCode::ProtocolError => "ProtocolError",
            ErrorCode::SecurityError => "SecurityError",
            ErrorCode::FormationViolation => "FormationViolation",
            ErrorCode::PropertyConstraintViolation => "PropertyConstraintViolation",
            ErrorCode::OccurenceConstraintViolation => "OccurenceConstraintViolation",
            ErrorCode::TypeConstraintViolation => "TypeConstraintViolation",
            ErrorCode::GenericError => "GenericError",
        }
    }
}

/// An error the charge point answers a CALL with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    /// The code.
    pub code: ErrorCode,
    /// A human-readable description ("" allowed).
    pub description: String,
}

impl RpcError {
    /// An error with a description.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> RpcError {
        RpcError {
            code,
            description: description.into(),
        }
    }
}

/// A frame read from the socket.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// `[2, id, action, payload]`: a request from the backend.
    Call {
        /// Message id.
        id: String,
        /// The action name.
        action: String,
        /// The payload object.
        payload: Map<String, Value>,
    },
    /// `[3, id, payload]`: the answer to one of our calls (the payload is
    /// checked by whoever made the call).
    CallResult {
        /// Message id of our call.
        id: String,
        /// The payload (an object when the backend is correct).
        payload: Value,
    },
    /// `[4, id, code, description, details]`: our call failed. Any code
    /// string is accepted (backends spell them differently).
    CallError {
        /// Message id of our call.
        id: String,
        /// The error code as sent.
        code: String,
        /// The description as sent ("" if missing or not a string).
        description: String,
    },
}

/// Why a frame was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// A CALL whose id is known: answer it with this CALLERROR.
    Answer {
        /// The id to answer.
        id: String,
        /// The error.
        error: RpcError,
    },
    /// Nothing can be answered (no readable id, a response, an unknown
    /// message type): drop it (OCPP-J §4.1.3).
    Ignore,
}

/// Parses one text frame.
pub fn parse(text: &str) -> Result<Frame, ParseError> {
    if text.len() > MAX_FRAME {
        return Err(answer_prefix(text, "frame too large"));
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => return Err(answer_prefix(text, "not valid JSON")),
    };
    let Value::Array(items) = value else {
        return Err(ParseError::Ignore);
    };
    let Some(kind) = items.first().and_then(Value::as_u64) else {
        return Err(ParseError::Ignore);
    };
    let Some(id) = items.get(1).and_then(Value::as_str).map(str::to_owned) else {
        return Err(ParseError::Ignore);
    };
    match kind {
        2 => parse_call(id, items),
        3 => {
            if items.len() != 3 {
                return Err(ParseError::Ignore);
            }
            let payload = items.into_iter().nth(2).unwrap_or(Value::Null);
            Ok(Frame::CallResult { id, payload })
        }
        4 => {
            if items.len() < 3 {
                return Err(ParseError::Ignore);
            }
            let code = items[2].as_str().unwrap_or("GenericError").to_owned();
            let description = items
                .get(3)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            Ok(Frame::CallError {
                id,
                code,
                description,
            })
        }
        _ => Err(ParseError::Ignore),
    }
}

fn parse_call(id: String, items: Vec<Value>) -> Result<Frame, ParseError> {
    let fail = |id: String, code, text: &str| ParseError::Answer {
        id,
        error: RpcError::new(code, text),
    };
    if id.is_empty() || id.chars().count() > MAX_ID {
        return Err(fail(
            id,
            ErrorCode::FormationViolation,
            "message id must have 1 to 36 characters",
        ));
    }
    if items.len() != 4 {
        return Err(fail(
            id,
            ErrorCode::FormationViolation,
            "a CALL has 4 elements",
        ));
    }
    let mut it = items.into_iter().skip(2);
    let action = match it.next() {
        Some(Value::String(a)) => a,
        _ => {
            return Err(fail(
                id,
                ErrorCode::FormationViolation,
                "action must be a string",
            ));
        }
    };
    match it.next() {
        Some(Value::Object(payload)) => Ok(Frame::Call {
            id,
            action,
            payload,
        }),
        _ => Err(fail(
            id,
            ErrorCode::FormationViolation,
            "payload must be an object",
        )),
    }
}

/// For text that is not JSON (or too large): if it starts like a CALL
/// (`[2,"id"`), the id can still be read and answered.
fn answer_prefix(text: &str, why: &str) -> ParseError {
    match call_id_prefix(text) {
        Some(id) => ParseError::Answer {
            id,
            error: RpcError::new(ErrorCode::FormationViolation, why),
        },
        None => ParseError::Ignore,
    }
}

fn call_id_prefix(text: &str) -> Option<String> {
    let rest = text.trim_start().strip_prefix('[')?.trim_start();
    let rest = rest
        .strip_prefix('2')?
        .trim_start()
        .strip_prefix(',')?
        .trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    let id = &rest[..end];
    (!id.is_empty() && id.chars().count() <= MAX_ID && !id.contains('\\')).then(|| id.to_owned())
}

/// `[2,"id","Action",{…}]`, compact.
pub fn encode_call(id: &str, action: &str, payload: &Value) -> String {
    serde_json::to_string(&(2, id, action, payload)).unwrap_or_default()
}

/// `[3,"id",{…}]`, compact.
pub fn encode_result(id: &str, payload: &Value) -> String {
    serde_json::to_string(&(3, id, payload)).unwrap_or_default()
}

/// `[4,"id","Code","description",{}]`, compact.
pub fn encode_error(id: &str, error: &RpcError) -> String {
    serde_json::to_string(&(
        4,
        id,
        error.code.as_str(),
        &error.description,
        Value::Object(Map::new()),
    ))
    .unwrap_or_default()
}

/// The unique ids of the charge point's CALLs: a decimal counter from
/// [`FIRST_ID`], as a real go-e numbers them.
#[derive(Debug, Clone)]
pub struct IdGen {
    next: u64,
}

impl Default for IdGen {
    fn default() -> Self {
        IdGen { next: FIRST_ID }
    }
}

impl IdGen {
    /// The next id.
    pub fn next_id(&mut self) -> String {
        let id = self.next;
        self.next += 1;
        id.to_string()
    }
}

/// Is `action` one of the OCPP 1.6 actions (core, profiles and the security
/// extension) that the go-e recognizes but does not implement? Those get
/// NotSupported; names not known at all get NotImplemented (OCPP-J §4.2.3).
pub fn known_unsupported(action: &str) -> bool {
    matches!(
        action,
        "ClearCache"
            | "GetDiagnostics"
            | "ReserveNow"
            | "CancelReservation"
            | "GetCompositeSchedule"
            | "GetLocalListVersion"
            | "SendLocalList"
            | "CertificateSigned"
            | "DeleteCertificate"
            | "ExtendedTriggerMessage"
            | "GetInstalledCertificateIds"
            | "GetLog"
            | "InstallCertificate"
            | "SignedUpdateFirmware"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn code_of(text: &str) -> Option<(String, ErrorCode)> {
        match parse(text) {
            Err(ParseError::Answer { id, error }) => Some((id, error.code)),
            _ => None,
        }
    }

    #[test]
    fn parses_the_three_message_types() {
        assert_eq!(
            parse(r#"[2,"19223201","Heartbeat",{}]"#),
            Ok(Frame::Call {
                id: "19223201".into(),
                action: "Heartbeat".into(),
                payload: Map::new()
            })
        );
        assert_eq!(
            parse(r#"[3,"531531531",{"status":"Accepted"}]"#),
            Ok(Frame::CallResult {
                id: "531531531".into(),
                payload: json!({"status":"Accepted"})
            })
        );
        assert_eq!(
            parse(r#"[4,"7","FormatViolation","bad",{}]"#),
            Ok(Frame::CallError {
                id: "7".into(),
                code: "FormatViolation".into(),
                description: "bad".into()
            })
        );
    }

    #[test]
    fn garbage_with_a_readable_id_is_a_formation_violation() {
        assert_eq!(
            code_of(r#"[2,"42","Heartbeat",{"#),
            Some(("42".into(), ErrorCode::FormationViolation))
        );
        assert_eq!(
            code_of(r#"[2,"42","Heartbeat",null]"#),
            Some(("42".into(), ErrorCode::FormationViolation))
        );
        assert_eq!(
            code_of(r#"[2,"42","Heartbeat"]"#),
            Some(("42".into(), ErrorCode::FormationViolation))
        );
        assert_eq!(
            code_of(r#"[2,"42",7,{}]"#),
            Some(("42".into(), ErrorCode::FormationViolation))
        );
        let long = format!(r#"[2,"{}","Heartbeat",{{}}]"#, "x".repeat(37));
        assert!(matches!(
            code_of(&long),
            Some((_, ErrorCode::FormationViolation))
        ));
        let big = format!(
            r#"[2,"9","DataTransfer",{{"vendorId":"{}"}}]"#,
            "x".repeat(MAX_FRAME)
        );
        assert_eq!(
            code_of(&big),
            Some(("9".into(), ErrorCode::FormationViolation))
        );
    }

    #[test]
    fn frames_without_a_readable_id_are_ignored() {
        for text in [
            "",
            "hello",
            "{}",
            "[]",
            "[2]",
            "[2,5,\"Heartbeat\",{}]",
            "[5,\"1\",{}]",
            "[\"2\",\"1\",\"A\",{}]",
            "[3,\"1\"]",
        ] {
            assert_eq!(parse(text), Err(ParseError::Ignore), "{text}");
        }
    }

    #[test]
    fn encodes_compact_frames() {
        assert_eq!(
            encode_call("531531531", "Heartbeat", &json!({})),
            r#"[2,"531531531","Heartbeat",{}]"#
        );
        assert_eq!(
            encode_result("a", &json!({"status":"Accepted"})),
            r#"[3,"a",{"status":"Accepted"}]"#
        );
        assert_eq!(
            encode_error("a", &RpcError::new(ErrorCode::NotSupported, "no")),
            r#"[4,"a","NotSupported","no",{}]"#
        );
    }

    #[test]
    fn ids_count_up_from_the_go_e_start() {
        let mut ids = IdGen::default();
        assert_eq!(ids.next_id(), "531531531");
        assert_eq!(ids.next_id(), "531531532");
    }

    proptest::proptest! {
        #[test]
        fn random_text_never_panics(text in ".{0,200}") {
            let _ = parse(&text);
        }

        #[test]
        fn random_call_like_text_never_panics(id in "[0-9a-z\"\\\\]{0,40}", body in "[\\[\\]{}\",:0-9a-z ]{0,60}") {
            let _ = parse(&format!("[2,\"{id}\",{body}"));
        }
    }
}
