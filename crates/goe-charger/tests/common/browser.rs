//! Headless Debian Chromium driven by `puppeteer-core` for the dashboard
//! tests (`tests/ui*.rs`, issue #16): where the two tools are, and running one
//! of the `tests/ui/*.js` scripts against a charger's URL.
//!
//! Chromium (`/usr/bin/chromium` or `GOE_CHROMIUM`) comes from `scripts/test.sh`,
//! puppeteer-core from `scripts/client-venvs.sh` (`GOE_PUPPETEER_DIR`, default
//! `target/npm/puppeteer-core`); a missing one fails the test saying how to
//! install it. Screenshots go to [`artifacts`].

use std::path::PathBuf;
use std::process::Command;

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The puppeteer-core install: `GOE_PUPPETEER_DIR` or `target/npm/puppeteer-core`.
pub fn puppeteer_dir() -> PathBuf {
    let d = match std::env::var("GOE_PUPPETEER_DIR") {
        Ok(d) if !d.is_empty() => PathBuf::from(d),
        _ => workspace().join("target/npm/puppeteer-core"),
    };
    assert!(
        d.join("node_modules/puppeteer-core/package.json").is_file(),
        "puppeteer-core is missing: GOE_PUPPETEER_DIR is unset or wrong and {} has no \
         node_modules/puppeteer-core; run `source scripts/client-venvs.sh`",
        d.display()
    );
    d
}

/// Debian's Chromium: `GOE_CHROMIUM` or `/usr/bin/chromium`.
pub fn chromium() -> PathBuf {
    let c = match std::env::var("GOE_CHROMIUM") {
        Ok(c) if !c.is_empty() => PathBuf::from(c),
        _ => PathBuf::from("/usr/bin/chromium"),
    };
    assert!(
        c.is_file(),
        "chromium is missing at {} (Debian: apt-get install chromium; scripts/test.sh installs it)",
        c.display()
    );
    c
}

/// Where screenshots of the browser tests go (`target/ui-artifacts/`), created.
pub fn artifacts() -> PathBuf {
    let a = workspace().join("target/ui-artifacts");
    std::fs::create_dir_all(&a).unwrap();
    a
}

/// Runs `tests/ui/<script>` with node against `url` (`GOE_UI_URL`), with
/// `GOE_CHROMIUM`, `GOE_PUPPETEER_DIR`, `GOE_UI_ARTIFACTS` and `env` set;
/// panics with both outputs and `context` (e.g. the charger's stderr) unless
/// it exits 0. Returns its stdout.
pub fn run_script(
    script: &str,
    url: &str,
    env: &[(&str, &str)],
    context: &dyn Fn() -> String,
) -> String {
    let chromium = chromium();
    let puppeteer = puppeteer_dir();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ui")
        .join(script);
    let mut cmd = Command::new("node");
    cmd.arg(&path)
        .env("GOE_UI_URL", url)
        .env("GOE_CHROMIUM", &chromium)
        .env("GOE_PUPPETEER_DIR", &puppeteer)
        .env("GOE_UI_ARTIFACTS", artifacts());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("node (Debian: nodejs) runs tests/ui/{script}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "tests/ui/{script} failed: {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}\ncontext:\n{}",
        out.status,
        context()
    );
    stdout
}
