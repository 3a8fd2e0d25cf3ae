//! The check of PEM keys and certificates written to `ocppck`, `ocppcc` and
//! `ocppsc` on 60.5 (CL-G60.5 #3: "ocpp/mqtt key/cert are now verified when
//! set"). The PEM armour and base64 are `rustls-pki-types`' parser; on top of
//! it each item must be one DER `SEQUENCE` filling its bytes exactly (what
//! every key and certificate is), so random base64 is refused too.
//!
//! The texts are our choice (no source gives the firmware's): see
//! docs/compat.md, OCPP.

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The refusal of a text that is not a PEM private key.
pub const NOT_A_KEY: &str = "could not parse private key (PEM expected)";

/// The refusal of a text that is not one or more PEM certificates.
pub const NOT_A_CERT: &str = "could not parse certificate (PEM expected)";

/// Checks `text` as a PEM private key (`key`) or PEM certificates; the empty
/// text (no key or certificate) passes. The error is the message text.
pub fn check(text: &str, key: bool) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    let ok = if key {
        PrivateKeyDer::from_pem_slice(text.as_bytes()).is_ok_and(|k| der_sequence(k.secret_der()))
    } else {
        let mut any = false;
        let all = CertificateDer::pem_slice_iter(text.as_bytes()).all(|c| {
            any = true;
            c.is_ok_and(|c| der_sequence(&c))
        });
        any && all
    };
    if ok {
        Ok(())
    } else {
        Err(if key { NOT_A_KEY } else { NOT_A_CERT }.to_owned())
    }
}

/// Whether `der` is exactly one DER `SEQUENCE` (tag 0x30, definite length).
fn der_sequence(der: &[u8]) -> bool {
    let [0x30, first, rest @ ..] = der else {
        return false;
    };
    let (len, body) = if *first < 0x80 {
        (usize::from(*first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return false;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    body.len() == len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths() {
        assert!(der_sequence(&[0x30, 0x00]));
        assert!(der_sequence(&[0x30, 0x02, 1, 2]));
        assert!(!der_sequence(&[0x30, 0x03, 1, 2]));
        assert!(!der_sequence(&[0x31, 0x00]));
        let mut long = vec![0x30, 0x81, 200];
        long.extend([0u8; 200]);
        assert!(der_sequence(&long));
        assert!(!der_sequence(&[]));
    }
}
