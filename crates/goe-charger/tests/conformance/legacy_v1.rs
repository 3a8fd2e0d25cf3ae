//! `goecharger` 0.1.0 (cathiele) on the legacy API v1: `GET /status` (all
//! values strings, v1 scalings) and `GET /mqtt?payload=k=v`, whose answer it
//! maps as a full status. v1 answers while `hla` is true; with `hla` false
//! the charger says 404 like a real unit and the client falls back to its
//! "unknown" defaults.

use crate::harness::{Driver, Fw, GOECHARGER_V1, Sim, State, int, nrg, opt_int, per_firmware};
use serde_json::json;

async fn goecharger_v1_reads_and_writes_through_api_v1(fw: Fw) {
    let sim = Sim::manual(fw);
    sim.reach(State::Charging).await;
    let mut d = Driver::start(&GOECHARGER_V1, "goecharger_v1_driver.py", &sim.host());

    // v1 switched off (the default): 404, the client shows nothing known
    let st = d.call("requestStatus", json!([]));
    assert_eq!(st["car_status"], json!("unknown"), "{st}");
    assert_eq!(sim.api.get("/status").await.status, 404);

    sim.set(&[("hla", "true")]).await;
    let st = d.call("requestStatus", json!([]));
    assert_eq!(st["car_status"], json!("charging"), "{st}");
    assert_eq!(st["charger_max_current"], json!(6), "{st}");
    assert_eq!(st["charger_absolute_max_current"], json!(16), "{st}");
    assert_eq!(st["allow_charging"], json!("on"), "{st}");
    assert_eq!(st["charger_err"], json!("OK"), "{st}");
    assert_eq!(st["cable_max_current"], json!(32), "{st}");
    assert!(st["firmware"].is_string(), "{st}");
    assert_eq!(st["serial_number"], json!("012345"), "{st}");
    for l in [
        "post_contactor_l1",
        "post_contactor_l2",
        "post_contactor_l3",
    ] {
        assert_eq!(st[l], json!("on"), "{l}: {st}");
    }
    for i in ["i_l1", "i_l2", "i_l3"] {
        let a = st[i].as_f64().unwrap();
        assert!((5.0..=6.0).contains(&a), "{i} (v1: 0.1 A units): {st}");
    }
    let p = st["p_all"].as_f64().unwrap();
    assert!((3.5..=4.5).contains(&p), "p_all (v1: 0.01 kW units): {st}");
    assert!((220..=240).contains(&st["u_l1"].as_i64().unwrap()), "{st}");
    assert_eq!(st["timezone_offset"], json!(1), "tof in hours+100: {st}");

    // ---- writes: each visible in v2 and in the logic
    let st = d.call("setMaxCurrent", json!([10]));
    assert_eq!(
        st["charger_max_current"],
        json!(10),
        "the answer is the new status: {st}"
    );
    sim.until(2, 1, "amp,acu,nrg", "amp 10 from v1", |s| {
        int(s, "amp") == 10 && opt_int(s, "acu") == Some(10) && nrg(s)[4] > 9.0
    })
    .await;
    let st = d.call("setTmpMaxCurrent", json!([8]));
    assert_eq!(st["charger_max_current"], json!(8), "{st}");
    assert_eq!(sim.api.value("amp").await, Some(json!(8)));

    d.call("setAllowCharging", json!([false]));
    sim.until(2, 1, "frc,alw,nrg", "alw=0 → frc 1 stops charging", |s| {
        int(s, "frc") == 1 && s.get("alw") == Some(&json!(false)) && nrg(s)[11] == 0.0
    })
    .await;
    let st = d.call("requestStatus", json!([]));
    assert_eq!(st["allow_charging"], json!("off"), "{st}");
    d.call("setAllowCharging", json!([true]));
    sim.until(5, 1, "frc,alw,car", "alw=1 → frc 2 charges", |s| {
        int(s, "frc") == 2 && s.get("alw") == Some(&json!(true)) && int(s, "car") == 2
    })
    .await;

    let st = d.call("setCableLockMode", json!(["LOCKED"]));
    assert_eq!(st["cable_lock_mode"], json!(2), "{st}");
    assert_eq!(sim.api.value("ust").await, Some(json!(2)));

    let st = d.call("setChargeLimit", json!([5.0]));
    assert_eq!(st["charge_limit"], json!(5.0), "dwo in 0.1 kWh: {st}");
    assert_eq!(sim.api.value("dwo").await, Some(json!(5000)));

    let st = d.call("setAbsoluteMaxCurrent", json!([14]));
    assert_eq!(st["charger_absolute_max_current"], json!(14), "{st}");
    assert_eq!(sim.api.value("ama").await, Some(json!(14)));

    d.call("setAccessType", json!(["RFID_APP"]));
    assert_eq!(sim.api.value("acs").await, Some(json!(1)));
    let st = d.call("setAccessType", json!(["FREE"]));
    assert_eq!(st["charger_access"], json!("free"), "{st}");

    d.call("setLedBrightness", json!([100]));
    assert_eq!(sim.api.value("lbr").await, Some(json!(100)));
    d.call("setButtonCurrentValue", json!([1, 8]));
    assert_eq!(sim.api.value("clp").await, Some(json!([8, 10, 12, 14, 16])));
    d.call("setStandbyColor", json!([0x00FF00]));
    assert_eq!(sim.api.value("cid").await, Some(json!("#00FF00")));
}

per_firmware!(goecharger_v1_reads_and_writes_through_api_v1,);
