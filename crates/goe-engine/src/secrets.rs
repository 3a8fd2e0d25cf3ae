//! The password hash the firmware stores instead of the password.
//!
//! `pass` is write-only: the engine keeps only
//! `base64(PBKDF2-HMAC-SHA512(password, salt = serial, 100000 rounds, 256 bytes))[..32]`,
//! the same value the WebSocket authentication derives on the client side.

use base64::Engine as _;
use sha2::Sha512;

/// PBKDF2 rounds used by the firmware.
pub const PBKDF2_ROUNDS: u32 = 100_000;

/// The stored form of a password for the charger with this serial.
pub fn password_hash(password: &str, serial: &str) -> String {
    let mut out = [0u8; 256];
    pbkdf2::pbkdf2_hmac::<Sha512>(
        password.as_bytes(),
        serial.as_bytes(),
        PBKDF2_ROUNDS,
        &mut out,
    );
    let mut b64 = base64::engine::general_purpose::STANDARD.encode(out);
    b64.truncate(32);
    b64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_32_chars_and_depends_on_serial() {
        let a = password_hash("secret", "012345");
        let b = password_hash("secret", "012346");
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(!a.contains("secret"));
    }
}
