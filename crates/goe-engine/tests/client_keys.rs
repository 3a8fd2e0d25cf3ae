//! Keys that clients read on newer firmware (issue #12 point 4), in the
//! engine: the energy split by source adds up, and the per-card keys follow
//! `cards` both ways.

use goe_engine::logic::split_power;
use goe_engine::{CarProfile, Charger, SimTime};
use proptest::prelude::*;
use serde_json::Value as J;

/// 2024-06-03T06:00:00Z, a Monday.
const MONDAY_6_UTC: i64 = 1_717_394_400_000;

fn boot(firmware: &str) -> (Charger, SimTime) {
    let now = SimTime(MONDAY_6_UTC);
    let profile = goe_keys::profile(firmware).unwrap();
    (
        Charger::boot_on(profile, "012345", None, now, 7).unwrap(),
        now,
    )
}

fn status(c: &mut Charger, now: SimTime) -> J {
    let mut s = String::new();
    c.write_status(now, None, &mut s);
    serde_json::from_str(&s).unwrap()
}

fn num(s: &J, key: &str) -> f64 {
    s[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is {}", s[key]))
}

proptest! {
    #[test]
    fn the_split_of_the_car_power_adds_up(
        power in 0.0..30_000.0f64,
        pv in 0.0..20_000.0f64,
        battery in -10_000.0..10_000.0f64,
        house in 0.0..15_000.0f64,
    ) {
        let parts = split_power(power, pv, battery, house);
        for p in parts {
            prop_assert!(p >= 0.0, "{parts:?}");
        }
        prop_assert!((parts.iter().sum::<f64>() - power).abs() < 1e-6, "{parts:?}");
        // PV left after the house goes to the car first
        prop_assert!((parts[0] - power.min((pv - house).max(0.0))).abs() < 1e-6);
    }
}

#[test]
fn a_pv_battery_grid_session_is_split_and_adds_up_to_wh() {
    let (mut c, mut now) = boot("060.5");
    // 3 kW PV, 1 kW house, 1.5 kW battery discharge: the car's 11 kW come
    // 2 kW from PV, 1.5 kW from the battery, the rest from the grid
    c.set_grid(now, Some(3000.0), Some(1000.0), Some(1500.0))
        .unwrap();
    c.plug(now, CarProfile::builtin("ev-3p-11kw").unwrap(), 30.0)
        .unwrap();
    for _ in 0..600 {
        now = now.plus_ms(1000);
        c.step(now);
    }
    let s = status(&mut c, now);
    let (wh, whs, whb, whg, who) = (
        num(&s, "wh"),
        num(&s, "whs"),
        num(&s, "whb"),
        num(&s, "whg"),
        num(&s, "who"),
    );
    assert!(wh > 1000.0, "{s}");
    assert!((whs + whb + whg + who - wh).abs() < 0.01, "{s}");
    assert!(whs > 0.0 && whb > 0.0 && whg > 0.0 && who == 0.0, "{s}");
    // 10 minutes at 2 kW solar ≈ 333 Wh (the first seconds start slowly)
    assert!((whs - 333.0).abs() < 15.0, "whs {whs}");
    let (ws, wb, wg, wo) = (num(&s, "ws"), num(&s, "wb"), num(&s, "wg"), num(&s, "wo"));
    let p = s["nrg"][11].as_f64().unwrap();
    assert!(
        (ws - 2000.0).abs() < 1.0 && (wb - 1500.0).abs() < 1.0,
        "{s}"
    );
    assert!((ws + wb + wg + wo - p).abs() < 0.05, "{s}");
    // the next plug-in starts from zero
    c.unplug(now).unwrap();
    c.plug(now, CarProfile::builtin("ev-3p-11kw").unwrap(), 30.0)
        .unwrap();
    let s = status(&mut c, now);
    for k in ["whs", "whg", "whb", "who"] {
        assert_eq!(s[k], J::from(0), "{k}");
    }
}

#[test]
fn without_meter_data_everything_is_other() {
    let (mut c, mut now) = boot("060.5");
    let s = status(&mut c, now);
    assert_eq!(
        (&s["ws"], &s["wg"], &s["wb"], &s["wo"]),
        (&J::Null, &J::Null, &J::Null, &J::from(0)),
        "idle as syssi's 060.5 capture"
    );
    c.plug(now, CarProfile::builtin("ev-3p-11kw").unwrap(), 30.0)
        .unwrap();
    for _ in 0..120 {
        now = now.plus_ms(1000);
        c.step(now);
    }
    let s = status(&mut c, now);
    assert!(num(&s, "who") > 0.0, "{s}");
    assert!((num(&s, "who") - num(&s, "wh")).abs() < 0.01, "{s}");
    assert_eq!(
        (&s["ws"], &s["wg"], &s["wb"]),
        (&J::Null, &J::Null, &J::Null)
    );
}

#[test]
fn per_card_keys_follow_cards_both_ways() {
    let (mut c, now) = boot("060.5");
    let s = status(&mut c, now);
    for i in 0..10 {
        assert_eq!(s[format!("c{i}n")], s["cards"][i]["name"], "c{i}n");
        assert_eq!(s[format!("c{i}e")], s["cards"][i]["energy"], "c{i}e");
        assert_eq!(s[format!("c{i}i")], s["cards"][i]["cardId"], "c{i}i");
    }
    c.set(now, "c2n", "\"Bob\"").unwrap();
    c.set(now, "c2i", "\"04A1B2C3\"").unwrap();
    c.set(now, "cards", r#"[{},{},{},{"name":"Carol","energy":7}]"#)
        .unwrap();
    let s = status(&mut c, now);
    assert_eq!(s["cards"][2]["name"], "Bob");
    assert_eq!(s["cards"][2]["cardId"], true);
    assert_eq!(s["c2i"], true);
    assert_eq!(s["c3n"], "Carol");
    assert_eq!(s["c3e"], 7);
    assert_eq!(c.value("c2i").and_then(|v| v.as_str()), Some("04A1B2C3"));
    c.set(now, "c2i", "\"\"").unwrap();
    let s = status(&mut c, now);
    assert_eq!(
        (&s["c2i"], &s["cards"][2]["cardId"]),
        (&J::from(false), &J::from(false))
    );
}
