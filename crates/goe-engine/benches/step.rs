//! The cost of one simulated second of one charger (`Charger::step`), and of
//! rendering its status, against two fixed baselines measured in the same run:
//! SHA-256 of 1 KiB and a clone of the charger's value vector.
//!
//! `cargo bench -p goe-engine --bench step` (or `scripts/bench-engine.sh`,
//! which also prints steps/s and the ratios). Figures: BENCHMARKS.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use goe_engine::{CarProfile, Charger, KeySet, SimTime};
use sha2::{Digest, Sha256};
use std::hint::black_box;

/// 2024-01-01T00:00:00Z (a Monday).
const START: SimTime = SimTime(1_704_067_200_000);
const DAY_S: i64 = 86_400;

fn boot() -> Charger {
    Charger::boot("012345", None, START, 1).expect("boot")
}

fn profile() -> CarProfile {
    CarProfile::builtin("ev-3p-11kw").expect("profile")
}

fn baselines(c: &mut Criterion) {
    let mut g = c.benchmark_group("baseline");
    g.throughput(Throughput::Elements(1));
    let block = [0x5au8; 1024];
    g.bench_function("sha256_1KiB", |b| {
        b.iter(|| Sha256::digest(black_box(&block[..])))
    });
    let charger = boot();
    let values: Vec<goe_keys::Value> = (0..goe_keys::KEYS.len())
        .map(|kid| charger.value_by_id(kid).clone())
        .collect();
    g.bench_function("values_clone", |b| b.iter(|| black_box(&values).clone()));
    g.finish();
}

fn steps(c: &mut Criterion) {
    let mut g = c.benchmark_group("step");
    g.throughput(Throughput::Elements(1));

    // No car: the logic, the meter noise and the clock keys, every second.
    let mut idle = boot();
    let mut t = 0i64;
    g.bench_function("idle", |b| {
        b.iter(|| {
            t += 1;
            idle.step(START.plus_ms(t * 1000))
        })
    });

    // The same, 60 simulated seconds per call: the logic alone, without the
    // clock keys' refresh that ends every `step` (how `examples/year.rs` runs).
    let mut batch = boot();
    let mut t = 0i64;
    g.throughput(Throughput::Elements(60));
    g.bench_function("idle_batch60", |b| {
        b.iter(|| {
            t += 60;
            batch.step(START.plus_ms(t * 1000))
        })
    });
    g.throughput(Throughput::Elements(1));

    // An 11 kW car charging all the time (re-plugged at 20 % every 4 h,
    // before it is full).
    let mut busy = boot();
    let car = profile();
    busy.plug(START, car.clone(), 20.0).expect("plug");
    let mut t = 0i64;
    g.bench_function("charging", |b| {
        b.iter(|| {
            t += 1;
            let now = START.plus_ms(t * 1000);
            if t % (4 * 3600) == 0 {
                let _ = busy.unplug(now);
                let _ = busy.plug(now, car.clone(), 20.0);
            }
            busy.step(now)
        })
    });

    // The year example's day: home at 18:00 with 40 %, leaves at 07:00.
    let mut commute = boot();
    let mut t = 0i64;
    g.bench_function("commute", |b| {
        b.iter(|| {
            t += 1;
            let now = START.plus_ms(t * 1000);
            match t % DAY_S {
                s if s == 18 * 3600 => {
                    let _ = commute.plug(now, car.clone(), 40.0);
                }
                s if s == 7 * 3600 => {
                    let _ = commute.unplug(now);
                }
                _ => {}
            }
            commute.step(now)
        })
    });
    g.finish();
}

fn status(c: &mut Criterion) {
    let mut g = c.benchmark_group("status");
    g.throughput(Throughput::Elements(1));
    let mut charger = boot();
    charger.step(START.plus_ms(60_000));
    let now = START.plus_ms(60_000);
    let mut evcc = KeySet::new();
    for name in ["alw", "car", "eto", "nrg", "wh", "trx", "cards"] {
        evcc.insert(goe_keys::key_id(name).expect("key"));
    }
    // what every status read pays first: rbt, utc and loc brought to now
    g.bench_function("refresh_clock", |b| b.iter(|| charger.refresh_clock(now)));
    let mut out = String::with_capacity(16 * 1024);
    g.bench_function("filtered_evcc", |b| {
        b.iter(|| {
            out.clear();
            charger.write_status(now, Some(&evcc), &mut out);
            out.len()
        })
    });
    g.bench_function("full", |b| {
        b.iter(|| {
            out.clear();
            charger.write_status(now, None, &mut out);
            out.len()
        })
    });
    g.finish();
}

criterion_group!(benches, baselines, steps, status);
criterion_main!(benches);
