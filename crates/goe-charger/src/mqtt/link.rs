//! A minimal MQTT 3.1.1 client connection: one TCP stream (or a TLS stream
//! over it, `mqtts://`), rumqttc's packet codec, and nothing else.
//!
//! It exists because rumqttc's `EventLoop` writes and flushes every packet with
//! a syscall of its own and keeps large buffers per connection: a fleet of
//! thousands of chargers in one process spent most of its CPU in the kernel.
//! Here a batch of publications is encoded into one buffer and written with a
//! single `write_all`; buffers start small and shrink back after a large dump.
//!
//! The link does no task or timer of its own: the caller runs one task per
//! connection and `tokio::select!`s over [`MqttLink::read_packet`] (cancel
//! safe), its own events and a keep-alive timer (calling [`MqttLink::ping`]).
//! Only QoS 0 and 1 are spoken for real: our QoS 1 publications are not
//! retransmitted (a clean session drops them on reconnect anyway) and their
//! PUBACKs are ignored.
//!
//! TLS is chosen per connection ([`LinkOptions::tls`]): the halves are
//! [`LinkReader`]/[`LinkWriter`], an enum over the plain TCP halves and the
//! halves of a split TLS stream, so the plain path costs one `match` per
//! socket call and nothing else.

use bytes::{Buf as _, BytesMut};
use rumqttc::mqttbytes::v4::{
    ConnAck, Connect, ConnectReturnCode, LastWill, Login, Packet, PubAck, PubComp, PubRec, Publish,
    Subscribe, SubscribeReasonCode,
};
use rumqttc::mqttbytes::{self, Protocol, QoS};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio_rustls::client::TlsStream;

/// Largest packet sent or accepted (either way), as the charger always used.
pub const MAX_PACKET_SIZE: usize = 256 * 1024;

/// Initial capacity of the read buffer: incoming packets are small `/set`s.
const READ_BUF_START: usize = 1024;

/// Least free space offered to a socket read.
const READ_MIN_SPARE: usize = 256;

/// Initial capacity of the write buffer: a batch of changed keys fits.
const WRITE_BUF_START: usize = 4 * 1024;

/// A buffer that grew beyond this (the full dump is ~6 KiB, a large incoming
/// packet) is replaced by a fresh small one once it is empty again, so that
/// thousands of idle connections do not each keep the largest batch they ever
/// sent. Batches of changed keys are far smaller: the swap happens about once
/// per connection.
const BUF_KEEP: usize = 4 * 1024;

/// Why a connection could not be made or ended.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// TCP connect (name resolution included) failed.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// `host:port` of the broker.
        addr: String,
        /// The OS error.
        source: io::Error,
    },
    /// TCP connect and CONNACK together took longer than the connect timeout.
    #[error("no connection to {addr} within {} s", .timeout.as_secs_f64())]
    ConnectTimeout {
        /// `host:port` of the broker.
        addr: String,
        /// The timeout that passed.
        timeout: Duration,
    },
    /// TLS could not be set up, the handshake failed, or the broker ended
    /// the TLS session before CONNACK (e.g. a client certificate it wants
    /// is missing).
    #[error("TLS with {addr} failed: {source}")]
    Tls {
        /// `host:port` of the broker.
        addr: String,
        /// What rustls (or the OS) said.
        source: crate::tls::TlsError,
    },
    /// The broker answered CONNECT with a refusal.
    #[error("the broker refused the connection: {}", refusal(.0))]
    Refused(ConnectReturnCode),
    /// Reading or writing the socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The broker closed the connection (EOF).
    #[error("the broker closed the connection")]
    Closed,
    /// A PINGREQ was not answered before the next keep-alive tick.
    #[error("no PINGRESP from the broker within {} s", .0.as_secs())]
    PingTimeout(Duration),
    /// A batch could not be written within the write timeout (the broker
    /// stopped reading).
    #[error("writing to the broker timed out after {} s", .0.as_secs())]
    WriteTimeout(Duration),
    /// A packet could not be decoded (or encoded).
    #[error("MQTT protocol error: {0}")]
    Protocol(#[from] mqttbytes::Error),
    /// The broker sent a packet a client never receives here.
    #[error("unexpected {0} packet from the broker")]
    Unexpected(&'static str),
}

/// The text of a CONNACK refusal, for the charger's `mlr`.
fn refusal(code: &ConnectReturnCode) -> String {
    let text = match code {
        ConnectReturnCode::Success => "accepted",
        ConnectReturnCode::RefusedProtocolVersion => "unacceptable protocol version",
        ConnectReturnCode::BadClientId => "client identifier rejected",
        ConnectReturnCode::ServiceUnavailable => "server unavailable",
        ConnectReturnCode::BadUserNamePassword => "bad user name or password",
        ConnectReturnCode::NotAuthorized => "not authorized",
    };
    format!("{text} (CONNACK return code {})", *code as u8)
}

/// What CONNECT announces and how long the link waits: the caller's whole
/// configuration of a connection.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// Broker host name or IP (a bracketed IPv6 literal works too).
    pub host: String,
    /// Broker TCP port.
    pub port: u16,
    /// MQTT client identifier.
    pub client_id: String,
    /// Keep-alive announced in CONNECT; the caller pings on this interval.
    pub keep_alive: Duration,
    /// Ask the broker to discard any previous session.
    pub clean_session: bool,
    /// User name and password, if the broker wants them.
    pub login: Option<Login>,
    /// The message the broker publishes if the connection dies uncleanly.
    pub last_will: Option<LastWill>,
    /// Limit on TCP connect plus the CONNECT/CONNACK exchange.
    pub connect_timeout: Duration,
    /// Limit on writing one batch: a broker that takes no data for this long
    /// is treated as gone.
    pub write_timeout: Duration,
    /// TLS over the TCP stream (`mqtts://`), verified as the connector says.
    pub tls: Option<crate::tls::Connector>,
}

impl LinkOptions {
    /// Options with a clean session, no login, no last will, a 5 s connect
    /// timeout and the keep-alive as write timeout.
    pub fn new(host: impl Into<String>, port: u16, client_id: impl Into<String>) -> LinkOptions {
        let keep_alive = Duration::from_secs(60);
        LinkOptions {
            host: host.into(),
            port,
            client_id: client_id.into(),
            keep_alive,
            clean_session: true,
            login: None,
            last_will: None,
            connect_timeout: Duration::from_secs(5),
            write_timeout: keep_alive,
            tls: None,
        }
    }

    fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    fn connect_packet(&self) -> Connect {
        Connect {
            protocol: Protocol::V4,
            keep_alive: u16::try_from(self.keep_alive.as_secs()).unwrap_or(u16::MAX),
            client_id: self.client_id.clone(),
            clean_session: self.clean_session,
            last_will: self.last_will.clone(),
            login: self.login.clone(),
        }
    }
}

/// One outgoing application message of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// Topic name.
    pub topic: String,
    /// Payload bytes.
    pub payload: Vec<u8>,
    /// QoS 0 or 1 (QoS 1 gets a packet id; its PUBACK is ignored).
    pub qos: QoS,
    /// Ask the broker to store it for later subscribers.
    pub retain: bool,
}

impl Publication {
    /// A publication; `topic` and `payload` are moved, not copied.
    pub fn new(
        topic: impl Into<String>,
        payload: impl Into<Vec<u8>>,
        qos: QoS,
        retain: bool,
    ) -> Publication {
        Publication {
            topic: topic.into(),
            payload: payload.into(),
            qos,
            retain,
        }
    }
}

/// What an incoming packet means to the caller (everything else is handled
/// inside the link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An application message on a subscribed topic (already acknowledged).
    Message(Publish),
    /// The broker refused a subscription (SUBACK failure): the caller may
    /// report it; the connection itself stays up.
    SubscribeRefused {
        /// Packet id of the refused SUBSCRIBE.
        pkid: u16,
    },
    /// An application message larger than [`MAX_PACKET_SIZE`] (already
    /// acknowledged; its payload is skipped, never held in memory).
    Oversized(Oversized),
}

/// The head of an incoming PUBLISH larger than [`MAX_PACKET_SIZE`]: its
/// topic and packet id were read; the link reads past its payload in small
/// pieces instead of failing the connection (which a broker would only
/// answer by delivering the same message again after the reconnect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Oversized {
    /// Topic name.
    pub topic: String,
    /// Its QoS (QoS 1 and 2 are acknowledged like any other message).
    pub qos: QoS,
    /// Its packet id (0 for QoS 0).
    pub pkid: u16,
    /// Bytes after the fixed header (variable header plus payload).
    pub size: usize,
}

/// What [`MqttLink::read_packet`] delivers: a decoded packet, or the head of
/// an oversized publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A whole packet.
    Packet(Packet),
    /// A PUBLISH too large to decode; its payload is being skipped.
    Oversized(Oversized),
}

impl From<Packet> for Incoming {
    fn from(packet: Packet) -> Incoming {
        Incoming::Packet(packet)
    }
}

/// The read half of a broker connection: plain TCP or TLS.
#[derive(Debug)]
pub enum LinkReader {
    /// `mqtt://`.
    Tcp(OwnedReadHalf),
    /// `mqtts://`.
    Tls(ReadHalf<TlsStream<TcpStream>>),
}

/// The write half of a broker connection: plain TCP or TLS.
#[derive(Debug)]
pub enum LinkWriter {
    /// `mqtt://`.
    Tcp(OwnedWriteHalf),
    /// `mqtts://`.
    Tls(WriteHalf<TlsStream<TcpStream>>),
}

impl AsyncRead for LinkReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LinkReader::Tcp(r) => Pin::new(r).poll_read(cx, buf),
            LinkReader::Tls(r) => Pin::new(r).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for LinkWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            LinkWriter::Tcp(w) => Pin::new(w).poll_write(cx, buf),
            LinkWriter::Tls(w) => Pin::new(w).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LinkWriter::Tcp(w) => Pin::new(w).poll_flush(cx),
            LinkWriter::Tls(w) => Pin::new(w).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            LinkWriter::Tcp(w) => Pin::new(w).poll_shutdown(cx),
            LinkWriter::Tls(w) => Pin::new(w).poll_shutdown(cx),
        }
    }
}

/// An MQTT 3.1.1 client connection after a successful CONNACK.
///
/// Generic over the two halves of the stream so that tests can observe the
/// writes; [`MqttLink::connect`] makes the TCP or TLS one.
#[derive(Debug)]
pub struct MqttLink<R = LinkReader, W = LinkWriter> {
    reader: R,
    writer: W,
    /// Bytes read but not yet decoded; grows for a large packet.
    rbuf: BytesMut,
    /// `rbuf` grew beyond [`BUF_KEEP`]: replace it once it is empty.
    rbuf_grown: bool,
    /// Packets encoded but not yet written; empty between calls.
    wbuf: BytesMut,
    /// Last packet id used (0 = none yet).
    pkid: u16,
    /// Bytes of an oversized publication still to be read past.
    skip: usize,
    /// A PINGREQ is out and its PINGRESP has not arrived.
    awaiting_pingresp: bool,
    keep_alive: Duration,
    write_timeout: Duration,
}

impl MqttLink {
    /// Connects over TCP (and TLS with `options.tls`), sends CONNECT and
    /// waits for the CONNACK, all within `options.connect_timeout`.
    pub async fn connect(options: &LinkOptions) -> Result<MqttLink, LinkError> {
        let addr = options.addr();
        let attempt = async {
            let stream =
                TcpStream::connect(addr.as_str())
                    .await
                    .map_err(|source| LinkError::Connect {
                        addr: addr.clone(),
                        source,
                    })?;
            // every write is a whole batch: send it now, do not wait for ACKs
            stream.set_nodelay(true)?;
            let Some(connector) = &options.tls else {
                let (reader, writer) = stream.into_split();
                return MqttLink::handshake(
                    LinkReader::Tcp(reader),
                    LinkWriter::Tcp(writer),
                    options,
                )
                .await;
            };
            let tls_error = |source| LinkError::Tls {
                addr: addr.clone(),
                source,
            };
            let tls = connector
                .connect(stream, &options.host)
                .await
                .map_err(tls_error)?;
            let (reader, writer) = tokio::io::split(tls);
            MqttLink::handshake(LinkReader::Tls(reader), LinkWriter::Tls(writer), options)
                .await
                .map_err(|e| match e {
                    // TLS 1.3: the broker checks the client certificate after
                    // our side of the handshake is done; its alert (or its
                    // closing the connection) is the answer to CONNECT
                    LinkError::Io(e) if is_tls_error(&e) => {
                        tls_error(crate::tls::TlsError::Handshake(e))
                    }
                    LinkError::Closed => {
                        tls_error(crate::tls::TlsError::Handshake(io::Error::new(
                            io::ErrorKind::ConnectionAborted,
                            "the broker ended the TLS session before CONNACK \
                             (a client certificate missing or refused?)",
                        )))
                    }
                    other => other,
                })
        };
        match tokio::time::timeout(options.connect_timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(LinkError::ConnectTimeout {
                addr,
                timeout: options.connect_timeout,
            }),
        }
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> MqttLink<R, W> {
    /// Sends CONNECT on an open stream and waits for a successful CONNACK (no
    /// timeout of its own: [`MqttLink::connect`] puts one around it).
    pub async fn handshake(
        reader: R,
        writer: W,
        options: &LinkOptions,
    ) -> Result<MqttLink<R, W>, LinkError> {
        let mut link = MqttLink {
            reader,
            writer,
            rbuf: BytesMut::with_capacity(READ_BUF_START),
            rbuf_grown: false,
            wbuf: BytesMut::with_capacity(WRITE_BUF_START),
            pkid: 0,
            skip: 0,
            awaiting_pingresp: false,
            keep_alive: options.keep_alive,
            write_timeout: options.write_timeout,
        };
        link.encode(&Packet::Connect(options.connect_packet()))?;
        link.flush().await?;
        match link.read_packet().await? {
            Incoming::Packet(Packet::ConnAck(ConnAck {
                code: ConnectReturnCode::Success,
                ..
            })) => Ok(link),
            Incoming::Packet(Packet::ConnAck(ConnAck { code, .. })) => {
                Err(LinkError::Refused(code))
            }
            Incoming::Packet(other) => Err(LinkError::Unexpected(packet_name(&other))),
            Incoming::Oversized(_) => Err(LinkError::Unexpected("PUBLISH")),
        }
    }

    /// The keep-alive announced in CONNECT: call [`MqttLink::ping`] this often.
    pub fn keep_alive(&self) -> Duration {
        self.keep_alive
    }

    /// Sends SUBSCRIBE for one filter; its SUBACK arrives through
    /// [`MqttLink::handle`]. Returns the packet id.
    pub async fn subscribe(&mut self, filter: &str, qos: QoS) -> Result<u16, LinkError> {
        let mut subscribe = Subscribe::new(filter, qos);
        subscribe.pkid = self.next_pkid();
        self.encode(&Packet::Subscribe(subscribe))?;
        self.flush().await?;
        Ok(self.pkid)
    }

    /// Encodes every publication into one buffer and writes it with a single
    /// `write_all` (nothing is written for an empty batch). A publication
    /// larger than [`MAX_PACKET_SIZE`] is left out (logged) rather than
    /// failing the connection over and over. Returns how many were sent.
    ///
    /// Not cancel safe: a cancelled write leaves a partial packet on the wire
    /// (the caller drops the link on any error).
    pub async fn publish_batch(
        &mut self,
        batch: impl IntoIterator<Item = Publication>,
    ) -> Result<usize, LinkError> {
        let mut sent = 0;
        for p in batch {
            let mut publish = Publish::new(p.topic, p.qos, p.payload);
            publish.retain = p.retain;
            if p.qos != QoS::AtMostOnce {
                publish.pkid = self.next_pkid();
            }
            match self.encode(&Packet::Publish(publish)) {
                Ok(()) => sent += 1,
                Err(LinkError::Protocol(mqttbytes::Error::OutgoingPacketTooLarge {
                    pkt_size,
                    max,
                })) => tracing::warn!("MQTT publication of {pkt_size} bytes left out (max {max})"),
                Err(e) => return Err(e),
            }
        }
        self.flush().await?;
        Ok(sent)
    }

    /// Reads until one whole packet is decoded. Cancel safe (only the socket
    /// read is awaited), so it can be a `tokio::select!` branch; pass the
    /// result to [`MqttLink::handle`]. EOF is [`LinkError::Closed`].
    ///
    /// A PUBLISH larger than [`MAX_PACKET_SIZE`] is delivered as
    /// [`Incoming::Oversized`] as soon as its topic is read; the rest of it is
    /// read and dropped by the following calls, a buffer at a time, so an
    /// oversized message costs neither the connection nor its size in memory.
    /// Any other oversized packet is a protocol error.
    pub async fn read_packet(&mut self) -> Result<Incoming, LinkError> {
        loop {
            if self.skip > 0 {
                let n = self.skip.min(self.rbuf.len());
                self.rbuf.advance(n);
                self.skip -= n;
            }
            if self.skip > 0 {
                // the buffer is empty: read the next piece into a small one
                if self.rbuf_grown {
                    self.rbuf = BytesMut::with_capacity(READ_BUF_START);
                    self.rbuf_grown = false;
                }
                self.rbuf.reserve(READ_BUF_START);
            } else {
                match Packet::read(&mut self.rbuf, MAX_PACKET_SIZE) {
                    Ok(packet) => {
                        // (the capacity of a BytesMut after `split_to` hides how
                        // big its allocation is: remember the growth instead)
                        self.shrink_read_buffer();
                        return Ok(Incoming::Packet(packet));
                    }
                    Err(mqttbytes::Error::InsufficientBytes(more)) => self.make_room(more),
                    Err(mqttbytes::Error::PayloadSizeLimitExceeded(size)) => {
                        match oversized_head(&self.rbuf, size)? {
                            Head::Complete { used, oversized } => {
                                // what follows the head up to the end of the packet
                                let header = fixed_header_len(&self.rbuf);
                                self.skip = oversized.size - (used - header);
                                self.rbuf.advance(used);
                                return Ok(Incoming::Oversized(oversized));
                            }
                            Head::Need(more) => self.make_room(more),
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if self.reader.read_buf(&mut self.rbuf).await? == 0 {
                return Err(LinkError::Closed);
            }
        }
    }

    /// Room for `more` bytes in the read buffer, and never tiny reads.
    fn make_room(&mut self, more: usize) {
        let want = more.max(READ_MIN_SPARE);
        if self.rbuf.capacity() - self.rbuf.len() < want {
            self.rbuf.reserve(want.max(READ_BUF_START));
            self.rbuf_grown |= self.rbuf.capacity() > BUF_KEEP;
        }
    }

    /// Replaces a grown, empty read buffer by a small one.
    fn shrink_read_buffer(&mut self) {
        if self.rbuf_grown && self.rbuf.is_empty() {
            self.rbuf = BytesMut::with_capacity(READ_BUF_START);
            self.rbuf_grown = false;
        }
    }

    /// Does the protocol's part for a packet from [`MqttLink::read_packet`]:
    /// acknowledges incoming QoS 1 (PUBACK) and QoS 2 (PUBREC, then PUBCOMP)
    /// publications, notes PINGRESP, ignores the PUBACKs of our QoS 1
    /// publications, and returns what the caller must see. Not cancel safe
    /// (it may write): call it in the `select!` handler, not as a branch.
    pub async fn handle(&mut self, incoming: Incoming) -> Result<Option<Event>, LinkError> {
        let packet = match incoming {
            Incoming::Packet(packet) => packet,
            Incoming::Oversized(oversized) => {
                match oversized.qos {
                    QoS::AtMostOnce => {}
                    QoS::AtLeastOnce => {
                        self.encode(&Packet::PubAck(PubAck::new(oversized.pkid)))?
                    }
                    QoS::ExactlyOnce => {
                        self.encode(&Packet::PubRec(PubRec::new(oversized.pkid)))?
                    }
                }
                self.flush().await?;
                return Ok(Some(Event::Oversized(oversized)));
            }
        };
        match packet {
            Packet::Publish(publish) => {
                match publish.qos {
                    QoS::AtMostOnce => {}
                    QoS::AtLeastOnce => self.encode(&Packet::PubAck(PubAck::new(publish.pkid)))?,
                    QoS::ExactlyOnce => self.encode(&Packet::PubRec(PubRec::new(publish.pkid)))?,
                }
                self.flush().await?;
                Ok(Some(Event::Message(publish)))
            }
            Packet::PubRel(rel) => {
                self.encode(&Packet::PubComp(PubComp::new(rel.pkid)))?;
                self.flush().await?;
                Ok(None)
            }
            Packet::SubAck(ack) => Ok(ack
                .return_codes
                .contains(&SubscribeReasonCode::Failure)
                .then_some(Event::SubscribeRefused { pkid: ack.pkid })),
            Packet::PingResp => {
                self.awaiting_pingresp = false;
                Ok(None)
            }
            Packet::PubAck(_) | Packet::PubRec(_) | Packet::PubComp(_) | Packet::UnsubAck(_) => {
                Ok(None)
            }
            other @ (Packet::Connect(_)
            | Packet::ConnAck(_)
            | Packet::Subscribe(_)
            | Packet::Unsubscribe(_)
            | Packet::PingReq
            | Packet::Disconnect) => Err(LinkError::Unexpected(packet_name(&other))),
        }
    }

    /// The keep-alive tick: fails if the previous PINGREQ is still
    /// unanswered (the broker is gone), else sends a new one.
    pub async fn ping(&mut self) -> Result<(), LinkError> {
        if self.awaiting_pingresp {
            return Err(LinkError::PingTimeout(self.keep_alive));
        }
        self.encode(&Packet::PingReq)?;
        self.flush().await?;
        self.awaiting_pingresp = true;
        Ok(())
    }

    /// Ends the connection cleanly: DISCONNECT (so the broker does not publish
    /// the last will), then closes our side of the stream.
    pub async fn disconnect(mut self) -> Result<(), LinkError> {
        self.encode(&Packet::Disconnect)?;
        self.flush().await?;
        self.writer.shutdown().await?;
        Ok(())
    }

    /// The next packet id: 1..=65535, wrapping.
    fn next_pkid(&mut self) -> u16 {
        self.pkid = self.pkid.checked_add(1).unwrap_or(1);
        self.pkid
    }

    /// Appends a packet to the write buffer (nothing is written on error).
    fn encode(&mut self, packet: &Packet) -> Result<(), LinkError> {
        packet.write(&mut self.wbuf, MAX_PACKET_SIZE)?;
        Ok(())
    }

    /// Writes the whole write buffer with one `write_all`, then empties it
    /// (and shrinks it if a large batch made it big).
    async fn flush(&mut self) -> Result<(), LinkError> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let written = tokio::time::timeout(self.write_timeout, async {
            self.writer.write_all(&self.wbuf).await?;
            self.writer.flush().await
        })
        .await;
        self.wbuf.clear();
        if self.wbuf.capacity() > BUF_KEEP {
            self.wbuf = BytesMut::with_capacity(WRITE_BUF_START);
        }
        match written {
            Ok(result) => Ok(result?),
            Err(_) => Err(LinkError::WriteTimeout(self.write_timeout)),
        }
    }
}

/// An I/O error that carries a TLS error (a bad record, an alert).
fn is_tls_error(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>())
}

/// How far the head of an oversized PUBLISH could be read.
enum Head {
    /// Fixed header, topic and packet id take `used` bytes of the buffer.
    Complete { used: usize, oversized: Oversized },
    /// This many more bytes are needed.
    Need(usize),
}

/// Length of the fixed header at the start of `buf` (1 type byte plus the
/// 1..=4 bytes of the remaining length, which the codec has checked).
fn fixed_header_len(buf: &[u8]) -> usize {
    1 + buf[1..]
        .iter()
        .take(4)
        .position(|b| b & 0x80 == 0)
        .map_or(4, |i| i + 1)
}

/// Reads the head of a packet whose remaining length `size` exceeds the
/// limit (the codec has checked the fixed header): a PUBLISH's topic and
/// packet id. Anything else that large is refused.
fn oversized_head(buf: &[u8], size: usize) -> Result<Head, LinkError> {
    let too_large = || LinkError::Protocol(mqttbytes::Error::PayloadSizeLimitExceeded(size));
    let byte1 = buf[0];
    if byte1 >> 4 != 3 {
        return Err(too_large());
    }
    let qos = match (byte1 >> 1) & 0b11 {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        2 => QoS::ExactlyOnce,
        q => return Err(LinkError::Protocol(mqttbytes::Error::InvalidQoS(q))),
    };
    let start = fixed_header_len(buf);
    let Some(len_bytes) = buf.get(start..start + 2) else {
        return Ok(Head::Need(start + 2 - buf.len()));
    };
    let topic_len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
    let id_len = if qos == QoS::AtMostOnce { 0 } else { 2 };
    let used = start + 2 + topic_len + id_len;
    if used - start > size {
        return Err(LinkError::Protocol(mqttbytes::Error::MalformedPacket));
    }
    if buf.len() < used {
        return Ok(Head::Need(used - buf.len()));
    }
    let topic = std::str::from_utf8(&buf[start + 2..start + 2 + topic_len])
        .map_err(|_| LinkError::Protocol(mqttbytes::Error::TopicNotUtf8))?
        .to_owned();
    let pkid = if id_len == 0 {
        0
    } else {
        u16::from_be_bytes([buf[used - 2], buf[used - 1]])
    };
    Ok(Head::Complete {
        used,
        oversized: Oversized {
            topic,
            qos,
            pkid,
            size,
        },
    })
}

/// The name of a packet type, for error messages.
fn packet_name(packet: &Packet) -> &'static str {
    match packet {
        Packet::Connect(_) => "CONNECT",
        Packet::ConnAck(_) => "CONNACK",
        Packet::Publish(_) => "PUBLISH",
        Packet::PubAck(_) => "PUBACK",
        Packet::PubRec(_) => "PUBREC",
        Packet::PubRel(_) => "PUBREL",
        Packet::PubComp(_) => "PUBCOMP",
        Packet::Subscribe(_) => "SUBSCRIBE",
        Packet::SubAck(_) => "SUBACK",
        Packet::Unsubscribe(_) => "UNSUBSCRIBE",
        Packet::UnsubAck(_) => "UNSUBACK",
        Packet::PingReq => "PINGREQ",
        Packet::PingResp => "PINGRESP",
        Packet::Disconnect => "DISCONNECT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumqttc::mqttbytes::v4::SubAck;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll};
    use tokio::net::TcpListener;

    /// Hang guard of every step.
    const WAIT: Duration = Duration::from_secs(10);

    /// A write half that counts the writes that reached the socket.
    struct Counting<W> {
        inner: W,
        writes: Arc<AtomicUsize>,
    }

    impl<W: AsyncWrite + Unpin> AsyncWrite for Counting<W> {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let this = self.get_mut();
            let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
            if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
                this.writes.fetch_add(1, Ordering::SeqCst);
            }
            polled
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.get_mut().inner).poll_flush(cx)
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
        }
    }

    /// The broker's side of a test: a plain TCP peer speaking the codec.
    struct Peer {
        stream: TcpStream,
        buf: BytesMut,
    }

    impl Peer {
        async fn accept(listener: &TcpListener) -> Peer {
            let (stream, _) = tokio::time::timeout(WAIT, listener.accept())
                .await
                .expect("no connection")
                .unwrap();
            Peer {
                stream,
                buf: BytesMut::new(),
            }
        }

        /// The next packet from the client (`None` on EOF).
        async fn packet(&mut self) -> Option<Packet> {
            loop {
                match Packet::read(&mut self.buf, usize::MAX) {
                    Ok(p) => return Some(p),
                    Err(mqttbytes::Error::InsufficientBytes(_)) => self.buf.reserve(64 * 1024),
                    Err(e) => panic!("bad packet from the client: {e}"),
                }
                let n = tokio::time::timeout(WAIT, self.stream.read_buf(&mut self.buf))
                    .await
                    .expect("the client sent nothing")
                    .unwrap();
                if n == 0 {
                    assert!(self.buf.is_empty(), "EOF inside a packet");
                    return None;
                }
            }
        }

        async fn send(&mut self, packet: Packet) {
            let mut out = BytesMut::new();
            packet.write(&mut out, usize::MAX).unwrap();
            self.stream.write_all(&out).await.unwrap();
        }

        /// Reads CONNECT and answers CONNACK with `code`.
        async fn accept_connect(&mut self, code: ConnectReturnCode) -> Connect {
            let Some(Packet::Connect(connect)) = self.packet().await else {
                panic!("CONNECT expected");
            };
            self.send(Packet::ConnAck(ConnAck::new(code, false))).await;
            connect
        }
    }

    /// Accepts one client, reads its CONNECT and answers CONNACK with `code`.
    async fn serve_connect(listener: &TcpListener, code: ConnectReturnCode) -> (Peer, Connect) {
        let mut peer = Peer::accept(listener).await;
        let connect = peer.accept_connect(code).await;
        (peer, connect)
    }

    async fn listener() -> (TcpListener, LinkOptions) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut options = LinkOptions::new("127.0.0.1", port, "go-echarger_012345");
        options.keep_alive = Duration::from_secs(120);
        options.last_will = Some(LastWill::new("p/mcc", "false", QoS::AtLeastOnce, true));
        options.login = Some(Login::new("me", "secret"));
        (listener, options)
    }

    async fn linked() -> (MqttLink, Peer) {
        let (listener, options) = listener().await;
        let (link, (peer, connect)) = tokio::join!(
            MqttLink::connect(&options),
            serve_connect(&listener, ConnectReturnCode::Success)
        );
        assert_eq!(connect.client_id, "go-echarger_012345");
        (link.expect("connected"), peer)
    }

    #[tokio::test]
    async fn connect_announces_the_options() {
        let (listener, options) = listener().await;
        let (link, (_peer, connect)) = tokio::join!(
            MqttLink::connect(&options),
            serve_connect(&listener, ConnectReturnCode::Success)
        );
        link.expect("connected");
        assert_eq!(connect.protocol, Protocol::V4);
        assert_eq!(connect.client_id, "go-echarger_012345");
        assert_eq!(connect.keep_alive, 120);
        assert!(connect.clean_session);
        assert_eq!(connect.login, Some(Login::new("me", "secret")));
        assert_eq!(
            connect.last_will,
            Some(LastWill::new("p/mcc", "false", QoS::AtLeastOnce, true))
        );
    }

    #[tokio::test]
    async fn a_batch_of_publications_is_one_write() {
        const N: usize = 100;
        let (listener, options) = listener().await;
        let writes = Arc::new(AtomicUsize::new(0));
        let client = async {
            let stream = TcpStream::connect(options.addr()).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (reader, writer) = stream.into_split();
            let writer = Counting {
                inner: writer,
                writes: writes.clone(),
            };
            MqttLink::handshake(reader, writer, &options).await
        };
        let (link, mut peer) = tokio::join!(client, async {
            let mut peer = Peer::accept(&listener).await;
            peer.accept_connect(ConnectReturnCode::Success).await;
            peer
        });
        let mut link = link.expect("connected");

        // SUBSCRIBE / SUBACK
        let pkid = link.subscribe("p/+/set", QoS::AtLeastOnce).await.unwrap();
        let Some(Packet::Subscribe(sub)) = peer.packet().await else {
            panic!("SUBSCRIBE expected");
        };
        assert_eq!((sub.pkid, sub.filters[0].path.as_str()), (pkid, "p/+/set"));
        assert_eq!(sub.filters[0].qos, QoS::AtLeastOnce);
        peer.send(Packet::SubAck(SubAck::new(
            pkid,
            vec![SubscribeReasonCode::Success(QoS::AtLeastOnce)],
        )))
        .await;
        let suback = link.read_packet().await.unwrap();
        assert_eq!(link.handle(suback).await.unwrap(), None);
        assert!(peer.buf.is_empty(), "nothing after SUBSCRIBE yet");

        // the batch: one write on the client, all of it in the peer's first read
        let before = writes.load(Ordering::SeqCst);
        let batch = (0..N).map(|i| {
            let qos = if i % 10 == 0 {
                QoS::AtLeastOnce
            } else {
                QoS::AtMostOnce
            };
            Publication::new(format!("p/key{i}"), format!("{i}"), qos, i % 2 == 0)
        });
        assert_eq!(link.publish_batch(batch).await.unwrap(), N);
        assert_eq!(
            writes.load(Ordering::SeqCst) - before,
            1,
            "a batch of {N} publications must reach the socket in one write"
        );
        peer.buf.reserve(64 * 1024);
        let n = tokio::time::timeout(WAIT, peer.stream.read_buf(&mut peer.buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0);
        let mut got = Vec::new();
        while let Ok(packet) = Packet::read(&mut peer.buf, usize::MAX) {
            let Packet::Publish(p) = packet else {
                panic!("PUBLISH expected: {packet:?}");
            };
            got.push(p);
        }
        assert!(peer.buf.is_empty(), "a partial packet in the first read");
        assert_eq!(got.len(), N, "the first read must hold the whole batch");
        for (i, p) in got.iter().enumerate() {
            assert_eq!(p.topic, format!("p/key{i}"));
            assert_eq!(p.payload.as_ref(), format!("{i}").as_bytes());
            assert_eq!(p.retain, i % 2 == 0);
            let qos1 = i % 10 == 0;
            assert_eq!(p.qos == QoS::AtLeastOnce, qos1);
            assert_eq!(p.pkid != 0, qos1, "a packet id exactly for QoS 1");
        }
        // the PUBACKs of our QoS 1 publications are ignored
        peer.send(Packet::PubAck(PubAck::new(got[0].pkid))).await;
        let puback = link.read_packet().await.unwrap();
        assert_eq!(link.handle(puback).await.unwrap(), None);

        // an empty batch writes nothing
        let before = writes.load(Ordering::SeqCst);
        assert_eq!(link.publish_batch([]).await.unwrap(), 0);
        assert_eq!(writes.load(Ordering::SeqCst), before);
    }

    #[tokio::test]
    async fn a_refused_connection_says_why() {
        let (listener, options) = listener().await;
        let (link, _peer) = tokio::join!(
            MqttLink::connect(&options),
            serve_connect(&listener, ConnectReturnCode::NotAuthorized)
        );
        let e = link.expect_err("refused");
        assert!(matches!(e, LinkError::Refused(_)), "{e:?}");
        assert_eq!(
            e.to_string(),
            "the broker refused the connection: not authorized (CONNACK return code 5)"
        );
    }

    #[tokio::test]
    async fn no_broker_and_a_silent_broker_are_errors() {
        let (listener, mut options) = listener().await;
        options.connect_timeout = Duration::from_millis(300);
        // accepted by the kernel, never answered: timeout
        let e = MqttLink::connect(&options).await.expect_err("no CONNACK");
        assert!(matches!(e, LinkError::ConnectTimeout { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with("no connection to 127.0.0.1:"),
            "{e}"
        );
        // nobody listening: refused by the OS
        drop(listener);
        options.connect_timeout = WAIT;
        let e = MqttLink::connect(&options).await.expect_err("no listener");
        assert!(matches!(e, LinkError::Connect { .. }), "{e:?}");
        assert!(
            e.to_string().starts_with("cannot connect to 127.0.0.1:"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn incoming_qos1_is_acknowledged_and_handed_over() {
        let (mut link, mut peer) = linked().await;
        let mut set = Publish::new("p/amp/set", QoS::AtLeastOnce, "10");
        set.pkid = 7;
        peer.send(Packet::Publish(set.clone())).await;
        let packet = link.read_packet().await.unwrap();
        assert_eq!(
            link.handle(packet).await.unwrap(),
            Some(Event::Message(set))
        );
        assert_eq!(peer.packet().await, Some(Packet::PubAck(PubAck::new(7))));

        // QoS 0: no acknowledgement
        let plain = Publish::new("p/amp/set", QoS::AtMostOnce, "11");
        peer.send(Packet::Publish(plain.clone())).await;
        let packet = link.read_packet().await.unwrap();
        assert_eq!(
            link.handle(packet).await.unwrap(),
            Some(Event::Message(plain))
        );

        // a refused subscription is reported, the link stays up
        peer.send(Packet::SubAck(SubAck::new(
            3,
            vec![SubscribeReasonCode::Failure],
        )))
        .await;
        let packet = link.read_packet().await.unwrap();
        assert_eq!(
            link.handle(packet).await.unwrap(),
            Some(Event::SubscribeRefused { pkid: 3 })
        );
    }

    #[tokio::test]
    async fn keep_alive_needs_a_pingresp_between_two_pings() {
        let (mut link, mut peer) = linked().await;
        link.ping().await.unwrap();
        assert_eq!(peer.packet().await, Some(Packet::PingReq));
        peer.send(Packet::PingResp).await;
        let packet = link.read_packet().await.unwrap();
        assert_eq!(packet, Incoming::Packet(Packet::PingResp));
        assert_eq!(link.handle(packet).await.unwrap(), None);
        link.ping().await.unwrap();
        assert_eq!(peer.packet().await, Some(Packet::PingReq));
        // no answer this time
        let e = link.ping().await.expect_err("unanswered PINGREQ");
        assert!(matches!(e, LinkError::PingTimeout(_)), "{e:?}");
        assert_eq!(e.to_string(), "no PINGRESP from the broker within 120 s");
    }

    #[tokio::test]
    async fn eof_is_an_error_and_disconnect_is_clean() {
        let (mut link, peer) = linked().await;
        drop(peer);
        let e = link.read_packet().await.expect_err("EOF");
        assert!(matches!(e, LinkError::Closed), "{e:?}");

        let (link, mut peer) = linked().await;
        link.disconnect().await.unwrap();
        assert_eq!(peer.packet().await, Some(Packet::Disconnect));
        assert_eq!(peer.packet().await, None, "EOF after DISCONNECT");
    }

    #[tokio::test]
    async fn buffers_shrink_back_after_a_large_packet() {
        let (mut link, mut peer) = linked().await;
        assert!(link.rbuf.capacity() <= READ_BUF_START);
        let big = vec![b'x'; 200 * 1024];

        // incoming
        let mut p = Publish::new("p/big/set", QoS::AtMostOnce, big.clone());
        p.retain = false;
        peer.send(Packet::Publish(p)).await;
        let Incoming::Packet(Packet::Publish(got)) = link.read_packet().await.unwrap() else {
            panic!("PUBLISH expected");
        };
        assert_eq!(got.payload.len(), big.len());
        assert!(
            link.rbuf.capacity() <= READ_BUF_START,
            "{}",
            link.rbuf.capacity()
        );

        // outgoing
        let sent = link.publish_batch([Publication::new(
            "p/big",
            big.clone(),
            QoS::AtMostOnce,
            true,
        )]);
        let (sent, received) = tokio::join!(sent, peer.packet());
        assert_eq!(sent.unwrap(), 1);
        assert!(matches!(received, Some(Packet::Publish(p)) if p.payload.len() == big.len()));
        assert!(
            link.wbuf.capacity() <= WRITE_BUF_START,
            "{}",
            link.wbuf.capacity()
        );

        // too large to send: left out, the connection stays usable
        let huge = vec![b'y'; MAX_PACKET_SIZE + 1];
        let batch = [
            Publication::new("p/huge", huge, QoS::AtMostOnce, true),
            Publication::new("p/small", "1", QoS::AtMostOnce, true),
        ];
        assert_eq!(link.publish_batch(batch).await.unwrap(), 1);
        assert!(matches!(peer.packet().await, Some(Packet::Publish(p)) if p.topic == "p/small"));
    }

    /// An incoming PUBLISH over the limit is acknowledged and reported with
    /// its topic, its payload is read past in small pieces, and the link goes
    /// on with the next packet (QoS 0, 1 and 2; a long topic; the head split
    /// over several reads).
    #[tokio::test]
    async fn an_oversized_publication_is_skipped_and_the_link_stays_up() {
        let (mut link, mut peer) = linked().await;
        let long_topic = format!("p/{}/set", "t".repeat(3000));
        for (i, (topic, qos)) in [
            ("p/amp/set", QoS::AtMostOnce),
            ("p/fna/set", QoS::AtLeastOnce),
            (long_topic.as_str(), QoS::ExactlyOnce),
        ]
        .into_iter()
        .enumerate()
        {
            let mut big = Publish::new(topic, qos, vec![b'x'; MAX_PACKET_SIZE + 1 + i * 77_777]);
            big.pkid = if qos == QoS::AtMostOnce {
                0
            } else {
                40 + i as u16
            };
            let mut bytes = BytesMut::new();
            Packet::Publish(big.clone())
                .write(&mut bytes, usize::MAX)
                .unwrap();
            let total = bytes.len();
            let mut after = BytesMut::new();
            let next = Publish::new("p/amp/set", QoS::AtMostOnce, "10");
            Packet::Publish(next.clone())
                .write(&mut after, usize::MAX)
                .unwrap();
            bytes.extend_from_slice(&after);
            // the head arrives in two pieces, the rest in one
            let writer = async {
                peer.stream.write_all(&bytes[..3]).await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
                peer.stream.write_all(&bytes[3..]).await.unwrap();
            };
            let reader = async {
                let first = link.read_packet().await.unwrap();
                let Incoming::Oversized(o) = &first else {
                    panic!("Oversized expected: {first:?}");
                };
                assert_eq!((o.topic.as_str(), o.qos, o.pkid), (topic, qos, big.pkid));
                assert_eq!(o.size, total - fixed_header_len(&bytes));
                let event = link.handle(first.clone()).await.unwrap();
                assert!(matches!(event, Some(Event::Oversized(_))));
                assert!(link.rbuf.capacity() < 16 * 1024, "{}", link.rbuf.capacity());
                let second = link.read_packet().await.unwrap();
                assert_eq!(second, Incoming::Packet(Packet::Publish(next.clone())));
                // back to a small buffer (BytesMut may round a reservation up)
                assert!(
                    link.rbuf.capacity() <= 2 * READ_BUF_START,
                    "{} > 2 × {READ_BUF_START}",
                    link.rbuf.capacity()
                );
            };
            tokio::join!(writer, reader);
            match qos {
                QoS::AtMostOnce => {}
                QoS::AtLeastOnce => assert_eq!(
                    peer.packet().await,
                    Some(Packet::PubAck(PubAck::new(big.pkid)))
                ),
                QoS::ExactlyOnce => assert_eq!(
                    peer.packet().await,
                    Some(Packet::PubRec(PubRec::new(big.pkid)))
                ),
            }
        }
        // anything else that large is a protocol error
        let mut bytes = BytesMut::new();
        Packet::Subscribe(Subscribe::new(
            "x".repeat(MAX_PACKET_SIZE + 10),
            QoS::AtMostOnce,
        ))
        .write(&mut bytes, usize::MAX)
        .unwrap();
        peer.stream.write_all(&bytes[..16]).await.unwrap();
        let e = link.read_packet().await.expect_err("too large");
        assert!(matches!(e, LinkError::Protocol(_)), "{e:?}");
    }

    #[tokio::test]
    async fn packet_ids_wrap_from_65535_to_1() {
        let (mut link, _peer) = linked().await;
        assert_eq!(link.next_pkid(), 1);
        link.pkid = u16::MAX - 1;
        assert_eq!(link.next_pkid(), u16::MAX);
        assert_eq!(link.next_pkid(), 1);
    }
}
