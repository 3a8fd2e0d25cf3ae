//! Errors as the firmware handles them and the session/meter details of
//! issue #13: `modelStatus` 26 where the firmware has it, each error's
//! clearing rule (by itself, replug, restart; Norway mode from boot), `cdi`
//! after an unplug mid-charge, `tpa` as a 30 s average, `rbt` never 0 and no
//! timestamp after it.

use goe_engine::{CarProfile, Charger, SimTime};
use goe_keys::Profile;
use serde_json::Value as J;

/// 2024-06-03T06:00:00Z.
const T0: i64 = 1_717_394_400_000;

struct Sim {
    c: Charger,
    now: SimTime,
}

impl Sim {
    fn on(version: &str) -> Sim {
        let now = SimTime(T0);
        let profile: &'static Profile = goe_keys::profile(version).unwrap();
        let c = Charger::boot_on(profile, "012345", None, now, 7).unwrap();
        Sim { c, now }
    }

    fn status(&mut self) -> J {
        let mut s = String::new();
        self.c.write_status(self.now, None, &mut s);
        serde_json::from_str(&s).unwrap()
    }

    fn get(&mut self, key: &str) -> J {
        self.status()[key].clone()
    }

    fn run(&mut self, secs: u32) -> &mut Self {
        for _ in 0..secs {
            self.now = self.now.plus_ms(1000);
            self.c.step(self.now);
        }
        self
    }

    fn plug(&mut self, car: &str) -> &mut Self {
        self.c
            .plug(self.now, CarProfile::builtin(car).unwrap(), 40.0)
            .unwrap();
        self
    }

    fn fault(&mut self, err: u8) -> &mut Self {
        self.c.inject_fault(self.now, err).unwrap();
        self
    }

    fn err_ms(&mut self) -> (J, J) {
        let s = self.status();
        (s["err"].clone(), s["modelStatus"].clone())
    }
}

#[test]
fn an_error_is_26_where_the_enum_has_it_and_0_on_051_4() {
    for (version, code) in [("051.4", 0), ("056.2", 26), ("060.5", 26)] {
        let mut s = Sim::on(version);
        s.plug("ev-3p-11kw").run(5);
        s.fault(4).run(1);
        assert_eq!(s.err_ms(), (J::from(4), J::from(code)), "{version}");
        assert_eq!(s.get("car"), 5, "{version}");
        assert_eq!(s.get("alw"), false, "{version}");
        assert_eq!(s.get("acu"), J::Null, "{version}");
    }
}

#[test]
fn a_condition_error_clears_by_itself() {
    let mut s = Sim::on("060.5");
    s.plug("ev-3p-11kw").run(5);
    s.fault(16).run(2);
    assert_eq!(s.err_ms(), (J::from(16), J::from(26)));
    s.fault(0).run(1);
    assert_eq!(s.err_ms(), (J::from(0), J::from(15)), "Overtemp gone");
}

#[test]
fn over_current_needs_a_replug() {
    let mut s = Sim::on("060.5");
    s.plug("ev-3p-11kw").run(5);
    s.fault(5).run(2);
    assert_eq!(s.err_ms(), (J::from(5), J::from(26)));
    s.fault(0).run(30);
    assert_eq!(s.err_ms(), (J::from(5), J::from(26)), "still latched");
    s.c.restart(s.now);
    s.run(5);
    assert_eq!(
        s.err_ms(),
        (J::from(0), J::from(15)),
        "a restart clears too"
    );
    s.fault(5).run(2);
    s.c.unplug(s.now).unwrap();
    s.run(1);
    assert_eq!(s.err_ms(), (J::from(0), J::from(15)), "unplugged");
    assert_eq!(s.get("car"), 1);
    s.plug("ev-3p-11kw").run(5);
    assert_eq!(s.get("car"), 2, "charges again after the replug");
}

#[test]
fn a_ground_fault_needs_a_restart_and_norway_mode_counts_from_boot() {
    let mut s = Sim::on("060.5");
    s.plug("ev-3p-11kw").run(5);
    s.fault(8).run(2);
    assert_eq!(s.err_ms(), (J::from(8), J::from(26)));
    // the installation is fixed: the error stays until a restart
    s.fault(0).run(10);
    s.c.unplug(s.now).unwrap();
    s.plug("ev-3p-11kw").run(5);
    assert_eq!(
        s.err_ms(),
        (J::from(8), J::from(26)),
        "replug does not clear"
    );
    s.c.restart(s.now);
    s.run(5);
    assert_eq!(s.err_ms(), (J::from(0), J::from(15)));
    // no PE at all: the check fails again after every restart, until Norway
    // mode (nmo, ground check off) is on at boot
    s.fault(8).run(2);
    s.c.set(s.now, "nmo", "true").unwrap();
    s.run(5);
    assert_eq!(s.err_ms(), (J::from(8), J::from(26)), "nmo needs a reboot");
    s.c.restart(s.now);
    s.run(5);
    assert_eq!(s.err_ms(), (J::from(0), J::from(15)), "Norway mode");
    assert_eq!(s.get("car"), 2);
}

#[test]
fn cdi_stops_when_the_car_is_unplugged_mid_charge() {
    let mut s = Sim::on("060.5");
    s.plug("ev-3p-11kw").run(10);
    assert_eq!(s.get("cdi")["type"], 0, "counting while charging");
    s.run(20);
    s.c.unplug(s.now).unwrap();
    s.run(1);
    let cdi = s.get("cdi");
    assert_eq!(cdi["type"], 1, "{cdi}");
    let ms = cdi["value"].as_i64().unwrap();
    assert!((25_000..=30_000).contains(&ms), "charged ~27 s: {cdi}");
    s.run(60);
    assert_eq!(s.get("cdi"), cdi, "stopped");
}

#[test]
fn tpa_is_the_average_of_the_last_30_seconds() {
    let mut s = Sim::on("060.5");
    s.plug("ev-3p-11kw").run(60);
    let mut powers = Vec::new();
    for _ in 0..30 {
        s.run(1);
        powers.push(s.get("nrg")[11].as_f64().unwrap());
    }
    let mean = powers.iter().sum::<f64>() / 30.0;
    let tpa = s.get("tpa").as_f64().unwrap();
    assert!((tpa - mean).abs() < 5.0, "tpa {tpa}, mean {mean}");
    s.c.unplug(s.now).unwrap();
    s.run(29);
    assert!(s.get("tpa").as_f64().unwrap() > 0.0, "one sample still in");
    s.run(1);
    assert_eq!(s.get("tpa"), 0, "30 s after the last power: 0");
}

/// Every timestamp key (ms since boot) of the status is ≤ `rbt`, and `rbt` > 0.
fn assert_no_future_timestamps(s: &mut Sim, when: &str) {
    let status = s.status();
    let rbt = status["rbt"].as_i64().unwrap();
    assert!(rbt > 0, "{when}: rbt {rbt}");
    let profile = s.c.profile();
    for (_, def) in profile.readable_keys() {
        if def.access.writable() || !matches!(def.base(), goe_keys::Base::Millis) {
            continue;
        }
        if let Some(t) = status[def.name].as_i64()
            && is_timestamp(def.name)
        {
            assert!(t <= rbt, "{when}: {} {t} after rbt {rbt}", def.name);
        }
    }
}

fn is_timestamp(name: &str) -> bool {
    // the read-only millisecond keys that are durations or offsets, not
    // moments since boot
    !matches!(
        name,
        "rbt" | "tssi" | "lto" | "inva" | "fsptws" | "alwt" | "mstr" | "mstw" | "ocppte"
    )
}

#[test]
fn rbt_is_never_0_and_no_timestamp_lies_in_the_future() {
    for version in ["051.4", "056.2", "060.5"] {
        let mut s = Sim::on(version);
        assert_no_future_timestamps(&mut s, &format!("{version} at boot"));
        s.plug("ev-1p-16a").run(20);
        s.c.restart(s.now);
        assert_no_future_timestamps(&mut s, &format!("{version} after a restart"));
        s.run(3);
        assert_no_future_timestamps(&mut s, &format!("{version} running"));
    }
}
