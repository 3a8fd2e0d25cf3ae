//! The cloud API token (`cak`): generated on the charger, never chosen by a
//! client (cloudapi-en.md: "The API key is generated on the charger and cannot
//! be changed arbitrarily"; writing any value to `cak` generates a new one).
//!
//! The engine never reads the OS: the server seeds [`TokenSource`] with OS
//! entropy ([`crate::Charger::seed_cloud_tokens`]), so tokens are not
//! predictable from the serial or `--seed`; without that (scenarios, unit
//! tests) it is seeded from the simulation seed and the serial. It is a
//! generator of its own, so a token drawn never shifts the simulation's
//! random choices.

use goe_keys::Value;
use rand_chacha::ChaCha8Rng;
use rand_core::{Rng as _, SeedableRng as _};

/// Length of a token: the real tokens seen in client sources are 32 characters.
pub const TOKEN_LEN: usize = 32;

/// The alphabet of a token (real tokens are `[A-Za-z0-9]`).
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Where new tokens come from.
#[derive(Debug, Clone)]
pub struct TokenSource(ChaCha8Rng);

impl TokenSource {
    /// The deterministic source of a charger booted with `seed` (used until the
    /// server gives OS entropy).
    pub fn from_seed(seed: u64, serial: &str) -> TokenSource {
        let mut s = seed ^ 0x6361_6b5f_746f_6b6e; // "cak_tokn"
        for b in serial.bytes() {
            s = s.rotate_left(8) ^ u64::from(b);
        }
        TokenSource(ChaCha8Rng::seed_from_u64(s))
    }

    /// A source seeded with 32 bytes of entropy.
    pub fn from_entropy(entropy: [u8; 32]) -> TokenSource {
        TokenSource(ChaCha8Rng::from_seed(entropy))
    }

    /// A new token: [`TOKEN_LEN`] characters of `[A-Za-z0-9]`, uniformly drawn.
    pub fn next_token(&mut self) -> String {
        let mut out = String::with_capacity(TOKEN_LEN);
        while out.len() < TOKEN_LEN {
            // rejection sampling keeps every character equally likely
            let b = (self.0.next_u32() & 0xff) as usize;
            if b < 248 {
                out.push(ALPHABET[b % ALPHABET.len()] as char);
            }
        }
        out
    }
}

/// Whether `value` is a token the charger can use (a non-empty string).
pub fn has_token(value: &Value) -> bool {
    matches!(value, Value::Str(s) if !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_look_like_real_ones_and_differ() {
        let mut src = TokenSource::from_seed(0, "012345");
        let a = src.next_token();
        let b = src.next_token();
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
        let other = TokenSource::from_seed(0, "012346").next_token();
        assert_ne!(a, other, "the serial changes the deterministic source");
        let e = TokenSource::from_entropy([7; 32]).next_token();
        assert_ne!(a, e);
    }
}
