//! The store at start-up: every `config.json` value is checked with the API's
//! rules (an invalid one stops the start naming the file, the key and the
//! rule); a second process on one data directory is refused naming the
//! directory and the holder's pid; a start that fails on its port leaves the
//! data directory as it was (no new `config.json`, no `rbc`+1, no lock).

use crate::common::{BIN, Charger};
use crate::tiny_disk::{Proc, stored};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// Starts the binary on `dir` expecting it to exit; its stderr.
fn refused_start(dir: &Path, listen: &str) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(["--listen", listen, "--data-dir"]).arg(dir);
    match Proc::spawn(cmd, 1) {
        Ok(p) => panic!(
            "goe-charger started on {} (port {})",
            dir.display(),
            p.port()
        ),
        Err(e) => e,
    }
}

/// A data directory of a charger that ran once, then `key` set to `value`
/// in its `config.json` by hand.
fn edited_store(key: &str, value: Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut ch = Charger::start_in(dir.path());
    ch.terminate();
    let path = dir.path().join("config.json");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    doc["values"][key] = value;
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    dir
}

#[test]
fn invalid_stored_values_stop_the_start_naming_file_key_and_rule() {
    let cases: [(&str, Value, &str); 4] = [
        ("amp", json!(200), "exceeds range"),
        ("rbc", json!(-1), "exceeds range"),
        ("fna", json!("x".repeat(100_000)), "String length"),
        ("cid", json!("blue"), "#RRGGBB"),
    ];
    for (key, value, rule) in cases {
        let dir = edited_store(key, value);
        let before = std::fs::read(dir.path().join("config.json")).unwrap();
        let err = refused_start(dir.path(), "127.0.0.1:0");
        let file = dir.path().join("config.json").display().to_string();
        assert!(err.contains(&file), "{key}: names {file}: {err}");
        assert!(
            err.contains(&format!("stored value of {key} ")),
            "{key}: names the key: {err}"
        );
        assert!(err.contains(rule), "{key}: names the rule ({rule}): {err}");
        assert!(
            !err.contains(&"x".repeat(100)),
            "{key}: does not echo a huge value"
        );
        assert_eq!(
            std::fs::read(dir.path().join("config.json")).unwrap(),
            before,
            "{key}: the file is left alone"
        );
    }
}

#[test]
fn a_second_process_on_one_data_directory_is_refused_naming_it_and_the_pid() {
    let dir = tempfile::tempdir().unwrap();
    let first = Charger::start_in(dir.path());
    let rbc = stored(dir.path())["rbc"].clone();
    let err = refused_start(dir.path(), "127.0.0.1:0");
    assert!(
        err.contains(&dir.path().display().to_string()),
        "names the directory: {err}"
    );
    assert!(
        err.contains(&format!("pid {}", first.pid())),
        "names the other process: {err}"
    );
    assert_eq!(
        stored(dir.path())["rbc"],
        rbc,
        "the refused start booted nothing"
    );
    drop(first); // SIGKILL: the lock goes with the process
    let mut again = Charger::start_in(dir.path());
    assert!(again.running());
}

#[test]
fn a_start_that_fails_on_its_port_leaves_no_half_claimed_directory() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let parent = tempfile::tempdir().unwrap();

    // a new directory is not even created
    let fresh = parent.path().join("fresh");
    let err = refused_start(&fresh, &listen);
    assert!(err.contains(&listen), "names the address: {err}");
    assert!(!fresh.exists(), "no directory left behind: {err}");

    // an existing one keeps its config.json byte for byte (no rbc+1) and no lock
    let used = parent.path().join("used");
    let mut ch = Charger::start_in(&used);
    ch.terminate();
    let before = std::fs::read(used.join("config.json")).unwrap();
    refused_start(&used, &listen);
    assert_eq!(std::fs::read(used.join("config.json")).unwrap(), before);
    let ch = Charger::start_in(&used);
    drop(ch);
    assert_eq!(
        stored(&used)["rbc"],
        json!(2),
        "the failed start did not count as a boot"
    );
}

/// What the API accepted always loads again: `ama` lowered below an earlier
/// `amp` and `mca` (cross-key limits are not applied on load).
#[tokio::test]
async fn values_the_api_accepted_load_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut ch = Charger::start_in(dir.path());
    ch.api()
        .set_ok(&[("amp", "16"), ("mca", "10"), ("ama", "8")])
        .await;
    ch.terminate();
    let ch = Charger::start_in(dir.path());
    let st = ch.api().status_filter("amp,mca,ama").await;
    assert_eq!(
        (st.get("amp"), st.get("mca"), st.get("ama")),
        (Some(&json!(16)), Some(&json!(10)), Some(&json!(8)))
    );
}

/// A store another firmware wrote is a firmware update: what this firmware
/// accepts is kept, the rest goes back to its default and the start goes on
/// (logged, naming the settings); the same firmware's store stays strict.
#[tokio::test]
async fn a_store_of_another_firmware_keeps_what_this_one_accepts() {
    for written_by in [Some("051.4"), None] {
        let dir = tempfile::tempdir().unwrap();
        let mut ch = Charger::start_with(dir.path(), &["--firmware", "060.5"]);
        ch.terminate();
        let path = dir.path().join("config.json");
        let mut doc: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(doc["firmware"], "060.5", "the store names its firmware");
        match written_by {
            Some(v) => doc["firmware"] = json!(v),
            // a store of a build before firmware profiles: the 2021 table's
            None => drop(doc.as_object_mut().unwrap().remove("firmware")),
        }
        doc["values"]["amp"] = json!("ten");
        doc["values"]["fna"] = json!("garage");
        std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        let ch = Charger::start_with(dir.path(), &["--firmware", "060.5"]);
        let status = ch.api().status_filter("amp,fna").await;
        assert_eq!(
            status.get("fna"),
            Some(&json!("garage")),
            "{written_by:?}: kept"
        );
        let amp = status.get("amp").cloned();
        assert!(
            amp.as_ref().is_some_and(Value::is_u64),
            "{written_by:?}: back to the default: {amp:?}"
        );
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            saved["firmware"], "060.5",
            "saved again under this firmware"
        );
    }
    // the same firmware's store with the same bad value is refused
    let dir = edited_store("amp", json!("ten"));
    let err = refused_start(dir.path(), "127.0.0.1:0");
    assert!(err.contains("stored value of amp "), "{err}");
}
