//! The web dashboard (`/sim/ui/`, `/sim/events`, issue #16) through the real
//! binary on `127.0.0.1:0`: the embedded assets, the event stream, that
//! nothing outside `/sim/` changed, and the charger page in headless Debian
//! Chromium driven by `puppeteer-core` (`tests/ui/charger.js`). The browser
//! tools and how to install them: `common::browser`.

mod common;

use common::fleet_process::Fleet;
use common::{Charger, browser};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// `GET path` over a fresh connection (`Connection: close`): the whole
/// response as text.
fn raw_get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

fn status_line(response: &str) -> &str {
    response.lines().next().unwrap_or("")
}

fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split("\r\n\r\n").next()?;
    head.lines().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

#[test]
fn assets_are_embedded_with_their_content_types() {
    let c = Charger::fresh_with(&["--clock", "manual"]);
    for (path, ty, needle) in [
        (
            "/sim/ui/",
            "text/html; charset=utf-8",
            "<script type=\"module\" src=\"app.js\">",
        ),
        (
            "/sim/ui/index.html",
            "text/html; charset=utf-8",
            "<!doctype html>",
        ),
        (
            "/sim/ui/app.js",
            "text/javascript; charset=utf-8",
            "EventSource",
        ),
        ("/sim/ui/app.css", "text/css; charset=utf-8", "#ring"),
    ] {
        let r = raw_get(c.port, path);
        assert_eq!(status_line(&r), "HTTP/1.1 200 OK", "{path}: {r}");
        assert_eq!(header(&r, "content-type"), Some(ty), "{path}");
        assert_eq!(header(&r, "cache-control"), Some("no-cache"), "{path}");
        assert!(body(&r).contains(needle), "{path}: {r}");
        // offline: nothing is fetched from another host
        assert!(
            !body(&r).contains("http://") && !body(&r).contains("https://"),
            "{path}"
        );
    }
    // the vendored chart library, pinned (its version in the name and header)
    for (path, ty, needle) in [
        (
            "/sim/ui/vendor/uPlot-1.6.32.iife.min.js",
            "text/javascript; charset=utf-8",
            "/*! https://github.com/leeoniya/uPlot (v1.6.32) */",
        ),
        (
            "/sim/ui/vendor/uPlot-1.6.32.min.css",
            "text/css; charset=utf-8",
            ".uplot",
        ),
        (
            "/sim/ui/vendor/uPlot-LICENSE",
            "text/plain; charset=utf-8",
            "The MIT License",
        ),
    ] {
        let r = raw_get(c.port, path);
        assert_eq!(status_line(&r), "HTTP/1.1 200 OK", "{path}");
        assert_eq!(header(&r, "content-type"), Some(ty), "{path}");
        assert!(body(&r).contains(needle), "{path}");
    }
    let page = body(&raw_get(c.port, "/sim/ui/")).to_owned();
    assert!(
        page.contains("src=\"vendor/uPlot-1.6.32.iife.min.js\"")
            && page.contains("href=\"vendor/uPlot-1.6.32.min.css\""),
        "{page}"
    );
    let r = raw_get(c.port, "/sim/ui");
    assert!(status_line(&r).starts_with("HTTP/1.1 301"), "{r}");
    assert_eq!(header(&r, "location"), Some("/sim/ui/"));
    let r = raw_get(c.port, "/sim/ui/nope.js");
    assert!(status_line(&r).starts_with("HTTP/1.1 404"), "{r}");
    assert!(body(&r).contains("\"error\""), "{r}");
}

/// A real client probing the charger sees what it saw before: the dashboard
/// paths outside `/sim/` answer like any unknown path, `/api/status` is the
/// same object.
#[test]
fn nothing_outside_sim_changes() {
    let c = Charger::fresh_with(&["--clock", "manual"]);
    let unknown = raw_get(c.port, "/no-such-path");
    let strip_date = |r: &str| {
        r.lines()
            .filter(|l| !l.to_ascii_lowercase().starts_with("date:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for path in [
        "/",
        "/ui",
        "/ui/",
        "/ui/app.js",
        "/app.js",
        "/events",
        "/api/ui",
    ] {
        assert_eq!(
            strip_date(&raw_get(c.port, path)),
            strip_date(&unknown),
            "{path}"
        );
    }
    let status = raw_get(c.port, "/api/status?filter=sse,car");
    assert_eq!(status_line(&status), "HTTP/1.1 200 OK");
    assert_eq!(body(&status), r#"{"sse":"012345","car":1}"#);
}

/// Reads the next `event: state` frame's JSON from an open event stream.
fn next_frame(reader: &mut BufReader<TcpStream>) -> serde_json::Value {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).expect("read event") > 0,
            "stream ended"
        );
        if let Some(data) = line.trim_end().strip_prefix("data: ")
            && data.starts_with('{')
        {
            return serde_json::from_str(data).expect("frame JSON");
        }
    }
}

#[test]
fn events_push_the_state_with_enum_names_on_every_change() {
    let c = Charger::fresh_with(&["--clock", "manual"]);
    let mut s = TcpStream::connect(("127.0.0.1", c.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET /sim/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut reader = BufReader::new(s);
    let mut head = String::new();
    while reader.read_line(&mut head).unwrap() > 2 && !head.ends_with("\r\n\r\n") {}
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/event-stream"),
        "{head}"
    );
    let first = next_frame(&mut reader);
    assert_eq!(first["serial"], "012345");
    assert_eq!(first["status"]["car"], 1);
    assert_eq!(first["names"]["car"], "Idle", "{}", first["names"]);
    assert!(
        first["names"]["modelStatus"].is_string(),
        "{}",
        first["names"]
    );
    assert_eq!(first["sim"]["clock"]["mode"], "manual");
    // a change arrives by push, without asking again
    let api = c.api();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (code, _) = rt.block_on(api.post("/sim/plug?car=ev-3p-11kw"));
    assert_eq!(code, 200);
    // (on the manual clock the car state follows at the next step)
    let mut frame = next_frame(&mut reader);
    for _ in 0..20 {
        if frame["sim"]["plugged"] == true {
            break;
        }
        frame = next_frame(&mut reader);
    }
    assert_eq!(frame["sim"]["plugged"], true);
    let (code, _) = rt.block_on(api.post("/sim/advance?seconds=60"));
    assert_eq!(code, 200);
    let mut frame = next_frame(&mut reader);
    for _ in 0..20 {
        if frame["status"]["car"] == 2 {
            break;
        }
        frame = next_frame(&mut reader);
    }
    assert_eq!(frame["status"]["car"], 2);
    assert_eq!(frame["names"]["car"], "Charging");
}

/// The charger page in headless Chromium: no console errors, serial and
/// state shown, plugging through the page changes `/api/status` and the page
/// shows charging after an advance, a refused `amp` shows the charger's text.
#[test]
fn charger_page_in_chromium() {
    let c = Charger::fresh_with(&["--clock", "manual"]);
    let url = format!("http://127.0.0.1:{}", c.port);
    let stdout = browser::run_script("charger.js", &url, &[], &|| c.stderr());
    assert!(stdout.contains("ui ok"), "{stdout}");
    assert!(browser::artifacts().join("charger.png").is_file());
    // the page's plug reached the charger
    let status = raw_get(c.port, "/api/status?filter=car");
    assert_eq!(body(&status), r#"{"car":2}"#);
}

/// `GET /sim/history` as JSON (asserting 200).
fn history(port: u16) -> serde_json::Value {
    let r = raw_get(port, "/sim/history");
    assert_eq!(status_line(&r), "HTTP/1.1 200 OK", "{r}");
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    serde_json::from_str(body(&r)).expect("history JSON")
}

/// The chart's history: after two simulated hours on the manual clock it
/// holds exactly the last hour, one sample per 10 s, with the world's values
/// at each sample (PV changed half an hour before the end), served at
/// `/sim/history` and whole in the event stream's first frame.
#[test]
fn history_holds_exactly_the_last_hour() {
    let c = Charger::fresh_with(&["--clock", "manual"]);
    let api = c.api();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let post = |q: &str| {
        let (code, body) = rt.block_on(api.post(q));
        assert_eq!(code, 200, "{q}: {body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    post("/sim/plug?car=ev-3p-11kw&soc=10");
    post("/sim/grid?pv=1000&house=400&battery=0");
    post("/sim/advance?seconds=5400");
    let changed_at = post("/sim/grid?pv=3000&house=500")["time_ms"]
        .as_i64()
        .unwrap();
    let end = post("/sim/advance?seconds=1800");
    let now_ms = end["time_ms"].as_i64().unwrap();
    let h = history(c.port);
    assert_eq!(h["full"], true);
    assert_eq!(h["interval_s"], 10);
    assert_eq!(
        h["series"],
        serde_json::json!(["t", "charging", "pv", "house", "grid", "battery"])
    );
    let data = h["data"].as_array().unwrap();
    let column = |i: usize| -> Vec<i64> {
        data[i]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect()
    };
    let t = column(0);
    assert_eq!(t.len(), 360, "one hour at 10 s");
    for i in 1..6 {
        assert_eq!(column(i).len(), 360);
    }
    // contiguous 10 s buckets, the newest the one now is in, the oldest
    // inside the last hour: exactly the last hour
    assert!(t.windows(2).all(|w| w[1] - w[0] == 10), "{t:?}");
    let now_s = now_ms.div_euclid(1000);
    assert!(
        now_s - 10 < t[359] && t[359] <= now_s,
        "{} vs {now_s}",
        t[359]
    );
    assert!(t[0] > now_s - 3600, "{} vs {now_s}", t[0]);
    // the values of the world at each sample
    let (pv, house, battery) = (column(2), column(3), column(5));
    let changed_s = changed_at as f64 / 1000.0;
    for i in 0..360 {
        let bucket = t[i] as f64;
        if bucket + 10.0 <= changed_s {
            assert_eq!((pv[i], house[i]), (1000, 400), "sample {i} at {bucket}");
        } else if bucket > changed_s {
            assert_eq!((pv[i], house[i]), (3000, 500), "sample {i} at {bucket}");
        }
        assert_eq!(battery[i], 0);
    }
    let before = (0..360).filter(|&i| pv[i] == 1000).count();
    assert!(
        (179..=181).contains(&before),
        "{before} samples before the change"
    );
    // the car charges throughout; the newest sample has the charger's power
    let charging = column(1);
    assert!(charging.iter().all(|&w| w > 1000), "{charging:?}");
    let power = end["power_w"].as_f64().unwrap();
    assert!(
        (charging[359] as f64 - power).abs() < 100.0,
        "{} vs {power}",
        charging[359]
    );
    // grid = house + charging − PV − battery at the meter
    let grid = column(4);
    assert!(
        (grid[359] - (house[359] + charging[359] - pv[359])).abs() < 100,
        "{grid:?}"
    );
    // the event stream's first frame has the same whole history
    let mut s = TcpStream::connect(("127.0.0.1", c.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET /sim/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let first = next_frame(&mut BufReader::new(s));
    assert_eq!(first["history"], h);
}

/// The charger page on a real clock at `--speed 1000` in Chromium: its clock
/// advances, at most 10 frames/s, the chart fills, no console errors; pause,
/// speed and resume through the page (`tests/ui/speed.js`).
#[test]
fn charger_page_keeps_up_at_speed_1000() {
    let c = Charger::fresh_with(&["--speed", "1000"]);
    let url = format!("http://127.0.0.1:{}", c.port);
    let stdout = browser::run_script("speed.js", &url, &[], &|| c.stderr());
    assert!(stdout.contains("ui speed ok"), "{stdout}");
}

/// An open dashboard does not hold up shutdown: SIGTERM ends the event
/// stream and the process at once, not after the 10 s grace for requests.
#[test]
fn shutdown_ends_open_event_streams() {
    let mut c = Charger::fresh_with(&["--clock", "manual"]);
    let mut s = TcpStream::connect(("127.0.0.1", c.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET /sim/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut reader = BufReader::new(s);
    next_frame(&mut reader);
    let started = std::time::Instant::now();
    let status = c.terminate();
    assert!(status.success(), "{status:?}");
    // generous margin below the 10 s shutdown grace
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown took {:?} with a dashboard open",
        started.elapsed()
    );
}

/// In a fleet every charger serves the dashboard, and `?serial=S` on one
/// charger's event stream shows charger `S`.
#[test]
fn every_charger_of_a_fleet_serves_the_dashboard() {
    let fleet = Fleet::start("base_serial = 300001\n[[charger]]\ncount = 2\n");
    let ports: Vec<u16> = fleet.chargers.iter().map(|(_, port)| *port).collect();
    assert_eq!(ports.len(), 2);
    for port in &ports {
        let r = raw_get(*port, "/sim/ui/");
        assert_eq!(status_line(&r), "HTTP/1.1 200 OK", "{r}");
    }
    let mut s = TcpStream::connect(("127.0.0.1", ports[0])).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /sim/events?serial=300002 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )
    .unwrap();
    let frame = next_frame(&mut BufReader::new(s));
    assert_eq!(frame["serial"], "300002");
    assert_eq!(frame["status"]["sse"], "300002");
    let r = raw_get(ports[0], "/sim/events?serial=399999");
    assert!(status_line(&r).starts_with("HTTP/1.1 404"), "{r}");
}
