//! The legacy HTTP API v1 (`/status`, `/mqtt?payload=key=value`), served by
//! V3+ firmware while `hla` is true.
//!
//! v1 values are strings (except `nrg`, `tma`, `lo*`), with v1 scalings:
//! energies in 0.1 kWh, currents in 0.1 A, power in 0.1 kW (total 0.01 kW),
//! `tof` as hours + 100, colours as decimal RGB, `pha` as a bit field.
//! Key order follows a real fw 051.4 capture.

use goe_engine::{Charger, SimTime};
use goe_keys::Value;
use goe_keys::value::write_string;
use std::fmt::Write as _;

/// The v1 letters of the ten RFID slots' energy and id keys (`eca`, `rcr`, …).
const CARD_SUFFIXES: [&str; 10] = ["a", "r", "d", "4", "5", "6", "7", "8", "9", "1"];

/// The v1 letters of the ten RFID slots' name keys: `rna`, `rnm`, `rne`, `rn4`…
/// (not `rnr`/`rnd`: every real v1 capture, fw 022.1 to 051.4, says so).
const NAME_SUFFIXES: [&str; 10] = ["a", "m", "e", "4", "5", "6", "7", "8", "9", "1"];

fn get<'a>(c: &'a Charger, key: &str) -> &'a Value {
    c.value(key).unwrap_or(&Value::Null)
}

fn int(c: &Charger, key: &str) -> i64 {
    match get(c, key) {
        Value::Bool(b) => i64::from(*b),
        v => v.as_f64().map_or(0, |f| f.floor() as i64),
    }
}

fn float(c: &Charger, key: &str) -> f64 {
    get(c, key).as_f64().unwrap_or(0.0)
}

fn color_decimal(c: &Charger, key: &str) -> u32 {
    get(c, key)
        .as_str()
        .and_then(|s| u32::from_str_radix(s.trim_start_matches('#'), 16).ok())
        .unwrap_or(0)
}

/// `DDMMYYHHMM` from the `loc` key (`2024-09-18T09:31:23.460 +02:00`).
fn tme(c: &Charger) -> String {
    let loc = get(c, "loc").as_str().unwrap_or("1970-01-01T00:00:00");
    let part = |r: std::ops::Range<usize>| loc.get(r).unwrap_or("00").to_owned();
    format!(
        "{}{}{}{}{}",
        part(8..10),
        part(5..7),
        part(2..4),
        part(11..13),
        part(14..16)
    )
}

/// The v1 `/status` document.
pub fn status(c: &mut Charger, now: SimTime) -> String {
    c.refresh_clock(now);
    let c = &*c;
    let mut fields: Vec<(String, String)> = Vec::with_capacity(100);
    let mut s = |k: &str, v: String| {
        let mut quoted = String::new();
        write_string(&v, &mut quoted);
        fields.push((k.to_owned(), quoted));
    };
    s("version", "B".into());
    s("tme", tme(c));
    s("rbc", int(c, "rbc").to_string());
    s("rbt", int(c, "rbt").to_string());
    // v1 has no Initializing (6, newer firmware right after boot): idle
    let car = match get(c, "car").as_i64() {
        Some(6) => 1,
        other => other.unwrap_or(0),
    };
    s("car", car.to_string());
    s("amx", int(c, "amp").to_string());
    s("amp", int(c, "amp").to_string());
    s("err", int(c, "err").to_string());
    s("ast", int(c, "acs").to_string());
    s("alw", int(c, "alw").to_string());
    s(
        "stp",
        if get(c, "dwo").is_null() { "0" } else { "2" }.into(),
    );
    s("cbl", get(c, "cbl").as_i64().unwrap_or(0).to_string());
    let pha = match get(c, "pha") {
        Value::Array(bits) => bits.iter().enumerate().fold(0u32, |acc, (i, b)| {
            if b.as_bool() == Some(true) {
                acc | (1 << i)
            } else {
                acc
            }
        }),
        _ => 0,
    };
    s("pha", pha.to_string());
    s("fsp", int(c, "fsp").to_string());
    let mut raw: Vec<(String, String)> = Vec::new();
    let mut tma = String::new();
    get(c, "tma").write_json(&mut tma);
    raw.push(("tma".into(), tma));
    fields.append(&mut raw);
    let mut s = |k: &str, v: String| {
        let mut quoted = String::new();
        write_string(&v, &mut quoted);
        fields.push((k.to_owned(), quoted));
    };
    s("dws", ((float(c, "wh") * 360.0).round() as i64).to_string());
    s(
        "dwo",
        ((float(c, "dwo") / 100.0).round() as i64).to_string(),
    );
    s("adi", int(c, "adi").to_string());
    s("uby", "0".into());
    s("eto", (int(c, "eto") / 100).to_string());
    s("wst", "3".into());
    s("fwv", get(c, "fwv").as_str().unwrap_or_default().to_owned());
    let nrg: Vec<f64> = match get(c, "nrg") {
        Value::Array(a) => a.iter().map(|v| v.as_f64().unwrap_or(0.0)).collect(),
        _ => vec![0.0; 16],
    };
    let at = |i: usize| nrg.get(i).copied().unwrap_or(0.0);
    let mut v1_nrg = String::from("[");
    for i in 0..16 {
        let x = match i {
            4..=6 => at(i) * 10.0,
            7..=10 => at(i) / 100.0,
            11 => at(i) / 10.0,
            _ => at(i),
        };
        if i > 0 {
            v1_nrg.push(',');
        }
        let _ = write!(v1_nrg, "{}", x.round() as i64);
    }
    v1_nrg.push(']');
    fields.push(("nrg".into(), v1_nrg));
    let mut s = |k: &str, v: String| {
        let mut quoted = String::new();
        write_string(&v, &mut quoted);
        fields.push((k.to_owned(), quoted));
    };
    s("sse", c.serial().to_owned());
    let ssid = match get(c, "wifis") {
        Value::Array(w) => w
            .first()
            .and_then(|e| e.field("ssid"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    };
    s("wss", ssid);
    s("wke", "********".into());
    s("wen", int(c, "wen").to_string());
    s("cdi", "1".into());
    s("tof", (int(c, "tof").div_euclid(60) + 100).to_string());
    s("tds", int(c, "tds").to_string());
    s("lbr", int(c, "lbr").to_string());
    s("aho", "0".into());
    s("afi", "6".into());
    s("azo", "0".into());
    s("ama", int(c, "ama").to_string());
    let presets: Vec<i64> = match get(c, "clp") {
        Value::Array(a) => a.iter().filter_map(Value::as_i64).collect(),
        _ => Vec::new(),
    };
    for i in 0..5 {
        s(
            &format!("al{}", i + 1),
            presets.get(i).copied().unwrap_or(0).to_string(),
        );
    }
    s("cid", color_decimal(c, "cid").to_string());
    s("cch", color_decimal(c, "cch").to_string());
    s("cfi", color_decimal(c, "cfi").to_string());
    s("lse", int(c, "lse").to_string());
    s("ust", int(c, "ust").to_string());
    s("wak", "********".into());
    s("r1x", "2".into());
    s("dto", "0".into());
    s("nmo", int(c, "nmo").to_string());
    s("sch", "AAAAAAAAAAAAAAAA".into());
    // v1 `sdp` is 0/1; the newer uint8 lock mode shows 1 unless AlwaysLock (0)
    s("sdp", i64::from(int(c, "sdp") != 0).to_string());
    let cards: Vec<Value> = match get(c, "cards") {
        Value::Array(a) => a.clone(),
        _ => Vec::new(),
    };
    let card = |i: usize, f: &str| cards.get(i).and_then(|c| c.field(f)).cloned();
    for (i, suffix) in CARD_SUFFIXES.iter().enumerate() {
        let wh = card(i, "energy").and_then(|v| v.as_f64()).unwrap_or(0.0);
        s(
            &format!("ec{suffix}"),
            ((wh / 100.0).round() as i64).to_string(),
        );
    }
    for (i, suffix) in CARD_SUFFIXES.iter().enumerate() {
        let learned = card(i, "cardId")
            .and_then(|v| v.as_str().map(|s| !s.is_empty()))
            .unwrap_or(false);
        s(
            &format!("rc{suffix}"),
            if learned { "1" } else { "" }.into(),
        );
    }
    for (i, suffix) in NAME_SUFFIXES.iter().enumerate() {
        let name = card(i, "name")
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        s(&format!("rn{suffix}"), name);
    }
    let lo = |k: &str, v: i64| (k.to_owned(), v.to_string());
    fields.push(lo("loe", int(c, "loe")));
    // the 2021 number, or `lot.amp` of the newer object
    fields.push(lo(
        "lot",
        goe_engine::loadbalance::lot_amps(get(c, "lot"), false),
    ));
    fields.push(lo("lom", 0));
    fields.push(lo("lop", int(c, "lop")));
    let mut log = String::new();
    write_string(get(c, "log").as_str().unwrap_or_default(), &mut log);
    fields.push(("log".into(), log));
    fields.push(lo("lof", int(c, "lof")));
    fields.push(lo("loa", get(c, "loa").as_i64().unwrap_or(0)));
    let lch = get(c, "lccfc").as_i64().map_or(0, |t| int(c, "rbt") - t);
    fields.push(lo("lch", lch));

    let mut out = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(k, &mut out);
        out.push(':');
        out.push_str(v);
    }
    out.push('}');
    out
}

/// Applies a v1 `key=value` payload by translating it into v2 writes. v1
/// reports failures only as unchanged values, so errors are swallowed;
/// returns whether persisted configuration changed.
pub fn apply_payload(c: &mut Charger, now: SimTime, payload: &str) -> bool {
    let Some((key, value)) = payload.split_once('=') else {
        return false;
    };
    let (key, value) = (key.trim(), value.trim());
    let Ok(n) = value.parse::<i64>() else {
        return false;
    };
    let writes: Vec<(&str, String)> = match key {
        "amp" | "amx" => vec![("amp", n.to_string())],
        "ama" => vec![("ama", n.to_string())],
        "alw" => vec![("frc", if n == 0 { "1" } else { "2" }.into())],
        "ast" if n <= 1 => vec![("acs", n.to_string())],
        "ust" => vec![("ust", n.to_string())],
        "lbr" => vec![("lbr", n.to_string())],
        "lse" | "nmo" => vec![(key, (n != 0).to_string())],
        // the 2021 bool, or the newer lock mode: 0 AlwaysLock, 1 → NeverLock (3)
        "sdp" => {
            let bool_typed = goe_keys::key_id("sdp")
                .is_some_and(|kid| c.def(kid).base() == goe_keys::Base::Bool);
            let v = match (bool_typed, n != 0) {
                (true, on) => on.to_string(),
                (false, true) => "3".into(),
                (false, false) => "0".into(),
            };
            vec![("sdp", v)]
        }
        "tds" => vec![("tds", n.to_string())],
        "tof" => vec![("tof", ((n - 100) * 60).to_string())],
        "dwo" => vec![(
            "dwo",
            if n == 0 {
                "null".into()
            } else {
                (n * 100).to_string()
            },
        )],
        "stp" if n == 0 => vec![("dwo", "null".into())],
        "cid" | "cch" | "cfi" if (0..=0xFF_FFFF).contains(&n) => {
            vec![(key, format!("\"#{n:06X}\""))]
        }
        "al1" | "al2" | "al3" | "al4" | "al5" => {
            let slot = key[2..].parse::<usize>().unwrap_or(1) - 1;
            let mut presets: Vec<i64> = match get(c, "clp") {
                Value::Array(a) => a.iter().filter_map(Value::as_i64).collect(),
                _ => Vec::new(),
            };
            if slot >= presets.len() {
                presets.resize(slot + 1, 6);
            }
            presets[slot] = n;
            let list: Vec<String> = presets.iter().map(i64::to_string).collect();
            vec![("clp", format!("[{}]", list.join(",")))]
        }
        _ => Vec::new(),
    };
    let mut persist = false;
    for (k, v) in writes {
        if let Ok(outcome) = c.set(now, k, &v) {
            persist |= outcome.persist;
        }
    }
    persist
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: SimTime = SimTime(1_717_394_400_000); // 2024-06-03T06:00Z

    #[test]
    fn status_uses_v1_formats() {
        let mut c = Charger::boot("012345", None, NOW, 1).unwrap();
        let v: serde_json::Value = serde_json::from_str(&status(&mut c, NOW)).unwrap();
        assert_eq!(v["version"], "B");
        assert_eq!(v["tme"], "0306240800");
        assert_eq!(v["amp"], "16");
        assert_eq!(v["alw"], "1");
        assert_eq!(v["pha"], "56", "idle three-phase grid");
        assert_eq!(v["tof"], "101");
        assert_eq!(v["cid"], "255");
        assert_eq!(v["cch"], "65535");
        assert_eq!(v["wke"], "********");
        assert_eq!(v["nrg"].as_array().unwrap().len(), 16);
        assert!(v["loe"].is_number());
        assert!(v["tma"].is_array());
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys[0], "version");
        assert_eq!(keys.last().unwrap().as_str(), "lch");
    }

    #[test]
    fn payloads_translate_to_v2() {
        let mut c = Charger::boot("012345", None, NOW, 1).unwrap();
        assert!(apply_payload(&mut c, NOW, "amp=10"));
        assert_eq!(c.value("amp"), Some(&Value::Int(10)));
        apply_payload(&mut c, NOW, "alw=0");
        assert_eq!(c.value("frc"), Some(&Value::Int(1)));
        apply_payload(&mut c, NOW, "cid=65280");
        assert_eq!(c.value("cid"), Some(&Value::Str("#00FF00".into())));
        apply_payload(&mut c, NOW, "dwo=180");
        assert_eq!(c.value("dwo"), Some(&Value::Double(18000.0)));
        apply_payload(&mut c, NOW, "al2=8");
        let v: serde_json::Value = serde_json::from_str(&status(&mut c, NOW)).unwrap();
        assert_eq!(v["al2"], "8");
        // failures leave values unchanged
        assert!(!apply_payload(&mut c, NOW, "amp=99"));
        assert!(!apply_payload(&mut c, NOW, "nonsense"));
        assert_eq!(c.value("amp"), Some(&Value::Int(10)));
    }
}
