//! Secrets never leave the charger: `pass` is write-only, `wak`/`facwak` show
//! as true/false, `wifis[].key` and `cards[].cardId` show as true/false —
//! in full and filtered status, in set answers, and after a restart.
//! Error texts echo the raw value, except for secret keys: a refused write of
//! a secret must not echo it either. These are the 2021 table's secrets, so
//! the charger runs firmware 051.4.

use crate::common::{Api, Charger, FW_2021, Ordered, SetResp};
use serde_json::{Value, json};

const PASS: &str = "Pass-Zq81-Distinct";
const WAK: &str = "Wak-Zq82-Distinct";
const WIFI_KEY: &str = "WifiKey-Zq83-Distinct";
const CARD_ID: &str = "CardId-Zq84-Distinct";
/// A fragment of every secret above.
const MARKERS: [&str; 5] = [PASS, WAK, WIFI_KEY, CARD_ID, "Distinct"];

fn assert_no_secret(what: &str, body: &str) {
    for m in MARKERS {
        assert!(!body.contains(m), "{what} leaks {m:?}: {body}");
    }
}

fn check_masked(st: &Ordered, what: &str) {
    assert!(!st.has("pass"), "{what}: pass must never appear");
    assert_eq!(st.get("wak"), Some(&json!(true)), "{what}: wak is set");
    assert!(
        matches!(st.get("facwak"), Some(Value::Bool(_))),
        "{what}: facwak shows true/false, got {:?}",
        st.get("facwak")
    );
    let wifis = st
        .get("wifis")
        .and_then(Value::as_array)
        .expect("wifis array");
    assert_eq!(wifis[2]["ssid"], json!("secret-net"), "{what}");
    assert_eq!(wifis[2]["key"], json!(true), "{what}: wifis[2].key is set");
    for (i, w) in wifis.iter().enumerate() {
        assert!(
            w["key"].is_boolean(),
            "{what}: wifis[{i}].key must be true/false, got {}",
            w["key"]
        );
    }
    let cards = st
        .get("cards")
        .and_then(Value::as_array)
        .expect("cards array");
    assert_eq!(
        cards[3]["cardId"],
        json!(true),
        "{what}: cards[3].cardId is set"
    );
    assert_eq!(cards[3]["name"], json!("Carol"), "{what}");
    for (i, c) in cards.iter().enumerate() {
        assert!(
            c["cardId"].is_boolean(),
            "{what}: cards[{i}].cardId must be true/false, got {}",
            c["cardId"]
        );
    }
}

async fn set_checked(api: &Api, pairs: &[(&str, &str)]) -> SetResp {
    let r = api.set(pairs).await;
    let keys: Vec<&str> = pairs.iter().map(|p| p.0).collect();
    assert!(r.all_true(&keys), "{keys:?}: {} {}", r.status, r.body);
    assert_no_secret("set answer", &r.body);
    r
}

async fn scan_everything(api: &Api, what: &str) {
    let all = api.status().await;
    assert_no_secret(&format!("{what}: status"), &all.raw);
    check_masked(&all, what);
    let filtered = api.status_filter("pass,wak,wifis,cards,facwak").await;
    assert_no_secret(&format!("{what}: filtered status"), &filtered.raw);
    assert_eq!(
        filtered.keys(),
        ["wifis", "facwak", "wak", "cards"],
        "{what}: filtered keys in table order"
    );
    check_masked(&filtered, what);
    let legacy = api
        .status_filter(&crate::common::enc(r#"["pass","wak","wifis","cards"]"#))
        .await;
    assert_no_secret(&format!("{what}: legacy filtered status"), &legacy.raw);
}

#[tokio::test]
async fn secrets_never_appear_in_any_response() {
    let dir = tempfile::tempdir().unwrap();
    let mut ch = Charger::start_on(dir.path(), FW_2021);
    let api = ch.api();
    let pass = format!("\"{PASS}\"");
    let wak = format!("\"{WAK}\"");
    let wifis = format!(r#"[{{}},{{}},{{"ssid":"secret-net","key":"{WIFI_KEY}"}}]"#);
    let cards = format!(r#"[{{}},{{}},{{}},{{"name":"Carol","cardId":"{CARD_ID}"}}]"#);
    set_checked(&api, &[("pass", &pass)]).await;
    set_checked(&api, &[("wak", &wak)]).await;
    set_checked(&api, &[("wifis", &wifis)]).await;
    set_checked(&api, &[("cards", &cards)]).await;
    // all at once, and mixed with a failing key (the answer echoes only the failing raw value)
    set_checked(
        &api,
        &[
            ("pass", &pass),
            ("wak", &wak),
            ("wifis", &wifis),
            ("cards", &cards),
        ],
    )
    .await;
    let r = api
        .set(&[("pass", &pass), ("alw", "true"), ("wak", &wak)])
        .await;
    assert_eq!(r.status, 500);
    assert_no_secret("partly failed set answer", &r.body);
    // refused writes of secrets do not echo them either
    for (k, raw) in [
        ("wak", "\"Dist-Zq\"".to_owned()),
        ("pass", format!("\"{PASS}{}\"", "x".repeat(64))),
        (
            "wifis",
            format!(r#"[{{"key":"{WIFI_KEY}","nosuchfield":1}}]"#),
        ),
        (
            "cards",
            format!(r#"[{{"cardId":"{CARD_ID}","nosuchfield":1}}]"#),
        ),
        ("wak", format!("{WAK}-not-json")),
    ] {
        let r = api.set(&[(k, &raw)]).await;
        assert_eq!(r.status, 500, "{k}={raw}: {}", r.body);
        assert_no_secret(&format!("refused {k}"), &r.body);
        assert!(
            !r.body.contains("Dist-Zq"),
            "refused {k} echoes the value: {}",
            r.body
        );
    }
    scan_everything(&api, "running").await;
    // 404 and other paths do not leak either
    let r = api.get("/api/nope").await;
    assert_no_secret("404", &r.body);
    ch.kill9();
    let ch = Charger::start_on(dir.path(), FW_2021);
    scan_everything(&ch.api(), "after restart").await;
}
