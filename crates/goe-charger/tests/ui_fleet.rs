//! The fleet page of the dashboard (issue #16): `/sim/fleet/events` over a
//! raw socket (a first frame with every charger, then only the chargers that
//! changed), on a fleet and on a single charger, its end at shutdown, and the
//! page itself with 1,000 chargers in headless Debian Chromium driven by
//! `puppeteer-core` (`tests/ui/fleet.js`; tools: `common::browser`).

mod common;

use common::browser;
use common::fleet_process::Fleet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// `method path` over a fresh connection: the status line and the body.
fn request(port: u16, method: &str, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

fn post_ok(port: u16, path: &str) {
    let (status, body) = request(port, "POST", path);
    assert_eq!(status, "HTTP/1.1 200 OK", "POST {path}: {body}");
}

/// An open `/sim/fleet/events` stream.
struct Stream(BufReader<TcpStream>);

impl Stream {
    fn open(port: u16) -> Stream {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET /sim/fleet/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(s);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            assert!(reader.read_line(&mut line).unwrap() > 0, "{head}");
            if line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: text/event-stream"),
            "{head}"
        );
        Stream(reader)
    }

    /// The next `event: fleet` frame's JSON.
    fn next(&mut self) -> serde_json::Value {
        let mut event = String::new();
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                self.0.read_line(&mut line).expect("read event") > 0,
                "stream ended"
            );
            let line = line.trim_end();
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_owned();
            } else if let Some(data) = line.strip_prefix("data: ") {
                assert_eq!(event, "fleet", "{data}");
                return serde_json::from_str(data).expect("frame JSON");
            }
        }
    }
}

fn serials(frame: &serde_json::Value) -> Vec<String> {
    frame["chargers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["serial"].as_str().unwrap().to_owned())
        .collect()
}

/// The first frame names every charger with its summary (and the group and
/// lot of those balancing in a group); after an advance that steps every
/// charger, a plug on one charger gives frames naming that charger only.
#[test]
fn fleet_stream_sends_every_charger_then_only_the_changed_ones() {
    let fleet = Fleet::start(
        "base_serial = 400001\n\
         [[charger]]\ncount = 2\nconfig = { loe = true, log = \"garage\", lot = { amp = 20 } }\n\
         [[charger]]\ncount = 3\n",
    );
    let port = fleet.chargers[0].1;
    // past the boot seconds (car 6 Initializing) of every charger
    post_ok(port, "/sim/advance?seconds=3");
    // any charger's listener serves the whole fleet's stream
    let mut stream = Stream::open(fleet.chargers[4].1);
    let first = stream.next();
    assert_eq!(first["full"], true, "{first}");
    assert_eq!(
        serials(&first),
        ["400001", "400002", "400003", "400004", "400005"]
    );
    let c = &first["chargers"];
    assert_eq!(c[0]["car"], 1, "{first}");
    assert_eq!(c[0]["carName"], "Idle");
    assert!(c[0]["reason"].is_string(), "{first}");
    assert_eq!(c[0]["powerW"], 0);
    assert_eq!(c[0]["group"], "garage");
    assert_eq!(c[1]["lot"], 20);
    assert!(c[2].get("group").is_none(), "{first}");
    // not the full status: a summary per charger
    assert!(c[0].get("nrg").is_none() && c[0].get("rbt").is_none());
    post_ok(port, "/sim/plug?serial=400003&car=ev-3p-11kw");
    post_ok(port, "/sim/advance?seconds=30");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        assert!(Instant::now() < deadline, "no frame with 400003 charging");
        let frame = stream.next();
        assert_eq!(frame["full"], false, "{frame}");
        assert_eq!(serials(&frame), ["400003"], "{frame}");
        let s = &frame["chargers"][0];
        if s["car"] == 2 && s["powerW"].as_i64().unwrap() > 1000 {
            assert_eq!(s["carName"], "Charging");
            assert_eq!(s["phases"], 3, "{frame}");
            assert!(s["amps"].as_f64().unwrap() > 6.0, "{frame}");
            break;
        }
    }
    // a page opening now gets the new state in its first frame
    let again = Stream::open(port).next();
    assert_eq!(again["full"], true);
    assert_eq!(again["chargers"][2]["car"], 2, "{again}");
    assert_eq!(again["chargers"][0]["car"], 1, "{again}");
    let (status, _) = request(port, "POST", "/sim/fleet/events");
    assert!(status.starts_with("HTTP/1.1 405"), "{status}");
    assert!(!fleet.stderr().contains("panicked"), "{}", fleet.stderr());
}

/// A single charger is a fleet of 1: the fleet page and its stream work there.
#[test]
fn a_single_charger_is_a_fleet_of_one() {
    let mut c = common::Charger::fresh_with(&["--clock", "manual"]);
    let (status, body) = request(c.port, "GET", "/sim/ui/fleet.html");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("fleet.js"), "{body}");
    for asset in ["/sim/ui/fleet.js", "/sim/ui/fleet.css"] {
        let (status, body) = request(c.port, "GET", asset);
        assert_eq!(status, "HTTP/1.1 200 OK", "{asset}");
        assert!(!body.contains("http://") && !body.contains("https://"));
    }
    let mut stream = Stream::open(c.port);
    let first = stream.next();
    assert_eq!(first["full"], true);
    assert_eq!(serials(&first), [common::SERIAL]);
    post_ok(c.port, "/sim/plug?car=ev-1p-16a");
    post_ok(c.port, "/sim/advance?seconds=20");
    let frame = stream.next();
    assert_eq!(serials(&frame), [common::SERIAL], "{frame}");
    // the stream ends at shutdown, well before the servers' 10 s grace
    let started = Instant::now();
    assert!(c.terminate().success());
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// An open stream is a request in flight: the idle timeout of keep-alive
/// connections (here 1 s) does not cut it, so a page watching for longer
/// than `--idle-timeout` keeps its stream (it used to be closed mid-body).
#[test]
fn a_stream_outlives_the_idle_timeout() {
    let c = common::Charger::fresh_with(&["--clock", "manual", "--idle-timeout", "1s"]);
    let mut stream = Stream::open(c.port);
    assert_eq!(stream.next()["full"], true);
    std::thread::sleep(Duration::from_millis(2500));
    post_ok(c.port, "/sim/plug?car=ev-1p-16a");
    post_ok(c.port, "/sim/advance?seconds=20");
    let frame = stream.next();
    assert_eq!(serials(&frame), [common::SERIAL], "{frame}");
}

/// The fleet page with 1,000 chargers in Chromium: no console errors, 1,000
/// tiles, a plug through the control API turns that tile to charging after
/// an advance, the state filter, the group's load against its lot.
#[test]
fn fleet_page_in_chromium_with_1000_chargers() {
    let fleet = Fleet::start(
        "base_serial = 500001\n\
         [[charger]]\ncount = 4\nconfig = { loe = true, log = \"garage\", lot = { amp = 20 } }\n\
         [[charger]]\ncount = 996\n",
    );
    assert_eq!(fleet.chargers.len(), 1000);
    let port = fleet.chargers[999].1;
    post_ok(port, "/sim/advance?seconds=3");
    let url = format!("http://127.0.0.1:{port}");
    let stdout = browser::run_script("fleet.js", &url, &[], &|| fleet.stderr());
    assert!(stdout.contains("fleet ok"), "{stdout}");
    assert!(browser::artifacts().join("fleet.png").is_file());
}
