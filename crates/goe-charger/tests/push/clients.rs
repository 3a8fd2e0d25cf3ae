//! Real clients from PyPI, pinned, each run from its own venv by the driver
//! scripts in `tests/clients/`: `wattpilot` 0.2 over the WebSocket API and
//! `goecharger` 0.1.0 over API v1. A client failure fails the test and shows
//! the client's own output.

use crate::common::{Charger, SERIAL};
use crate::support::*;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long one client run may take (a hang guard).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(90);

fn wattpilot() -> PathBuf {
    venv_python("GOE_VENV_WATTPILOT", "wattpilot", "wattpilot==0.2")
}

fn goecharger_v1() -> PathBuf {
    venv_python(
        "GOE_VENV_GOECHARGER_V1",
        "goecharger-v1",
        "goecharger==0.1.0",
    )
}

/// Runs `python tests/clients/<script> args…`; returns the JSON of its last
/// stdout line. Panics with everything the client printed when it fails.
async fn run_client(python: PathBuf, script: &str, args: Vec<String>) -> Value {
    let script_path = crate_dir().join("tests/clients").join(script);
    let shown = format!(
        "{} {} {}",
        python.display(),
        script_path.display(),
        args.join(" ")
    );
    tokio::task::spawn_blocking(move || {
        let out_file = tempfile::NamedTempFile::new().expect("tempfile");
        let err_file = tempfile::NamedTempFile::new().expect("tempfile");
        let mut cmd = Command::new(&python);
        cmd.arg(&script_path)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(out_file.reopen().unwrap())
            .stderr(err_file.reopen().unwrap())
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost");
        for var in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
            cmd.env_remove(var);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
        let status = crate::common::wait_timeout(&mut child, CLIENT_TIMEOUT);
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let stdout = std::fs::read_to_string(out_file.path()).unwrap_or_default();
        let stderr = std::fs::read_to_string(err_file.path()).unwrap_or_default();
        let report = |why: &str| -> ! {
            panic!("client {why}: {shown}\n--- client stdout ---\n{stdout}\n--- client stderr ---\n{stderr}")
        };
        match status {
            None => report(&format!("hung for {CLIENT_TIMEOUT:?} and was killed")),
            Some(s) if !s.success() => report(&format!("failed ({s})")),
            Some(_) => {}
        }
        let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
        serde_json::from_str(last).unwrap_or_else(|e| report(&format!("printed no JSON result ({e})")))
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wattpilot_client_authenticates_reads_and_sets_over_the_websocket() {
    let python = wattpilot();
    let charger = Charger::fresh_with(&MANUAL_2021);
    let api = charger.api();
    api.set_ok(&[("pass", "\"Wattpilot-pw 1\"")]).await;
    let host = format!("127.0.0.1:{}", charger.port);

    let out = run_client(
        python.clone(),
        "wattpilot_client.py",
        vec![
            host.clone(),
            "Wattpilot-pw 1".into(),
            "set".into(),
            "10".into(),
        ],
    )
    .await;
    assert_eq!(out["version"], "0.2", "{out}");
    assert_eq!(out["serial"], SERIAL, "{out}");
    assert_eq!(out["manufacturer"], "go-e", "{out}");
    assert_eq!(out["protocol"], 2, "{out}");
    assert_eq!(out["secured"], true, "{out}");
    assert_eq!(
        Some(&out["firmware"]),
        api.value("fwv").await.as_ref(),
        "{out}"
    );
    assert_eq!(out["amp_before"], 16, "{out}");
    let readable = readable_keys(crate::common::FW_2021).len() as u64;
    assert_eq!(
        out["props"], readable,
        "every readable key reached the client: {out}"
    );
    assert_eq!(out["response"]["success"], true, "{out}");
    assert_eq!(out["response"]["requestId"], 1, "{out}");
    assert_eq!(out["response"]["status"], json!({"amp": 10}), "{out}");
    assert_eq!(out["amp_after"], 10, "{out}");
    assert_eq!(
        api.value("amp").await,
        Some(json!(10)),
        "the client's write must be applied"
    );

    let out = run_client(
        python,
        "wattpilot_client.py",
        vec![host, "not the password".into(), "wrong".into()],
    )
    .await;
    assert_eq!(out["connected"], false, "{out}");
    assert_eq!(
        out["types"],
        json!(["hello", "authRequired", "authError"]),
        "{out}"
    );
    assert_eq!(api.value("amp").await, Some(json!(10)));
    assert_eq!(api.value("wccw").await, Some(json!(0)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn goecharger_v1_client_reads_and_sets_over_api_v1() {
    let python = goecharger_v1();
    let charger = Charger::fresh_with(&MANUAL);
    let api = charger.api();
    let host = format!("127.0.0.1:{}", charger.port);

    // hla=false: /status is 404, which this client maps to an unknown state
    let out = run_client(
        python.clone(),
        "goecharger_v1_client.py",
        vec![host.clone(), "status".into()],
    )
    .await;
    assert_eq!(out["version"], "0.1.0", "{out}");
    assert_eq!(out["status"]["car_status"], "unknown", "{out}");

    api.set_ok(&[("hla", "true")]).await;
    let out = run_client(python, "goecharger_v1_client.py", vec![host, "set".into()]).await;
    let st = &out["status"];
    assert_eq!(st["serial_number"], SERIAL, "{out}");
    assert_eq!(st["car_status"], "Charger ready, no vehicle", "{out}");
    assert_eq!(st["charger_max_current"], 16, "{out}");
    assert_eq!(st["charger_absolute_max_current"], 16, "{out}");
    assert_eq!(st["charger_err"], "OK", "{out}");
    assert_eq!(st["allow_charging"], "on", "{out}");
    assert_eq!(st["wifi"], "connected", "{out}");
    assert_eq!(
        Some(&st["firmware"]),
        api.value("fwv").await.as_ref(),
        "{out}"
    );
    // whole volts (v1 `nrg`), the idle voltage the profile prints (manual clock: unchanged)
    let nrg = api.value("nrg").await.expect("nrg");
    let volts = nrg[0].as_f64().expect("nrg[0]").round() as i64;
    assert_eq!(st["u_l1"], volts, "{out}");
    assert_eq!(st["timezone_offset"], 1, "{out}");
    assert_eq!(out["max_current"]["charger_max_current"], 10, "{out}");
    assert_eq!(out["charge_limit"]["charge_limit"], 5.0, "{out}");
    assert_eq!(out["status_after"]["charger_max_current"], 10, "{out}");

    let v2 = api.status_filter("amp,lbr,dwo").await;
    assert_eq!(v2.get("amp"), Some(&json!(10)), "{}", v2.raw);
    assert_eq!(v2.get("lbr"), Some(&json!(100)), "{}", v2.raw);
    assert!(
        v2.get("dwo").and_then(Value::as_f64) == Some(5000.0),
        "setChargeLimit(5.0) is 5 kWh: {}",
        v2.raw
    );
}
