//! `goe watch`: show what changed on the charger, as it happens.
//!
//! Two feeds of the same [`Tracker`]: polling `/api/status` every `--every`,
//! or, with `--password`, the charger's WebSocket (the full status, then each
//! `deltaStatus` merged into it), falling back to polling with one warning
//! line when the WebSocket cannot be used or is lost.
//!
//! Three views of the same change stream: a table redrawn in place on a
//! terminal (changed values highlighted), one line per change otherwise (or
//! with `--log`), and one JSON object per poll or update with changes (`--json`).

use crate::Failure;
use crate::output::{Cell, Paint, table, value_text};
use goe_client::ws::{Update, WsClient};
use goe_client::{Client, ClientError, Status};
use jiff::Timestamp;
use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::time::Duration;

/// The last value of each watched key and when it last changed.
#[derive(Debug, Default)]
pub struct Tracker {
    keys: Vec<String>,
    last: HashMap<String, serde_json::Value>,
    changed_at: HashMap<String, Timestamp>,
    polls: u64,
}

/// One key's change in a poll (`old` is `None` on the first poll or when the key appears).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The key.
    pub key: String,
    /// The value before, if there was one.
    pub old: Option<serde_json::Value>,
    /// The value now (`None`: the charger no longer reports it).
    pub new: Option<serde_json::Value>,
}

impl Tracker {
    /// A tracker for `keys`, in this order.
    pub fn new(keys: &[&str]) -> Tracker {
        Tracker {
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            ..Tracker::default()
        }
    }

    /// Takes a poll's status; returns the keys whose JSON changed (all on the first poll).
    pub fn update(&mut self, status: &Status, now: Timestamp) -> Vec<Change> {
        let first = self.polls == 0;
        self.polls += 1;
        let mut changes = Vec::new();
        for key in &self.keys {
            let new = status.raw(key).cloned();
            let old = self.last.get(key).cloned();
            if first || new != old {
                if !first {
                    self.changed_at.insert(key.clone(), now);
                }
                changes.push(Change {
                    key: key.clone(),
                    old,
                    new: new.clone(),
                });
            }
            match new {
                Some(v) => self.last.insert(key.clone(), v),
                None => self.last.remove(key),
            };
        }
        changes
    }

    /// A status made of the last values (for rendering).
    fn current(&self) -> Status {
        let map: serde_json::Map<String, serde_json::Value> = self
            .keys
            .iter()
            .filter_map(|k| self.last.get(k).map(|v| (k.clone(), v.clone())))
            .collect();
        Status::from_json(serde_json::Value::Object(map)).unwrap_or_default()
    }
}

/// A key's JSON as people read it.
fn human(key: &str, json: Option<&serde_json::Value>) -> String {
    match json {
        None => "(not reported)".to_owned(),
        Some(json) => {
            let status = Status::from_json(serde_json::json!({ key: json })).unwrap_or_default();
            status
                .get(key)
                .map(|v| value_text(key, &v))
                .unwrap_or_default()
        }
    }
}

fn clock(ts: Timestamp) -> String {
    ts.to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%H:%M:%S")
        .to_string()
}

/// The lines of the change log for one poll.
pub fn log_lines(changes: &[Change], now: Timestamp, width: usize, paint: Paint) -> String {
    let mut out = String::new();
    for c in changes {
        let new = human(&c.key, c.new.as_ref());
        let text = match &c.old {
            Some(old) => format!("{} → {}", human(&c.key, Some(old)), paint.highlight(&new)),
            None => new,
        };
        out.push_str(&format!(
            "{}  {:<width$}  {text}\n",
            paint.dim(&clock(now)),
            c.key
        ));
    }
    out
}

/// One JSON line for a poll with changes: `{"time":…,"changes":{key: value…}}`.
pub fn json_line(changes: &[Change], now: Timestamp) -> String {
    let changed: serde_json::Map<String, serde_json::Value> = changes
        .iter()
        .map(|c| {
            (
                c.key.clone(),
                c.new.clone().unwrap_or(serde_json::Value::Null),
            )
        })
        .collect();
    serde_json::json!({ "time": now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(), "changes": changed })
        .to_string()
}

/// The full-screen view: a header, then key, value (highlighted if it changed
/// in this poll) and when it last changed.
pub fn screen(
    tracker: &Tracker,
    changes: &[Change],
    header: &str,
    problem: Option<&str>,
    paint: Paint,
) -> String {
    let status = tracker.current();
    let rows = tracker
        .keys
        .iter()
        .map(|k| {
            let value = match status.get(k) {
                Some(v) => value_text(k, &v),
                None => "(not reported)".to_owned(),
            };
            let fresh = tracker.polls > 1 && changes.iter().any(|c| &c.key == k);
            let value = if fresh {
                let shown = paint.highlight(&value);
                Cell::styled(value, shown)
            } else {
                Cell::plain(value)
            };
            let since = tracker
                .changed_at
                .get(k)
                .map(|t| clock(*t))
                .unwrap_or_default();
            vec![Cell::plain(k.clone()), value, Cell::plain(since)]
        })
        .collect();
    let mut out = format!("{}\n", paint.bold(header));
    if let Some(p) = problem {
        out.push_str(&paint.red(p));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&table(&["KEY", "VALUE", "CHANGED"], rows, paint));
    out
}

/// Cursor home and clear screen.
const CLEAR: &str = "\x1b[H\x1b[2J";

/// How `goe watch` runs (from the command line).
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The polling interval.
    pub every: Duration,
    /// Stop after this many polls (WebSocket: updates with a change).
    pub count: Option<u64>,
    /// One line per change even on a terminal.
    pub log: bool,
    /// JSON lines.
    pub json: bool,
    /// The charger's password: watch over the WebSocket.
    pub password: Option<&'a str>,
}

/// Where the values come from (for the header and `--count`).
#[derive(Debug, Clone, Copy)]
enum Feed {
    Poll(Duration),
    WebSocket,
}

/// The tracker and the chosen rendering, shared by both feeds.
struct View<'a> {
    host: &'a str,
    tracker: Tracker,
    paint: Paint,
    full_screen: bool,
    json: bool,
    width: usize,
    count: Option<u64>,
    /// Polls (or WebSocket updates with changes) shown so far.
    rounds: u64,
    /// Why the WebSocket is not used (shown on the full screen).
    notice: Option<String>,
}

impl View<'_> {
    fn header(&self, feed: Feed, now: Timestamp) -> String {
        let how = match feed {
            Feed::Poll(every) => format!("every {}", crate::every_text(every)),
            Feed::WebSocket => "live over the WebSocket".to_owned(),
        };
        format!(
            "goe watch {} · {how} · {} · Ctrl-C to stop",
            self.host,
            clock(now)
        )
    }

    /// Shows a status (polled, or merged from the WebSocket); `Ok(true)` once `--count` is reached.
    /// Over the WebSocket only updates that change a watched key are shown and counted.
    fn show(&mut self, status: &Status, feed: Feed) -> Result<bool, Failure> {
        let now = Timestamp::now();
        let changes = self.tracker.update(status, now);
        if matches!(feed, Feed::WebSocket) && changes.is_empty() {
            return Ok(false);
        }
        let text = if self.json {
            if changes.is_empty() {
                String::new()
            } else {
                format!("{}\n", json_line(&changes, now))
            }
        } else if self.full_screen {
            let header = self.header(feed, now);
            let notice = self.notice.as_deref();
            format!(
                "{CLEAR}{}",
                screen(&self.tracker, &changes, &header, notice, self.paint)
            )
        } else {
            log_lines(&changes, now, self.width, self.paint)
        };
        self.write(&text)?;
        self.rounds += 1;
        Ok(self.count.is_some_and(|n| self.rounds >= n))
    }

    /// A failed poll: the first ends the watch, later ones are shown and counted.
    fn problem(&mut self, e: ClientError, feed: Feed) -> Result<bool, Failure> {
        if self.tracker.polls == 0 {
            return Err(e.into());
        }
        // Keep watching: a charger may drop off the network for a moment.
        let problem = format!("{e} (still watching)");
        if self.full_screen {
            let header = self.header(feed, Timestamp::now());
            let text = format!(
                "{CLEAR}{}",
                screen(&self.tracker, &[], &header, Some(&problem), self.paint)
            );
            self.write(&text)?;
        } else {
            eprintln!("goe: {problem}");
        }
        self.rounds += 1;
        Ok(self.count.is_some_and(|n| self.rounds >= n))
    }

    fn write(&self, text: &str) -> Result<(), Failure> {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        stdout.flush()?;
        Ok(())
    }
}

/// How a WebSocket watch ended.
enum Ended {
    /// Ctrl-C or `--count`.
    Done,
    /// The connection is gone: why.
    Lost(String),
}

type Stop<'a> = Pin<&'a mut (dyn Future<Output = std::io::Result<()>> + Send)>;

/// Runs the watch until Ctrl-C or `--count`: over the WebSocket when a
/// password is given and it works, polling otherwise.
pub async fn run(client: &Client, keys: &[&str], options: &Options<'_>) -> Result<(), Failure> {
    let paint = Paint::stdout();
    let mut view = View {
        host: client.host(),
        tracker: Tracker::new(keys),
        paint,
        full_screen: paint.enabled() && !options.log && !options.json,
        json: options.json,
        width: keys.iter().map(|k| k.len()).max().unwrap_or(0),
        count: options.count,
        rounds: 0,
        notice: None,
    };
    let mut stop: Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>> =
        Box::pin(tokio::signal::ctrl_c());
    if let Some(password) = options.password {
        let connected = tokio::select! {
            _ = &mut stop => return Ok(()),
            connected = client.websocket(password) => connected,
        };
        let why = match connected {
            Ok(mut ws) => match live(&mut ws, &mut view, stop.as_mut()).await? {
                Ended::Done => {
                    ws.close().await;
                    return Ok(());
                }
                Ended::Lost(why) => why,
            },
            Err(e) => e.to_string(),
        };
        let every = crate::every_text(options.every);
        eprintln!("goe: warning: {why}; polling every {every} instead");
        view.notice = Some(format!("{why}; polling every {every}"));
    }
    poll(client, keys, &mut view, options.every, stop.as_mut()).await
}

/// Feeds the view from the WebSocket: the full status, then each delta merged in.
async fn live(
    ws: &mut WsClient,
    view: &mut View<'_>,
    mut stop: Stop<'_>,
) -> Result<Ended, Failure> {
    let mut current = Status::default();
    loop {
        let update = tokio::select! {
            _ = &mut stop => return Ok(Ended::Done),
            update = ws.next() => update,
        };
        match update {
            Ok(Some(Update::Full(full))) => current = full,
            Ok(Some(Update::Delta(delta))) => current.merge(&delta),
            Ok(None) => {
                return Ok(Ended::Lost(format!(
                    "the charger at {} closed the WebSocket",
                    ws.host()
                )));
            }
            Err(e) => return Ok(Ended::Lost(e.to_string())),
        }
        if view.show(&current, Feed::WebSocket)? {
            return Ok(Ended::Done);
        }
    }
}

/// Feeds the view by polling `/api/status?filter=…` every `every`.
async fn poll(
    client: &Client,
    keys: &[&str],
    view: &mut View<'_>,
    every: Duration,
    mut stop: Stop<'_>,
) -> Result<(), Failure> {
    let feed = Feed::Poll(every);
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = interval.tick() => {}
        }
        let done = match client.status_of(keys).await {
            Ok(status) => view.show(&status, feed)?,
            Err(e) => view.problem(e, feed)?,
        };
        if done {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(json: &str) -> Status {
        Status::parse(json).unwrap()
    }

    #[test]
    fn changes_are_tracked() {
        let t0: Timestamp = "2024-09-18T07:31:23Z".parse().unwrap();
        let mut tr = Tracker::new(&["amp", "car"]);
        let first = tr.update(&st(r#"{"amp":16,"car":1}"#), t0);
        assert_eq!(first.len(), 2);
        assert!(tr.update(&st(r#"{"amp":16,"car":1}"#), t0).is_empty());
        let c = tr.update(&st(r#"{"amp":10,"car":1}"#), t0);
        assert_eq!(
            c,
            vec![Change {
                key: "amp".into(),
                old: Some(16.into()),
                new: Some(10.into())
            }]
        );
        let plain = log_lines(&c, t0, 3, Paint::fixed(false));
        assert!(plain.ends_with("amp  16 A → 10 A\n"), "{plain:?}");
        let coloured = log_lines(&c, t0, 3, Paint::fixed(true));
        assert!(coloured.contains("\u{1b}["), "{coloured:?}");
        assert_eq!(
            json_line(&c, t0),
            r#"{"time":"2024-09-18T07:31:23.000Z","changes":{"amp":10}}"#
        );
        let view = screen(&tr, &c, "goe watch", None, Paint::fixed(true));
        assert!(view.contains("\u{1b}["), "{view}");
        let plain_view = screen(
            &tr,
            &c,
            "goe watch",
            Some("unreachable"),
            Paint::fixed(false),
        );
        assert!(plain_view.contains("amp  10 A"), "{plain_view}");
        assert!(plain_view.contains("car  Idle (1)"), "{plain_view}");
        assert!(plain_view.contains("unreachable"), "{plain_view}");
        // a key that disappears
        let c = tr.update(&st(r#"{"car":1}"#), t0);
        assert_eq!(c[0].new, None);
    }
}
