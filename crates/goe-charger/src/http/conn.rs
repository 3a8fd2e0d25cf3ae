//! The HTTP connection layer of one charger: our own accept loop over hyper,
//! with the connection limits of the real unit's ESP-IDF httpd.
//!
//! - Every connection's bytes pass a `Wire` adapter, which follows the request
//!   framing ([`super::head::Framer`]): clean heads pass untouched, heads with
//!   raw `"`, `<`, `>`, spaces or UTF-8 in the target are percent-encoded, and
//!   heads nobody can accept become an internal request ([`REFUSED_PATH`])
//!   that the service answers in the firmware's error style, then closes.
//! - A head must be complete within [`Limits::header_timeout`] of its first
//!   byte (then 408, like httpd's `recv_wait_timeout`); a body may not stall
//!   longer than that either; a keep-alive connection without a request in
//!   flight is closed after [`Limits::idle_timeout`].
//! - At most [`Limits::max_connections`] connections are open: a new one
//!   closes the least recently used, preferring connections with no request
//!   in flight (httpd's `max_open_sockets` with `lru_purge_enable`).
//! - Every request carries `ConnectInfo<SocketAddr>` (the peer address).

use super::head::{Framer, Refusal, Step};
use atomic_waker::AtomicWaker;
use axum::Router;
use axum::extract::ConnectInfo;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// Default of [`Limits::header_timeout`]: ESP-IDF httpd's `recv_wait_timeout`.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// Default of [`Limits::idle_timeout`]: longer than the 30 s poll interval of
/// evcc and Home Assistant, so their keep-alive connections stay open.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Default of [`Limits::max_connections`]: far above what clients use (the
/// HTTP benchmark opens 32, the WebSocket benchmark 100 watchers), far below
/// the usual file-descriptor limit of 1024.
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// The path of the internal request a refused head is turned into.
pub const REFUSED_PATH: &str = "/.goe-refused-request";

const REFUSED_REQUEST: &[u8] = b"GET /.goe-refused-request HTTP/1.1\r\nconnection: close\r\n\r\n";

/// How long a refused connection keeps reading (and dropping) what the
/// client still sends after the answer, so that closing does not reset the
/// connection before the client has read the answer.
const LINGER: Duration = Duration::from_secs(2);

/// How long shutdown waits for open requests before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Connection limits of one listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest time from the first byte of a request head to its end, and
    /// longest pause inside a request body.
    pub header_timeout: Duration,
    /// Longest time a connection stays open without a request.
    pub idle_timeout: Duration,
    /// Most connections open at once (at least 1).
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Told of every HTTP connection opened (+1) and closed or upgraded to a
/// WebSocket (−1): the charger's `wcch`.
pub type ClientHook = Arc<dyn Fn(i64) + Send + Sync>;

/// Serves `app` on `listener` within `limits` until `shutdown` completes;
/// then lets open requests finish (at most 10 s).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    serve_counting(listener, app, limits, Arc::new(|_| {}), shutdown).await
}

/// [`serve`], telling `clients` of each connection opened and closed.
pub async fn serve_counting(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    clients: ClientHook,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let registry = Arc::new(Registry::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    tasks.spawn(connection(
                        tcp,
                        peer,
                        app.clone(),
                        registry.clone(),
                        limits,
                        stop_rx.clone(),
                        clients.clone(),
                    ));
                }
                Err(e) if is_connection_error(&e) => {}
                Err(e) => {
                    // e.g. EMFILE: the backlog keeps the clients; try again soon
                    tracing::debug!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(());
    // the dashboard's event streams never end by themselves
    crate::ui::stop_streams();
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, drain).await.is_err() {
        tasks.abort_all();
    }
    Ok(())
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// One connection: hyper over a [`Wire`], until it ends, is purged or the
/// server stops.
async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    app: Router,
    registry: Arc<Registry>,
    limits: Limits,
    mut stop: tokio::sync::watch::Receiver<()>,
    clients: ClientHook,
) {
    // counted in the connection's task: the accept loop never waits for the
    // charger, and a request on this connection already sees it counted
    let _open = OpenClient::new(clients);
    let (id, shared) = registry.admit(peer);
    let wire = Wire::new(tcp, id, shared.clone(), registry.clone(), limits);
    let service = {
        let shared = shared.clone();
        let registry = registry.clone();
        hyper::service::service_fn(move |request| {
            respond(app.clone(), shared.clone(), registry.clone(), request)
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(wire), service)
        .with_upgrades();
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::trace!("connection from {peer}: {e}");
                }
                break;
            }
            () = shared.notify.notified() => {
                if shared.purged.load(Ordering::Acquire) {
                    break;
                }
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// One open HTTP connection as [`ClientHook`] counts it, until dropped
/// (the connection ended, was purged, upgraded, or its task aborted).
struct OpenClient(ClientHook);

impl OpenClient {
    fn new(hook: ClientHook) -> Self {
        hook(1);
        OpenClient(hook)
    }
}

impl Drop for OpenClient {
    fn drop(&mut self) {
        (self.0)(-1);
    }
}

/// Answers one request: the refusal of a head, or the router with the peer
/// address attached.
async fn respond(
    mut app: Router,
    shared: Arc<Shared>,
    registry: Arc<Registry>,
    mut request: hyper::Request<Incoming>,
) -> Result<Response, std::convert::Infallible> {
    if request.uri().path() == REFUSED_PATH
        && let Some(refusal) = shared.refusal.lock().take()
    {
        return Ok(super::refused(refusal));
    }
    let in_flight = InFlight::new(shared.clone(), registry);
    request.extensions_mut().insert(ConnectInfo(shared.peer));
    let response = tower_service::Service::call(&mut app, request).await?;
    if response.status() == axum::http::StatusCode::SWITCHING_PROTOCOLS {
        shared.upgraded.store(true, Ordering::Release);
    }
    // a dashboard event stream (#16) is in flight until its body ends: no
    // idle timeout cuts it, and it is purged after idle connections
    let streaming = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    if streaming {
        return Ok(response.map(|body| {
            let chunks = futures_util::StreamExt::map(body.into_data_stream(), move |chunk| {
                let _in_flight = &in_flight;
                chunk
            });
            axum::body::Body::from_stream(chunks)
        }));
    }
    Ok(response)
}

/// Counts a request in flight on its connection until dropped.
struct InFlight {
    shared: Arc<Shared>,
    registry: Arc<Registry>,
}

impl InFlight {
    fn new(shared: Arc<Shared>, registry: Arc<Registry>) -> Self {
        shared.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight { shared, registry }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // idle time counts from the answer, not from the request
        self.shared
            .last_active
            .store(self.registry.now_ns(), Ordering::Relaxed);
        self.shared.answered.store(true, Ordering::Release);
        self.shared.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What the accept loop, the service and the [`Wire`] of one connection share.
struct Shared {
    peer: SocketAddr,
    /// Nanoseconds since [`Registry::epoch`] of the last bytes received or
    /// the last answer.
    last_active: AtomicU64,
    in_flight: AtomicU32,
    /// At least one request of this connection was answered. A connection
    /// that has not been answered yet is purged only after every idle one:
    /// otherwise, in a storm of new connections, a client's fresh
    /// connection (its request not read yet) would be the least recently
    /// used and lose its place before it is served.
    answered: AtomicBool,
    /// The connection was switched to the WebSocket protocol.
    upgraded: AtomicBool,
    /// The connection was chosen to make room for a new one.
    purged: AtomicBool,
    /// The refusal to answer for [`REFUSED_PATH`].
    refusal: Mutex<Option<Refusal>>,
    /// Wakes the connection task when purged.
    notify: tokio::sync::Notify,
    /// Wakes a reader of an upgraded connection when purged.
    waker: AtomicWaker,
}

impl Shared {
    fn busy(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) > 0 || self.upgraded.load(Ordering::Acquire)
    }

    /// The purge order: idle answered connections first, then connections
    /// not answered yet, then busy ones; least recently used first within each.
    fn purge_rank(&self) -> (u8, u64) {
        let class = if self.busy() {
            2
        } else if self.answered.load(Ordering::Acquire) {
            0
        } else {
            1
        };
        (class, self.last_active.load(Ordering::Relaxed))
    }

    fn purge(&self) {
        self.purged.store(true, Ordering::Release);
        self.notify.notify_one();
        self.waker.wake();
    }
}

/// The open connections of one listener.
struct Registry {
    epoch: Instant,
    max: usize,
    conns: Mutex<Conns>,
}

#[derive(Default)]
struct Conns {
    next_id: u64,
    open: HashMap<u64, Arc<Shared>>,
    /// Most connections open since the last memory trim.
    peak: usize,
}

/// A connection storm at least this large returns its memory to the system
/// when it is over.
const TRIM_AFTER_PEAK: usize = 64;

impl Registry {
    fn new(max: usize) -> Self {
        Registry {
            epoch: Instant::now(),
            max,
            conns: Mutex::new(Conns::default()),
        }
    }

    /// Nanoseconds since [`Registry::epoch`] (the LRU order and idle clock).
    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Registers a new connection, purging the least recently used ones
    /// (idle before busy) while the listener is full.
    fn admit(&self, peer: SocketAddr) -> (u64, Arc<Shared>) {
        let shared = Arc::new(Shared {
            peer,
            last_active: AtomicU64::new(self.now_ns()),
            in_flight: AtomicU32::new(0),
            answered: AtomicBool::new(false),
            upgraded: AtomicBool::new(false),
            purged: AtomicBool::new(false),
            refusal: Mutex::new(None),
            notify: tokio::sync::Notify::new(),
            waker: AtomicWaker::new(),
        });
        let mut conns = self.conns.lock();
        while conns.open.len() >= self.max {
            let victim = conns
                .open
                .iter()
                .min_by_key(|(_, s)| s.purge_rank())
                .map(|(id, _)| *id);
            match victim.and_then(|id| conns.open.remove(&id)) {
                Some(s) => {
                    tracing::debug!("connection limit reached: closing {}", s.peer);
                    s.purge();
                }
                None => break,
            }
        }
        let id = conns.next_id;
        conns.next_id += 1;
        conns.open.insert(id, shared.clone());
        conns.peak = conns.peak.max(conns.open.len());
        (id, shared)
    }

    fn leave(&self, id: u64) {
        let trim = {
            let mut conns = self.conns.lock();
            conns.open.remove(&id);
            let trim = conns.peak >= TRIM_AFTER_PEAK && conns.open.len() * 8 <= conns.peak;
            if trim {
                conns.peak = conns.open.len();
                // the map keeps its storm-sized table otherwise
                conns.open.shrink_to_fit();
            }
            trim
        };
        if trim {
            release_memory();
        }
    }
}

/// Gives freed heap memory back to the system after a connection storm
/// (glibc keeps it in its arenas otherwise).
fn release_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn_blocking(|| {
            // SAFETY: malloc_trim only releases free memory of the allocator.
            unsafe {
                libc::malloc_trim(0);
            }
        });
    }
}

/// Where a [`Wire`] is in its connection's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// HTTP requests, followed by the framer.
    Http,
    /// A head was refused: the internal request went to hyper; everything
    /// after it is read and dropped.
    Refused,
    /// Switched to the WebSocket protocol: bytes pass untouched.
    Upgraded,
}

/// The socket of one connection as hyper sees it: request heads normalized,
/// timeouts applied, purge honoured.
struct Wire {
    io: TcpStream,
    id: u64,
    shared: Arc<Shared>,
    registry: Arc<Registry>,
    limits: Limits,
    mode: Mode,
    framer: Framer,
    /// Received bytes not released yet (an incomplete or rewritten head and
    /// what followed it).
    held: Vec<u8>,
    /// Length of `held` when it was last found incomplete.
    held_checked: usize,
    /// When the head in `held` began.
    head_started: Instant,
    /// Bytes ready for hyper (a rewritten head, the internal request, …).
    out: Vec<u8>,
    out_pos: usize,
    timer: Pin<Box<Sleep>>,
    timer_at: Option<Instant>,
    /// When the linger of a refused connection ends.
    linger_until: Option<Instant>,
}

/// What the connection's timer guards at the moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deadline {
    Idle,
    Head,
    Body,
}

impl Wire {
    fn new(
        io: TcpStream,
        id: u64,
        shared: Arc<Shared>,
        registry: Arc<Registry>,
        limits: Limits,
    ) -> Self {
        let now = Instant::now();
        Wire {
            io,
            id,
            shared,
            registry,
            limits,
            mode: Mode::Http,
            framer: Framer::default(),
            held: Vec::new(),
            held_checked: 0,
            head_started: now,
            out: Vec::new(),
            out_pos: 0,
            timer: Box::pin(tokio::time::sleep_until(now + limits.idle_timeout)),
            timer_at: None,
            linger_until: None,
        }
    }

    fn touch(&self) {
        self.shared
            .last_active
            .store(self.registry.now_ns(), Ordering::Relaxed);
    }

    fn purged(&self) -> bool {
        self.shared.purged.load(Ordering::Acquire)
    }

    /// The deadline that applies now, if any.
    fn deadline(&self) -> Option<(Instant, Deadline)> {
        if self.mode != Mode::Http || self.out_pos < self.out.len() {
            return None;
        }
        if !self.held.is_empty() {
            return Some((
                self.head_started + self.limits.header_timeout,
                Deadline::Head,
            ));
        }
        let last = self.registry.epoch
            + Duration::from_nanos(self.shared.last_active.load(Ordering::Relaxed));
        // inside a body, or past what the framer can follow (hyper fails
        // such a body, but nothing may keep a connection open forever): a
        // pause as long as the header timeout ends the connection
        if !self.framer.at_head() {
            return Some((last + self.limits.header_timeout, Deadline::Body));
        }
        if self.framer.at_head() && self.shared.in_flight.load(Ordering::Acquire) == 0 {
            return Some((last + self.limits.idle_timeout, Deadline::Idle));
        }
        None
    }

    /// Polls the timer for `at`; `true` when `at` has passed.
    fn poll_deadline(&mut self, cx: &mut Context<'_>, at: Instant) -> bool {
        if Instant::now() >= at {
            return true;
        }
        // a later deadline keeps the armed timer: when it fires early the
        // deadline is computed again and the timer re-armed
        if self.timer_at.is_none_or(|t| at < t) {
            self.timer.as_mut().reset(at);
            self.timer_at = Some(at);
        }
        while self.timer.as_mut().poll(cx).is_ready() {
            if Instant::now() >= at {
                self.timer_at = None;
                return true;
            }
            self.timer.as_mut().reset(at);
            self.timer_at = Some(at);
        }
        false
    }

    /// Turns what is in `held` into output as far as the framer allows.
    fn release_held(&mut self) {
        while !self.held.is_empty() && self.mode == Mode::Http {
            if self.framer.at_head() && !may_complete(&self.held, self.held_checked) {
                if let Some(r) = over_limit(&self.held) {
                    self.refuse(r);
                }
                return;
            }
            match self.framer.step(&self.held) {
                Step::Pass(0) => return,
                Step::Pass(n) => {
                    self.out.extend_from_slice(&self.held[..n]);
                    self.held.drain(..n);
                }
                Step::Replace { consumed, head } => {
                    self.out.extend_from_slice(&head);
                    self.held.drain(..consumed);
                }
                Step::Hold => {
                    self.held_checked = self.held.len();
                    return;
                }
                Step::Refuse(r) => self.refuse(r),
            }
            self.held_checked = 0;
            if !self.held.is_empty() && self.framer.at_head() {
                self.head_started = Instant::now();
            }
        }
    }

    fn refuse(&mut self, refusal: Refusal) {
        tracing::debug!(
            "refused a request head from {}: {}",
            self.shared.peer,
            refusal.text()
        );
        *self.shared.refusal.lock() = Some(refusal);
        self.out.extend_from_slice(REFUSED_REQUEST);
        self.held = Vec::new();
        self.mode = Mode::Refused;
    }

    /// Reads and drops input (a refused connection); `Ready` at EOF or error.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut scratch = [0u8; 4096];
        for _ in 0..16 {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => continue,
                Poll::Ready(_) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    fn poll_read_http(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if self.out_pos < self.out.len() {
                let n = (self.out.len() - self.out_pos).min(buf.remaining());
                buf.put_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                if self.out_pos == self.out.len() {
                    self.out.clear();
                    self.out_pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            match self.mode {
                Mode::Refused => {
                    let _ = self.poll_drain(cx);
                    return Poll::Pending;
                }
                Mode::Upgraded => return self.poll_read_upgraded(cx, buf),
                Mode::Http => {}
            }
            if self.held.is_empty()
                && self.framer.at_head()
                && self.shared.upgraded.load(Ordering::Acquire)
            {
                self.mode = Mode::Upgraded;
                continue;
            }
            if self.held.is_empty() {
                // the hot path: read straight into hyper's buffer
                let before = buf.filled().len();
                match Pin::new(&mut self.io).poll_read(cx, buf) {
                    Poll::Pending => return self.pending(cx),
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Ready(Ok(())) => {}
                }
                let end = buf.filled().len();
                if end == before {
                    return Poll::Ready(Ok(())); // EOF between messages
                }
                self.touch();
                let mut pos = before;
                while pos < end {
                    match self.framer.step(&buf.filled()[pos..end]) {
                        Step::Pass(n) if n > 0 => pos += n,
                        _ => break,
                    }
                }
                if pos < end {
                    // an incomplete, rewritten or refused head: the slow path
                    self.held.extend_from_slice(&buf.filled()[pos..end]);
                    self.held_checked = 0;
                    self.head_started = Instant::now();
                    buf.set_filled(pos);
                    self.release_held();
                }
                if pos > before {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            // an incomplete head is held: read behind it
            let mut chunk = [0u8; 4096];
            let mut more = ReadBuf::new(&mut chunk);
            match Pin::new(&mut self.io).poll_read(cx, &mut more) {
                Poll::Pending => return self.pending(cx),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {}
            }
            if more.filled().is_empty() {
                // EOF inside a head: the client gave up; nothing to answer
                self.held = Vec::new();
                return Poll::Ready(Ok(()));
            }
            self.touch();
            self.held.extend_from_slice(more.filled());
            self.release_held();
        }
    }

    /// The read side has nothing: apply the deadline, else wait.
    fn pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some((at, kind)) = self.deadline() else {
            return Poll::Pending;
        };
        if !self.poll_deadline(cx, at) {
            return Poll::Pending;
        }
        match kind {
            // hyper sees the end of the connection between requests
            Deadline::Idle => Poll::Ready(Ok(())),
            Deadline::Head => {
                self.refuse(Refusal::Timeout);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Deadline::Body => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "request body stalled",
            ))),
        }
    }

    fn poll_read_upgraded(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.shared.waker.register(cx.waker());
        if self.purged() {
            return Poll::Ready(Err(purged_error()));
        }
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

fn purged_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "closed to admit a new connection",
    )
}

/// Whether a head held up to `checked` bytes (then found incomplete) may be
/// complete now: only a new empty line can end it.
fn may_complete(held: &[u8], checked: usize) -> bool {
    if checked == 0 {
        return true;
    }
    let from = checked.saturating_sub(2);
    let tail = &held[from..];
    memchr::memmem::find(tail, b"\n\n").is_some() || memchr::memmem::find(tail, b"\n\r\n").is_some()
}

/// The limit an incomplete head has already passed, if any.
fn over_limit(held: &[u8]) -> Option<Refusal> {
    use super::head::{MAX_HEAD_LEN, MAX_URI_LEN};
    let start = held.iter().position(|&b| b != b'\r' && b != b'\n')?;
    let line = &held[start..];
    if memchr::memchr(b'\n', line).is_none() && line.len() > MAX_URI_LEN + 40 {
        return Some(Refusal::UriTooLong);
    }
    (held.len() > MAX_HEAD_LEN).then_some(Refusal::HeaderTooLarge)
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.registry.leave(self.id);
    }
}

impl AsyncRead for Wire {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.purged() {
            return Poll::Ready(Err(purged_error()));
        }
        this.poll_read_http(cx, buf)
    }
}

impl AsyncWrite for Wire {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.purged() {
            return Poll::Ready(Err(purged_error()));
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.purged() {
            return Poll::Ready(Err(purged_error()));
        }
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.mode != Mode::Refused {
            return Pin::new(&mut this.io).poll_shutdown(cx);
        }
        // after a refusal: send FIN, then read until the client closes (or
        // LINGER passes), so that the answer is not lost to a reset
        if this.linger_until.is_none() {
            match Pin::new(&mut this.io).poll_shutdown(cx) {
                Poll::Ready(_) => this.linger_until = Some(Instant::now() + LINGER),
                Poll::Pending => return Poll::Pending,
            }
        }
        if this.poll_drain(cx).is_ready() {
            return Poll::Ready(Ok(()));
        }
        let until = this.linger_until.unwrap_or_else(Instant::now);
        if this.poll_deadline(cx, until) {
            return Poll::Ready(Ok(()));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, RngSeed};
    use std::io::{Read, Write};
    use std::sync::OnceLock;

    /// A server on 127.0.0.1:0 whose handler answers with the peer address
    /// (`ConnectInfo`), in its own runtime for the whole test binary.
    fn server() -> SocketAddr {
        static ADDR: OnceLock<SocketAddr> = OnceLock::new();
        *ADDR.get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    tx.send(listener.local_addr().unwrap()).unwrap();
                    let app = Router::new().fallback(
                        |ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                            super::super::json(axum::http::StatusCode::OK, format!("\"{peer}\""))
                        },
                    );
                    let limits = Limits {
                        header_timeout: Duration::from_millis(100),
                        ..Limits::default()
                    };
                    serve(listener, app, limits, std::future::pending()).await
                })
            });
            rx.recv().unwrap()
        })
    }

    /// Sends `request` (then half-closes when `half_close`) and reads the
    /// whole answer, until the server closes; `None` when the server neither
    /// answered nor closed within 10 s.
    fn exchange(request: &[u8], half_close: bool) -> Option<Vec<u8>> {
        let mut s = std::net::TcpStream::connect(server()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let _ = s.write_all(request);
        if half_close {
            s.shutdown(std::net::Shutdown::Write).unwrap();
        }
        let mut all = Vec::new();
        match s.read_to_end(&mut all) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                None
            }
            _ => Some(all),
        }
    }

    #[test]
    fn every_request_sees_its_peer_address() {
        let mut s = std::net::TcpStream::connect(server()).unwrap();
        let local = s.local_addr().unwrap();
        s.write_all(b"GET /x?a=\"b\" HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut all = String::new();
        s.read_to_string(&mut all).unwrap();
        assert!(all.ends_with(&format!("\"{local}\"")), "{all}");
    }

    fn config() -> Config {
        Config {
            cases: 96,
            failure_persistence: None,
            rng_algorithm: RngAlgorithm::ChaCha,
            rng_seed: RngSeed::Fixed(0x0011_c044),
            ..Config::default()
        }
    }

    /// Mostly printable bytes, some UTF-8 and others, rarely controls.
    fn byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            200 => 0x20u8..0x7F,
            20 => 0x80u8..=0xFF,
            1 => 0u8..0x20,
        ]
    }

    proptest! {
        #![proptest_config(config())]

        /// Arbitrary bytes through the whole stack (normalizer + hyper): every
        /// head gets an answer with a status, a `Content-Type` and a body (an
        /// incomplete one 408 after the header timeout), then the server
        /// closes; an incomplete head followed by EOF (the client half-closes)
        /// is closed without an answer.
        #[test]
        fn hyper_never_answers_with_an_empty_body(
            line in prop::collection::vec(byte(), 0..80),
            header in prop::collection::vec(byte(), 0..40),
            end in prop::sample::select(vec!["\r\n\r\n", "\n\n", "\r\n", ""]),
        ) {
            let mut request = b"GET /".to_vec();
            request.extend_from_slice(&line);
            request.extend_from_slice(b" HTTP/1.1\r\nConnection: close\r\nX: ");
            request.extend_from_slice(&header);
            request.extend_from_slice(end.as_bytes());
            let incomplete = super::super::head::analyze(&request) == super::super::head::Head::Incomplete;
            // the client gives up inside a head (EOF): nothing to answer, the
            // connection is closed at once
            if incomplete {
                let all = exchange(&request, true);
                prop_assert_eq!(all, Some(Vec::new()), "an incomplete head, then EOF");
            }
            // every head is answered: a complete one at once, an incomplete
            // one with 408 after the header timeout; then the server closes
            let all = exchange(&request, false);
            prop_assert!(all.is_some(), "neither answered nor closed");
            let all = all.unwrap_or_default();
            prop_assert!(!all.is_empty(), "no answer");
            let text = String::from_utf8_lossy(&all).into_owned();
            let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
            prop_assert!(head.starts_with("HTTP/1.1 "), "{}", text);
            prop_assert!(head.contains("content-type: "), "{}", text);
            prop_assert!(!body.is_empty(), "{}", text);
            if incomplete {
                prop_assert!(head.starts_with("HTTP/1.1 408 "), "{}", text);
            }
        }
    }

    /// A chunked POST whose size line has leading zeros (hyper takes any
    /// number), then a pipelined head with a raw quote: the framer follows
    /// the body, so the second head is still normalized and answered.
    #[test]
    fn a_head_after_a_chunked_body_is_still_normalized() {
        for size in ["5", "00000000000000005", "0000000000000000000000000005"] {
            let request = format!(
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n{size}\r\nhello\r\n0\r\n\r\n\
                 GET /x?a=\"b\" HTTP/1.1\r\nConnection: close\r\n\r\n"
            );
            let all = exchange(request.as_bytes(), false).expect("answered and closed");
            let text = String::from_utf8_lossy(&all);
            assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2, "{size}: {text}");
        }
    }

    /// Even past what the framer can follow (a body hyper fails), a
    /// connection has a deadline: nothing keeps it open forever.
    #[test]
    fn an_opaque_connection_still_has_a_deadline() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (tcp, peer) = listener.accept().await.unwrap();
            let registry = Arc::new(Registry::new(4));
            let (id, shared) = registry.admit(peer);
            let limits = Limits {
                header_timeout: Duration::from_millis(100),
                ..Limits::default()
            };
            let mut wire = Wire::new(tcp, id, shared, registry, limits);
            let head = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
            assert_eq!(wire.framer.step(head), Step::Pass(head.len()));
            assert_eq!(wire.deadline().map(|d| d.1), Some(Deadline::Body));
            // a size line hyper fails: the framer follows nothing more
            assert_eq!(wire.framer.step(b"zz\r\n"), Step::Pass(4));
            assert!(!wire.framer.at_head() && !wire.framer.in_body());
            let (at, kind) = wire
                .deadline()
                .expect("an opaque connection has a deadline");
            assert_eq!(kind, Deadline::Body);
            assert!(at <= Instant::now() + limits.header_timeout);
            drop(client);
        });
    }
}
