//! The engine's logic follows the key definitions of its firmware (issue #12
//! point 3): the button's lock modes (`bac`), `rst` values, `car`
//! Initializing after boot, `tls` as a timestamp, `lot.amp`/`lot.dyn`, the
//! scheduler's seconds and controls 3/4, the v2 price list.

use goe_engine::charger::{button_unlocked, restart_requested};
use goe_engine::loadbalance::lot_amps;
use goe_engine::{CarProfile, Charger, SimTime};
use goe_keys::Value;

/// 2024-06-03T06:00:00Z, a Monday (08:00 local, summer time).
const MONDAY_6_UTC: i64 = 1_717_394_400_000;

fn boot(version: &str) -> (Charger, SimTime) {
    let now = SimTime(MONDAY_6_UTC);
    let p = goe_keys::profile(version).unwrap();
    (Charger::boot_on(p, "012345", None, now, 7).unwrap(), now)
}

fn run(c: &mut Charger, now: &mut SimTime, secs: i64) {
    for _ in 0..secs {
        *now = SimTime(now.0 + 1000);
        c.step(*now);
    }
}

fn int(c: &Charger, key: &str) -> Option<i64> {
    c.value(key).and_then(Value::as_i64)
}

#[test]
fn the_button_follows_the_bac_lock_mode() {
    let (mut c, mut now) = boot("060.5");
    run(&mut c, &mut now, 2);
    c.set(now, "clp", "[6,10,16]").unwrap();
    c.set(now, "amp", "6").unwrap();
    let press = |c: &mut Charger, now: SimTime| {
        let before = int(c, "amp");
        c.press_button(now);
        int(c, "amp") != before
    };
    c.set(now, "bac", "0").unwrap();
    assert!(!press(&mut c, now), "AlwaysLock");
    c.set(now, "bac", "1").unwrap();
    assert!(press(&mut c, now), "LockWhenCarIsConnected, no car");
    c.plug(now, CarProfile::builtin("ev-3p-11kw").unwrap(), 50.0)
        .unwrap();
    run(&mut c, &mut now, 1);
    assert_eq!(int(&c, "car"), Some(3));
    assert!(!press(&mut c, now), "LockWhenCarIsConnected, car waiting");
    c.set(now, "bac", "2").unwrap();
    assert!(press(&mut c, now), "LockWhenCarIsCharging, car waiting");
    run(&mut c, &mut now, 4);
    assert_eq!(int(&c, "car"), Some(2));
    assert!(!press(&mut c, now), "LockWhenCarIsCharging, charging");
    c.set(now, "bac", "3").unwrap();
    assert!(press(&mut c, now), "NeverLock");

    // the 2021 bool
    assert!(button_unlocked(&Value::Bool(true), Some(2)));
    assert!(!button_unlocked(&Value::Bool(false), Some(1)));
    let (mut old, now) = boot("051.4");
    old.set(now, "bac", "false").unwrap();
    let before = int(&old, "amp");
    old.press_button(now);
    assert_eq!(int(&old, "amp"), before);
}

#[test]
fn a_configuration_stored_by_051_4_boots_on_060_5() {
    let stored: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
        r#"{"bac":true,"sdp":false,"lot":24,"sch_week":{"control":1,"ranges":[{"begin":{"hour":7,"minute":0},"end":{"hour":8,"minute":0}}]}}"#,
    )
    .unwrap();
    let p = goe_keys::profile("060.5").unwrap();
    // as the firmware update converts it: strictly refused unconverted
    assert!(Charger::boot_on(p, "012345", Some(&stored), SimTime(MONDAY_6_UTC), 7).is_err());
    let (converted, dropped) = goe_engine::migrate_stored(p, "012345", &stored);
    assert!(dropped.is_empty(), "{dropped:?}");
    let c = Charger::boot_on(p, "012345", Some(&converted), SimTime(MONDAY_6_UTC), 7).unwrap();
    assert_eq!(int(&c, "bac"), Some(3), "true (allowed) = NeverLock");
    assert_eq!(int(&c, "sdp"), Some(0), "false = AlwaysLock");
    assert_eq!(c.load_total(), 24);
    let sch = c.value("sch_week").unwrap();
    assert_eq!(sch.field("control").and_then(Value::as_i64), Some(1));
}

#[test]
fn rst_restarts_on_what_the_firmware_takes() {
    for (raw, restarts) in [
        ("true", true),
        ("\"true\"", true),
        ("1", true),
        ("false", false),
        ("0", false),
        ("\"false\"", false),
        ("null", false),
    ] {
        let (mut c, now) = boot("060.5");
        let outcome = c.set(now, "rst", raw).unwrap();
        assert_eq!(outcome.restart, restarts, "rst={raw}");
    }
    assert!(restart_requested(&Value::Str("yes".into())));
    let (mut old, now) = boot("051.4");
    assert!(old.set(now, "rst", "\"true\"").is_err());
    assert!(old.set(now, "rst", "true").unwrap().restart);
}

#[test]
fn car_shows_initializing_in_the_second_after_a_restart_on_the_newer_firmware() {
    for version in ["060.5", "056.2"] {
        let (mut c, mut now) = boot(version);
        // a started process is a unit whose API came up after its boot
        assert_eq!(int(&c, "car"), Some(1), "{version} at start");
        c.restart(now);
        assert_eq!(int(&c, "car"), Some(6), "{version} right after a restart");
        run(&mut c, &mut now, 1);
        assert_eq!(int(&c, "car"), Some(1), "{version} one second later");
    }
    let (mut c, now) = boot("051.4");
    c.restart(now);
    assert_eq!(int(&c, "car"), Some(1));
}

#[test]
fn tls_is_a_timestamp_of_the_test_charge_on_60x() {
    let (mut c, mut now) = boot("060.5");
    assert_eq!(c.value("tls"), Some(&Value::Null));
    c.plug(now, CarProfile::builtin("ev-3p-11kw").unwrap(), 50.0)
        .unwrap();
    run(&mut c, &mut now, 1);
    assert_eq!(c.value("tls"), Some(&Value::Null), "no test charge yet");
    let (mut old, now) = boot("051.4");
    old.plug(now, CarProfile::builtin("ev-3p-11kw").unwrap(), 50.0)
        .unwrap();
    assert_eq!(old.value("tls"), Some(&Value::Bool(false)));
}

#[test]
fn load_balancing_reads_lot_amp_and_lot_dyn() {
    let lot = Value::from_json(&serde_json::json!({"amp":20,"dyn":40,"sta":16,"ts":3}));
    assert_eq!(lot_amps(&lot, false), 20);
    assert_eq!(lot_amps(&lot, true), 40);
    assert_eq!(lot_amps(&Value::Int(25), false), 25);
    assert_eq!(lot_amps(&Value::Int(25), true), 25);
    let (mut c, now) = boot("060.5");
    c.set(now, "lot", r#"{"amp":24}"#).unwrap();
    assert_eq!(c.load_total(), 24);
    c.set(now, "loty", "1").unwrap();
    assert_eq!(c.load_total(), 32, "dynamic: lot.dyn");
    let (mut old, now) = boot("051.4");
    old.set(now, "lot", "18").unwrap();
    assert_eq!(old.load_total(), 18);
}

#[test]
fn scheduler_controls_3_and_4_and_seconds() {
    // 08:00:01 local on a Monday after one step; a range 07:59:30..08:00:30
    // contains it, 08:00:05..09:00:00 does not (the 2021 minutes could not say)
    let day = |control: i64, b: (i64, i64, i64), e: (i64, i64, i64)| {
        format!(
            r#"{{"control":{control},"ranges":[{{"begin":{{"hour":{},"minute":{},"second":{}}},"end":{{"hour":{},"minute":{},"second":{}}}}}]}}"#,
            b.0, b.1, b.2, e.0, e.1, e.2
        )
    };
    let model = |control: i64, b, e| {
        let (mut c, mut now) = boot("060.5");
        c.set(now, "sch_week", &day(control, b, e)).unwrap();
        run(&mut c, &mut now, 1);
        int(&c, "modelStatus")
    };
    let inside = ((7, 59, 30), (8, 0, 30));
    let after = ((8, 0, 5), (9, 0, 0));
    // 5 = NotChargingBecauseScheduler
    assert_ne!(
        model(3, inside.0, inside.1),
        Some(5),
        "AllowFromGrid inside"
    );
    assert_eq!(model(3, after.0, after.1), Some(5), "AllowFromGrid outside");
    assert_eq!(
        model(4, inside.0, inside.1),
        Some(5),
        "BlockFromGrid inside"
    );
    assert_ne!(model(4, after.0, after.1), Some(5), "BlockFromGrid outside");
}

#[test]
fn the_v2_price_list_feeds_the_current_price() {
    let (mut c, mut now) = boot("060.5");
    let start = MONDAY_6_UTC / 1000 - 60;
    let list = format!(
        r#"{{"prices":[{{"start":{start},"end":{},"marketprice":7.5}}]}}"#,
        start + 3600
    );
    c.set(now, "awpl", &list).unwrap();
    run(&mut c, &mut now, 1);
    let awcp = c.value("awcp").cloned().unwrap_or(Value::Null);
    assert_eq!(
        awcp.field("marketprice").and_then(Value::as_f64),
        Some(7.5),
        "awcp {awcp:?}"
    );
}
