//! The dashboard's key metadata (`/sim/ui/keys.json`, issue #16) against the
//! key table and `/api/status` of the real binary on `127.0.0.1:0`, and the
//! settings card and key browser in headless Debian Chromium
//! (`tests/ui/keys.js`, through `common::browser`).

mod common;

use common::fleet_process::Fleet;

use common::{Charger, browser};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `GET path` on `port`: status code, content type and body.
fn get(port: u16, path: &str) -> (u16, String, String) {
    let r = runtime().block_on(common::Api::new(port).get(path));
    let ty = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (r.status, ty, r.body)
}

fn keys_json(port: u16, query: &str) -> Value {
    let (code, ty, body) = get(port, &format!("/sim/ui/keys.json{query}"));
    assert_eq!(code, 200, "{body}");
    assert_eq!(ty, "application/json");
    serde_json::from_str(&body).expect("keys.json is JSON")
}

fn status(port: u16) -> serde_json::Map<String, Value> {
    let (code, _, body) = get(port, "/api/status");
    assert_eq!(code, 200, "{body}");
    match serde_json::from_str(&body).unwrap() {
        Value::Object(m) => m,
        other => panic!("status is not an object: {other}"),
    }
}

/// The names of the entries, and those of the readable ones.
fn names(doc: &Value) -> (Vec<String>, Vec<String>) {
    let keys = doc["keys"].as_array().expect("keys array");
    let all = keys
        .iter()
        .map(|k| k["key"].as_str().unwrap().to_owned())
        .collect();
    let readable = keys
        .iter()
        .filter(|k| k["readable"] == true)
        .map(|k| k["key"].as_str().unwrap().to_owned())
        .collect();
    (all, readable)
}

/// Every key of the firmware is listed once with what the table says of
/// it; the readable ones are exactly `/api/status`'s keys, in its order.
fn check_against_the_table(port: u16, version: &str) -> Value {
    let doc = keys_json(port, "");
    let profile = goe_keys::profile(version).unwrap();
    assert_eq!(doc["firmware"], profile.firmware.to_string());
    assert_eq!(doc["serial"], common::SERIAL);
    let (all, readable) = names(&doc);
    let status_keys: Vec<String> = status(port).keys().cloned().collect();
    assert_eq!(readable, status_keys, "readable keys in /api/status order");
    let table: Vec<&str> = profile.keys().map(|(_, d)| d.name).collect();
    assert_eq!(all, table, "every key of {version} in print order");
    for entry in doc["keys"].as_array().unwrap() {
        let name = entry["key"].as_str().unwrap();
        let (_, def) = profile.key(name).unwrap();
        assert_eq!(entry["writable"], def.access.writable(), "{name} writable");
        assert_eq!(entry["readable"], def.access.readable(), "{name} readable");
        assert_eq!(entry["access"], def.access.as_str(), "{name}");
        assert_eq!(entry["type"], def.ty.to_string(), "{name} type");
        assert_eq!(entry["category"], def.category.as_str(), "{name}");
        assert_eq!(entry["description"], def.description, "{name}");
        assert!(
            entry["name"].as_str().is_some_and(|n| !n.is_empty()),
            "{name} has a friendly name: {entry}"
        );
        if let Some(unit) = def.unit {
            assert_eq!(entry["unit"], unit, "{name} unit");
        }
        assert_eq!(
            entry["secret"].is_null(),
            def.secret == goe_keys::Secret::No,
            "{name} secret"
        );
        let enums: Vec<(i64, &str)> = entry["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["value"].as_i64().unwrap(), e["name"].as_str().unwrap()))
            .collect();
        assert_eq!(enums, def.enums.to_vec(), "{name} enum names");
        if !def.access.writable() {
            assert!(entry["rule"].is_null(), "{name}: {entry}");
        } else if def.base().int_range().is_some() {
            assert_eq!(entry["rule"]["kind"], "range", "{name}: {entry}");
        }
    }
    doc
}

fn entry<'a>(doc: &'a Value, key: &str) -> &'a Value {
    doc["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key"] == key)
        .unwrap_or_else(|| panic!("{key} missing"))
}

#[test]
fn key_metadata_is_the_key_table_of_the_charger_firmware() {
    let c = Charger::fresh_with(&["--clock", "manual"]);
    let doc = check_against_the_table(c.port, goe_keys::DEFAULT_FIRMWARE);
    // the settings card's keys, with the table's friendly names and enum names
    let frc = entry(&doc, "frc");
    assert_eq!(frc["name"], "Force state");
    assert_eq!(frc["input"], "enum");
    assert_eq!(frc["enum"][2]["name"], "On");
    assert_eq!(entry(&doc, "ust")["name"], "Unlock setting");
    assert_eq!(entry(&doc, "lmo")["enum"][0]["name"], "Default");
    assert_eq!(entry(&doc, "acs")["enum"][1]["name"], "Wait");
    // `amp` on 60.5: 6 to 32 A, as /api/set checks it
    let amp = entry(&doc, "amp");
    assert_eq!(amp["unit"], "A");
    assert_eq!(
        amp["rule"],
        serde_json::json!({"kind": "range", "min": 6, "max": 32})
    );
    // units the table leaves out come from the type or the description
    assert_eq!(entry(&doc, "lbp")["unit"], "ms");
    assert_eq!(entry(&doc, "la1")["unit"], "A");
    // read-only and write-only keys
    assert_eq!(entry(&doc, "car")["writable"], false);
    assert!(entry(&doc, "car")["rule"].is_null());
    let pass = entry(&doc, "pass");
    assert_eq!(
        (pass["readable"].clone(), pass["writable"].clone()),
        (false.into(), true.into())
    );
}

/// Where a rule's bounds follow other keys (`amp` between `mca` and `ama`
/// before 55.2), the metadata gives today's bounds and the keys they follow.
#[test]
fn bounds_follow_the_charger_values() {
    let c = Charger::fresh_with(&["--clock", "manual", "--firmware", "051.4"]);
    let amp = entry(&keys_json(c.port, ""), "amp").clone();
    assert_eq!(amp["rule"]["follows"], serde_json::json!(["mca", "ama"]));
    assert_eq!(amp["rule"]["min"], 6);
    assert_eq!(amp["rule"]["max"], status(c.port)["ama"]);
    let (code, _, body) = get(c.port, "/api/set?ama=10");
    assert_eq!(code, 200, "{body}");
    assert_eq!(entry(&keys_json(c.port, ""), "amp")["rule"]["max"], 10);
    let (code, _, body) = get(c.port, "/api/set?amp=11");
    assert!(body.contains("6 to 10"), "{code} {body}");
}

#[test]
fn older_firmware_lists_its_own_fewer_keys() {
    let new = Charger::fresh_with(&["--clock", "manual"]);
    let old = Charger::fresh_with(&["--clock", "manual", "--firmware", "056.2"]);
    let new_doc = check_against_the_table(new.port, "060.5");
    let old_doc = check_against_the_table(old.port, "056.2");
    let (new_keys, _) = names(&new_doc);
    let (old_keys, _) = names(&old_doc);
    assert!(
        old_keys.len() < new_keys.len(),
        "{} vs {}",
        old_keys.len(),
        new_keys.len()
    );
    // a 60.x key the 56.2 firmware does not have
    assert!(new_keys.iter().any(|k| k == "c0n"));
    assert!(!old_keys.iter().any(|k| k == "c0n"));
}

/// Secrets: the metadata never carries a value, says how each secret is
/// shown, and `/api/status` (what the browser displays, via `/sim/events`)
/// shows them that way.
#[test]
fn secrets_are_flagged_and_shown_masked() {
    let c = Charger::fresh_with(&["--clock", "manual"]);
    let url = "mqtt://me:hunter2secret@127.0.0.1:1";
    let q = format!(
        "/api/set?mcu={}&pass=%22p4ssw0rdsecret%22&c0i=%22cardsecret9%22",
        form_urlencoded::byte_serialize(format!("\"{url}\"").as_bytes()).collect::<String>()
    );
    let (code, _, body) = get(c.port, &q);
    assert_eq!(code, 200, "{body}");
    let (_, _, raw) = get(c.port, "/sim/ui/keys.json");
    let s = status(c.port);
    let mut frame = String::new();
    {
        let mut stream = TcpStream::connect(("127.0.0.1", c.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "GET /sim/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        while !frame.starts_with("data: {") {
            frame.clear();
            assert!(reader.read_line(&mut frame).unwrap() > 0, "stream ended");
        }
    }
    for secret in ["hunter2secret", "p4ssw0rdsecret", "cardsecret9"] {
        assert!(!raw.contains(secret), "keys.json shows {secret}");
        assert!(!frame.contains(secret), "the event frame shows {secret}");
    }
    let doc: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(entry(&doc, "mcu")["secret"]["shown"], "urlPassword");
    assert_eq!(s["mcu"], "mqtt://me:********@127.0.0.1:1");
    assert_eq!(entry(&doc, "c0i")["secret"]["shown"], "isSet");
    assert_eq!(s["c0i"], true);
    assert_eq!(entry(&doc, "cards")["secret"]["shown"], "fieldIsSet");
    assert_eq!(entry(&doc, "cards")["secret"]["field"], "cardId");
    // every readable secret is shown the way its entry says
    for e in doc["keys"].as_array().unwrap() {
        let key = e["key"].as_str().unwrap();
        match e["secret"]["shown"].as_str() {
            Some("isSet") if e["readable"] == true => {
                assert!(s[key].is_boolean(), "{key} is {}", s[key]);
            }
            Some("urlPassword") => {
                assert!(!s[key].as_str().unwrap_or("").contains("secret"), "{key}");
            }
            _ => {}
        }
    }
}

/// In a fleet, `?serial=S` on any charger gives charger `S`'s keys (its
/// firmware), like `/sim/events`; an unknown serial is a 404.
#[test]
fn fleet_serial_selects_the_charger() {
    let fleet = Fleet::start(
        "base_serial = 300001\n[[charger]]\ncount = 1\n[[charger]]\ncount = 1\nfirmware = \"056.2\"\n",
    );
    assert_eq!(fleet.chargers.len(), 2);
    let port = fleet.chargers[0].1;
    let own = keys_json(port, "");
    assert_eq!(own["serial"], "300001");
    assert_eq!(own["firmware"], "060.5");
    let other = keys_json(port, "?serial=300002");
    assert_eq!(other["serial"], "300002");
    assert_eq!(other["firmware"], "056.2");
    assert!(names(&other).0.len() < names(&own).0.len());
    let (code, _, body) = get(port, "/sim/ui/keys.json?serial=399999");
    assert_eq!(code, 404, "{body}");
}

/// The settings card and the key browser in headless Chromium: every key
/// of `/api/status` listed, `lmo`/`ust` changed through the settings card,
/// a key-browser edit lands in `/api/status`, refused writes (a wrong type,
/// an out-of-range number) show the charger's own error text, no console
/// errors; screenshot `target/ui-artifacts/keys.png`.
#[test]
fn settings_and_key_browser_in_chromium() {
    let c = Charger::fresh_with(&["--clock", "manual"]);
    let url = format!("http://127.0.0.1:{}", c.port);
    let stdout = browser::run_script("keys.js", &url, &[], &|| c.stderr());
    assert!(stdout.contains("keys ok"), "{stdout}");
    assert!(browser::artifacts().join("keys.png").is_file());
    let s = status(c.port);
    assert_eq!(s["lmo"], 4, "lmo set through the settings card");
    assert_eq!(s["ust"], 2, "ust set through the settings card");
    assert_eq!(
        s["fna"], "Garage charger",
        "fna set through the key browser"
    );
}

/// `keys.js` and `keys.css` are embedded and loaded by the page, fetch
/// nothing from another host, and the metadata exists only under `/sim/`.
#[test]
fn key_browser_assets_are_embedded() {
    let c = Charger::fresh_with(&["--clock", "manual"]);
    let (_, _, page) = get(c.port, "/sim/ui/");
    assert!(
        page.contains("<script type=\"module\" src=\"keys.js\">"),
        "{page}"
    );
    assert!(
        page.contains("<link rel=\"stylesheet\" href=\"keys.css\">"),
        "{page}"
    );
    for (path, ty) in [
        ("/sim/ui/keys.js", "text/javascript; charset=utf-8"),
        ("/sim/ui/keys.css", "text/css; charset=utf-8"),
    ] {
        let (code, content_type, body) = get(c.port, path);
        assert_eq!((code, content_type.as_str()), (200, ty), "{path}");
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{path}"
        );
    }
    let unknown = get(c.port, "/no-such-path");
    for path in ["/keys.json", "/ui/keys.json", "/api/keys.json"] {
        assert_eq!(get(c.port, path), unknown, "{path}");
    }
}
