//! `goe --cloud SERIAL --token T --cloud-url URL` against the cloud API v3
//! stand-in of `goe-charger` (#15), in this process on its own runtime.
//! Built only with the `cloud` feature: `scripts/test.sh` runs
//! `cargo test -p goe-cli --features cloud --test cloud`.

#![cfg(feature = "cloud")]

use std::process::Command;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const GOE: &str = env!("CARGO_BIN_EXE_goe");

/// A charger (real-time clock) with `cae` on and the stand-in; its cloud
/// address and token. The runtime lives as long as the test thread.
fn start() -> (String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let data = dir.path().to_owned();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let device = Arc::new(
                goe_charger::device::Device::open(
                    &data,
                    None,
                    goe_charger::clock::SimClock::real_time(),
                    1,
                )
                .unwrap(),
            );
            assert!(device.set(&[("cae".into(), "true".into())]).all_ok);
            let token = device
                .with_charger(|c, _| c.value("cak").and_then(|v| v.as_str()).unwrap().to_owned());
            let local = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let cloud = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send((format!("http://{}", cloud.local_addr().unwrap()), token))
                .unwrap();
            tokio::spawn(goe_charger::cloud::serve(
                cloud,
                vec![device.clone()],
                goe_charger::http::conn::Limits::default(),
                std::future::pending(),
            ));
            goe_charger::serve(local, device, std::future::pending())
                .await
                .unwrap();
        });
    });
    let (url, token) = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    (url, token, dir)
}

fn goe(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(GOE)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("GOE_HOST")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn get_and_set_through_the_stand_in() {
    let (url, token, _dir) = start();
    let base = [
        "--cloud",
        "12345",
        "--token",
        token.as_str(),
        "--cloud-url",
        url.as_str(),
    ];
    let with =
        |more: &[&str]| -> Vec<String> { base.iter().chain(more).map(|s| s.to_string()).collect() };
    let run = |more: &[&str]| {
        let args = with(more);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        goe(&args)
    };
    // the first upload follows the cae write at once; allow for scheduling
    let end = Instant::now() + Duration::from_secs(10);
    let (code, out, err) = loop {
        let r = run(&["get", "amp", "--json"]);
        if r.0 == 0 || Instant::now() > end {
            break r;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("16"), "{out}");
    let (code, out, err) = run(&["set", "amp=12"]);
    assert_eq!(code, 0, "{out}{err}");
    // applied at the charger's next contact (a real-time clock: within a second or two)
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, out, _) = run(&["get", "amp", "--json"]);
        if out.contains("12") {
            break;
        }
        assert!(Instant::now() < end, "amp=12 never arrived: {out}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // a wrong token: exit 3 with the cloud's refusal named
    let (code, _, err) = goe(&[
        "--cloud",
        "12345",
        "--token",
        "nope",
        "--cloud-url",
        &url,
        "get",
        "amp",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("401"), "{err}");
}
