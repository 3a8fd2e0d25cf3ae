//! The charger's OCPP 1.6J client (issue #14), configured by `ocppe`,
//! `ocppu` and the TLS keys: one task per charger.
//!
//! The protocol is [`goe_ocpp::session::Session`] (sans I/O); this task owns
//! its socket and its durable queue ([`journal`]) and carries out what the
//! session returns. The session lives as long as the configuration: it keeps
//! ticking while the backend is unreachable (transaction messages queue in
//! the journal) and is told about every (re)connect. Reconnects back off
//! from [`FIRST_BACKOFF`] to [`MAX_BACKOFF`]; `ocpps`, `ocppc`, `ocppca`,
//! `ocpple`, `ocpplea` show the state. OCPP's own intervals run on the
//! simulated clock (the session reads the time from the charger's view);
//! connect and write timeouts on the real one.

pub mod journal;
pub mod link;
pub mod port;
pub mod url;

use crate::device::Device;
use futures_util::{SinkExt as _, StreamExt as _};
use goe_ocpp::session::{Session, SessionOptions};
use goe_ocpp::view::Output;
use journal::Journal;
use link::Socket;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

/// First wait between reconnection attempts (doubled up to [`MAX_BACKOFF`]).
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);

/// Longest wait between reconnection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// TCP, TLS and the WebSocket handshake must finish within this.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A frame that the backend does not take within this is a dead connection.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The names of the OCPP TLS keys, for the texts of `ocpple`.
pub const TLS_KEYS: crate::tls::TlsKeys = crate::tls::TlsKeys {
    server_cert: "ocppsc",
    client_cert: "ocppcc",
    client_key: "ocppck",
};

/// The OCPP settings the task follows; a change restarts the client. Its
/// `Debug` masks the password of the URL (the TLS keys mask themselves).
#[derive(Clone, PartialEq, Eq)]
pub struct OcppConfig {
    /// `ocppe`.
    pub enabled: bool,
    /// `ocppu` (may hold a password: never logged as is).
    pub url: String,
    /// The TLS keys.
    pub tls: crate::tls::TlsSettings,
}

impl std::fmt::Debug for OcppConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OcppConfig")
            .field("enabled", &self.enabled)
            .field("url", &goe_keys::render::mask_url_password(&self.url))
            .field("tls", &self.tls)
            .finish()
    }
}

/// Runs the OCPP client of `device` until the task is aborted.
pub async fn run(device: Arc<Device>) {
    let mut changes = device.subscribe();
    loop {
        let config = port::config(&device);
        if !config.enabled || config.url.trim().is_empty() {
            port::link_status(&device, false, false, None);
            if !reconfigured(&device, &config, &mut changes).await {
                return;
            }
            continue;
        }
        match url::parse(&config.url, &device.serial()) {
            Ok(url) => {
                if !backend(&device, &config, &url, &mut changes).await {
                    return;
                }
            }
            Err(e) => {
                port::link_status(&device, true, false, Some(e.to_string()));
                if !reconfigured(&device, &config, &mut changes).await {
                    return;
                }
            }
        }
    }
}

/// Waits until the OCPP settings differ from `config`; `false` when the
/// device is gone.
async fn reconfigured(
    device: &Device,
    config: &OcppConfig,
    changes: &mut watch::Receiver<u64>,
) -> bool {
    let mut watch = port::Watch::new(device);
    while changes.changed().await.is_ok() {
        if watch.check(device, config) == port::Change::Settings {
            return true;
        }
    }
    false
}

/// Why a connection ended.
enum Ended {
    /// The settings changed, or the charger restarted: start over.
    Reconfigured,
    /// The device is gone.
    Gone,
    /// The connection failed; the text goes to `ocpple`.
    Lost(String),
}

/// One configuration's lifetime: the session, its journal, connections with
/// backoff. `false` when the device is gone.
async fn backend(
    device: &Arc<Device>,
    config: &OcppConfig,
    url: &url::BackendUrl,
    changes: &mut watch::Receiver<u64>,
) -> bool {
    let journal = match open_journal(device).await {
        Ok(j) => j,
        Err(e) => {
            port::link_status(device, true, false, Some(format!("ocpp queue: {e}")));
            return reconfigured(device, config, changes).await;
        }
    };
    let (journal, restored) = journal;
    let mut state = State {
        device: device.clone(),
        journal: Arc::new(parking_lot::Mutex::new(journal)),
        session: Session::new(
            SessionOptions {
                remote_start_profile: device.firmware().ocpp_remote_start_profile,
                ..SessionOptions::default()
            },
            restored.pending,
            restored.next_seq,
        ),
        last_second: None,
        watch: port::Watch::new(device),
    };
    port::link_status(device, true, false, None);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let tls = (url.tls).then_some(&config.tls);
        let attempt = link::connect(url, tls, CONNECT_TIMEOUT);
        tokio::pin!(attempt);
        let opened = loop {
            tokio::select! {
                result = &mut attempt => break result,
                changed = changes.changed() => {
                    if changed.is_err() {
                        return false;
                    }
                    if state.tick_offline(config).await.is_err() {
                        return true;
                    }
                }
            }
        };
        let error = match opened {
            Ok(socket) => {
                backoff = FIRST_BACKOFF;
                port::link_status(device, true, true, None);
                match state.online(socket, config, changes).await {
                    Ended::Reconfigured => return true,
                    Ended::Gone => return false,
                    Ended::Lost(e) => e,
                }
            }
            Err(e) => e.to_string(),
        };
        port::link_status(device, true, false, Some(error));
        let outputs = state.session.closed(&port::view(device));
        let _ = state.carry_out(outputs, None).await;
        let sleep = tokio::time::sleep(backoff);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => break,
                changed = changes.changed() => {
                    if changed.is_err() {
                        return false;
                    }
                    if state.tick_offline(config).await.is_err() {
                        return true;
                    }
                }
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// When the next ping is due (`None`: pings are off).
fn next_ping(interval_s: i64) -> Option<tokio::time::Instant> {
    (interval_s > 0)
        .then(|| tokio::time::Instant::now() + Duration::from_secs(interval_s.unsigned_abs()))
}

/// Completes when the ping is due; never when pings are off.
async fn ping_due(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn open_journal(device: &Arc<Device>) -> std::io::Result<(Journal, journal::Restored)> {
    let dir = device
        .data_dir()
        .ok_or_else(|| std::io::Error::other("no data directory"))?;
    tokio::task::spawn_blocking(move || Journal::open(&dir))
        .await
        .map_err(std::io::Error::other)?
}

/// The session and what it needs to act.
struct State {
    device: Arc<Device>,
    journal: Arc<parking_lot::Mutex<Journal>>,
    session: Session,
    /// The simulated second of the last tick (ticks run once per second).
    last_second: Option<i64>,
    /// Tells a restart (`rbc` moved: `rst`, a Reset; the client starts over
    /// as after a real boot) and a change of the settings from other changes.
    watch: port::Watch,
}

impl State {
    /// A tick while no connection is open (sends are dropped: the session
    /// queues what must not be lost); `Err` when the client must start over.
    async fn tick_offline(&mut self, config: &OcppConfig) -> Result<(), String> {
        if self.watch.check(&self.device, config) != port::Change::Other {
            return Err("restarted or reconfigured".into());
        }
        if let Some(outputs) = self.tick() {
            self.carry_out(outputs, None).await?;
        }
        Ok(())
    }

    /// The session's tick, once per simulated second.
    fn tick(&mut self) -> Option<Vec<Output>> {
        // the clock first: most notifications of a second need no view
        let second = self.device.clock().now().millis().div_euclid(1000);
        if self.last_second == Some(second) {
            return None;
        }
        self.last_second = Some(second);
        Some(self.session.tick(&port::view(&self.device)))
    }

    /// One open connection until it ends.
    async fn online(
        &mut self,
        mut socket: Socket,
        config: &OcppConfig,
        changes: &mut watch::Receiver<u64>,
    ) -> Ended {
        let outputs = self.session.connected(&port::view(&self.device));
        if let Err(e) = self.carry_out(outputs, Some(&mut socket)).await {
            return Ended::Lost(e);
        }
        // WebSocketPingInterval (real time: it keeps the TCP path alive)
        let mut ping_s = self.session.ping_interval_s();
        let mut ping_at = next_ping(ping_s);
        loop {
            if self.session.ping_interval_s() != ping_s {
                ping_s = self.session.ping_interval_s();
                ping_at = next_ping(ping_s);
            }
            tokio::select! {
                () = ping_due(ping_at) => {
                    let ping = socket.send(Message::Ping(Vec::new().into()));
                    match tokio::time::timeout(WRITE_TIMEOUT, ping).await {
                        Ok(Ok(())) => ping_at = next_ping(ping_s),
                        Ok(Err(e)) => return Ended::Lost(e.to_string()),
                        Err(_) => return Ended::Lost("the backend takes no data".into()),
                    }
                }
                frame = socket.next() => {
                    let text = match frame {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Close(_))) | None => {
                            return Ended::Lost("connection closed by the backend".into());
                        }
                        Some(Ok(Message::Binary(_))) => {
                            // OCPP-J is text only; a binary frame is a protocol error
                            return Ended::Lost("binary frame from the backend".into());
                        }
                        Some(Ok(_)) => continue, // ping/pong: tungstenite answers pings
                        Some(Err(e)) => return Ended::Lost(e.to_string()),
                    };
                    let outputs = self.session.received(&text, &port::view(&self.device));
                    if let Err(e) = self.carry_out(outputs, Some(&mut socket)).await {
                        return Ended::Lost(e);
                    }
                }
                changed = changes.changed() => {
                    if changed.is_err() {
                        return Ended::Gone;
                    }
                    if self.watch.check(&self.device, config) != port::Change::Other {
                        let _ = tokio::time::timeout(Duration::from_secs(2), socket.close(None)).await;
                        return Ended::Reconfigured;
                    }
                    if let Some(outputs) = self.tick()
                        && let Err(e) = self.carry_out(outputs, Some(&mut socket)).await
                    {
                        return Ended::Lost(e);
                    }
                }
            }
        }
    }

    /// Carries out `outputs` in order: a journal record is durable before
    /// anything after it happens.
    async fn carry_out(
        &mut self,
        outputs: Vec<Output>,
        mut socket: Option<&mut Socket>,
    ) -> Result<(), String> {
        for output in outputs {
            match output {
                Output::Send(text) => {
                    if let Some(s) = socket.as_deref_mut() {
                        match tokio::time::timeout(WRITE_TIMEOUT, s.send(Message::text(text))).await
                        {
                            Ok(Ok(())) => {}
                            Ok(Err(e)) => return Err(e.to_string()),
                            Err(_) => return Err("the backend takes no data".into()),
                        }
                    }
                }
                Output::Journal(op) => {
                    let journal = self.journal.clone();
                    tokio::task::spawn_blocking(move || journal.lock().apply(&op))
                        .await
                        .map_err(|e| e.to_string())?
                        .map_err(|e| format!("ocpp queue: {e}"))?;
                }
                Output::Command(command) => port::command(&self.device, command).await,
                Output::Keys(keys) => port::keys(&self.device, keys).await,
                Output::Close => {
                    if let Some(s) = socket.as_deref_mut() {
                        let _ = tokio::time::timeout(Duration::from_secs(2), s.close(None)).await;
                    }
                    return Err("closed by the charge point".into());
                }
            }
        }
        Ok(())
    }
}
