//! The query string of `/api/set`, `/api/status?filter=` and `/mqtt?payload=`,
//! decoded strictly.
//!
//! `application/x-www-form-urlencoded` rules as `form_urlencoded` applies
//! them (pairs split at `&`, empty pieces skipped, the first `=` splits key
//! and value, `+` is a space, `%XX` a byte, a `%` without two hex digits stays
//! literal), except that bytes which are not UTF-8 are an error instead of
//! U+FFFD: a value the client did not send must never be stored.

use std::borrow::Cow;

/// A key or value whose percent-decoded bytes are not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not valid UTF-8 once percent-decoded")]
pub struct NotUtf8;

/// One `key=value` piece of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair<'a> {
    /// The key as sent (still encoded).
    pub raw_key: &'a str,
    /// The value as sent (still encoded).
    pub raw_value: &'a str,
    /// The decoded key.
    pub key: Result<Cow<'a, str>, NotUtf8>,
    /// The decoded value.
    pub value: Result<Cow<'a, str>, NotUtf8>,
}

/// The pairs of `query`, in order.
pub fn pairs(query: &str) -> impl Iterator<Item = Pair<'_>> {
    query.split('&').filter(|p| !p.is_empty()).map(|piece| {
        let (raw_key, raw_value) = piece.split_once('=').unwrap_or((piece, ""));
        Pair {
            raw_key,
            raw_value,
            key: decode(raw_key),
            value: decode(raw_value),
        }
    })
}

/// The decoded value of the first pair named `name` (`None` when absent).
pub fn first<'a>(query: &'a str, name: &str) -> Option<Result<Cow<'a, str>, NotUtf8>> {
    pairs(query)
        .find(|p| p.key.as_deref() == Ok(name))
        .map(|p| p.value)
}

/// Every pair of `query` decoded and owned, or [`NotUtf8`] when any key or
/// value is not UTF-8 (the control API refuses such a request as a whole).
pub fn owned_pairs(query: &str) -> Result<Vec<(String, String)>, NotUtf8> {
    pairs(query)
        .map(|p| Ok((p.key?.into_owned(), p.value?.into_owned())))
        .collect()
}

/// Decodes one key or value: `+` is a space, `%XX` a byte, then strict UTF-8.
pub fn decode(raw: &str) -> Result<Cow<'_, str>, NotUtf8> {
    let bytes = raw.as_bytes();
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Ok(Cow::Borrowed(raw));
    }
    let spaced: Vec<u8> = bytes
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let decoded: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(decoded)
        .map(Cow::Owned)
        .map_err(|_| NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(q: &str) -> Vec<(Result<String, NotUtf8>, Result<String, NotUtf8>)> {
        pairs(q)
            .map(|p| (p.key.map(Cow::into_owned), p.value.map(Cow::into_owned)))
            .collect()
    }

    #[test]
    fn like_form_urlencoded_for_utf8() {
        for q in [
            "amp=10&fna=%22garage%22",
            "a+b=c+d&&=x&y&%ZZ=%2&q=%41%42",
            "ids=%7B%22pGrid%22:-1000%7D",
            "x=%C3%A4%E2%82%AC",
            "",
            "&&&",
            "k==v",
        ] {
            let ours = decoded(q);
            let theirs: Vec<_> = form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (Ok(k.into_owned()), Ok(v.into_owned())))
                .collect();
            assert_eq!(ours, theirs, "{q}");
        }
    }

    #[test]
    fn invalid_utf8_is_an_error_not_a_replacement() {
        let p: Vec<_> = pairs("fna=%FF%FE&amp=7&%C3=1").collect();
        assert_eq!(p[0].value, Err(NotUtf8));
        assert_eq!(p[0].raw_value, "%FF%FE");
        assert_eq!(p[1].value.as_deref(), Ok("7"));
        assert_eq!(p[2].key, Err(NotUtf8));
        assert_eq!(first("a=1&filter=x%FF", "filter"), Some(Err(NotUtf8)));
        assert_eq!(first("a=1", "filter"), None);
    }
}
