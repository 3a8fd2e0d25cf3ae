//! API v1 (`/status`, `/mqtt?payload=key=value`): served only while `hla`
//! is true, independent of `hai`; the `/status` document has the key set,
//! order and value types of a real fw 051.4 capture, with v1 scalings.

use crate::common::json::kind;
use crate::common::{Api, Charger, Ordered, SERIAL};
use crate::support::*;
use serde_json::Value;

const FIXTURE: &str = "tests/fixtures/real-status/v1-evcc-pr1609-fw051.4-legacy-status.json";

fn fixture() -> Ordered {
    let path = crate_dir().join(FIXTURE);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    Ordered::parse(&text).expect("fixture is a JSON object")
}

/// `GET /status`, asserting 200 and a JSON object.
async fn v1_status(api: &Api) -> Ordered {
    let r = api.get("/status").await;
    assert_eq!(r.status, 200, "/status: {}", r.body);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    r.object("/status")
}

fn text<'a>(doc: &'a Ordered, key: &str) -> &'a str {
    doc.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("v1 {key} must be a string: {:?}", doc.get(key)))
}

fn int(doc: &Ordered, key: &str) -> i64 {
    doc.get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("v2 {key} must be a number: {:?}", doc.get(key))) as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_answers_only_while_hla_and_v2_only_while_hai() {
    let charger = Charger::fresh_with(&MANUAL);
    let api = charger.api();
    assert_eq!(
        api.value("hla").await,
        Some(Value::Bool(false)),
        "hla defaults to false"
    );
    for path in ["/status", "/mqtt?payload=amp=10", "/mqtt"] {
        let r = api.get(path).await;
        assert_eq!(r.status, 404, "{path} with hla=false: {}", r.body);
    }
    assert_eq!(
        api.value("amp").await,
        Some(Value::from(16)),
        "a v1 write got through"
    );

    api.set_ok(&[("hla", "true")]).await;
    v1_status(&api).await;

    // hai=false switches API v2 off, not v1
    api.set_ok(&[("hai", "false")]).await;
    for path in [
        "/api/status",
        "/api/status?filter=amp",
        "/api/set?hai=true",
        "/api/set?amp=10",
    ] {
        let r = api.get(path).await;
        assert_eq!(r.status, 404, "{path} with hai=false: {}", r.body);
    }
    let r = api.get("/mqtt?payload=amp=10").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(text(&r.object("/mqtt"), "amp"), "10");
    assert_eq!(text(&v1_status(&api).await, "amp"), "10");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_status_has_the_real_captures_keys_order_types_and_scalings() {
    let charger = Charger::fresh_with(&MANUAL);
    let api = charger.api();
    api.set_ok(&[("hla", "true")]).await;
    // a charging car, so that nrg carries currents and powers
    for action in ["/sim/plug?car=ev-3p-11kw&soc=30", "/sim/advance?seconds=60"] {
        let (status, body) = api.post(action).await;
        assert_eq!(status, 200, "POST {action}: {body}");
    }

    let real = fixture();
    let ours = v1_status(&api).await;
    assert_eq!(
        ours.keys(),
        real.keys(),
        "v1 /status keys and order must equal the capture's"
    );
    for e in &real.entries {
        let got = ours.get(&e.key).unwrap();
        assert_eq!(
            kind(got),
            kind(&e.value),
            "type of v1 {}: ours {got}, real {}",
            e.key,
            e.value
        );
        if let (Value::Array(a), Value::Array(b)) = (got, &e.value) {
            if e.key == "nrg" {
                assert_eq!(a.len(), b.len(), "nrg length");
            }
            for x in a.iter().chain(b) {
                assert!(x.is_number(), "{}: {got}", e.key);
            }
        }
    }
    let nrg1: Vec<i64> = ours
        .get("nrg")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|v| {
            v.as_i64()
                .unwrap_or_else(|| panic!("v1 nrg holds integers: {v}"))
        })
        .collect();
    assert_eq!(nrg1.len(), 16);

    // values and v1 scalings against the v2 status read at the same (frozen) time
    let v2 = api.status().await;
    assert_eq!(text(&ours, "sse"), SERIAL);
    assert_eq!(text(&ours, "fwv"), v2.get("fwv").unwrap().as_str().unwrap());
    for (v1_key, v2_key) in [
        ("amp", "amp"),
        ("amx", "amp"),
        ("car", "car"),
        ("rbc", "rbc"),
    ] {
        assert_eq!(
            text(&ours, v1_key),
            int(&v2, v2_key).to_string(),
            "v1 {v1_key}"
        );
    }
    assert_eq!(text(&ours, "car"), "2", "charging");
    let alw = v2.get("alw").unwrap().as_bool().unwrap();
    assert_eq!(text(&ours, "alw"), if alw { "1" } else { "0" });
    assert_eq!(
        text(&ours, "eto"),
        (int(&v2, "eto") / 100).to_string(),
        "eto in 0.1 kWh"
    );
    assert_eq!(
        text(&ours, "tof"),
        (int(&v2, "tof") / 60 + 100).to_string(),
        "tof"
    );
    let cid = v2
        .get("cid")
        .unwrap()
        .as_str()
        .unwrap()
        .trim_start_matches('#');
    assert_eq!(
        text(&ours, "cid"),
        u32::from_str_radix(cid, 16).unwrap().to_string()
    );
    let nrg2: Vec<f64> = v2
        .get("nrg")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for (i, (&one, &two)) in nrg1.iter().zip(&nrg2).enumerate() {
        let want = match i {
            4..=6 => two * 10.0,   // A → 0.1 A
            7..=10 => two / 100.0, // W → 0.1 kW
            11 => two / 10.0,      // W → 0.01 kW
            _ => two,
        };
        assert!(
            (one as f64 - want).abs() <= 1.0,
            "v1 nrg[{i}] = {one}, v2 {two} scales to {want}; v1 {nrg1:?} v2 {nrg2:?}"
        );
    }
    assert!(
        nrg1[4] > 0 && nrg1[11] > 0,
        "a charging car draws current: {nrg1:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_mqtt_payload_applies_and_failures_leave_everything_unchanged() {
    let charger = Charger::fresh_with(&MANUAL);
    let api = charger.api();
    api.set_ok(&[("hla", "true")]).await;

    let r = api.get("/mqtt?payload=amp=10").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = r.object("/mqtt");
    assert_eq!(
        doc.keys(),
        fixture().keys(),
        "/mqtt answers the full v1 status"
    );
    assert_eq!(text(&doc, "amp"), "10");
    assert_eq!(api.value("amp").await, Some(Value::from(10)));
    assert_eq!(
        v1_status(&api).await.raw,
        doc.raw,
        "the answer is the status after the write"
    );

    let r = api.get("/mqtt?payload=lbr=100").await;
    assert_eq!(text(&r.object("/mqtt"), "lbr"), "100");
    assert_eq!(api.value("lbr").await, Some(Value::from(100)));

    let before = v1_status(&api).await;
    let v2_before = api.status().await;
    for payload in [
        "amp=99", "amp=abc", "amp=", "nonsense", "zzz=1", "=5", "amp%3D5x",
    ] {
        let r = api.get(&format!("/mqtt?payload={payload}")).await;
        assert_eq!(r.status, 200, "payload {payload}: {}", r.body);
        assert_eq!(
            r.body, before.raw,
            "payload {payload} must leave the status unchanged"
        );
    }
    let r = api.get("/mqtt").await;
    assert_eq!((r.status, &r.body), (200, &before.raw), "no payload");
    assert_eq!(api.status().await.raw, v2_before.raw, "v2 status changed");
}
