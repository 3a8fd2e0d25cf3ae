//! `goe watch`: poll the charger and show what changed, as it happens.
//!
//! Three views of the same change stream: a table redrawn in place on a
//! terminal (changed values highlighted), one line per change otherwise (or
//! with `--log`), and one JSON object per poll with changes (`--json`).
//! Polling now; the WebSocket API can feed the same [`Tracker`] later.

use crate::Failure;
use crate::output::{Cell, Paint, table, value_text};
use goe_client::{Client, Status};
use jiff::Timestamp;
use std::collections::HashMap;
use std::io::Write;
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

/// Runs the watch until Ctrl-C or `count` polls.
pub async fn run(
    client: &Client,
    keys: &[&str],
    every: Duration,
    count: Option<u64>,
    log: bool,
    json: bool,
) -> Result<(), Failure> {
    let paint = Paint::stdout();
    let full_screen = paint.enabled() && !log && !json;
    let width = keys.iter().map(|k| k.len()).max().unwrap_or(0);
    let mut tracker = Tracker::new(keys);
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    let mut polls = 0u64;
    let mut stdout = std::io::stdout();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = interval.tick() => {}
        }
        let now = Timestamp::now();
        let header = format!(
            "goe watch {} · every {} · {} · Ctrl-C to stop",
            client.host(),
            crate::every_text(every),
            clock(now)
        );
        let text = match client.status_of(keys).await {
            Ok(status) => {
                let changes = tracker.update(&status, now);
                if json {
                    if changes.is_empty() {
                        String::new()
                    } else {
                        format!("{}\n", json_line(&changes, now))
                    }
                } else if full_screen {
                    format!(
                        "{CLEAR}{}",
                        screen(&tracker, &changes, &header, None, paint)
                    )
                } else {
                    log_lines(&changes, now, width, paint)
                }
            }
            Err(e) if tracker.polls == 0 => return Err(e.into()),
            // Keep watching: a charger may drop off the network for a moment.
            Err(e) if full_screen => {
                let problem = format!("{e} (still watching)");
                format!(
                    "{CLEAR}{}",
                    screen(&tracker, &[], &header, Some(&problem), paint)
                )
            }
            Err(e) => {
                eprintln!("goe: {e} (still watching)");
                String::new()
            }
        };
        stdout.write_all(text.as_bytes())?;
        stdout.flush()?;
        polls += 1;
        if count.is_some_and(|n| polls >= n) {
            break;
        }
    }
    Ok(())
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
