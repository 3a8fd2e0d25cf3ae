//! `goe`'s errors name their cause: a web server that is not a charger is not
//! "HTTP API v2 disabled", an unknown key pattern gets a suggestion and the
//! usage exit status, `--cloud` without the feature says how to get it, and no
//! error prints a stack trace, even with `RUST_BACKTRACE=1`.

mod common;

use common::{Run, closed_port};
use std::io::{BufRead, BufReader, Write};

/// `goe ARGS…` with backtraces switched on, as a developer's shell may have them.
fn goe_bt(args: &[&str]) -> Run {
    let out = common::command()
        .env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1")
        .args(args)
        .output()
        .expect("run goe");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.to_lowercase().contains("backtrace"),
        "{args:?} printed a stack trace:\n{}",
        run.stderr
    );
    run
}

/// A web server on 127.0.0.1 that is not a charger: every request gets
/// `status` with `content_type` and `body`. Serves until the test ends.
fn web_server(status: &'static str, content_type: &'static str, body: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            // the request line and headers, up to the blank line
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    host
}

#[test]
fn a_web_server_that_is_not_a_charger_is_named_as_such() {
    let cases = [
        (
            "404 Not Found",
            "text/html",
            "<html><body><h1>404 Not Found</h1></body></html>",
        ),
        ("200 OK", "text/html", "<html><body>It works!</body></html>"),
        ("200 OK", "application/json", "[1,2,3]"),
    ];
    for (status, content_type, body) in cases {
        let host = web_server(status, content_type, body);
        for args in [vec!["status"], vec!["get", "amp"], vec!["set", "amp=10"]] {
            let mut all = vec!["--host", host.as_str()];
            all.extend(args.iter().copied());
            let run = goe_bt(&all);
            run.code(3);
            let first = run.stderr.lines().next().unwrap_or("");
            assert!(
                first.starts_with(&format!(
                    "goe: error: the server at {host} does not answer like a go-eCharger: HTTP {}: ",
                    &status[..3]
                )),
                "{status} {args:?}: {}",
                run.stderr
            );
            assert!(
                !run.stderr.contains("disabled"),
                "{status} {args:?}: {}",
                run.stderr
            );
            assert!(
                run.stderr.ends_with(
                    "goe: hint: check --host / GOE_HOST: is this the charger's address and port?\n"
                ),
                "{status} {args:?}: {}",
                run.stderr
            );
        }
    }
}

#[test]
fn the_firmwares_own_404_still_means_the_api_is_off() {
    // firmware 60.x's ESP-IDF text (05x's is tested against goe-charger in cli.rs)
    let host = web_server(
        "404 Not Found",
        "text/html",
        "Nothing matches the given URI",
    );
    let run = goe_bt(&["--host", &host, "get", "amp"]);
    run.code(3);
    assert!(
        run.stderr.contains("HTTP API v2 disabled (hai=false"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_key_pattern_suggests_and_is_a_usage_error() {
    let run = goe_bt(&["keys", "ampp"]);
    run.code(2);
    assert_eq!(
        run.stderr,
        "goe: error: no key matches \"ampp\" (did you mean amp?)\n"
    );
    assert_eq!(run.stdout, "");
}

#[cfg(not(feature = "cloud"))]
#[test]
fn cloud_without_the_feature_says_how_to_get_it() {
    for args in [
        vec!["--cloud", "012345", "--token", "t", "status"],
        vec!["status", "--cloud", "012345"],
    ] {
        let run = goe_bt(&args);
        run.code(2);
        assert!(
            run.stderr
                .contains("`cargo install --path crates/goe-cli --features cloud`"),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{args:?}");
    }
}

#[test]
fn user_errors_print_no_stack_trace() {
    // unreachable, bad value, no host: one message each, no trace (goe_bt checks)
    let host = format!("127.0.0.1:{}", closed_port());
    goe_bt(&["--host", &host, "status"]).code(3);
    goe_bt(&["--host", &host, "set", "lmo=turbo"]).code(2);
    goe_bt(&["get", "amp"]).code(2);
}
