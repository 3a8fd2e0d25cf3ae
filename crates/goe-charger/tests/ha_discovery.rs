//! Home Assistant MQTT discovery (#15 point 2) against a real mosquitto and
//! the real binary: with `mhe=true` the charger publishes retained discovery
//! configurations under `mht`; every one is checked with Home Assistant's own
//! schemas and template engine (`tests/ha/validate.py`, run by the pinned
//! `homeassistant` of `scripts/client-venvs.sh`, `GOE_VENV_HOMEASSISTANT`);
//! every command topic takes a write through `/set`; a `mht` change moves the
//! configurations and `mhe=false` removes them.
//!
//! Needs `GOE_MOSQUITTO` and `GOE_VENV_HOMEASSISTANT` (scripts/test.sh); a
//! missing tool fails the test with instructions.

#[path = "common/mod.rs"]
mod common;
#[path = "push/support.rs"]
mod support;

use common::Charger;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;
use support::*;

/// The firmware of most tests: the newest profile (`mhe`/`mht` since 055).
const FW: &str = "060.5";

/// How long the broker must stay silent before a burst counts as complete.
const QUIET: Duration = Duration::from_millis(1500);

/// The configurations retained under `prefix/` right now: a fresh
/// subscriber gets exactly the broker's retained messages (empty payloads
/// delete them, so they never arrive).
async fn retained_configs(port: u16, prefix: &str) -> BTreeMap<String, String> {
    let filter = format!("{prefix}/#");
    let mut sub = Sub::connect(port, "test-retained", &[&filter]).await;
    sub.drain_quiet(QUIET)
        .await
        .into_iter()
        .filter(|m| m.retain && m.topic.ends_with("/config"))
        .map(|m| (m.topic, m.payload))
        .collect()
}

/// [`retained_configs`] once `done` holds for them (the charger publishes
/// right after a write; this waits for it without a fixed sleep), or what
/// is there after [`WAIT`].
async fn settled(
    port: u16,
    prefix: &str,
    done: impl Fn(&BTreeMap<String, String>) -> bool,
) -> BTreeMap<String, String> {
    let end = std::time::Instant::now() + WAIT;
    loop {
        let configs = retained_configs(port, prefix).await;
        if done(&configs) || std::time::Instant::now() > end {
            return configs;
        }
    }
}

/// The charger's retained state topics under `prefix` right now.
async fn retained_states(port: u16, prefix: &str) -> BTreeMap<String, String> {
    let filter = format!("{prefix}#");
    let mut sub = Sub::connect(port, "test-states", &[&filter]).await;
    sub.drain_quiet(QUIET)
        .await
        .into_iter()
        .filter(|m| m.retain)
        .map(|m| (m.topic, m.payload))
        .collect()
}

/// Runs Home Assistant's validation over what the broker holds.
fn validate(
    prefix: &str,
    configs: &BTreeMap<String, String>,
    states: &BTreeMap<String, String>,
) -> Value {
    let python = venv_python(
        "GOE_VENV_HOMEASSISTANT",
        "homeassistant",
        "homeassistant==2024.1.6 paho-mqtt==1.6.1",
    );
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("discovery.json");
    let doc = json!({"prefix": prefix, "configs": configs, "states": states});
    std::fs::write(&input, doc.to_string()).unwrap();
    // GOE_HA_DUMP=FILE keeps the validator's input for a look by hand
    if let Some(p) = std::env::var_os("GOE_HA_DUMP") {
        std::fs::write(p, doc.to_string()).unwrap();
    }
    let script = crate_dir().join("tests/ha/validate.py");
    let out = Command::new(&python)
        // -I: no current directory or user site on sys.path
        .arg("-I")
        .arg(&script)
        .arg(&input)
        .current_dir(dir.path())
        .output()
        .expect("run tests/ha/validate.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "validate.py printed no report ({e}); exit {:?}\nstdout: {stdout}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        out.status.success() && report["errors"].as_array().is_some_and(Vec::is_empty),
        "Home Assistant refuses the discovery configurations:\n{:#?}",
        report["errors"]
    );
    report
}

/// A 060.5 charger with MQTT (writes allowed) and discovery on, and a
/// subscriber that saw the configurations arrive.
async fn discovering_charger(fw: &str) -> (Broker, Sub, Charger) {
    let broker = Broker::start();
    let mut live = Sub::connect(broker.port, "test-live", &["#"]).await;
    let mut args = MANUAL.to_vec();
    args.extend(["--firmware", fw]);
    let charger = Charger::fresh_with(&args);
    let url = format!("\"{}\"", broker.url());
    charger
        .api()
        .set_ok(&[
            ("mcu", url.as_str()),
            ("mcr", "false"),
            ("mhe", "true"),
            ("mce", "true"),
        ])
        .await;
    // the configurations follow the dump, with `mcc` = true just before them
    live.wait_payload(&format!("{PREFIX}mcc"), "true").await;
    live.drain_quiet(QUIET).await;
    (broker, live, charger)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_discovery_payload_passes_home_assistants_schemas_and_every_command_topic_writes() {
    schemas_and_writes(FW).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_056_2_profile_passes_home_assistants_schemas_too() {
    schemas_and_writes("056.2").await;
}

/// The whole check on firmware `fw`.
async fn schemas_and_writes(fw: &str) {
    let (broker, mut live, charger) = discovering_charger(fw).await;
    let api = charger.api();
    let configs = retained_configs(broker.port, "homeassistant").await;
    assert!(
        configs.len() >= 30,
        "only {} configurations: {configs:#?}",
        configs.len()
    );
    for component in ["sensor", "binary_sensor", "switch", "number", "select"] {
        assert!(
            configs
                .keys()
                .any(|t| t.starts_with(&format!("homeassistant/{component}/go-echarger_012345/"))),
            "no {component} under homeassistant/{component}/go-echarger_012345/"
        );
    }
    let states = retained_states(broker.port, PREFIX).await;
    let report = validate("homeassistant", &configs, &states);
    let commands = report["commands"].as_array().unwrap();
    let keys: Vec<&str> = commands
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    for k in ["amp", "frc", "psm", "lmo", "fup"] {
        assert!(keys.contains(&k), "no command entity for {k}: {keys:?}");
    }
    // charging: a car plugged in for a minute, and every state renders too
    let (status, body) = api.post("/sim/plug?car=ev-3p-11kw&soc=30").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api.post("/sim/advance?seconds=60").await;
    assert_eq!(status, 200, "{body}");
    live.wait_payload(&format!("{PREFIX}car"), "2").await;
    live.drain_quiet(QUIET).await;
    let charging = retained_states(broker.port, PREFIX).await;
    let nrg: Vec<f64> = serde_json::from_str(&charging[&format!("{PREFIX}nrg")]).unwrap();
    assert!(nrg[11] > 1000.0, "not charging: nrg {nrg:?}");
    validate("homeassistant", &configs, &charging);
    // every switch, number and select: the entity's own command payload on
    // its command topic is applied like /api/set
    for c in commands {
        let (key, topic) = (c["key"].as_str().unwrap(), c["topic"].as_str().unwrap());
        let payload = c["payload"].as_str().unwrap();
        assert_eq!(topic, format!("{PREFIX}{key}/set"));
        live.publish(topic, payload).await;
        live.wait_payload(&format!("{PREFIX}{key}/result"), "success")
            .await;
        let now = api.value(key).await.unwrap();
        assert!(
            now == c["expect"] || now.as_f64().is_some() && now.as_f64() == c["expect"].as_f64(),
            "{key}: sent {payload} on {topic}, /api/status shows {now}, expected {}",
            c["expect"]
        );
    }
    // and the states after the writes still render
    let states = retained_states(broker.port, PREFIX).await;
    validate("homeassistant", &configs, &states);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mht_moves_the_configurations_and_mhe_off_removes_them() {
    let (broker, _live, charger) = discovering_charger(FW).await;
    let api = charger.api();
    let before = retained_configs(broker.port, "homeassistant").await;
    assert!(!before.is_empty());

    api.set_ok(&[("mht", "\"ha-test/disc\"")]).await;
    let moved = settled(broker.port, "ha-test/disc", |c| c.len() == before.len()).await;
    let old = settled(broker.port, "homeassistant", BTreeMap::is_empty).await;
    assert!(
        old.is_empty(),
        "left behind under homeassistant/: {:?}",
        old.keys()
    );
    let renamed: Vec<String> = before
        .keys()
        .map(|t| t.replacen("homeassistant/", "ha-test/disc/", 1))
        .collect();
    assert_eq!(moved.keys().cloned().collect::<Vec<_>>(), renamed);
    let states = retained_states(broker.port, PREFIX).await;
    validate("ha-test/disc", &moved, &states);

    // null resets mht to its default, and the configurations come back there
    api.set_ok(&[("mht", "null")]).await;
    assert_eq!(api.value("mht").await, Some(json!("homeassistant")));
    assert_eq!(
        settled(broker.port, "homeassistant", |c| c.len() == before.len())
            .await
            .keys()
            .collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    assert!(
        retained_configs(broker.port, "ha-test/disc")
            .await
            .is_empty()
    );

    // a prefix HA could not subscribe to is refused like any bad value
    for bad in ["\"\"", "\"home/#\""] {
        let r = api.set(&[("mht", bad)]).await;
        assert!(
            r.get("mht").is_some_and(|v| v != &json!(true)),
            "mht={bad} accepted: {}",
            r.body
        );
    }

    // `mtp` moves the state topics: after the reconnection the same
    // configurations point at the new ones
    api.set_ok(&[("mtp", "\"goe-test/box/\"")]).await;
    let repointed = settled(broker.port, "homeassistant", |c| {
        c.len() == before.len() && c.values().all(|p| p.contains("\"goe-test/box/"))
    })
    .await;
    assert_eq!(
        repointed.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    for payload in repointed.values() {
        let p: Value = serde_json::from_str(payload).unwrap();
        let state = p["state_topic"].as_str().unwrap();
        assert!(state.starts_with("goe-test/box/"), "{state}");
    }
    let states = retained_states(broker.port, "goe-test/box/").await;
    validate("homeassistant", &repointed, &states);

    api.set_ok(&[("mhe", "false")]).await;
    let left = settled(broker.port, "homeassistant", BTreeMap::is_empty).await;
    assert!(left.is_empty(), "mhe=false left {:?}", left.keys());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn availability_follows_the_connection() {
    let (_broker, mut live, mut charger) = discovering_charger(FW).await;
    let api = charger.api();
    let mcc = format!("{PREFIX}mcc");
    // MQTT switched off: a clean DISCONNECT fires no last will, so the
    // charger marks its entities unavailable itself
    api.set_ok(&[("mce", "false")]).await;
    live.wait_payload(&mcc, "false").await;
    api.set_ok(&[("mce", "true")]).await;
    live.wait_payload(&mcc, "true").await;
    // the connection dies: the broker publishes the last will
    charger.kill9();
    live.wait_payload(&mcc, "false").await;
}

/// The README's example, run as written through `sh` (only the ports are
/// changed) against a charger and a broker: the subscriber prints the
/// configurations, and `mhe=false` leaves none retained.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_example_runs_as_written() {
    const README: &str = include_str!("../../../README.md");
    let start = README
        .find("## Home Assistant discovery")
        .expect("README section");
    let rest = &README[start..];
    let open = rest.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let block = &rest[open..open + rest[open..].find("```").unwrap()];
    let broker = Broker::start();
    let mut args = MANUAL.to_vec();
    args.extend(["--firmware", FW]);
    let charger = Charger::fresh_with(&args);
    let lines: Vec<String> = block
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            l.replace("127.0.0.1:8080", &format!("127.0.0.1:{}", charger.port))
                .replace("127.0.0.1:1883", &format!("127.0.0.1:{}", broker.port))
                .replace("-p 1883", &format!("-p {}", broker.port))
        })
        .collect();
    assert_eq!(lines.len(), 3, "{block}");
    let run = |line: &str| {
        let out = Command::new("sh")
            .arg("-c")
            .arg(line)
            .output()
            .expect("sh (curl and mosquitto_sub: Debian's curl, mosquitto-clients)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(run(&lines[0]).contains("\"mhe\":true"), "{}", lines[0]);
    let mut printed = String::new();
    for _ in 0..50 {
        printed = run(&lines[1]);
        if printed.lines().count() >= 30 {
            break;
        }
    }
    let configs = printed
        .lines()
        .filter(|l| l.starts_with("homeassistant/") && l.contains("/config {"))
        .count();
    assert!(configs >= 30, "{}: {printed}", lines[1]);
    assert!(run(&lines[2]).contains("\"mhe\":true"), "{}", lines[2]);
    let left = settled(broker.port, "homeassistant", BTreeMap::is_empty).await;
    assert!(left.is_empty(), "after {}: {:?}", lines[2], left.keys());
}
