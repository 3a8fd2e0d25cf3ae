//! The OCPP keys of issue #14: every key of ocpp-en.md and of the 60.x
//! exports, on the firmware that has it, with its type, access, persistence
//! and secret handling; the PEM check of 60.5.
//!
//! (`fixtures/ocpp-test-*.pem` is a throwaway key and self-signed
//! certificate made for this test only.)

use goe_keys::{Access, Lookup, Secret, SetError, Value, profile, render, set};

const KEY_PEM: &str = include_str!("fixtures/ocpp-test-key.pem");
const CERT_PEM: &str = include_str!("fixtures/ocpp-test-cert.pem");

/// (key, access, type, category, persisted) on 060.5 (notes §1.1).
const ON_060_5: &[(&str, &str, &str, &str, bool)] = &[
    ("ocppe", "R/W", "bool", "Config", true),
    ("ocppu", "R/W", "string", "Config", true),
    ("ocppf", "R/W", "optional<uint8>", "Config", true),
    ("ocppff", "R", "optional<uint8>", "Config", false),
    ("ocppg", "R/W", "bool", "Config", true),
    ("ocppcn", "R/W", "bool", "Config", true),
    ("ocppss", "R/W", "bool", "Config", true),
    ("ocppck", "R/W", "string", "Config", true),
    ("ocppcc", "R/W", "string", "Config", true),
    ("ocppsc", "R/W", "string", "Config", true),
    ("ocpps", "R", "bool", "Status", false),
    ("ocppc", "R", "bool", "Status", false),
    ("ocppca", "R", "optional<milliseconds>", "Status", false),
    ("ocppa", "R", "bool", "Status", false),
    ("ocppaa", "R", "optional<milliseconds>", "Status", false),
    ("ocpple", "R", "optional<string>", "Status", false),
    ("ocpplea", "R", "optional<milliseconds>", "Status", false),
    ("ocpph", "R/W", "int", "Config", true),
    ("ocppi", "R/W", "int", "Config", true),
    ("ocppai", "R/W", "int", "Config", true),
    ("ocppfai", "W", "int", "Config", true),
    ("ocppd", "R/W", "string", "Config", true),
    ("ocppr", "R/W", "bool", "Config", true),
    ("ocpprl", "R/W", "bool", "Config", true),
    ("ocppcm", "R/W", "uint8", "Config", true),
    ("ocppcs", "R", "uint8", "Status", false),
    ("ocppti", "R/W", "optional<int>", "Status", true),
    ("ocppte", "R", "optional<milliseconds>", "Status", false),
    ("ocppao", "W", "bool", "Config", true),
    ("ocpplo", "R/W", "bool", "Config", true),
    ("ocppla", "R/W", "bool", "Config", true),
    ("ocppdp", "R", "array", "Status", false),
    ("ocppmp", "R", "array", "Status", false),
    ("ocpptp", "R", "array", "Status", false),
    ("ocpptt", "R/W", "string", "Config", true),
    ("ocppt", "R/W", "bool", "Config", true),
    ("ocppio", "R/W", "bool", "Config", true),
    ("orsch", "R/W", "bool", "Config", true),
    ("osr", "R/W", "bool", "Config", true),
    ("txt", "R/W", "int", "Config", true),
];

#[test]
fn every_ocpp_key_exists_on_060_5_with_its_type_access_and_persistence() {
    let p = profile("060.5").unwrap();
    for (name, access, ty, cat, persisted) in ON_060_5 {
        let (_, def) = p
            .key(name)
            .unwrap_or_else(|| panic!("{name} missing on 060.5"));
        assert_eq!(def.access.as_str(), *access, "{name} access");
        assert_eq!(def.ty.to_string(), *ty, "{name} type");
        assert_eq!(def.category.as_str(), *cat, "{name} category");
        assert_eq!(def.persisted(), *persisted, "{name} persisted");
        assert!(!def.publishes_on(p.firmware), "{name} is not on MQTT");
    }
    let (_, cs) = p.key("ocppcs").unwrap();
    assert_eq!(cs.enum_name(7), Some("Unavailable"));
    assert_eq!(cs.enum_name(8), Some("Faulted"));
}

#[test]
fn each_firmware_has_the_ocpp_keys_of_its_time() {
    let old = profile("051.4").unwrap();
    let mid = profile("056.2").unwrap();
    let new = profile("060.5").unwrap();
    for name in ["ocppe", "ocppck", "ocppcc", "ocppsc", "ocppt", "ocppio"] {
        assert!(old.key(name).is_none(), "{name} on 051.4");
    }
    // the certificate keys came with the OCPP client (the oldest ocpp-en.md)
    for name in ["ocppck", "ocppcc", "ocppsc", "ocppu", "ocppf"] {
        assert!(mid.key(name).is_some(), "{name} on 056.2");
    }
    // the newest document's rows, in no export up to 60.4
    for name in ["ocppt", "ocppio"] {
        assert!(mid.key(name).is_none(), "{name} on 056.2");
        assert!(new.key(name).is_some(), "{name} on 060.5");
    }
    // print order: every key once, readable ones printed
    let printed: Vec<&str> = new.readable_keys().map(|(_, d)| d.name).collect();
    for name in ["ocppck", "ocppcc", "ocppsc", "ocppt", "ocppio"] {
        assert_eq!(printed.iter().filter(|n| **n == name).count(), 1, "{name}");
    }
}

#[test]
fn the_ocpp_model_status_codes_are_in_the_enum_where_ocpp_exists() {
    let name = |fw: &str, code: i64| {
        let p = profile(fw).unwrap();
        p.key("modelStatus").unwrap().1.enum_name(code)
    };
    assert_eq!(name("060.5", 28), Some("NotChargingBecauseOcppDoesntWant"));
    assert_eq!(name("060.5", 35), Some("NotChargingBecauseOcppFallback"));
    assert_eq!(name("060.5", 37), Some("NotChargingBecauseOcppInoperable"));
    assert_eq!(name("056.2", 28), Some("NotChargingBecauseOcppDoesntWant"));
    assert_eq!(name("056.2", 35), Some("NotChargingBecauseOcppFallback"));
    assert_eq!(name("056.2", 37), None);
    assert_eq!(name("051.4", 28), None);
}

fn write(fw: &str, key: &str, json: serde_json::Value) -> Result<Value, SetError> {
    let p = profile(fw).unwrap();
    let (_, def) = p.key(key).unwrap();
    let current: Vec<Value> = goe_keys::KEYS
        .iter()
        .map(|d| goe_keys::default_value(d, "000001"))
        .collect();
    set::validate(def, &json, &current as &dyn Lookup)
}

#[test]
fn keys_and_certificates_are_never_readable() {
    for fw in ["056.2", "060.5"] {
        let p = profile(fw).unwrap();
        for (key, text) in [
            ("ocppck", KEY_PEM),
            ("ocppcc", CERT_PEM),
            ("ocppsc", CERT_PEM),
        ] {
            let (_, def) = p.key(key).unwrap();
            assert_eq!(def.secret, Secret::IsSet, "{fw} {key}");
            let stored = write(fw, key, serde_json::json!(text)).unwrap();
            assert_eq!(render::shown(def, &stored), "true", "{fw} {key}");
            assert_eq!(render::shown(def, &Value::Str(String::new())), "false");
        }
        let (_, u) = p.key("ocppu").unwrap();
        let url = "wss://cp01:hunter22@csms.example:443/ocpp/{serial}";
        assert_eq!(
            render::shown(u, &Value::Str(url.into())),
            "\"wss://cp01:********@csms.example:443/ocpp/{serial}\""
        );
    }
}

#[test]
fn on_060_5_keys_and_certificates_are_checked_when_set() {
    // a valid key and certificate, several certificates, and "" (removed)
    assert!(write("060.5", "ocppck", serde_json::json!(KEY_PEM)).is_ok());
    assert!(write("060.5", "ocppcc", serde_json::json!(CERT_PEM)).is_ok());
    let chain = format!("{CERT_PEM}{CERT_PEM}");
    assert!(write("060.5", "ocppsc", serde_json::json!(chain)).is_ok());
    for key in ["ocppck", "ocppcc", "ocppsc"] {
        assert!(write("060.5", key, serde_json::json!("")).is_ok(), "{key}");
    }
    let bad_key = "failed: could not parse private key (PEM expected)";
    let bad_cert = "failed: could not parse certificate (PEM expected)";
    let refused = [
        ("ocppck", "not a key".to_owned(), bad_key),
        ("ocppck", CERT_PEM.to_owned(), bad_key),
        // the armour around base64 that is no DER structure
        (
            "ocppck",
            "-----BEGIN PRIVATE KEY-----\naGVsbG8gd29ybGQ=\n-----END PRIVATE KEY-----\n".to_owned(),
            bad_key,
        ),
        ("ocppcc", KEY_PEM.to_owned(), bad_cert),
        ("ocppcc", CERT_PEM.replace("MIIB", "M!IB"), bad_cert),
        (
            "ocppsc",
            CERT_PEM[..CERT_PEM.len() - 30].to_owned(),
            bad_cert,
        ),
        ("ocppsc", "secret-text".to_owned(), bad_cert),
    ];
    for (key, text, msg) in refused {
        let e = write("060.5", key, serde_json::json!(text)).unwrap_err();
        assert_eq!(e.to_string(), msg, "{key}={text:?}");
        // the message never repeats the text
        assert!(!e.to_string().contains(&text[..text.len().min(8)]), "{e}");
    }
    // before 60.5 the firmware took any string
    assert!(write("056.2", "ocppck", serde_json::json!("not a key")).is_ok());
    // and a string it is
    assert_eq!(
        write("060.5", "ocppck", serde_json::json!(7)).unwrap_err(),
        SetError::WrongType("string")
    );
    assert_eq!(goe_keys::key("ocppck").unwrap().access, Access::ReadWrite);
}
