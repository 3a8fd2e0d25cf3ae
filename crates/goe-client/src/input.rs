//! Values people type, turned into the JSON the API wants, and the query encoding.
//!
//! [`parse_value`] accepts JSON (`16`, `"garage"`, `null`, `[6,10,16]`) and
//! friendly forms where the key table allows them: enum names
//! (case-insensitive: `frc=on`, `lmo=eco`), a few aliases (`lmo` basic/eco/
//! nexttrip, `psm` 1p/3p), `on`/`off`/`yes`/`no` for bools, and bare text for
//! string keys (`fna=garage`).

use crate::error::ClientError;
use goe_keys::{Base, KeyDef};

/// Aliases beyond the table's enum names: key → (word, value).
const ALIASES: &[(&str, &[(&str, i64)])] = &[
    ("frc", &[("neutral", 0), ("off", 1), ("on", 2)]),
    (
        "lmo",
        &[
            ("default", 3),
            ("basic", 3),
            ("eco", 4),
            ("awattar", 4),
            ("nexttrip", 5),
            ("next-trip", 5),
            ("automaticstop", 5),
        ],
    ),
    (
        "psm",
        &[
            ("auto", 0),
            ("1p", 1),
            ("1", 1),
            ("force_1", 1),
            ("3p", 2),
            ("force_3", 2),
        ],
    ),
];

/// The friendly words a key accepts besides JSON, with their values
/// (aliases first, then the table's enum names), for help texts and errors.
pub fn friendly_words(def: &KeyDef) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = Vec::new();
    if let Some((_, aliases)) = ALIASES.iter().find(|(k, _)| *k == def.name) {
        for (word, v) in aliases.iter() {
            if word.parse::<i64>().is_err() {
                out.push(((*word).to_owned(), *v));
            }
        }
    }
    for (v, name) in def.enums {
        if !out.iter().any(|(w, _)| w.eq_ignore_ascii_case(name)) {
            out.push(((*name).to_owned(), *v));
        }
    }
    out
}

/// The key definition for `name`, or [`ClientError::UnknownKey`] with a suggestion.
pub fn key_def(name: &str) -> Result<&'static KeyDef, ClientError> {
    goe_keys::key(name).ok_or_else(|| ClientError::UnknownKey {
        key: name.to_owned(),
        suggestion: suggest_key(name),
    })
}

/// Turns what a person typed into the JSON value for `key`.
pub fn parse_value(key: &str, text: &str) -> Result<serde_json::Value, ClientError> {
    let def = key_def(key)?;
    parse_for(def, text)
}

/// [`parse_value`] for a known definition.
pub fn parse_for(def: &KeyDef, text: &str) -> Result<serde_json::Value, ClientError> {
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    if let Some((_, aliases)) = ALIASES.iter().find(|(k, _)| *k == def.name)
        && let Some((_, v)) = aliases.iter().find(|(w, _)| *w == lower)
    {
        return Ok((*v).into());
    }
    if let Some(v) = def.enum_value(t) {
        return Ok(v.into());
    }
    if def.base() == Base::Bool {
        match lower.as_str() {
            "on" | "true" | "yes" | "1" => return Ok(true.into()),
            "off" | "false" | "no" | "0" => return Ok(false.into()),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(t) {
        Ok(json) => Ok(json),
        Err(_) if def.base() == Base::Str => Ok(serde_json::Value::String(text.to_owned())),
        Err(e) => Err(ClientError::BadValue {
            key: def.name.to_owned(),
            value: text.to_owned(),
            reason: expectation(def, &e),
        }),
    }
}

fn expectation(def: &KeyDef, err: &serde_json::Error) -> String {
    let words = friendly_words(def);
    if !words.is_empty() {
        // group the words by value: "default|basic (3), eco|awattar (4)"
        let mut groups: Vec<(i64, Vec<String>)> = Vec::new();
        for (w, v) in words {
            match groups.iter_mut().find(|(gv, _)| *gv == v) {
                Some((_, ws)) => ws.push(w),
                None => groups.push((v, vec![w])),
            }
        }
        let list: Vec<String> = groups
            .iter()
            .map(|(v, ws)| format!("{} ({v})", ws.join("|")))
            .collect();
        return format!("expected one of {} or a number", list.join(", "));
    }
    match def.base() {
        Base::Bool => "expected on/off, true/false or yes/no".to_owned(),
        Base::Float | Base::Double => "expected a number".to_owned(),
        Base::Array | Base::Object => format!("expected JSON ({err})"),
        Base::Str => "expected a string".to_owned(),
        _ => "expected an integer".to_owned(),
    }
}

/// The key of the table closest to `name` (edit distance ≤ 2, or a prefix match).
pub fn suggest_key(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let mut best: Option<(usize, &'static str)> = None;
    for def in goe_keys::KEYS {
        let d = levenshtein(&lower, &def.name.to_ascii_lowercase());
        if d <= 2 && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, def.name));
        }
    }
    best.map(|(_, n)| n).or_else(|| {
        goe_keys::KEYS
            .iter()
            .find(|d| lower.len() >= 2 && d.name.to_ascii_lowercase().starts_with(&lower))
            .map(|d| d.name)
    })
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Percent-encodes everything but RFC 3986 unreserved characters (`"a b"` → `%22a%20b%22`).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The query of `/api/set`: each value as compact JSON text, URL-encoded per key
/// (`fna="a b"` → `fna=%22a%20b%22`).
pub fn set_query(pairs: &[(&str, serde_json::Value)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                encode_component(k),
                encode_component(&serde_json::to_string(v).unwrap_or_default())
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The `filter=` parameter value: key names joined by commas (names are encoded, commas kept).
pub fn filter_param(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| encode_component(k))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(key: &str, text: &str) -> serde_json::Value {
        parse_value(key, text).unwrap()
    }

    #[test]
    fn friendly_forms() {
        assert_eq!(p("frc", "on"), json!(2));
        assert_eq!(p("frc", "OFF"), json!(1));
        assert_eq!(p("frc", "Neutral"), json!(0));
        assert_eq!(p("frc", "2"), json!(2));
        assert_eq!(p("lmo", "eco"), json!(4));
        assert_eq!(p("lmo", "awattar"), json!(4));
        assert_eq!(p("lmo", "basic"), json!(3));
        assert_eq!(p("lmo", "default"), json!(3));
        assert_eq!(p("lmo", "nexttrip"), json!(5));
        assert_eq!(p("lmo", "AutomaticStop"), json!(5));
        assert_eq!(p("psm", "auto"), json!(0));
        assert_eq!(p("psm", "1p"), json!(1));
        assert_eq!(p("psm", "3p"), json!(2));
        assert_eq!(p("psm", "Force_3"), json!(2));
        assert_eq!(p("ust", "alwayslock"), json!(2));
        assert_eq!(p("car", "charging"), json!(2)); // read-only: the charger will refuse it
        for on in ["on", "true", "yes", "YES", "1"] {
            // (a bool key; `bac` is a uint8 lock mode since fw 055.2)
            assert_eq!(p("acp", on), json!(true), "{on}");
        }
        for off in ["off", "false", "no", "0"] {
            assert_eq!(p("acp", off), json!(false), "{off}");
        }
        assert_eq!(p("amp", "16"), json!(16));
        assert_eq!(p("dwo", "null"), json!(null));
        assert_eq!(p("dwo", "2.5"), json!(2.5));
        assert_eq!(p("fna", "\"a b\""), json!("a b"));
        assert_eq!(p("fna", "garage"), json!("garage"));
        assert_eq!(p("fna", "my garage"), json!("my garage"));
        assert_eq!(p("clp", "[6,10,12]"), json!([6, 10, 12]));
        assert_eq!(p("ids", r#"{"pGrid":-1500}"#), json!({"pGrid": -1500}));
    }

    #[test]
    fn bad_values_say_what_was_expected() {
        let e = parse_value("lmo", "turbo").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("bad value for lmo"), "{text}");
        assert!(text.contains("eco|awattar (4)"), "{text}");
        let e = parse_value("amp", "abc").unwrap_err().to_string();
        assert!(e.contains("expected an integer"), "{e}");
        let e = parse_value("acp", "maybe").unwrap_err().to_string();
        assert!(e.contains("on/off"), "{e}");
        let e = parse_value("clp", "[6,").unwrap_err().to_string();
        assert!(e.contains("expected JSON"), "{e}");
    }

    #[test]
    fn unknown_keys_get_suggestions() {
        let ClientError::UnknownKey { key, suggestion } = parse_value("ampp", "1").unwrap_err()
        else {
            panic!()
        };
        assert_eq!((key.as_str(), suggestion), ("ampp", Some("amp")));
        assert_eq!(suggest_key("modelstat"), Some("modelStatus"));
        assert_eq!(suggest_key("qqqqqqqq"), None);
        assert_eq!(
            parse_value("zzzzzz", "1").unwrap_err().to_string(),
            "unknown key zzzzzz"
        );
    }

    #[test]
    fn query_encoding() {
        assert_eq!(
            set_query(&[("fna", json!("a b")), ("amp", json!(16))]),
            "fna=%22a%20b%22&amp=16"
        );
        assert_eq!(
            set_query(&[("ids", json!({"pGrid": -1500.5}))]),
            "ids=%7B%22pGrid%22%3A-1500.5%7D"
        );
        assert_eq!(
            set_query(&[("fna", json!("ä&="))]),
            "fna=%22%C3%A4%26%3D%22"
        );
        assert_eq!(
            filter_param(&["alw", "car", "sch_week"]),
            "alw,car,sch_week"
        );
    }

    #[test]
    fn words_for_help() {
        let lmo = goe_keys::key("lmo").unwrap();
        let words: Vec<String> = friendly_words(lmo).into_iter().map(|(w, _)| w).collect();
        assert_eq!(
            words,
            [
                "default",
                "basic",
                "eco",
                "awattar",
                "nexttrip",
                "next-trip",
                "automaticstop"
            ]
        );
        let car = goe_keys::key("car").unwrap();
        // (Unknown … Error, and Initializing since fw 055.2)
        assert_eq!(friendly_words(car).len(), 7);
    }
}
