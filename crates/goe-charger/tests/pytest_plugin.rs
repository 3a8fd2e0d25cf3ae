//! The pytest plugin (#18, `python/pytest-goe-charger`) against this build of
//! `goe-charger`: installs the package with the README's
//! `pip install ./python/pytest-goe-charger` into the pinned venv of
//! `scripts/pytest-venv.sh` (no network: its pinned hatchling builds it) and
//! runs the package's own pytest suite, the README's example test included,
//! with `GOE_CHARGER` naming the binary cargo built. A missing venv, a failed
//! install, any failed or skipped Python test fails this test with pytest's
//! output.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_goe-charger");

/// A hang guard for the whole Python suite (a few seconds normally).
const SUITE_TIMEOUT: Duration = Duration::from_secs(600);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The venv's python: `GOE_VENV_PYTEST`, else `target/venvs/pytest-goe-charger`.
fn venv_python(root: &Path) -> PathBuf {
    let how = "scripts/pytest-venv.sh creates it (scripts/test.sh sources it before cargo test)";
    let py = match std::env::var("GOE_VENV_PYTEST") {
        Ok(v) if !v.is_empty() => PathBuf::from(v),
        _ => root.join("target/venvs/pytest-goe-charger/bin/python"),
    };
    assert!(
        py.exists(),
        "the pytest plugin's venv is missing: {} does not exist; {how}",
        py.display()
    );
    py
}

/// A command with a clean environment for Python: no proxies, no user
/// pytest options, no bytecode files in the source tree.
fn python(py: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(py);
    cmd.current_dir(dir).stdin(Stdio::null());
    for var in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "PYTEST_ADDOPTS",
        "PYTEST_PLUGINS",
        "PYTHONPATH",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("PYTHONDONTWRITEBYTECODE", "1")
        .env("NO_PROXY", "127.0.0.1,localhost");
    cmd
}

/// Runs `cmd` to its end (killed after `limit`); (success, stdout + stderr).
fn run(mut cmd: Command, limit: Duration) -> (bool, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = t_out.join().unwrap() + &t_err.join().unwrap();
    match status {
        Some(s) => (s.success(), format!("{text}\n(exit: {s})")),
        None => (false, format!("{text}\n(killed after {limit:?})")),
    }
}

#[test]
fn pytest_plugin_installs_and_its_suite_passes_against_the_binary() {
    let root = workspace_root();
    let py = venv_python(&root);

    // the README's install command, offline: the venv's hatchling builds it
    let mut install = python(&py, &root);
    install.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-index",
        "--no-build-isolation",
        "--no-deps",
        "--force-reinstall",
        "./python/pytest-goe-charger",
    ]);
    let (ok, text) = run(install, Duration::from_secs(300));
    assert!(
        ok,
        "FAILED: pip install ./python/pytest-goe-charger into {}:\n{text}",
        py.display()
    );

    let mut suite = python(&py, &root.join("python/pytest-goe-charger"));
    suite
        .args(["-m", "pytest", "-v", "-rfEs"])
        .env("GOE_CHARGER", BIN);
    let (ok, text) = run(suite, SUITE_TIMEOUT);
    assert!(
        ok,
        "FAILED: the pytest plugin's suite (python/pytest-goe-charger/tests) failed \
         against {BIN}; pytest's output:\n{text}"
    );
    let summary = text
        .lines()
        .rev()
        .find(|l| l.contains(" passed"))
        .unwrap_or_else(|| panic!("pytest printed no `N passed` line:\n{text}"));
    assert!(
        !summary.contains("skipped") && !summary.contains("deselected"),
        "the plugin's suite must not skip tests: {summary}"
    );
}
