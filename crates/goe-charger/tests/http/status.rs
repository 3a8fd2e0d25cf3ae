//! `GET /api/status`: key set and order, JSON kinds, headers, boot counters,
//! clock formats, unknown paths and over-long URIs.

use crate::common::json::{check_number_format, has_whitespace_outside_strings, number_tokens};
use crate::common::{self, Charger, SERIAL, parse_time_ms, shared};
use goe_keys::{Access, JsonKind, KEYS, KeyDef, Secret};
use serde_json::Value;

/// Names of the keys a status of `profile` shows, in its print order.
pub fn readable_names(profile: &goe_keys::Profile) -> Vec<&'static str> {
    profile.readable_keys().map(|(_, d)| d.name).collect()
}

/// Explains how two key lists differ (for assertion messages).
pub fn key_list_diff(got: &[&str], want: &[&str]) -> String {
    let missing: Vec<_> = want.iter().filter(|k| !got.contains(k)).collect();
    let extra: Vec<_> = got.iter().filter(|k| !want.contains(k)).collect();
    let first = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .map(|i| {
            format!(
                "first difference at position {i}: got {:?}, want {:?}",
                got[i], want[i]
            )
        })
        .unwrap_or_else(|| format!("lengths {} vs {}", got.len(), want.len()));
    format!("missing {missing:?}; unexpected {extra:?}; {first}")
}

/// Why a shown value does not have the kind the table declares (`None` = fine).
pub fn kind_problem(def: &KeyDef, raw: &str, v: &Value) -> Option<String> {
    if v.is_null() {
        return (!def.ty.optional).then(|| format!("null, but {} is not optional", def.ty));
    }
    match def.secret {
        Secret::IsSet => {
            return (!v.is_boolean()).then(|| format!("secret must show as true/false, got {raw}"));
        }
        Secret::FieldIsSet(field) => {
            let Some(items) = v.as_array() else {
                return Some(format!("expected an array, got {raw}"));
            };
            for (i, item) in items.iter().enumerate() {
                let Some(obj) = item.as_object() else {
                    return Some(format!("entry {i} is not an object"));
                };
                if let Some(f) = obj.get(field)
                    && !f.is_boolean()
                {
                    return Some(format!(
                        "entry {i}.{field} must show as true/false, got {f}"
                    ));
                }
            }
            return None;
        }
        // a string with its password masked: the string check follows
        Secret::No | Secret::UrlPassword => {}
    }
    let ok = match def.base().json_kind() {
        JsonKind::Bool => v.is_boolean(),
        JsonKind::Integer => v.is_number() && !raw.contains(['.', 'e', 'E']),
        JsonKind::Number => v.is_number(),
        JsonKind::String => v.is_string(),
        JsonKind::Array => v.is_array(),
        JsonKind::Object => v.is_object(),
    };
    (!ok).then(|| {
        format!(
            "expected {:?} ({}), got {raw}",
            def.base().json_kind(),
            def.ty
        )
    })
}

#[tokio::test]
async fn unfiltered_status_lists_every_readable_key_in_table_order() {
    // every profile, in its order (051.4: the table order); the default
    // firmware through the charger started without --firmware
    let mut chargers = vec![(goe_keys::default_profile(), shared())];
    for p in goe_keys::profiles() {
        chargers.push((p, common::shared_on(&p.firmware.to_string())));
    }
    for (profile, charger) in chargers {
        let st = charger.api().status().await;
        let fw = profile.firmware;
        let got = st.keys();
        let want = readable_names(profile);
        assert_eq!(got, want, "{fw}: {}", key_list_diff(&got, &want));
        // spelled out separately, so a failure names the rule that broke
        for (_, def) in profile.keys() {
            match def.access {
                Access::Write => {
                    assert!(
                        !st.has(def.name),
                        "{fw}: write-only {} must not appear",
                        def.name
                    )
                }
                _ if def.in_seed => {
                    assert!(st.has(def.name), "{fw}: seed key {} missing", def.name)
                }
                _ => assert!(st.has(def.name), "{fw}: key {} missing", def.name),
            }
        }
        let absent: Vec<&str> = KEYS
            .iter()
            .enumerate()
            .filter(|&(kid, k)| profile.def(kid).is_none() && st.has(k.name))
            .map(|(_, k)| k.name)
            .collect();
        assert!(
            absent.is_empty(),
            "{fw}: keys of other firmware printed: {absent:?}"
        );
    }
}

#[tokio::test]
async fn unfiltered_status_values_have_the_declared_json_kinds() {
    let st = shared().api().status().await;
    let mut problems = Vec::new();
    for e in &st.entries {
        let Some(def) = goe_keys::key(&e.key) else {
            problems.push(format!("{}: not in the key table", e.key));
            continue;
        };
        if let Some(p) = kind_problem(def, &e.raw, &e.value) {
            problems.push(format!("{}: {p}", e.key));
        }
    }
    assert!(
        problems.is_empty(),
        "kind mismatches:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn status_headers_and_compact_body() {
    let api = shared().api();
    for pq in ["/api/status", "/api/status?filter=alw,amp,nrg"] {
        let r = api.get(pq).await;
        assert_eq!(r.status, 200, "{pq}");
        let ct = r.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("application/json"),
            "{pq}: Content-Type {ct:?}"
        );
        assert_eq!(
            r.header("access-control-allow-origin").as_deref(),
            Some("*"),
            "{pq}: Access-Control-Allow-Origin"
        );
        let len = r.header("content-length");
        assert_eq!(
            len.as_deref(),
            Some(r.bytes.len().to_string().as_str()),
            "{pq}: Content-Length must be present and match the body"
        );
        assert!(r.utf8, "{pq}: body must be UTF-8");
        assert!(
            !has_whitespace_outside_strings(&r.body),
            "{pq}: JSON must be compact: {}",
            &r.body[..r.body.len().min(300)]
        );
        r.object(pq);
    }
}

#[tokio::test]
async fn status_numbers_are_formatted_like_arduinojson() {
    let st = shared().api().status().await;
    let mut bad = Vec::new();
    for e in &st.entries {
        for tok in number_tokens(&e.raw) {
            if let Err(why) = check_number_format(&tok) {
                bad.push(format!("{}: {why}", e.key));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "badly formatted numbers:\n{}",
        bad.join("\n")
    );
}

#[tokio::test]
async fn fresh_charger_boot_counters_and_serial() {
    let api = shared().api();
    let a = api.status().await;
    assert_eq!(
        a.get("rbc"),
        Some(&Value::from(1)),
        "rbc on a fresh data dir"
    );
    assert_eq!(a.get("sse"), Some(&Value::from(SERIAL)), "default serial");
    let rbt1 = a.get("rbt").and_then(Value::as_i64).expect("rbt integer");
    assert!(rbt1 >= 0, "rbt {rbt1}");
    let b = api.status().await;
    let rbt2 = b.get("rbt").and_then(Value::as_i64).expect("rbt integer");
    assert!(
        rbt2 >= rbt1,
        "rbt must not go backwards: {rbt1} then {rbt2}"
    );
    assert_eq!(
        b.get("rbc"),
        Some(&Value::from(1)),
        "rbc is stable while running"
    );
}

#[tokio::test]
async fn serial_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    for (fw, keys) in [
        (goe_keys::DEFAULT_FIRMWARE, &["host"][..]),
        (common::FW_2021, &["host", "fwan"][..]),
    ] {
        let ch = Charger::start_with(dir.path(), &["--serial", "654321", "--firmware", fw]);
        let st = ch.api().status().await;
        assert_eq!(st.get("sse"), Some(&Value::from("654321")), "{fw}");
        let profile = goe_keys::profile(fw).unwrap();
        for k in keys {
            let want = common::values::default_shown(profile, k, "654321");
            assert_eq!(st.get(k), Some(&want), "{fw}: {k} derives from the serial");
        }
    }
}

/// Whether European summer time is in force at `ms` (UTC): from the last
/// Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC.
fn eu_dst(ms: i64, year: i64) -> bool {
    let last_sunday = |month: i64| {
        let d = 31 - common::weekday(year, month, 31);
        common::civil_to_ms(year, month, d, 1, 0, 0, 0)
    };
    ms >= last_sunday(3) && ms < last_sunday(10)
}

#[tokio::test]
async fn utc_and_loc_have_the_firmware_format() {
    let st = shared().api().status_filter("utc,loc,tof,tds").await;
    let utc = st.get("utc").and_then(Value::as_str).expect("utc string");
    let loc = st.get("loc").and_then(Value::as_str).expect("loc string");
    assert_eq!(st.get("tof"), Some(&Value::from(60)), "default tof");
    assert_eq!(st.get("tds"), Some(&Value::from(1)), "default tds");
    let utc_ms = parse_time_ms(utc)
        .unwrap_or_else(|| panic!("utc {utc:?} not like 2024-09-18T07:31:23.457"));
    let (loc_time, zone) = loc
        .split_once(' ')
        .unwrap_or_else(|| panic!("loc {loc:?} not like 2024-09-18T09:31:23.457 +02:00"));
    let loc_ms = parse_time_ms(loc_time).unwrap_or_else(|| panic!("loc {loc:?}: bad time part"));
    let zb = zone.as_bytes();
    assert!(
        zb.len() == 6
            && matches!(zb[0], b'+' | b'-')
            && zb[3] == b':'
            && zone[1..3]
                .bytes()
                .chain(zone[4..].bytes())
                .all(|c| c.is_ascii_digit()),
        "loc zone {zone:?} not like +02:00"
    );
    let year: i64 = utc[..4].parse().unwrap();
    let want_zone = if eu_dst(utc_ms, year) {
        "+02:00"
    } else {
        "+01:00"
    };
    assert_eq!(zone, want_zone, "tof=60, tds=1 (EU DST) at utc {utc}");
    let offset_ms = if want_zone == "+02:00" {
        7_200_000
    } else {
        3_600_000
    };
    assert_eq!(
        loc_ms - utc_ms,
        offset_ms,
        "loc {loc} must be utc {utc} shifted by {zone}"
    );
    // the charger's clock is the real one (loose bound: a wrong year/day/zone, not speed)
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(
        (utc_ms - now).abs() < 86_400_000,
        "utc {utc} is not today's UTC time"
    );
}

#[tokio::test]
async fn unknown_paths_are_404_plain_text() {
    // "plain text": a text body, not JSON (ESP-IDF's httpd labels it text/html)
    let api = shared().api();
    for pq in [
        "/nope",
        "/api/nope",
        "/api/statusx",
        "/api/sett?amp=10",
        "/API/STATUS",
        "/api",
    ] {
        let r = api.get(pq).await;
        assert_eq!(r.status, 404, "{pq}: {}", r.body);
        assert!(!r.body.trim().is_empty(), "{pq}: 404 needs a text body");
        assert!(
            serde_json::from_str::<Value>(&r.body).is_err(),
            "{pq}: the 404 body is text, not JSON: {}",
            r.body
        );
        let ct = r.header("content-type").unwrap_or_default();
        assert!(ct.starts_with("text/"), "{pq}: Content-Type {ct:?}");
    }
}

#[tokio::test]
async fn uri_longer_than_4096_bytes_is_414() {
    let api = shared().api();
    let head = "/api/status?filter=alw,";
    let at_limit = format!("{head}{}", "z".repeat(4096 - head.len()));
    assert_eq!(at_limit.len(), 4096);
    let r = api.get(&at_limit).await;
    // (400 on 60.3+: the filter names an unknown key; the JSON is answered)
    assert!(
        matches!(r.status, 200 | 400),
        "a 4096-byte URI is allowed: {} {}",
        r.status,
        r.body
    );
    assert_eq!(r.object("4096").keys(), ["alw"]);
    let over = format!("{at_limit}z");
    let r = api.get(&over).await;
    assert_eq!(
        r.status,
        414,
        "a 4097-byte URI: {}",
        &r.body[..r.body.len().min(200)]
    );
    // 100 KB: beyond what reqwest sends, so through a raw socket
    let huge = format!("{head}{}", "z".repeat(100_000));
    let r = crate::common::raw::send(
        api.port,
        &crate::common::raw::get_request(huge.as_bytes()),
        false,
    );
    assert_eq!(
        r.status,
        Some(414),
        "a 100 KB URI: {:?}",
        String::from_utf8_lossy(&r.all)
    );
    // still serving
    api.status().await;
}
