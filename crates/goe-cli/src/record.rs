//! `goe record`: a charger's full status and every change, with its time,
//! into a trace file (the `goe-trace` format), for bug reports.
//!
//! Over the WebSocket with `--password` (the `fullStatus`, then each
//! `deltaStatus` as it arrives), by polling `/api/status` every `--every`
//! otherwise (changes found by comparing with the previous status, vanished
//! keys too). Every value passes [`crate::redact::clean`] first, so secrets
//! never enter the trace. Each line is flushed: Ctrl-C, `--duration` or
//! `--count` end a valid trace, and so would a crash (at most the last line cut).

use crate::Failure;
use crate::redact;
use goe_client::ws::{Update, WsClient};
use goe_client::{Client, ClientError, Status};
use goe_trace::{Delta, Header, Object, Transport, Writer};
use jiff::Timestamp;
use std::future::Future;
use std::io::{IsTerminal, Write};
use std::pin::Pin;
use std::time::{Duration, Instant};

/// How `goe record` runs (from the command line).
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// Where the trace goes: a file, or `-` for stdout.
    pub output: &'a str,
    /// The polling interval.
    pub every: Duration,
    /// Stop after this long after the first status.
    pub duration: Option<Duration>,
    /// Stop after this many change lines.
    pub count: Option<u64>,
    /// The charger's password: record over the WebSocket.
    pub password: Option<&'a str>,
    /// Replace the address, Wi-Fi names, IP and MAC addresses.
    pub redact: bool,
}

type Stop = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Where the values come from.
enum Source {
    Ws(Box<WsClient>),
    Poll,
}

/// Records until Ctrl-C, `--duration` or `--count`.
pub async fn run(client: &Client, options: &Options<'_>) -> Result<(), Failure> {
    let mut stop: Stop = Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    let mut source = Source::Poll;
    if let Some(password) = options.password {
        let connected = tokio::select! {
            _ = &mut stop => return Ok(()),
            connected = client.websocket(password) => connected,
        };
        match connected {
            Ok(ws) => source = Source::Ws(Box::new(ws)),
            Err(e) => eprintln!(
                "goe: warning: {e}; polling every {} instead",
                crate::every_text(options.every)
            ),
        }
    }
    // the first full status
    let first = match &mut source {
        Source::Ws(ws) => {
            let update = tokio::select! {
                _ = &mut stop => return Ok(()),
                update = ws.next() => update?,
            };
            match update {
                Some(Update::Full(full)) => full,
                Some(Update::Delta(_)) | None => {
                    return Err(ClientError::WebSocket {
                        host: client.host().to_owned(),
                        reason: "no fullStatus after the login".to_owned(),
                    }
                    .into());
                }
            }
        }
        Source::Poll => tokio::select! {
            _ = &mut stop => return Ok(()),
            status = client.status() => status?,
        },
    };
    let start = Instant::now();
    let started = Timestamp::now();
    // --duration counts from the first status (connecting may take seconds)
    if let Some(duration) = options.duration {
        let ctrl_c = stop;
        stop = Box::pin(async move {
            tokio::select! {
                _ = ctrl_c => {}
                _ = tokio::time::sleep(duration) => {}
            }
        });
    }
    let mut current = first.into_json();
    redact::clean_all(&mut current, options.redact);
    let header = header(client, &source, &current, started, options);
    let out: Box<dyn Write + Send> = if options.output == "-" {
        Box::new(std::io::stdout())
    } else {
        let file = std::fs::File::create(options.output).map_err(|e| {
            Failure::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", options.output),
            ))
        })?;
        Box::new(file)
    };
    let mut recorder = Recorder {
        writer: Writer::new(out, &header, 0, &current)?,
        current,
        start,
        changes: 0,
        count: options.count,
        redact: options.redact,
        progress: Progress::new(&header),
    };
    recorder.progress.show(0, start.elapsed());
    let result = match source {
        Source::Ws(mut ws) => {
            let ended = recorder.live(&mut ws, stop.as_mut()).await;
            ws.close().await;
            ended
        }
        Source::Poll => recorder.poll(client, options.every, stop.as_mut()).await,
    };
    recorder.progress.finish(recorder.changes, start.elapsed());
    result
}

/// The header of a recording that starts now with `status`.
fn header(
    client: &Client,
    source: &Source,
    status: &Object,
    started: Timestamp,
    options: &Options<'_>,
) -> Header {
    let text = |key: &str| status.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let (transport, interval_ms) = match source {
        Source::Ws(_) => (Transport::Ws, None),
        Source::Poll => (
            Transport::Poll,
            Some(u64::try_from(options.every.as_millis()).unwrap_or(u64::MAX)),
        ),
    };
    let address = if options.redact {
        redact::HOST
    } else {
        client.host()
    };
    let mut header = Header::new(
        &started.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        address,
        transport,
        concat!("goe ", env!("CARGO_PKG_VERSION")),
    );
    header.interval_ms = interval_ms;
    header.fwv = text("fwv");
    header.serial = text("sse").or_else(|| match source {
        Source::Ws(ws) => Some(ws.serial().to_owned()).filter(|s| !s.is_empty()),
        Source::Poll => None,
    });
    if options.redact {
        header.redactions = redact::REDACTIONS.iter().map(|r| (*r).to_owned()).collect();
    }
    header
}

/// The trace being written and what it holds so far.
struct Recorder {
    writer: Writer<Box<dyn Write + Send>>,
    /// The last status, cleaned, as the trace shows it.
    current: Object,
    start: Instant,
    /// Change lines written.
    changes: u64,
    count: Option<u64>,
    redact: bool,
    progress: Progress,
}

impl Recorder {
    /// Milliseconds since the recording started.
    fn t(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Writes `delta` (if it changes anything); `true` once `--count` is reached.
    fn write(&mut self, delta: Delta) -> Result<bool, Failure> {
        if delta.is_empty() {
            return Ok(false);
        }
        self.writer.delta(&delta)?;
        delta.apply(&mut self.current);
        self.changes += 1;
        self.progress.show(self.changes, self.start.elapsed());
        Ok(self.count.is_some_and(|n| self.changes >= n))
    }

    /// A polled status: what differs from the last one.
    fn polled(&mut self, status: Status) -> Result<bool, Failure> {
        let mut new = status.into_json();
        redact::clean_all(&mut new, self.redact);
        let delta = Delta::between(self.t(), &self.current, &new);
        self.write(delta)
    }

    /// A `deltaStatus`: its keys in its order, those whose value changed.
    fn pushed(&mut self, delta: Status) -> Result<bool, Failure> {
        let mut changes = Object::new();
        for (key, mut value) in delta.into_json() {
            redact::clean(&key, &mut value, self.redact);
            if self.current.get(&key) != Some(&value) {
                changes.insert(key, value);
            }
        }
        let t = self.t();
        self.write(Delta {
            t,
            changes,
            removed: Vec::new(),
        })
    }

    /// Polls `/api/status` every `every` until stopped; a failed poll is a
    /// warning (a charger may drop off the network for a moment).
    async fn poll(
        &mut self,
        client: &Client,
        every: Duration,
        mut stop: Pin<&mut (dyn Future<Output = ()> + Send)>,
    ) -> Result<(), Failure> {
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut tick = self.progress.ticker();
        loop {
            tokio::select! {
                _ = &mut stop => return Ok(()),
                _ = tick.tick() => {
                    self.progress.show(self.changes, self.start.elapsed());
                    continue;
                }
                _ = interval.tick() => {}
            }
            let status = tokio::select! {
                _ = &mut stop => return Ok(()),
                status = client.status() => status,
            };
            match status {
                Ok(status) => {
                    if self.polled(status)? {
                        return Ok(());
                    }
                }
                Err(e) => {
                    self.progress.clear();
                    eprintln!("goe: warning: {e} (still recording)");
                }
            }
        }
    }

    /// Takes each `deltaStatus` until stopped; a lost connection ends the
    /// recording with an error (the trace so far stays valid).
    async fn live(
        &mut self,
        ws: &mut WsClient,
        mut stop: Pin<&mut (dyn Future<Output = ()> + Send)>,
    ) -> Result<(), Failure> {
        let mut tick = self.progress.ticker();
        loop {
            let update = tokio::select! {
                _ = &mut stop => return Ok(()),
                _ = tick.tick() => {
                    self.progress.show(self.changes, self.start.elapsed());
                    continue;
                }
                update = ws.next() => update,
            };
            let done = match update? {
                Some(Update::Delta(delta)) => self.pushed(delta)?,
                // a new full status: whatever differs from the last one
                Some(Update::Full(full)) => self.polled(full)?,
                None => {
                    return Err(ClientError::WebSocket {
                        host: ws.host().to_owned(),
                        reason: "the charger closed the WebSocket".to_owned(),
                    }
                    .into());
                }
            };
            if done {
                return Ok(());
            }
        }
    }
}

/// The progress line on a terminal (stderr), nothing otherwise.
struct Progress {
    enabled: bool,
    what: String,
}

impl Progress {
    fn new(header: &Header) -> Progress {
        let serial = header.serial.as_deref().unwrap_or("charger");
        let what = match &header.fwv {
            Some(fwv) => format!("{serial} ({fwv})"),
            None => serial.to_owned(),
        };
        Progress {
            enabled: std::io::stderr().is_terminal(),
            what,
        }
    }

    /// Refreshes the elapsed time once a second (never fires when disabled).
    fn ticker(&self) -> tokio::time::Interval {
        let period = if self.enabled {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(86_400 * 365)
        };
        tokio::time::interval_at(tokio::time::Instant::now() + period, period)
    }

    fn show(&self, changes: u64, elapsed: Duration) {
        if self.enabled {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[K{}", line(&self.what, changes, elapsed));
            let _ = err.flush();
        }
    }

    /// Clears the line (before a warning).
    fn clear(&self) {
        if self.enabled {
            eprint!("\r\x1b[K");
        }
    }

    /// The last state of the line, kept on screen.
    fn finish(&self, changes: u64, elapsed: Duration) {
        if self.enabled {
            eprintln!("\r\x1b[K{}", line(&self.what, changes, elapsed));
        }
    }
}

/// `recording 012345 (060.5): 42 changes, 1m10s`.
fn line(what: &str, changes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let time = if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else if m > 0 {
        format!("{m}m{s:02}s")
    } else {
        format!("{s}s")
    };
    let noun = if changes == 1 { "change" } else { "changes" };
    format!("recording {what}: {changes} {noun}, {time}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn progress_line() {
        let d = std::time::Duration::from_secs;
        assert_eq!(
            super::line("012345 (060.5)", 42, d(70)),
            "recording 012345 (060.5): 42 changes, 1m10s"
        );
        assert_eq!(
            super::line("012345", 1, d(5)),
            "recording 012345: 1 change, 5s"
        );
        assert_eq!(
            super::line("x", 0, d(3725)),
            "recording x: 0 changes, 1h02m05s"
        );
    }
}
