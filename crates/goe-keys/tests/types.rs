//! Types that changed between firmware generations (issue #12 point 3): each
//! profile validates writes with the definition in force on its firmware.

use goe_keys::set::{self, Lookup};
use goe_keys::{Access, Base, SetError, Value, profile};

/// The factory values of a charger of `version`, as validation sees them.
fn defaults(version: &str) -> Vec<Value> {
    let p = profile(version).unwrap();
    (0..goe_keys::KEYS.len())
        .map(|kid| p.default_value(kid, "012345"))
        .collect()
}

/// `/api/set`'s answer to writing `raw` to `name` on a factory charger of `version`.
fn write(version: &str, name: &str, raw: &str) -> Result<Value, String> {
    let (_, def) = profile(version).unwrap().key(name).unwrap();
    let current = defaults(version);
    let json = set::parse_json(raw).map_err(|e| SetError::InvalidJson(e).http_text(name, raw))?;
    set::validate(def, &json, &current as &dyn Lookup).map_err(|e| e.http_text(name, raw))
}

fn json(text: &str) -> Value {
    Value::from_json(&serde_json::from_str(text).unwrap())
}

#[test]
fn bac_and_sdp_are_uint8_0_to_3_on_the_newer_profiles() {
    for version in ["056.2", "060.5"] {
        for key in ["bac", "sdp"] {
            for n in 0..=3 {
                assert_eq!(write(version, key, &n.to_string()), Ok(Value::Int(n)));
            }
            assert_eq!(
                write(version, key, "4"),
                Err(format!("{key}: failed: Value 4 exceeds range 0 to 3 (4)"))
            );
            assert_eq!(
                write(version, key, "true"),
                Err(format!("{key}: value must be integer (true)"))
            );
        }
    }
    // 051.4: the 2021 bool (0 and 1 accepted as evcc writes them)
    assert_eq!(write("051.4", "bac", "true"), Ok(Value::Bool(true)));
    assert_eq!(write("051.4", "sdp", "1"), Ok(Value::Bool(true)));
    assert_eq!(
        write("051.4", "bac", "3"),
        Err("bac: value must be boolean (3)".into())
    );
}

#[test]
fn lot_is_an_object_written_whole_or_in_part_on_the_newer_profiles() {
    for version in ["056.2", "060.5"] {
        assert_eq!(
            write(version, "lot", r#"{"amp":20}"#),
            Ok(json(r#"{"amp":20,"dyn":32,"sta":32,"ts":3}"#))
        );
        assert_eq!(
            write(version, "lot", r#"{"amp":25,"dyn":40,"sta":16,"ts":0}"#),
            Ok(json(r#"{"amp":25,"dyn":40,"sta":16,"ts":0}"#))
        );
        // a number (JsonVariantConst setter) is the total: lot.amp
        assert_eq!(
            write(version, "lot", "24"),
            Ok(json(r#"{"amp":24,"dyn":32,"sta":32,"ts":3}"#))
        );
        assert_eq!(
            write(version, "lot", "[1]"),
            Err("lot: value must be JsonObject ([1])".into())
        );
        assert_eq!(
            write(version, "lot", "true"),
            Err("lot: value must be JsonObject (true)".into())
        );
        assert_eq!(
            write(version, "lot", r#"{"amp":300}"#),
            Err(r#"lot: failed: Value 300 exceeds range 0 to 255 ({"amp":300})"#.into())
        );
        assert_eq!(
            write(version, "lot", r#"{"amps":20}"#),
            Err(r#"lot: failed: unknown field amps ({"amps":20})"#.into())
        );
        assert_eq!(
            write(version, "lot", r#"{"amp":"x"}"#),
            Err(r#"lot: failed: amp must be integer ({"amp":"x"})"#.into())
        );
    }
    assert_eq!(write("051.4", "lot", "32"), Ok(Value::Int(32)));
    assert_eq!(
        write("051.4", "lot", r#"{"amp":20}"#),
        Err(r#"lot: value must be integer ({"amp":20})"#.into())
    );
}

#[test]
fn tls_is_a_timestamp_on_60x() {
    let def = |v: &str| profile(v).unwrap().key("tls").unwrap().1;
    assert_eq!(def("060.5").ty.to_string(), "optional<milliseconds>");
    assert_eq!(
        profile("060.5")
            .unwrap()
            .default_value(goe_keys::key_id("tls").unwrap(), "1"),
        Value::Null
    );
    assert_eq!(def("056.2").ty.to_string(), "bool");
    assert_eq!(def("051.4").ty.to_string(), "bool");
}

#[test]
fn awc_is_uint16_on_the_newer_profiles() {
    assert_eq!(write("056.2", "awc", "1377"), Ok(Value::Int(1377)));
    assert_eq!(write("060.5", "awc", "65535"), Ok(Value::Int(65535)));
    assert_eq!(
        write("060.5", "awc", "65536"),
        Err("awc: failed: Value 65536 exceeds range 0 to 65535 (65536)".into())
    );
    assert_eq!(
        write("051.4", "awc", "2"),
        Err("awc: failed: Value 2 exceeds range 0 to 1 (2)".into())
    );
}

#[test]
fn amp_accepts_6_to_32_on_the_newer_profiles_whatever_ama_says() {
    // factory ama is 16 on the 11 kW variant; a real 056.2 unit shows amp 20 with ama 16
    for version in ["056.2", "060.5"] {
        assert_eq!(write(version, "amp", "20"), Ok(Value::Int(20)));
        assert_eq!(write(version, "amp", "32"), Ok(Value::Int(32)));
        assert_eq!(
            write(version, "amp", "5"),
            Err("amp: failed: Value 5 exceeds range 6 to 32 (5)".into())
        );
        assert_eq!(
            write(version, "amp", "33"),
            Err("amp: failed: Value 33 exceeds range 6 to 32 (33)".into())
        );
    }
    // 051.4 keeps the 2021 rule: mca to ama
    assert_eq!(
        write("051.4", "amp", "20"),
        Err("amp: failed: Value 20 exceeds range 6 to 16 (20)".into())
    );
}

#[test]
fn rst_accepts_any_json_on_the_newer_profiles() {
    for version in ["056.2", "060.5"] {
        assert_eq!(
            write(version, "rst", r#""true""#),
            Ok(Value::Str("true".into()))
        );
        assert_eq!(write(version, "rst", "1"), Ok(Value::Int(1)));
        assert_eq!(write(version, "rst", "true"), Ok(Value::Bool(true)));
    }
    assert_eq!(write("051.4", "rst", "true"), Ok(Value::Bool(true)));
    assert_eq!(
        write("051.4", "rst", r#""true""#),
        Err(r#"rst: value must be boolean ("true")"#.into())
    );
}

#[test]
fn new_enum_values_on_the_newer_profiles() {
    for version in ["056.2", "060.5"] {
        assert_eq!(write(version, "acs", "2"), Ok(Value::Int(2)));
        assert_eq!(write(version, "tds", "3"), Ok(Value::Int(3)));
        let car = profile(version).unwrap().key("car").unwrap().1;
        assert_eq!(car.enum_name(6), Some("Initializing"));
    }
    assert_eq!(
        write("051.4", "acs", "2"),
        Err("acs: failed: Value 2 exceeds range 0 to 1 (2)".into())
    );
    assert_eq!(
        write("051.4", "tds", "3"),
        Err("tds: failed: Value 3 exceeds range 0 to 2 (3)".into())
    );
    assert_eq!(
        profile("051.4").unwrap().key("car").unwrap().1.enum_name(6),
        None
    );
}

#[test]
fn schedules_have_seconds_and_controls_3_and_4_on_the_newer_profiles() {
    let day = r#"{"control":3,"ranges":[{"begin":{"hour":7,"minute":30,"second":15},"end":{"hour":9,"minute":0}}]}"#;
    let stored = r#"{"control":3,"ranges":[{"begin":{"hour":7,"minute":30,"second":15},"end":{"hour":9,"minute":0,"second":0}},{"begin":{"hour":0,"minute":0,"second":0},"end":{"hour":0,"minute":0,"second":0}}]}"#;
    for version in ["056.2", "060.5"] {
        for key in ["sch_week", "sch_satur", "sch_sund"] {
            assert_eq!(write(version, key, day), Ok(json(stored)));
            assert!(write(version, key, r#"{"control":4}"#).is_ok());
            assert!(write(version, key, r#"{"control":5}"#).is_err());
            let kid = goe_keys::key_id(key).unwrap();
            let default = profile(version).unwrap().default_value(kid, "1");
            assert!(
                default
                    .to_serde_exact()
                    .to_string()
                    .contains("\"second\":0")
            );
        }
    }
    assert_eq!(
        write("051.4", "sch_week", r#"{"control":3}"#),
        Err(r#"sch_week: failed: Value 3 exceeds range 0 to 2 ({"control":3})"#.into())
    );
    let old = write(
        "051.4",
        "sch_week",
        &day.replace("\"control\":3", "\"control\":1"),
    )
    .unwrap();
    assert!(!old.to_serde_exact().to_string().contains("second"));
}

#[test]
fn write_only_and_writable_keys_change_on_the_newer_profiles() {
    let access = |v: &str, k: &str| profile(v).unwrap().key(k).unwrap().1.access;
    for version in ["056.2", "060.5"] {
        assert_eq!(access(version, "hsa"), Access::Write);
        assert_eq!(access(version, "awpl"), Access::Write);
        assert_eq!(access(version, "fsp"), Access::ReadWrite);
        assert_eq!(write(version, "fsp", "true"), Ok(Value::Bool(true)));
    }
    assert_eq!(access("051.4", "hsa"), Access::ReadWrite);
    assert_eq!(access("051.4", "awpl"), Access::ReadWrite);
    assert_eq!(access("051.4", "fsp"), Access::Read);
    // awpl: the v1 list up to 59.x, the v2 object on 60.x
    let awpl = |v: &str| profile(v).unwrap().key("awpl").unwrap().1.base();
    assert_eq!(awpl("056.2"), Base::Array);
    assert_eq!(awpl("060.5"), Base::Object);
    let v2 = r#"{"prices":[{"start":1700000000,"end":1700003600,"marketprice":12.5}]}"#;
    assert!(write("060.5", "awpl", v2).is_ok());
    assert_eq!(
        write("060.5", "awpl", "[]"),
        Err("awpl: value must be JsonObject ([])".into())
    );
    assert!(write("056.2", "awpl", r#"[{"start":1,"end":2,"marketprice":3}]"#).is_ok());
}
