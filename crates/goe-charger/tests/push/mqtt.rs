//! The MQTT client against a real mosquitto (one private broker per test):
//! the retained dump, client id and keepalive, `/set` and `/result`, `mcr`,
//! `mtp`, deltas, the last will, and a broker that is down or goes away.

use crate::common::{Charger, SetResp};
use crate::support::*;
use serde_json::Value;
use std::time::Duration;

/// A broker, a subscriber to everything that was there before the charger
/// came, and a manual-clock charger started with `--mqtt`; returns after the
/// charger's first dump arrived (so its `/set` subscription is in place).
async fn charger_with_broker() -> (Broker, Sub, Charger, Vec<Msg>) {
    let broker = Broker::start();
    let mut live = Sub::connect(broker.port, "test-live", &["#"]).await;
    let url = broker.url();
    let mut args = MANUAL.to_vec();
    args.extend(["--firmware", MQTT_FW, "--mqtt", url.as_str()]);
    let charger = Charger::fresh_with(&args);
    let dump = read_dump(&mut live, PREFIX).await;
    (broker, live, charger, dump)
}

fn key_of<'a>(prefix: &str, m: &'a Msg) -> &'a str {
    m.topic.strip_prefix(prefix).unwrap_or(&m.topic)
}

/// The keys whose raw JSON differs between two `/api/status` reads.
fn changed_keys(a: &crate::common::Ordered, b: &crate::common::Ordered) -> Vec<String> {
    b.entries
        .iter()
        .filter(|e| a.raw_of(&e.key) != Some(e.raw.as_str()))
        .map(|e| e.key.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_dump_is_retained_in_order_and_equals_the_status_then_only_changes_follow() {
    let (broker, mut live, charger, dump) = charger_with_broker().await;
    let api = charger.api();

    // every MQTT-visible key exactly once, in registration order, and only readable keys
    let keys = mqtt_keys();
    let topics: Vec<&str> = dump.iter().map(|m| m.topic.as_str()).collect();
    let want: Vec<String> = keys.iter().map(|k| format!("{PREFIX}{k}")).collect();
    assert_eq!(
        topics, want,
        "the first dump must publish each MQTT-visible key once, in registration order"
    );
    let profile = goe_keys::profile(MQTT_FW).unwrap();
    for (kid, def) in profile.keys().filter(|&(kid, _)| profile.publishes(kid)) {
        assert!(
            def.access.readable() && profile.readable(kid),
            "{} is MQTT-visible but not readable",
            def.name
        );
    }
    for hidden in ["wifis", "scan", "wak", "pass", "rst"] {
        assert!(!keys.contains(&hidden), "{hidden} must not be published");
    }

    // every value equals the same key of /api/status (byte for byte)
    let status = api.status().await;
    let mut differ = Vec::new();
    for m in &dump {
        let key = key_of(PREFIX, m);
        let raw = status
            .raw_of(key)
            .unwrap_or_else(|| panic!("{key} is published but not in /api/status"));
        if m.payload != raw && !LIVE.contains(&key) {
            differ.push(format!("{key}: mqtt {} vs status {raw}", m.payload));
        }
    }
    assert!(
        differ.is_empty(),
        "dump differs from /api/status: {differ:#?}"
    );
    assert_eq!(status.get("mcc"), Some(&Value::Bool(true)));
    assert_eq!(status.get("mcs"), Some(&Value::Bool(true)));
    assert!(
        status.get("mcca").is_some_and(Value::is_number),
        "mcca: {:?}",
        status.get("mcca")
    );
    assert_eq!(status.get("mlr"), Some(&Value::Null));

    // client id, MQTT 3.1.1, clean session, keepalive 120 s (mosquitto -v log)
    let log = broker.log();
    assert!(
        log.contains(" as go-echarger_012345 (p2, c1, k120)"),
        "mosquitto must see client go-echarger_012345 (p2, c1, k120); log:\n{log}"
    );

    // stored retained: a subscriber that comes later gets each key, flagged retained
    let mut late = Sub::connect(broker.port, "test-late", &[&format!("{PREFIX}#")]).await;
    let mut stored = std::collections::BTreeMap::new();
    while stored.len() < keys.len() {
        let Some(m) = late.next(WAIT).await else {
            let missing: Vec<_> = keys.iter().filter(|k| !stored.contains_key(**k)).collect();
            panic!("retained topics missing for a late subscriber: {missing:?}");
        };
        assert!(m.retain, "{} must be delivered as retained: {m:?}", m.topic);
        let key = key_of(PREFIX, &m).to_owned();
        stored.insert(key, m.payload);
    }
    for m in &dump {
        let key = key_of(PREFIX, m);
        if !LIVE.contains(&key) {
            assert_eq!(stored.get(key), Some(&m.payload), "retained {key}");
        }
    }
    assert_eq!(stored.get("mcc").map(String::as_str), Some("true"));

    // afterwards only changed keys, with their new values
    live.drain_quiet(Duration::from_millis(300)).await;
    let mark = live.seen.len();
    api.set_ok(&[("amp", "10")]).await;
    let after = api.status().await;
    let changed = changed_keys(&status, &after);
    assert!(changed.iter().any(|k| k == "amp"), "changed: {changed:?}");
    live.wait_payload(&format!("{PREFIX}amp"), "10").await;
    live.drain_quiet(Duration::from_millis(800)).await;
    let deltas: Vec<Msg> = live.seen[mark..].to_vec();
    for m in &deltas {
        let key = key_of(PREFIX, m);
        assert!(
            changed.iter().any(|k| k == key) || LIVE.contains(&key),
            "{key} was published after amp=10 but did not change (changed: {changed:?}); deltas: {deltas:#?}"
        );
        if !LIVE.contains(&key) {
            assert_eq!(Some(m.payload.as_str()), after.raw_of(key), "delta {key}");
        }
    }
    let visible_changed: Vec<&String> = changed
        .iter()
        .filter(|k| keys.contains(&k.as_str()) && !LIVE.contains(&k.as_str()))
        .collect();
    for k in visible_changed {
        assert!(
            deltas.iter().any(|m| key_of(PREFIX, m) == k),
            "{k} changed but no delta was published; deltas: {deltas:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_topics_apply_like_api_set_and_answer_on_result() {
    let (broker, mut live, charger, _dump) = charger_with_broker().await;
    let api = charger.api();
    let topic = |k: &str, suffix: &str| format!("{PREFIX}{k}{suffix}");

    // amp's range on the firmware these chargers run (6 to 16 on 051.4: mca to ama)
    let profile = goe_keys::profile(MQTT_FW).unwrap();
    let (_, amp) = profile.key("amp").unwrap();
    let (min, max) = crate::common::values::int_bounds(amp).unwrap();
    let amp_40 = format!("failed: Value 40 exceeds range {min} to {max} 40");
    // (key, payload, expected /result)
    let cases: [(&str, &str, &str); 6] = [
        ("amp", "10", "success"),
        ("fna", "0", "value must be string 0"),
        ("amp", "40", &amp_40),
        ("alw", "true", "tried to set api key without setter true"),
        (
            "fna",
            "\"go\"",
            "failed: String length  2 exceeds range 4 to 64 \"go\"",
        ),
        ("fna", "\"garage one\"", "success"),
    ];
    for (key, payload, want) in cases {
        live.publish(&topic(key, "/set"), payload).await;
        let got = live
            .wait_for(&topic(key, "/result"), |_| true, "any result")
            .await;
        assert_eq!(got.payload, want, "{key}/set {payload}");
    }
    assert_eq!(api.value("amp").await, Some(Value::from(10)));
    assert_eq!(api.value("fna").await, Some(Value::from("garage one")));
    live.wait_payload(&topic("fna", ""), "\"garage one\"").await;

    // a secret's raw value is never echoed
    live.publish(&topic("wak", "/set"), "12345678901").await;
    let got = live
        .wait_for(&topic("wak", "/result"), |_| true, "any result")
        .await;
    assert_eq!(got.payload, "value must be string ********");

    // /result is not retained
    let mut late = Sub::connect(broker.port, "test-late", &[&format!("{PREFIX}+/result")]).await;
    let stored = late.drain_quiet(Duration::from_millis(500)).await;
    assert!(
        stored.is_empty(),
        "/result must not be retained: {stored:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcr_refuses_writes_and_mtp_moves_the_topics() {
    let broker = Broker::start();
    let mut live = Sub::connect(broker.port, "test-live", &["#"]).await;
    let mut args = MANUAL.to_vec();
    args.extend(["--firmware", MQTT_FW]);
    let charger = Charger::fresh_with(&args);
    let api = charger.api();
    assert_eq!(
        api.value("mcr").await,
        Some(Value::Bool(true)),
        "mcr defaults to true"
    );
    assert_eq!(api.value("mtp").await, Some(Value::from(PREFIX)));
    let url = format!("\"{}\"", broker.url());
    api.set_ok(&[("mcu", url.as_str()), ("mce", "true")]).await;
    read_dump(&mut live, PREFIX).await;

    // read-only: refused, nothing changes
    live.publish(&format!("{PREFIX}amp/set"), "10").await;
    let got = live
        .wait_for(&format!("{PREFIX}amp/result"), |_| true, "any result")
        .await;
    assert_eq!(
        got.payload,
        "tried to set api key which is not allowed from api 10"
    );
    assert_eq!(api.value("amp").await, Some(Value::from(16)));

    // writable after mcr=false (the client reconnects with the new settings)
    api.set_ok(&[("mcr", "false")]).await;
    read_dump(&mut live, PREFIX).await;
    live.publish(&format!("{PREFIX}amp/set"), "10").await;
    live.wait_payload(&format!("{PREFIX}amp/result"), "success")
        .await;
    assert_eq!(api.value("amp").await, Some(Value::from(10)));

    // mtp moves every topic, the /set subscription and /result with it
    let new = "goe-test/box/";
    api.set_ok(&[("mtp", "\"goe-test/box/\"")]).await;
    let dump = read_dump(&mut live, new).await;
    let topics: Vec<&str> = dump.iter().map(|m| m.topic.as_str()).collect();
    let want: Vec<String> = mqtt_keys().iter().map(|k| format!("{new}{k}")).collect();
    assert_eq!(topics, want, "dump under the new prefix");
    let mtp = dump
        .iter()
        .find(|m| m.topic == format!("{new}mtp"))
        .unwrap();
    assert_eq!(mtp.payload, "\"goe-test/box/\"");
    let mark = live.seen.len();
    live.publish(&format!("{PREFIX}amp/set"), "12").await;
    live.publish(&format!("{new}amp/set"), "11").await;
    live.wait_payload(&format!("{new}amp/result"), "success")
        .await;
    live.drain_quiet(Duration::from_millis(500)).await;
    let old_result = format!("{PREFIX}amp/result");
    assert!(
        !live.seen[mark..].iter().any(|m| m.topic == old_result),
        "the old prefix must not be listened to any more: {:#?}",
        &live.seen[mark..]
    );
    assert_eq!(api.value("amp").await, Some(Value::from(11)));

    // null resets the prefix to the default
    api.set_ok(&[("mtp", "null")]).await;
    assert_eq!(api.value("mtp").await, Some(Value::from(PREFIX)));
    read_dump(&mut live, PREFIX).await;

    // a prefix without the trailing slash is refused, as /api/set refuses bad values
    let r: SetResp = api.set(&[("mtp", "\"x\"")]).await;
    assert_eq!(r.status, 500, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_will_sets_mcc_false_when_the_charger_dies() {
    let (broker, mut live, mut charger, dump) = charger_with_broker().await;
    let mcc = format!("{PREFIX}mcc");
    assert!(dump.iter().any(|m| m.topic == mcc && m.payload == "true"));
    charger.kill9();
    live.wait_payload(&mcc, "false").await;
    let mut late = Sub::connect(broker.port, "test-late", &[&mcc]).await;
    let m = late.next(WAIT).await.expect("retained mcc");
    assert_eq!((m.payload.as_str(), m.retain), ("false", true), "{m:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_is_survived_and_no_set_is_lost_afterwards() {
    let (mut broker, live, charger, _dump) = charger_with_broker().await;
    let api = charger.api();
    drop(live);
    broker.stop();

    // the charger notices, reports it and keeps serving HTTP
    let down = poll(WAIT, || async {
        let s = api.status_filter("mcs,mcc,mlr").await;
        (s.get("mcc") == Some(&Value::Bool(false)) && s.get("mlr").is_some_and(Value::is_string))
            .then_some(s)
    })
    .await
    .unwrap_or_else(|| panic!("mcc=false and mlr set expected; log:\n{}", charger.stderr()));
    assert_eq!(down.get("mcs"), Some(&Value::Bool(true)), "{}", down.raw);
    api.set_ok(&[("fna", "\"while down\"")]).await;
    assert_eq!(api.get("/api/status").await.status, 200);

    // same port again: it reconnects and dumps the current values
    broker.start_again();
    let mut sub = Sub::connect_retry(broker.port, "test-after", &[&format!("{PREFIX}#")]).await;
    sub.wait_all_keys(PREFIX).await;
    assert_eq!(sub.last(&format!("{PREFIX}mcc")), Some("true"));
    assert_eq!(sub.last(&format!("{PREFIX}fna")), Some("\"while down\""));
    let up = poll(WAIT, || async {
        let s = api.status_filter("mcc").await;
        (s.get("mcc") == Some(&Value::Bool(true))).then_some(())
    })
    .await;
    assert!(up.is_some(), "mcc must be true again");

    // a /set after the reconnection is applied and answered
    sub.publish(&format!("{PREFIX}amp/set"), "9").await;
    sub.wait_payload(&format!("{PREFIX}amp/result"), "success")
        .await;
    sub.wait_payload(&format!("{PREFIX}amp"), "9").await;
    assert_eq!(api.value("amp").await, Some(Value::from(9)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_down_at_start_up_never_stops_the_charger() {
    let port = free_port();
    let url = format!("mqtt://127.0.0.1:{port}");
    let mut args = MANUAL.to_vec();
    args.extend(["--firmware", MQTT_FW, "--mqtt", url.as_str()]);
    let charger = Charger::fresh_with(&args);
    let api = charger.api();
    let s = poll(WAIT, || async {
        let s = api.status_filter("mce,mcs,mcc,mlr,mlra").await;
        s.get("mlr").is_some_and(Value::is_string).then_some(s)
    })
    .await
    .expect("mlr must report the connection error");
    assert_eq!(s.get("mce"), Some(&Value::Bool(true)), "{}", s.raw);
    assert_eq!(s.get("mcs"), Some(&Value::Bool(true)), "{}", s.raw);
    assert_eq!(s.get("mcc"), Some(&Value::Bool(false)), "{}", s.raw);
    assert!(s.get("mlra").is_some_and(Value::is_number), "{}", s.raw);
    assert!(!s.get("mlr").unwrap().as_str().unwrap().is_empty());
    api.set_ok(&[("amp", "10")]).await;

    // the broker comes up later: the charger connects by itself
    let mut broker = Broker::unstarted_on(port);
    broker.start_again();
    let mut sub = Sub::connect_retry(port, "test-late", &[&format!("{PREFIX}#")]).await;
    sub.wait_all_keys(PREFIX).await;
    assert_eq!(sub.last(&format!("{PREFIX}mcc")), Some("true"));
    assert_eq!(sub.last(&format!("{PREFIX}amp")), Some("10"));
    assert_eq!(api.value("mcc").await, Some(Value::Bool(true)));
}

/// A publisher whose packets may exceed the charger's 256 KiB limit
/// (the test subscriber's limit is that of the charger).
async fn big_publisher(port: u16) -> (rumqttc::AsyncClient, tokio::task::JoinHandle<()>) {
    let mut options = rumqttc::MqttOptions::new("test-big", "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(4 << 20, 4 << 20);
    let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 16);
    let task = tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    (client, task)
}

/// How often the charger connected to the broker, from mosquitto's log.
fn charger_connections(broker: &Broker) -> usize {
    broker
        .log()
        .lines()
        .filter(|l| l.contains("New client connected") && l.contains("go-echarger_012345"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_set_is_refused_on_result_and_the_session_stays() {
    let broker = Broker::start();
    let topic = |k: &str, suffix: &str| format!("{PREFIX}{k}{suffix}");
    // (not `#`: the oversized /set itself would be too large for this client)
    let mut live = Sub::connect(
        broker.port,
        "test-live",
        &[
            &topic("amp", "/result"),
            &topic("mcc", ""),
            &topic("amp", ""),
        ],
    )
    .await;
    let url = broker.url();
    let mut args = MANUAL.to_vec();
    args.extend(["--firmware", MQTT_FW, "--mqtt", url.as_str()]);
    let charger = Charger::fresh_with(&args);
    let api = charger.api();
    // mcc=true in the dump: the charger's /set subscription is in place
    live.wait_payload(&topic("mcc", ""), "true").await;
    let mcca = api.value("mcca").await;
    assert!(mcca.as_ref().is_some_and(Value::is_number), "{mcca:?}");
    assert_eq!(charger_connections(&broker), 1, "{}", broker.log());

    let (big, _task) = big_publisher(broker.port).await;
    let payload = format!("\"{}\"", "x".repeat(300 * 1024));
    for round in 0..3 {
        big.publish(
            topic("amp", "/set"),
            rumqttc::QoS::AtLeastOnce,
            false,
            payload.clone().into_bytes(),
        )
        .await
        .expect("queue the oversized publish");
        let got = live
            .wait_for(&topic("amp", "/result"), |_| true, "the refusal")
            .await;
        let size = 2 + topic("amp", "/set").len() + 2 + payload.len();
        assert_eq!(
            got.payload,
            format!("invalid json NoMemory: ({size} bytes)"),
            "round {round}"
        );
    }
    // the session is the one from before: no error, no reconnect
    assert_eq!(api.value("mcc").await, Some(Value::Bool(true)));
    assert_eq!(api.value("mcca").await, mcca);
    assert_eq!(api.value("mlr").await, Some(Value::Null));
    assert_eq!(charger_connections(&broker), 1, "{}", broker.log());

    // and a normal /set works on it
    live.publish(&topic("amp", "/set"), "10").await;
    live.wait_payload(&topic("amp", "/result"), "success").await;
    live.wait_payload(&topic("amp", ""), "10").await;
    assert_eq!(api.value("amp").await, Some(Value::from(10)));
    assert_eq!(charger_connections(&broker), 1, "{}", broker.log());
}

/// A `/set` payload that is not UTF-8 is refused like invalid JSON and
/// stores nothing (it used to be stored with U+FFFD in place of the bytes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_that_is_not_utf8_is_refused_and_stores_nothing() {
    let broker = Broker::start();
    let topic = |k: &str, suffix: &str| format!("{PREFIX}{k}{suffix}");
    let mut live = Sub::connect(
        broker.port,
        "test-live",
        &[&topic("fna", "/result"), &topic("mcc", "")],
    )
    .await;
    let url = broker.url();
    let mut args = MANUAL.to_vec();
    args.extend(["--firmware", MQTT_FW, "--mqtt", url.as_str()]);
    let charger = Charger::fresh_with(&args);
    let api = charger.api();
    live.wait_payload(&topic("mcc", ""), "true").await;
    let before = api.value("fna").await;
    live.publish_bytes(&topic("fna", "/set"), b"\"gar\xffage\"")
        .await;
    let got = live
        .wait_for(&topic("fna", "/result"), |_| true, "the refusal")
        .await;
    assert!(
        got.payload.starts_with("invalid json InvalidInput"),
        "{}",
        got.payload
    );
    assert_eq!(api.value("fna").await, before);
    // a text payload on the same session still works
    live.publish(&topic("fna", "/set"), "\"garage\"").await;
    live.wait_payload(&topic("fna", "/result"), "success").await;
    assert_eq!(api.value("fna").await, Some(Value::from("garage")));
}
