//! Types that changed between firmware generations (issue #12 point 3), over
//! real sockets: the binary started with `--firmware 060.5`, `056.2` and
//! `051.4`, each key written and read back the way that firmware types it;
//! the 60.3+ answer to a filter naming keys the firmware does not print.

use crate::common::{Api, Charger, enc};
use serde_json::{Value, json};

fn on(version: &str) -> Charger {
    Charger::fresh_with(&["--firmware", version])
}

async fn value(api: &Api, key: &str) -> Option<Value> {
    let r = api.get(&format!("/api/status?filter={}", enc(key))).await;
    assert_eq!(r.status, 200, "filter={key}: {}", r.body);
    r.object(key).get(key).cloned()
}

/// The text of a refused single write (asserts HTTP 500).
async fn refused(api: &Api, key: &str, raw: &str) -> String {
    let r = api.set(&[(key, raw)]).await;
    assert_eq!(r.status, 500, "{key}={raw}: {}", r.body);
    r.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn bac_and_sdp_take_lock_modes_0_to_3_on_the_newer_firmware() {
    for version in ["060.5", "056.2"] {
        let ch = on(version);
        let api = ch.api();
        // Home Assistant's select entities write 2 and 3
        let r = api.set(&[("bac", "3"), ("sdp", "2")]).await;
        assert!(r.all_true(&["bac", "sdp"]), "{version}: {}", r.body);
        assert_eq!(value(&api, "bac").await, Some(json!(3)), "{version}");
        assert_eq!(value(&api, "sdp").await, Some(json!(2)), "{version}");
        assert_eq!(
            refused(&api, "bac", "4").await,
            "bac: failed: Value 4 exceeds range 0 to 3 (4)"
        );
    }
    let ch = on("051.4");
    let api = ch.api();
    assert_eq!(
        refused(&api, "bac", "3").await,
        "bac: value must be boolean (3)"
    );
    assert_eq!(
        refused(&api, "sdp", "2").await,
        "sdp: value must be boolean (2)"
    );
    api.set_ok(&[("bac", "false")]).await;
    assert_eq!(value(&api, "bac").await, Some(json!(false)));
}

#[tokio::test]
async fn lot_is_an_object_written_in_part_on_the_newer_firmware() {
    for version in ["060.5", "056.2"] {
        let ch = on(version);
        let api = ch.api();
        assert_eq!(
            value(&api, "lot").await,
            Some(json!({"amp":32,"dyn":32,"sta":32,"ts":3}))
        );
        api.set_ok(&[("lot", r#"{"amp":20}"#)]).await;
        api.set_ok(&[("lot", r#"{"dyn":40}"#)]).await;
        assert_eq!(
            value(&api, "lot").await,
            Some(json!({"amp":20,"dyn":40,"sta":32,"ts":3})),
            "{version}: a partial object changes only its fields"
        );
        // a number is the total (fleet files and old clients write `lot=32`)
        api.set_ok(&[("lot", "24")]).await;
        assert_eq!(
            value(&api, "lot").await,
            Some(json!({"amp":24,"dyn":40,"sta":32,"ts":3}))
        );
        assert_eq!(
            refused(&api, "lot", "[20]").await,
            "lot: value must be JsonObject ([20])"
        );
    }
    let ch = on("051.4");
    let api = ch.api();
    api.set_ok(&[("lot", "20")]).await;
    assert_eq!(value(&api, "lot").await, Some(json!(20)));
    assert_eq!(
        refused(&api, "lot", r#"{"amp":20}"#).await,
        r#"lot: value must be integer ({"amp":20})"#
    );
}

#[tokio::test]
async fn amp_accepts_up_to_32_a_while_ama_limits_acu() {
    let ch = on("060.5");
    let api = ch.api();
    // an 11 kW unit (ama 16) accepts amp 20, as a real fw 056.2 unit shows
    api.set_ok(&[("amp", "20")]).await;
    // `cll` is rebuilt by the next logic second
    let mut st = None;
    for _ in 0..60 {
        let r = api.get("/api/status?filter=amp,ama,acu,cll").await;
        assert_eq!(r.status, 200);
        let o = r.object("status");
        let done = o
            .get("cll")
            .is_some_and(|c| c["requestedCurrent"] == json!(20));
        st = Some(o);
        if done {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let st = st.unwrap();
    assert_eq!(st.get("amp"), Some(&json!(20)));
    assert_eq!(st.get("ama"), Some(&json!(16)));
    let cll = st.get("cll").unwrap();
    assert_eq!(cll["currentLimitMax"], json!(16));
    assert_eq!(cll["requestedCurrent"], json!(20));
    if let Some(acu) = st.get("acu").and_then(Value::as_i64) {
        assert!(acu <= 16, "acu {acu} above ama");
    }
    assert_eq!(
        refused(&api, "amp", "33").await,
        "amp: failed: Value 33 exceeds range 6 to 32 (33)"
    );
    let ch = on("051.4");
    assert_eq!(
        refused(&ch.api(), "amp", "20").await,
        "amp: failed: Value 20 exceeds range 6 to 16 (20)"
    );
}

#[tokio::test]
async fn rst_takes_the_string_true_on_the_newer_firmware() {
    let ch = on("060.5");
    let api = ch.api();
    let rbc0 = value(&api, "rbc").await.and_then(|v| v.as_i64()).unwrap();
    // Home Assistant's restart button
    let r = api.set(&[("rst", "\"true\"")]).await;
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"rst":true}"#));
    let mut rbc = None;
    for _ in 0..100 {
        if let Ok(r) = api.try_get("/api/status?filter=rbc").await
            && r.status == 200
        {
            rbc = r.object("rbc").get("rbc").and_then(Value::as_i64);
            if rbc == Some(rbc0 + 1) {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(rbc, Some(rbc0 + 1), "rst=\"true\" restarts");
    // false and 0 are accepted without a restart
    let r = api.set(&[("rst", "false"), ("rst", "0")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(value(&api, "rbc").await, Some(json!(rbc0 + 1)));
    let ch = on("051.4");
    assert_eq!(
        refused(&ch.api(), "rst", "\"true\"").await,
        "rst: value must be boolean (\"true\")"
    );
}

#[tokio::test]
async fn filter_naming_unprinted_keys_is_400_on_60x_and_200_before() {
    let ch = on("060.5");
    let api = ch.api();
    for filter in ["amp,rst", "amp,hsa", "amp,nosuchkey", "amp,awpl"] {
        let r = api.get(&format!("/api/status?filter={filter}")).await;
        assert_eq!(r.status, 400, "060.5 filter={filter}: {}", r.body);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json")
        );
        // the body is still the JSON of the keys it prints
        assert_eq!(r.object(filter).keys(), ["amp"], "060.5 filter={filter}");
    }
    let r = api.get("/api/status?filter=amp,alw").await;
    assert_eq!(r.status, 200, "{}", r.body);
    for version in ["056.2", "051.4"] {
        let ch = on(version);
        let r = ch.api().get("/api/status?filter=amp,rst,nosuchkey").await;
        assert_eq!(r.status, 200, "{version}: {}", r.body);
        assert_eq!(r.object(version).keys(), ["amp"], "{version}");
    }
}

#[tokio::test]
async fn other_changed_types_per_firmware() {
    let ch = on("060.5");
    let api = ch.api();
    let r = api.get("/api/status?filter=tls,fsp").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let st = r.object("060.5");
    assert_eq!(
        st.get("tls"),
        Some(&Value::Null),
        "tls is a timestamp, null before a test charge"
    );
    api.set_ok(&[
        ("awc", "1377"),
        ("acs", "2"),
        ("tds", "3"),
        ("hsa", "true"),
        ("fsp", "true"),
        (
            "sch_week",
            r#"{"control":4,"ranges":[{"begin":{"hour":6,"minute":0,"second":30},"end":{"hour":7,"minute":0,"second":0}}]}"#,
        ),
        (
            "awpl",
            r#"{"prices":[{"start":1700000000,"end":1700003600,"marketprice":9.5}]}"#,
        ),
    ])
    .await;
    assert_eq!(value(&api, "awc").await, Some(json!(1377)));
    assert_eq!(value(&api, "acs").await, Some(json!(2)));
    assert_eq!(value(&api, "tds").await, Some(json!(3)));
    let sch = value(&api, "sch_week").await.unwrap();
    assert_eq!(sch["control"], json!(4));
    assert_eq!(
        sch["ranges"][0]["begin"],
        json!({"hour":6,"minute":0,"second":30})
    );
    assert_eq!(
        sch["ranges"][1]["end"],
        json!({"hour":0,"minute":0,"second":0})
    );
    let all = api.status().await;
    for write_only in ["hsa", "awpl", "rst"] {
        assert!(all.get(write_only).is_none(), "060.5 prints {write_only}");
    }

    let ch = on("051.4");
    let api = ch.api();
    let st = api
        .get("/api/status?filter=tls,hsa,awpl")
        .await
        .object("051.4");
    assert_eq!(st.get("tls"), Some(&json!(false)));
    assert_eq!(st.get("hsa"), Some(&json!(false)));
    assert_eq!(st.get("awpl"), Some(&json!([])));
    for (key, raw, text) in [
        (
            "awc",
            "1377",
            "awc: failed: Value 1377 exceeds range 0 to 1 (1377)",
        ),
        ("acs", "2", "acs: failed: Value 2 exceeds range 0 to 1 (2)"),
        ("tds", "3", "tds: failed: Value 3 exceeds range 0 to 2 (3)"),
        (
            "fsp",
            "true",
            "fsp: tried to set api key without setter (true)",
        ),
    ] {
        assert_eq!(refused(&api, key, raw).await, text);
    }
}

#[tokio::test]
async fn api_v1_follows_the_changed_types() {
    let ch = on("060.5");
    let api = ch.api();
    api.set_ok(&[("hla", "true"), ("lot", r#"{"amp":25}"#)])
        .await;
    let r = api.get("/status").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v1: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v1["lot"], json!(25), "v1 lot is lot.amp");
    assert_eq!(v1["sdp"], json!("0"));
    let r = api.get("/mqtt?payload=sdp=1").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v1: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v1["sdp"], json!("1"));
    assert_eq!(
        value(&api, "sdp").await,
        Some(json!(3)),
        "v1 sdp=1 is NeverLock"
    );
    api.get("/mqtt?payload=sdp=0").await;
    assert_eq!(value(&api, "sdp").await, Some(json!(0)));

    let ch = on("051.4");
    let api = ch.api();
    api.set_ok(&[("hla", "true")]).await;
    api.get("/mqtt?payload=sdp=1").await;
    assert_eq!(value(&api, "sdp").await, Some(json!(true)));
    let v1: Value = serde_json::from_str(&api.get("/status").await.body).unwrap();
    assert_eq!(v1["lot"], json!(32));
}
