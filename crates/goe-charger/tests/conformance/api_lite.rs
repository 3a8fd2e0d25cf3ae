//! `goecharger-api-lite` 1.5.1 (bkogler) with aiohttp < 3.10: every status
//! read it offers, then every setter; each change is checked in the client's
//! next status read and in the charging logic (within 2 simulated seconds
//! unless the firmware's own delays apply: the car's 2 s wake-up, `psmd`).
//!
//! The client crashes (KeyError) on values outside its tables (`car` 0–5,
//! `err`, `frc`, `psm`, `ust` 0–2, `var` 11/22), accepts a set only when the
//! answer's `response[key] is True`, and maps HTTP 404 to "HTTP API v2 not
//! enabled".

use crate::harness::{API_LITE, Driver, Sim, State, active_phases, int, nrg, num, opt_int};
use serde_json::{Value, json};

#[tokio::test]
async fn api_lite_reads_everything_and_every_set_reaches_the_logic() {
    let sim = Sim::manual();
    sim.reach(State::Charging).await;
    let mut d = Driver::start(&API_LITE, "api_lite_driver.py", &sim.host());

    // ---- the full read set
    let def = d.call("get_status_default", json!([]));
    assert_eq!(def["car_state"], json!("Charging"), "{def}");
    assert_eq!(def["charging_mode"], json!("neutral"), "{def}");
    assert_eq!(def["phase_mode"], json!("auto"), "{def}");
    assert_eq!(def["device_model"], json!("11KW/16A"), "{def}");
    assert_eq!(def["error"], Value::Null, "{def}");
    assert_eq!(def["ampere"], json!(6), "{def}");
    assert_eq!(def["ampere_device_maximum"], json!(16), "{def}");
    assert_eq!(def["charge_limit"], Value::Null, "{def}");
    assert!(def["cable_lock_mode"].is_string(), "{def}");
    assert!(def["temperature"].as_f64().is_some(), "{def}");
    for l in ["L1", "L2", "L3"] {
        let a = def["energy"]["current"][l].as_f64().unwrap();
        assert!((5.0..=6.0).contains(&a), "{def}");
    }
    let min = d.call("get_status_minimum", json!([]));
    let keys: Vec<&String> = min.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["car_state", "charging_mode", "error"], "{min}");
    let full = d.call("get_status_full", json!([]));
    let full = full.as_object().unwrap();
    assert!(full.len() > 150, "unfiltered status: {} keys", full.len());
    for k in [
        "ampere",
        "ampere_allowed",
        "car_state",
        "energy",
        "temperature",
        "device_model",
        "fwv",
        "modelStatus",
    ] {
        assert!(full.contains_key(k), "{k} missing from the full status");
    }
    for (getter, key, want) in [
        ("get_ampere", "ampere_allowed", json!(6)),
        ("get_charging_mode", "charging_mode", json!("neutral")),
        ("get_phase_mode", "phase_mode", json!("auto")),
        (
            "get_absolute_max_current",
            "ampere_device_maximum",
            json!(16),
        ),
        ("get_charge_limit", "charge_limit", Value::Null),
    ] {
        assert_eq!(d.call(getter, json!([])), json!({ key: want }), "{getter}");
    }
    let ust = d.call("get_cable_lock_mode", json!([]));
    assert!(ust["cable_lock_mode"].is_string(), "{ust}");

    // ---- set_ampere: the next status shows it, the car draws it
    d.call("set_ampere", json!([10]));
    assert_eq!(
        d.call("get_ampere", json!([])),
        json!({"ampere_allowed": 10})
    );
    sim.until(2, 1, "acu,nrg", "acu 10 and ~10 A drawn", |s| {
        opt_int(s, "acu") == Some(10) && nrg(s)[4..7].iter().all(|a| *a > 9.0)
    })
    .await;

    // ---- set_charging_mode off / on / neutral
    d.call("set_charging_mode", json!(["off"]));
    assert_eq!(
        d.call("get_charging_mode", json!([])),
        json!({"charging_mode": "off"})
    );
    sim.until(2, 1, "alw,modelStatus,nrg", "frc off stops charging", |s| {
        s.get("alw") == Some(&json!(false)) && int(s, "modelStatus") == 4 && nrg(s)[11] == 0.0
    })
    .await;
    d.call("set_charging_mode", json!(["on"]));
    assert_eq!(
        d.call("get_charging_mode", json!([])),
        json!({"charging_mode": "on"})
    );
    sim.until(2, 1, "alw,modelStatus", "frc on allows charging", |s| {
        s.get("alw") == Some(&json!(true)) && int(s, "modelStatus") == 3
    })
    .await;
    // the car starts drawing 2 s after current is offered
    sim.until(5, 1, "car,nrg", "the car draws again", |s| {
        int(s, "car") == 2 && nrg(s)[11] > 0.0
    })
    .await;
    d.call("set_charging_mode", json!(["neutral"]));
    assert_eq!(
        d.call("get_status", json!([["frc", "car"]])),
        json!({"car_state": "Charging", "charging_mode": "neutral"})
    );
    sim.until(2, 1, "alw,modelStatus", "frc neutral: default logic", |s| {
        s.get("alw") == Some(&json!(true)) && int(s, "modelStatus") == 15
    })
    .await;

    // ---- set_phase_mode: one phase after the switch pause (psmd), then three
    d.call("set_phase_mode", json!(["one"]));
    assert_eq!(
        d.call("get_phase_mode", json!([])),
        json!({"phase_mode": "one"})
    );
    sim.until(2, 1, "modelStatus", "phase switch starts", |s| {
        int(s, "modelStatus") == 23
    })
    .await;
    sim.until(30, 1, "pnp,nrg", "one phase carries current", |s| {
        int(s, "pnp") == 1 && active_phases(s) == 1
    })
    .await;
    d.call("set_phase_mode", json!(["three"]));
    sim.until(30, 1, "pnp,nrg", "three phases carry current", |s| {
        int(s, "pnp") == 3 && active_phases(s) == 3
    })
    .await;
    d.call("set_phase_mode", json!(["auto"]));
    assert_eq!(
        d.call("get_phase_mode", json!([])),
        json!({"phase_mode": "auto"})
    );
    sim.until(
        30,
        1,
        "psm,nrg",
        "auto outside PV mode: three phases",
        |s| int(s, "psm") == 0 && active_phases(s) == 3,
    )
    .await;

    // ---- set_charge_limit: a value below the session energy stops; None resumes
    let wh = num(&sim.status("wh").await, "wh");
    assert!(wh > 1.0, "energy flowed: {wh}");
    d.call("set_charge_limit", json!([1.0]));
    assert_eq!(
        d.call("get_charge_limit", json!([])),
        json!({"charge_limit": 1})
    );
    sim.until(2, 1, "alw,modelStatus", "energy limit reached", |s| {
        s.get("alw") == Some(&json!(false)) && int(s, "modelStatus") == 6
    })
    .await;
    d.call("set_charge_limit", json!([null]));
    assert_eq!(
        d.call("get_charge_limit", json!([])),
        json!({"charge_limit": null})
    );
    sim.until(2, 1, "alw,modelStatus", "no energy limit", |s| {
        s.get("alw") == Some(&json!(true)) && int(s, "modelStatus") == 15
    })
    .await;
    d.call("set_charge_limit", json!([5000.0]));
    assert_eq!(
        d.call("get_charge_limit", json!([])),
        json!({"charge_limit": 5000})
    );
    sim.until(5, 1, "modelStatus,nrg", "charging below the limit", |s| {
        int(s, "modelStatus") == 15 && nrg(s)[11] > 0.0
    })
    .await;

    // ---- set_cable_lock_mode, seen in the lock state once the car is complete
    d.call("set_cable_lock_mode", json!(["locked"]));
    assert_eq!(
        d.call("get_cable_lock_mode", json!([])),
        json!({"cable_lock_mode": "locked"})
    );
    d.call("set_charging_mode", json!(["off"]));
    sim.until(2, 1, "car,cus,lck", "complete, always locked", |s| {
        int(s, "car") == 4 && int(s, "cus") == 3 && int(s, "lck") == 2
    })
    .await;
    d.call("set_cable_lock_mode", json!(["automatic"]));
    assert_eq!(
        d.call("get_cable_lock_mode", json!([])),
        json!({"cable_lock_mode": "automatic"})
    );
    sim.until(2, 1, "cus,lck", "automatic: unlocked once complete", |s| {
        int(s, "cus") == 1 && int(s, "lck") == 1
    })
    .await;
    d.call("set_cable_lock_mode", json!(["unlockcarfirst"]));
    sim.until(
        2,
        1,
        "cus,lck",
        "unlock car first: locked while plugged",
        |s| int(s, "cus") == 3 && int(s, "lck") == 0,
    )
    .await;

    // ---- set_key with strings (spaces inside, sent raw by the client). The
    // firmware refuses names shorter than 4 characters (observed over MQTT:
    // `String length  2 exceeds range 4 to 64`): 'a b' fails like on a real
    // unit, with the charger's text in the client's error.
    let e = d
        .try_call("set_key", json!(["fna", "a b"]))
        .expect_err("a 3-character name is refused");
    assert!(
        e.error.starts_with("GoeChargerError: Error setting 'fna'")
            && e.error
                .contains(r#"fna: failed: String length  3 exceeds range 4 to 64 ("a b")"#),
        "{}",
        e.error
    );
    d.call("set_key", json!(["fna", "a b c"]));
    assert_eq!(
        d.call("get_status", json!(["fna"])),
        json!({"fna": "a b c"})
    );
    assert_eq!(sim.api.value("fna").await, Some(json!("a b c")));
    d.call("set_key", json!(["fna", "hello world"]));
    assert_eq!(sim.api.value("fna").await, Some(json!("hello world")));

    // ---- set_absolute_max_current, then a value the charger refuses
    d.call("set_absolute_max_current", json!([14]));
    assert_eq!(
        d.call("get_absolute_max_current", json!([])),
        json!({"ampere_device_maximum": 14})
    );
    let e = d
        .try_call("set_ampere", json!([5]))
        .expect_err("amp=5 must be refused");
    assert!(
        e.error
            .starts_with("GoeChargerError: Error setting 'ampere'")
                // (fw 055.2+: amp 6 to 32 whatever ama says; ama limits acu)
            && e.error
                .contains("amp: failed: Value 5 exceeds range 6 to 32 (5)"),
        "the client reports the charger's error text: {}",
        e.error
    );
    assert_eq!(
        d.call("get_ampere", json!([])),
        json!({"ampere_allowed": 10})
    );
    // the client's own guard for 11 kW units (from var)
    let e = d
        .try_call("set_ampere", json!([20]))
        .expect_err("20 A on an 11 kW unit");
    assert!(e.error.contains("too big for charger"), "{}", e.error);
}

#[tokio::test]
async fn api_lite_reports_a_disabled_api_v2() {
    let sim = Sim::manual();
    let mut d = Driver::start(&API_LITE, "api_lite_driver.py", &sim.host());
    d.call("get_status_minimum", json!([]));
    sim.set(&[("hai", "false")]).await;
    let e = d
        .try_call("get_status_minimum", json!([]))
        .expect_err("a disabled API must fail");
    assert!(
        e.error
            .contains("HTTP API v2 not enabled on GoeCharger device"),
        "404 → the client's 'not enabled' error: {}",
        e.error
    );
}
