//! Fleet mode over real sockets: several chargers in one process on one
//! manual clock, addressed by serial, balancing current inside a group.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Fleet {
    child: Child,
    /// (serial, base URL) per charger.
    chargers: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(count: usize) -> Fleet {
    start_with(count, &[])
}

/// Like [`start`] with extra command-line arguments.
fn start_with(count: usize, extra: &[&str]) -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_goe-charger"))
        .args(extra)
        .args(["--listen", "127.0.0.1:0", "--clock", "manual"])
        .args(["--start", "2024-06-03T06:00:00Z", "--seed", "3"])
        .args(["--chargers", &count.to_string()])
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let head = lines.next().unwrap().unwrap();
    assert_eq!(head, format!("goe-charger fleet of {count} chargers"));
    let chargers = (0..count)
        .map(|_| {
            let line = lines.next().unwrap().unwrap();
            let mut words = line.split_whitespace();
            assert_eq!(words.next(), Some("goe-charger"));
            let serial = words.next().unwrap().to_owned();
            let url = words.last().unwrap().to_owned();
            (serial, url)
        })
        .collect();
    Fleet {
        child,
        chargers,
        _dir: dir,
    }
}

async fn get(url: &str) -> serde_json::Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

async fn post(url: &str) -> reqwest::Response {
    reqwest::Client::new().post(url).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chargers_have_own_serials_listeners_and_one_clock() {
    let fleet = start(3);
    let serials: Vec<&str> = fleet.chargers.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(serials, ["100001", "100002", "100003"]);
    for (serial, url) in &fleet.chargers {
        let s = get(&format!("{url}/api/status?filter=sse,utc")).await;
        assert_eq!(s["sse"], serial.as_str());
        assert_eq!(s["utc"], "2024-06-03T06:00:00.000");
    }
    // one advance moves every charger's clock
    let (_, first) = &fleet.chargers[0];
    assert!(
        post(&format!("{first}/sim/advance?seconds=5"))
            .await
            .status()
            .is_success()
    );
    for (_, url) in &fleet.chargers {
        let s = get(&format!("{url}/api/status?filter=utc,rbt")).await;
        assert_eq!(s["utc"], "2024-06-03T06:00:05.000");
    }
    // a charger is addressed by serial through any listener
    let r = post(&format!("{first}/sim/plug?serial=100003&car=ev-1p-16a")).await;
    assert!(r.status().is_success());
    let state: serde_json::Value = r.json().await.unwrap();
    assert_eq!(state["serial"], "100003");
    assert_eq!(state["plugged"], true);
    let r = post(&format!("{first}/sim/plug?serial=999999")).await;
    assert_eq!(r.status(), 404);
    let list = get(&format!("{first}/sim/fleet")).await;
    assert_eq!(list["chargers"].as_array().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_group_never_exceeds_its_total() {
    // the 2021 firmware: `lot` is a number and `los` says "fallback" there
    // (060.5 has the `lot` object and no `los`)
    let fleet = start_with(4, &["--firmware", "051.4"]);
    let lot = 24;
    let (_, first) = fleet.chargers[0].clone();
    for (i, (serial, url)) in fleet.chargers.iter().enumerate() {
        let set = format!(
            "{url}/api/set?loe=true&log=%22garage%22&lot={lot}&lop={}",
            50 + i
        );
        let ok: serde_json::Value = get(&set).await;
        assert_eq!(ok["loe"], true, "{ok}");
        let car = if i % 2 == 0 {
            "ev-3p-11kw"
        } else {
            "ev-1p-16a"
        };
        let r = post(&format!("{first}/sim/plug?serial={serial}&car={car}")).await;
        assert!(r.status().is_success());
    }
    let mut saw_27 = false;
    let mut saw_charging = 0;
    for second in 0..90 {
        assert!(
            post(&format!("{first}/sim/advance?seconds=1"))
                .await
                .status()
                .is_success()
        );
        let mut total = 0.0;
        for (_, url) in &fleet.chargers {
            let s = get(&format!(
                "{url}/api/status?filter=acu,nrg,loa,mca,modelStatus,car"
            ))
            .await;
            let drawn = (4..7)
                .map(|i| s["nrg"][i].as_f64().unwrap())
                .fold(0.0, f64::max);
            total += drawn;
            if let Some(acu) = s["acu"].as_i64() {
                assert!(
                    acu >= s["mca"].as_i64().unwrap(),
                    "second {second}: acu below mca"
                );
                assert!(
                    acu <= s["loa"].as_i64().unwrap(),
                    "second {second}: acu above loa"
                );
            }
            saw_27 |= s["modelStatus"] == 27;
            if s["car"] == 2 {
                saw_charging += 1;
            }
        }
        assert!(
            total <= lot as f64 + 0.5,
            "second {second}: the group draws {total} A of {lot} A"
        );
    }
    assert!(saw_27, "4 cars wanting 16 A cannot all charge on 24 A");
    assert!(saw_charging > 0);
    // the coordinator goes away: every member falls back to lof (0 = no charging)
    assert!(
        post(&format!("{first}/sim/fleet?coordinator=lost"))
            .await
            .status()
            .is_success()
    );
    post(&format!("{first}/sim/advance?seconds=2")).await;
    for (_, url) in &fleet.chargers {
        let s = get(&format!("{url}/api/status?filter=loa,los,alw,modelStatus")).await;
        assert_eq!(s["loa"], 0);
        assert_eq!(s["alw"], false);
        assert_eq!(s["modelStatus"], 27);
        assert!(s["los"].as_str().unwrap().contains("fallback"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_file_sets_config_and_runs_car_schedules() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.toml");
    std::fs::write(
        &file,
        r#"
        base_serial = 300001
        [[charger]]
        count = 2
        config = { amp = 10, fna = "car park" }
        [[charger.schedule]]
        plug = "18:00"
        unplug = "18:02"
        car = "ev-1p-16a"
        soc = 50
        [[charger]]
        "#,
    )
    .unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_goe-charger"))
        .args(["--listen", "127.0.0.1:0", "--clock", "manual"])
        // 17:59 local (tof=60, summer time)
        .args(["--start", "2024-06-03T15:59:00Z"])
        .arg("--fleet")
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "goe-charger fleet of 3 chargers"
    );
    let urls: Vec<String> = (0..3)
        .map(|_| {
            let line = lines.next().unwrap().unwrap();
            line.split_whitespace().last().unwrap().to_owned()
        })
        .collect();
    let fleet = Fleet {
        child,
        chargers: vec![],
        _dir: tempfile::tempdir().unwrap(),
    };
    let s = get(&format!("{}/api/status?filter=sse,amp,fna", urls[1])).await;
    assert_eq!(s["sse"], "300002");
    assert_eq!(s["amp"], 10);
    assert_eq!(s["fna"], "car park");
    let s = get(&format!("{}/api/status?filter=amp", urls[2])).await;
    assert_eq!(s["amp"], 16, "the second entry has no config");
    post(&format!("{}/sim/advance?seconds=61", urls[0])).await;
    let plugged = |v: &serde_json::Value| v["plugged"].as_bool().unwrap();
    assert!(plugged(&get(&format!("{}/sim/state", urls[0])).await));
    assert!(plugged(&get(&format!("{}/sim/state", urls[1])).await));
    assert!(!plugged(&get(&format!("{}/sim/state", urls[2])).await));
    post(&format!("{}/sim/advance?seconds=120", urls[0])).await;
    assert!(!plugged(&get(&format!("{}/sim/state", urls[0])).await));
    let s = get(&format!("{}/api/status?filter=wh", urls[0])).await;
    assert!(
        s["wh"].as_f64().unwrap() > 50.0,
        "charged while plugged: {s}"
    );
    drop(fleet);
}

#[test]
fn the_sim_command_addresses_a_charger_by_serial() {
    let fleet = start(2);
    let host = fleet.chargers[0].1.clone();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_goe-charger"))
            .arg("sim")
            .args(["--host", &host])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--serial", "100002", "plug", "car=ev-2p-16a", "soc=40"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(state["serial"], "100002");
    assert_eq!(state["car_profile"], "ev-2p-16a");
    let out = run(&["state"]);
    let state: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(state["serial"], "100001");
    assert_eq!(state["plugged"], false);
    let out = run(&["fleet"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("100002"));
    let out = run(&["plug", "car=truck"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("truck"));
    let out = run(&["--serial", "100009", "unplug"]);
    assert!(!out.status.success());
}

/// A fleet's start-up draws progress bars only on a terminal: with stderr
/// captured, it carries none of a bar's text or control characters.
#[test]
fn fleet_start_up_without_a_terminal_prints_no_progress_bar() {
    let dir = tempfile::tempdir().unwrap();
    let count = 40;
    let mut child = Command::new(env!("CARGO_BIN_EXE_goe-charger"))
        .args(["--listen", "127.0.0.1:0", "--clock", "manual"])
        .args(["--chargers", &count.to_string()])
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // the header and one line per charger: start-up is over
    for _ in 0..=count {
        lines.next().unwrap().unwrap();
    }
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    for text in ["\r", "\x1b", "opening chargers", "binding listeners", "=>"] {
        assert!(
            !stderr.contains(text),
            "progress {text:?} on stderr without a terminal: {stderr:?}"
        );
    }
}

/// The fleet file chooses the firmware: a top-level default and one per
/// `[[charger]]` entry, over `--firmware`'s; an unknown one is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_file_chooses_each_chargers_firmware() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.toml");
    std::fs::write(
        &file,
        r#"
        firmware = "056.2"
        [[charger]]
        [[charger]]
        firmware = "051.4"
        "#,
    )
    .unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_goe-charger"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--clock",
            "manual",
            "--firmware",
            "060.5",
        ])
        .arg("--fleet")
        .arg(&file)
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "goe-charger fleet of 2 chargers"
    );
    let urls: Vec<String> = (0..2)
        .map(|_| {
            let line = lines.next().unwrap().unwrap();
            line.split_whitespace().last().unwrap().to_owned()
        })
        .collect();
    let fleet = Fleet {
        child,
        chargers: vec![],
        _dir: tempfile::tempdir().unwrap(),
    };
    let s = get(&format!("{}/api/status?filter=fwv", urls[0])).await;
    assert_eq!(s["fwv"], "56.2", "the file's default");
    let s = get(&format!("{}/api/status?filter=fwv", urls[1])).await;
    assert_eq!(s["fwv"], "051.4", "the entry's own");
    drop(fleet);

    std::fs::write(&file, "[[charger]]\nfirmware = \"057.0\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_goe-charger"))
        .args(["--listen", "127.0.0.1:0", "--fleet"])
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path().join("other"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown firmware \"057.0\": known firmware versions are 051.4, 056.2, 060.5"),
        "{err}"
    );
    assert!(!dir.path().join("other").exists(), "nothing claimed");
}
