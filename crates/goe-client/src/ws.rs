//! The charger's local WebSocket API (`ws://<host>/ws`): the full status once,
//! then every change as it happens, and writes signed with the password.
//!
//! The protocol of the go-e app and the Fronius Wattpilot clients:
//!
//! 1. The charger sends `hello` (with its serial) and `authRequired` (`token1`, `token2`).
//! 2. The client derives the stored form of the password,
//!    `hashed = base64(PBKDF2-HMAC-SHA512(password, salt = serial, 100000 rounds, 256 bytes))[..32]`
//!    ([`password_hash`]), and answers `auth` with a random `token3` and
//!    `sha256_hex(token3 + token2 + sha256_hex(token1 + hashed))` ([`auth_hash`]).
//! 3. `authSuccess` (or `authError`: [`ClientError::WrongPassword`]), then the
//!    `fullStatus` chunks (`"partial":true` on all but the last), then a
//!    `deltaStatus` with the keys that changed, whenever something changes.
//! 4. Writes: a `setValue` wrapped in a `securedMsg` with its HMAC-SHA256
//!    (key = `hashed`, [`sign`]), answered by a `response`.
//!
//! Plain `ws://` only (the local API has no TLS), no feature needed.
//!
//! ```no_run
//! # async fn demo() -> Result<(), goe_client::ClientError> {
//! use goe_client::ws::{Update, WsClient};
//! let mut charger = WsClient::connect("192.168.1.50", "my password").await?;
//! let mut status = goe_client::Status::default();
//! while let Some(update) = charger.next().await? {
//!     match update {
//!         Update::Full(full) => status = full,
//!         Update::Delta(delta) => status.merge(&delta),
//!     }
//!     println!("{:?} {:?}", status.car_state(), status.requested_current());
//! }
//! # Ok(()) }
//! ```

use crate::client::{DEFAULT_TIMEOUT, base_url};
use crate::error::{ClientError, short_body};
use crate::status::Status;
use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// PBKDF2 rounds of the firmware's password hash.
pub const PBKDF2_ROUNDS: u32 = 100_000;

type Json = serde_json::Map<String, serde_json::Value>;

/// One status message from the charger.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// Every readable key: the `fullStatus` chunks merged into one status, sent
    /// once after authentication.
    Full(Status),
    /// The keys that changed (`deltaStatus`): merge it into the last full status
    /// with [`Status::merge`].
    Delta(Status),
}

impl Update {
    /// The status carried (all keys or only the changed ones).
    pub fn status(&self) -> &Status {
        match self {
            Update::Full(s) | Update::Delta(s) => s,
        }
    }

    /// The status carried, consumed.
    pub fn into_status(self) -> Status {
        match self {
            Update::Full(s) | Update::Delta(s) => s,
        }
    }
}

/// An authenticated WebSocket connection to one charger.
///
/// [`WsClient::next`] yields the full status, then each change;
/// [`WsClient::set`] writes a key through a signed `securedMsg`.
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    host: String,
    url: String,
    hello: Json,
    serial: String,
    /// The stored form of the password: the HMAC key of writes.
    hashed: String,
    timeout: Duration,
    next_id: u64,
    /// `fullStatus` chunks collected so far.
    chunks: Option<Json>,
    /// Updates that arrived while a write waited for its `response`.
    queued: VecDeque<Update>,
}

impl std::fmt::Debug for WsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // never the password hash
        f.debug_struct("WsClient")
            .field("host", &self.host)
            .field("url", &self.url)
            .field("serial", &self.serial)
            .finish_non_exhaustive()
    }
}

/// The WebSocket URL for `HOST`, `HOST:PORT` or `http://HOST[:PORT]`:
/// `ws://HOST[:PORT]/ws`. A `ws://` URL is taken as it is (`/ws` added when it has no path).
pub fn ws_url(host: &str) -> Result<String, ClientError> {
    let trimmed = host.trim();
    if let Some(rest) = trimmed.strip_prefix("ws://") {
        let base = base_url(&format!("http://{rest}"))?;
        let url = format!("ws://{}", &base["http://".len()..]);
        let has_path = url["ws://".len()..].contains('/');
        return Ok(if has_path { url } else { format!("{url}/ws") });
    }
    if trimmed.starts_with("https://") || trimmed.starts_with("wss://") {
        return Err(ClientError::InvalidHost {
            host: host.to_owned(),
            reason: "the local WebSocket is plain ws:// (no TLS)".to_owned(),
        });
    }
    let base = base_url(trimmed)?;
    Ok(format!("ws://{}/ws", &base["http://".len()..]))
}

/// The stored form of `password` on the charger with `serial`:
/// `base64(PBKDF2-HMAC-SHA512(password, salt = serial, 100000 rounds, 256 bytes))[..32]`.
/// Takes a noticeable fraction of a second by design.
pub fn password_hash(password: &str, serial: &str) -> String {
    let mut out = [0u8; 256];
    pbkdf2::pbkdf2_hmac::<Sha512>(
        password.as_bytes(),
        serial.as_bytes(),
        PBKDF2_ROUNDS,
        &mut out,
    );
    let mut b64 = base64::engine::general_purpose::STANDARD.encode(out);
    b64.truncate(32);
    b64
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The proof of the `auth` message: `sha256_hex(token3 + token2 + sha256_hex(token1 + hashed))`.
pub fn auth_hash(hashed: &str, token1: &str, token2: &str, token3: &str) -> String {
    let inner = sha256_hex(&[token1, hashed]);
    sha256_hex(&[token3, token2, &inner])
}

/// The `hmac` of a `securedMsg`: hex HMAC-SHA256 of `data` with the password hash as key.
pub fn sign(hashed: &str, data: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(hashed.as_bytes()).expect("any key length");
    mac.update(data.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `securedMsg` frame writing `value` to `key`, request number `id`:
/// `data` is the `setValue` as JSON text, `requestId` is `"<id>sm"`.
pub fn secured_set(hashed: &str, id: u64, key: &str, value: &serde_json::Value) -> String {
    let data = serde_json::json!({
        "type": "setValue",
        "requestId": id,
        "key": key,
        "value": value,
    })
    .to_string();
    let hmac = sign(hashed, &data);
    serde_json::json!({
        "type": "securedMsg",
        "data": data,
        "requestId": format!("{id}sm"),
        "hmac": hmac,
    })
    .to_string()
}

/// 32 random hex digits.
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS generator: the token only has to differ between connections.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    hex::encode(bytes)
}

/// What went wrong with the connection, in words.
fn connect_reason(err: &tungstenite::Error, url: &str) -> String {
    match err {
        tungstenite::Error::Io(io) => io_reason(io),
        tungstenite::Error::Http(response) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_deref()
                .map(|b| short_body(&String::from_utf8_lossy(b)))
                .unwrap_or_default();
            let what = if status == 404 {
                format!("no WebSocket API at {url}")
            } else {
                "the upgrade to a WebSocket was refused".to_owned()
            };
            if body.is_empty() {
                format!("HTTP {status}: {what}")
            } else {
                format!("HTTP {status}: {what} ({body})")
            }
        }
        other => other.to_string(),
    }
}

fn io_reason(io: &std::io::Error) -> String {
    match io.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        std::io::ErrorKind::TimedOut => "timed out".to_owned(),
        std::io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
        _ => io.to_string(),
    }
}

fn within(timeout: Duration) -> String {
    format!(
        "no answer within {}",
        crate::value::duration(jiff::SignedDuration::try_from(timeout).unwrap_or_default())
    )
}

fn kind(msg: &Json) -> &str {
    msg.get("type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("")
}

impl WsClient {
    /// Connects to `ws://<host>/ws` and authenticates with `password`, giving
    /// each step [`DEFAULT_TIMEOUT`]. See [`WsClient::connect_timeout`].
    pub async fn connect(host: &str, password: &str) -> Result<WsClient, ClientError> {
        WsClient::connect_timeout(host, password, DEFAULT_TIMEOUT).await
    }

    /// Connects to the charger at `host` (`192.168.1.50`, `HOST:PORT`,
    /// `http://…` or a `ws://` URL) and authenticates with `password`; every
    /// step (connect, each message of the handshake) may take up to `timeout`.
    ///
    /// Errors: [`ClientError::WrongPassword`] when the charger answers
    /// `authError`; [`ClientError::WebSocket`] when the connection fails, the
    /// upgrade is refused (HTTP 400/404) or the charger breaks the protocol;
    /// [`ClientError::InvalidHost`] for a bad address.
    pub async fn connect_timeout(
        host: &str,
        password: &str,
        timeout: Duration,
    ) -> Result<WsClient, ClientError> {
        let url = ws_url(host)?;
        let host = host.trim().to_owned();
        let fail = |reason: String| ClientError::WebSocket {
            host: host.clone(),
            reason,
        };
        let (socket, _response) =
            tokio::time::timeout(timeout, tokio_tungstenite::connect_async(url.as_str()))
                .await
                .map_err(|_| fail(within(timeout)))?
                .map_err(|e| fail(connect_reason(&e, &url)))?;
        let mut client = WsClient {
            socket,
            host: host.clone(),
            url,
            hello: Json::new(),
            serial: String::new(),
            hashed: String::new(),
            timeout,
            next_id: 0,
            chunks: None,
            queued: VecDeque::new(),
        };
        client.authenticate(password).await?;
        Ok(client)
    }

    async fn authenticate(&mut self, password: &str) -> Result<(), ClientError> {
        // hello, then authRequired
        let (token1, token2) = loop {
            let msg = self.recv_handshake("authRequired").await?;
            match kind(&msg) {
                "hello" => {
                    self.serial = msg
                        .get("serial")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    self.hello = msg;
                }
                "authRequired" => {
                    let token = |name: &str| {
                        msg.get(name)
                            .and_then(serde_json::Value::as_str)
                            .map(str::to_owned)
                            .ok_or_else(|| self.protocol(format!("authRequired without {name}")))
                    };
                    if let Some(scheme) = msg.get("hash").and_then(serde_json::Value::as_str)
                        && scheme != "pbkdf2"
                    {
                        return Err(self.protocol(format!("unsupported password hash {scheme:?}")));
                    }
                    break (token("token1")?, token("token2")?);
                }
                _ => {}
            }
        };
        if self.serial.is_empty() {
            return Err(self.protocol("no serial in hello before authRequired".to_owned()));
        }
        // PBKDF2 takes a moment: off the async workers.
        let (pw, serial) = (password.to_owned(), self.serial.clone());
        self.hashed = tokio::task::spawn_blocking(move || password_hash(&pw, &serial))
            .await
            .map_err(|e| self.protocol(format!("hashing the password failed: {e}")))?;
        let token3 = random_token();
        let auth = serde_json::json!({
            "type": "auth",
            "token3": token3,
            "hash": auth_hash(&self.hashed, &token1, &token2, &token3),
        });
        self.send(auth.to_string()).await?;
        loop {
            let msg = self.recv_handshake("authSuccess").await?;
            match kind(&msg) {
                "authSuccess" => return Ok(()),
                "authError" => {
                    return Err(ClientError::WrongPassword {
                        host: self.host.clone(),
                    });
                }
                _ => {}
            }
        }
    }

    fn protocol(&self, reason: String) -> ClientError {
        ClientError::WebSocket {
            host: self.host.clone(),
            reason,
        }
    }

    /// The next message of the handshake, within the timeout; a close is an error.
    async fn recv_handshake(&mut self, waiting_for: &str) -> Result<Json, ClientError> {
        match tokio::time::timeout(self.timeout, self.recv()).await {
            Err(_) => Err(self.protocol(format!(
                "{} (waiting for {waiting_for})",
                within(self.timeout)
            ))),
            Ok(Ok(Some(msg))) => Ok(msg),
            Ok(Ok(None)) => Err(self.protocol(format!(
                "the charger closed the connection before {waiting_for}"
            ))),
            Ok(Err(e)) => Err(e),
        }
    }

    /// The next JSON message (`None`: the connection closed). Cancel-safe.
    async fn recv(&mut self) -> Result<Option<Json>, ClientError> {
        loop {
            let text = match self.socket.next().await {
                None | Some(Ok(Message::Close(_))) => return Ok(None),
                Some(Err(
                    tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
                )) => return Ok(None),
                Some(Err(tungstenite::Error::Io(io))) => return Err(self.protocol(io_reason(&io))),
                Some(Err(tungstenite::Error::Protocol(
                    tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                ))) => return Err(self.protocol("connection reset".to_owned())),
                Some(Err(e)) => return Err(self.protocol(e.to_string())),
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(_)) => continue, // pings are answered by tungstenite
            };
            match serde_json::from_str::<serde_json::Value>(text.as_str()) {
                Ok(serde_json::Value::Object(msg)) => return Ok(Some(msg)),
                _ => {
                    return Err(self.protocol(format!(
                        "the charger sent something that is not a JSON object: {}",
                        short_body(text.as_str())
                    )));
                }
            }
        }
    }

    async fn send(&mut self, text: String) -> Result<(), ClientError> {
        match tokio::time::timeout(self.timeout, self.socket.send(Message::text(text))).await {
            Err(_) => Err(self.protocol(within(self.timeout))),
            Ok(Err(tungstenite::Error::Io(io))) => Err(self.protocol(io_reason(&io))),
            Ok(Err(e)) => Err(self.protocol(e.to_string())),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// A status message as an update: `fullStatus` chunks are collected until the last one.
    fn absorb(&mut self, mut msg: Json) -> Result<Option<Update>, ClientError> {
        let kind = kind(&msg).to_owned();
        if kind != "fullStatus" && kind != "deltaStatus" {
            return Ok(None);
        }
        let partial = msg.get("partial").and_then(serde_json::Value::as_bool) == Some(true);
        let Some(serde_json::Value::Object(status)) = msg.remove("status") else {
            return Err(ClientError::Decode {
                reason: format!("{kind} without a status object"),
            });
        };
        if kind == "deltaStatus" {
            return Ok(Some(Update::Delta(Status::from_json(status.into())?)));
        }
        let all = self.chunks.get_or_insert_with(Json::new);
        all.extend(status);
        if partial {
            return Ok(None);
        }
        let all = self.chunks.take().unwrap_or_default();
        Ok(Some(Update::Full(Status::from_json(all.into())?)))
    }

    /// The next status update: first [`Update::Full`] with every readable key,
    /// then an [`Update::Delta`] whenever keys change. `None` when the charger
    /// closed the connection. Waits as long as it takes (changes come when they
    /// come); cancel-safe, so it can be raced against a timeout or Ctrl-C.
    pub async fn next(&mut self) -> Result<Option<Update>, ClientError> {
        if let Some(update) = self.queued.pop_front() {
            return Ok(Some(update));
        }
        loop {
            let Some(msg) = self.recv().await? else {
                return Ok(None);
            };
            if let Some(update) = self.absorb(msg)? {
                return Ok(Some(update));
            }
        }
    }

    /// Writes `value` to `key` as a signed `securedMsg` and waits for the
    /// charger's `response`: the key's new value on success,
    /// [`ClientError::PartialFailure`] with the charger's message if it refused
    /// (e.g. `amp: failed: Value 40 exceeds range 6 to 32 (40)` on 060.5).
    /// Status updates arriving meanwhile are kept for [`WsClient::next`].
    /// Not cancel-safe.
    pub async fn set(
        &mut self,
        key: &str,
        value: serde_json::Value,
    ) -> Result<Status, ClientError> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(secured_set(&self.hashed, id, key, &value))
            .await?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.recv()).await {
                Err(_) => {
                    return Err(
                        self.protocol(format!("{} to the write of {key}", within(self.timeout)))
                    );
                }
                Ok(msg) => msg?,
            };
            let Some(mut msg) = msg else {
                return Err(self.protocol(format!(
                    "the charger closed the connection before answering the write of {key}"
                )));
            };
            if kind(&msg) != "response" {
                if let Some(update) = self.absorb(msg)? {
                    self.queued.push_back(update);
                }
                continue;
            }
            let answers = match msg.get("requestId") {
                Some(serde_json::Value::Number(n)) => n.as_u64() == Some(id),
                Some(serde_json::Value::String(s)) => {
                    s.strip_suffix("sm").unwrap_or(s) == id.to_string()
                }
                _ => false,
            };
            if !answers {
                continue;
            }
            if msg.get("success").and_then(serde_json::Value::as_bool) == Some(true) {
                return match msg.remove("status") {
                    Some(status) => Status::from_json(status),
                    None => Ok(Status::default()),
                };
            }
            let message = msg
                .get("message")
                .and_then(serde_json::Value::as_str)
                .map_or_else(|| format!("{key}: refused"), str::to_owned);
            return Err(ClientError::PartialFailure {
                results: vec![(key.to_owned(), Err(message))],
            });
        }
    }

    /// [`WsClient::set`] with a value as a person types it (`frc`=`on`,
    /// `lmo`=`eco`, `amp`=`10`), checked with [`crate::parse_value`] first.
    pub async fn set_text(&mut self, key: &str, text: &str) -> Result<Status, ClientError> {
        let value = crate::input::parse_value(key, text)?;
        self.set(key, value).await
    }

    /// The `hello` message (serial, hostname, friendly name, firmware version, …).
    pub fn hello(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.hello
    }

    /// The charger's serial number (from `hello`).
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The address as given (for messages).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The WebSocket URL connected to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Closes the connection politely.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(self.timeout, self.socket.close(None)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `base64(PBKDF2-HMAC-SHA512("secret", "012345", 100000, 256))[..32]`, from Python's hashlib.
    const HASHED: &str = "qnIr32J6bNlQFdh89Luhw2BGjHzF1JZ6";

    #[test]
    fn urls() {
        assert_eq!(ws_url("192.168.1.5").unwrap(), "ws://192.168.1.5/ws");
        assert_eq!(ws_url("127.0.0.1:8080").unwrap(), "ws://127.0.0.1:8080/ws");
        assert_eq!(
            ws_url("http://charger.local:80/").unwrap(),
            "ws://charger.local:80/ws"
        );
        assert_eq!(ws_url("ws://10.0.0.2:81").unwrap(), "ws://10.0.0.2:81/ws");
        assert_eq!(ws_url("ws://10.0.0.2/ws").unwrap(), "ws://10.0.0.2/ws");
        for bad in ["", "https://x", "wss://x", "ftp://x", "ws://"] {
            assert!(
                matches!(ws_url(bad), Err(ClientError::InvalidHost { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn password_hash_is_the_firmwares() {
        assert_eq!(password_hash("secret", "012345"), HASHED);
    }

    #[test]
    fn auth_and_hmac_match_known_values() {
        let (t1, t2, t3) = ("a".repeat(32), "b".repeat(32), "c".repeat(32));
        assert_eq!(
            auth_hash(HASHED, &t1, &t2, &t3),
            "caa7a2eab2f268a301910c76a908f12c3dac4a22e84e49b54857639a4a40bc5f"
        );
        let data = r#"{"type":"setValue","requestId":1,"key":"amp","value":10}"#;
        assert_eq!(
            sign(HASHED, data),
            "212994d03ab4963e13268744c562801c72d62451529070d119c0dd6c23fc6320"
        );
        // the server's side agrees
        assert_eq!(
            auth_hash(HASHED, &t1, &t2, &t3),
            goe_proto::ws::expected_auth_hash(HASHED, &t1, &t2, &t3)
        );
        assert_eq!(sign(HASHED, data), goe_proto::ws::sign(HASHED, data));
    }

    #[test]
    fn secured_set_frames() {
        let frame = secured_set(HASHED, 7, "amp", &serde_json::json!(10));
        let v: serde_json::Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(v["type"], "securedMsg");
        assert_eq!(v["requestId"], "7sm");
        let data = v["data"].as_str().unwrap();
        assert_eq!(
            data,
            r#"{"type":"setValue","requestId":7,"key":"amp","value":10}"#
        );
        assert!(goe_proto::ws::verify_hmac(
            HASHED,
            data,
            v["hmac"].as_str().unwrap()
        ));
        match goe_proto::ws::parse_client(&frame).unwrap() {
            goe_proto::ws::ClientMessage::SecuredMsg { data, .. } => {
                assert!(matches!(
                    goe_proto::ws::parse_client(&data),
                    Ok(goe_proto::ws::ClientMessage::SetValue { .. })
                ));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tokens_are_random_hex() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert_ne!(a, b);
    }
}
