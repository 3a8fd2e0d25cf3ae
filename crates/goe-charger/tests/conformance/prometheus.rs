//! `goe-prometheus` 0.2.2 (with the `goe` 0.2.2 it requires): its exporter,
//! unchanged (`export` reads `config.yaml` from its working directory), polls
//! a charger whose simulated clock runs 60 times faster than real time while
//! a car charges and is then stopped, and serves `/metrics`; the test
//! scrapes it until more than a simulated minute has passed. The exporter
//! logs a failed poll instead of stopping, so any ERROR or traceback in its
//! log fails the test with that text.
//!
//! goe 0.2.2 reads the time-server keys `tse` and `tsss` in every poll, which
//! real units stopped printing with fw 055 (issue #12): against the 056.2
//! and 060.5 profiles every poll fails as it would against a real unit
//! (`KeyError: 'tse'`, on 60.3+ `HTTP Error 400`), which the test checks;
//! the accelerated minute runs on 051.4, the 2021 table the client was
//! written for.

use crate::harness::{
    Fw, GOE_PROMETHEUS, Output, START, Sim, firmware, no_proxy, per_firmware, prints,
};
use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The exporter process (killed on drop).
struct Exporter {
    child: Child,
    stdout: Output,
    stderr: Output,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Exporter {
    /// Starts the exporter on a free port; tries another port when the one
    /// picked was taken in between (the exporter then exits at once).
    async fn start(charger_host: &str, http: &reqwest::Client) -> Exporter {
        for _ in 0..3 {
            let mut exp = Exporter::spawn(charger_host);
            for _ in 0..600 {
                if scrape(http, exp.port).await.is_some() {
                    return exp;
                }
                if let Ok(Some(_)) = exp.child.try_wait() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let log = exp.log();
            if !log.contains("Address already in use") {
                exp.check_log();
                panic!("goe-prometheus did not serve /metrics within 30 s:\n{log}");
            }
        }
        panic!("goe-prometheus: no free port after 3 tries");
    }

    fn spawn(charger_host: &str) -> Exporter {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            l.local_addr().unwrap().port()
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let config = format!(
            "chargers:\n  - name: conformance\n    api: local\n    host: \"{charger_host}\"\n\
             polling:\n  interval_seconds: 0.2\n  timeout_seconds: 10\n\
             http_server:\n  port: {port}\n"
        );
        std::fs::write(dir.path().join("config.yaml"), config).unwrap();
        let mut cmd = Command::new(GOE_PROMETHEUS.script("export"));
        cmd.current_dir(dir.path())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        no_proxy(&mut cmd);
        let mut child = cmd.spawn().expect("run goe-prometheus' export");
        let stdout = Output::drain(child.stdout.take().unwrap());
        let stderr = Output::drain(child.stderr.take().unwrap());
        Exporter {
            child,
            stdout,
            stderr,
            port,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        format!(
            "-- stdout:\n{}\n-- stderr:\n{}",
            self.stdout.text(),
            self.stderr.text()
        )
    }

    /// Fails with the exporter's own log when it died or logged an error.
    fn check_log(&mut self) {
        let err = self.stderr.text();
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("goe-prometheus exited ({status}):\n{}", self.log());
        }
        assert!(
            !err.contains(" - ERROR - ") && !err.contains("Traceback"),
            "goe-prometheus failed to poll the charger:\n{}",
            self.log()
        );
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parsed samples: `name{labels}` → value.
type Samples = BTreeMap<String, f64>;

fn parse(text: &str) -> Samples {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_owned(), v.parse::<f64>().ok()?))
        })
        .collect()
}

fn labels(extra: &str) -> String {
    let base = "device=\"charger\",name=\"conformance\"";
    if extra.is_empty() {
        format!("{{{base}}}")
    } else {
        format!("{{{base},{extra}}}")
    }
}

fn sample(s: &Samples, name: &str, extra: &str) -> f64 {
    // prometheus_client orders labels alphabetically
    let mut parts: Vec<String> = vec!["device=\"charger\"".into(), "name=\"conformance\"".into()];
    if !extra.is_empty() {
        parts.extend(extra.split(',').map(str::to_owned));
    }
    parts.sort();
    let key = format!("{name}{{{}}}", parts.join(","));
    *s.get(&key).unwrap_or_else(|| {
        panic!(
            "metric {key} missing; have {:?} (labels {})",
            s.keys().collect::<Vec<_>>(),
            labels(extra)
        )
    })
}

async fn scrape(http: &reqwest::Client, port: u16) -> Option<Samples> {
    let r = http
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .ok()?;
    if r.status() != 200 {
        return None;
    }
    Some(parse(&r.text().await.ok()?))
}

async fn goe_prometheus_exports_a_minute_of_accelerated_charging(fw: Fw) {
    let sim = Sim::start(fw, &["--speed", "60", "--start", START, "--seed", "1"]);
    sim.set(&[("amp", "6")]).await;
    sim.plug("ev-3p-11kw", 30.0).await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut exp = Exporter::start(&sim.host(), &http).await;
    if !(prints(fw, "tse") && prints(fw, "tsss")) {
        // the real unit's answer to goe's Time keys, in the exporter's log
        let want = if fw.firmware >= goe_keys::fw(60, 3) {
            " - ERROR - HTTP Error 400: Bad Request"
        } else {
            " - ERROR - 'tse'"
        };
        let guard = Instant::now() + Duration::from_secs(30);
        while !exp.stderr.text().contains(want) {
            assert!(
                Instant::now() < guard,
                "fw {}: goe-prometheus should log {want:?} like against a real unit:\n{}",
                fw.firmware,
                exp.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        return;
    }

    // a hang guard, not a timing assertion: 60 simulated seconds take one
    // real second at --speed 60
    let guard = Instant::now() + Duration::from_secs(90);
    let mut scrapes: Vec<Samples> = Vec::new();
    let mut stopped = false;
    loop {
        exp.check_log();
        assert!(
            Instant::now() < guard,
            "goe-prometheus: no minute of data within 90 s; {} scrapes\n{}",
            scrapes.len(),
            exp.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        let Some(s) = scrape(&http, exp.port).await else {
            continue;
        };
        if !s.contains_key(&format!("utc_time_epoch_seconds{}", labels(""))) {
            continue; // no poll yet
        }
        let charging = sample(&s, "car_state", "car_state=\"Charging\"") == 1.0;
        if scrapes.is_empty() && !charging {
            continue; // the car starts drawing after its wake-up delay
        }
        scrapes.push(s);
        let first = sample(&scrapes[0], "utc_time_epoch_seconds", "");
        let last = sample(scrapes.last().unwrap(), "utc_time_epoch_seconds", "");
        if !stopped && last - first >= 60.0 {
            // a minute of charging seen: stop it and watch the states change
            sim.set(&[("frc", "1")]).await;
            stopped = true;
        }
        let s = scrapes.last().unwrap();
        if stopped
            && sample(s, "car_state", "car_state=\"Complete\"") == 1.0
            && sample(
                s,
                "charging_state",
                "charging_state=\"NotChargingBecauseForceStateOff\"",
            ) == 1.0
        {
            break;
        }
    }
    exp.check_log();
    assert!(scrapes.len() >= 3, "{} scrapes", scrapes.len());

    // while charging: 3×~6 A, ~4 kW, the default reason, no error
    let charging: Vec<&Samples> = scrapes
        .iter()
        .filter(|s| sample(s, "car_state", "car_state=\"Charging\"") == 1.0)
        .collect();
    assert!(charging.len() >= 2, "{} charging scrapes", charging.len());
    for s in &charging {
        for ph in ["L1", "L2", "L3"] {
            let a = sample(s, "charging_current_A", &format!("phase=\"{ph}\""));
            assert!((5.0..=6.0).contains(&a), "{ph}: {a} A");
            let v = sample(s, "charging_voltage_V", &format!("phase=\"{ph}\""));
            assert!((220.0..=240.0).contains(&v), "{ph}: {v} V");
        }
        assert_eq!(sample(s, "allowed_current_A", ""), 6.0);
        assert!(sample(s, "charging_power_total_W", "") > 3500.0);
        assert_eq!(sample(s, "number_of_phases", ""), 3.0);
        assert_eq!(
            sample(s, "allowed_to_charge", "allowed_to_charge=\"yes\""),
            1.0
        );
        assert_eq!(sample(s, "charging_error", "charging_error=\"none\""), 1.0);
        assert_eq!(
            sample(
                s,
                "charging_state",
                "charging_state=\"ChargingBecauseFallbackDefault\""
            ),
            1.0
        );
        assert_eq!(
            sample(
                s,
                "time_server_sync_status",
                "time_server_sync_status=\"Completed\""
            ),
            1.0
        );
    }
    // counters: monotone, and they grew over the accelerated minute
    let series = |name: &str| -> Vec<f64> { scrapes.iter().map(|s| sample(s, name, "")).collect() };
    for name in [
        "energy_total_Wh",
        "energy_since_connected_Wh",
        "utc_time_epoch_seconds",
    ] {
        let v = series(name);
        assert!(
            v.windows(2).all(|w| w[0] <= w[1]),
            "{name} must not decrease: {v:?}"
        );
    }
    let wh = series("energy_since_connected_Wh");
    assert!(
        wh.last().unwrap() - wh[0] > 50.0,
        "a simulated minute at ~4 kW adds ~65 Wh: {wh:?}"
    );
    let utc = series("utc_time_epoch_seconds");
    assert!(utc.last().unwrap() - utc[0] >= 60.0, "{utc:?}");
    // local time is 2 h ahead (CEST)
    let s = scrapes.last().unwrap();
    let offset =
        sample(s, "local_time_epoch_seconds", "") - sample(s, "utc_time_epoch_seconds", "");
    assert!((offset - 7200.0).abs() <= 1.0, "local − utc = {offset}");
    // after frc=1
    assert_eq!(
        sample(s, "allowed_to_charge", "allowed_to_charge=\"no\""),
        1.0
    );
    assert_eq!(sample(s, "charging_power_total_W", ""), 0.0);
}

per_firmware!(goe_prometheus_exports_a_minute_of_accelerated_charging,);

/// The accelerated minute on the 2021 key table the client was written for.
#[tokio::test]
async fn goe_prometheus_exports_a_minute_of_accelerated_charging_on_051_4() {
    goe_prometheus_exports_a_minute_of_accelerated_charging(firmware("051.4")).await
}
