//! Machinery of the conformance suite: the clients' virtual environments,
//! Python drivers speaking JSON lines (see `py/rpc.py`), and a charger of one
//! firmware profile on a manual simulated clock with helpers to reach the
//! states clients meet.
//!
//! Every client test runs once per firmware of [`FIRMWARES`]: written with
//! [`per_firmware!`], a test `name` becomes `name::fw_060_5` and
//! `name::fw_056_2`, so a failure names the firmware it failed on.

use crate::common::{Api, Charger, Ordered};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The firmware profiles every client suite runs against (issue #12): today's
/// firmware (the default) and the last one before the 60.x line.
pub const FIRMWARES: [&str; 2] = ["060.5", "056.2"];

/// The profile a test instance runs on (what its expectations follow: `fwv`,
/// the key set and order, types).
pub type Fw = &'static goe_keys::Profile;

/// The profile of a version of [`FIRMWARES`].
pub fn firmware(version: &str) -> Fw {
    goe_keys::profile(version).unwrap_or_else(|e| panic!("{e}"))
}

/// Instantiates async client tests once per firmware of [`FIRMWARES`]:
///
/// ```ignore
/// /// What it checks.
/// async fn client_does_this(fw: Fw) { let sim = Sim::manual(fw); … }
///
/// per_firmware!(client_does_this, …);
/// ```
///
/// adds a module `client_does_this` beside the function with the tests
/// `fw_060_5` and `fw_056_2`, each running it with that profile.
macro_rules! per_firmware {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn fw_060_5() {
                super::$name($crate::harness::firmware($crate::harness::FIRMWARES[0])).await
            }

            #[tokio::test]
            async fn fw_056_2() {
                super::$name($crate::harness::firmware($crate::harness::FIRMWARES[1])).await
            }
        }
    )+};
}
pub(crate) use per_firmware;

/// Whether `key` is printed by firmware `fw` (exists there and is readable).
pub fn prints(fw: Fw, key: &str) -> bool {
    fw.key(key).is_some_and(|(_, d)| d.access.readable())
}

/// The keys of `keys` that firmware `fw` prints, in its print order: what a
/// filtered status of `keys` shows.
pub fn print_order<'a>(fw: Fw, keys: &[&'a str]) -> Vec<&'a str> {
    let mut shown: Vec<(usize, &str)> = keys
        .iter()
        .filter(|k| prints(fw, k))
        .map(|k| (fw.key(k).and_then(|(kid, _)| fw.position(kid)).unwrap(), *k))
        .collect();
    shown.sort();
    shown.dedup();
    shown.into_iter().map(|(_, k)| k).collect()
}

/// The `amp` values firmware `fw` accepts whatever `ama` says (issue #12:
/// 6–32 A on 055.2+, like real units; `ama`, the cable and the adapter limit
/// the current through `acu`, never the accepted setting).
pub fn amp_accepts(fw: Fw) -> (i64, i64) {
    match fw.key("amp").expect("amp").1.rule {
        goe_keys::def::Rule::Range(lo, hi) => (lo, hi),
        r => panic!("fw {}: amp has no fixed range ({r:?})", fw.firmware),
    }
}

/// Where simulated time starts (a Monday morning, 08:00 local).
pub const START: &str = "2024-06-03T06:00:00Z";

/// How long one client call may take before it counts as a hang (a guard,
/// not a timing assertion).
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// The workspace root (`target/venvs` lives there).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The Python drivers.
pub fn py_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/py")
}

/// A version requirement on an installed package.
#[derive(Debug, Clone, Copy)]
pub enum Pin {
    /// `==`
    Exactly(&'static str),
    /// `<` a `major.minor` version
    Below(u64, u64),
}

/// One client's virtual environment, made by `scripts/client-venvs.sh`.
#[derive(Debug)]
pub struct Venv {
    /// The client as the compatibility table names it.
    pub name: &'static str,
    /// The variable `scripts/client-venvs.sh` exports (a python path; a venv
    /// directory is accepted too).
    pub var: &'static str,
    /// `target/venvs/<dir>` when the variable is unset.
    pub dir: &'static str,
    /// What must be installed.
    pub pins: &'static [(&'static str, Pin)],
}

pub const GOE: Venv = Venv {
    name: "goe 0.3.2",
    var: "GOE_VENV_GOE",
    dir: "goe",
    pins: &[("goe", Pin::Exactly("0.3.2"))],
};

pub const API_LITE: Venv = Venv {
    name: "goecharger-api-lite 1.5.1",
    var: "GOE_VENV_API_LITE",
    dir: "goecharger-api-lite",
    pins: &[
        ("goecharger-api-lite", Pin::Exactly("1.5.1")),
        ("aiohttp", Pin::Below(3, 10)),
    ],
};

pub const GOECHARGERV2: Venv = Venv {
    name: "goechargerv2 0.2.2",
    var: "GOE_VENV_GOECHARGERV2",
    dir: "goechargerv2",
    pins: &[("goechargerv2", Pin::Exactly("0.2.2"))],
};

pub const GOE_PROMETHEUS: Venv = Venv {
    name: "goe-prometheus 0.2.2",
    var: "GOE_VENV_GOE_PROMETHEUS",
    dir: "goe-prometheus",
    // goe-prometheus requires goe>=0.2.2,<0.3.0: pip resolves goe 0.2.2
    pins: &[
        ("goe-prometheus", Pin::Exactly("0.2.2")),
        ("goe", Pin::Exactly("0.2.2")),
    ],
};

pub const WATTPILOT: Venv = Venv {
    name: "wattpilot 0.2",
    var: "GOE_VENV_WATTPILOT",
    dir: "wattpilot",
    pins: &[("wattpilot", Pin::Exactly("0.2"))],
};

pub const GOECHARGER_V1: Venv = Venv {
    name: "goecharger 0.1.0",
    var: "GOE_VENV_GOECHARGER_V1",
    dir: "goecharger-v1",
    pins: &[("goecharger", Pin::Exactly("0.1.0"))],
};

impl Venv {
    /// The environment's python; panics with the way to create it when missing.
    pub fn python(&self) -> PathBuf {
        let how = "scripts/client-venvs.sh creates the client environments \
                   (scripts/test.sh sources it before cargo test)";
        match std::env::var(self.var) {
            Ok(v) if !v.is_empty() => {
                let p = PathBuf::from(&v);
                let p = if p.is_dir() { p.join("bin/python") } else { p };
                assert!(
                    p.exists(),
                    "{}: {}={v} names no python ({} missing); {how}",
                    self.name,
                    self.var,
                    p.display()
                );
                p
            }
            _ => {
                let p = workspace_root()
                    .join("target/venvs")
                    .join(self.dir)
                    .join("bin/python");
                assert!(
                    p.exists(),
                    "{}: the client's virtual environment is missing: {} is unset and {} \
                     does not exist; {how}",
                    self.name,
                    self.var,
                    p.display()
                );
                p
            }
        }
    }

    /// A console script installed in the environment (`bin/<name>`).
    pub fn script(&self, name: &str) -> PathBuf {
        let py = self.python();
        let p = py.parent().expect("bin directory").join(name);
        assert!(p.exists(), "{}: {} is missing", self.name, p.display());
        p
    }

    /// Checks the versions a driver reported against the pins.
    fn check_versions(&self, versions: &Value) {
        for (package, pin) in self.pins {
            let have = versions
                .get(package)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{}: {package} is not installed", self.name));
            let ok = match pin {
                Pin::Exactly(v) => have == *v,
                Pin::Below(major, minor) => {
                    let mut parts = have.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
                    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
                    (a, b) < (*major, *minor)
                }
            };
            assert!(
                ok,
                "{}: {package} {have} is installed, the suite pins {pin:?}; \
                 rerun scripts/client-venvs.sh",
                self.name
            );
        }
    }
}

/// Removes proxy settings so every client talks to 127.0.0.1 directly.
pub fn no_proxy(cmd: &mut Command) {
    for var in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
}

/// Collects a child's output stream in a background thread.
#[derive(Clone, Default)]
pub struct Output(Arc<Mutex<Vec<u8>>>);

impl Output {
    /// Starts draining `stream`.
    pub fn drain(stream: impl Read + Send + 'static) -> Output {
        let out = Output::default();
        let buf = out.0.clone();
        let mut stream = stream;
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            loop {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.lock().unwrap().extend_from_slice(&chunk[..n]),
                }
            }
        });
        out
    }

    /// Everything so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// What a client raised (or logged as an error).
#[derive(Debug, Clone)]
pub struct ClientError {
    /// `Type: message`
    pub error: String,
    /// The Python traceback.
    pub traceback: String,
    /// Errors the client logged instead of raising.
    pub logged: Vec<String>,
}

/// A Python driver (`py/<script>`) controlling one unchanged client library.
pub struct Driver {
    venv: &'static Venv,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    stderr: Output,
}

impl Driver {
    /// Starts `py/<script> HOST:PORT` in the client's environment and waits for
    /// its ready line (with the installed versions, checked against the pins).
    pub fn start(venv: &'static Venv, script: &str, host: &str) -> Driver {
        let py = venv.python();
        let mut cmd = Command::new(&py);
        cmd.arg("-u")
            .arg(py_dir().join(script))
            .arg(host)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("PYTHONPATH")
            .env_remove("PYTHONHOME")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        no_proxy(&mut cmd);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{}: cannot run {}: {e}", venv.name, py.display()));
        let stderr = Output::drain(child.stderr.take().unwrap());
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut d = Driver {
            venv,
            child,
            stdin,
            lines: rx,
            stderr,
        };
        let ready = d.next_line("start-up");
        let v: Value = serde_json::from_str(&ready).unwrap_or_else(|e| {
            panic!(
                "{}: the driver's first line is not JSON ({e}): {ready}\nstderr:\n{}",
                venv.name,
                d.stderr.text()
            )
        });
        assert_eq!(v["ready"], json!(true), "{}: {ready}", venv.name);
        venv.check_versions(&v["versions"]);
        d
    }

    fn next_line(&mut self, what: &str) -> String {
        match self.lines.recv_timeout(CALL_TIMEOUT) {
            Ok(line) => line,
            Err(e) => {
                let exited = self.child.try_wait().ok().flatten();
                panic!(
                    "{}: no answer to {what} ({e:?}; process exit {exited:?})\nstderr:\n{}",
                    self.venv.name,
                    self.stderr.text()
                )
            }
        }
    }

    /// Calls `op(*args)` in the driver; `Err` when the client raised or logged an error.
    pub fn try_call(&mut self, op: &str, args: Value) -> Result<Value, ClientError> {
        let req = json!({"op": op, "args": args}).to_string();
        let stdin = self.stdin.as_mut().expect("driver stdin");
        if let Err(e) = writeln!(stdin, "{req}").and_then(|_| stdin.flush()) {
            panic!(
                "{}: cannot send {req}: {e}\nstderr:\n{}",
                self.venv.name,
                self.stderr.text()
            );
        }
        let line = self.next_line(&req);
        let a: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
            panic!(
                "{}: answer to {req} is not JSON ({e}): {line}",
                self.venv.name
            )
        });
        let logged: Vec<String> = a["logged_errors"]
            .as_array()
            .map(|v| {
                v.iter()
                    .map(|x| x.as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default();
        if a["ok"] == json!(true) && logged.is_empty() {
            Ok(a["result"].clone())
        } else {
            Err(ClientError {
                error: a["error"].as_str().unwrap_or("(no exception)").to_owned(),
                traceback: a["traceback"].as_str().unwrap_or("").to_owned(),
                logged,
            })
        }
    }

    /// Calls `op(*args)`; a client failure fails the test with the client's own error.
    pub fn call(&mut self, op: &str, args: Value) -> Value {
        match self.try_call(op, args.clone()) {
            Ok(v) => v,
            Err(e) => panic!(
                "{} failed in {op}({args}) with its own error:\n{}\n{}{}\n-- client stderr:\n{}",
                self.venv.name,
                e.error,
                e.traceback,
                if e.logged.is_empty() {
                    String::new()
                } else {
                    format!("-- logged errors:\n{}\n", e.logged.join("\n"))
                },
                self.stderr.text()
            ),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        drop(self.stdin.take()); // end of input: the driver exits
        for _ in 0..200 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A charger with the logic running on a manual clock (or with given flags),
/// in its own temporary data directory.
pub struct Sim {
    /// The firmware it runs (`--firmware`).
    pub fw: Fw,
    /// The process.
    pub ch: Charger,
    /// An HTTP client for it.
    pub api: Api,
    http: reqwest::Client,
    _tmp: tempfile::TempDir,
}

/// The charger states clients are checked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No car (`car` 1).
    Idle,
    /// `ev-3p-11kw` at `amp` 6: 3×~6 A like the evcc capture (`car` 2).
    Charging,
    /// The car charged until it stopped by itself (`car` 4).
    Complete,
}

impl Sim {
    /// `--firmware FW --clock manual --start START --seed 1`: time moves only
    /// when advanced.
    pub fn manual(fw: Fw) -> Sim {
        Sim::start(fw, &["--clock", "manual", "--start", START, "--seed", "1"])
    }

    /// A charger of firmware `fw` with these flags.
    pub fn start(fw: Fw, args: &[&str]) -> Sim {
        let tmp = tempfile::tempdir().expect("tempdir");
        let version = fw.firmware.to_string();
        let mut all = vec!["--firmware", version.as_str()];
        all.extend_from_slice(args);
        let ch = Charger::start_with(tmp.path(), &all);
        let api = ch.api();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("reqwest client");
        Sim {
            fw,
            ch,
            api,
            http,
            _tmp: tmp,
        }
    }

    /// `127.0.0.1:PORT`, how clients are pointed at it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.ch.port)
    }

    /// `POST /sim/...`; asserts 200 and returns the new `/sim/state`.
    pub async fn sim(&self, path_and_query: &str) -> Value {
        let url = format!("{}{}", self.api.base, path_and_query);
        let r = self
            .http
            .post(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path_and_query}: {e}"));
        let status = r.status().as_u16();
        let body = r.text().await.expect("body");
        assert_eq!(status, 200, "POST {path_and_query}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("POST {path_and_query}: {e}: {body}"))
    }

    /// Advances simulated time (the logic runs each second).
    pub async fn advance(&self, seconds: u64) -> Value {
        self.sim(&format!("/sim/advance?seconds={seconds}")).await
    }

    /// Plugs a car of a built-in profile at `soc` percent.
    pub async fn plug(&self, car: &str, soc: f64) -> Value {
        self.sim(&format!("/sim/plug?car={car}&soc={soc}")).await
    }

    /// A filtered status (`keys` comma-separated, sent as is).
    pub async fn status(&self, keys: &str) -> Ordered {
        self.api.status_filter(keys).await
    }

    /// `/api/set` that must succeed for every key.
    pub async fn set(&self, pairs: &[(&str, &str)]) {
        self.api.set_ok(pairs).await
    }

    /// Advances `step` simulated seconds at a time, up to `max` seconds, until
    /// `pred` holds for the status of `keys`; panics with the last status.
    pub async fn until(
        &self,
        max: u64,
        step: u64,
        keys: &str,
        what: &str,
        pred: impl Fn(&Ordered) -> bool,
    ) -> Ordered {
        let mut waited = 0;
        loop {
            let st = self.status(keys).await;
            if pred(&st) {
                return st;
            }
            assert!(
                waited < max,
                "{what}: not reached within {max} simulated seconds; last status {}",
                st.raw
            );
            self.advance(step).await;
            waited += step;
        }
    }

    /// Brings a fresh charger into `state` (deterministic: seed 1, manual clock).
    pub async fn reach(&self, state: State) {
        match state {
            State::Idle => {
                self.advance(2).await;
                self.until(5, 1, "car", "idle", |s| int(s, "car") == 1)
                    .await;
            }
            State::Charging => {
                self.set(&[("amp", "6")]).await;
                self.plug("ev-3p-11kw", 30.0).await;
                self.until(10, 1, "car,nrg", "charging 3×~6 A", |s| {
                    int(s, "car") == 2 && nrg(s)[4..7].iter().all(|a| *a > 5.0)
                })
                .await;
                // settle a little, as a capture of a running session would be
                self.advance(30).await;
            }
            State::Complete => {
                // just below the point where the car stops by itself: it
                // draws ~1 A per phase for a few minutes, then reports full
                self.set(&[("amp", "6")]).await;
                self.plug("ev-3p-11kw", 98.6).await;
                self.until(60, 1, "car", "the car draws current", |s| {
                    int(s, "car") == 2
                })
                .await;
                self.until(3600, 30, "car", "complete", |s| int(s, "car") == 4)
                    .await;
                // a settled complete state
                self.advance(600).await;
            }
        }
    }
}

/// An integer value of a status (panics when missing or not an integer).
pub fn int(st: &Ordered, key: &str) -> i64 {
    st.get(key)
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("{key} is not an integer in {}", st.raw))
}

/// A number value of a status.
pub fn num(st: &Ordered, key: &str) -> f64 {
    st.get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{key} is not a number in {}", st.raw))
}

/// `nrg` as numbers (asserts 16 entries).
pub fn nrg(st: &Ordered) -> Vec<f64> {
    let v: Vec<f64> = st
        .get("nrg")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("nrg is not an array in {}", st.raw))
        .iter()
        .map(|x| x.as_f64().expect("nrg entry is a number"))
        .collect();
    assert_eq!(v.len(), 16, "nrg must have 16 entries: {}", st.raw);
    v
}

/// How many phases carry more than 1 A (evcc's measure of active phases).
pub fn active_phases(st: &Ordered) -> usize {
    nrg(st)[4..7].iter().filter(|a| **a > 1.0).count()
}

/// An integer value of a status, `None` when missing, `null` or not an integer.
pub fn opt_int(st: &Ordered, key: &str) -> Option<i64> {
    st.get(key).and_then(Value::as_i64)
}
