//! Values for every key of the table, derived from its type, rule, enums and
//! current value: a valid new value per writable key, wrong-type values and
//! out-of-range values with the error text the spec promises.
//!
//! A key the generators do not understand (a new rule, a new structured key)
//! makes the tests panic, so the suite cannot silently skip new keys.

use goe_keys::{Access, Base, JsonKind, KEYS, KeyDef, Profile, Rule, Secret};
use serde_json::{Value, json};

/// What the status must show after a successful write.
#[derive(Debug, Clone)]
pub enum Expect {
    /// Exactly this value (numbers compared by value).
    Shown(Value),
    /// `utc`: the clock was set; the shown time starts with this prefix.
    UtcPrefix(&'static str),
}

impl Expect {
    /// Checks a shown value.
    pub fn check(&self, shown: Option<&Value>) -> Result<(), String> {
        match (self, shown) {
            (_, None) => Err("key missing from status".into()),
            (Expect::Shown(want), Some(got)) => {
                if super::json_eq(want, got) {
                    Ok(())
                } else {
                    Err(format!("expected {want}, status shows {got}"))
                }
            }
            (Expect::UtcPrefix(p), Some(got)) => match got.as_str() {
                Some(s) if s.starts_with(p) => Ok(()),
                _ => Err(format!(
                    "expected a time starting with {p}, status shows {got}"
                )),
            },
        }
    }
}

/// A write and its expected effect.
#[derive(Debug, Clone)]
pub struct Write {
    /// The JSON text sent as the value.
    pub raw: String,
    /// What the status shows afterwards.
    pub expect: Expect,
}

/// `cards` and the per-card keys `c0n…c9i` of 60.x are one value seen twice
/// (docs/compat.md): after writes to both, `cards` shows what the per-card
/// keys written after it say. Patches the expectation of `cards` in `expected`
/// (written in this order) accordingly.
#[allow(dead_code)]
pub fn mirror_per_card_keys(expected: &mut [(&'static str, Expect)]) {
    let Some(pos) = expected.iter().position(|(n, _)| *n == "cards") else {
        return;
    };
    let Expect::Shown(mut cards) = expected[pos].1.clone() else {
        return;
    };
    for (name, expect) in &expected[pos + 1..] {
        let b = name.as_bytes();
        let (true, Expect::Shown(v)) = (
            b.len() == 3 && b[0] == b'c' && b[1].is_ascii_digit(),
            expect,
        ) else {
            continue;
        };
        let slot = (b[1] - b'0') as usize;
        let field = match b[2] {
            b'n' => "name",
            b'e' => "energy",
            b'i' => "cardId",
            _ => continue,
        };
        cards[slot][field] = v.clone();
    }
    expected[pos].1 = Expect::Shown(cards);
}

fn write(raw: impl Into<String>, shown: Value) -> Write {
    Write {
        raw: raw.into(),
        expect: Expect::Shown(shown),
    }
}

fn parsed(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap()
}

/// The declared (or rule-given) integer range of a key, with the charger's
/// default `mca`/`ama`/`var` (6 / 16 / 11) for the current rules.
pub fn int_bounds(def: &KeyDef) -> Option<(i128, i128)> {
    let base = def.base().int_range()?;
    Some(match def.rule {
        Rule::Range(a, b) => (i128::from(a), i128::from(b)),
        // amp: mca..ama; mca: 6..ama; ama: 6..16 on an 11 kW unit
        Rule::RequestedCurrent | Rule::MinCurrent | Rule::MaxCurrent => (6, 16),
        // trx: null, 0 (no card) or card index + 1 for 10 cards
        Rule::Transaction => (0, 10),
        _ => base,
    })
}

/// A valid value different from the current one (`current` = shown value),
/// for every writable key. `first_branch` is the first entry of `ocu` (for `oct`).
pub fn fresh_value(def: &KeyDef, current: &Value, first_branch: &str) -> Write {
    // Hand-written values: structured keys, keys with cross-key rules, secrets
    // and keys with special semantics.
    match def.name {
        // ama 6..16; amp must stay within mca..ama, mca within 6..ama (table order: ama, amp, mca)
        "ama" => return write("14", json!(14)),
        "amp" => return write("10", json!(10)),
        "mca" => return write("8", json!(8)),
        // trx > 0 needs a learned card; 0 = session without card
        "trx" => return write("0", json!(0)),
        // hai=false would switch the HTTP API off (reference §1.1): keep it on
        "hai" => return write("true", json!(true)),
        "utc" => {
            return Write {
                raw: "\"2030-01-02T03:04:05.000\"".into(),
                expect: Expect::UtcPrefix("2030-01-02T03:0"),
            };
        }
        // an MQTT URL nobody listens on (discard port), so enabling MQTT is harmless
        "mcu" => return write("\"mqtt://127.0.0.1:9\"", json!("mqtt://127.0.0.1:9")),
        "mtp" => return write("\"goe/test/\"", json!("goe/test/")),
        "wak" => return write("\"wak-secret-1\"", json!(true)),
        "pass" => return write("\"user-password-1\"", Value::Null),
        "oct" => {
            let raw = serde_json::to_string(first_branch).unwrap();
            return write(raw, Value::Null);
        }
        "clp" => return write("[6,8,10,13,16]", json!([6, 8, 10, 13, 16])),
        "map" => return write("[3,1,2]", json!([3, 1, 2])),
        "awpl" if def.base() == Base::Object => {
            // fw 60.x: the v2 object, write-only
            let raw = r#"{"prices":[{"start":1700000000,"end":1700003600,"marketprice":12.5}]}"#;
            return write(raw, Value::Null);
        }
        "awpl" => {
            let raw = r#"[{"start":1700000000,"end":1700003600,"marketprice":12.5},{"start":1700003600,"end":1700007200,"marketprice":-0.25}]"#;
            let shown = if def.access.readable() {
                parsed(raw)
            } else {
                Value::Null
            };
            return write(raw, shown);
        }
        "lot" if def.base() == Base::Object => {
            // newer firmware: a partial object changes only its fields
            let amp = if current["amp"] == json!(20) { 21 } else { 20 };
            let mut shown = current.clone();
            shown["amp"] = json!(amp);
            return write(format!(r#"{{"amp":{amp}}}"#), shown);
        }
        "sch_week" | "sch_satur" | "sch_sund" => {
            let h = match def.name {
                "sch_week" => 7,
                "sch_satur" => 8,
                _ => 9,
            };
            let raw = format!(
                r#"{{"control":1,"ranges":[{{"begin":{{"hour":{h},"minute":30}},"end":{{"hour":{},"minute":0}}}},{{"begin":{{"hour":18,"minute":0}},"end":{{"hour":20,"minute":15}}}}]}}"#,
                h + 2
            );
            let mut shown = parsed(&raw);
            if def.rule == Rule::ScheduleV2 {
                // newer firmware prints every time with its `second`
                for r in shown["ranges"].as_array_mut().unwrap() {
                    r["begin"]["second"] = json!(0);
                    r["end"]["second"] = json!(0);
                }
            }
            return write(raw, shown);
        }
        "wifis" => {
            let raw = r#"[{},{"ssid":"other-net","key":"wifi-pass-1"}]"#;
            let mut shown = current.clone();
            shown[1]["ssid"] = json!("other-net");
            shown[1]["key"] = json!(true);
            return write(raw, shown);
        }
        "cards" => {
            let raw = r#"[{},{"name":"Bob"}]"#;
            let mut shown = current.clone();
            shown[1]["name"] = json!("Bob");
            return write(raw, shown);
        }
        "ids" => {
            let raw = r#"{"pGrid":-1500,"pPv":2000,"pAkku":0}"#;
            return write(raw, Value::Null);
        }
        "rst" => return write("true", Value::Null),
        _ => {}
    }
    match (def.base(), def.rule) {
        (Base::Bool, _) => {
            let b = !current.as_bool().unwrap_or(false);
            write(b.to_string(), json!(b))
        }
        // (non-negative quantities have a range rule; 12345.5 lies inside)
        (Base::Float | Base::Double, Rule::None | Rule::Range(..)) => {
            // exactly representable in f32, so the shown value is exact
            let v = current.as_f64().map_or(12345.5, |c| c + 1.5);
            write(v.to_string(), json!(v))
        }
        (Base::Str, Rule::Color) => {
            let v = if current == "#123456" {
                "#654321"
            } else {
                "#123456"
            };
            write(format!("\"{v}\""), json!(v))
        }
        (Base::Str, Rule::StrLen(min, max)) => {
            let mut s = format!("{}-v", def.name);
            while s.len() < min {
                s.push('x');
            }
            s.truncate(max.max(1));
            if current == s.as_str() {
                s.pop();
                s.push('y');
            }
            let raw = serde_json::to_string(&s).unwrap();
            let shown = if def.secret == Secret::IsSet {
                json!(true)
            } else {
                json!(s)
            };
            write(raw, shown)
        }
        (b, _) if b.int_range().is_some() => {
            let (min, max) = int_bounds(def).unwrap();
            let cur = current.as_i64().map(i128::from);
            let first = if max - min <= 100_000 {
                max
            } else {
                min + 54_321
            };
            let v = [first, min, min + 1, min + 2]
                .into_iter()
                .find(|v| Some(*v) != cur && (min..=max).contains(v))
                .unwrap_or_else(|| panic!("no fresh value for {}", def.name));
            let v = v as i64;
            write(v.to_string(), json!(v))
        }
        _ => panic!(
            "no valid-value generator for writable key {} ({}, {:?}): add one to tests/common/values.rs",
            def.name, def.ty, def.rule
        ),
    }
}

/// The "value must be …" words for a key.
pub fn type_words(def: &KeyDef) -> String {
    let words = match def.base().json_kind() {
        JsonKind::Bool => return "boolean".into(),
        JsonKind::Integer => "integer",
        JsonKind::Number => "number",
        JsonKind::String => "string",
        JsonKind::Array => "JsonArray",
        JsonKind::Object => "JsonObject",
    };
    if def.ty.optional {
        format!("null or {words}")
    } else {
        words.to_owned()
    }
}

/// Values of the wrong JSON type, each with the message `/api/set` must give
/// (without the `<key>: ` prefix and ` (<raw>)` suffix).
pub fn wrong_types(def: &KeyDef) -> Vec<(String, String)> {
    let msg = format!("value must be {}", type_words(def));
    let raws: &[&str] = match def.base().json_kind() {
        JsonKind::Bool => &["\"yes\"", "2", "[]", "{}"],
        JsonKind::Integer => &["\"7\"", "1.5", "true", "[1]"],
        JsonKind::Number => &["\"7\"", "true", "{}"],
        JsonKind::String => &["7", "true", "[\"a\"]"],
        JsonKind::Array => &["{}", "7", "\"[]\""],
        JsonKind::Object => &["[]", "7", "\"{}\""],
    };
    // `rst` on newer firmware takes any JSON (JsonVariantConst): no wrong type
    if def.rule == Rule::AnyVariant {
        return Vec::new();
    }
    let mut out: Vec<(String, String)> = raws
        .iter()
        // newer `lot` takes a number as its total (`lot.amp`)
        .filter(|r| !(def.rule == Rule::LoadTotal && **r == "7"))
        .map(|r| (r.to_string(), msg.clone()))
        .collect();
    // null is valid for optional keys; `mtp=null` resets the prefix (documented)
    if !def.ty.optional && !matches!(def.rule, Rule::TopicPrefix | Rule::DiscoveryPrefix) {
        out.push(("null".into(), msg));
    }
    out
}

/// Out-of-range values: (raw, exact message or `None` when only the shape
/// `<key>: failed: … (<raw>)` is specified).
pub fn out_of_range(def: &KeyDef) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let exceeds =
        |v: i128, (a, b): (i128, i128)| Some(format!("failed: Value {v} exceeds range {a} to {b}"));
    if let (Some(base), Some(rule)) = (def.base().int_range(), int_bounds(def)) {
        // bases whose bounds fit i64 text round-trips; the 64-bit bases only
        // get rule-bound tests inside their range
        let small_base = base.1 <= i128::from(u32::MAX);
        if rule.1 < base.1 {
            out.push(((rule.1 + 1).to_string(), exceeds(rule.1 + 1, rule)));
        }
        if rule.0 > base.0 {
            out.push(((rule.0 - 1).to_string(), exceeds(rule.0 - 1, rule)));
        }
        // outside the type's range too, a key names its own range (one
        // rule, one message: `amp=256` says 6 to 16 like `amp=17`)
        let own = (rule.0.max(base.0), rule.1.min(base.1));
        if small_base {
            out.push(((base.1 + 1).to_string(), exceeds(base.1 + 1, own)));
            out.push(((base.0 - 1).to_string(), exceeds(base.0 - 1, own)));
        }
        return out;
    }
    let len_msg = |n: usize, a: usize, b: usize| {
        Some(format!(
            "failed: String length  {n} exceeds range {a} to {b}"
        ))
    };
    match (def.base(), def.rule) {
        (Base::Str, Rule::StrLen(min, max)) => {
            out.push((
                format!("\"{}\"", "x".repeat(max + 1)),
                len_msg(max + 1, min, max),
            ));
            if min > 0 {
                out.push((
                    format!("\"{}\"", "x".repeat(min - 1)),
                    len_msg(min - 1, min, max),
                ));
            }
        }
        (Base::Float | Base::Double, Rule::Range(min, max)) => {
            let below = i128::from(min) - 1;
            out.push((below.to_string(), exceeds(below, (min.into(), max.into()))));
            out.push(("-0.5".into(), None));
        }
        (Base::Str, Rule::Color) => {
            let m = Some("failed: color must be #RRGGBB".to_owned());
            for raw in [
                "\"#12345G\"",
                "\"#1234567\"",
                "\"123456\"",
                "\"red\"",
                "\"\"",
            ] {
                out.push((raw.into(), m.clone()));
            }
        }
        (Base::Str, Rule::UtcTime) => {
            for raw in [
                "\"2023-02-29T00:00:00\"",
                "\"yesterday\"",
                "\"2024-01-01 00:00:00\"",
            ] {
                out.push((raw.into(), None));
            }
        }
        (Base::Str, Rule::DiscoveryPrefix) => {
            out.push(("\"\"".into(), None));
            out.push(("\"home/#\"".into(), None));
        }
        (Base::Str, Rule::TopicPrefix) => {
            out.push(("\"no-slash\"".into(), None));
            out.push((format!("\"{}/\"", "x".repeat(200)), None));
        }
        (_, Rule::CurrentPresets) => {
            for raw in ["[5]", "[6,10,33]", "[]", "[6,6,6,6,6,6]"] {
                out.push((raw.into(), None));
            }
        }
        (_, Rule::PhaseMapping) => {
            for raw in ["[0,1,2]", "[1,2]", "[1,2,4]"] {
                out.push((raw.into(), None));
            }
        }
        (_, Rule::Schedule) => {
            for raw in [
                r#"{"control":9}"#,
                "{}",
                r#"{"control":1,"ranges":[{"begin":{"hour":25,"minute":0},"end":{"hour":1,"minute":0}}]}"#,
            ] {
                out.push((raw.into(), None));
            }
        }
        (_, Rule::Wifis) | (_, Rule::Cards) => {
            let eleven = format!("[{}]", ["{}"; 11].join(","));
            out.push((eleven, None));
            out.push((r#"[{"nosuchfield":1}]"#.into(), None));
        }
        (_, Rule::PriceList) => {
            out.push((r#"[{"start":10,"end":5,"marketprice":1}]"#.into(), None));
            out.push((r#"[{"start":10}]"#.into(), None));
        }
        (_, Rule::InverterData) => {
            out.push(("{}".into(), None));
            out.push((r#"{"pGrid":"x"}"#.into(), None));
        }
        _ => {}
    }
    out
}

/// The 2021 table's definitions (firmware [`super::FW_2021`]), in table order:
/// the tests that enumerate every key run a charger of that firmware.
pub fn table_2021() -> impl Iterator<Item = &'static KeyDef> {
    let profile = goe_keys::profile(super::FW_2021).expect("the 2021 profile");
    KEYS.iter()
        .enumerate()
        .filter_map(move |(kid, _)| profile.def(kid))
}

/// The R/W keys of the 2021 table, in table order.
pub fn read_write() -> impl Iterator<Item = &'static KeyDef> {
    table_2021().filter(|k| k.access == Access::ReadWrite)
}

/// Write-only keys of the 2021 table.
pub fn write_only() -> impl Iterator<Item = &'static KeyDef> {
    table_2021().filter(|k| k.access == Access::Write)
}

/// The value key `name` shows right after a factory-fresh boot of a charger
/// running `profile`: that firmware's definition and default (a key whose
/// type changed, like `awpl`, has another factory value on older firmware
/// than the table's main, newest definition).
pub fn default_shown(profile: &Profile, name: &str, serial: &str) -> Value {
    let (kid, def) = profile
        .key(name)
        .unwrap_or_else(|| panic!("{name} does not exist on firmware {}", profile.fwv));
    let v = profile.default_value(kid, serial);
    super::json::lenient(&goe_keys::render::shown(def, &v)).unwrap()
}
