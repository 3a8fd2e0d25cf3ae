//! Simulates one year of one charger with a daily commute and prints the wall time.
//! `cargo run --release -p goe-engine --example year`

use goe_engine::{CarProfile, Charger, SimTime};
use std::time::Instant;

fn main() {
    let start = SimTime(1_704_067_200_000); // 2024-01-01T00:00:00Z
    let mut c = Charger::boot("012345", None, start, 1).expect("boot");
    let profile = CarProfile::builtin("ev-3p-11kw").expect("profile");
    let t0 = Instant::now();
    let mut steps = 0u64;
    for day in 0..365i64 {
        let day_start = start.plus_ms(day * 86_400_000);
        // home at 18:00 with 40 % left, leaves at 07:00
        c.step(day_start.plus_ms(18 * 3_600_000));
        let _ = c.plug(day_start.plus_ms(18 * 3_600_000), profile.clone(), 40.0);
        c.step(day_start.plus_ms(31 * 3_600_000));
        let _ = c.unplug(day_start.plus_ms(31 * 3_600_000));
        steps += 86_400;
    }
    c.step(start.plus_ms(365 * 86_400_000));
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "one year ({steps} steps) in {secs:.2} s: {:.0} steps/s, eto {:?}",
        steps as f64 / secs,
        c.value("eto")
    );
}
