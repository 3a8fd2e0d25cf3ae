//! Write validation: one range and one message per key (issue #11 point 9),
//! and a property test over the value parser and every writable key's
//! validation (point 10): no panic, every refusal in the firmware's error
//! style, and the texts never carry more than the key and the raw value.

use goe_keys::set::{self, Lookup};
use goe_keys::{Base, JsonKind, KEYS, KeyDef, SetError, Value, default_value, key};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};

/// The factory values of a charger, as validation sees them.
fn defaults() -> Vec<Value> {
    KEYS.iter().map(|d| default_value(d, "012345")).collect()
}

/// `/api/set`'s text of writing `raw` to `name` on a factory charger.
fn write(name: &str, raw: &str) -> Result<Value, String> {
    let def = key(name).unwrap();
    let current = defaults();
    let json = set::parse_json(raw).map_err(|e| SetError::InvalidJson(e).http_text(name, raw))?;
    set::validate(def, &json, &current as &dyn Lookup).map_err(|e| e.http_text(name, raw))
}

#[test]
fn a_key_has_one_range_and_one_message() {
    // the type's range (uint8 0..=255) is not a second, wider message
    // (amp on the newer firmware: 6 to 32 A on every variant, the observed text)
    for (raw, shown) in [
        ("33", "33"),
        ("256", "256"),
        ("-1", "-1"),
        ("1e30", "1e+30"),
        ("99999999999999999999999", "1e+23"),
    ] {
        assert_eq!(
            write("amp", raw),
            Err(format!(
                "amp: failed: Value {shown} exceeds range 6 to 32 ({raw})"
            ))
        );
    }
    assert_eq!(
        write("tcl", "300"),
        Err("tcl: failed: Value 300 exceeds range 0 to 32 (300)".into())
    );
    assert_eq!(
        write("frc", "-1"),
        Err("frc: failed: Value -1 exceeds range 0 to 2 (-1)".into())
    );
    // without a rule, the type's range
    assert_eq!(
        write("lbr", "256"),
        Err("lbr: failed: Value 256 exceeds range 0 to 255 (256)".into())
    );
    assert_eq!(
        write("lbr", "-1"),
        Err("lbr: failed: Value -1 exceeds range 0 to 255 (-1)".into())
    );
    assert_eq!(write("amp", "16.0"), Ok(Value::Int(16)));
    assert_eq!(
        write("amp", "6.5"),
        Err("amp: value must be integer (6.5)".into())
    );
}

#[test]
fn quantities_that_cannot_be_negative_refuse_negatives() {
    for name in ["dwo", "ate", "cco", "sh", "psh", "spl3"] {
        assert_eq!(
            write(name, "-1"),
            Err(format!(
                "{name}: failed: Value -1 exceeds range 0 to 4294967295 (-1)"
            )),
        );
        assert!(write(name, "0").is_ok(), "{name}");
    }
    assert_eq!(write("dwo", "null"), Ok(Value::Null));
    assert_eq!(
        write("dwo", "-0.5"),
        Err("dwo: failed: Value -0.5 exceeds range 0 to 4294967295 (-0.5)".into())
    );
    // market prices and PV offsets can be negative
    for name in ["awp", "pgt", "po", "zfo", "fst"] {
        assert!(write(name, "-1").is_ok(), "{name}");
    }
    assert_eq!(
        write("awp", "1e39"),
        Err("awp: failed: Value 1e+39 does not fit a float (1e39)".into())
    );
}

#[test]
fn static_ips_must_be_ipv4_addresses() {
    for ip in ["999.1.1.1", "1.2.3", "1.2.3.4.5", "", "router", "01.2.3.4"] {
        let raw = format!("[{{\"staticIp\":\"{ip}\"}}]");
        assert_eq!(
            write("wifis", &raw),
            Err(format!(
                "wifis: failed: staticIp must be an IPv4 address ({raw})"
            ))
        );
    }
    let raw = r#"[{"useStaticIp":true,"staticIp":"192.168.1.20","staticSubnet":"255.255.255.0","staticGateway":"192.168.1.1","staticDns0":"9.9.9.9"}]"#;
    assert!(write("wifis", raw).is_ok());
}

#[test]
fn a_masked_broker_password_written_back_keeps_the_stored_one() {
    let def = key("mcu").unwrap();
    let mut current = defaults();
    current[goe_keys::key_id("mcu").unwrap()] = Value::Str("mqtt://me:s3cret@broker:1883".into());
    let check = |raw: &str| {
        let json = set::parse_json(raw).unwrap();
        set::validate(def, &json, &current as &dyn Lookup).unwrap()
    };
    assert_eq!(
        check("\"mqtt://me:********@broker:1883\""),
        Value::Str("mqtt://me:s3cret@broker:1883".into())
    );
    // another broker or user: the mask is taken as written
    assert_eq!(
        check("\"mqtt://me:********@other:1883\""),
        Value::Str("mqtt://me:********@other:1883".into())
    );
    assert_eq!(
        check("\"mqtt://me:new@broker:1883\""),
        Value::Str("mqtt://me:new@broker:1883".into())
    );
}

// ---------------------------------------------------------------------------
// The property test

/// The firmware's message texts, without the `"<key>: "` and `" (<raw>)"` of
/// `http_text`; `Err` says what does not fit.
fn check_message(msg: &str) -> Result<(), String> {
    const EXACT: [&str; 3] = [
        "unknown api key",
        "tried to set api key without setter",
        "tried to set api key which is not allowed from api",
    ];
    const JSON: [&str; 5] = [
        "EmptyInput",
        "IncompleteInput",
        "InvalidInput",
        "NoMemory",
        "TooDeep",
    ];
    const TYPES: [&str; 6] = [
        "boolean",
        "integer",
        "number",
        "string",
        "JsonArray",
        "JsonObject",
    ];
    if EXACT.contains(&msg) {
        return Ok(());
    }
    if let Some(name) = msg.strip_prefix("tried to set api key with invalid json ") {
        return JSON
            .contains(&name)
            .then_some(())
            .ok_or(format!("unknown JSON error {name}"));
    }
    if let Some(ty) = msg.strip_prefix("value must be ") {
        let ty = ty.strip_prefix("null or ").unwrap_or(ty);
        return TYPES
            .contains(&ty)
            .then_some(())
            .ok_or(format!("unknown type words {ty}"));
    }
    let Some(rest) = msg.strip_prefix("failed: ") else {
        return Err("no known message".into());
    };
    let range = |what: &str, text: &str| -> Result<(), String> {
        let (value, bounds) = text
            .split_once(" exceeds range ")
            .ok_or(format!("{what}: no range"))?;
        let (min, max) = bounds.split_once(" to ").ok_or("no `to`")?;
        let (min, max): (i64, i64) = (
            min.parse().map_err(|_| format!("bad minimum {min}"))?,
            max.parse().map_err(|_| format!("bad maximum {max}"))?,
        );
        // integers compare exactly (an f64 cannot tell i64::MAX from 2^63)
        let inside = match value.parse::<i128>() {
            Ok(v) => v >= i128::from(min) && v <= i128::from(max),
            Err(_) => {
                let v: f64 = value.parse().map_err(|_| format!("bad value {value}"))?;
                v >= min as f64 && v <= max as f64
            }
        };
        if min > max || inside {
            return Err(format!("{value} is inside {min} to {max}"));
        }
        Ok(())
    };
    if let Some(text) = rest.strip_prefix("Value ")
        && text.contains(" exceeds range ")
    {
        return range("Value", text);
    }
    if let Some(text) = rest.strip_prefix("String length  ") {
        return range("String length", text);
    }
    if rest.is_empty() || rest.len() > 80 || rest.chars().any(char::is_control) {
        return Err("an invented text must be one short line".into());
    }
    Ok(())
}

/// Checks the texts of a refusal of `raw` for `key` on every channel.
fn check_refusal(key: &str, raw: &str, e: &SetError) -> Result<(), TestCaseError> {
    let http = e.http_text(key, raw);
    let msg = http
        .strip_prefix(&format!("{key}: "))
        .and_then(|m| m.strip_suffix(&format!(" ({raw})")))
        .ok_or_else(|| TestCaseError::fail(format!("not `key: message (raw)`: {http}")))?;
    prop_assert_eq!(msg, e.to_string());
    check_message(msg).map_err(|why| TestCaseError::fail(format!("{why}: {http}")))?;
    let mqtt = e.mqtt_text(raw);
    match e {
        SetError::InvalidJson(j) => {
            prop_assert_eq!(mqtt, format!("invalid json {}: {raw}", j.name()))
        }
        _ => prop_assert_eq!(mqtt, format!("{msg} {raw}")),
    }
    Ok(())
}

/// Numbers at the edges of every type and rule.
const BOUNDARY: &[&str] = &[
    "0",
    "-0",
    "-0.0",
    "1",
    "-1",
    "5",
    "6",
    "16",
    "17",
    "32",
    "33",
    "127",
    "128",
    "-128",
    "-129",
    "255",
    "256",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "-2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "1e30",
    "-1e30",
    "1e308",
    "1e309",
    "-1e309",
    "1e-320",
    "0.5",
    "16.0",
    "6.000001",
    "3.4028235e38",
    "3.5e38",
    "86399",
    "86400",
    "86400000",
    "86400001",
    "NaN",
    "Infinity",
    "-Infinity",
    "nan",
    "inf",
    "0x10",
    "+1",
    "01",
    ".5",
    "1.",
    "1e",
    "--1",
];

/// Arbitrary JSON values (depth ≤ 4) with the field names the structured
/// keys know, so that the generator reaches deep into their rules.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    let field = prop::sample::select(vec![
        "ssid",
        "key",
        "useStaticIp",
        "staticIp",
        "staticDns0",
        "name",
        "energy",
        "cardId",
        "control",
        "ranges",
        "begin",
        "end",
        "hour",
        "minute",
        "pGrid",
        "pPv",
        "pAkku",
        "start",
        "marketprice",
        "x",
    ]);
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        (-40i64..300).prop_map(J::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(J::from),
        ".{0,40}".prop_map(J::String),
        prop::sample::select(vec!["1.2.3.4", "999.1.1.1", "#00FF00", "go/", "56.2"])
            .prop_map(|s| J::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 10, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..12).prop_map(J::Array),
            prop::collection::vec((field.clone(), inner), 0..6).prop_map(|fields| {
                J::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// The raw text of a write: arbitrary text, a JSON value, a boundary number,
/// a string of a length near a field's limit, or broken JSON.
fn raw_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ -~]{0,24}",
        json_value().prop_map(|j| j.to_string()),
        prop::sample::select(BOUNDARY).prop_map(str::to_owned),
        (0usize..300).prop_map(|n| format!("\"{}\"", "a".repeat(n))),
        json_value().prop_flat_map(|j| {
            let text = j.to_string();
            let chars = text.chars().count();
            (Just(text), 0..=chars).prop_map(|(t, cut)| t.chars().take(cut).collect())
        }),
    ]
}

/// The JSON kind of a stored value.
fn kind_of(v: &Value) -> JsonKind {
    match v {
        Value::Bool(_) => JsonKind::Bool,
        Value::Int(_) | Value::UInt(_) => JsonKind::Integer,
        Value::Float(_) | Value::Double(_) => JsonKind::Number,
        Value::Str(_) => JsonKind::String,
        Value::Array(_) => JsonKind::Array,
        Value::Object(_) => JsonKind::Object,
        Value::Null => unreachable!("handled by the caller"),
    }
}

fn writable() -> Vec<&'static KeyDef> {
    KEYS.iter().filter(|d| d.access.writable()).collect()
}

fn config() -> Config {
    Config {
        cases: 4096,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x6f65_2d6b_6579_7311),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Every writable key, every kind of input: validation never panics, a
    /// refusal reads like the firmware's, an accepted value has the key's type.
    #[test]
    fn every_key_refuses_bad_values_in_the_firmware_style(
        def in prop::sample::select(writable()),
        raw in raw_text(),
    ) {
        let current = defaults();
        let result = set::parse_json(&raw)
            .map_err(SetError::InvalidJson)
            .and_then(|json| set::validate(def, &json, &current as &dyn Lookup));
        match result {
            Err(e) => {
                check_refusal(def.name, &raw, &e)?;
                // one rule, one message: every number out of a scalar key's
                // range names the same range as one far below it
                if let SetError::OutOfRange { min, max, .. } = &e
                    && !matches!(def.base(), Base::Array | Base::Object)
                {
                    let far = serde_json::json!(-1e20);
                    let probe = set::validate(def, &far, &current as &dyn Lookup);
                    let Err(SetError::OutOfRange { min: pmin, max: pmax, .. }) = probe else {
                        return Err(TestCaseError::fail(format!("{}: -1e20 gave {probe:?}", def.name)));
                    };
                    prop_assert_eq!((*min, *max), (pmin, pmax), "{}: two ranges for {}", def.name, raw);
                }
            }
            Ok(value) => {
                let fits = match (&value, def.base().json_kind()) {
                    (Value::Null, _) => true, // optional keys, `mtp` reset, `ids` off
                    // `rst` takes any JSON (JsonVariantConst), the engine decides
                    _ if def.rule == goe_keys::Rule::AnyVariant => true,
                    (v, kind) => {
                        let k = kind_of(v);
                        k == kind || (kind == JsonKind::Number && k == JsonKind::Integer)
                    }
                };
                prop_assert!(fits, "{} accepted {raw} as {value:?}", def.name);
            }
        }
    }

    /// The messages of unknown and read-only keys keep their shape too.
    #[test]
    fn unknown_and_read_only_keys_are_refused_in_style(raw in raw_text()) {
        check_refusal("nosuchkey", &raw, &SetError::UnknownKey)?;
        let current = defaults();
        for def in KEYS.iter().filter(|d| !d.access.writable()).take(3) {
            let json = serde_json::Value::Null;
            let e = set::validate(def, &json, &current as &dyn Lookup).unwrap_err();
            prop_assert_eq!(&e, &SetError::NoSetter);
            check_refusal(def.name, &raw, &e)?;
        }
    }
}

#[test]
fn numbers_inside_structured_values_are_named_as_written() {
    assert_eq!(
        write("clp", "[6,1e30]"),
        Err("clp: failed: Value 1e+30 exceeds range 6 to 32 ([6,1e30])".into())
    );
    assert_eq!(
        write("map", "[1,2,-4]"),
        Err("map: failed: Value -4 exceeds range 1 to 3 ([1,2,-4])".into())
    );
}
