//! `POST /sim/clock` (#16): pausing, resuming and changing the speed of the
//! process's real clock over HTTP on the real binary. Pausing stops
//! simulated time, a new speed changes the rate from the time reached (no
//! jump), bad values and a manual clock get the control API's 400 JSON error.

mod common;

use common::Charger;
use serde_json::Value;
use std::time::{Duration, Instant};

struct Sim {
    api: common::Api,
    rt: tokio::runtime::Runtime,
}

impl Sim {
    fn new(c: &Charger) -> Sim {
        Sim {
            api: c.api(),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    fn post(&self, q: &str) -> (u16, Value) {
        let (code, body) = self.rt.block_on(self.api.post(q));
        let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{q}: {e}: {body}"));
        (code, json)
    }

    /// A POST that must succeed: the state it answers.
    fn ok(&self, q: &str) -> Value {
        let (code, state) = self.post(q);
        assert_eq!(code, 200, "{q}: {state}");
        state
    }

    /// A POST that must be refused with 400: its error text.
    fn bad(&self, q: &str) -> String {
        let (code, body) = self.post(q);
        assert_eq!(code, 400, "{q}: {body}");
        body["error"].as_str().expect("a JSON error").to_owned()
    }

    /// Simulated time now (`/sim/state`'s `time_ms`).
    fn time_ms(&self) -> i64 {
        let r = self.rt.block_on(self.api.get("/sim/state"));
        assert_eq!(r.status, 200);
        serde_json::from_str::<Value>(&r.body).unwrap()["time_ms"]
            .as_i64()
            .unwrap()
    }
}

#[test]
fn pause_stops_simulated_time_and_resume_goes_on_from_there() {
    let c = Charger::fresh_with(&["--speed", "1000"]);
    let sim = Sim::new(&c);
    let state = sim.ok("/sim/clock?pause=true");
    assert_eq!(state["clock"]["paused"], true, "{state}");
    assert_eq!(state["clock"]["speed"], 1000.0);
    let paused_at = state["time_ms"].as_i64().unwrap();
    // half a second real is 500 simulated seconds at this speed: none pass
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(sim.time_ms(), paused_at);
    let r = sim.rt.block_on(sim.api.get("/api/status?filter=utc"));
    let utc_paused = r.body.clone();
    std::thread::sleep(Duration::from_millis(300));
    let r = sim.rt.block_on(sim.api.get("/api/status?filter=utc"));
    assert_eq!(r.body, utc_paused, "utc moved while paused");
    // pausing twice is no change
    assert_eq!(sim.ok("/sim/clock?pause=true")["time_ms"], paused_at);
    // resuming goes on from the paused time, at the same speed
    let before = Instant::now();
    let state = sim.ok("/sim/clock?pause=false");
    let resumed_at = state["time_ms"].as_i64().unwrap();
    assert_eq!(state["clock"]["paused"], false);
    let bound = (before.elapsed().as_secs_f64() * 1000.0 * 1000.0) as i64 + 1000;
    assert!(
        resumed_at >= paused_at && resumed_at - paused_at <= bound,
        "resumed at {resumed_at}, paused at {paused_at}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(sim.time_ms() - resumed_at >= 250_000, "runs at 1000 again");
}

#[test]
fn a_new_speed_changes_the_rate_without_a_jump() {
    let c = Charger::fresh_with(&["--speed", "1000"]);
    let sim = Sim::new(&c);
    let t0 = sim.time_ms();
    let asked = Instant::now();
    let state = sim.ok("/sim/clock?speed=1");
    let t1 = state["time_ms"].as_i64().unwrap();
    assert_eq!(state["clock"]["speed"], 1.0, "{state}");
    assert_eq!(state["clock"]["mode"], "real");
    // no jump: only the time that passed between the two requests at ×1000
    let bound = (asked.elapsed().as_secs_f64() * 1000.0 * 1000.0) as i64 + 1000;
    assert!(t1 >= t0 && t1 - t0 <= bound, "{t0} → {t1} (bound {bound})");
    // ×1: half a second real is about half a simulated second, far below ×1000's
    let real = Instant::now();
    std::thread::sleep(Duration::from_millis(500));
    let t2 = sim.time_ms();
    let elapsed_ms = real.elapsed().as_millis() as i64;
    assert!(t2 >= t1, "time went back: {t1} → {t2}");
    assert!(
        t2 - t1 <= elapsed_ms + 1000,
        "{} ms in {elapsed_ms} ms real at ×1",
        t2 - t1
    );
    // and faster again: the logic follows (the car state changes within seconds of simulated time)
    let state = sim.ok("/sim/clock?speed=1000");
    let t3 = state["time_ms"].as_i64().unwrap();
    assert!(t3 >= t2 && t3 - t2 < 100_000, "{t2} → {t3}");
    sim.ok("/sim/plug?car=ev-3p-11kw");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = sim.rt.block_on(sim.api.get("/api/status?filter=car"));
        if r.body == r#"{"car":2}"# {
            break;
        }
        assert!(Instant::now() < deadline, "not charging: {}", r.body);
        std::thread::sleep(Duration::from_millis(50));
    }
    // speed and pause together: paused at the new speed
    let state = sim.ok("/sim/clock?speed=60&pause=true");
    assert_eq!(state["clock"]["speed"], 60.0);
    assert_eq!(state["clock"]["paused"], true);
}

#[test]
fn bad_values_and_a_manual_clock_are_refused() {
    let c = Charger::fresh_with(&["--speed", "10"]);
    let sim = Sim::new(&c);
    for (q, needle) in [
        ("/sim/clock?speed=0", "speed must be"),
        ("/sim/clock?speed=-3", "speed must be"),
        ("/sim/clock?speed=1e7", "speed must be"),
        ("/sim/clock?speed=fast", "speed must be a number"),
        ("/sim/clock?speed=NaN", "speed must be a number"),
        ("/sim/clock?pause=maybe", "pause must be true or false"),
        ("/sim/clock", "needs speed"),
        ("/sim/clock?rate=2", "unknown parameter rate"),
        ("/sim/clock?speed=2&speed=3", "more than once"),
    ] {
        assert!(sim.bad(q).contains(needle), "{q}: {}", sim.bad(q));
    }
    // nothing changed
    let r = sim.rt.block_on(sim.api.get("/sim/state"));
    let state: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(state["clock"]["speed"], 10.0);
    assert_eq!(state["clock"]["paused"], false);
    // GET is the wrong method
    let r = sim.rt.block_on(sim.api.get("/sim/clock?speed=2"));
    assert_eq!(r.status, 405, "{}", r.body);
    // a manual clock moves only through /sim/advance
    let m = Charger::fresh_with(&["--clock", "manual"]);
    let sim = Sim::new(&m);
    let e = sim.bad("/sim/clock?pause=true");
    assert!(
        e.contains("clock is manual") && e.contains("/sim/advance"),
        "{e}"
    );
    assert!(sim.bad("/sim/clock?speed=5").contains("clock is manual"));
    let r = sim.rt.block_on(sim.api.get("/sim/state"));
    let state: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(state["clock"]["mode"], "manual");
    assert_eq!(state["clock"]["paused"], Value::Null);
}

/// One clock per process: in a `--chargers 2` group, pausing through one
/// charger stops the other's time too.
#[test]
fn the_clock_is_the_whole_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(common::BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--speed",
            "1000",
            "--chargers",
            "2",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut ports = Vec::new();
    while ports.len() < 2 {
        let line = lines.next().expect("start-up line").unwrap();
        if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
            let port = url
                .trim_end_matches('/')
                .rsplit(':')
                .next()
                .unwrap()
                .parse::<u16>()
                .unwrap();
            ports.push(port);
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (a, b) = (common::Api::new(ports[0]), common::Api::new(ports[1]));
    let (code, body) = rt.block_on(a.post("/sim/clock?pause=true"));
    assert_eq!(code, 200, "{body}");
    let time = |api: &common::Api| {
        let r = rt.block_on(api.get("/sim/state"));
        let state: Value = serde_json::from_str(&r.body).unwrap();
        (state["time_ms"].as_i64().unwrap(), state["clock"].clone())
    };
    let (t0, clock) = time(&b);
    assert_eq!(clock["paused"], true, "{clock}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(time(&b).0, t0);
    let _ = child.kill();
    let _ = child.wait();
}
