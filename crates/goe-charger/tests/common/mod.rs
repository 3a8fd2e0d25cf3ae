//! Shared helpers of the HTTP integration tests: start the real `goe-charger`
//! binary on a free port in a data directory, talk to it over real sockets
//! (reqwest, or raw TCP for malformed requests), parse its JSON answers
//! keeping the key order, and generate values for every key of the table.

#![allow(dead_code)]

pub mod browser;
pub mod fleet_process;
pub mod json;
pub mod raw;
pub mod values;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub use json::Ordered;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_goe-charger");

/// The serial every test charger runs with unless a test passes `--serial`.
pub const SERIAL: &str = "012345";

/// How long a start-up may take before the test gives up (a hang guard, not a
/// timing assertion: debug builds on a loaded CI machine can be slow).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a request may take before it counts as a hang.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The exact first line the binary prints, without the port.
const LISTEN_PREFIX: &str = "goe-charger listening on http://127.0.0.1:";

/// Output captured from a child's stream by a background thread.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything captured so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Reads `stream` to its end into the buffer (in a thread).
    pub fn drain(&self, mut stream: impl Read + Send + 'static) {
        let buf = self.0.clone();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            loop {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.lock().unwrap().extend_from_slice(&chunk[..n]),
                }
            }
        });
    }
}

/// Why a start did not produce a listening charger.
#[derive(Debug)]
pub struct StartFailure {
    /// The exit status, when the process exited.
    pub status: Option<ExitStatus>,
    /// Everything printed on stdout.
    pub stdout: String,
    /// Everything printed on stderr.
    pub stderr: String,
    /// What went wrong.
    pub reason: String,
}

/// Spawns `cmd` (stdout/stderr piped) and waits for the listening line.
/// Returns the child, its port, and the captured stderr/stdout.
fn spawn_and_wait(mut cmd: Command) -> Result<(Child, u16, Captured, Captured), StartFailure> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn goe-charger");
    let stderr = Captured::default();
    stderr.drain(child.stderr.take().unwrap());
    let stdout_rest = Captured::default();
    let (tx, rx) = mpsc::channel::<String>();
    {
        let out = child.stdout.take().unwrap();
        let rest = stdout_rest.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(out);
            let mut first = String::new();
            if reader.read_line(&mut first).unwrap_or(0) > 0 {
                let _ = tx.send(first);
                // keep draining, so the charger never blocks on a full pipe
                let mut chunk = [0u8; 4096];
                loop {
                    match reader.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => rest.0.lock().unwrap().extend_from_slice(&chunk[..n]),
                    }
                }
            }
        });
    }
    let fail = |child: &mut Child, reason: String, stderr: &Captured, first: String| {
        let status = wait_timeout(child, Duration::from_secs(10));
        if status.is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // give the drain threads a moment to collect the last output
        std::thread::sleep(Duration::from_millis(50));
        StartFailure {
            status,
            stdout: first + &stdout_rest.text(),
            stderr: stderr.text(),
            reason,
        }
    };
    match rx.recv_timeout(START_TIMEOUT) {
        Ok(line) => {
            let trimmed = line.strip_suffix('\n').unwrap_or(&line);
            let port = trimmed
                .strip_prefix(LISTEN_PREFIX)
                .and_then(|p| p.parse::<u16>().ok())
                .filter(|p| *p != 0);
            match port {
                Some(port) => Ok((child, port, stderr, stdout_rest)),
                None => {
                    let reason = format!(
                        "first stdout line must be exactly `{LISTEN_PREFIX}PORT`, got {line:?}"
                    );
                    Err(fail(&mut child, reason, &stderr, line))
                }
            }
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(fail(
            &mut child,
            "stdout closed without a listening line".into(),
            &stderr,
            String::new(),
        )),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(fail(
            &mut child,
            format!("no listening line within {START_TIMEOUT:?}"),
            &stderr,
            String::new(),
        )),
    }
}

/// Polls `child` until it exits or `limit` passes.
pub fn wait_timeout(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let end = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A charger process owned by one test; killed (SIGKILL) when dropped.
pub struct Charger {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// Its data directory.
    pub dir: PathBuf,
    stderr: Captured,
    stdout: Captured,
    _tmp: Option<tempfile::TempDir>,
}

impl Charger {
    /// A charger in a fresh temporary data directory (removed on drop).
    pub fn fresh() -> Charger {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut c = Charger::start_in(tmp.path());
        c._tmp = Some(tmp);
        c
    }

    /// Like [`Charger::fresh`] with extra command-line arguments.
    pub fn fresh_with(extra: &[&str]) -> Charger {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut c = Charger::start_with(tmp.path(), extra);
        c._tmp = Some(tmp);
        c
    }

    /// Like [`Charger::fresh`] on firmware `version` (`--firmware`).
    pub fn fresh_on(version: &str) -> Charger {
        Charger::fresh_with(&["--firmware", version])
    }

    /// Like [`Charger::start_in`] on firmware `version` (`--firmware`).
    pub fn start_on(dir: &Path, version: &str) -> Charger {
        Charger::start_with(dir, &["--firmware", version])
    }

    /// A charger on an existing (or new) data directory that the test owns.
    pub fn start_in(dir: &Path) -> Charger {
        Charger::start_with(dir, &[])
    }

    /// Like [`Charger::start_in`] with extra command-line arguments.
    pub fn start_with(dir: &Path, extra: &[&str]) -> Charger {
        match Charger::try_start(dir, extra) {
            Ok(c) => c,
            Err(f) => panic!(
                "goe-charger did not start in {}: {}\nexit: {:?}\nstdout: {}\nstderr: {}",
                dir.display(),
                f.reason,
                f.status,
                f.stdout,
                f.stderr
            ),
        }
    }

    /// Starts a charger; `Err` when it exits or misbehaves instead of listening.
    pub fn try_start(dir: &Path, extra: &[&str]) -> Result<Charger, StartFailure> {
        let mut cmd = Command::new(BIN);
        cmd.arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(dir)
            .args(extra)
            .stdin(Stdio::null());
        let (child, port, stderr, stdout) = spawn_and_wait(cmd)?;
        Ok(Charger {
            child,
            port,
            dir: dir.to_owned(),
            stderr,
            stdout,
            _tmp: None,
        })
    }

    /// A fresh HTTP client for this charger.
    pub fn api(&self) -> Api {
        Api::new(self.port)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the charger printed on stderr so far (its log).
    pub fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// Its stderr once it contains `needle` (or after [`START_TIMEOUT`]): a
    /// line printed before the listening line may still be on its way through
    /// the reader thread (a hang guard, not a timing assertion).
    pub fn stderr_with(&self, needle: &str) -> String {
        let until = Instant::now() + START_TIMEOUT;
        loop {
            let text = self.stderr.text();
            if text.contains(needle) || Instant::now() > until {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `kill -9` and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for the exit (panics when it does not exit).
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM")
    }

    /// SIGINT, then wait for the exit (panics when it does not exit).
    pub fn interrupt(&mut self) -> ExitStatus {
        self.signal("INT")
    }

    fn signal(&mut self, sig: &str) -> ExitStatus {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args([format!("-{sig}"), pid])
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -{sig} failed");
        match wait_timeout(&mut self.child, Duration::from_secs(30)) {
            Some(status) => status,
            None => {
                self.kill9();
                panic!(
                    "goe-charger did not exit within 30 s of SIG{sig}; stderr:\n{}",
                    self.stderr()
                );
            }
        }
    }
}

impl Drop for Charger {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The charger shared by read-only tests (status, filter, fixture shape).
///
/// It lives for the whole test binary. Statics are never dropped, so it runs
/// under a tiny `sh` wrapper that kills it and removes its data directory when
/// the wrapper's stdin (a pipe from this process) reaches end-of-file, which
/// happens when the test binary exits for whatever reason.
pub struct Shared {
    /// The port.
    pub port: u16,
    stderr: Captured,
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

impl Shared {
    /// A fresh HTTP client for the shared charger.
    pub fn api(&self) -> Api {
        Api::new(self.port)
    }

    /// Its log so far.
    pub fn stderr(&self) -> String {
        self.stderr.text()
    }
}

/// The firmware of the 2021 key table: tests that enumerate that table (every
/// key's set round trip, its secrets, its print order) run on it explicitly.
pub const FW_2021: &str = "051.4";

/// The shared read-only charger (fresh data directory, default serial,
/// default firmware). Tests using it must not change any state.
pub fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| start_shared(&[]))
}

/// The shared read-only charger of firmware `version` (one per version, like
/// [`shared`]).
pub fn shared_on(version: &str) -> &'static Shared {
    static ON: OnceLock<Mutex<Vec<(String, &'static Shared)>>> = OnceLock::new();
    let mut all = ON.get_or_init(Default::default).lock().unwrap();
    if let Some((_, s)) = all.iter().find(|(v, _)| v == version) {
        return s;
    }
    let s: &'static Shared = Box::leak(Box::new(start_shared(&["--firmware", version])));
    all.push((version.to_owned(), s));
    s
}

fn start_shared(extra: &[&str]) -> Shared {
    {
        let dir = tempfile::tempdir().expect("tempdir").keep();
        let script = r#"d=$1; shift; "$0" --listen 127.0.0.1:0 --data-dir "$d" "$@" </dev/null & p=$!
read -r _ignored || true
kill -9 "$p" 2>/dev/null
wait "$p" 2>/dev/null
rm -rf "$d""#;
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .arg(BIN)
            .arg(&dir)
            .args(extra)
            .stdin(Stdio::piped());
        // spawn_and_wait pipes stdout/stderr; stdin is taken afterwards
        match spawn_and_wait(cmd) {
            Ok((mut child, port, stderr, _stdout)) => {
                let stdin = child.stdin.take().expect("wrapper stdin");
                Shared {
                    port,
                    stderr,
                    _stdin: Mutex::new(stdin),
                    _child: Mutex::new(child),
                }
            }
            Err(f) => panic!(
                "shared goe-charger did not start: {}\nexit: {:?}\nstdout: {}\nstderr: {}",
                f.reason, f.status, f.stdout, f.stderr
            ),
        }
    }
}

/// An HTTP response, fully read.
#[derive(Debug, Clone)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body bytes.
    pub bytes: Vec<u8>,
    /// The body as text (lossy; see [`Resp::utf8`]).
    pub body: String,
    /// Whether the body is valid UTF-8.
    pub utf8: bool,
}

impl Resp {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    }

    /// The body as an ordered JSON object (panics with the body when it is not one).
    pub fn object(&self, what: &str) -> Ordered {
        Ordered::parse(&self.body)
            .unwrap_or_else(|e| panic!("{what}: body is not a JSON object ({e}): {}", self.body))
    }
}

/// A `/api/set` answer: HTTP status plus the entries in answer order.
#[derive(Debug, Clone)]
pub struct SetResp {
    /// HTTP status.
    pub status: u16,
    /// The raw body.
    pub body: String,
    /// The parsed body.
    pub obj: Ordered,
}

impl SetResp {
    /// The entry for `key`.
    pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.obj.get(key)
    }

    /// Whether the answer is `{"k1":true,…}` with status 200 for exactly these keys.
    pub fn all_true(&self, keys: &[&str]) -> bool {
        self.status == 200
            && self.obj.keys() == keys
            && self
                .obj
                .entries
                .iter()
                .all(|e| e.value == serde_json::Value::Bool(true))
    }
}

/// A client for one charger (no connection reuse, no proxy, hang guard).
#[derive(Clone)]
pub struct Api {
    client: reqwest::Client,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The port.
    pub port: u16,
}

impl Api {
    /// A client for the charger on `port`.
    pub fn new(port: u16) -> Api {
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("reqwest client");
        Api {
            client,
            base: format!("http://127.0.0.1:{port}"),
            port,
        }
    }

    /// `GET base + path_and_query`; `Err` on transport errors.
    pub async fn try_get(&self, path_and_query: &str) -> Result<Resp, reqwest::Error> {
        let url = format!("{}{}", self.base, path_and_query);
        let r = self.client.get(&url).send().await?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await?.to_vec();
        let (body, utf8) = match String::from_utf8(bytes.clone()) {
            Ok(s) => (s, true),
            Err(_) => (String::from_utf8_lossy(&bytes).into_owned(), false),
        };
        Ok(Resp {
            status,
            headers,
            bytes,
            body,
            utf8,
        })
    }

    /// `POST base + path_and_query` with an empty body (the control API);
    /// returns the HTTP status and the body, panicking on transport errors.
    pub async fn post(&self, path_and_query: &str) -> (u16, String) {
        let url = format!("{}{}", self.base, path_and_query);
        let r = self
            .client
            .post(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path_and_query}: {e:?}"));
        let status = r.status().as_u16();
        let body = r.text().await.unwrap_or_default();
        (status, body)
    }

    /// `GET`, panicking on transport errors.
    pub async fn get(&self, path_and_query: &str) -> Resp {
        let shown: String = path_and_query.chars().take(300).collect();
        self.try_get(path_and_query)
            .await
            .unwrap_or_else(|e| panic!("GET {shown}: {e:?}"))
    }

    /// The unfiltered status (asserts 200 and a JSON object).
    pub async fn status(&self) -> Ordered {
        self.status_query("/api/status").await
    }

    /// `/api/status?filter=<filter>` with `filter` sent exactly as given
    /// (the caller percent-encodes what it wants encoded).
    pub async fn status_filter(&self, filter: &str) -> Ordered {
        self.status_query(&format!("/api/status?filter={filter}"))
            .await
    }

    /// A status query by path; asserts 200 and a JSON object. On fw 60.3+
    /// (the default 060.5) a filter naming keys the firmware does not print
    /// is answered 400 with the same JSON (exactly when: `tests/http/types.rs`).
    pub async fn status_query(&self, pq: &str) -> Ordered {
        let r = self.get(pq).await;
        assert!(
            r.status == 200 || (r.status == 400 && pq.contains("filter=")),
            "GET {pq}: status {} body {}",
            r.status,
            r.body
        );
        r.object(pq)
    }

    /// One key's value in a filtered status (`None` when absent).
    pub async fn value(&self, key: &str) -> Option<serde_json::Value> {
        self.status_filter(&enc(key)).await.get(key).cloned()
    }

    /// `/api/set` with (key, raw JSON text) pairs; both are percent-encoded.
    pub async fn set(&self, pairs: &[(&str, &str)]) -> SetResp {
        let q = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.set_query(&q).await
    }

    /// `/api/set?<query>` with the query sent exactly as given.
    pub async fn set_query(&self, query: &str) -> SetResp {
        let pq = if query.is_empty() {
            "/api/set".to_owned()
        } else {
            format!("/api/set?{query}")
        };
        let r = self.get(&pq).await;
        let shown: String = pq.chars().take(300).collect();
        assert!(
            r.status == 200 || r.status == 500,
            "GET {shown}: status must be 200 or 500, got {} body {}",
            r.status,
            r.body
        );
        let obj = r.object(&shown);
        SetResp {
            status: r.status,
            body: r.body,
            obj,
        }
    }

    /// A set that must fully succeed: `{"k":true,…}` and 200.
    pub async fn set_ok(&self, pairs: &[(&str, &str)]) {
        let r = self.set(pairs).await;
        let keys: Vec<&str> = pairs.iter().map(|p| p.0).collect();
        let mut uniq = Vec::new();
        for k in keys {
            if !uniq.contains(&k) {
                uniq.push(k);
            }
        }
        assert!(
            r.all_true(&uniq),
            "set {pairs:?} must answer 200 with true for each key, got {} {}",
            r.status,
            r.body
        );
    }
}

/// Percent-encodes everything but ASCII letters, digits and `-._~`.
pub fn enc(s: &str) -> String {
    enc_bytes(s.as_bytes())
}

/// Percent-encodes bytes like [`enc`].
pub fn enc_bytes(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() * 3);
    for &c in b {
        if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// Numeric-aware JSON equality: numbers compare by value (`1400` == `1400.0`),
/// objects by their field sets.
pub fn json_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                x == y
            } else if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                x == y
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// A small deterministic pseudo-random generator (64-bit LCG, high bits out).
#[derive(Debug, Clone)]
pub struct Lcg(u64);

impl Lcg {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Lcg {
        Lcg(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 32) as u32
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u32) -> u32 {
        self.next_u32() % n
    }

    /// True with probability `num/den`.
    pub fn chance(&mut self, num: u32, den: u32) -> bool {
        self.below(den) < num
    }

    /// A random element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u32) as usize]
    }
}

/// Milliseconds since 1970 of a civil UTC date-time (proleptic Gregorian).
pub fn civil_to_ms(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, ms: i64) -> i64 {
    // days_from_civil (H. Hinnant)
    let y = if mo <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms
}

/// Weekday of a civil date, 0 = Sunday.
pub fn weekday(y: i64, mo: i64, d: i64) -> i64 {
    let days = civil_to_ms(y, mo, d, 0, 0, 0, 0).div_euclid(86_400_000);
    (days + 4).rem_euclid(7) // 1970-01-01 was a Thursday
}

/// Parses `YYYY-MM-DDTHH:MM:SS.mmm` (exactly that shape) into ms since 1970.
pub fn parse_time_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 23 {
        return None;
    }
    let shape_ok = b.iter().enumerate().all(|(i, c)| match i {
        4 | 7 => *c == b'-',
        10 => *c == b'T',
        13 | 16 => *c == b':',
        19 => *c == b'.',
        _ => c.is_ascii_digit(),
    });
    if !shape_ok {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    let (mo, d, h, mi, se) = (n(5..7), n(8..10), n(11..13), n(14..16), n(17..19));
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    Some(civil_to_ms(n(0..4), mo, d, h, mi, se, n(20..23)))
}
