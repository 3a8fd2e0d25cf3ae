//! The charger's Modbus TCP slave (#15, `modbus-en.md`): one listener per
//! charger while `men` is true, on `msp` (502 by default) or the port the
//! command line gives; `men` off closes it, on opens it again, and a changed
//! `msp` applies at that toggle (or a restart), as the key says.
//!
//! Framing, requests and the register map are pure (`goe_proto::modbus`);
//! this module owns the sockets: the accept loop, per-connection limits
//! (at most [`MAX_CONNECTIONS`] open, [`IDLE_TIMEOUT`] without a request,
//! frames of at most 260 bytes so a connection holds at most one frame plus
//! one read), and the counters `mro`/`mwo` with `mstr`/`mstw`.
//!
//! `tokio-modbus` (0.17) is not used for the server: its frame codec is
//! crate-private, a function 16 request with a quantity of 0x8000 or more
//! overflows `quantity * 2` (a panic in debug builds), and a malformed
//! request closes the connection instead of answering exception 3.

use crate::device::Device;
use goe_keys::Value;
use goe_proto::modbus::{self as proto, Answer, Exception, Request};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Most open Modbus connections per charger; a new one beyond is closed at once.
pub const MAX_CONNECTIONS: usize = 8;

/// A connection without a complete request for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The port of `modbus-en.md` ("After enabling the tcp port 502 is used").
pub const DEFAULT_PORT: u16 = 502;

/// Where the slave listens and what it is doing: set by the command line,
/// read by `/sim/state` and the startup line.
#[derive(Debug)]
pub struct Slot {
    /// `men` as last seen after a write or action: the slave's task wakes
    /// only when it flips (not on every step, which matters in a fleet).
    enabled: tokio::sync::watch::Sender<bool>,
    inner: parking_lot::Mutex<SlotState>,
    /// A listener bound at start-up (`--modbus-listen`), used by the first
    /// enable: connections made before the task runs wait in its backlog.
    prebound: parking_lot::Mutex<Option<TcpListener>>,
}

#[derive(Debug, Default, Clone)]
struct SlotState {
    /// `--modbus-listen`'s address (port 0: a free one); `None`: the HTTP
    /// listener's IP and `msp`.
    listen: Option<SocketAddr>,
    /// The IP to use with `msp` when `listen` is not given.
    ip: Option<IpAddr>,
    /// The bound address while listening.
    bound: Option<SocketAddr>,
    /// The last bind error.
    error: Option<String>,
    /// `--idle-timeout` ([`IDLE_TIMEOUT`] when not set).
    idle: Option<Duration>,
}

impl Default for Slot {
    fn default() -> Slot {
        Slot {
            enabled: tokio::sync::watch::channel(false).0,
            inner: parking_lot::Mutex::default(),
            prebound: parking_lot::Mutex::default(),
        }
    }
}

/// Whether the charger's slave should listen: `men` on a firmware that has it.
pub fn enabled(c: &goe_engine::Charger) -> bool {
    c.profile().key("men").is_some() && c.value("men").and_then(Value::as_bool) == Some(true)
}

impl Slot {
    /// Records `men` after a write (wakes the slave's task when it changed).
    pub fn observe(&self, enabled: bool) {
        self.enabled.send_if_modified(|v| {
            let changed = *v != enabled;
            *v = enabled;
            changed
        });
    }

    /// Listen on exactly `addr` (port 0 picks a free port) instead of `msp`.
    pub fn set_listen(&self, addr: SocketAddr) {
        self.inner.lock().listen = Some(addr);
    }

    /// Like [`Slot::set_listen`] with the listener already bound (its
    /// address becomes the listen address: a restart of the slave after an
    /// off/on toggle binds the same port again when it was not 0).
    pub fn set_listener(&self, listener: TcpListener, addr: SocketAddr) {
        self.set_listen(addr);
        *self.prebound.lock() = Some(listener);
    }

    /// The IP the slave binds with port `msp` when no address is given.
    pub fn set_ip(&self, ip: IpAddr) {
        self.inner.lock().ip = Some(ip);
    }

    /// A connection without a complete request for this long is closed
    /// (`--idle-timeout`, shared with the HTTP server).
    pub fn set_idle_timeout(&self, idle: Duration) {
        self.inner.lock().idle = Some(idle);
    }

    fn idle_timeout(&self) -> Duration {
        self.inner.lock().idle.unwrap_or(IDLE_TIMEOUT)
    }

    /// The bound address while the slave listens.
    pub fn bound(&self) -> Option<SocketAddr> {
        self.inner.lock().bound
    }

    /// `/sim/state`'s `modbus` object.
    pub fn state_json(&self) -> serde_json::Value {
        let s = self.inner.lock().clone();
        serde_json::json!({
            "listening": s.bound.map(|a| a.to_string()),
            "error": s.error,
        })
    }

    fn address(&self, msp: Option<u16>) -> SocketAddr {
        let s = self.inner.lock();
        s.listen.unwrap_or_else(|| {
            SocketAddr::new(
                s.ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
                msp.unwrap_or(DEFAULT_PORT),
            )
        })
    }

    fn set_bound(&self, bound: Option<SocketAddr>, error: Option<String>) {
        let mut s = self.inner.lock();
        s.bound = bound;
        s.error = error;
    }
}

/// `men` (false on a firmware without Modbus) and `msp`.
fn settings(device: &Device) -> (bool, Option<u16>) {
    device.with_charger(|c, _| {
        let on = enabled(c);
        let msp = c
            .profile()
            .key("msp")
            .and(c.value("msp"))
            .and_then(Value::as_i64)
            .and_then(|p| u16::try_from(p).ok());
        (on, msp)
    })
}

/// Runs the Modbus slave of `device` forever (until the task is aborted).
pub async fn run(device: Arc<Device>) {
    let mut changes = device.modbus().enabled.subscribe();
    loop {
        let (on, msp) = settings(&device);
        if !on {
            device.modbus().set_bound(None, None);
            while !settings(&device).0 {
                if changes.changed().await.is_err() {
                    return;
                }
            }
            continue;
        }
        let addr = device.modbus().address(msp);
        let prebound = device.modbus().prebound.lock().take();
        let listener = match prebound {
            Some(listener) => Ok(listener),
            None => TcpListener::bind(addr).await,
        };
        match listener {
            Ok(listener) => {
                let bound = listener.local_addr().ok();
                device.modbus().set_bound(bound, None);
                tracing::info!(serial = %device.serial(), addr = ?bound, "modbus slave listening");
                if let Some(bound) = bound {
                    use std::io::Write as _;
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(
                        out,
                        "goe-charger {} modbus listening on {bound}",
                        device.serial()
                    );
                    let _ = out.flush();
                }
                let conns = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
                let mut tasks = tokio::task::JoinSet::new();
                loop {
                    tokio::select! {
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let Ok(permit) = conns.clone().try_acquire_owned() else {
                                drop(stream);
                                continue;
                            };
                            let device = device.clone();
                            tasks.spawn(async move {
                                connection(&device, stream).await;
                                drop(permit);
                            });
                        }
                        changed = changes.changed() => {
                            if changed.is_err() {
                                return;
                            }
                            if !settings(&device).0 {
                                break;
                            }
                        }
                        Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                    }
                }
                tasks.abort_all();
                tracing::info!(serial = %device.serial(), "modbus slave closed");
            }
            Err(e) => {
                tracing::warn!(serial = %device.serial(), %addr, "modbus slave cannot listen: {e}");
                device
                    .modbus()
                    .set_bound(None, Some(format!("cannot listen on {addr}: {e}")));
                // wait for an off/on toggle
                while settings(&device).0 {
                    if changes.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// Serves one connection until the peer closes it, it idles, or it sends
/// something that is not Modbus TCP.
async fn connection(device: &Arc<Device>, mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(proto::HEADER_LEN + proto::MAX_MBAP_LENGTH);
    let mut chunk = [0u8; 512];
    let idle = device.modbus().idle_timeout();
    loop {
        // answer every complete frame in the buffer
        loop {
            match proto::frame_len(&buf) {
                Ok(Some(len)) => {
                    let frame: Vec<u8> = buf.drain(..len).collect();
                    let Some(reply) = handle(device, &frame).await else {
                        return;
                    };
                    if stream.write_all(&reply).await.is_err() {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::debug!("modbus connection closed: {e}");
                    return;
                }
            }
        }
        let read = tokio::time::timeout(idle, stream.read(&mut chunk)).await;
        match read {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => return,
        }
    }
}

/// The response frame to one request frame (`None`: the task failed).
async fn handle(device: &Arc<Device>, frame: &[u8]) -> Option<Vec<u8>> {
    let (header, pdu) = proto::split_frame(frame)?;
    let (fc, request) = proto::parse_pdu(pdu);
    let answer = match request {
        Err(e) => Answer::Exception(e),
        // a read is answered on the worker, as `/api/status` is (no save, the
        // lock is short): the blocking pool's hand-offs cost a read several
        // context switches (BENCHMARKS.md, "Modbus TCP (#15)"); a write may
        // save (fsync), so it runs on the blocking pool
        Ok(request) if request.is_read() => serve(device, request),
        Ok(request) => {
            let device = device.clone();
            tokio::task::spawn_blocking(move || serve(&device, request))
                .await
                .ok()?
        }
    };
    Some(proto::encode_response(header, fc, &answer))
}

/// Carries out one request on the charger. A write blocks (it saves).
fn serve(device: &Device, request: Request) -> Answer {
    let is_read = request.is_read();
    let answer = match request {
        Request::Read {
            table,
            address,
            count,
        } => match device.modbus_read(|c| proto::read(c, table, address, count)) {
            Ok(words) => Answer::Registers(words),
            Err(e) => Answer::Exception(e),
        },
        Request::Write { address, values } => {
            let plan = device.with_charger(|c, _| proto::plan_write(c, address, &values));
            match plan {
                Err(e) => Answer::Exception(e),
                Ok(plan) => match device.modbus_write(&plan) {
                    Ok(()) => Answer::Written {
                        address,
                        count: values.len() as u16,
                    },
                    Err(why) => {
                        tracing::debug!("modbus write refused: {why}");
                        if why.starts_with("not persisted") {
                            Answer::Exception(Exception::ServerDeviceFailure)
                        } else {
                            Answer::Exception(Exception::IllegalDataValue)
                        }
                    }
                },
            }
        }
    };
    if !matches!(answer, Answer::Exception(_)) {
        let (counter, stamp) = if is_read {
            ("mro", "mstr")
        } else {
            ("mwo", "mstw")
        };
        device.update_status(|c, now| {
            let n = c.value(counter).and_then(Value::as_i64).unwrap_or(0);
            let rbt = c.millis_since_boot(now);
            let counted = c.set_status(counter, Value::Int(n.saturating_add(1)));
            let stamped = c.set_status(stamp, Value::Int(rbt));
            counted || stamped
        });
    }
    answer
}
