//! The WebSocket handshake on `/ws`, done here rather than by axum's
//! `WebSocketUpgrade` so that the connection's byte stream can be gated:
//! [`Gate`] lets at most [`PRE_AUTH_BYTES`] through before authentication,
//! which bounds what an unauthenticated client can make the server buffer,
//! whatever tungstenite's per-connection message limit is.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Version, header};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// Bytes a client may send before it is authenticated (all frames together,
/// headers included). A real client sends one `auth` of about 150 bytes;
/// more closes the connection.
pub const PRE_AUTH_BYTES: usize = 4096;

/// Largest message (and frame) of an authenticated client. The longest
/// real message is a `securedMsg` whose `setValue` carries a 256-byte
/// string (the longest string key, `mcu`): escaped twice (inside `data`,
/// then as a JSON string) that is under 4 KiB; structured values (`ids`,
/// card and Wi-Fi lists) are smaller. Larger messages close the connection
/// with 1009 (message too big).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// The gated byte stream a WebSocket session runs on.
pub type Socket = WebSocketStream<Gate<TokioIo<hyper::upgrade::Upgraded>>>;

/// A byte stream that lets through at most a budget of read bytes until the
/// budget is lifted (after authentication); past it, reads fail.
pub struct Gate<S> {
    inner: S,
    budget: Arc<AtomicUsize>,
}

/// Lifts a [`Gate`]'s budget (the session holds it).
#[derive(Clone)]
pub struct GateKey(Arc<AtomicUsize>);

impl GateKey {
    /// Lets every further byte through: the client is authenticated.
    pub fn open(&self) {
        self.0.store(usize::MAX, Ordering::Relaxed);
    }
}

impl<S> Gate<S> {
    /// `inner` with a budget of `bytes`, and the key that lifts it.
    pub fn new(inner: S, bytes: usize) -> (Gate<S>, GateKey) {
        let budget = Arc::new(AtomicUsize::new(bytes));
        (
            Gate {
                inner,
                budget: budget.clone(),
            },
            GateKey(budget),
        )
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Gate<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let budget = self.budget.load(Ordering::Relaxed);
        if budget == usize::MAX {
            return Pin::new(&mut self.inner).poll_read(cx, buf);
        }
        if budget == 0 {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "too much data before authentication",
            )));
        }
        // read at most the budget (it is small: a stack copy, no unsafe)
        let mut tmp = [0u8; PRE_AUTH_BYTES];
        let want = budget.min(buf.remaining()).min(tmp.len());
        let mut limited = ReadBuf::new(&mut tmp[..want]);
        match Pin::new(&mut self.inner).poll_read(cx, &mut limited) {
            Poll::Ready(Ok(())) => {
                let got = limited.filled();
                buf.put_slice(got);
                let n = got.len();
                // the session may have opened the gate meanwhile: keep MAX
                let _ = self
                    .budget
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                        (b != usize::MAX).then(|| b.saturating_sub(n))
                    });
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Gate<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Why a request on `/ws` is not a WebSocket handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAHandshake;

fn header_is(headers: &HeaderMap, name: header::HeaderName, value: &str) -> bool {
    headers
        .get(name)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(value.as_bytes()))
}

fn header_has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// Checks an HTTP/1.1 WebSocket handshake (RFC 6455 §4.2.1, what axum's
/// `WebSocketUpgrade` checks) and returns the `101 Switching Protocols`
/// answer plus the future of the upgraded connection.
pub fn accept(
    request: &mut Request,
) -> Result<(Response, hyper::upgrade::OnUpgrade), NotAHandshake> {
    if request.version() != Version::HTTP_11 || request.method() != Method::GET {
        return Err(NotAHandshake);
    }
    let headers = request.headers();
    if !header_has_token(headers, header::CONNECTION, "upgrade")
        || !header_is(headers, header::UPGRADE, "websocket")
        || !header_is(headers, header::SEC_WEBSOCKET_VERSION, "13")
    {
        return Err(NotAHandshake);
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(NotAHandshake)?;
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let on_upgrade = request
        .extensions_mut()
        .remove::<hyper::upgrade::OnUpgrade>()
        .ok_or(NotAHandshake)?;
    let response = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, HeaderValue::from_static("upgrade"))
        .header(header::UPGRADE, HeaderValue::from_static("websocket"))
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(Body::empty())
        .map_err(|_| NotAHandshake)?;
    Ok((response, on_upgrade))
}

/// Waits for the upgrade and wraps the connection: gated, with the
/// session's read buffer and message limits.
pub async fn socket(on_upgrade: hyper::upgrade::OnUpgrade) -> Option<(Socket, GateKey)> {
    let upgraded = on_upgrade.await.ok()?;
    let (gate, key) = Gate::new(TokioIo::new(upgraded), PRE_AUTH_BYTES);
    let config = WebSocketConfig::default()
        .read_buffer_size(crate::http::WS_READ_BUFFER)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let socket = WebSocketStream::from_raw_socket(gate, Role::Server, Some(config)).await;
    Some((socket, key))
}
