//! The client side of the WebSocket login and of signed writes, as the go-e
//! app and wattpilot compute them, shared by the push tests (`ws`,
//! `ws_hardening`, `secrets_everywhere`, `durability`).

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// `base64(PBKDF2-HMAC-SHA512(pw, "012345", 100000, 256 B))[..32]` for the
/// passwords these tests use with serial 012345, computed once with Python's
/// `hashlib.pbkdf2_hmac` (independent of the server's code; deriving them
/// here would run 100000 unoptimized SHA-512 rounds per login in a debug
/// build of the test crate). The empty password comes first.
pub const HASHED: &[(&str, &str)] = &[
    ("", "JPppAbqaEdZw2FlNH+SduuuuKCkmO/dI"),
    ("ws-secret 1", "REwxJtDymuCQkOg4q0ZcBoQYRMxBv7Zs"),
    ("right one", "6uN77rsXJgbvmTZeioznCeoZroqZkqRL"),
    ("wrong one", "4s/BsFUF5uesED+Hb2kmyfK275QVB8kT"),
    ("early bird", "7FVMjbuq8AQE01ZppJsLCVEKYvoRsqd3"),
    ("not it", "KKeX5lYPrk8iAVWn1P9GKPb1g65W95jU"),
];

/// The hashed `password` for serial 012345 (see [`HASHED`]).
pub fn hashed(password: &str) -> &'static str {
    HASHED
        .iter()
        .find(|(p, _)| *p == password)
        .map(|(_, h)| *h)
        .unwrap_or_else(|| panic!("no reference hash for password {password:?}: add it to HASHED"))
}

/// Lower-case hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The client's `auth` answer to `authRequired` with tokens 1 and 2.
pub fn auth_message(hashed: &str, token1: &str, token2: &str) -> String {
    let token3 = "0123456789abcdef0123456789abcdef";
    let hash1 = sha256_hex(&format!("{token1}{hashed}"));
    let hash = sha256_hex(&format!("{token3}{token2}{hash1}"));
    json!({"type": "auth", "token3": token3, "hash": hash}).to_string()
}

/// The client's `auth` answer to an `authRequired` frame.
pub fn auth_reply(hashed: &str, challenge: &Value) -> String {
    let token1 = challenge["token1"].as_str().expect("token1");
    let token2 = challenge["token2"].as_str().expect("token2");
    auth_message(hashed, token1, token2)
}

/// A `setValue` wrapped in a `securedMsg` signed with `key` (the hashed
/// password), as wattpilot sends it.
pub fn secured(key: &str, id: u64, name: &str, value: Value) -> String {
    let data =
        json!({"type": "setValue", "requestId": id, "key": name, "value": value}).to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    let hmac = hex::encode(mac.finalize().into_bytes());
    json!({"type": "securedMsg", "data": data, "requestId": format!("{id}sm"), "hmac": hmac})
        .to_string()
}
