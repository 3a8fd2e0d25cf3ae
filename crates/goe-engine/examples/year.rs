//! Simulates one year of one charger with a daily commute and prints the wall
//! time, with a progress bar on a terminal (none when stderr is not one).
//! `cargo run --release -p goe-engine --example year`
//!
//! The last line also gives the year against a baseline timed in the same
//! run: 1,000,000 SHA-256 digests of 1 KiB (see BENCHMARKS.md), done in five
//! slices between the year's quarters so that both see the same machine load.

use goe_engine::{CarProfile, Charger, SimTime};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::io::IsTerminal as _;
use std::time::Instant;

/// Digests in the baseline.
const BASELINE_DIGESTS: u32 = 1_000_000;
/// The baseline runs in this many slices, interleaved with the year.
const SLICES: u32 = 5;

/// Wall time of `count` SHA-256 digests of 1 KiB, in seconds.
fn baseline_secs(count: u32) -> f64 {
    let mut block = [0x5au8; 1024];
    let t0 = Instant::now();
    for i in 0..count {
        block[..4].copy_from_slice(&i.to_le_bytes());
        std::hint::black_box(Sha256::digest(std::hint::black_box(&block[..])));
    }
    t0.elapsed().as_secs_f64()
}

fn progress(days: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(days);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] day {pos}/{len} (eta {eta})")
            .expect("template")
            .progress_chars("=> "),
    );
    bar
}

fn main() {
    let mut baseline = 0.0;
    let mut year = 0.0;
    let start = SimTime(1_704_067_200_000); // 2024-01-01T00:00:00Z
    let mut c = Charger::boot("012345", None, start, 1).expect("boot");
    let profile = CarProfile::builtin("ev-3p-11kw").expect("profile");
    let bar = progress(365);
    let mut t0 = Instant::now();
    let mut steps = 0u64;
    for day in 0..365i64 {
        if day % 73 == 0 {
            year += t0.elapsed().as_secs_f64();
            baseline += baseline_secs(BASELINE_DIGESTS / SLICES);
            t0 = Instant::now();
        }
        let day_start = start.plus_ms(day * 86_400_000);
        // home at 18:00 with 40 % left, leaves at 07:00
        c.step(day_start.plus_ms(18 * 3_600_000));
        let _ = c.plug(day_start.plus_ms(18 * 3_600_000), profile.clone(), 40.0);
        c.step(day_start.plus_ms(31 * 3_600_000));
        let _ = c.unplug(day_start.plus_ms(31 * 3_600_000));
        steps += 86_400;
        bar.inc(1);
    }
    c.step(start.plus_ms(365 * 86_400_000));
    let secs = year + t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    println!(
        "one year ({steps} steps) in {secs:.2} s: {:.0} steps/s, eto {:?}",
        steps as f64 / secs,
        c.value("eto")
    );
    println!(
        "baseline: {BASELINE_DIGESTS} SHA-256 of 1 KiB in {baseline:.3} s; year / baseline = {:.2}",
        secs / baseline
    );
}
