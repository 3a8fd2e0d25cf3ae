//! Keys that clients read (issue #12 point 4), over real sockets against the
//! binary started on a firmware profile: the per-card keys of 60.x and
//! `cards` say the same thing whichever side is written (RFID swipe, card
//! energy, API v1 included), a card id never leaves the charger, `awcp` is
//! never `null` on the newer profiles, the energy split by source adds up to
//! `wh`, and the defaults are the ones real units print.

use crate::common::{Api, Charger};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[path = "../push/ws_auth.rs"]
mod ws_auth;

const START: &str = "2024-06-03T06:00:00Z";

fn on(firmware: &str) -> Charger {
    Charger::fresh_with(&["--firmware", firmware])
}

fn manual(firmware: &str) -> Charger {
    Charger::fresh_with(&[
        "--firmware",
        firmware,
        "--clock",
        "manual",
        "--start",
        START,
    ])
}

async fn sim(api: &Api, path: &str) {
    let (status, body) = api.post(path).await;
    assert_eq!(status, 200, "POST {path}: {body}");
}

async fn status(api: &Api) -> Value {
    let r = api.get("/api/status").await;
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

/// Every per-card key equals its `cards` field (as clients see both).
fn assert_cards_agree(s: &Value, when: &str) {
    for i in 0..10 {
        let card = &s["cards"][i];
        assert_eq!(s[format!("c{i}n")], card["name"], "{when}: c{i}n vs {card}");
        assert_eq!(
            s[format!("c{i}e")],
            card["energy"],
            "{when}: c{i}e vs {card}"
        );
        assert_eq!(
            s[format!("c{i}i")],
            card["cardId"],
            "{when}: c{i}i vs {card}"
        );
        assert!(s[format!("c{i}i")].is_boolean(), "{when}: c{i}i");
    }
}

#[tokio::test]
async fn per_card_keys_and_cards_agree_whichever_side_is_written() {
    let c = on("060.5");
    let api = c.api();
    let s = status(&api).await;
    assert_cards_agree(&s, "factory");
    // as syssi's 060.5 capture: a factory card in slot 0, names "n/a"
    assert_eq!(
        (&s["c0i"], &s["c1i"], &s["c0n"]),
        (&json!(true), &json!(false), &json!("n/a"))
    );

    api.set_ok(&[
        ("c3n", "\"Dora\""),
        ("c5i", "\"04AABBCC\""),
        ("c7e", "1234"),
    ])
    .await;
    let s = status(&api).await;
    assert_cards_agree(&s, "after per-card writes");
    assert_eq!(s["cards"][3]["name"], "Dora");
    assert_eq!(s["cards"][5]["cardId"], true);
    assert_eq!(s["cards"][7]["energy"], 1234);

    api.set_ok(&[(
        "cards",
        r#"[{},{"name":"Eve","cardId":"04EEEEEE"},{},{},{},{"cardId":false}]"#,
    )])
    .await;
    let s = status(&api).await;
    assert_cards_agree(&s, "after a cards write");
    assert_eq!(
        (&s["c1n"], &s["c1i"], &s["c5i"]),
        (&json!("Eve"), &json!(true), &json!(false))
    );

    // the per-card id is set as a string and never shown
    let r = api.set(&[("c2i", "true")]).await;
    assert_eq!(r.status, 500, "c2i takes the id as a string: {}", r.body);
    api.set_ok(&[("c2i", "\"04SECRET99\"")]).await;
    for pq in [
        "/api/status",
        "/api/status?filter=c2i,cards",
        "/api/set?c2i=%2204SECRET99%22",
    ] {
        let r = api.get(pq).await;
        assert!(
            !r.body.contains("04SECRET99"),
            "{pq} shows the card id: {}",
            r.body
        );
        assert!(
            !r.body.contains("04EEEEEE"),
            "{pq} shows the card id: {}",
            r.body
        );
    }
    assert_eq!(api.value("c2i").await, Some(json!(true)));

    // kept after a restart, still consistent
    drop(api);
    let dir = c.dir.clone();
    let mut c = c;
    c.terminate();
    let c2 = Charger::start_with(&dir, &["--firmware", "060.5"]);
    let s = status(&c2.api()).await;
    assert_cards_agree(&s, "after a restart");
    assert_eq!((&s["c3n"], &s["c2i"]), (&json!("Dora"), &json!(true)));
}

#[tokio::test]
async fn an_rfid_swipe_and_the_card_energy_follow_both_and_api_v1() {
    let c = manual("060.5");
    let api = c.api();
    // a card learned through its per-card key authorizes (acs=1: wait for a card)
    api.set_ok(&[
        ("acs", "1"),
        ("c4i", "\"04DEAD01\""),
        ("c4n", "\"Fred\""),
        ("hla", "true"),
    ])
    .await;
    sim(&api, "/sim/plug?car=ev-3p-11kw&soc=40").await;
    sim(&api, "/sim/advance?seconds=2").await;
    assert_eq!(api.value("trx").await, Some(Value::Null));
    sim(&api, "/sim/rfid?card=4").await;
    sim(&api, "/sim/advance?seconds=300").await;
    let s = status(&api).await;
    // evcc identifies the card by trx → cards[trx-1].name / c{trx-1}n
    assert_eq!(s["trx"], 5, "{s}");
    assert_eq!(
        (&s["cards"][4]["name"], &s["c4n"]),
        (&json!("Fred"), &json!("Fred"))
    );
    assert_eq!(s["car"], 2, "charging");
    sim(&api, "/sim/unplug").await;
    sim(&api, "/sim/advance?seconds=1").await;
    let s = status(&api).await;
    assert_cards_agree(&s, "after the session");
    let booked = s["c4e"].as_i64().unwrap();
    assert!(
        booked > 500,
        "the session's energy is booked on card 4: {s}"
    );
    // API v1 follows the same cards: slot 4 is v1's `…5` (rc5/ec5/rn5)
    let r = api.get("/status").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v1: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (&v1["rc5"], &v1["rn5"]),
        (&json!("1"), &json!("Fred")),
        "{v1}"
    );
    assert_eq!(
        v1["ec5"],
        json!(((booked as f64) / 100.0).round().to_string())
    );

    // an unknown card learned with `lrn` shows on both sides
    sim(&api, "/sim/rfid?card=6").await;
    api.set_ok(&[("lrn", "6")]).await;
    let s = status(&api).await;
    assert_cards_agree(&s, "after lrn");
    assert_eq!(s["c6i"], true);
    // a trx naming a card learned through c8i is accepted
    api.set_ok(&[("c8i", "\"04ABCDEF\"")]).await;
    api.set_ok(&[("trx", "9")]).await;
    // deleting clears both
    api.set_ok(&[("del", "4")]).await;
    let s = status(&api).await;
    assert_cards_agree(&s, "after del");
    assert_eq!((&s["c4i"], &s["c4e"]), (&json!(false), &json!(0)));
}

fn assert_price_object(s: &Value, when: &str) {
    let awcp = &s["awcp"];
    let keys: Vec<&str> = awcp
        .as_object()
        .unwrap_or_else(|| panic!("{when}: awcp must be an object, got {awcp}"))
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["start", "end", "marketprice"], "{when}: {awcp}");
    for k in keys {
        assert!(awcp[k].is_number(), "{when}: awcp.{k} {awcp}");
    }
}

#[tokio::test]
async fn awcp_is_never_null_on_the_newer_profiles() {
    for fw in ["060.5", "056.2"] {
        let c = manual(fw);
        let api = c.api();
        assert_price_object(&status(&api).await, &format!("{fw} idle"));
        api.set_ok(&[("awe", "false"), ("lmo", "3")]).await;
        sim(&api, "/sim/plug?car=ev-3p-11kw&soc=40").await;
        sim(&api, "/sim/advance?seconds=30").await;
        let s = status(&api).await;
        assert_eq!(s["car"], 2);
        assert_price_object(&s, &format!("{fw} charging, tariff off"));
        api.set_ok(&[("awe", "true"), ("lmo", "4")]).await;
        sim(&api, "/sim/advance?seconds=5").await;
        assert_price_object(&status(&api).await, &format!("{fw} tariff on, no prices"));
        sim(&api, "/sim/unplug").await;
        sim(&api, "/sim/advance?seconds=1").await;
        assert_price_object(&status(&api).await, &format!("{fw} after unplug"));
    }
    // the 2021 table keeps its null
    let c = on("051.4");
    assert_eq!(c.api().value("awcp").await, Some(Value::Null));
}

#[tokio::test]
async fn the_energy_split_by_source_adds_up_after_a_pv_grid_battery_session() {
    let c = manual("060.5");
    let api = c.api();
    let s = status(&api).await;
    // idle without meter data, as syssi's 060.5 capture
    for (k, v) in [
        ("ws", Value::Null),
        ("wg", Value::Null),
        ("wb", Value::Null),
        ("wo", json!(0)),
    ] {
        assert_eq!(s[k], v, "{k}");
    }
    for k in ["whs", "whg", "whb", "who"] {
        assert_eq!(s[k], json!(0), "{k}");
    }
    // 3 kW PV, 1 kW house, 1.5 kW from the battery; the car takes ~11 kW
    sim(&api, "/sim/grid?pv=3000&house=1000&battery=1500").await;
    sim(&api, "/sim/plug?car=ev-3p-11kw&soc=30").await;
    sim(&api, "/sim/advance?seconds=900").await;
    let s = status(&api).await;
    let f = |k: &str| s[k].as_f64().unwrap_or_else(|| panic!("{k} is {}", s[k]));
    let (wh, whs, whg, whb, who) = (f("wh"), f("whs"), f("whg"), f("whb"), f("who"));
    assert!(wh > 2000.0, "{s}");
    assert!(
        (whs + whg + whb + who - wh).abs() < 0.01,
        "parts add up to wh: {s}"
    );
    assert!(whs > 0.0 && whg > 0.0 && whb > 0.0, "{s}");
    assert_eq!(who, 0.0, "with meter data nothing is 'other'");
    assert!(
        (f("ws") - 2000.0).abs() < 1.0,
        "PV left after the house: {}",
        s["ws"]
    );
    assert!((f("wb") - 1500.0).abs() < 1.0, "{}", s["wb"]);
    let power = s["nrg"][11].as_f64().unwrap();
    assert!(
        (f("ws") + f("wb") + f("wg") + f("wo") - power).abs() < 0.05,
        "{s}"
    );
    // the split keys are not on 056.2
    let old = on("056.2");
    let s = status(&old.api()).await;
    for k in [
        "whs", "whg", "whb", "who", "ws", "wg", "wb", "wo", "c0n", "c0e", "c0i",
    ] {
        assert!(s.get(k).is_none(), "056.2 has no {k}");
    }
}

#[tokio::test]
async fn defaults_are_the_ones_real_units_print() {
    let c = on("060.5");
    let api = c.api();
    let s = status(&api).await;
    let serial = s["sse"].as_str().unwrap().to_owned();
    assert_eq!(s["host"], json!(format!("go-echarger_{serial}")));
    assert_eq!(
        s["wifis"].as_array().map(Vec::len),
        Some(3),
        "{}",
        s["wifis"]
    );
    for i in 0..10 {
        assert_eq!(s["cards"][i]["name"], "n/a");
    }
    let led = s["led"].as_object().unwrap();
    let keys: Vec<&str> = led.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "norwayOverlay",
            "modeOverlay",
            "subtype",
            "ranges"
        ]
    );
    // idle voltages in whole volts, neutral 0 (syssi's 060.5: [233,235,231,0,…])
    let nrg = s["nrg"].as_array().unwrap();
    for (i, v) in nrg[..3].iter().enumerate() {
        let v = v.as_f64().unwrap();
        assert!(
            v.fract() == 0.0 && (225.0..=240.0).contains(&v),
            "nrg[{i}] {v}"
        );
    }
    assert_eq!(nrg[3], 0);
    for (k, v) in [
        ("lcs", json!(0)),
        ("ctrls", Value::Null),
        ("di1", json!(false)),
        ("nif", json!("st1")),
        ("wst", json!(3)),
        ("esr", json!([1, 1])),
        ("wda", json!(false)),
        ("cmse", json!(true)),
        ("ocppe", json!(false)),
    ] {
        assert_eq!(s[k], v, "{k}");
    }
    assert!(s["ccrv"].is_string());
    for k in ["rdbs", "rdes", "rdbf", "rdef", "rdre", "rdpl"] {
        assert_eq!(s[k], 0, "{k}");
        assert_eq!(s[format!("{k}e")], Value::Null, "{k}e");
    }
    // writable as the exports say, within HA's number range
    api.set_ok(&[
        ("rdbs", "600"),
        ("rdre", "84000"),
        ("rdple", "null"),
        ("ocppe", "true"),
        ("di1", "true"),
        ("wda", "true"),
    ])
    .await;
    let r = api.set(&[("rdbs", "-1")]).await;
    assert_eq!(r.status, 500, "{}", r.body);
    // HA's switch writes cmse (the exports' description: "set to false to disable")
    api.set_ok(&[("cmse", "false")]).await;
    let s = status(&api).await;
    assert_eq!(
        (&s["rdbs"], &s["rdre"], &s["ocppe"], &s["cmse"]),
        (&json!(600), &json!(84000), &json!(true), &json!(false))
    );

    // 056.2: same host and card names, neutral 1 V, no 60.x keys
    let s = status(&on("056.2").api()).await;
    assert_eq!(
        s["host"],
        json!(format!("go-echarger_{}", s["sse"].as_str().unwrap()))
    );
    assert_eq!(s["nrg"][3], 1);
    assert_eq!(s["cards"][1]["name"], "n/a");
    for k in ["lcs", "ctrls", "di1", "nif", "wst", "wda", "ocppe"] {
        assert!(s.get(k).is_some(), "056.2 prints {k}");
    }
    for k in ["ccrv", "cmse", "esr", "rdbs", "rdbse"] {
        assert!(s.get(k).is_none(), "056.2 has no {k}");
    }

    // 051.4 keeps the 2021 table's values
    let s = status(&on("051.4").api()).await;
    assert_eq!(
        s["host"],
        json!(format!("go-eCharger-{}", s["sse"].as_str().unwrap()))
    );
    assert_eq!(s["cards"][0]["name"], "User 1");
    assert_eq!(s["wifis"].as_array().map(Vec::len), Some(10));
    for k in ["lcs", "c0n", "whs", "rdbs", "ocppe"] {
        assert!(s.get(k).is_none(), "051.4 has no {k}");
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON text frame (pings skipped), within 20 s.
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a WebSocket frame within 20 s")
            .expect("the connection stays open")
            .expect("a frame");
        match frame {
            Message::Text(t) => return serde_json::from_str(&t).expect("JSON frame"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Frames until one of `kind`; returns it and the raw texts of all frames read.
async fn until(ws: &mut Ws, kind: &str, seen: &mut Vec<String>) -> Value {
    loop {
        let v = next_json(ws).await;
        seen.push(v.to_string());
        if v["type"] == kind {
            return v;
        }
    }
}

#[tokio::test]
async fn the_websocket_shows_per_card_keys_like_cards_and_writes_them_both() {
    let c = on("060.5");
    let api = c.api();
    api.set_ok(&[("pass", "\"ws-secret 1\""), ("c2i", "\"04WSCARD77\"")])
        .await;
    let key = ws_auth::hashed("ws-secret 1");
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/ws", c.port))
        .await
        .expect("WebSocket connect");
    let mut seen = Vec::new();
    let challenge = until(&mut ws, "authRequired", &mut seen).await;
    ws.send(Message::Text(ws_auth::auth_reply(key, &challenge).into()))
        .await
        .unwrap();
    until(&mut ws, "authSuccess", &mut seen).await;
    let mut full = serde_json::Map::new();
    loop {
        let v = until(&mut ws, "fullStatus", &mut seen).await;
        full.extend(v["status"].as_object().unwrap().clone());
        if v["partial"] == false {
            break;
        }
    }
    let full = Value::Object(full);
    assert_cards_agree(&full, "WebSocket fullStatus");
    assert_eq!(full["c2i"], true);

    ws.send(Message::Text(
        ws_auth::secured(key, 1, "c1n", json!("Gina")).into(),
    ))
    .await
    .unwrap();
    let r = until(&mut ws, "response", &mut seen).await;
    assert_eq!(r["success"], true, "{r}");
    // the change reaches WebSocket watchers on both keys
    let mut delta = serde_json::Map::new();
    while !(delta.contains_key("c1n") && delta.contains_key("cards")) {
        let v = until(&mut ws, "deltaStatus", &mut seen).await;
        delta.extend(v["status"].as_object().unwrap().clone());
    }
    assert_eq!(delta["c1n"], "Gina");
    assert_eq!(delta["cards"][1]["name"], "Gina");
    let s = status(&api).await;
    assert_cards_agree(&s, "HTTP after the WebSocket write");
    for text in &seen {
        assert!(
            !text.contains("04WSCARD77"),
            "the WebSocket shows a card id: {text}"
        );
    }
}
