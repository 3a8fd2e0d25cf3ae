//! One WebSocket connection to the backend: TCP (or TLS, `wss://`), the
//! handshake with the `ocpp1.6` subprotocol and Basic auth from the URL's
//! userinfo (security profiles 1 and 2).

use super::url::BackendUrl;
use base64::Engine as _;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The subprotocol a 1.6J charge point asks for.
pub const SUBPROTOCOL: &str = "ocpp1.6";

/// Largest frame accepted from a backend (a GetConfiguration or a charging
/// profile is a few KiB; this bounds memory per connection).
pub const MAX_FRAME: usize = 64 * 1024;

/// The read buffer of one connection (grows for a larger frame).
pub const READ_BUFFER: usize = 4 * 1024;

/// A byte stream a WebSocket runs over (plain TCP or TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open connection.
pub type Socket = WebSocketStream<Box<dyn Io>>;

/// Why a connection could not be opened (the text goes to `ocpple`; it
/// never contains the password).
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// TCP connect failed.
    #[error("connect to {0} failed: {1}")]
    Tcp(String, std::io::Error),
    /// Nothing happened within the connect timeout.
    #[error("connect to {0} timed out")]
    Timeout(String),
    /// TLS set-up or handshake failed.
    #[error("tls: {0}")]
    Tls(String),
    /// The WebSocket handshake failed (HTTP status, wrong subprotocol, …).
    #[error("websocket handshake with {0} failed: {1}")]
    Handshake(String, String),
}

/// Opens a connection to `url` within `timeout`.
pub async fn connect(
    url: &BackendUrl,
    tls: Option<&crate::tls::TlsSettings>,
    timeout: Duration,
) -> Result<Socket, ConnectError> {
    let shown = url.shown();
    match tokio::time::timeout(timeout, open(url, tls)).await {
        Ok(result) => result,
        Err(_) => Err(ConnectError::Timeout(shown)),
    }
}

async fn open(
    url: &BackendUrl,
    tls: Option<&crate::tls::TlsSettings>,
) -> Result<Socket, ConnectError> {
    let shown = url.shown();
    let tcp = TcpStream::connect((url.host.as_str(), url.port))
        .await
        .map_err(|e| ConnectError::Tcp(shown.clone(), e))?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = if url.tls {
        let settings = tls.ok_or_else(|| ConnectError::Tls("no TLS settings".into()))?;
        Box::new(
            crate::tls::wrap(tcp, &url.host, settings, &super::TLS_KEYS)
                .await
                .map_err(|e| ConnectError::Tls(e.to_string()))?,
        )
    } else {
        Box::new(tcp)
    };
    let scheme = if url.tls { "wss" } else { "ws" };
    let target = format!("{scheme}://{}{}", url.host_header(), url.path);
    let mut request = target
        .into_client_request()
        .map_err(|e| ConnectError::Handshake(shown.clone(), e.to_string()))?;
    let headers = request.headers_mut();
    headers.insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static(SUBPROTOCOL),
    );
    if let Some((user, pass)) = &url.credentials {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        let value = HeaderValue::from_str(&format!("Basic {token}"))
            .map_err(|_| ConnectError::Handshake(shown.clone(), "bad credentials".into()))?;
        headers.insert("Authorization", value);
    }
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(MAX_FRAME);
    config.max_frame_size = Some(MAX_FRAME);
    // OCPP frames are small and a fleet holds thousands of connections:
    // tungstenite's 128 KiB read buffer per connection was most of a charge
    // point's memory (BENCHMARKS.md, OCPP); frames are written at once
    config.read_buffer_size = READ_BUFFER;
    config.write_buffer_size = 0;
    let (socket, _response) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config))
            .await
            .map_err(|e| ConnectError::Handshake(shown, handshake_text(&e)))?;
    Ok(socket)
}

/// The handshake error as shown: an HTTP status for a refused upgrade
/// (401 for a wrong password), never a header or body of the answer.
fn handshake_text(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Http(response) => format!("HTTP {}", response.status().as_u16()),
        Error::Protocol(p) => p.to_string(),
        other => other.to_string(),
    }
}
