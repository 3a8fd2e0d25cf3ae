//! `GET /api/status?filter=…`: output in table order whatever the filter's
//! order; unknown and write-only keys silently left out; URL encoding; the
//! empty filter; the legacy JSON-array form; evcc's real request.

use crate::common::{FW_2021, Ordered, enc, json, shared, shared_on};
use crate::status::{key_list_diff, readable_names};
use goe_keys::KEYS;

const FIXTURE_EVCC: &str =
    include_str!("../fixtures/real-status/evcc-pr1609-fw051.4-filtered-charging.json");
const FIXTURE_LEGACY: &str =
    include_str!("../fixtures/real-status/goe-docs-screenshot-fw051-legacyfilter.json");

fn assert_keys(st: &Ordered, want: &[&str], what: &str) {
    let got = st.keys();
    assert_eq!(got, want, "{what}: {}", key_list_diff(&got, want));
}

#[tokio::test]
async fn filter_output_follows_table_order() {
    let api = shared_on(FW_2021).api();
    assert_keys(
        &api.status_filter("amp,alw,rfb").await,
        &["rfb", "alw", "amp"],
        "amp,alw,rfb",
    );
    // every readable key, asked for in reverse order: the profile's order
    for p in goe_keys::profiles() {
        let api = shared_on(&p.firmware.to_string()).api();
        let mut rev = readable_names(p);
        rev.reverse();
        let st = api.status_filter(&rev.join(",")).await;
        assert_keys(
            &st,
            &readable_names(p),
            &format!("{}: all keys reversed", p.firmware),
        );
    }
}

#[tokio::test]
async fn evcc_filter_gives_registration_order() {
    // evcc PR #1609: GET /api/status?filter=alw,car,eto,nrg,wh,trx,cards
    let st = shared()
        .api()
        .status_filter("alw,car,eto,nrg,wh,trx,cards")
        .await;
    let capture = Ordered::parse(FIXTURE_EVCC).unwrap();
    assert_eq!(
        capture.keys(),
        ["alw", "eto", "car", "wh", "trx", "nrg", "cards"]
    );
    assert_keys(&st, &capture.keys(), "evcc filter");
}

#[tokio::test]
async fn unknown_and_write_only_keys_are_left_out() {
    let api = shared().api();
    let st = api
        .status_filter("alw,nosuchkey,pass,rst,ids,oct,delw,amp,ALW")
        .await;
    assert_keys(&st, &["alw", "amp"], "unknown/write-only keys");
    for only in ["nosuchkey", "pass", "rst,lrn,del"] {
        let st = api.status_filter(only).await;
        assert_keys(&st, &[], only);
        assert_eq!(st.raw, "{}", "filter={only}");
    }
    // every write-only key of the table
    let w: Vec<&str> = KEYS
        .iter()
        .filter(|k| !k.access.readable())
        .map(|k| k.name)
        .collect();
    let st = api.status_filter(&format!("{},fna", w.join(","))).await;
    assert_keys(&st, &["fna"], "all write-only keys");
}

#[tokio::test]
async fn filter_is_url_decoded() {
    let api = shared().api();
    assert_keys(
        &api.status_filter("alw%2Camp").await,
        &["alw", "amp"],
        "%2C",
    );
    assert_keys(
        &api.status_filter("alw%2camp").await,
        &["alw", "amp"],
        "%2c",
    );
    assert_keys(
        &api.status_filter("%61%6Cw,amp").await,
        &["alw", "amp"],
        "%61%6Cw",
    );
    // the whole filter percent-encoded
    assert_keys(
        &api.status_filter(&enc("acu,amp")).await,
        &["acu", "amp"],
        "encoded",
    );
}

#[tokio::test]
async fn empty_filter_means_all_keys() {
    let api = shared().api();
    let all = api.status().await;
    for pq in ["/api/status?filter=", "/api/status?"] {
        let st = api.status_query(pq).await;
        assert_keys(&st, &all.keys(), pq);
    }
}

#[tokio::test]
async fn legacy_json_array_filter() {
    // the screenshot is of a fw 051 unit
    let api = shared_on(FW_2021).api();
    // the official screenshot: filter=["rfb","alw","acu","adi","amp"]
    let capture = Ordered::parse(FIXTURE_LEGACY).unwrap();
    let st = api
        .status_filter(&enc(r#"["rfb","alw","acu","adi","amp"]"#))
        .await;
    assert_keys(&st, &capture.keys(), "legacy filter");
    // order of the array does not matter either; unknown/W entries dropped
    let st = api
        .status_filter(&enc(r#"["amp","nosuchkey","pass","rfb"]"#))
        .await;
    assert_keys(&st, &["rfb", "amp"], "legacy filter, mixed");
    // brackets and quotes sent literally (only what the URL parser must encode is encoded)
    let st = api.status_filter(r#"[%22alw%22,%22rfb%22]"#).await;
    assert_keys(&st, &["rfb", "alw"], "legacy filter, literal brackets");
}

#[tokio::test]
async fn duplicate_filter_entries_appear_once() {
    let st = shared().api().status_filter("alw,alw,amp,alw,amp").await;
    assert_keys(&st, &["alw", "amp"], "duplicates");
}

#[tokio::test]
async fn filtered_values_equal_unfiltered_values() {
    for p in goe_keys::profiles() {
        let api = shared_on(&p.firmware.to_string()).api();
        filtered_equal_unfiltered(&api, p).await;
    }
}

async fn filtered_equal_unfiltered(api: &crate::common::Api, profile: &goe_keys::Profile) {
    // the secrets wak/facwak exist on the 2021 firmware only
    let keys: Vec<&str> = [
        "sse", "fwv", "amp", "fna", "cid", "clp", "wifis", "cards", "nrg", "pha", "cll", "wak",
        "facwak",
    ]
    .into_iter()
    .filter(|k| profile.key(k).is_some())
    .collect();
    assert!(keys.len() >= 11, "{}: {keys:?}", profile.firmware);
    let all = api.status().await;
    let st = api.status_filter(&keys.join(",")).await;
    for k in keys {
        assert_eq!(
            st.get(k),
            all.get(k),
            "{k}: filtered and unfiltered status differ"
        );
        assert!(
            !json::has_whitespace_outside_strings(st.raw_of(k).unwrap()),
            "{k}: compact"
        );
    }
}
