//! The example scenarios in `scenarios/`: every file parses, and every one
//! passes its expectations with no limit exceeded at any simulated second.

use goe_charger::scenario::{self, RunOptions, Scenario};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn scenario_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_scenario_parses() {
    let files = scenario_files();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "energy-limit",
        "errors",
        "errors-2021",
        "home-battery",
        "home-battery-priority",
        "next-trip",
        "night-tariff",
        "phase-switching",
        "pv-ids-cadence-1s",
        "pv-ids-cadence-5s",
        "pv-ids-cadence-10s",
        "pv-settings",
        "pv-surplus-day",
        "random-delay",
        "rfid-access",
        "scheduler",
        "session-details",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing");
    }
    for file in &files {
        let s = Scenario::load(file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            s.name,
            file.file_stem().unwrap().to_string_lossy(),
            "a scenario's name is its file name"
        );
        assert!(!s.events.is_empty());
    }
}

#[test]
fn every_shipped_scenario_passes() {
    let mut failed = Vec::new();
    for file in scenario_files() {
        let s = Scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
        let report = scenario::run(&s, &RunOptions::default());
        if !report.passed() {
            failed.push(format!("{}\n{}", file.display(), report.lines.join("\n")));
        }
    }
    assert!(
        failed.is_empty(),
        "{} scenario(s) failed:\n\n{}",
        failed.len(),
        failed.join("\n\n")
    );
}

#[test]
fn runs_are_deterministic() {
    for file in scenario_files() {
        let s = Scenario::load(&file).unwrap();
        let a = scenario::run(&s, &RunOptions::default());
        let b = scenario::run(&s, &RunOptions::default());
        assert_eq!(a, b, "{} ran differently twice", file.display());
    }
}

/// `run-scenario` with stdout and stderr captured (not a terminal) prints
/// exactly what it printed before the progress bar existed: the timeline on
/// stdout (the same lines as an in-process run) and one timing line on stderr,
/// with no bar, carriage return or escape sequence anywhere.
#[test]
fn run_scenario_without_a_terminal_prints_no_progress_bar() {
    // the longest shipped scenario: two simulated days, many bar updates
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/next-trip.toml");
    let expected = scenario::run(&Scenario::load(&file).unwrap(), &RunOptions::default());
    assert!(expected.seconds >= 86_400, "{} s", expected.seconds);
    let out = Command::new(env!("CARGO_BIN_EXE_goe-charger"))
        .arg("run-scenario")
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .expect("run goe-charger");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
    let stderr = String::from_utf8(out.stderr).expect("utf-8 stderr");
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout, format!("{}\n", expected.lines.join("\n")));
    let timing = stderr
        .strip_prefix(&format!("{} simulated seconds in ", expected.seconds))
        .and_then(|rest| rest.strip_suffix(" s\n"))
        .unwrap_or_else(|| panic!("stderr is more than the timing line: {stderr:?}"));
    assert!(
        timing.parse::<f64>().is_ok(),
        "stderr is more than the timing line: {stderr:?}"
    );
    for glyph in ["\r", "\x1b", "=>", "[", "%", "eta"] {
        assert!(
            !stderr.contains(glyph),
            "progress {glyph:?} on stderr without a terminal: {stderr:?}"
        );
    }
}
