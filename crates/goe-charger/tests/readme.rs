//! The README works as written, where that is cheap to check mechanically:
//! its flag tables list exactly the flags and environment variables of
//! `goe-charger --help`, the curl examples of "Using it" answer what the README
//! says against a real charger, and the `/sim` example block runs in order on
//! the charger the README starts for it, every action accepted but the one
//! documented as refused. The examples run through `sh` and `curl` as written
//! (only the port is changed).

mod common;

use common::{BIN, Charger};
use std::collections::BTreeSet;
use std::process::Command;

const README: &str = include_str!("../../../README.md");

/// The lines of the first ```sh block after the line `after` (a heading or
/// any line that identifies the block).
fn sh_block_after(after: &str) -> Vec<&'static str> {
    let start = README
        .find(after)
        .unwrap_or_else(|| panic!("README has no {after:?}"));
    let rest = &README[start..];
    let open = rest.find("```sh\n").expect("a ```sh block") + "```sh\n".len();
    let close = rest[open..].find("```").expect("the block's end");
    rest[open..open + close].lines().collect()
}

/// The sh block that contains `line_start` at the start of a line.
fn sh_block_with(line_start: &str) -> Vec<&'static str> {
    let mut blocks = README.split("```sh\n").skip(1);
    blocks
        .find_map(|b| {
            let block = &b[..b.find("```").expect("the block's end")];
            block
                .lines()
                .any(|l| l.starts_with(line_start))
                .then(|| block.lines().collect())
        })
        .unwrap_or_else(|| panic!("README has no sh block with a line {line_start:?}"))
}

/// A command line without its trailing `# comment` (a `#` after white space,
/// outside quotes), and the comment.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    let (mut single, mut double) = (false, false);
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'#' if !single && !double && (i == 0 || bytes[i - 1] == b' ') => {
                return (line[..i].trim_end(), Some(line[i + 1..].trim()));
            }
            _ => {}
        }
    }
    (line.trim_end(), None)
}

/// What a README comment promises for a curl command: `HTTP NNN: body`, a bare
/// JSON body (HTTP 200), or nothing but success.
struct Expected {
    status: u16,
    /// The body, or its beginning when the README elides the rest with `…`.
    body: Option<String>,
}

fn expected(comment: Option<&str>) -> Expected {
    let Some(c) = comment else {
        return Expected {
            status: 200,
            body: None,
        };
    };
    if let Some(rest) = c.strip_prefix("HTTP ") {
        let code: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let body = rest[code.len()..].trim_start_matches(':').trim_start();
        return Expected {
            status: code
                .parse()
                .unwrap_or_else(|_| panic!("README: `HTTP NNN: body`, got {c:?}")),
            body: (!body.is_empty()).then(|| body.to_owned()),
        };
    }
    if c.starts_with('{') {
        return Expected {
            status: 200,
            body: Some(c.to_owned()),
        };
    }
    // a comment in words: success is all it promises
    Expected {
        status: 200,
        body: None,
    }
}

/// Runs one curl command line through `sh` (after `prelude`), returning the
/// HTTP status and the body.
fn run_curl(prelude: &str, command: &str) -> (u16, String) {
    let script = format!("{prelude}{command} -w '\\n%{{http_code}}'");
    let out = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("run sh (and curl: the test command installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{command}: curl failed ({}): {}{}",
        out.status,
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

/// Checks an answer against the README's promise; the failures as text.
fn check(command: &str, want: &Expected, status: u16, body: &str) -> Option<String> {
    let body_ok = match &want.body {
        None => true,
        Some(b) => match b.split_once('…') {
            Some((prefix, _)) => body.starts_with(prefix),
            None => body == b,
        },
    };
    (status != want.status || !body_ok).then(|| {
        format!(
            "{command}\n    README: HTTP {} {}\n    got:    HTTP {status} {body}",
            want.status,
            want.body.as_deref().unwrap_or("(any body)")
        )
    })
}

/// Runs the curl lines of a block in order; a `# …` line right after a command
/// is its documented answer. Every mismatch is reported together.
fn run_block(lines: &[&str], prelude: &str, port: u16) -> Vec<String> {
    let mut failures = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"));
        i += 1;
        if !line.starts_with("curl ") {
            continue;
        }
        let (command, mut comment) = split_comment(&line);
        if let Some(next) = lines.get(i).and_then(|l| l.strip_prefix("# ")) {
            comment = Some(next);
            i += 1;
        }
        let want = expected(comment);
        let (status, body) = run_curl(prelude, command);
        failures.extend(check(command, &want, status, &body));
    }
    failures
}

#[test]
fn the_flag_tables_list_every_flag_of_help() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    let mut help_flags = BTreeSet::new();
    let mut help_env = BTreeSet::new();
    for line in help.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("--") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if name != "help" && name != "version" {
                help_flags.insert(name);
            }
        }
        if let Some(rest) = t.strip_prefix("[env: ") {
            help_env.insert(rest.split('=').next().unwrap().to_owned());
        }
    }
    let mut readme_flags = BTreeSet::new();
    let mut readme_env = BTreeSet::new();
    for row in README.lines().filter(|l| l.starts_with("| `--")) {
        let cell = row.split('|').nth(1).unwrap();
        let name: String = cell
            .trim()
            .trim_start_matches("`--")
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        readme_flags.insert(name);
        for part in cell.split('`').filter(|p| p.starts_with("GOE_")) {
            readme_env.insert(part.to_owned());
        }
    }
    let missing: Vec<_> = help_flags.difference(&readme_flags).collect();
    let stale: Vec<_> = readme_flags.difference(&help_flags).collect();
    let missing_env: Vec<_> = help_env.difference(&readme_env).collect();
    let stale_env: Vec<_> = readme_env.difference(&help_env).collect();
    assert!(
        missing.is_empty() && stale.is_empty() && missing_env.is_empty() && stale_env.is_empty(),
        "README flag tables vs `goe-charger --help`:\n  flags missing from the README: {missing:?}\n  \
         flags in the README that --help lacks: {stale:?}\n  environment variables missing \
         from the README: {missing_env:?}\n  environment variables --help lacks: {stale_env:?}"
    );
}

/// The `fna="garage"` write sends a raw `"` (as curl does with what was
/// typed): it passes once the HTTP parser accepts raw quotes (issue #11 point 1).
#[test]
fn the_using_it_examples_answer_as_documented() {
    let charger = Charger::fresh();
    let failures = run_block(&sh_block_after("## Using it"), "", charger.port);
    assert!(
        failures.is_empty(),
        "README \"Using it\" examples that do not answer as documented:\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_sim_examples_run_in_order() {
    // the charger as the README starts it for these examples (its own port and
    // data directory replaced by the test's)
    let start = sh_block_with("goe-charger --clock manual")
        .into_iter()
        .find(|l| l.starts_with("goe-charger --clock manual"))
        .unwrap();
    let (start, _) = split_comment(start);
    let mut flags = Vec::new();
    let mut words = start.split_whitespace().skip(1);
    while let Some(w) = words.next() {
        match w {
            "--listen" | "--data-dir" => {
                words.next();
            }
            "&" => {}
            _ => flags.push(w),
        }
    }
    let charger = Charger::fresh_with(&flags);
    let block = sh_block_with("B=http://");
    let prelude = format!("B=http://127.0.0.1:{}; ", charger.port);
    let failures = run_block(&block, &prelude, charger.port);
    assert!(
        failures.is_empty(),
        "README /sim examples (run in order with {flags:?}) that do not answer as documented:\n{}",
        failures.join("\n")
    );
}

/// The cloud stand-in example (#15) in order: the charger as the README starts
/// it (its ports and data directory the test's), `TOKEN=` kept for the later
/// lines, `sleep`s slept, every curl answering as its comment says.
#[test]
fn the_cloud_example_answers_as_documented() {
    let block = sh_block_after("## Cloud API stand-in");
    let cloud = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let charger = Charger::fresh_with(&["--cloud-listen", &format!("127.0.0.1:{cloud}")]);
    let ports = |l: &str| {
        l.replace("127.0.0.1:8082", &format!("127.0.0.1:{}", charger.port))
            .replace("127.0.0.1:8090", &format!("127.0.0.1:{cloud}"))
    };
    let mut prelude = String::new();
    let mut failures = Vec::new();
    let mut i = 0;
    while i < block.len() {
        let line = ports(block[i]);
        i += 1;
        if let Some(secs) = line.strip_prefix("sleep ") {
            std::thread::sleep(std::time::Duration::from_secs(secs.trim().parse().unwrap()));
        } else if line.starts_with("TOKEN=") {
            prelude = format!("{line}; ");
        } else if line.starts_with("curl ") {
            let (command, mut comment) = split_comment(&line);
            if let Some(next) = block.get(i).and_then(|l| l.strip_prefix("# ")) {
                comment = Some(next);
                i += 1;
            }
            let (status, body) = run_curl(&prelude, command);
            failures.extend(check(command, &expected(comment), status, &body));
        }
    }
    assert!(
        prelude.contains("TOKEN=$(curl"),
        "the block reads the token"
    );
    assert!(
        failures.is_empty(),
        "README cloud API examples that do not answer as documented:\n{}",
        failures.join("\n")
    );
}

/// The broker of the MQTT example: `GOE_MOSQUITTO` (set by the test command),
/// else Debian's path.
fn mosquitto() -> std::path::PathBuf {
    std::env::var_os("GOE_MOSQUITTO")
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| {
            let p = std::path::PathBuf::from("/usr/sbin/mosquitto");
            p.exists().then_some(p)
        })
        .expect("the MQTT example needs mosquitto: run scripts/test.sh (it installs it and sets GOE_MOSQUITTO)")
}

/// A process killed when the test ends.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `f` every 50 ms for up to 30 s (a hang guard, not a timing assertion).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !f() {
        assert!(std::time::Instant::now() < end, "{what} within 30 s");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The README's write over MQTT, from "subscribe first" on, run as written
/// (`mosquitto_sub -C 1 &`, then `mosquitto_pub`) at a person's pace against a
/// charger connected to a broker: the subscriber prints `success` and the
/// script ends (the answer on `/result` is not retained: a subscriber started
/// after the publish waits forever).
#[test]
fn the_mqtt_write_example_prints_its_result() {
    let block = sh_block_with("mosquitto_pub ");
    let from = block
        .iter()
        .position(|l| l.starts_with("# /result is not retained"))
        .expect("the README says to subscribe to /result first");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _broker = Killed(
        Command::new(mosquitto())
            .args(["-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start mosquitto"),
    );
    eventually("mosquitto listens", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let charger = Charger::fresh_with(&["--mqtt", &format!("mqtt://127.0.0.1:{port}")]);
    let connected = format!(
        "curl -s 'http://127.0.0.1:{}/api/status?filter=mcc'",
        charger.port
    );
    eventually("the charger connects to the broker", || {
        run_curl("", &connected).1 == r#"{"mcc":true}"#
    });
    // a person types one line after the other: half a second between lines
    // (without it, a publish-then-subscribe order can win the race on a fast
    // machine and pass although a user's subscriber would miss the result)
    let script: Vec<String> = block[from..]
        .iter()
        .map(|l| l.replace("-p 1883", &format!("-p {port}")) + "\nsleep 0.5")
        .collect();
    use std::os::unix::process::CommandExt as _;
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script.join("\n"))
        // its own process group, so a hang guard can stop the background subscriber too
        .process_group(0)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run sh (mosquitto_sub and mosquitto_pub: Debian's mosquitto-clients)");
    if common::wait_timeout(&mut child, std::time::Duration::from_secs(60)).is_none() {
        let _ = Command::new("kill")
            .args(["-9", &format!("-{}", child.id())])
            .status();
        let _ = child.wait();
        panic!("the README's MQTT example hangs:\n{}", script.join("\n"));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "success\n",
        "the README's MQTT example:\n{}\nstderr: {}",
        script.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
}
