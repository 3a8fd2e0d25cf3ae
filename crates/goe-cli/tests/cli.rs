//! The `goe` binary against a real `goe-charger` on 127.0.0.1: every command,
//! text and JSON output, and the error paths with their exit codes.

mod common;

use common::{Server, closed_port, goe, redact_summary};

// ---- status -------------------------------------------------------------

#[test]
fn status_summary_reads_like_a_report() {
    let server = common::shared();
    let run = server.goe(&["status"]);
    insta::assert_snapshot!("status_summary", redact_summary(run.ok()));
}

#[test]
fn status_json_is_the_full_status() {
    let server = common::shared();
    let json = server.goe(&["status", "--json"]).json();
    let object = json.as_object().expect("an object");
    assert!(object.len() > 150, "{} keys", object.len());
    assert_eq!(object["sse"], "012345");
    assert_eq!(object["car"], 1);
    // firmware order: the first keys of the default firmware's status
    let first: Vec<&str> = object.keys().take(4).map(String::as_str).collect();
    let want: Vec<&str> = goe_keys::default_profile()
        .readable_keys()
        .take(4)
        .map(|(_, d)| d.name)
        .collect();
    assert_eq!(first, want);
    assert_eq!(first, ["alw", "alwt", "acu", "adi"]);
}

#[test]
fn status_keys_table_and_json() {
    let server = common::shared();
    let run = server.goe(&["status", "amp", "frc", "lmo", "car", "tma", "fna", "dwo"]);
    insta::assert_snapshot!("status_keys_table", run.ok());
    // --json: just these keys, in the order asked for
    let json = server.goe(&["--json", "status", "frc", "amp"]).json();
    assert_eq!(json.to_string(), r#"{"frc":0,"amp":16}"#);
}

// ---- get ----------------------------------------------------------------

#[test]
fn get_prints_names_units_and_json() {
    let server = common::shared();
    assert_eq!(server.goe(&["get", "amp"]).ok(), "16 A\n");
    assert_eq!(server.goe(&["get", "car"]).ok(), "Idle (1)\n");
    assert_eq!(server.goe(&["get", "frc"]).ok(), "Neutral (0)\n");
    assert_eq!(server.goe(&["get", "fna"]).ok(), "go-eCharger\n");
    assert_eq!(
        server.goe(&["get", "--json", "fna"]).ok(),
        "\"go-eCharger\"\n"
    );
    assert_eq!(server.goe(&["get", "--json", "amp"]).ok(), "16\n");
    let nrg = server.goe(&["get", "nrg"]);
    let lines: Vec<&str> = nrg.ok().lines().collect();
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(lines[0], "total  0 W");
    assert!(
        lines[1].starts_with("L1 ") && lines[1].contains(" V  0 A  0 W  pf 0 %"),
        "{lines:?}"
    );
    assert!(lines[4].starts_with("N "), "{lines:?}");
    let raw = server.goe(&["get", "--json", "nrg"]).json();
    assert_eq!(raw.as_array().map(Vec::len), Some(16));
    let rbt = server.goe(&["get", "rbt"]);
    assert!(rbt.ok().trim_end().ends_with('s'), "{}", rbt.stdout);
    let utc = server.goe(&["get", "utc"]);
    assert!(utc.ok().trim_end().ends_with(" UTC"), "{}", utc.stdout);
}

// ---- set ----------------------------------------------------------------

#[test]
fn set_accepts_json_and_friendly_values() {
    let server = Server::start();
    let run = server.goe(&[
        "set",
        "amp=10",
        "frc=on",
        "lmo=eco",
        "psm=1p",
        "bac=neverlock",
    ]);
    insta::assert_snapshot!("set_ok", run.ok());
    let json = server
        .goe(&["--json", "status", "amp", "frc", "lmo", "psm", "bac"])
        .json();
    assert_eq!(
        json.to_string(),
        r#"{"amp":10,"frc":2,"lmo":4,"psm":1,"bac":3}"#
    );
    // strings: quoted JSON (URL-encoded with its space) or bare text
    server.goe(&["set", "fna=\"a bc\""]).ok();
    assert_eq!(server.goe(&["get", "fna"]).ok(), "a bc\n");
    server.goe(&["set", "fna=my garage & co"]).ok();
    assert_eq!(server.goe(&["get", "fna"]).ok(), "my garage & co\n");
    // enum names in any case, numbers too; null for optional keys
    server
        .goe(&["set", "lmo=NextTrip", "frc=0", "dwo=null"])
        .ok();
    assert_eq!(
        server
            .goe(&["--json", "status", "lmo", "frc", "dwo"])
            .json()
            .to_string(),
        r#"{"lmo":5,"frc":0,"dwo":null}"#
    );
    // --json: the charger's per-key answer
    let run = server.goe(&["--json", "set", "amp=12"]);
    assert_eq!(run.ok(), "{\"amp\":true}\n");
}

#[test]
fn set_never_echoes_a_password() {
    let server = Server::start();
    for args in [
        vec!["set", "pass=hunter2 secret"],
        vec!["set", "pass=\"hunter2 secret\"", "amp=10"],
    ] {
        let run = server.goe(&args);
        assert!(
            run.ok().starts_with("pass  ********  ok\n"),
            "{}",
            run.stdout
        );
        assert!(!run.stdout.contains("hunter2"), "{}", run.stdout);
        assert!(!run.stderr.contains("hunter2"), "{}", run.stderr);
    }
}

#[test]
fn partial_failure_shows_each_key_and_exits_1() {
    let server = Server::start();
    let run = server.goe(&["set", "amp=12", "alw=true"]);
    run.code(1);
    insta::assert_snapshot!("set_partial", run.stdout);
    assert_eq!(
        run.stderr,
        "goe: error: the charger refused 1 of 2 key(s)\n"
    );
    // the accepted key was applied
    assert_eq!(server.goe(&["get", "amp"]).ok(), "12 A\n");
    // the same as JSON
    let run = server.goe(&["--json", "set", "amp=13", "alw=true"]);
    run.code(1);
    assert_eq!(
        run.stdout,
        "{\"amp\":true,\"alw\":\"alw: tried to set api key without setter (true)\"}\n"
    );
}

#[test]
fn read_only_and_out_of_range_show_the_chargers_message() {
    let server = Server::start();
    let run = server.goe(&["set", "alw=true"]);
    run.code(1);
    assert_eq!(
        run.stdout,
        "alw  true  refused: alw: tried to set api key without setter (true)\n"
    );
    let run = server.goe(&["set", "amp=40"]);
    run.code(1);
    assert!(
        run.stdout
            .contains("amp: failed: Value 40 exceeds range 6 to 32 (40)"),
        "{}",
        run.stdout
    );
    let run = server.goe(&["set", "fna=ab"]);
    run.code(1);
    assert!(
        run.stdout.contains("exceeds range 4 to 64"),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_values_and_unknown_keys_are_usage_errors() {
    let server = common::shared();
    let run = server.goe(&["set", "lmo=turbo"]);
    run.code(2);
    assert_eq!(
        run.stderr,
        "goe: error: bad value for lmo: \"turbo\": expected one of default|basic (3), eco|awattar (4), nexttrip|next-trip|automaticstop (5) or a number\n"
    );
    let run = server.goe(&["set", "amp=abc"]);
    run.code(2);
    assert!(run.stderr.contains("expected an integer"), "{}", run.stderr);
    let run = server.goe(&["set", "amp"]);
    run.code(2);
    assert!(run.stderr.contains("expected KEY=VALUE"), "{}", run.stderr);
    let run = server.goe(&["get", "ampp"]);
    run.code(2);
    assert_eq!(
        run.stderr,
        "goe: error: unknown key ampp (did you mean amp?)\ngoe: hint: `goe keys PATTERN` searches the keys\n"
    );
    let run = server.goe(&["status", "amp", "zzzzzz"]);
    run.code(2);
    assert!(run.stderr.contains("unknown key zzzzzz"), "{}", run.stderr);
    let run = server.goe(&["get", "pass"]);
    run.code(2);
    assert!(run.stderr.contains("write-only"), "{}", run.stderr);
    // nothing was sent: the values are unchanged
    assert_eq!(server.goe(&["get", "lmo"]).ok(), "Default (3)\n");
}

// ---- reaching the charger ----------------------------------------------------

#[test]
fn unreachable_host_exits_3() {
    let host = format!("127.0.0.1:{}", closed_port());
    for args in [
        vec!["status"],
        vec!["get", "amp"],
        vec!["set", "amp=10"],
        vec!["export", "--count", "1"],
        vec!["watch", "--count", "1"],
    ] {
        let mut all = vec!["--host", host.as_str()];
        all.extend(args.iter().copied());
        let run = goe(&all);
        run.code(3);
        assert_eq!(
            run.stderr,
            format!(
                "goe: error: cannot reach the charger at {host}: connection refused\ngoe: hint: check --host / GOE_HOST and that the charger is on the network\n"
            ),
            "{args:?}"
        );
        assert_eq!(run.stdout, "", "{args:?}");
    }
}

#[test]
fn disabled_http_api_is_named() {
    let server = Server::start();
    server.goe(&["set", "hai=false"]).ok();
    for args in [vec!["status"], vec!["get", "amp"], vec!["set", "hai=true"]] {
        let run = server.goe(&args);
        run.code(3);
        assert_eq!(
            run.stderr,
            format!(
                "goe: error: the charger at {} answered 404: HTTP API v2 disabled (hai=false; enable the local HTTP API v2 in the go-e app)\n",
                server.host()
            ),
            "{args:?}"
        );
    }
}

#[test]
fn host_from_the_environment_or_an_error() {
    let server = common::shared();
    let out = common::command()
        .env("GOE_HOST", server.host())
        .args(["get", "amp"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "16 A\n");
    // a URL works too
    let url = format!("http://{}/", server.host());
    assert_eq!(goe(&["--host", &url, "get", "amp"]).ok(), "16 A\n");
    let run = goe(&["status"]);
    run.code(2);
    assert_eq!(
        run.stderr,
        "goe: error: no charger given: use --host HOST (or set GOE_HOST), e.g. --host 192.168.1.50\n"
    );
    let run = goe(&["--host", "http://", "status"]);
    run.code(2);
    assert!(
        run.stderr.contains("invalid charger address"),
        "{}",
        run.stderr
    );
}

// ---- watch and export -----------------------------------------------------------

#[test]
fn watch_shows_changes_as_they_happen() {
    let server = Server::start();
    let watch = server.spawn(&["watch", "--every", "100ms", "--count", "300", "amp", "frc"]);
    // the first poll shows every key
    let first = [watch.line(), watch.line()];
    assert!(first[0].ends_with("  amp  16 A"), "{first:?}");
    assert!(first[1].ends_with("  frc  Neutral (0)"), "{first:?}");
    server.goe(&["set", "amp=10", "frc=on"]).ok();
    let changes = watch.until(|l| l.contains("frc  Neutral (0) → On (2)"));
    assert!(
        changes.iter().any(|l| l.ends_with("  amp  16 A → 10 A")),
        "{changes:?}"
    );
}

#[test]
fn watch_json_and_count() {
    let server = Server::start();
    let watch = server.spawn(&[
        "--json", "watch", "--every", "100ms", "--count", "300", "amp",
    ]);
    let first: serde_json::Value = serde_json::from_str(&watch.line()).unwrap();
    assert_eq!(first["changes"], serde_json::json!({"amp": 16}));
    assert!(first["time"].as_str().unwrap().ends_with('Z'));
    server.goe(&["set", "amp=8"]).ok();
    let next: serde_json::Value = serde_json::from_str(&watch.line()).unwrap();
    assert_eq!(next["changes"], serde_json::json!({"amp": 8}));
    // --count ends the watch by itself
    let watch = server.spawn(&["watch", "--every", "50ms", "--count", "3", "amp"]);
    assert_eq!(watch.wait(), 0);
}

/// A charger whose password is `secret` (set through the HTTP API, as the app does).
/// The 2021 firmware: the tests count WebSocket sessions with `wccw`, a key
/// the newer firmware no longer prints.
fn server_with_password() -> Server {
    let server = Server::start_on(goe_keys::profile("051.4").unwrap());
    server.goe(&["set", "pass=secret"]).ok();
    server
}

#[test]
fn watch_with_password_uses_the_websocket() {
    let server = server_with_password();
    // --count over the WebSocket: updates with a change (first: every key)
    let watch = server.spawn_capturing(
        &[
            "watch",
            "--password",
            "secret",
            "--log",
            "--count",
            "2",
            "amp",
        ],
        &[],
    );
    assert!(watch.line().ends_with("  amp  16 A"));
    // the watch is a WebSocket client of the charger
    assert_eq!(server.goe(&["--json", "get", "wccw"]).ok(), "1\n");
    server.goe(&["set", "amp=10"]).ok();
    assert!(watch.line().ends_with("  amp  16 A → 10 A"));
    let (code, stderr) = watch.wait_with_stderr();
    assert_eq!(code, 0, "{stderr:?}");
    assert!(stderr.is_empty(), "{stderr:?}");
    // the same JSON lines as polling; the password from the environment
    let watch = server.spawn_capturing(
        &["--json", "watch", "--count", "2", "amp", "frc"],
        &[("GOE_PASSWORD", "secret")],
    );
    let first: serde_json::Value = serde_json::from_str(&watch.line()).unwrap();
    assert_eq!(first["changes"], serde_json::json!({"amp": 10, "frc": 0}));
    server.goe(&["set", "frc=on"]).ok();
    let next: serde_json::Value = serde_json::from_str(&watch.line()).unwrap();
    assert_eq!(next["changes"], serde_json::json!({"frc": 2}));
    let (code, stderr) = watch.wait_with_stderr();
    assert_eq!((code, stderr), (0, vec![]));
}

#[test]
fn watch_with_a_wrong_password_warns_and_polls() {
    let server = server_with_password();
    let watch = server.spawn_capturing(
        &[
            "watch",
            "--password",
            "wrong",
            "--log",
            "--every",
            "100ms",
            "--count",
            "300",
            "amp",
        ],
        &[],
    );
    assert_eq!(
        watch.err_line(),
        format!(
            "goe: warning: the charger at {} refused the password (WebSocket authError); polling every 100ms instead",
            server.host()
        )
    );
    assert!(watch.line().ends_with("  amp  16 A"));
    server.goe(&["set", "amp=8"]).ok();
    watch.until(|l| l.ends_with("  amp  16 A → 8 A"));
    // no WebSocket client stayed connected
    assert_eq!(server.goe(&["--json", "get", "wccw"]).ok(), "0\n");
}

/// A charger without a WebSocket API on 127.0.0.1 (like older firmware):
/// `/ws` answers 404, `/api/status` answers `{"amp":16}`. Serves until the test ends.
fn charger_without_websocket() -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            let _ = reader.read_line(&mut request);
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let (status, body) = if request.starts_with("GET /api/status") {
                ("200 OK", r#"{"amp":16}"#)
            } else {
                ("404 Not Found", "This URI does not exist")
            };
            // one write: `write!` on a bare socket sends each piece of the
            // format on its own, and tungstenite keeps only the body bytes
            // that arrived with the head (a 404 body in a later segment was
            // lost now and then)
            let response = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    host
}

#[test]
fn watch_without_a_websocket_warns_and_polls() {
    let host = charger_without_websocket();
    let run = goe(&[
        "--host",
        &host,
        "watch",
        "--password",
        "x",
        "--log",
        "--count",
        "1",
        "amp",
    ]);
    assert!(run.ok().ends_with("  amp  16 A\n"), "{}", run.stdout);
    assert_eq!(
        run.stderr,
        format!(
            "goe: warning: cannot use the WebSocket of the charger at {host}: HTTP 404: no WebSocket API at ws://{host}/ws (This URI does not exist); polling every 1s instead\n"
        )
    );
}

#[test]
fn export_csv_for_spreadsheets() {
    let server = common::shared();
    let run = server.goe(&[
        "export", "--every", "50ms", "--count", "3", "amp", "car", "nrg", "fna",
    ]);
    let lines: Vec<&str> = run.ok().lines().collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(
        lines[0],
        "time,amp,car,car.name,nrg.U1,nrg.U2,nrg.U3,nrg.UN,nrg.I1,nrg.I2,nrg.I3,nrg.P1,nrg.P2,nrg.P3,nrg.PN,nrg.P,nrg.pf1,nrg.pf2,nrg.pf3,nrg.pfN,fna"
    );
    for row in &lines[1..] {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), 21, "{row}");
        assert!(cells[0].ends_with('Z') && cells[0].len() == 24, "{row}");
        assert_eq!(&cells[1..4], ["16", "1", "Idle"], "{row}");
        assert_eq!(cells[20], "go-eCharger", "{row}");
    }
    // default keys
    let run = server.goe(&["export", "--count", "1"]);
    let header = run.ok().lines().next().unwrap().to_owned();
    assert!(
        header.starts_with("time,car,car.name,alw,acu,amp,"),
        "{header}"
    );
}

#[test]
fn export_json_lines_for_scripts() {
    let server = common::shared();
    let run = server.goe(&[
        "export", "--format", "jsonl", "--every", "50ms", "--count", "2", "amp", "car", "nrg",
    ]);
    let lines: Vec<&str> = run.ok().lines().collect();
    assert_eq!(lines.len(), 2);
    for line in lines {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let keys: Vec<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["time", "amp", "car", "nrg"]);
        assert_eq!(row["amp"], 16);
        assert_eq!(row["nrg"].as_array().map(Vec::len), Some(16));
    }
    // --json alone picks JSON lines too
    let run = server.goe(&["--json", "export", "--count", "1", "amp"]);
    let row: serde_json::Value = serde_json::from_str(run.ok().trim_end()).unwrap();
    assert_eq!(row["amp"], 16);
}

// ---- keys, completions, help ------------------------------------------------

#[test]
fn keys_documents_the_table() {
    insta::assert_snapshot!("keys_frc", goe(&["keys", "frc"]).ok());
    insta::assert_snapshot!("keys_lmo", goe(&["keys", "LMO"]).ok());
    insta::assert_snapshot!("keys_sch", goe(&["keys", "sch_*"]).ok());
    let all = goe(&["keys"]);
    assert_eq!(all.ok().lines().count(), goe_keys::KEYS.len() + 1);
    let json = goe(&["keys", "--json", "car"]).json();
    assert_eq!(json[0]["key"], "car");
    assert_eq!(json[0]["access"], "R");
    assert_eq!(json[0]["enums"]["2"], "Charging");
    let current = goe(&["keys", "current"]);
    assert!(
        current.ok().lines().any(|l| l.starts_with("amp ")),
        "{}",
        current.stdout
    );
    let none = goe(&["keys", "zzzzzz"]);
    none.code(2);
    assert_eq!(none.stderr, "goe: error: no key matches \"zzzzzz\"\n");
}

#[test]
fn completions_for_three_shells() {
    let bash = goe(&["completions", "bash"]);
    assert!(bash.ok().contains("_goe()"), "{}", bash.stdout);
    let zsh = goe(&["completions", "zsh"]);
    assert!(zsh.ok().starts_with("#compdef goe"), "{}", zsh.stdout);
    let fish = goe(&["completions", "fish"]);
    assert!(fish.ok().contains("complete -c goe"), "{}", fish.stdout);
    goe(&["completions", "tcsh"]).code(2);
}

#[test]
fn help_has_examples() {
    let help = goe(&["--help"]);
    assert!(
        help.ok()
            .contains("Examples:\n  goe --host 192.168.1.50 status"),
        "{}",
        help.stdout
    );
    assert!(help.stdout.contains("Exit status:"));
    for sub in [
        "status",
        "get",
        "set",
        "watch",
        "export",
        "keys",
        "completions",
    ] {
        let run = goe(&[sub, "--help"]);
        assert!(run.ok().contains("Examples:"), "{sub}: {}", run.stdout);
    }
    let version = goe(&["--version"]);
    assert!(version.ok().starts_with("goe "), "{}", version.stdout);
}
