//! `/sim/ui/keys.json`: what the dashboard's settings card and key browser
//! know about every key of this charger's firmware, straight from the key
//! table (`goe_keys`) resolved by the charger's firmware profile, so the
//! page holds no copy of the table. Values are not in it (they arrive on
//! `/sim/events`, rendered and masked like `/api/status`); only the rule's
//! bounds that depend on the charger's values (`amp` between `mca` and
//! `ama`) are read from the charger.
//!
//! The table has no column for a short name: [`friendly_name`] takes the
//! description's first clause, with the firmware's identifier spelled in
//! words (`forceState` → "Force state"). A unit the table does not name is
//! read from the type (`milliseconds` → `ms`) or the description's
//! "in Wh"/"(in A)" ([`unit()`]); see docs/compat.md "Dashboard (#16)".

use crate::device::Device;
use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use goe_keys::set::int_bounds;
use goe_keys::{Base, JsonKind, KeyDef, Lookup, Rule, Secret, Value};
use serde_json::{Value as Json, json};

/// `GET /sim/ui/keys.json`: [`document`] as JSON, revalidated every time.
pub fn response(device: &Device) -> Response {
    let mut response = Response::new(Body::from(document(device)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The metadata document of `device`: its serial, firmware and every key of
/// its firmware in print order (the readable ones in `/api/status` order,
/// write-only ones where the firmware registers them).
pub fn document(device: &Device) -> String {
    let profile = device.firmware();
    // the few values a rule's bounds depend on, copied under the lock
    let current = device.with_charger(|c, _| Current {
        values: BOUND_KEYS
            .iter()
            .filter_map(|k| c.value(k).map(|v| (*k, v.clone())))
            .collect(),
    });
    let keys: Vec<Json> = profile.keys().map(|(_, def)| key(def, &current)).collect();
    json!({
        "serial": device.serial(),
        "firmware": profile.firmware.to_string(),
        "fwv": profile.fwv,
        "keys": keys,
    })
    .to_string()
}

/// Keys whose values the rules of other keys read (`goe_keys::set::int_bounds`).
const BOUND_KEYS: &[&str] = &["mca", "ama", "var"];

struct Current {
    values: Vec<(&'static str, Value)>,
}

impl Lookup for Current {
    fn lookup(&self, key: &str) -> Option<&Value> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

/// One key's entry.
fn key(def: &KeyDef, current: &dyn Lookup) -> Json {
    let enums: Vec<Json> = def
        .enums
        .iter()
        .map(|(value, name)| json!({ "value": value, "name": name }))
        .collect();
    json!({
        "key": def.name,
        "name": friendly_name(def.description),
        "description": def.description,
        "category": def.category.as_str(),
        "type": def.ty.to_string(),
        "optional": def.ty.optional,
        "unit": unit(def),
        "access": def.access.as_str(),
        "readable": def.access.readable(),
        "writable": def.access.writable(),
        "persisted": def.persisted(),
        "secret": secret(def.secret),
        "input": input(def),
        "enum": enums,
        "rule": rule(def, current),
    })
}

/// How the page edits the key: `enum` (a select of the enum names), `bool`
/// (a checkbox), `integer`/`number`/`string` (a text field sent as typed,
/// strings as JSON strings) or `json` (JSON text). The charger validates.
fn input(def: &KeyDef) -> &'static str {
    if matches!(def.rule, Rule::AnyVariant) {
        return "json";
    }
    match def.base().json_kind() {
        JsonKind::Integer if !def.enums.is_empty() => "enum",
        JsonKind::Bool => "bool",
        JsonKind::Integer => "integer",
        JsonKind::Number => "number",
        JsonKind::String => "string",
        JsonKind::Array | JsonKind::Object => "json",
    }
}

/// How a secret is shown: `isSet` (true/false), `fieldIsSet` (that field of
/// each entry as true/false), `urlPassword` (the URL's password as
/// `********`); `null` for other keys.
fn secret(secret: Secret) -> Json {
    match secret {
        Secret::No => Json::Null,
        Secret::IsSet => json!({ "shown": "isSet" }),
        Secret::FieldIsSet(field) => json!({ "shown": "fieldIsSet", "field": field }),
        Secret::UrlPassword => json!({ "shown": "urlPassword", "mask": goe_keys::render::MASK }),
    }
}

/// What a write must satisfy beyond the JSON type, for reading (the
/// charger's answer decides): `range` (inclusive `min`/`max`, now, with the
/// keys it follows in `follows`), `length` of a string, or the rule's name.
fn rule(def: &KeyDef, current: &dyn Lookup) -> Json {
    if !def.access.writable() {
        return Json::Null;
    }
    let base = def.base();
    let follows: &[&str] = match def.rule {
        Rule::RequestedCurrent => &["mca", "ama"],
        Rule::MinCurrent => &["ama"],
        Rule::MaxCurrent => &["var"],
        _ => &[],
    };
    if base.int_range().is_some() {
        let (min, max) = int_bounds(def, base, current);
        let mut r = json!({ "kind": "range", "min": big(min), "max": big(max) });
        if !follows.is_empty() {
            r["follows"] = json!(follows);
        }
        return r;
    }
    let named = |kind: &str| json!({ "kind": kind });
    match def.rule {
        Rule::Range(min, max) => json!({ "kind": "range", "min": min, "max": max }),
        Rule::StrLen(min, max) => json!({ "kind": "length", "min": min, "max": max }),
        Rule::None
        | Rule::RequestedCurrent
        | Rule::MinCurrent
        | Rule::MaxCurrent
        | Rule::Transaction => match base {
            Base::Float | Base::Double => named("number"),
            _ => Json::Null,
        },
        Rule::Color => named("color"),
        Rule::CurrentPresets => named("currentPresets"),
        Rule::Schedule => named("schedule"),
        Rule::ScheduleV2 => named("scheduleV2"),
        Rule::LoadTotal => named("loadTotal"),
        Rule::PriceListV2 => named("priceListV2"),
        Rule::AnyVariant => named("anyJson"),
        Rule::Wifis => named("wifis"),
        Rule::Cards => named("cards"),
        Rule::InverterData => named("inverterData"),
        Rule::PriceList => named("priceList"),
        Rule::PhaseMapping => named("phaseMapping"),
        Rule::UtcTime => named("utcTime"),
        Rule::TopicPrefix => named("topicPrefix"),
        Rule::DiscoveryPrefix => named("discoveryPrefix"),
        Rule::PemKey => named("pemKey"),
        Rule::PemCert => named("pemCert"),
    }
}

/// An integer bound as JSON (`u64::MAX` of `uint64` keys does not fit an `i64`).
fn big(n: i128) -> Json {
    match (i64::try_from(n), u64::try_from(n)) {
        (Ok(i), _) => json!(i),
        (_, Ok(u)) => json!(u),
        _ => Json::Null,
    }
}

/// A short name from the description: its first clause (up to ` (`, `, `,
/// `: `, `; ` or a `?`), with a leading firmware identifier in words
/// (`forceState` → "Force state", `unlock_setting` → "Unlock setting").
pub fn friendly_name(description: &str) -> String {
    let d = description.trim();
    let mut end = d.len();
    for stop in [" (", ", ", ": ", " : ", "; ", " - "] {
        if let Some(i) = d.find(stop) {
            end = end.min(i);
        }
    }
    if let Some(i) = d.find("? ") {
        end = end.min(i + 1);
    }
    let clause = d[..end].trim_end_matches([',', ';', ':', ' ', '\t']).trim();
    let (first, rest) = clause.split_once(' ').unwrap_or((clause, ""));
    let mut words = identifier_words(first);
    if !rest.is_empty() {
        words.push(' ');
        words.push_str(rest);
    }
    let mut chars = words.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `forceState` → "force state", `energy_total` → "energy total"; any other
/// word (`WiFi`, `MQTT`, `iso15118Enablement` with its digits) stays as written.
fn identifier_words(word: &str) -> String {
    let snake = word.contains('_') && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if snake {
        return word
            .split('_')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
    }
    let camel = word.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && word.bytes().all(|b| b.is_ascii_alphabetic())
        && word.bytes().any(|b| b.is_ascii_uppercase());
    if !camel {
        return word.to_owned();
    }
    let mut out = String::with_capacity(word.len() + 4);
    let chars: Vec<char> = word.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        // a new word at lower→Upper, and at the last capital of a run (`PGrid`)
        let starts = c.is_ascii_uppercase()
            && i > 0
            && (chars[i - 1].is_ascii_lowercase()
                || chars.get(i + 1).is_some_and(char::is_ascii_lowercase));
        if starts {
            out.push(' ');
        }
        // a run of capitals is an abbreviation (`minSoC`): keep it
        let in_run = c.is_ascii_uppercase()
            && (chars.get(i + 1).is_some_and(char::is_ascii_uppercase)
                || (i > 0 && chars[i - 1].is_ascii_uppercase()));
        if in_run {
            out.push(c);
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The unit of a key's value: the table's `unit`, else the type's
/// (`milliseconds` → `ms`, …), else for numbers the first "in UNIT" of the
/// description naming a unit ("energy in Wh since car connected" → `Wh`,
/// "limit adapter 1-phase (in A)" → `A`); `None` when nothing names one.
pub fn unit(def: &KeyDef) -> Option<&'static str> {
    if let Some(u) = def.unit {
        return Some(u);
    }
    match def.base() {
        Base::Millis => return Some("ms"),
        Base::Micros => return Some("µs"),
        Base::Seconds => return Some("s"),
        Base::Minutes => return Some("min"),
        _ => {}
    }
    if !matches!(def.base().json_kind(), JsonKind::Integer | JsonKind::Number) {
        return None;
    }
    const UNITS: &[(&str, &str)] = &[
        ("Wh", "Wh"),
        ("kWh", "kWh"),
        ("W", "W"),
        ("A", "A"),
        ("Ampere", "A"),
        ("V", "V"),
        ("Volt", "V"),
        ("Hz", "Hz"),
        ("ms", "ms"),
        ("milliseconds", "ms"),
        ("seconds", "s"),
        ("minutes", "min"),
        ("ct", "ct"),
        ("%/s", "%/s"),
        ("%", "%"),
        ("dBm", "dBm"),
    ];
    let d = def.description;
    d.match_indices(" in ").find_map(|(i, m)| {
        let word = d[i + m.len()..]
            .split(|c: char| c.is_whitespace() || matches!(c, ')' | ',' | ';' | '.'))
            .next()?;
        UNITS.iter().find(|(w, _)| *w == word).map(|(_, u)| *u)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn friendly_names_come_from_the_description() {
        let name = |k: &str| friendly_name(goe_keys::key(k).unwrap().description);
        assert_eq!(name("frc"), "Force state");
        assert_eq!(name("lmo"), "Logic mode");
        assert_eq!(name("ust"), "Unlock setting");
        assert_eq!(name("acs"), "Access control user setting");
        assert_eq!(name("psm"), "Phase switch mode");
        assert_eq!(name("amp"), "Requested current in Ampere");
        assert_eq!(name("adi"), "Wird der 16A Adapter benutzt?");
        assert_eq!(name("mcu"), "MQTT broker URL");
        assert_eq!(name("pass"), "User password");
        assert_eq!(
            name("rdbse"),
            "Random delay start scheduled charging ends at"
        );
    }

    #[test]
    fn units_from_the_table_the_type_or_the_text() {
        let unit = |k: &str| unit(goe_keys::key(k).unwrap());
        assert_eq!(unit("acu"), Some("A"));
        assert_eq!(unit("cbl"), Some("A"));
        assert_eq!(unit("la1"), Some("A"));
        assert_eq!(unit("wh"), Some("Wh"));
        assert_eq!(unit("tof"), Some("min"));
        assert_eq!(unit("lbp"), Some("ms"));
        assert_eq!(unit("rsrr"), Some("%/s"));
        assert_eq!(unit("frc"), None);
        assert_eq!(unit("fna"), None);
    }
}
