//! OCPP across processes (issue #14 points 3 and 4): a fleet in one process
//! connects every charger to one backend with its own identity, and a
//! `kill -9` loses no transaction message (the durable queue,
//! `ocpp-queue.jsonl`). Real `goe-charger` processes, the real CSMS of
//! `tests/ocpp/csms.py` (mobilityhouse `ocpp`, schema-validated).

#[path = "common/mod.rs"]
mod common;

#[path = "ocpp/harness.rs"]
#[allow(dead_code)]
mod harness;

use common::Charger;
use harness::{Backend, START};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A hang guard for frames to arrive (real seconds).
const T: u64 = 30;

struct Fleet {
    child: Child,
    /// (serial, base URL) per charger.
    chargers: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fleet(count: usize, ocpp_url: &str) -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_goe-charger"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--clock",
            "manual",
            "--start",
            START,
        ])
        .args(["--chargers", &count.to_string(), "--ocpp", ocpp_url])
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let head = lines.next().unwrap().unwrap();
    assert_eq!(head, format!("goe-charger fleet of {count} chargers"));
    let chargers = (0..count)
        .map(|_| {
            let line = lines.next().unwrap().unwrap();
            let words: Vec<&str> = line.split_whitespace().collect();
            (words[1].to_owned(), words.last().unwrap().to_string())
        })
        .collect();
    Fleet {
        child,
        chargers,
        _dir: dir,
    }
}

async fn get(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// Every charger of `--chargers 3 --ocpp URL/{serial}` connects with its own
/// identity and serial; `/sim/state` shows each one's OCPP state.
#[tokio::test]
async fn a_fleet_connects_every_charger_with_its_own_identity() {
    let mut b = Backend::csms(&[]);
    let f = fleet(3, &b.url());
    let connections = b.wait_connect(3, T);
    let mut paths: Vec<String> = connections
        .iter()
        .map(|c| c["path"].as_str().unwrap_or_default().to_owned())
        .collect();
    paths.sort();
    assert_eq!(paths, ["/ocpp/100001", "/ocpp/100002", "/ocpp/100003"]);
    let boots = b.wait_for("BootNotification", 3, T, 0);
    let mut serials: Vec<String> = boots
        .iter()
        .map(|c| {
            c.payload["chargePointSerialNumber"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    serials.sort();
    assert_eq!(serials, ["100001", "100002", "100003"]);
    for (serial, url) in &f.chargers {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(T);
        loop {
            let state = get(&format!("{url}/sim/state")).await;
            assert_eq!(state["serial"], serial.as_str());
            let ocpp = &state["ocpp"];
            if ocpp["connected"] == true && ocpp["accepted"] == true {
                assert_eq!(ocpp["enabled"], true);
                assert_eq!(ocpp["last_error"], Value::Null);
                break;
            }
            assert!(std::time::Instant::now() < end, "{serial}: {ocpp}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    b.assert_no_violations();
}

/// A StartTransaction the backend has not answered when the charger is
/// killed with `kill -9` is sent again by the restarted charger, and the
/// transaction ends with a StopTransaction naming the backend's id: no
/// transaction message is lost.
#[tokio::test]
async fn kill_9_loses_no_transaction_message() {
    let mut b = Backend::csms(&[]);
    // the first StartTransaction stays unanswered
    b.options(json!({"drop_on": {"StartTransaction": 1}}));
    let dir = tempfile::tempdir().unwrap();
    let args = ["--clock", "manual", "--start", START, "--seed", "1"];
    let mut ch = Charger::start_with(dir.path(), &args);
    let api = ch.api();
    let url = serde_json::to_string(&b.url()).unwrap();
    api.set_ok(&[
        ("ocppd", "\"DUMMY\""),
        ("ocppu", url.as_str()),
        ("ocppe", "true"),
    ])
    .await;
    b.wait_for("BootNotification", 1, T, 0);
    let client = reqwest::Client::new();
    let post = |pq: &str| client.post(format!("{}{pq}", api.base)).send();
    assert_eq!(
        post("/sim/plug?car=ev-3p-11kw&soc=30")
            .await
            .unwrap()
            .status(),
        200
    );
    let mut first = Vec::new();
    for _ in 0..60 {
        post("/sim/advance?seconds=1").await.unwrap();
        first = b.calls_now("StartTransaction", 0);
        if !first.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(first.len(), 1, "the transaction started");
    ch.kill9();
    let queue = std::fs::read_to_string(dir.path().join("ocpp-queue.jsonl")).unwrap();
    assert!(
        queue.contains("StartTransaction"),
        "queued on disk: {queue}"
    );
    // the same data directory: the unanswered start is sent again
    let ch = Charger::start_with(dir.path(), &args);
    let api = ch.api();
    let client = reqwest::Client::new();
    let starts = b.wait_for("StartTransaction", 2, T, 0);
    assert_eq!(starts[1].payload, starts[0].payload, "the same transaction");
    // after the restart no car is plugged: the transaction ends, with the id
    // the backend gave the resent start
    let mut stops = Vec::new();
    for _ in 0..60 {
        client
            .post(format!("{}/sim/advance?seconds=1", api.base))
            .send()
            .await
            .unwrap();
        stops = b.calls_now("StopTransaction", 0);
        if !stops.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(stops.len(), 1, "the transaction ended");
    assert!(
        stops[0].payload["transactionId"].is_i64(),
        "{}",
        stops[0].payload
    );
    assert!(stops[0].payload["meterStop"].as_i64() >= starts[0].payload["meterStart"].as_i64());
    b.assert_no_violations();
}

/// A transaction whose StartTransaction the backend answered survives a
/// `kill -9` in `ocppti` (flash): the restarted charger, whose car is gone,
/// ends it with a StopTransaction naming the backend's id (PowerLoss).
#[tokio::test]
async fn kill_9_during_an_answered_transaction_ends_it_after_the_restart() {
    let mut b = Backend::csms(&[]);
    let dir = tempfile::tempdir().unwrap();
    let args = ["--clock", "manual", "--start", START, "--seed", "1"];
    let mut ch = Charger::start_with(dir.path(), &args);
    let api = ch.api();
    let url = serde_json::to_string(&b.url()).unwrap();
    api.set_ok(&[("ocppu", url.as_str()), ("ocppe", "true")])
        .await;
    b.wait_for("BootNotification", 1, T, 0);
    let client = reqwest::Client::new();
    let post = |pq: &str| client.post(format!("{}{pq}", api.base)).send();
    assert_eq!(
        post("/sim/plug?car=ev-3p-11kw&soc=30")
            .await
            .unwrap()
            .status(),
        200
    );
    let mut id = None;
    for _ in 0..100 {
        post("/sim/advance?seconds=1").await.unwrap();
        let status = api.status().await;
        if let Some(n) = status.get("ocppti").and_then(Value::as_i64) {
            id = Some(n);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let id = id.expect("the backend's transactionId in ocppti");
    ch.kill9();
    let ch = Charger::start_with(dir.path(), &args);
    let api = ch.api();
    let client = reqwest::Client::new();
    let mut stops = Vec::new();
    for _ in 0..60 {
        client
            .post(format!("{}/sim/advance?seconds=1", api.base))
            .send()
            .await
            .unwrap();
        stops = b.calls_now("StopTransaction", 0);
        if !stops.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(stops.len(), 1, "the transaction ended after the restart");
    assert_eq!(stops[0].payload["transactionId"], id);
    assert_eq!(stops[0].payload["reason"], "PowerLoss");
    assert_eq!(
        b.calls_now("StartTransaction", 0).len(),
        1,
        "no second start"
    );
    b.assert_no_violations();
}
