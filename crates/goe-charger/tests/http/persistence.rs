//! Durability: every acknowledged write to a persisted key is on disk before
//! the answer (survives `kill -9`), graceful shutdown on SIGTERM/SIGINT,
//! `kill -9` in the middle of a write burst, and a corrupt store.

use crate::common::values::{self, Expect, read_write};
use crate::common::{Api, Charger, FW_2021, Lcg, SERIAL, json_eq};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Writes a fresh value to every R/W key of the 2021 table (the charger runs
/// firmware [`FW_2021`]); returns the expectations.
async fn write_everything(api: &Api) -> Vec<(&'static str, Expect)> {
    let st = api.status().await;
    let branch = st
        .get("ocu")
        .and_then(|o| o[0].as_str())
        .unwrap_or("")
        .to_owned();
    let mut out = Vec::new();
    for def in read_write() {
        let current = st.get(def.name).cloned().unwrap_or(Value::Null);
        let w = values::fresh_value(def, &current, &branch);
        let r = api.set(&[(def.name, &w.raw)]).await;
        assert!(
            r.all_true(&[def.name]),
            "{}={}: {} {}",
            def.name,
            w.raw,
            r.status,
            r.body
        );
        out.push((def.name, w.expect));
    }
    values::mirror_per_card_keys(&mut out);
    out
}

/// After a restart: persisted keys show what was written, the others their
/// factory value on the charger's firmware [`FW_2021`] (`utc` follows the
/// clock and is skipped).
async fn check_after_restart(api: &Api, written: &[(&'static str, Expect)]) -> Vec<String> {
    let profile = goe_keys::profile(FW_2021).unwrap();
    let st = api.status().await;
    let mut failures = Vec::new();
    for (name, expect) in written {
        let (_, def) = profile.key(name).unwrap();
        if *name == "utc" {
            continue;
        }
        if def.persisted() {
            if let Err(e) = expect.check(st.get(name)) {
                failures.push(format!("persisted {name}: {e}"));
            }
        } else {
            let want = values::default_shown(profile, name, SERIAL);
            let got = st.get(name).cloned().unwrap_or(Value::Null);
            if !json_eq(&want, &got) {
                failures.push(format!(
                    "not persisted {name}: want factory value {want} after restart, got {got}"
                ));
            }
        }
    }
    failures
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let mut ch = Charger::start_on(dir.path(), FW_2021);
    let written = write_everything(&ch.api()).await;
    ch.api().set_ok(&[("pass", "\"pw-before-kill\"")]).await;
    ch.kill9();
    let ch = Charger::start_on(dir.path(), FW_2021);
    let api = ch.api();
    let failures = check_after_restart(&api, &written).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(api.value("rbc").await, Some(json!(2)), "second start");
}

#[tokio::test]
async fn graceful_shutdown_on_sigterm_and_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let mut ch = Charger::start_on(dir.path(), FW_2021);
    let written = write_everything(&ch.api()).await;
    let status = ch.terminate();
    assert!(
        status.success(),
        "SIGTERM must end the charger cleanly, got {status:?}; stderr:\n{}",
        ch.stderr()
    );
    let mut ch = Charger::start_on(dir.path(), FW_2021);
    let failures = check_after_restart(&ch.api(), &written).await;
    assert!(
        failures.is_empty(),
        "after SIGTERM:\n{}",
        failures.join("\n")
    );
    assert_eq!(ch.api().value("rbc").await, Some(json!(2)));
    ch.api().set_ok(&[("fna", "\"after-sigterm\"")]).await;
    let status = ch.interrupt();
    assert!(
        status.success(),
        "SIGINT must end the charger cleanly, got {status:?}; stderr:\n{}",
        ch.stderr()
    );
    let ch = Charger::start_on(dir.path(), FW_2021);
    let st = ch.api().status_filter("rbc,fna").await;
    assert_eq!(st.get("rbc"), Some(&json!(3)));
    assert_eq!(st.get("fna"), Some(&json!("after-sigterm")));
}

/// The burst's values for write number `i`.
fn burst_values(i: i64) -> (i64, String, i64) {
    (
        if i % 2 == 0 { 6 } else { 10 },
        format!("burst-{i}"),
        i % 256,
    )
}

#[tokio::test]
async fn kill_9_during_a_write_burst_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg::new(0x600d_cafe);
    // index of the last write acknowledged in earlier rounds (-1: none yet)
    let mut last_acked = -1i64;
    let mut next = 0i64;
    let mut rbc = 0i64;
    for round in 0..4 {
        let mut ch = Charger::start_in(dir.path());
        let api = ch.api();
        rbc += 1;
        assert_eq!(
            api.value("rbc").await,
            Some(json!(rbc)),
            "round {round}: store readable, rbc counts starts"
        );
        // the previous round's outcome
        if round > 0 {
            check_burst_state(&api, last_acked, next - 1, round).await;
        }
        let acked = Arc::new(AtomicI64::new(last_acked));
        let attempted = Arc::new(AtomicI64::new(next - 1));
        let target = 5 + i64::from(rng.below(60));
        let writer = {
            let (api, acked, attempted) = (api.clone(), acked.clone(), attempted.clone());
            let start = next;
            tokio::spawn(async move {
                for i in start..start + 100_000 {
                    let (amp, fna, lbr) = burst_values(i);
                    let q = format!("amp={amp}&fna=%22{fna}%22&lbr={lbr}");
                    attempted.store(i, Ordering::SeqCst);
                    match api.try_get(&format!("/api/set?{q}")).await {
                        Ok(r)
                            if r.status == 200
                                && r.body == r#"{"amp":true,"fna":true,"lbr":true}"# =>
                        {
                            acked.store(i, Ordering::SeqCst);
                        }
                        Ok(r) if r.status == 200 || r.status == 500 => {
                            panic!("write {i} refused: {} {}", r.status, r.body)
                        }
                        // connection refused/reset: the charger is gone
                        _ => return,
                    }
                }
            })
        };
        // kill at a pseudo-random point of the burst
        while acked.load(Ordering::SeqCst) < next + target && !writer.is_finished() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let extra = rng.below(4);
        if extra > 0 {
            tokio::time::sleep(Duration::from_millis(u64::from(extra))).await;
        }
        let stopped_early = writer.is_finished();
        ch.kill9();
        if let Err(e) = writer.await
            && e.is_panic()
        {
            std::panic::resume_unwind(e.into_panic());
        }
        assert!(
            !stopped_early,
            "round {round}: the charger stopped answering during the burst; stderr:\n{}",
            ch.stderr()
        );
        last_acked = acked.load(Ordering::SeqCst);
        next = attempted.load(Ordering::SeqCst) + 1;
        eprintln!(
            "burst round {round}: killed after write #{last_acked} was acknowledged, #{} attempted",
            next - 1
        );
    }
    let ch = Charger::start_in(dir.path());
    check_burst_state(&ch.api(), last_acked, next - 1, 4).await;
}

/// Each key shows the last acknowledged write's value or that of a later
/// attempted one (the write in flight at the kill may or may not have landed).
async fn check_burst_state(api: &Api, acked: i64, attempted: i64, round: usize) {
    let st = api.status_filter("amp,fna,lbr").await;
    let allowed: Vec<i64> = (acked.max(0)..=attempted.max(acked)).collect();
    let ok = |key: &str, f: &dyn Fn(i64) -> Value| {
        let got = st.get(key).cloned().unwrap_or(Value::Null);
        assert!(
            allowed.iter().any(|&i| json_eq(&f(i), &got)),
            "round {round}: {key} = {got}; last acknowledged write #{acked}, last attempted #{attempted}"
        );
    };
    ok("fna", &|i| json!(burst_values(i).1));
    ok("lbr", &|i| json!(burst_values(i).2));
    ok("amp", &|i| json!(burst_values(i).0));
}

#[tokio::test]
async fn corrupt_store_stops_start_up_and_is_left_alone() {
    // a real store, truncated in the middle
    let real = {
        let dir = tempfile::tempdir().unwrap();
        let mut ch = Charger::start_in(dir.path());
        ch.api().set_ok(&[("fna", "\"real-store\"")]).await;
        ch.kill9();
        std::fs::read(dir.path().join("config.json")).expect("the charger keeps DIR/config.json")
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"\x00\xffthis is not json at all\x01".to_vec()),
        ("truncated", real[..real.len() / 2].to_vec()),
        ("foreign JSON", b"[1,2,3]".to_vec()),
        ("empty file", Vec::new()),
    ];
    for (what, bytes) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, &bytes).unwrap();
        match Charger::try_start(dir.path(), &[]) {
            Ok(_) => panic!("{what}: the charger started on a corrupt config.json"),
            Err(f) => {
                let status = f
                    .status
                    .unwrap_or_else(|| panic!("{what}: did not exit: {}", f.reason));
                assert!(
                    !status.success(),
                    "{what}: exit status must be non-zero, got {status:?}"
                );
                assert!(
                    f.stderr.contains("config.json"),
                    "{what}: stderr must name config.json: {}",
                    f.stderr
                );
                assert!(
                    f.stderr.contains("corrupt"),
                    "{what}: stderr must say corrupt: {}",
                    f.stderr
                );
                assert!(
                    f.stdout.is_empty(),
                    "{what}: nothing on stdout: {}",
                    f.stdout
                );
            }
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{what}: the corrupt file must be left as it was"
        );
    }
}
