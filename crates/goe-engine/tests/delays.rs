//! Random delays of a charge start (#13 point 6): `rdpl` after a plug-in,
//! `rdre` after power returns, shown in `rdple`/`rdree`, modelStatus 29 while
//! waiting, aborted by writing null, reproducible from the seed.

use goe_engine::{CarProfile, Charger, SimTime};
use serde_json::Value as J;

/// 2024-06-03T06:00:00Z, a Monday.
const MONDAY_6_UTC: i64 = 1_717_394_400_000;

struct Sim {
    c: Charger,
    now: SimTime,
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let now = SimTime(MONDAY_6_UTC);
        let c = Charger::boot_on(
            goe_keys::profile("060.5").unwrap(),
            "012345",
            None,
            now,
            seed,
        )
        .unwrap();
        let mut s = Sim { c, now };
        s.set("lmo", "3");
        s
    }

    fn set(&mut self, key: &str, raw: &str) {
        let outcome = self
            .c
            .set(self.now, key, raw)
            .unwrap_or_else(|e| panic!("set {key}={raw}: {e}"));
        if outcome.restart {
            self.c.restart(self.now);
        }
    }

    fn plug(&mut self) {
        self.c
            .plug(self.now, CarProfile::builtin("ev-3p-11kw").unwrap(), 30.0)
            .unwrap();
    }

    fn get(&mut self, key: &str) -> J {
        let mut s = String::new();
        self.c.write_status(self.now, None, &mut s);
        serde_json::from_str::<J>(&s).unwrap()[key].clone()
    }

    fn step(&mut self) {
        self.now = self.now.plus_ms(1000);
        self.c.step(self.now);
    }

    /// Steps one second, then returns (modelStatus, alw, rbt).
    fn tick(&mut self) -> (i64, bool, i64) {
        self.step();
        (
            self.get("modelStatus").as_i64().unwrap(),
            self.get("alw").as_bool().unwrap(),
            self.get("rbt").as_i64().unwrap(),
        )
    }

    /// Plugs in with `rdpl` = `window_s` and returns the wait's end (rdple).
    fn plugged_delay_end(&mut self, window_s: i64) -> i64 {
        self.set("rdpl", &window_s.to_string());
        self.plug();
        self.step();
        self.get("rdple")
            .as_i64()
            .unwrap_or_else(|| panic!("rdple not set after plug-in: {}", self.get("rdple")))
    }
}

#[test]
fn plug_in_waits_a_random_time_within_rdpl_with_status_29() {
    let mut s = Sim::new(3);
    assert_eq!(s.get("rdple"), J::Null, "no delay before a plug-in");
    let end = s.plugged_delay_end(600);
    let rbt = s.get("rbt").as_i64().unwrap();
    assert!(
        end > rbt && end <= rbt + 600_000,
        "rdple {end} outside rbt {rbt} + 600 s"
    );
    assert_eq!(s.get("modelStatus"), 29);
    assert_eq!(s.get("alw"), false);
    // every second of the wait: 29, no current; then the default cascade
    loop {
        let (status, alw, rbt) = s.tick();
        if rbt >= end {
            assert_eq!((status, alw), (15, true), "charging once the delay ends");
            break;
        }
        assert_eq!(
            (status, alw),
            (29, false),
            "at rbt {rbt}, delay ends at {end}"
        );
        assert_eq!(s.get("nrg").as_array().unwrap()[11], 0);
    }
    assert_eq!(
        s.get("rdple"),
        J::Null,
        "the EndsAt key is null once the wait is over"
    );
    for _ in 0..5 {
        s.step();
    }
    assert_eq!(s.get("car"), 2, "the car charges after the delay");
}

#[test]
fn writing_null_to_rdple_aborts_the_wait() {
    let mut s = Sim::new(3);
    s.plugged_delay_end(3600);
    assert_eq!(s.tick().0, 29);
    s.set("rdple", "null");
    let (status, alw, _) = s.tick();
    assert_eq!((status, alw), (15, true));
}

#[test]
fn unplugging_ends_the_plug_in_delay() {
    let mut s = Sim::new(3);
    s.plugged_delay_end(3600);
    s.c.unplug(s.now).unwrap();
    s.step();
    assert_eq!(s.get("rdple"), J::Null);
    assert_ne!(s.get("modelStatus"), 29);
}

#[test]
fn power_return_waits_within_rdre() {
    let mut s = Sim::new(5);
    s.set("rdre", "300");
    s.plug();
    for _ in 0..10 {
        s.step();
    }
    assert_eq!(s.get("car"), 2, "charging before the restart");
    assert_eq!(s.get("rdree"), J::Null);
    s.set("rst", "true");
    s.step();
    let end = s.get("rdree").as_i64().expect("rdree set after the boot");
    assert!(
        end > 0 && end <= 300_000,
        "rdree {end} outside the 300 s window"
    );
    assert_eq!(s.get("modelStatus"), 29);
    assert_eq!(s.get("rdple"), J::Null, "the plugged car is no new plug-in");
    loop {
        let (status, alw, rbt) = s.tick();
        if rbt >= end {
            assert_eq!((status, alw), (15, true));
            break;
        }
        assert_eq!(
            (status, alw),
            (29, false),
            "at rbt {rbt}, delay ends at {end}"
        );
    }
    assert_eq!(s.get("rdree"), J::Null);
}

#[test]
fn the_seed_decides_the_delay() {
    let ends: Vec<i64> = (1..=6)
        .map(|seed| Sim::new(seed).plugged_delay_end(3600))
        .collect();
    let again: Vec<i64> = (1..=6)
        .map(|seed| Sim::new(seed).plugged_delay_end(3600))
        .collect();
    assert_eq!(ends, again, "same seed, same delay");
    assert!(
        ends.windows(2).any(|w| w[0] != w[1]),
        "the delay is random: {ends:?}"
    );
}

#[test]
fn a_zero_window_never_waits() {
    let mut s = Sim::new(3);
    s.set("rdpl", "0");
    s.plug();
    let (status, alw, _) = s.tick();
    assert_eq!((status, alw), (15, true));
    assert_eq!(s.get("rdple"), J::Null);
}

/// Runs until `key` (an EndsAt key) is set, at most `secs` seconds; returns its value.
fn run_until_set(s: &mut Sim, key: &str, secs: u32) -> i64 {
    for _ in 0..secs {
        s.step();
        if let Some(end) = s.get(key).as_i64() {
            return end;
        }
    }
    panic!(
        "{key} not set within {secs} s (modelStatus {})",
        s.get("modelStatus")
    );
}

#[test]
fn the_scheduler_window_starts_and_stops_after_rdbs_and_rdes() {
    let mut s = Sim::new(9);
    // 08:00 local now; the weekday range 08:02–08:30
    s.set(
        "sch_week",
        r#"{"control":1,"ranges":[{"begin":{"hour":8,"minute":2},"end":{"hour":8,"minute":30}}]}"#,
    );
    s.plug();
    assert_eq!(s.tick().0, 5, "blocked before the range");
    s.set("rdbs", "300");
    s.set("rdes", "300");
    let start = run_until_set(&mut s, "rdbse", 200);
    let rbt = s.get("rbt").as_i64().unwrap();
    assert!(
        start > rbt && start <= rbt + 300_000,
        "rdbse {start}, rbt {rbt}"
    );
    loop {
        let (status, alw, rbt) = s.tick();
        if rbt >= start {
            assert_eq!((status, alw), (15, true), "charging after the start delay");
            break;
        }
        assert_eq!(
            (status, alw),
            (5, false),
            "the scheduler's start waits at rbt {rbt}"
        );
    }
    assert_eq!(s.get("rdbse"), J::Null);
    let stop = run_until_set(&mut s, "rdese", 1800);
    loop {
        let (status, alw, rbt) = s.tick();
        if rbt >= stop {
            assert_eq!((status, alw), (5, false), "blocked after the stop delay");
            break;
        }
        assert_eq!((status, alw), (15, true), "charging goes on at rbt {rbt}");
    }
    assert_eq!(s.get("rdese"), J::Null);
}

#[test]
fn the_cheap_tariff_slot_starts_after_rdbf_and_null_aborts_rdef() {
    let mut s = Sim::new(4);
    let now_s = MONDAY_6_UTC / 1000;
    s.set("lmo", "4");
    s.set("awe", "true");
    s.set("awp", "10");
    s.set(
        "awpl",
        &format!(
            r#"{{"prices":[{{"start":{},"end":{},"marketprice":30}},{{"start":{},"end":{},"marketprice":5}},{{"start":{},"end":{},"marketprice":30}}]}}"#,
            now_s - 3600,
            now_s + 60,
            now_s + 60,
            now_s + 1800,
            now_s + 1800,
            now_s + 7200
        ),
    );
    s.set("rdbf", "600");
    s.set("rdef", "600");
    s.plug();
    assert_eq!(s.tick().0, 17, "expensive: waiting");
    let start = run_until_set(&mut s, "rdbfe", 120);
    loop {
        let (status, alw, rbt) = s.tick();
        if rbt >= start {
            assert_eq!(
                (status, alw),
                (7, true),
                "cheap slot charges after the delay"
            );
            break;
        }
        assert_eq!(
            (status, alw),
            (17, false),
            "the tariff start waits at rbt {rbt}"
        );
    }
    run_until_set(&mut s, "rdefe", 1900);
    assert_eq!(
        s.get("modelStatus"),
        7,
        "charging goes on after the cheap slot"
    );
    assert_eq!(s.get("alw"), true);
    s.set("rdefe", "null");
    let (status, alw, _) = s.tick();
    assert_eq!((status, alw), (17, false), "aborted: the stop happens now");
}
