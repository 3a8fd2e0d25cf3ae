//! The example scenarios in `scenarios/`: every file parses, and every one
//! passes its expectations with no limit exceeded at any simulated second.

use goe_charger::scenario::{self, RunOptions, Scenario};
use std::path::PathBuf;

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
        "next-trip",
        "night-tariff",
        "pv-surplus-day",
        "rfid-access",
        "scheduler",
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
