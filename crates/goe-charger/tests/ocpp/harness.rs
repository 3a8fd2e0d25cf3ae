//! Machinery of the OCPP tests: the two backends (`csms.py` on mobilityhouse
//! `ocpp`, `strict.js` on `ocpp-rpc` in strict mode), each a child process
//! speaking JSON lines on stdin/stdout (the protocol is in `csms.py`'s doc),
//! and a charger on a manual simulated clock pointed at one of them.

use crate::common::{Api, Charger, Ordered};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Where simulated time starts (a Monday morning).
pub const START: &str = "2024-06-03T06:00:00Z";

/// The serial of the charger under test (the default of the test helpers).
pub const SERIAL: &str = crate::common::SERIAL;

/// How long a backend may take to answer one request beyond the request's
/// own timeout (a hang guard, not a timing assertion).
const SLACK: Duration = Duration::from_secs(60);

/// The workspace root (`target/` lives there).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// This directory (the backends' scripts).
fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ocpp")
}

const HOW: &str = "scripts/client-venvs.sh installs the OCPP backends \
                   (scripts/test.sh sources it before cargo test)";

/// The python of the `ocpp` venv: `GOE_VENV_OCPP` (a python or a venv
/// directory) or `target/venvs/ocpp`; panics saying how to make it.
pub fn ocpp_python() -> PathBuf {
    let p = match std::env::var("GOE_VENV_OCPP") {
        Ok(v) if !v.is_empty() => {
            let p = PathBuf::from(&v);
            if p.is_dir() { p.join("bin/python") } else { p }
        }
        _ => workspace_root().join("target/venvs/ocpp/bin/python"),
    };
    assert!(
        p.exists(),
        "the OCPP backend's Python (ocpp==2.1.0, websockets==17.4) is missing: \
         GOE_VENV_OCPP is unset or wrong and {} does not exist; {HOW}",
        p.display()
    );
    p
}

/// The ocpp-rpc install: `GOE_OCPP_RPC_DIR` or `target/npm/ocpp-rpc`.
pub fn ocpp_rpc_dir() -> PathBuf {
    let d = match std::env::var("GOE_OCPP_RPC_DIR") {
        Ok(v) if !v.is_empty() => PathBuf::from(v),
        _ => workspace_root().join("target/npm/ocpp-rpc"),
    };
    assert!(
        d.join("node_modules/ocpp-rpc/package.json").exists(),
        "ocpp-rpc 2.2.1 is missing: GOE_OCPP_RPC_DIR is unset or wrong and {} has no \
         node_modules/ocpp-rpc; {HOW}",
        d.display()
    );
    d
}

/// Removes proxy settings so every connection stays on 127.0.0.1.
fn no_proxy(cmd: &mut Command) {
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

/// Collects a child's stream in a background thread.
#[derive(Clone, Default)]
struct Drain(Arc<Mutex<Vec<u8>>>);

impl Drain {
    fn start(mut stream: impl Read + Send + 'static) -> Drain {
        let d = Drain::default();
        let buf = d.0.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            loop {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.lock().unwrap().extend_from_slice(&chunk[..n]),
                }
            }
        });
        d
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A CALL the charge point sent.
#[derive(Debug, Clone)]
pub struct CpCall {
    /// Frame index (for `since`).
    pub i: u64,
    /// The unique id.
    pub id: String,
    /// The payload.
    pub payload: Value,
}

/// The answer of the charge point to one of the backend's CALLs.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// CALLRESULT with its payload.
    Result(Value),
    /// CALLERROR with its code and description.
    Error(String, String),
    /// No answer within the timeout.
    Timeout,
}

impl Reply {
    /// The CALLRESULT payload; panics on anything else.
    pub fn ok(&self, what: &str) -> &Value {
        match self {
            Reply::Result(v) => v,
            other => panic!("{what}: expected a CALLRESULT, got {other:?}"),
        }
    }

    /// `status` of the CALLRESULT.
    pub fn status(&self, what: &str) -> String {
        self.ok(what)["status"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no status in {self:?}"))
            .to_owned()
    }
}

/// Which implementation a backend is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `csms.py`: mobilityhouse ocpp 2.1.0.
    Csms,
    /// `strict.js`: ocpp-rpc 2.2.1, strict mode.
    Strict,
}

/// One backend process.
pub struct Backend {
    /// Which one.
    pub kind: Kind,
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    stderr: Drain,
}

impl Backend {
    /// `csms.py` with these extra flags (e.g. `--basic-auth user:pass`).
    pub fn csms(flags: &[&str]) -> Backend {
        let mut cmd = Command::new(ocpp_python());
        cmd.arg("-u")
            .arg(here().join("csms.py"))
            .args(flags)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("PYTHONPATH")
            .env_remove("PYTHONHOME");
        Backend::spawn(
            Kind::Csms,
            cmd,
            &[("ocpp", "2.1.0"), ("websockets", "17.4")],
        )
    }

    /// `strict.js` (ocpp-rpc strict mode).
    pub fn strict() -> Backend {
        let node = std::env::var("GOE_NODE").unwrap_or_else(|_| "node".into());
        let mut cmd = Command::new(node);
        cmd.arg(here().join("strict.js"))
            .env("GOE_OCPP_RPC_DIR", ocpp_rpc_dir());
        Backend::spawn(Kind::Strict, cmd, &[("ocpp-rpc", "2.2.1")])
    }

    fn spawn(kind: Kind, mut cmd: Command, pins: &[(&str, &str)]) -> Backend {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        no_proxy(&mut cmd);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{kind:?} backend: cannot run {cmd:?}: {e}; {HOW}"));
        let stderr = Drain::start(child.stderr.take().unwrap());
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
        let mut b = Backend {
            kind,
            port: 0,
            child,
            stdin,
            lines: rx,
            stderr,
        };
        let ready = b.line("start-up", SLACK);
        let v: Value = serde_json::from_str(&ready).unwrap_or_else(|e| {
            panic!(
                "{kind:?}: first line is not JSON ({e}): {ready}\n{}",
                b.stderr.text()
            )
        });
        assert_eq!(v["ready"], json!(true), "{kind:?}: {ready}");
        for (pkg, want) in pins {
            assert_eq!(
                v["versions"][pkg].as_str(),
                Some(*want),
                "{kind:?}: {pkg} {want} is pinned, the backend runs {}; {HOW}",
                v["versions"]
            );
        }
        b.port = v["port"].as_u64().expect("port") as u16;
        b
    }

    fn line(&mut self, what: &str, limit: Duration) -> String {
        match self.lines.recv_timeout(limit) {
            Ok(l) => l,
            Err(e) => panic!(
                "{:?} backend: no answer to {what} ({e:?}; exit {:?})\nstderr:\n{}",
                self.kind,
                self.child.try_wait().ok().flatten(),
                self.stderr.text()
            ),
        }
    }

    /// One request; `Err` with the backend's error text.
    pub fn try_op(&mut self, op: &str, args: Value) -> Result<Value, String> {
        let timeout = args["timeout"].as_f64().unwrap_or(30.0);
        let req = json!({"op": op, "args": args}).to_string();
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{req}")
            .and_then(|_| stdin.flush())
            .unwrap_or_else(|e| panic!("{:?}: cannot send {req}: {e}", self.kind));
        let limit = Duration::from_secs_f64(timeout) + SLACK;
        let line = self.line(&req, limit);
        let a: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("{:?}: answer is not JSON ({e}): {line}", self.kind));
        if a["ok"] == json!(true) {
            Ok(a["result"].clone())
        } else {
            Err(a["error"].as_str().unwrap_or("?").to_owned())
        }
    }

    /// One request; panics (with the frames so far) on an error.
    pub fn op(&mut self, op: &str, args: Value) -> Value {
        match self.try_op(op, args.clone()) {
            Ok(v) => v,
            Err(e) => {
                let frames = self.frames_text(0);
                panic!(
                    "{:?} backend: {op}({args}) failed: {e}\n-- frames:\n{frames}",
                    self.kind
                )
            }
        }
    }

    /// Sets answer options (see `csms.py` `Options`).
    pub fn options(&mut self, opts: Value) {
        self.op("options", opts);
    }

    /// The index the next frame gets.
    pub fn mark(&mut self) -> u64 {
        self.op("mark", json!({})).as_u64().expect("mark")
    }

    /// Waits for `count` CALLs of `action` after frame `since`.
    pub fn wait_for(
        &mut self,
        action: &str,
        count: usize,
        timeout_s: u64,
        since: u64,
    ) -> Vec<CpCall> {
        let v = self.op(
            "wait_for",
            json!({"action": action, "count": count, "timeout": timeout_s, "since": since}),
        );
        calls(&v)
    }

    /// The CALLs of `action` received after `since`, now (no waiting).
    pub fn calls_now(&mut self, action: &str, since: u64) -> Vec<CpCall> {
        match self.try_op(
            "wait_for",
            json!({"action": action, "count": 0, "timeout": 0, "since": since}),
        ) {
            Ok(v) => calls(&v),
            Err(e) => panic!("{e}"),
        }
    }

    /// Whether `action` arrives within `timeout_s` after `since`.
    pub fn arrives(&mut self, action: &str, timeout_s: u64, since: u64) -> bool {
        self.try_op(
            "wait_for",
            json!({"action": action, "count": 1, "timeout": timeout_s, "since": since}),
        )
        .is_ok()
    }

    /// A CALL of the backend (schema-checked before it is sent).
    pub fn call(&mut self, action: &str, payload: Value) -> Reply {
        self.call_with(action, payload, true, 30)
    }

    /// A CALL, optionally not checked (what a broken backend sends).
    pub fn call_with(
        &mut self,
        action: &str,
        payload: Value,
        validate: bool,
        timeout_s: u64,
    ) -> Reply {
        let mut args = json!({"action": action, "payload": payload, "timeout": timeout_s});
        if self.kind == Kind::Csms {
            args["validate"] = json!(validate);
        }
        let r = self.op("call", args);
        match r["type"].as_str() {
            Some("result") => Reply::Result(r["payload"].clone()),
            Some("error") => Reply::Error(
                r["code"].as_str().unwrap_or("").to_owned(),
                r["description"].as_str().unwrap_or("").to_owned(),
            ),
            Some("timeout") => Reply::Timeout,
            _ => panic!("{:?}: call answered {r}", self.kind),
        }
    }

    /// Sends a text frame as it is (csms.py only); returns the frame index.
    pub fn send_raw(&mut self, text: &str) -> u64 {
        self.op("send_raw", json!({"text": text}))
            .as_u64()
            .expect("index")
    }

    /// The first frame received after `since` of message type `ty` (2, 3, 4;
    /// `None` = any), within `timeout_s` (csms.py only).
    pub fn wait_rx(&mut self, since: u64, ty: Option<u8>, timeout_s: u64) -> Option<Value> {
        let v = self.op(
            "wait_rx",
            json!({"since": since, "type": ty, "timeout": timeout_s}),
        );
        (!v.is_null()).then(|| v["msg"].clone())
    }

    /// Every connection event (connect, disconnect, refused).
    pub fn connections(&mut self) -> Vec<Value> {
        self.op("connections", json!({}))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits for the `count`-th connection.
    pub fn wait_connect(&mut self, count: usize, timeout_s: u64) -> Vec<Value> {
        self.op(
            "wait_connect",
            json!({"count": count, "timeout": timeout_s}),
        )
        .as_array()
        .cloned()
        .unwrap_or_default()
    }

    /// Waits until a charge point is connected (again) (csms.py only).
    pub fn wait_cp(&mut self, timeout_s: u64) {
        self.op("wait_cp", json!({"timeout": timeout_s}));
    }

    /// The violations so far.
    pub fn violations(&mut self) -> Vec<Value> {
        self.op("violations", json!({}))
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The frames after `since`, one line each (for failure messages).
    pub fn frames_text(&mut self, since: u64) -> String {
        match self.try_op("frames", json!({"since": since})) {
            Ok(Value::Array(fs)) => fs
                .iter()
                .map(|f| {
                    format!(
                        "{:>4} {} {} {}",
                        f["i"],
                        f["cp"].as_str().unwrap_or(""),
                        f["dir"].as_str().unwrap_or(""),
                        f["raw"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            other => format!("(frames unavailable: {other:?})"),
        }
    }

    /// Every test ends here: no schema or OCPP-J violation was seen.
    pub fn assert_no_violations(&mut self) {
        let v = self.violations();
        if !v.is_empty() {
            let frames = self.frames_text(0);
            panic!(
                "{:?} backend saw {} violation(s):\n{}\n-- frames:\n{frames}",
                self.kind,
                v.len(),
                v.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }

    /// `ws://127.0.0.1:PORT/ocpp/{serial}`, what the charger is given.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/ocpp/{{serial}}", self.port)
    }

    /// Like [`Backend::url`] with Basic-auth userinfo.
    pub fn url_with_auth(&self, user: &str, pass: &str) -> String {
        format!("ws://{user}:{pass}@127.0.0.1:{}/ocpp/{{serial}}", self.port)
    }
}

fn calls(v: &Value) -> Vec<CpCall> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|c| CpCall {
                    i: c["i"].as_u64().unwrap_or(0),
                    id: c["id"].as_str().unwrap_or("").to_owned(),
                    payload: c["payload"].clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Drop for Backend {
    fn drop(&mut self) {
        drop(self.stdin.take());
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The charger under test: the real binary on a manual clock.
pub struct Cp {
    /// The process.
    pub ch: Charger,
    /// Its HTTP API.
    pub api: Api,
    http: reqwest::Client,
    _tmp: tempfile::TempDir,
}

impl Cp {
    /// `--firmware FW --clock manual --start START --seed 1`.
    pub fn manual(fw: &str) -> Cp {
        let tmp = tempfile::tempdir().expect("tempdir");
        let ch = Charger::start_with(
            tmp.path(),
            &[
                "--firmware",
                fw,
                "--clock",
                "manual",
                "--start",
                START,
                "--seed",
                "1",
            ],
        );
        let api = ch.api();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("reqwest");
        Cp {
            ch,
            api,
            http,
            _tmp: tmp,
        }
    }

    /// Points the charger at `url` and enables OCPP (`ocppu`, `ocppe`).
    pub async fn connect(&self, url: &str) {
        let quoted = serde_json::to_string(url).unwrap();
        self.api
            .set_ok(&[("ocppu", quoted.as_str()), ("ocppe", "true")])
            .await;
    }

    /// `POST /sim/…`, asserting 200.
    pub async fn sim(&self, pq: &str) -> Value {
        let url = format!("{}{pq}", self.api.base);
        let r = self
            .http
            .post(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {pq}: {e}"));
        let status = r.status().as_u16();
        let body = r.text().await.unwrap_or_default();
        assert_eq!(status, 200, "POST {pq}: {body}");
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    /// Advances simulated time.
    pub async fn advance(&self, seconds: u64) {
        self.sim(&format!("/sim/advance?seconds={seconds}")).await;
    }

    /// Plugs a car.
    pub async fn plug(&self, car: &str, soc: f64) {
        self.sim(&format!("/sim/plug?car={car}&soc={soc}")).await;
    }

    /// Unplugs the car.
    pub async fn unplug(&self) {
        self.sim("/sim/unplug").await;
    }

    /// A filtered status.
    pub async fn status(&self, keys: &str) -> Ordered {
        self.api.status_filter(keys).await
    }

    /// One key's value.
    pub async fn value(&self, key: &str) -> Value {
        self.api.value(key).await.unwrap_or(Value::Null)
    }

    /// `/api/set` that must succeed.
    pub async fn set(&self, pairs: &[(&str, &str)]) {
        self.api.set_ok(pairs).await
    }

    /// Advances `step` s at a time (up to `max`) until `pred` holds for `keys`.
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
                "{what}: not within {max} simulated s; last status {}",
                st.raw
            );
            self.advance(step).await;
            waited += step;
        }
    }

    /// Polls (real time, no simulated time passes) until `pred` holds.
    pub async fn poll(
        &self,
        max: Duration,
        keys: &str,
        what: &str,
        pred: impl Fn(&Ordered) -> bool,
    ) -> Ordered {
        let end = std::time::Instant::now() + max;
        loop {
            let st = self.status(keys).await;
            if pred(&st) {
                return st;
            }
            assert!(
                std::time::Instant::now() < end,
                "{what}: not within {max:?}; last status {}\n-- charger log:\n{}",
                st.raw,
                self.ch.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// An integer of a status (panics when missing).
pub fn int(st: &Ordered, key: &str) -> i64 {
    st.get(key)
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("{key} is not an integer in {}", st.raw))
}

/// A number of a status.
pub fn num(st: &Ordered, key: &str) -> f64 {
    st.get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{key} is not a number in {}", st.raw))
}

/// The sampled value of `measurand` (and `phase`) in a MeterValues payload.
pub fn sampled(payload: &Value, measurand: &str, phase: Option<&str>) -> Option<f64> {
    payload["meterValue"].as_array()?.iter().find_map(|mv| {
        mv["sampledValue"].as_array()?.iter().find_map(|sv| {
            let m = sv["measurand"]
                .as_str()
                .unwrap_or("Energy.Active.Import.Register");
            let p = sv["phase"].as_str();
            (m == measurand && p == phase)
                .then(|| sv["value"].as_str().and_then(|s| s.parse().ok()))
                .flatten()
        })
    })
}
