//! The home battery in the simulated world (#13 point 2): its
//! self-consumption controller at the grid point, `po` deciding who gets the
//! surplus, a stable loop with the PV controller at `ids` cadences of 1 and
//! 5 s and with the simulated meter, and an energy split in which the car
//! never takes power the house needs.

use goe_engine::{BatterySettings, CarProfile, Charger, SimTime};
use serde_json::Value as J;

/// 2024-06-03T06:00:00Z, a Monday.
const MONDAY_6_UTC: i64 = 1_717_394_400_000;

struct Sim {
    c: Charger,
    now: SimTime,
    pv: f64,
    house: f64,
}

/// How the charger's PV logic learns about the grid point.
#[derive(Debug, Clone, Copy)]
enum Feed {
    /// The simulated meter, every second.
    Meter,
    /// `ids` written every this many seconds, as a bridge reads the meter.
    Ids(u32),
}

impl Sim {
    /// PV `pv` W, house `house` W, a 10 kWh / 3 kW battery at `soc` %, a
    /// one-phase car in eco mode with PV surplus, and `extra` settings.
    fn new(pv: f64, house: f64, soc: f64, extra: &[(&str, &str)]) -> Sim {
        let now = SimTime(MONDAY_6_UTC);
        let c = Charger::boot("012345", None, now, 13).unwrap();
        let mut s = Sim { c, now, pv, house };
        for (k, v) in [
            ("lmo", "4"),
            ("fup", "true"),
            ("psm", "1"),
            ("awe", "false"),
        ]
        .iter()
        .chain(extra)
        {
            s.c.set(s.now, k, v).unwrap();
        }
        s.c.set_grid(s.now, Some(pv), Some(house), None).unwrap();
        s.c.set_battery(
            s.now,
            &BatterySettings {
                capacity_wh: Some(10_000.0),
                soc: Some(soc),
                max_charge_w: Some(3000.0),
                max_discharge_w: Some(3000.0),
                ..BatterySettings::default()
            },
        )
        .unwrap();
        // the battery settles on the house before the car arrives (a bridge's
        // first reading then shows the battery's power, not 0)
        for _ in 0..5 {
            s.now = s.now.plus_ms(1000);
            s.c.step(s.now);
        }
        s.c.plug(s.now, CarProfile::builtin("ev-1p-16a").unwrap(), 20.0)
            .unwrap();
        s
    }

    fn status(&mut self) -> J {
        let mut out = String::new();
        self.c.write_status(self.now, None, &mut out);
        serde_json::from_str(&out).unwrap()
    }

    /// One second; with `Feed::Ids` the bridge writes `ids` first when due.
    fn second(&mut self, feed: Feed, t: u32) -> J {
        if let Feed::Ids(every) = feed
            && t.is_multiple_of(every)
        {
            let state = self.c.sim_state(self.now);
            let g = state.grid;
            let pgrid = g.house_w + state.power_w - g.pv_w - g.battery_w;
            let ids = format!(
                r#"{{"pGrid":{pgrid},"pPv":{},"pAkku":{}}}"#,
                g.pv_w, g.battery_w
            );
            self.c.set(self.now, "ids", &ids).unwrap();
        }
        self.now = self.now.plus_ms(1000);
        self.c.step(self.now);
        self.status()
    }

    fn battery_w(&self) -> f64 {
        self.c.sim_state(self.now).grid.battery_w
    }

    fn soc(&self) -> f64 {
        self.c.sim_state(self.now).battery.unwrap().soc
    }
}

fn num(s: &J, key: &str) -> f64 {
    s[key].as_f64().unwrap_or(f64::NAN)
}

/// Car priority (the default `po` −300): PV 4000 W, house 500 W, 3500 W of
/// surplus. The car takes all but the battery's 300 W share, the battery
/// charges with what is left, the grid stays at 0; the current holds within
/// 1 A for 10 minutes at `ids` every 1 and 5 s and with the meter.
#[test]
fn car_priority_leaves_the_battery_its_offset_and_holds() {
    for feed in [Feed::Meter, Feed::Ids(1), Feed::Ids(5)] {
        let mut s = Sim::new(4000.0, 500.0, 50.0, &[]);
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for t in 0..900 {
            let st = s.second(feed, t);
            if t < 300 {
                continue;
            }
            let acu = st["acu"].as_i64().unwrap_or(0);
            lo = lo.min(acu);
            hi = hi.max(acu);
            let car = st["nrg"][11].as_f64().unwrap();
            let bat = s.battery_w();
            // the battery charges (never discharges into the car) and the
            // grid point stays balanced: nothing imported, nothing exported
            assert!(
                (-600.0..=0.0).contains(&bat),
                "{feed:?}: battery {bat} W at {t}"
            );
            let grid = s.house + car - s.pv - bat;
            // (the car's power moves a little each second with the voltage)
            assert!(grid.abs() < 50.0, "{feed:?}: grid {grid} W at {t} ({car})");
            assert_eq!(num(&st, "wb"), 0.0, "{feed:?}: wb at {t}");
            assert!(
                num(&st, "wg") < 1.0,
                "{feed:?}: wg {} at {t}",
                num(&st, "wg")
            );
        }
        // (3500 − 300) W / 230 V = 13.9 A
        assert!(
            hi - lo <= 1 && (13..=14).contains(&lo),
            "{feed:?}: acu {lo}..{hi}"
        );
    }
}

/// Battery priority (`po` far below the battery's charging power): the car
/// does not start while the battery takes the surplus, and starts once it
/// is full; the battery then neither charges nor feeds the car.
#[test]
fn battery_priority_charges_the_battery_first() {
    for feed in [Feed::Meter, Feed::Ids(5)] {
        let mut s = Sim::new(4000.0, 500.0, 99.0, &[("po", "-10000")]);
        // 100 Wh of room at 3000 W: full after two minutes
        for t in 0..100 {
            let st = s.second(feed, t);
            assert_eq!(num(&st, "modelStatus"), 17.0, "{feed:?}: waits at {t}");
            assert!(
                s.battery_w() <= -2999.0 || t < 2,
                "{feed:?}: battery {}",
                s.battery_w()
            );
        }
        let mut started = None;
        for t in 100..400 {
            let st = s.second(feed, t);
            if started.is_none() && num(&st, "modelStatus") == 12.0 {
                started = Some(t);
            }
        }
        assert!(
            started.is_some(),
            "{feed:?}: the car started once the battery was full"
        );
        assert!((s.soc() - 100.0).abs() < 1e-6, "{feed:?}: soc {}", s.soc());
        let st = s.status();
        // 3500 W / 230 V = 15.2 A
        assert!(
            (14..=16).contains(&st["acu"].as_i64().unwrap_or(0)),
            "{feed:?}: acu {}",
            st["acu"]
        );
        assert!(
            s.battery_w().abs() < 250.0,
            "{feed:?}: battery {}",
            s.battery_w()
        );
    }
}

/// At night the battery covers the house, not the car: PV surplus charging
/// stops (after its grace period) instead of draining the battery, and the
/// split never books battery power to the car while the house needs it.
#[test]
fn at_night_the_car_does_not_drain_the_battery() {
    for feed in [Feed::Meter, Feed::Ids(5)] {
        let mut s = Sim::new(4000.0, 500.0, 50.0, &[]);
        for t in 0..300 {
            s.second(feed, t);
        }
        s.c.set_grid(s.now, Some(0.0), None, None).unwrap();
        s.pv = 0.0;
        let mut stopped_at = None;
        for t in 300..600 {
            let st = s.second(feed, t);
            let car = st["nrg"][11].as_f64().unwrap();
            // what the battery gives beyond the house is all the car could take
            let beyond_house = (s.battery_w() - s.house).max(0.0);
            assert!(
                num(&st, "wb") <= beyond_house + 50.0,
                "{feed:?}: wb {} with battery {} at {t}",
                num(&st, "wb"),
                s.battery_w()
            );
            if stopped_at.is_none() && car == 0.0 {
                stopped_at = Some(t);
            }
        }
        let stopped = stopped_at.expect("PV charging stops without PV");
        // the grace period of a minute plus the smoothing, not longer
        assert!(
            stopped - 300 <= 90,
            "{feed:?}: stopped after {} s",
            stopped - 300
        );
        let st = s.status();
        assert_eq!(num(&st, "modelStatus"), 17.0);
        assert!(
            (s.battery_w() - 500.0).abs() < 1.0,
            "the battery covers the house"
        );
    }
}
