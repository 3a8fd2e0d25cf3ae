//! `goe-charger --replay TRACE` (#17): a recorded charger served again.
//!
//! The trace (`goe-trace`) gives the full status and its timed changes. A
//! replaying device runs no charger logic: at simulated time `t` since the
//! start (the device clock: `--speed`, or the manual clock and
//! `/sim/advance`) its values are the trace's status with every change up to
//! `t` applied, put into the engine with change generations, so HTTP, API
//! v1, WebSocket deltas and MQTT show them like any other change. After the
//! last line the last state holds. A write of a known key goes through the
//! key table like any write and from then on the trace no longer changes that
//! key; a write of a key the firmware profile does not know is answered the
//! way an `answer` line of the trace shows, or refused as "without setter".
//!
//! Keys the replay never puts: the clock keys (they follow the device clock),
//! and secrets (`Secret` other than `No`: the trace holds their masked form,
//! which is no value; the charger keeps its own).

use goe_engine::{Charger, SimTime, StepOutcome};
use goe_keys::{Profile, Secret, SetError};
use goe_trace::{Event, Object, Trace};
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Keys a replay leaves to the device clock (`Charger::refresh_clock`).
const CLOCK_KEYS: [&str; 6] = ["rbt", "utc", "loc", "inva", "tab", "lto"];

/// A trace read for replay: what the charger is, and its timeline.
#[derive(Debug)]
pub struct Loaded {
    /// The trace's first status as a capture: the replay's keys in the
    /// unit's order ([`Start::adjust`] makes the profile from it).
    pub capture: goe_keys::Capture,
    /// The firmware the trace names (header `fwv`, else the status's).
    pub fwv: Option<String>,
    /// The serial the trace recorded (header `serial`, else the status's `sse`).
    pub serial: Option<String>,
    /// The trace.
    pub trace: Trace,
    /// Where it was read from.
    pub path: std::path::PathBuf,
}

/// Reads the trace at `path` for `--replay`. The error names the file, the
/// line and the reason.
/// A cut-off last line is dropped; the warnings say so (for stderr).
pub fn load(path: &Path) -> Result<(Loaded, Vec<String>), String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("--replay {}: cannot open: {e}", path.display()))?;
    let trace = Trace::read(std::io::BufReader::new(file))
        .map_err(|e| format!("--replay {}: {e}", path.display()))?;
    let warnings = trace
        .warnings
        .iter()
        .map(|w| format!("--replay {}: {w}", path.display()))
        .collect();
    let text = |key: &str| trace.status.get(key).and_then(Json::as_str);
    let fwv = trace
        .header
        .fwv
        .as_deref()
        .or(text("fwv"))
        .map(str::to_owned);
    let capture = goe_keys::Capture::parse(&Json::Object(trace.status.clone()).to_string())
        .map_err(|e| format!("--replay {}: line 2: {e}", path.display()))?;
    let serial = trace
        .header
        .serial
        .clone()
        .or_else(|| text("sse").map(str::to_owned));
    Ok((
        Loaded {
            capture,
            fwv,
            serial,
            trace,
            path: path.to_owned(),
        },
        warnings,
    ))
}

/// The built-in profile nearest to firmware `fwv`, `fallback` without a
/// parsable one ([`goe_keys::capture::nearest_profile`]).
pub fn nearest_profile(fwv: Option<&str>, fallback: &'static Profile) -> &'static Profile {
    goe_keys::capture::nearest_profile(fwv.and_then(goe_keys::Firmware::parse), fallback)
}

/// One point of the timeline: keys and their values at `at` ms after the start.
#[derive(Debug, Clone)]
struct Change {
    at: u64,
    values: Object,
}

/// A running replay: the timeline, how far it got, what writes took over.
#[derive(Debug, Clone)]
pub struct Replay {
    /// Simulated time of trace time 0 (line 2).
    start: SimTime,
    initial: Object,
    changes: Vec<Change>,
    /// Changes applied so far.
    next: usize,
    /// Keys written since the start: the trace no longer changes them.
    overridden: HashSet<String>,
    /// Keys the trace shows that the firmware profile does not know.
    unknown: HashSet<String>,
    /// Every key the trace shows, at any time.
    carried: HashSet<String>,
    /// The last recorded answer to a write of each key (`answer` lines).
    answers: HashMap<String, Json>,
}

impl Replay {
    /// A replay of `trace` whose time 0 is `start`, on `firmware`.
    pub fn new(trace: &Trace, firmware: &'static Profile, start: SimTime) -> Replay {
        let mut changes = Vec::new();
        let mut answers = HashMap::new();
        let mut unknown: HashSet<String> = HashSet::new();
        let mut carried: HashSet<String> = HashSet::new();
        let note_unknown =
            |o: &Object, unknown: &mut HashSet<String>, carried: &mut HashSet<String>| {
                for k in o.keys() {
                    carried.insert(k.clone());
                    if firmware.key(k).is_none() {
                        unknown.insert(k.clone());
                    }
                }
            };
        note_unknown(&trace.status, &mut unknown, &mut carried);
        for event in &trace.events {
            let at = |t: u64| t.saturating_sub(trace.status_t);
            match event {
                Event::Delta(d) => {
                    note_unknown(&d.changes, &mut unknown, &mut carried);
                    changes.push(Change {
                        at: at(d.t),
                        values: d.changes.clone(),
                    });
                }
                Event::Status(s) => {
                    note_unknown(&s.status, &mut unknown, &mut carried);
                    changes.push(Change {
                        at: at(s.t),
                        values: s.status.clone(),
                    });
                }
                Event::Answer(a) => {
                    for key in a.request.keys() {
                        if firmware.key(key).is_none() {
                            unknown.insert(key.clone());
                        }
                        let answer = match &a.response {
                            Json::Object(o) => o.get(key).cloned(),
                            other => Some(other.clone()),
                        };
                        if let Some(answer) = answer {
                            answers.insert(key.clone(), answer);
                        }
                    }
                }
                Event::Unknown { .. } => {}
            }
        }
        Replay {
            start,
            initial: trace.status.clone(),
            changes,
            next: 0,
            overridden: HashSet::new(),
            unknown,
            carried,
            answers,
        }
    }

    /// Puts the trace's full status (line 2) into `charger`.
    pub fn begin(&mut self, charger: &mut Charger) {
        let initial = std::mem::take(&mut self.initial);
        self.put_all(charger, &initial);
        self.initial = initial;
    }

    /// Brings `charger` to `now`: every change recorded up to that trace time
    /// (the charger's own logic does not run), then the clock keys.
    pub fn step(&mut self, charger: &mut Charger, now: SimTime) -> StepOutcome {
        let elapsed = u64::try_from(now.millis() - self.start.millis()).unwrap_or(0);
        while let Some(change) = self.changes.get(self.next) {
            if change.at > elapsed {
                break;
            }
            let values = std::mem::take(&mut self.changes[self.next].values);
            self.put_all(charger, &values);
            self.changes[self.next].values = values;
            self.next += 1;
        }
        charger.refresh_clock(now);
        StepOutcome::default()
    }

    /// Whether the replay sets `key` (a key the trace carries that no write
    /// took over): server-owned status keys (`wcch`, `wccw`, MQTT state) then
    /// keep the recorded value.
    pub fn owns(&self, key: &str) -> bool {
        self.carried.contains(key) && !self.overridden.contains(key)
    }

    /// A write of `key` succeeded: the trace no longer changes it.
    pub fn written(&mut self, key: &str) {
        self.overridden.insert(key.to_owned());
    }

    /// Writes that changed `before` into `after` (API v1, whose payloads
    /// name other keys than they write) took over the keys they changed.
    pub fn took_over(&mut self, before: &Charger, after: &Charger) {
        let changed: Vec<String> = self
            .carried
            .iter()
            .filter(|k| !self.overridden.contains(*k) && before.value(k) != after.value(k))
            .cloned()
            .collect();
        self.overridden.extend(changed);
    }

    /// How a write of `key` is answered instead of the key table, for keys
    /// the trace shows and the firmware profile does not know: as an
    /// `answer` line shows (`true`: accepted and ignored; a text: refused
    /// with it), else refused "without setter". `None`: a key of the table.
    pub fn unknown_key_answer(&self, key: &str) -> Option<Result<(), SetError>> {
        if !self.unknown.contains(key) {
            return None;
        }
        Some(match self.answers.get(key) {
            Some(Json::Bool(true)) => Ok(()),
            Some(Json::String(text)) => Err(SetError::Recorded(text.clone())),
            Some(other) => Err(SetError::Recorded(other.to_string())),
            None => Err(SetError::NoSetter),
        })
    }

    fn put_all(&self, charger: &mut Charger, values: &Object) {
        for (key, value) in values {
            // `hai` stays on: a unit recorded with its local HTTP API off
            // (over MQTT) is replayed to be read (as a clone keeps it)
            if self.overridden.contains(key)
                || CLOCK_KEYS.contains(&key.as_str())
                || key == crate::clone::KEPT_ON
            {
                continue;
            }
            // a key the table does not know: printed verbatim, its recorded value
            if charger.profile().verbatim_id(key).is_some() {
                charger.put_verbatim(key, &value.to_string());
                continue;
            }
            let secret = charger
                .profile()
                .key(key)
                .is_none_or(|(_, def)| def.secret != Secret::No);
            if secret {
                continue;
            }
            charger.put_replayed(key, value);
        }
    }
}

/// What `--replay` does at a start (`main.rs`): nothing without the option;
/// with it, the trace read before anything is bound, then the start's
/// firmware, serial and data directory taken from it, then the device
/// replaying it. Holds the temporary data directory for the process's life.
#[derive(Debug, Default)]
pub struct Start {
    loaded: Option<Loaded>,
    temp_dir: Option<tempfile::TempDir>,
}

impl Start {
    /// Reads the trace of `--replay` (`None`: no replay). A malformed trace
    /// is the error (file, line, reason); a cut-off last line is reported on
    /// stderr and dropped.
    pub fn prepare(path: Option<&Path>) -> Result<Start, String> {
        let Some(path) = path else {
            return Ok(Start::default());
        };
        let (loaded, warnings) = load(path)?;
        for warning in warnings {
            eprintln!("goe-charger: warning: {warning}");
        }
        Ok(Start {
            loaded: Some(loaded),
            temp_dir: None,
        })
    }

    /// The start's options as a replay has them: the firmware nearest to the
    /// trace's `fwv` (the given one without it), the trace's serial unless
    /// `--serial` is given, and a fresh temporary data directory unless
    /// `--data-dir` was given (`data_dir_given`).
    pub fn adjust(
        &mut self,
        firmware: &mut &'static Profile,
        serial: &mut Option<String>,
        data_dir: &mut std::path::PathBuf,
        data_dir_given: bool,
    ) -> std::io::Result<()> {
        let Some(loaded) = &self.loaded else {
            return Ok(());
        };
        // the unit's keys in its order on the nearest built-in profile, as `--clone-from`
        let base = nearest_profile(loaded.fwv.as_deref(), firmware);
        *firmware = Profile::captured(base, &loaded.capture).map_err(std::io::Error::other)?;
        if serial.is_none() {
            serial.clone_from(&loaded.serial);
        }
        if !data_dir_given {
            let dir = tempfile::Builder::new().prefix("goe-replay-").tempdir()?;
            *data_dir = dir.path().join("charger");
            self.temp_dir = Some(dir);
        }
        Ok(())
    }

    /// `device` replaying the trace (itself without `--replay`).
    pub fn attach(&mut self, device: crate::device::Device) -> crate::device::Device {
        match self.loaded.take() {
            Some(loaded) => {
                let start = device.clock().now();
                let firmware = device.firmware();
                let dir = device.data_dir().unwrap_or_default();
                eprintln!(
                    "goe-charger: replaying {} ({} lines after the status, {} ms), firmware {}, serial {}, data in {}",
                    loaded.path.display(),
                    loaded.trace.events.len(),
                    loaded
                        .trace
                        .events
                        .last()
                        .and_then(Event::t)
                        .unwrap_or(loaded.trace.status_t)
                        - loaded.trace.status_t,
                    firmware.firmware,
                    device.serial(),
                    dir.display(),
                );
                device.with_replay(Replay::new(&loaded.trace, firmware, start))
            }
            None => device,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use goe_keys::Value;

    const START: SimTime = SimTime(1_717_394_400_000);

    fn trace(lines: &[&str]) -> Trace {
        let mut text = String::from(
            "{\"type\":\"header\",\"format\":\"goe-trace\",\"version\":1,\"started\":\"2024-06-03T06:00:00.000Z\",\"source\":\"x\",\"transport\":\"poll\",\"tool\":\"t\",\"redactions\":[]}\n\
             {\"type\":\"status\",\"t\":0,\"status\":{\"amp\":16,\"car\":1,\"xyz\":7,\"rbt\":5}}\n",
        );
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        Trace::parse(&text).expect("a trace")
    }

    fn charger() -> Charger {
        Charger::boot_on(goe_keys::default_profile(), "012345", None, START, 1).expect("boot")
    }

    #[test]
    fn follows_the_timeline_until_a_write_takes_over() {
        let t = trace(&[
            "{\"type\":\"delta\",\"t\":2000,\"changes\":{\"amp\":20,\"car\":2}}",
            "{\"type\":\"delta\",\"t\":4000,\"changes\":{\"amp\":24,\"car\":4}}",
        ]);
        let mut c = charger();
        let mut r = Replay::new(&t, c.profile(), START);
        r.begin(&mut c);
        assert_eq!(c.value("amp"), Some(&Value::Int(16)));
        r.step(&mut c, START.plus_ms(1999));
        assert_eq!(c.value("car"), Some(&Value::Int(1)));
        r.step(&mut c, START.plus_ms(2000));
        assert_eq!(c.value("amp"), Some(&Value::Int(20)));
        assert_eq!(c.value("car"), Some(&Value::Int(2)));
        r.written("amp");
        assert!(!r.owns("amp") && r.owns("car") && !r.owns("nrg"));
        r.step(&mut c, START.plus_ms(60_000));
        assert_eq!(
            c.value("amp"),
            Some(&Value::Int(20)),
            "the write's key stays"
        );
        assert_eq!(c.value("car"), Some(&Value::Int(4)), "the last state holds");
        // the clock keys follow the charger's clock, not the trace
        assert_ne!(c.value("rbt"), Some(&Value::Int(5)));
    }

    #[test]
    fn unknown_keys_are_refused_or_answered_as_recorded() {
        let t = trace(&[
            "{\"type\":\"answer\",\"t\":10,\"api\":\"http\",\"request\":{\"qrs\":1},\"status\":400,\"response\":{\"qrs\":\"Key not found\"}}",
            "{\"type\":\"answer\",\"t\":20,\"api\":\"http\",\"request\":{\"ok1\":1},\"status\":200,\"response\":{\"ok1\":true}}",
        ]);
        let r = Replay::new(&t, goe_keys::default_profile(), START);
        assert_eq!(r.unknown_key_answer("xyz"), Some(Err(SetError::NoSetter)));
        assert_eq!(
            r.unknown_key_answer("qrs"),
            Some(Err(SetError::Recorded("Key not found".into())))
        );
        assert_eq!(r.unknown_key_answer("ok1"), Some(Ok(())));
        assert_eq!(r.unknown_key_answer("amp"), None, "a key of the table");
    }

    #[test]
    fn the_nearest_firmware_is_chosen() {
        let fallback = goe_keys::default_profile();
        assert_eq!(nearest_profile(Some("55.6"), fallback).fwv, "56.2");
        assert_eq!(nearest_profile(Some("60.7"), fallback).fwv, "60.5");
        assert_eq!(nearest_profile(Some("40.0"), fallback).firmware.major, 51);
        assert!(std::ptr::eq(nearest_profile(None, fallback), fallback));
        assert!(std::ptr::eq(
            nearest_profile(Some("beta"), fallback),
            fallback
        ));
    }
}
