//! `wattpilot` 0.2 (joscha82) on the local WebSocket `/ws`: `hello`,
//! `authRequired` with the PBKDF2 password hash, `authSuccess`, `fullStatus`
//! in chunks, `deltaStatus`, and writes as HMAC-signed `securedMsg`. The
//! library maps values through small tables (`car` 1–4, `err` 0–5, `lmo`
//! 3–5, `ust` 0–2, `acs` 0–1) inside its socket thread: a value outside them
//! raises there, which it only logs — the driver returns such logged errors
//! and the test fails on them.

use crate::harness::{Driver, Sim, State, WATTPILOT, int, opt_int};
use serde_json::json;

const PASSWORD: &str = "conformance-pw";

#[tokio::test]
async fn wattpilot_connects_authenticates_reads_and_sets() {
    let sim = Sim::manual();
    sim.set(&[("pass", &format!("\"{PASSWORD}\""))]).await;
    sim.reach(State::Charging).await;
    let mut d = Driver::start(&WATTPILOT, "wattpilot_driver.py", &sim.host());

    // ---- connect and authenticate
    let c = d.call("connect", json!([PASSWORD]));
    assert_eq!(c["connected"], json!(true), "{c}");
    assert_eq!(c["serial"], json!("012345"), "{c}");
    assert_eq!(c["manufacturer"], json!("go-e"), "{c}");
    assert_eq!(c["protocol"], json!(2), "{c}");
    assert_eq!(c["secured"], json!(true), "{c}");
    let types: Vec<&str> = c["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        &types[..3],
        ["hello", "authRequired", "authSuccess"],
        "{types:?}"
    );
    assert!(
        types.iter().filter(|t| **t == "fullStatus").count() > 1,
        "fullStatus comes in chunks: {types:?}"
    );
    assert!(c["props"].as_u64().unwrap() > 150, "{c}");

    // ---- read: the library's properties from the full status
    let p = d.call("props", json!([]));
    assert_eq!(p["amp"], json!(6), "{p}");
    assert_eq!(p["carConnected"], json!("charging"), "{p}");
    assert_eq!(p["AllowCharging"], json!(true), "{p}");
    assert_eq!(p["mode"], json!("Default"), "{p}");
    assert_eq!(
        p["errorState"],
        json!("Unknown Error"),
        "err 0 in its table: {p}"
    );
    assert_eq!(p["AccessState"], json!("Open"), "{p}");
    assert_eq!(p["firmware"], json!("56.2"), "{p}");
    assert_eq!(p["cableType"], json!(32), "{p}");
    for a in ["amps1", "amps2", "amps3"] {
        let v = p[a].as_f64().unwrap();
        assert!((5.0..=6.0).contains(&v), "{a}: {p}");
    }
    let kw = p["power"].as_f64().unwrap();
    assert!((3.5..=4.5).contains(&kw), "power in kW: {p}");

    // deltaStatus: the logic's next second reaches the library
    let before = d.call("delta_count", json!([])).as_u64().unwrap();
    sim.advance(3).await;
    let rbt = sim.status("rbt").await;
    d.call("wait_prop", json!(["rbt", rbt.get("rbt").unwrap()]));
    assert!(d.call("delta_count", json!([])).as_u64().unwrap() > before);

    // ---- secured sets: HMAC-signed securedMsg, answered by `response`
    let amp = d.call("set_power", json!([10]));
    assert_eq!(amp, json!(10), "the response's status updates the library");
    assert_eq!(sim.api.value("amp").await, Some(json!(10)));
    sim.until(
        3,
        1,
        "acu,nrg",
        "amp 10 over the WebSocket reaches the car",
        |s| opt_int(s, "acu") == Some(10) && crate::harness::nrg(s)[4] > 9.0,
    )
    .await;
    let mode = d.call("set_mode", json!([4]));
    assert_eq!(mode, json!("Eco"));
    assert_eq!(sim.api.value("lmo").await, Some(json!(4)));
    // eco mode runs the PV logic at once; without PV it stops after its
    // minimum times (fmt, 60 s below the threshold)
    sim.until(2, 1, "modelStatus", "eco mode decides", |s| {
        [12, 17].contains(&int(s, "modelStatus"))
    })
    .await;
    sim.until(
        1800,
        10,
        "modelStatus,alw",
        "eco without surplus stops",
        |s| int(s, "modelStatus") == 17 && s.get("alw") == Some(&json!(false)),
    )
    .await;
    let mode = d.call("set_mode", json!([3]));
    assert_eq!(mode, json!("Default"));
    // a write the charger refuses: `response` with success false and the text
    let r = d.try_call("send_update", json!(["amp", 40]));
    let e = r.expect_err("amp 40 is refused; the library logs the failure");
    assert!(
        e.logged
            .iter()
            .any(|l| l.contains("amp: failed: Value 40 exceeds range 6 to 32 (40)")),
        "{e:?}"
    );
    assert_eq!(sim.api.value("amp").await, Some(json!(10)));
    // and a generic secured write of a string
    let r = d.call("send_update", json!(["fna", "wattpilot garage"]));
    assert_eq!(r["success"], json!(true), "{r}");
    assert_eq!(sim.api.value("fna").await, Some(json!("wattpilot garage")));
}

#[tokio::test]
async fn wattpilot_wrong_password_is_refused() {
    let sim = Sim::manual();
    sim.set(&[("pass", &format!("\"{PASSWORD}\""))]).await;
    let mut d = Driver::start(&WATTPILOT, "wattpilot_driver.py", &sim.host());
    let e = d
        .try_call("connect_wrong", json!(["not-the-password"]))
        .expect_err("the library logs the authentication failure");
    assert!(
        e.logged
            .iter()
            .any(|l| l.contains("Authentication failed: Wrong password")),
        "{e:?}"
    );
}
