//! No acknowledged write that was not persisted, on a full disk: API v2
//! `/api/set`, API v1 `/mqtt?payload=`, the control API (`/sim/plug`,
//! `/sim/advance`) and fleet start-up each refuse (in their own error style)
//! when the save fails, change nothing in memory, and after the disk has room
//! again and the charger restarts, the disk holds the old value and every
//! write acknowledged before the disk filled. (MQTT `/set` and WebSocket
//! `securedMsg`: `tests/push/durability.rs`.)
//!
//! The disk is a real 1 MiB tmpfs filled with a filler file, or the store's
//! injected failure where mounting is refused ([`crate::tiny_disk`]).

use crate::common::Api;
use crate::tiny_disk::{Proc, TinyDisk, stored};
use serde_json::json;

const MANUAL: [&str; 4] = ["--clock", "manual", "--start", "2024-06-03T06:00:00Z"];

/// Fill the disk, run `refused` (which checks its refusal), free the disk,
/// restart with `kill -9` first and return the restarted charger.
async fn refused_then_restarted(
    disk: &TinyDisk,
    name: &str,
    charger: Proc,
    refused: impl AsyncFnOnce(&Api),
) -> Proc {
    let api = Api::new(charger.port());
    disk.fill();
    refused(&api).await;
    disk.unfill();
    charger.kill9();
    disk.start(name, &MANUAL)
}

#[tokio::test]
async fn api_v2_set_is_refused_and_rolled_back_on_a_full_disk() {
    let disk = TinyDisk::new();
    let ch = disk.start("v2", &MANUAL);
    let api = Api::new(ch.port());
    api.set_ok(&[("amp", "10")]).await;
    let ch = refused_then_restarted(&disk, "v2", ch, async |api| {
        let r = api.set(&[("amp", "13")]).await;
        assert_eq!(r.status, 500, "{}", r.body);
        assert!(r.body.contains("not persisted"), "{}", r.body);
        assert_eq!(api.value("amp").await, Some(json!(10)), "rolled back");
    })
    .await;
    assert_eq!(stored(&disk.root.join("v2"))["amp"], json!(10));
    assert_eq!(Api::new(ch.port()).value("amp").await, Some(json!(10)));
}

#[tokio::test]
async fn api_v1_write_answers_500_and_changes_nothing_on_a_full_disk() {
    let disk = TinyDisk::new();
    let ch = disk.start("v1", &MANUAL);
    let api = Api::new(ch.port());
    api.set_ok(&[("hla", "true"), ("amp", "10")]).await;
    let acked = api.get("/mqtt?payload=ama=14").await;
    assert_eq!(acked.status, 200, "{}", acked.body);
    let ch = refused_then_restarted(&disk, "v1", ch, async |api| {
        let r = api.get("/mqtt?payload=amp=13").await;
        assert_eq!(r.status, 500, "a write that was not saved: {}", r.body);
        assert_eq!(r.body, "Server has encountered an unexpected error");
        assert_eq!(r.header("content-type").as_deref(), Some("text/html"));
        assert_eq!(api.value("amp").await, Some(json!(10)), "rolled back");
    })
    .await;
    let on_disk = stored(&disk.root.join("v1"));
    assert_eq!((&on_disk["amp"], &on_disk["ama"]), (&json!(10), &json!(14)));
    let api = Api::new(ch.port());
    assert_eq!(api.value("amp").await, Some(json!(10)));
    assert_eq!(api.value("ama").await, Some(json!(14)));
}

#[tokio::test]
async fn sim_advance_and_actions_are_refused_on_a_full_disk() {
    let disk = TinyDisk::new();
    let ch = disk.start("sim", &MANUAL);
    let api = Api::new(ch.port());
    api.set_ok(&[("amp", "16")]).await;
    let (status, body) = api.post("/sim/plug?car=ev-1p-16a&soc=20").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api.post("/sim/advance?seconds=3600").await;
    assert_eq!(status, 200, "{body}");
    let eto = api.value("eto").await.expect("eto");
    assert!(
        eto.as_i64().unwrap() > 0,
        "an hour of charging counts: {eto}"
    );
    let rbt = api.value("rbt").await.unwrap();
    let ch = refused_then_restarted(&disk, "sim", ch, async |api| {
        let (status, body) = api.post("/sim/advance?seconds=3600").await;
        assert_eq!(status, 500, "an advance that could not be saved: {body}");
        let msg: serde_json::Value = serde_json::from_str(&body).expect("JSON error");
        assert!(
            msg["error"].as_str().unwrap().contains("not persisted"),
            "{body}"
        );
        assert_eq!(api.value("eto").await, Some(eto.clone()), "counters kept");
        assert_eq!(api.value("rbt").await, Some(rbt.clone()), "clock not moved");
    })
    .await;
    let on_disk = stored(&disk.root.join("sim"));
    assert_eq!((&on_disk["eto"], &on_disk["amp"]), (&eto, &json!(16)));
    assert_eq!(Api::new(ch.port()).value("eto").await, Some(eto));
}

#[tokio::test]
async fn fleet_start_up_on_a_full_disk_is_refused_and_leaves_the_stored_config() {
    let disk = TinyDisk::new();
    let fleet_file = disk.root.join("fleet.toml");
    std::fs::write(
        &fleet_file,
        "[[charger]]\ncount = 2\nconfig = { amp = 10, fna = \"first\" }\n",
    )
    .unwrap();
    let fleet = |file: &std::path::Path| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_goe-charger"));
        cmd.args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(disk.root.join("fleet"))
            .arg("--fleet")
            .arg(file)
            .args(MANUAL);
        for (k, v) in disk.env() {
            cmd.env(k, v);
        }
        Proc::spawn(cmd, 2)
    };
    let first = fleet(&fleet_file).expect("first fleet start");
    first.kill9();
    let member = disk.root.join("fleet").join("100001");
    assert_eq!(stored(&member)["fna"], json!("first"));
    let rbc = stored(&member)["rbc"].clone();

    let changed = disk.root.join("fleet2.toml");
    std::fs::write(
        &changed,
        "[[charger]]\ncount = 2\nconfig = { amp = 13, fna = \"second\" }\n",
    )
    .unwrap();
    disk.fill();
    let err = match fleet(&changed) {
        Ok(_) => panic!("a fleet started on a full disk"),
        Err(e) => e,
    };
    assert!(err.contains("config.json"), "names the file: {err}");
    disk.unfill();
    let on_disk = stored(&member);
    assert_eq!(
        (&on_disk["amp"], &on_disk["fna"], &on_disk["rbc"]),
        (&json!(10), &json!("first"), &rbc),
        "nothing of the refused start is on disk"
    );
    let again = fleet(&changed).expect("starts once there is room");
    let api = Api::new(again.ports[1]);
    assert_eq!(api.value("fna").await, Some(json!("second")));
}

#[test]
fn a_first_start_on_a_full_disk_fails_and_leaves_no_directory() {
    let disk = TinyDisk::new();
    disk.fill();
    let err = disk.fail_to_start("never", &MANUAL);
    assert!(err.contains("config.json"), "names the file: {err}");
    disk.unfill();
    assert!(
        !disk.root.join("never").exists(),
        "a start that never served leaves no half-claimed directory"
    );
}

#[tokio::test]
async fn fleet_advance_is_refused_on_a_full_disk() {
    let disk = TinyDisk::new();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_goe-charger"));
    cmd.args(["--listen", "127.0.0.1:0", "--chargers", "2", "--data-dir"])
        .arg(disk.root.join("fleet"))
        .args(MANUAL);
    for (k, v) in disk.env() {
        cmd.env(k, v);
    }
    let fleet = Proc::spawn(cmd, 2).expect("fleet start");
    let api = Api::new(fleet.port());
    let (status, body) = api.post("/sim/plug?serial=100002&car=ev-1p-16a").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api.post("/sim/advance?seconds=3600").await;
    assert_eq!(status, 200, "{body}");
    let member = disk.root.join("fleet").join("100002");
    let before = stored(&member);
    disk.fill();
    let (status, body) = api.post("/sim/advance?seconds=86400").await;
    assert_eq!(
        status, 500,
        "a fleet advance that could not be saved: {body}"
    );
    assert!(
        body.contains("not persisted") && body.contains("100002"),
        "{body}"
    );
    disk.unfill();
    fleet.kill9();
    assert_eq!(stored(&member), before, "nothing unsaved was acknowledged");
}

/// Two chargers (or fleets) started at the same moment on one new data
/// directory: one wins the directory's lock and serves, the other is refused
/// and must leave the winner's directory as it is (its `config.json` and
/// lock file; for a fleet, every charger's directory). Before, the loser saw
/// the directory missing at its start and removed it after its refusal,
/// deleting the live data of the winner.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_refused_by_the_lock_leaves_the_winners_directory_intact() {
    let tmp = tempfile::tempdir().unwrap();
    for round in 0..10 {
        let fleet = round % 2 == 1;
        let dir = tmp.path().join(format!("round-{round}"));
        let command = || {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_goe-charger"));
            cmd.args(["--listen", "127.0.0.1:0", "--data-dir"])
                .arg(&dir)
                .args(MANUAL);
            if fleet {
                cmd.args(["--chargers", "2"]);
            }
            cmd
        };
        let listeners = if fleet { 2 } else { 1 };
        let barrier = std::sync::Barrier::new(2);
        let (a, b) = std::thread::scope(|s| {
            let start = || {
                let cmd = command();
                barrier.wait();
                Proc::spawn(cmd, listeners)
            };
            let a = s.spawn(start);
            let b = s.spawn(start);
            (a.join().unwrap(), b.join().unwrap())
        });
        let (winner, refusal) = match (a, b) {
            (Ok(w), Err(e)) | (Err(e), Ok(w)) => (w, e),
            (Ok(_), Ok(_)) => panic!("round {round}: both claimed {}", dir.display()),
            (Err(a), Err(b)) => panic!("round {round}: both refused: {a} / {b}"),
        };
        assert!(refusal.contains("in use"), "round {round}: {refusal}");
        let data = if fleet {
            vec![dir.join("100001"), dir.join("100002")]
        } else {
            vec![dir.clone()]
        };
        assert!(
            dir.join("goe-charger.lock").exists(),
            "round {round}: the winner's lock file is gone ({refusal})"
        );
        for d in &data {
            assert!(
                d.join("config.json").exists(),
                "round {round}: {} lost its config.json ({refusal})",
                d.display()
            );
        }
        let api = Api::new(winner.port());
        assert_eq!(api.set(&[("amp", "7")]).await.status, 200, "round {round}");
        drop(winner);
        assert_eq!(stored(&data[0])["amp"], json!(7), "round {round}");
    }
}
