//! A long `/sim/advance` does not freeze the charger: while the documented
//! maximum of ten years is stepped (measured: about 2 s of real time per
//! simulated month in a debug build, so some 4–5 minutes; the test samples
//! for a few seconds and does not wait for the end), `/api/status` and
//! `/api/set` are answered between two of its slices, each write taking
//! effect at the simulated time the advance had reached, and the same holds
//! for a fleet's advance.
//!
//! Bounds: the spec asks for answers within 100 ms. A slice holds the lock
//! for at most 20 ms of stepping plus one save, so the median must be under
//! 100 ms; single answers on a loaded 2-core CI machine (other tests start
//! binaries in parallel) may wait for the scheduler, so no answer may take
//! over 1 s. The code before slicing held the lock for the whole advance
//! and fails both (every answer waited for the advance to end).

use crate::common::Api;
use crate::tiny_disk::Proc;
use std::time::{Duration, Instant};

/// The documented maximum of one advance: ten years.
const MAX_S: u64 = 316_224_000;
const START: &str = "2024-06-03T06:00:00Z";

/// Answers sampled during an advance: enough that a few answers delayed by
/// the scheduler of a loaded 2-core CI machine do not move the median.
const SAMPLES: usize = 100;

/// Waits (polling `rbt`, with a deadline) until the simulated time moves:
/// the advance has begun.
async fn wait_until_time_moves(api: &Api) {
    let rbt = || async {
        api.value("rbt")
            .await
            .and_then(|v| v.as_i64())
            .expect("rbt")
    };
    let first = rbt().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while rbt().await == first {
        assert!(Instant::now() < deadline, "the advance never began");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Samples `/api/status` and `/api/set` on `api` while `advance` is running;
/// returns the latencies and the `rbt` values seen.
async fn sample_during(
    api: &Api,
    advance: &tokio::task::JoinHandle<(u16, String)>,
) -> (Vec<Duration>, Vec<i64>) {
    let mut latencies = Vec::new();
    let mut rbts = Vec::new();
    wait_until_time_moves(api).await;
    for i in 0..SAMPLES {
        let began = Instant::now();
        if i % 4 == 3 {
            let amp = 6 + (i % 10);
            let r = api.set(&[("amp", &amp.to_string())]).await;
            assert_eq!(r.status, 200, "{}", r.body);
        } else {
            let st = api.status_filter("rbt,amp").await;
            let rbt = st.get("rbt").and_then(|v| v.as_i64()).expect("rbt");
            rbts.push(rbt);
        }
        latencies.push(began.elapsed());
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(
        !advance.is_finished(),
        "the advance ended before the sampling did: nothing was measured during it"
    );
    (latencies, rbts)
}

fn check(latencies: &mut [Duration], rbts: &[i64]) {
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    let max = *latencies.last().unwrap();
    assert!(
        median < Duration::from_millis(100),
        "median answer during an advance {median:?} (all: {latencies:?})"
    );
    assert!(
        max < Duration::from_secs(1),
        "slowest answer during an advance {max:?}"
    );
    // every answer shows the time the advance had reached: moving, never back
    assert!(rbts.windows(2).all(|w| w[0] <= w[1]), "{rbts:?}");
    assert!(
        rbts.last() > rbts.first(),
        "simulated time moved on between the answers: {rbts:?}"
    );
    assert!(*rbts.last().unwrap() < (MAX_S * 1000) as i64);
}

fn post_in_background(api: &Api, path: &str) -> tokio::task::JoinHandle<(u16, String)> {
    let (api, path) = (api.clone(), path.to_owned());
    tokio::spawn(async move {
        let url = format!("{}{path}", api.base);
        let r = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(url)
            .send()
            .await
            .expect("advance request");
        (r.status().as_u16(), r.text().await.unwrap_or_default())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_answered_during_a_ten_year_advance() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_goe-charger"));
    cmd.args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path())
        .args(["--clock", "manual", "--start", START]);
    let ch = Proc::spawn(cmd, 1).expect("start");
    let api = Api::new(ch.port());
    let (status, body) = api.post("/sim/plug?car=ev-1p-16a&soc=20").await;
    assert_eq!(status, 200, "{body}");
    let advance = post_in_background(&api, &format!("/sim/advance?seconds={MAX_S}"));
    let (mut latencies, rbts) = sample_during(&api, &advance).await;
    check(&mut latencies, &rbts);
    advance.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_answers_during_a_ten_year_advance() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_goe-charger"));
    cmd.args(["--listen", "127.0.0.1:0", "--chargers", "2", "--data-dir"])
        .arg(tmp.path())
        .args(["--clock", "manual", "--start", START]);
    let fleet = Proc::spawn(cmd, 2).expect("start");
    let (first, second) = (Api::new(fleet.ports[0]), Api::new(fleet.ports[1]));
    let advance = post_in_background(&first, &format!("/sim/advance?seconds={MAX_S}"));
    let (mut latencies, rbts) = sample_during(&second, &advance).await;
    check(&mut latencies, &rbts);
    advance.abort();
}

/// Two advances at once run one after the other: together they move the
/// clock by their sum, and each answers the state at its own end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_advances_do_not_interleave() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_goe-charger"));
    cmd.args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(tmp.path())
        .args(["--clock", "manual", "--start", START]);
    let ch = Proc::spawn(cmd, 1).expect("start");
    let api = Api::new(ch.port());
    let rbt0 = api.value("rbt").await.unwrap().as_i64().unwrap();
    let a = post_in_background(&api, "/sim/advance?seconds=86400");
    let b = post_in_background(&api, "/sim/advance?seconds=86400");
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
    let rbt = api.value("rbt").await.unwrap().as_i64().unwrap();
    assert_eq!(rbt - rbt0, 2 * 86_400_000);
}

/// Advances queued behind a running one wait without a thread: with more of
/// them queued than tokio has blocking threads (512), writes and status reads
/// are still answered between the running advance's slices. Before, each
/// queued advance parked a blocking thread on the clock's lock, and once the
/// pool was used up every write waited for the ten-year advance to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_advances_do_not_use_up_the_blocking_threads() {
    const QUEUED: usize = 560;
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_goe-charger"));
    cmd.args(["--listen", "127.0.0.1:0", "--max-connections", "2000"])
        .arg("--data-dir")
        .arg(tmp.path())
        .args(["--clock", "manual", "--start", START]);
    let ch = Proc::spawn(cmd, 1).expect("start");
    let api = Api::new(ch.port());
    let long = post_in_background(&api, &format!("/sim/advance?seconds={MAX_S}"));
    wait_until_time_moves(&api).await;
    let queued: Vec<_> = (0..QUEUED)
        .map(|_| post_in_background(&api, "/sim/advance?seconds=1"))
        .collect();
    // for a few seconds after they were sent (long enough for all of them to
    // reach the charger), every write is answered
    let window = Instant::now();
    let mut answered = 0;
    while window.elapsed() < Duration::from_secs(5) {
        let amp = (6 + answered % 10).to_string();
        let r = tokio::time::timeout(Duration::from_secs(3), api.set(&[("amp", &amp)]))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "a write waited over 3 s with {QUEUED} advances queued ({answered} answered)"
                )
            });
        assert_eq!(r.status, 200, "{}", r.body);
        answered += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !long.is_finished(),
        "the long advance ended: nothing was queued behind it"
    );
    long.abort();
    for q in queued {
        q.abort();
    }
}
