//! The `goe-charger` command's errors name their cause: `sim` against a closed
//! port says "connection refused", an unknown `sim` action is refused before
//! anything is sent, a taken port says that another goe-charger may be running,
//! `--help` describes today's charger, and no error prints a stack trace even
//! with `RUST_BACKTRACE=1`.

mod common;

use common::{BIN, wait_timeout};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// `goe-charger ARGS…` with backtraces switched on; its output once it exits
/// (a hang guard of 60 s, not a timing assertion).
fn run_bt(args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1")
        .env_remove("GOE_HOST")
        .env_remove("GOE_LISTEN")
        .env_remove("GOE_DATA_DIR")
        .env_remove("GOE_MQTT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn goe-charger");
    if wait_timeout(&mut child, Duration::from_secs(60)).is_none() {
        let _ = child.kill();
        panic!("goe-charger {args:?} did not exit");
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.to_lowercase().contains("backtrace"),
        "{args:?} printed a stack trace:\n{stderr}"
    );
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn sim_against_a_closed_port_says_connection_refused() {
    let host = format!("127.0.0.1:{}", closed_port());
    for args in [
        vec!["sim", "--host", host.as_str(), "state"],
        vec!["sim", "--host", host.as_str(), "plug", "car=ev-1p-16a"],
    ] {
        let out = run_bt(&args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out),
            format!(
                "Error: cannot reach goe-charger at {host}: connection refused (is goe-charger running there? --host or GOE_HOST names it)\n"
            ),
            "{args:?}"
        );
    }
}

#[test]
fn an_unknown_sim_action_is_refused_without_a_request() {
    // a listener that must see no connection
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let out = run_bt(&["sim", "--host", &host, "bogus", "x=1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "Error: unknown action \"bogus\"; known actions: state, cars, plug, unplug, rfid, button, advance, clock, grid, battery, fault, temperature, legacy-access, fleet\n"
    );
    assert_eq!(out.stdout, b"");
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "goe-charger sim contacted the charger for an unknown action"
    );
}

#[test]
fn help_describes_todays_charger() {
    let out = run_bt(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(!help.contains("later"), "{help}");
    assert!(!help.contains("goe_charger::"), "{help}");
    let about = help.lines().next().unwrap_or("");
    for api in ["HTTP API v2", "WebSocket", "MQTT", "API v1"] {
        assert!(about.contains(api), "{about}");
    }
    for sub in ["sim", "run-scenario"] {
        let out = run_bt(&[sub, "--help"]);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(!help.contains("goe_charger::"), "{sub}: {help}");
    }
}

#[test]
fn a_taken_port_says_another_goe_charger_may_be_running() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    for extra in [vec![], vec!["--chargers", "2"]] {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--listen",
            addr.as_str(),
            "--data-dir",
            dir.path().to_str().unwrap(),
        ];
        args.extend(extra.iter().copied());
        let out = run_bt(&args);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", stderr(&out));
        assert_eq!(
            stderr(&out)
                .lines()
                .filter(|l| l.starts_with("Error: "))
                .collect::<Vec<_>>(),
            [format!(
                "Error: cannot listen on {addr}: the address is in use: another goe-charger (or another program) may be running there; stop it or choose another port with --listen (port 0 picks a free one)"
            )],
            "{extra:?}: {}",
            stderr(&out)
        );
        assert_eq!(out.stdout, b"", "{extra:?}");
    }
}

#[test]
fn a_start_up_error_is_one_line_without_a_trace() {
    // anyhow's `{:?}` would print "Caused by:" and, with RUST_BACKTRACE, a trace
    let dir = tempfile::tempdir().unwrap();
    let out = run_bt(&[
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--clock",
        "manual",
        "--speed",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "Error: --speed applies to --clock real; a manual clock moves only when advanced\n"
    );
}

#[test]
fn an_unknown_firmware_is_refused_with_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_bt(&[
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--firmware",
        "057.0",
    ]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let err = stderr(&out);
    assert!(
        err.contains("unknown firmware \"057.0\": known firmware versions are 051.4, 056.2, 060.5"),
        "{err}"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "nothing written"
    );
}
