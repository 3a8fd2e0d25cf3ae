//! `goe record` against a real `goe-charger` on 127.0.0.1 (manual clock,
//! moved through the control API): the trace's header, full status and
//! change lines, secrets, `--redact`, the ways a recording ends, and `jq`.

mod common;

use common::{HANG_GUARD, Server, command};
use goe_trace::{Event, Trace, Transport};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A charger of the default firmware on a manual clock.
fn manual_server() -> Server {
    Server::start_with(
        goe_keys::default_profile(),
        goe_charger::clock::SimClock::manual(goe_charger::clock::host_now()),
    )
}

/// `POST path` to the server (the control API); the response body.
fn post(server: &Server, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(HANG_GUARD)).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{path}: {response}");
    response
}

/// Plugs a car and lets three simulated seconds pass: `car` becomes 2.
fn plug_and_charge(server: &Server) {
    post(server, "/sim/plug");
    post(server, "/sim/advance?seconds=3");
}

/// Secrets written to the charger that no trace may contain.
const SECRETS: &[&str] = &["pw-of-the-unit", "wifi-key-4711", "mqtt-pw-99"];

/// Sets a password, a Wi-Fi with its key and name, and a broker URL with a password.
fn with_secrets(server: &Server) {
    // the charger hashes the password (PBKDF2): generous on a busy machine
    server
        .goe(&["--timeout", "60s", "set", "pass=pw-of-the-unit"])
        .ok();
    server
        .goe(&[
            "--timeout",
            "60s",
            "set",
            r#"wifis=[{"ssid":"home-net-name","key":"wifi-key-4711"}]"#,
            "mcu=mqtt://me:mqtt-pw-99@10.1.2.3:1883",
        ])
        .ok();
}

fn trace_path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

/// `goe record HOST ARGS…` started in the background (stderr captured).
fn spawn_record(server: &Server, args: &[&str]) -> Child {
    command()
        .arg("record")
        .arg(server.host())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn goe record")
}

/// Waits until `file` holds a line satisfying `pred` (a hang guard, not a timing assertion).
#[track_caller]
fn wait_for_line(file: &Path, pred: impl Fn(&str) -> bool) {
    let until = Instant::now() + HANG_GUARD;
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if text.lines().any(&pred) {
            return;
        }
        assert!(Instant::now() < until, "no such line in the trace:\n{text}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for the process to end by itself; exit code, stderr.
#[track_caller]
fn finish(mut child: Child) -> (i32, String) {
    let until = Instant::now() + HANG_GUARD;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code().unwrap_or(-1), err);
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("goe record did not end");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_trace(file: &Path) -> (String, Trace) {
    let text = std::fs::read_to_string(file).unwrap();
    let trace = Trace::parse(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"));
    (text, trace)
}

/// Whether some change line sets `car` to `state`.
fn car_became(trace: &Trace, state: u8) -> bool {
    trace.events.iter().any(|e| match e {
        Event::Delta(d) => d.changes.get("car") == Some(&Value::from(state)),
        _ => false,
    })
}

/// `jq -c . FILE` reads every line.
#[track_caller]
fn jq_reads(file: &Path, lines: usize) {
    let out = std::process::Command::new("jq")
        .arg("-c")
        .arg(".")
        .arg(file)
        .output()
        .expect("jq is needed by the tests (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), lines, "{text}");
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert!(v["type"].is_string(), "{line}");
    }
}

#[test]
fn polling_records_the_status_and_each_change_until_ctrl_c() {
    let server = manual_server();
    with_secrets(&server);
    let api: Value = server.goe(&["status", "--json"]).json();
    let dir = tempdir();
    let file = trace_path(&dir, "poll.trace");
    let child = spawn_record(&server, &["-o", file.to_str().unwrap(), "--every", "50ms"]);
    wait_for_line(&file, |l| l.starts_with("{\"type\":\"status\""));
    plug_and_charge(&server);
    wait_for_line(&file, |l| {
        l.starts_with("{\"type\":\"delta\"") && l.contains("\"car\":2")
    });
    // Ctrl-C: the recording ends normally, the file is a valid trace
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let (code, stderr) = finish(child);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "", "no progress line when stderr is not a terminal");
    let (text, trace) = read_trace(&file);
    assert!(text.ends_with('\n'));
    assert!(trace.warnings.is_empty());
    // the header
    let h = &trace.header;
    assert_eq!((h.format.as_str(), h.version), ("goe-trace", 1));
    assert_eq!(h.transport, Transport::Poll);
    assert_eq!(h.interval_ms, Some(50));
    assert_eq!(h.source, server.host());
    assert_eq!(h.serial.as_deref(), Some("012345"));
    assert_eq!(h.fwv.as_deref(), api["fwv"].as_str());
    assert!(h.tool.starts_with("goe "), "{}", h.tool);
    assert!(h.redactions.is_empty());
    assert!(h.started.ends_with('Z'), "{}", h.started);
    // the full status is /api/status, in its order
    let status = Value::Object(trace.status.clone());
    let api_keys: Vec<&String> = api.as_object().unwrap().keys().collect();
    let trace_keys: Vec<&String> = trace.status.keys().collect();
    assert_eq!(trace_keys, api_keys);
    let mut api_masked = api.clone();
    api_masked["cak"] = "********".into();
    assert_eq!(status.to_string(), api_masked.to_string());
    // the car's state change is a change line
    assert!(car_became(&trace, 2), "{text}");
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} in the trace:\n{text}");
    }
    // the cloud API key the API prints in clear: masked
    let cak = api["cak"].as_str().unwrap();
    assert_eq!(cak.len(), 32, "{cak}");
    assert!(!text.contains(cak), "the cloud token in the trace");
    assert_eq!(trace.status["cak"], "********");
    jq_reads(&file, text.lines().count());
}

#[test]
fn websocket_records_pushed_changes_with_the_password() {
    let server = manual_server();
    with_secrets(&server);
    let dir = tempdir();
    let file = trace_path(&dir, "ws.trace");
    let mut cmd = command();
    cmd.args(["--timeout", "60s", "record", &server.host()])
        .args(["-o", file.to_str().unwrap(), "--count", "1"])
        .env("GOE_PASSWORD", "pw-of-the-unit")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // plugged before: the recording's one change is the simulated second after it
    post(&server, "/sim/plug");
    let child = cmd.spawn().unwrap();
    wait_for_line(&file, |l| l.starts_with("{\"type\":\"status\""));
    post(&server, "/sim/advance?seconds=1");
    let (code, stderr) = finish(child);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
    let (text, trace) = read_trace(&file);
    assert_eq!(trace.header.transport, Transport::Ws, "{text}");
    assert_eq!(trace.header.interval_ms, None);
    assert_eq!(trace.events.len(), 1, "--count 1: one change line\n{text}");
    // the second after the plug-in: waiting for the car (3)
    assert!(car_became(&trace, 3), "{text}");
    assert_eq!(trace.status["car"], 1, "plugged, not yet a second later");
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} in the trace:\n{text}");
    }
    jq_reads(&file, 3);
}

#[test]
fn redact_replaces_the_address_wifi_names_and_addresses() {
    let server = manual_server();
    with_secrets(&server);
    let plain: String = server.goe(&["status", "--json"]).ok().to_owned();
    // what the status shows without --redact
    for shown in [
        "home-net-name",
        "10.1.2.3",
        "goe-sim",
        "127.0.0.1",
        "02:00:00:00:00:01",
    ] {
        assert!(plain.contains(shown), "{shown} not in the status: {plain}");
    }
    let dir = tempdir();
    let file = trace_path(&dir, "redacted.trace");
    let child = spawn_record(
        &server,
        &[
            "-o",
            file.to_str().unwrap(),
            "--redact",
            "--duration",
            "300ms",
            "--every",
            "50ms",
        ],
    );
    let (code, stderr) = finish(child);
    assert_eq!(code, 0, "--duration ends the recording by itself: {stderr}");
    let (text, trace) = read_trace(&file);
    assert_eq!(trace.header.source, "redacted");
    assert_eq!(trace.header.redactions, ["host", "ssid", "ip", "mac"]);
    for hidden in [
        "home-net-name",
        "goe-sim",
        "10.1.2.3",
        "127.0.0.1",
        "02:00:00:00:00:01",
        &server.host(),
    ] {
        assert!(!text.contains(hidden), "{hidden} in the trace:\n{text}");
    }
    assert!(text.contains("redacted-ssid"), "{text}");
    assert!(text.contains("192.0.2.1"), "{text}");
    assert_eq!(trace.status["wifis"][0]["key"], true);
    // keys are all still there, in order
    let api: Value = serde_json::from_str(&plain).unwrap();
    let api_keys: Vec<&String> = api.as_object().unwrap().keys().collect();
    assert_eq!(trace.status.keys().collect::<Vec<_>>(), api_keys);
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} in the trace:\n{text}");
    }
    jq_reads(&file, text.lines().count());
}

#[test]
fn dash_writes_the_trace_to_stdout() {
    let server = manual_server();
    let run = server.goe(&[
        "record",
        "-o",
        "-",
        "--duration",
        "200ms",
        "--every",
        "50ms",
    ]);
    let out = run.ok();
    let trace = Trace::parse(out).unwrap();
    assert_eq!(trace.header.source, server.host());
    assert_eq!(trace.status["sse"], "012345");
    assert_eq!(run.stderr, "");
}

#[test]
fn unreachable_charger_is_an_error_and_writes_no_file() {
    let dir = tempdir();
    let file = trace_path(&dir, "none.trace");
    let host = format!("127.0.0.1:{}", common::closed_port());
    let run = common::goe(&[
        "record",
        &host,
        "-o",
        file.to_str().unwrap(),
        "--count",
        "1",
    ]);
    run.code(3);
    assert!(run.stderr.contains("goe: error:"), "{}", run.stderr);
    assert!(!file.exists());
}

#[test]
fn a_terminal_shows_a_progress_line() {
    let server = manual_server();
    let dir = tempdir();
    let file = trace_path(&dir, "tty.trace");
    // `script` (util-linux, Debian's essential bsdutils) gives goe a terminal
    let line = format!(
        "{} record {} -o {} --duration 1500ms --every 100ms",
        common::GOE,
        server.host(),
        file.display()
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("GOE_HOST")
        .env_remove("GOE_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("`script` (util-linux) is needed to give goe a terminal");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("recording 012345 (60.5): 0 changes, 0s"),
        "{shown:?}"
    );
    assert!(
        shown.contains("recording 012345 (60.5): 0 changes, 1s"),
        "the elapsed time moves on: {shown:?}"
    );
    let (_, trace) = read_trace(&file);
    assert!(trace.events.is_empty(), "the manual clock stood still");
}

#[test]
fn an_output_that_cannot_be_created_is_named() {
    let server = manual_server();
    let run = server.goe(&["record", "-o", "/nonexistent-dir/x.trace", "--count", "1"]);
    run.code(1);
    assert!(
        run.stderr.contains("/nonexistent-dir/x.trace"),
        "{}",
        run.stderr
    );
}

#[test]
fn help_explains_the_trace_with_examples() {
    let run = common::goe(&["record", "--help"]);
    let help = run.ok();
    assert!(
        help.contains("Examples:\n  goe record 192.168.1.50 -o charger.trace"),
        "{help}"
    );
    assert!(help.contains("docs/trace-format.md"), "{help}");
    // -o is required
    let run = common::goe(&["record", "127.0.0.1:1"]);
    run.code(2);
    assert!(run.stderr.contains("--output <FILE>"), "{}", run.stderr);
}

#[test]
fn a_wrong_password_warns_and_polls() {
    let server = manual_server();
    server
        .goe(&["--timeout", "60s", "set", "pass=pw-of-the-unit"])
        .ok();
    let out = server.goe(&[
        "--timeout",
        "60s",
        "record",
        "-o",
        "-",
        "--password",
        "wrong",
        "--duration",
        "2s",
        "--every",
        "100ms",
    ]);
    let text = out.ok();
    assert!(
        out.stderr.contains("refused the password")
            && out.stderr.contains("polling every 100ms instead"),
        "{}",
        out.stderr
    );
    let trace = Trace::parse(text).unwrap();
    assert_eq!(trace.header.transport, Transport::Poll);
    assert_eq!(trace.header.interval_ms, Some(100));
}

/// `GET path` of `addr`: the body.
fn get_body(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(HANG_GUARD)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{path}: {response}");
    response.split_once("\r\n\r\n").unwrap().1.to_owned()
}

/// A status body without the keys a replay cannot reproduce: the clock keys
/// and the time keys derived from them (the replay's own clock) and what a trace holds masked (`cak`, `dll`).
fn comparable(body: &str) -> String {
    let mut o: serde_json::Map<String, Value> = serde_json::from_str(body).unwrap();
    for key in ["rbt", "utc", "loc", "inva", "tab", "lto", "cak", "dll"] {
        o.shift_remove(key);
    }
    Value::Object(o).to_string()
}

/// What `goe record` wrote, replayed (`goe_charger::replay`, what
/// `goe-charger --replay` runs) past the trace's last change: the live
/// charger's `/api/status` at the end of the recording, key for key and
/// value for value, clock keys and masked keys aside.
#[test]
fn a_recording_replays_like_the_recorded_charger() {
    let server = manual_server();
    let dir = tempdir();
    let file = trace_path(&dir, "bug.trace");
    let child = spawn_record(&server, &["-o", file.to_str().unwrap(), "--every", "50ms"]);
    wait_for_line(&file, |l| l.starts_with("{\"type\":\"status\""));
    plug_and_charge(&server);
    post(&server, "/sim/advance?seconds=60");
    let live = comparable(&get_body(server.addr, "/api/status"));
    // until the trace has seen the final state (the manual clock stands still now)
    let until = Instant::now() + HANG_GUARD;
    loop {
        let (_, trace) = read_trace(&file);
        let mut state = trace.status.clone();
        for event in &trace.events {
            if let Event::Delta(d) = event {
                d.apply(&mut state);
            }
        }
        if comparable(&Value::Object(state).to_string()) == live {
            break;
        }
        assert!(
            Instant::now() < until,
            "the trace never reached the live state"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(finish(child).0, 0);
    let (_, trace) = read_trace(&file);
    let last_t = trace.events.iter().filter_map(Event::t).max().unwrap_or(0);
    assert!(car_became(&trace, 2));

    let path = file.clone();
    let replaying = Server::start_device(move |data| {
        let mut start = goe_charger::replay::Start::prepare(Some(&path)).unwrap();
        let (mut firmware, mut serial) = (goe_keys::default_profile(), None);
        let mut data_dir = data.to_owned();
        start
            .adjust(&mut firmware, &mut serial, &mut data_dir, true)
            .unwrap();
        let clock = goe_charger::clock::SimClock::manual(goe_charger::clock::host_now());
        let device =
            goe_charger::device::Device::open_on(firmware, &data_dir, serial.as_deref(), clock, 1)
                .unwrap();
        start.attach(device)
    });
    // at the start the replay is the trace's first status
    let first = comparable(&get_body(replaying.addr, "/api/status"));
    assert_eq!(
        first,
        comparable(&Value::Object(trace.status.clone()).to_string())
    );
    assert_ne!(first, live, "the recording saw changes");
    post(
        &replaying,
        &format!("/sim/advance?seconds={}", last_t as f64 / 1000.0 + 1.0),
    );
    assert_eq!(comparable(&get_body(replaying.addr, "/api/status")), live);
}
