//! The local WebSocket protocol (`/ws`): hello, challenge–response
//! authentication, full and delta status, `setValue` and `securedMsg`.
//!
//! Pure functions and message types; the server owns the socket and the
//! random tokens. Reference: api-v2.md §3 and the wattpilot client.

use goe_engine::{Charger, KeySet, SimTime};
use goe_keys::Printed;
use goe_keys::value::write_string;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Keys per `fullStatus` chunk (the firmware splits to bound frame sizes).
pub const CHUNK_KEYS: usize = 40;

/// The `hello` frame, sent first on every connection.
pub fn hello(charger: &Charger) -> String {
    let text = |key: &str| {
        charger
            .value(key)
            .and_then(goe_keys::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut out = String::from("{\"type\":\"hello\",\"serial\":");
    write_string(charger.serial(), &mut out);
    out.push_str(",\"hostname\":");
    write_string(&text("host"), &mut out);
    out.push_str(",\"friendly_name\":");
    write_string(&text("fna"), &mut out);
    let hello = charger.profile().hello;
    out.push_str(",\"manufacturer\":\"go-e\",\"devicefamily\":\"goecharger\",\"devicetype\":");
    write_string(hello.devicetype, &mut out);
    out.push_str(",\"devicesubtype\":");
    write_string(hello.devicesubtype, &mut out);
    out.push_str(",\"version\":");
    write_string(&text("fwv"), &mut out);
    out.push_str(",\"protocol\":");
    out.push_str(&hello.protocol.to_string());
    if let Some(proto) = hello.proto {
        out.push_str(",\"proto\":");
        out.push_str(&proto.to_string());
    }
    out.push_str(",\"secured\":true}");
    out
}

/// The `authRequired` challenge with the server's two random tokens.
pub fn auth_required(token1: &str, token2: &str) -> String {
    let mut out = String::from("{\"type\":\"authRequired\",\"token1\":");
    write_string(token1, &mut out);
    out.push_str(",\"token2\":");
    write_string(token2, &mut out);
    out.push_str(",\"hash\":\"pbkdf2\"}");
    out
}

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    hex::encode(h.finalize())
}

/// The `hash` a client must send for the stored password hash `hashed`:
/// `sha256_hex(token3 + token2 + sha256_hex(token1 + hashed))`.
pub fn expected_auth_hash(hashed: &str, token1: &str, token2: &str, token3: &str) -> String {
    let hash1 = sha256_hex(&[token1.as_bytes(), hashed.as_bytes()]);
    sha256_hex(&[token3.as_bytes(), token2.as_bytes(), hash1.as_bytes()])
}

/// Whether the client's `auth` proves knowledge of the password (constant time).
pub fn verify_auth(hashed: &str, token1: &str, token2: &str, token3: &str, hash: &str) -> bool {
    let want = expected_auth_hash(hashed, token1, token2, token3);
    constant_time_eq(want.as_bytes(), hash.to_ascii_lowercase().as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `authSuccess`, with the server's own proof (unchecked by known clients).
pub fn auth_success(hashed: &str, token1: &str, token3: &str) -> String {
    let proof = sha256_hex(&[token3.as_bytes(), token1.as_bytes(), hashed.as_bytes()]);
    let mut out = String::from("{\"type\":\"authSuccess\",\"token3\":");
    write_string(token3, &mut out);
    out.push_str(",\"hash\":");
    write_string(&proof, &mut out);
    out.push('}');
    out
}

/// `authError` for a wrong password.
pub fn auth_error(token3: &str) -> String {
    let mut out = String::from("{\"type\":\"authError\",\"token3\":");
    write_string(token3, &mut out);
    out.push_str(",\"message\":\"Wrong password\"}");
    out
}

/// Whether `hmac_hex` is HMAC-SHA256(key = stored password hash, message = data).
pub fn verify_hmac(hashed: &str, data: &str, hmac_hex: &str) -> bool {
    let Ok(given) = hex::decode(hmac_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(hashed.as_bytes()) else {
        return false;
    };
    mac.update(data.as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// The HMAC a client sends for `data` (for tests and the `goe` CLI).
pub fn sign(hashed: &str, data: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(hashed.as_bytes()).expect("any key length");
    mac.update(data.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `fullStatus` frames: every readable key in registration order, in
/// chunks; all but the last say `"partial":true`.
pub fn full_status(charger: &mut Charger, now: SimTime) -> Vec<String> {
    // a clone's verbatim keys are chunked with the others, in print order
    let printed = charger.profile().printed();
    let chunks: Vec<&[Printed]> = printed.chunks(CHUNK_KEYS).collect();
    let mut frames = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        let mut set = KeySet::new();
        for entry in *chunk {
            match *entry {
                Printed::Key(kid) => set.insert(kid),
                Printed::Verbatim(v) => set.insert_verbatim(v),
            }
        }
        let partial = i + 1 < chunks.len();
        let mut out = format!("{{\"type\":\"fullStatus\",\"partial\":{partial},\"status\":");
        charger.write_status(now, Some(&set), &mut out);
        out.push('}');
        frames.push(out);
    }
    frames
}

/// A `deltaStatus` frame for the changed keys, `None` when nothing changed.
pub fn delta_status(charger: &mut Charger, now: SimTime, changed: &KeySet) -> Option<String> {
    if changed.is_empty() {
        return None;
    }
    let mut out = String::from("{\"type\":\"deltaStatus\",\"status\":");
    charger.write_status(now, Some(changed), &mut out);
    out.push('}');
    Some(out)
}

/// A message from a client.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// The answer to `authRequired`.
    Auth {
        /// The client's random token.
        token3: String,
        /// Its proof.
        hash: String,
    },
    /// An unwrapped write (refused on the local, secured connection).
    SetValue {
        /// The client's id, echoed in the response (number or string).
        request_id: serde_json::Value,
        /// The key.
        key: String,
        /// The value as JSON.
        value: serde_json::Value,
    },
    /// A `setValue` wrapped with an HMAC.
    SecuredMsg {
        /// The wrapped message as JSON text (HMAC input).
        data: String,
        /// The outer id (`"<n>sm"`).
        request_id: serde_json::Value,
        /// Hex HMAC-SHA256 of `data`.
        hmac: String,
    },
    /// Any other message type (ignored, as the firmware does).
    Other(String),
}

/// Parses a client frame; `Err` carries a message for the log.
pub fn parse_client(text: &str) -> Result<ClientMessage, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let field = |name: &str| json.get(name).and_then(serde_json::Value::as_str);
    let kind = field("type").ok_or("no type")?;
    Ok(match kind {
        "auth" => ClientMessage::Auth {
            token3: field("token3").ok_or("auth without token3")?.to_owned(),
            hash: field("hash").ok_or("auth without hash")?.to_owned(),
        },
        "setValue" => ClientMessage::SetValue {
            request_id: json.get("requestId").cloned().unwrap_or_default(),
            key: field("key").ok_or("setValue without key")?.to_owned(),
            value: json.get("value").cloned().unwrap_or_default(),
        },
        "securedMsg" => ClientMessage::SecuredMsg {
            data: field("data").ok_or("securedMsg without data")?.to_owned(),
            request_id: json.get("requestId").cloned().unwrap_or_default(),
            hmac: field("hmac").ok_or("securedMsg without hmac")?.to_owned(),
        },
        other => ClientMessage::Other(other.to_owned()),
    })
}

fn push_request_id(id: &serde_json::Value, out: &mut String) {
    match id {
        serde_json::Value::Null => out.push_str("null"),
        other => out.push_str(&other.to_string()),
    }
}

/// A successful `response` with the key's new value.
pub fn response_ok(request_id: &serde_json::Value, key: &str, charger: &Charger) -> String {
    let mut out = String::from("{\"type\":\"response\",\"requestId\":");
    push_request_id(request_id, &mut out);
    out.push_str(",\"success\":true,\"status\":{");
    if let Some((kid, def)) = charger.profile().key(key)
        && def.access.readable()
    {
        write_string(key, &mut out);
        out.push(':');
        charger.write_key(kid, &mut out);
    }
    out.push_str("}}");
    out
}

/// A failed `response` with the firmware's message.
pub fn response_error(request_id: &serde_json::Value, message: &str) -> String {
    let mut out = String::from("{\"type\":\"response\",\"requestId\":");
    push_request_id(request_id, &mut out);
    out.push_str(",\"success\":false,\"message\":");
    write_string(message, &mut out);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASHED: &str = "abcdefghijklmnopqrstuvwxyz012345";

    #[test]
    fn auth_round_trip() {
        let h = expected_auth_hash(HASHED, "t1", "t2", "t3");
        assert!(verify_auth(HASHED, "t1", "t2", "t3", &h));
        assert!(verify_auth(HASHED, "t1", "t2", "t3", &h.to_uppercase()));
        assert!(!verify_auth(HASHED, "t1", "t2", "t4", &h));
        assert!(!verify_auth(
            "other-password-hash-xxxxxxxxxxx",
            "t1",
            "t2",
            "t3",
            &h
        ));
    }

    #[test]
    fn hmac_round_trip() {
        let data = r#"{"type": "setValue", "requestId": 1, "key": "amp", "value": 10}"#;
        let mac = sign(HASHED, data);
        assert!(verify_hmac(HASHED, data, &mac));
        assert!(!verify_hmac(HASHED, &data.replace("10", "16"), &mac));
        assert!(!verify_hmac(HASHED, data, "zz"));
    }

    #[test]
    fn parses_client_messages() {
        assert_eq!(
            parse_client(r#"{"type":"auth","token3":"a","hash":"b"}"#),
            Ok(ClientMessage::Auth {
                token3: "a".into(),
                hash: "b".into()
            })
        );
        assert!(matches!(
            parse_client(r#"{"type":"securedMsg","data":"{}","requestId":"1sm","hmac":"00"}"#),
            Ok(ClientMessage::SecuredMsg { .. })
        ));
        assert!(parse_client("nope").is_err());
        assert_eq!(
            parse_client(r#"{"type":"ping"}"#),
            Ok(ClientMessage::Other("ping".into()))
        );
    }

    #[test]
    fn full_status_chunks_cover_every_readable_key_once() {
        let now = SimTime(1_717_394_400_000);
        let mut c = Charger::boot("012345", None, now, 1).unwrap();
        let frames = full_status(&mut c, now);
        assert!(frames.len() > 1);
        let mut keys = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(f).unwrap();
            assert_eq!(v["type"], "fullStatus");
            assert_eq!(v["partial"], i + 1 < frames.len());
            keys.extend(v["status"].as_object().unwrap().keys().cloned());
        }
        let readable: Vec<String> = c
            .profile()
            .readable_keys()
            .map(|(_, k)| k.name.to_owned())
            .collect();
        assert_eq!(keys, readable);
        assert!(!frames.concat().contains("\"pass\""));
    }

    #[test]
    fn hello_names_the_device() {
        let now = SimTime(1_717_394_400_000);
        let c = Charger::boot("012345", None, now, 1).unwrap();
        let v: serde_json::Value = serde_json::from_str(&hello(&c)).unwrap();
        assert_eq!(v["serial"], "012345");
        assert_eq!(v["manufacturer"], "go-e");
        assert_eq!(v["secured"], true);
        assert_eq!(v["protocol"], 2);
        // the `host` of the profile (060.5: `go-echarger_<serial>`)
        assert_eq!(v["hostname"], "go-echarger_012345");
    }

    #[test]
    fn hello_follows_the_firmware() {
        let now = SimTime(1_717_394_400_000);
        for (version, fwv, proto) in [
            ("060.5", "60.5", Some(4)),
            ("056.2", "56.2", None),
            ("051.4", "051.4", None),
        ] {
            let profile = goe_keys::profile(version).unwrap();
            let c = Charger::boot_on(profile, "012345", None, now, 1).unwrap();
            let v: serde_json::Value = serde_json::from_str(&hello(&c)).unwrap();
            assert_eq!(v["version"], fwv, "{version}");
            assert_eq!(v["devicetype"], "go-eCharger_V4", "{version}");
            assert_eq!(v["devicesubtype"], "", "{version}");
            assert_eq!(v.get("proto").and_then(|p| p.as_u64()), proto, "{version}");
        }
    }
}
