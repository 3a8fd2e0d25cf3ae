//! `goechargerv2` 0.2.2 (openkfw; the same code ships as
//! smart-energy-goecharger-api 0.3.1): the unfiltered `/api/status` with an
//! `Authorization: Basic <token>` header, and its setters exactly as it sends
//! them: `requests` params, i.e. `str(value)`, not JSON. Its setters only pass
//! integers (`frc=2`, `amp=12`, `psm=1`, `acs=1`, `trx=0`), which are valid
//! JSON; `set_transaction(None)` sends an empty `/api/set`. A `str` or `bool`
//! through its one write path would go out unquoted (`fna=garage`,
//! `acp=True`): like ArduinoJson on the real unit (observed over MQTT:
//! `invalid json InvalidInput: go`), the charger refuses that with
//! `InvalidInput`. The client feeds every set answer to its status mapper: a
//! refused set (HTTP 500, the error text as the value) makes it raise
//! `ValueError` from `int(...)` — its own limitation, the same on a real unit.
//!
//! Every driver answer carries the request lines the client sent.

use crate::harness::{
    Driver, Fw, GOECHARGERV2, Sim, State, amp_accepts, int, nrg, opt_int, per_firmware,
};
use serde_json::{Value, json};

/// Calls a setter and returns (mapped result, request lines).
fn traced(d: &mut Driver, op: &str, args: Value) -> (Value, Vec<String>) {
    let r = d.call(op, args);
    let lines = r["requests"]
        .as_array()
        .expect("request lines")
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect();
    (r["result"].clone(), lines)
}

fn sent(lines: &[String], want: &str) {
    assert!(
        lines.iter().any(|l| l.starts_with(want)),
        "the client should have sent `{want}`; it sent {lines:?}"
    );
}

async fn goechargerv2_reads_the_full_status_and_its_sets_work_as_sent(fw: Fw) {
    let sim = Sim::manual(fw);
    sim.reach(State::Charging).await;
    let mut d = Driver::start(&GOECHARGERV2, "goechargerv2_driver.py", &sim.host());

    // ---- the unfiltered status, Basic auth header and all
    let (st, lines) = traced(&mut d, "request_status", json!([]));
    sent(&lines, "GET /api/status HTTP/1.1 200");
    assert_eq!(st["car_status"], json!("Car is charging"), "{st}");
    assert_eq!(st["charger_max_current"], json!(6), "{st}");
    assert_eq!(st["charging_allowed"], json!("on"), "{st}");
    assert_eq!(st["charger_force_charging"], json!("neutral"), "{st}");
    assert_eq!(st["phases_number_connected"], json!(3), "{st}");
    assert_eq!(st["cable_max_current"], json!(32), "{st}");
    assert_eq!(st["firmware"], json!(fw.fwv), "{st}");
    assert_eq!(st["serial_number"], json!("012345"), "{st}");
    assert_eq!(st["transaction"], Value::Null, "{st}");
    assert!(
        st["u_l1"]
            .as_i64()
            .is_some_and(|u| (220..=240).contains(&u)),
        "{st}"
    );
    assert!(
        st["energy_since_car_connected"].as_f64().unwrap() > 0.0,
        "{st}"
    );

    // ---- frc via set_force_charging(bool): 2 / 1, never JSON-quoted
    let (_, lines) = traced(&mut d, "set_force_charging", json!([true]));
    sent(&lines, "GET /api/set?frc=2 HTTP/1.1 200");
    sim.until(2, 1, "modelStatus,alw", "frc=2: forced on", |s| {
        int(s, "modelStatus") == 3 && s.get("alw") == Some(&json!(true))
    })
    .await;
    let (_, lines) = traced(&mut d, "set_force_charging", json!([false]));
    sent(&lines, "GET /api/set?frc=1 HTTP/1.1 200");
    sim.until(2, 1, "modelStatus,alw,nrg", "frc=1: stopped", |s| {
        int(s, "modelStatus") == 4 && s.get("alw") == Some(&json!(false)) && nrg(s)[11] == 0.0
    })
    .await;
    sim.set(&[("frc", "0")]).await;

    // ---- amp, with and without the client's verification poll (wait=True)
    let (_, lines) = traced(&mut d, "set_max_current", json!([10]));
    sent(&lines, "GET /api/set?amp=10 HTTP/1.1 200");
    assert_eq!(sim.api.value("amp").await, Some(json!(10)));
    let (_, lines) = traced(&mut d, "set_max_current_wait", json!([12]));
    sent(&lines, "GET /api/set?amp=12 HTTP/1.1 200");
    sent(&lines, "GET /api/status HTTP/1.1 200");
    sim.until(5, 1, "acu,nrg", "the car draws 12 A", |s| {
        opt_int(s, "acu") == Some(12) && nrg(s)[4] > 11.0
    })
    .await;

    // ---- psm
    let (_, lines) = traced(&mut d, "set_phase", json!([1]));
    sent(&lines, "GET /api/set?psm=1 HTTP/1.1 200");
    assert_eq!(sim.api.value("psm").await, Some(json!(1)));
    let (_, lines) = traced(&mut d, "set_phase", json!([2]));
    sent(&lines, "GET /api/set?psm=2 HTTP/1.1 200");

    // ---- access control and the transaction that authorizes a session
    let (_, lines) = traced(&mut d, "set_access_control", json!([1]));
    sent(&lines, "GET /api/set?acs=1 HTTP/1.1 200");
    sim.until(2, 1, "modelStatus,alw", "access control waits", |s| {
        int(s, "modelStatus") == 2 && s.get("alw") == Some(&json!(false))
    })
    .await;
    let (_, lines) = traced(&mut d, "set_transaction", json!([0]));
    sent(&lines, "GET /api/set?trx=0 HTTP/1.1 200");
    sim.until(2, 1, "modelStatus,trx", "trx=0 authorizes", |s| {
        opt_int(s, "trx") == Some(0) && int(s, "modelStatus") != 2
    })
    .await;
    let (st, _) = traced(&mut d, "request_status", json!([]));
    assert_eq!(st["transaction"], json!(0), "{st}");
    assert_eq!(
        st["charger_access"],
        json!(false),
        "acs 1 → 'not open': {st}"
    );
    // None is dropped by requests: an empty /api/set, answered {} with 200,
    // and nothing changes (the charger cannot know what was meant)
    let (mapped, lines) = traced(&mut d, "set_transaction", json!([null]));
    sent(&lines, "GET /api/set HTTP/1.1 200");
    assert!(mapped.is_object(), "{mapped}");
    assert_eq!(sim.api.value("trx").await, Some(json!(0)));
    let empty = sim.api.get("/api/set").await;
    assert_eq!((empty.status, empty.body.as_str()), (200, "{}"));
    let (_, lines) = traced(&mut d, "set_access_control", json!([0]));
    sent(&lines, "GET /api/set?acs=0 HTTP/1.1 200");

    // ---- 40 is clamped by the client to 32, which real units of 055.2+
    // accept (amp 6–32 A); ama (16) limits the current, not the setting
    let (lo, hi) = amp_accepts(fw);
    assert_eq!(hi, 32, "fw {}", fw.firmware);
    let (_, lines) = traced(&mut d, "set_max_current", json!([40]));
    sent(&lines, "GET /api/set?amp=32 HTTP/1.1 200");
    assert_eq!(sim.api.value("amp").await, Some(json!(32)));
    sim.until(3, 1, "acu", "ama limits the current", |s| {
        opt_int(s, "acu") == Some(16)
    })
    .await;

    // ---- a refused set (below 0 the client sends amp=0): the charger's
    // error text reaches the client's mapper, which cannot convert it (its
    // ValueError, like on a real unit)
    let e = d
        .try_call("set_max_current", json!([-1]))
        .expect_err("amp=0 is refused");
    assert!(
        e.error.starts_with("ValueError: invalid literal for int()")
            && e.error.contains(&format!(
                "amp: failed: Value 0 exceeds range {lo} to {hi} (0)"
            )),
        "{}",
        e.error
    );
    assert_eq!(sim.api.value("amp").await, Some(json!(32)));
    traced(&mut d, "set_max_current", json!([12]));
    assert_eq!(sim.api.value("amp").await, Some(json!(12)));

    // ---- what str(value) does to strings and bools: unquoted, InvalidInput
    for (key, value, line, answer) in [
        (
            "fna",
            json!("garage"),
            "GET /api/set?fna=garage HTTP/1.1 500",
            r#"{"fna":"fna: tried to set api key with invalid json InvalidInput (garage)"}"#,
        ),
        (
            "acp",
            json!(true),
            "GET /api/set?acp=True HTTP/1.1 500",
            r#"{"acp":"acp: tried to set api key with invalid json InvalidInput (True)"}"#,
        ),
    ] {
        let before = sim.api.value(key).await;
        let (mapped, lines) = traced(&mut d, "set_parameter", json!([key, value]));
        sent(&lines, line);
        assert!(mapped.is_object(), "{mapped}");
        assert_eq!(sim.api.value(key).await, before, "{key} must not change");
        let query = line
            .strip_prefix("GET ")
            .and_then(|l| l.split(' ').next())
            .unwrap();
        let r = sim.api.get(query).await;
        assert_eq!((r.status, r.body.as_str()), (500, answer), "{query}");
    }
}

per_firmware!(goechargerv2_reads_the_full_status_and_its_sets_work_as_sent,);
