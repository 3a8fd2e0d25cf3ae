//! Helpers of the push tests: the external tools (a private `mosquitto` per
//! test, the pinned Python clients' venvs), an MQTT subscriber, and the key
//! table's views (readable keys, MQTT-visible keys).
//!
//! A missing tool fails the test with a message saying how to get it; nothing
//! is ever skipped. `scripts/test.sh` installs the tools and exports
//! `GOE_MOSQUITTO`, `GOE_VENV_WATTPILOT` and `GOE_VENV_GOECHARGER_V1`; without
//! them (plain `cargo test`) `mosquitto` is looked up on `PATH` and in
//! `/usr/sbin`, and the venvs under `target/venvs/` of the workspace.

#![allow(dead_code)]

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Start of simulated time of every manual-clock charger here (a Monday).
pub const START: &str = "2024-06-03T06:00:00Z";

/// A charger whose values stand still: manual clock, fixed start and seed.
pub const MANUAL: [&str; 6] = ["--clock", "manual", "--start", START, "--seed", "1"];

/// The default MQTT prefix of the default serial.
pub const PREFIX: &str = "go-eCharger/012345/";

/// How long a test waits for something that should happen (a hang guard, not
/// a timing assertion).
pub const WAIT: Duration = Duration::from_secs(20);

/// Keys whose values move with time or measurements; with a manual clock they
/// should stand still, but a comparison across two reads tolerates them.
pub const LIVE: &[&str] = &[
    "rbt", "utc", "loc", "nrg", "fhz", "avgfhz", "tma", "tpa", "lmsc", "rssi", "lccfi", "lccfc",
    "lcctc", "mcca", "mlra",
];

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir.join("../..");
    root.canonicalize().unwrap_or(root)
}

/// This crate's directory.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The `mosquitto` broker binary: `$GOE_MOSQUITTO`, else `mosquitto` on `PATH`,
/// else `/usr/sbin/mosquitto` (Debian installs it there, often not on a
/// non-root `PATH`). Panics with instructions when there is none.
pub fn mosquitto() -> PathBuf {
    if let Some(p) = std::env::var_os("GOE_MOSQUITTO").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            is_executable(&p),
            "GOE_MOSQUITTO={} is not an executable file; run scripts/test.sh, which installs \
             Debian's mosquitto and sets it",
            p.display()
        );
        return p;
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("mosquitto"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let fallback = ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"].map(PathBuf::from);
    on_path
        .into_iter()
        .chain(fallback)
        .find(|p| is_executable(p))
        .unwrap_or_else(|| {
            panic!(
                "the MQTT tests need the mosquitto broker: GOE_MOSQUITTO is not set and there is no \
                 `mosquitto` on PATH or in /usr/sbin. Run scripts/test.sh (it installs the Debian \
                 packages mosquitto and mosquitto-clients), or `apt-get install mosquitto`."
            )
        })
}

/// The Python of a client venv: `$<var>`, else `target/venvs/<name>/bin/python`
/// of the workspace. Panics with instructions when there is none.
pub fn venv_python(var: &str, name: &str, requirement: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            is_executable(&p),
            "{var}={} is not an executable Python; run scripts/test.sh, which creates the venv \
             with {requirement}",
            p.display()
        );
        return p;
    }
    let p = workspace_root().join(format!("target/venvs/{name}/bin/python"));
    assert!(
        is_executable(&p),
        "this test runs the PyPI client {requirement} from a venv: {var} is not set and {} does \
         not exist. Run scripts/test.sh (it creates target/venvs/{name} with {requirement}), or \
         `python3 -m venv target/venvs/{name} && target/venvs/{name}/bin/pip install {requirement}`",
        p.display()
    );
    p
}

/// [`MANUAL`] on the 2021 firmware: for the WebSocket tests that watch
/// their sessions through `wccw` (webserver connected WebSocket clients), a
/// 2021 key that the newer firmware no longer prints.
pub const MANUAL_2021: [&str; 8] = [
    "--clock",
    "manual",
    "--start",
    START,
    "--seed",
    "1",
    "--firmware",
    crate::common::FW_2021,
];

/// Readable keys of firmware `version` in its print order (what
/// `/api/status` and `fullStatus` show).
pub fn readable_keys(version: &str) -> Vec<&'static str> {
    goe_keys::profile(version)
        .expect("a known firmware")
        .readable_keys()
        .map(|(_, d)| d.name)
        .collect()
}

/// The firmware of the MQTT tests' chargers: 051.4, the firmware that
/// publishes `mcc` (connected) and `mcs` through which these tests watch the
/// session; real 056.2/060.5 units publish neither (their captures lack
/// them), and their publication sets are checked by `http::captures`.
pub const MQTT_FW: &str = crate::common::FW_2021;

/// MQTT-visible keys of [`MQTT_FW`] in its print order (what the retained
/// dump publishes).
pub fn mqtt_keys() -> Vec<&'static str> {
    mqtt_keys_of(MQTT_FW)
}

/// MQTT-visible keys of firmware `version` in its print order.
pub fn mqtt_keys_of(version: &str) -> Vec<&'static str> {
    let profile = goe_keys::profile(version).expect("a known firmware");
    profile
        .readable_keys()
        .filter(|&(kid, _)| profile.publishes(kid))
        .map(|(_, d)| d.name)
        .collect()
}

/// Polls `f` every 50 ms until it returns `Some` or `limit` passes.
pub async fn poll<T, F, Fut>(limit: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if Instant::now() >= end {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Output of a child process, collected by background threads.
pub use crate::common::Captured as Log;

/// A free TCP port on 127.0.0.1 (free now; the caller binds it soon after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A private mosquitto on 127.0.0.1, verbose log captured; killed on drop.
pub struct Broker {
    child: Option<Child>,
    /// Its port.
    pub port: u16,
    dir: tempfile::TempDir,
    log: Log,
}

impl Broker {
    /// A broker on a free port.
    pub fn start() -> Broker {
        let mut last = String::new();
        for _ in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut b = Broker {
                child: None,
                port: free_port(),
                dir,
                log: Log::default(),
            };
            match b.launch(Duration::from_secs(15)) {
                Ok(()) => return b,
                Err(e) => last = e, // most likely the port was taken meanwhile
            }
        }
        panic!("mosquitto did not start: {last}");
    }

    /// A broker on `port`, which the caller knows to be free; not started yet.
    pub fn unstarted_on(port: u16) -> Broker {
        Broker {
            child: None,
            port,
            dir: tempfile::tempdir().expect("tempdir"),
            log: Log::default(),
        }
    }

    /// `mqtt://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Its verbose log (all runs on this port so far).
    pub fn log(&self) -> String {
        self.log.text()
    }

    /// Starts mosquitto on `self.port` and waits until it accepts connections.
    fn launch(&mut self, limit: Duration) -> Result<(), String> {
        let conf = self.dir.path().join("mosquitto.conf");
        // mosquitto 2.x listens only on localhost without a config; a listener
        // line needs allow_anonymous spelled out.
        std::fs::write(
            &conf,
            format!(
                "listener {} 127.0.0.1\nallow_anonymous true\npersistence false\n",
                self.port
            ),
        )
        .map_err(|e| format!("write {}: {e}", conf.display()))?;
        let bin = mosquitto();
        let mut child = Command::new(&bin)
            .arg("-c")
            .arg(&conf)
            .arg("-v")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", bin.display()))?;
        self.log.drain(child.stdout.take().unwrap());
        self.log.drain(child.stderr.take().unwrap());
        let end = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(50));
                return Err(format!(
                    "mosquitto on port {} exited with {status}; log:\n{}",
                    self.port,
                    self.log()
                ));
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() >= end {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "mosquitto on port {} did not accept connections within {limit:?}; log:\n{}",
                    self.port,
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// (Re)starts the broker on its port, retrying while the port is not free yet.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "broker is running");
        let end = Instant::now() + WAIT;
        loop {
            match self.launch(Duration::from_secs(10)) {
                Ok(()) => return,
                Err(e) if Instant::now() >= end => panic!("mosquitto did not restart: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// Stops the broker (SIGTERM, then SIGKILL) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            if crate::common::wait_timeout(&mut child, Duration::from_secs(10)).is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One message a subscriber received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    /// The topic.
    pub topic: String,
    /// The payload as text.
    pub payload: String,
    /// The retain flag as delivered (set for stored retained messages).
    pub retain: bool,
}

enum Ev {
    Msg(Msg),
    ConnAck,
    SubAck,
    Error(String),
}

/// An MQTT 3.1.1 test client subscribed to some filters.
pub struct Sub {
    client: AsyncClient,
    rx: mpsc::UnboundedReceiver<Ev>,
    task: tokio::task::JoinHandle<()>,
    /// Everything received so far, in order.
    pub seen: Vec<Msg>,
    /// How many of `seen` were handed out by `next`.
    read: usize,
}

impl Sub {
    /// Connects as `id` to the broker on `port`, subscribes to `filters`
    /// (QoS 1) and waits for the broker's acknowledgements.
    pub async fn connect(port: u16, id: &str, filters: &[&str]) -> Sub {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_clean_session(true);
        options.set_max_packet_size(256 * 1024, 256 * 1024);
        let (client, mut eventloop) = AsyncClient::new(options, 256);
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                let ev = match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => Ev::Msg(Msg {
                        topic: p.topic.clone(),
                        payload: String::from_utf8_lossy(&p.payload).into_owned(),
                        retain: p.retain,
                    }),
                    Ok(Event::Incoming(Packet::ConnAck(_))) => Ev::ConnAck,
                    Ok(Event::Incoming(Packet::SubAck(_))) => Ev::SubAck,
                    Ok(_) => continue,
                    Err(e) => {
                        // a test client never reconnects: report and stop
                        let _ = tx.send(Ev::Error(e.to_string()));
                        return;
                    }
                };
                if tx.send(ev).is_err() {
                    return;
                }
            }
        });
        let mut sub = Sub {
            client,
            rx,
            task,
            seen: Vec::new(),
            read: 0,
        };
        for f in filters {
            sub.client
                .subscribe(*f, QoS::AtLeastOnce)
                .await
                .expect("queue subscribe");
        }
        let (mut connacks, mut subacks) = (0, 0);
        let end = Instant::now() + WAIT;
        while connacks == 0 || subacks < filters.len() {
            let left = end.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, sub.rx.recv()).await {
                Ok(Some(Ev::ConnAck)) => connacks += 1,
                Ok(Some(Ev::SubAck)) => subacks += 1,
                Ok(Some(Ev::Msg(m))) => sub.seen.push(m),
                Ok(Some(Ev::Error(e))) => {
                    panic!("MQTT test client {id} on port {port}: {e}")
                }
                Ok(None) | Err(_) => panic!(
                    "MQTT test client {id} on port {port}: no CONNACK/SUBACK within {WAIT:?}"
                ),
            }
        }
        sub
    }

    /// Like [`Sub::connect`], retrying while the broker is not up yet.
    pub async fn connect_retry(port: u16, id: &str, filters: &[&str]) -> Sub {
        let end = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < end, "no broker on port {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Sub::connect(port, id, filters).await
    }

    /// The next message not handed out yet, waiting up to `limit`.
    pub async fn next(&mut self, limit: Duration) -> Option<Msg> {
        if self.read < self.seen.len() {
            self.read += 1;
            return Some(self.seen[self.read - 1].clone());
        }
        let end = Instant::now() + limit;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.rx.recv()).await {
                Ok(Some(Ev::Msg(m))) => {
                    self.seen.push(m.clone());
                    self.read += 1;
                    return Some(m);
                }
                Ok(Some(Ev::Error(e))) => panic!("MQTT test client lost its broker: {e}"),
                Ok(Some(_)) => continue,
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// Waits (up to [`WAIT`]) for a message on `topic` matching `pred`;
    /// panics naming `what` and listing the last messages seen.
    pub async fn wait_for(&mut self, topic: &str, pred: impl Fn(&str) -> bool, what: &str) -> Msg {
        let end = Instant::now() + WAIT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.next(left).await {
                Some(m) if m.topic == topic && pred(&m.payload) => return m,
                Some(_) => {}
                None => panic!(
                    "no message on {topic} with {what} within {WAIT:?}; last messages: {:#?}",
                    self.seen.iter().rev().take(15).collect::<Vec<_>>()
                ),
            }
        }
    }

    /// Waits for a message on `topic` with exactly `payload`.
    pub async fn wait_payload(&mut self, topic: &str, payload: &str) -> Msg {
        self.wait_for(topic, |p| p == payload, &format!("payload {payload:?}"))
            .await
    }

    /// The payload last seen on `topic`.
    pub fn last(&self, topic: &str) -> Option<&str> {
        self.seen
            .iter()
            .rev()
            .find(|m| m.topic == topic)
            .map(|m| m.payload.as_str())
    }

    /// Waits (up to [`WAIT`]) until every MQTT-visible key under `prefix` was
    /// seen, live or retained, in any order.
    pub async fn wait_all_keys(&mut self, prefix: &str) {
        self.wait_all_keys_of(prefix, MQTT_FW).await;
    }

    /// Waits (up to [`WAIT`]) until every MQTT-visible key of firmware
    /// `version` under `prefix` was seen, live or retained, in any order.
    pub async fn wait_all_keys_of(&mut self, prefix: &str, version: &str) {
        let keys = mqtt_keys_of(version);
        let end = Instant::now() + WAIT;
        loop {
            let missing: Vec<&str> = keys
                .iter()
                .copied()
                .filter(|k| self.last(&format!("{prefix}{k}")).is_none())
                .collect();
            if missing.is_empty() {
                return;
            }
            let left = end.saturating_duration_since(Instant::now());
            if self.next(left).await.is_none() {
                panic!("no message under {prefix} within {WAIT:?} for {missing:?}");
            }
        }
    }

    /// Everything that arrives until nothing came for `quiet`.
    pub async fn drain_quiet(&mut self, quiet: Duration) -> Vec<Msg> {
        let mut out = Vec::new();
        while let Some(m) = self.next(quiet).await {
            out.push(m);
            assert!(out.len() < 100_000, "endless message stream");
        }
        out
    }

    /// Publishes `payload` on `topic` (QoS 1, not retained).
    pub async fn publish(&self, topic: &str, payload: &str) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.as_bytes().to_vec())
            .await
            .expect("queue publish");
    }

    /// Publishes raw bytes (QoS 1, not retained): payloads that are not text.
    pub async fn publish_bytes(&self, topic: &str, payload: &[u8]) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload.to_vec())
            .await
            .expect("queue publish");
    }
}

impl Drop for Sub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Collects a complete retained dump under `prefix` from `sub`: messages
/// until the last MQTT-visible key's topic arrives. Returns the dump's
/// messages under `prefix` (from the first visible key's topic on).
pub async fn read_dump(sub: &mut Sub, prefix: &str) -> Vec<Msg> {
    let keys = mqtt_keys();
    let first = format!("{prefix}{}", keys[0]);
    let last = format!("{prefix}{}", keys[keys.len() - 1]);
    let mut dump: Vec<Msg> = Vec::new();
    let end = Instant::now() + WAIT;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let Some(m) = sub.next(left).await else {
            panic!(
                "no complete MQTT dump under {prefix} within {WAIT:?}: got {} messages, last: {:#?}",
                dump.len(),
                dump.iter().rev().take(5).collect::<Vec<_>>()
            );
        };
        if m.topic == first {
            dump.clear();
        }
        if m.topic.starts_with(prefix) {
            let done = m.topic == last;
            dump.push(m);
            if done {
                return dump;
            }
        }
    }
}

/// Waits (up to [`WAIT`]) for a complete retained dump of firmware `version`
/// under `prefix` on `sub`: every MQTT-visible key once, in print order, with
/// nothing in between (one connection's first publications, so its `/set`
/// subscription is in place). Runs that are not a whole dump (deltas of the
/// first or last key) are passed over. Works on firmware that does not
/// publish `mcc`.
pub async fn wait_full_dump(sub: &mut Sub, prefix: &str, version: &str) {
    let want: Vec<String> = mqtt_keys_of(version)
        .iter()
        .map(|k| format!("{prefix}{k}"))
        .collect();
    let mut run: Vec<String> = Vec::new();
    let end = Instant::now() + WAIT;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let Some(m) = sub.next(left).await else {
            panic!(
                "no complete MQTT dump of {version} under {prefix} within {WAIT:?}; last \
                 messages: {:#?}",
                sub.seen.iter().rev().take(15).collect::<Vec<_>>()
            );
        };
        if !m.topic.starts_with(prefix) {
            continue;
        }
        if m.topic == want[0] {
            run.clear();
        }
        if want.get(run.len()) == Some(&m.topic) {
            run.push(m.topic);
            if run.len() == want.len() {
                return;
            }
        } else {
            run.clear();
        }
    }
}
