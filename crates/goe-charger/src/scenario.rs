//! Scenarios: a start configuration, timed events and assertions on keys, run
//! in-process on simulated time as fast as the machine allows
//! (`goe-charger run-scenario FILE`).
//!
//! No server, no sockets, no store: the charger boots with no stored values at
//! the scenario's start and is stepped one simulated second at a time. At every
//! second the run checks that no limit is exceeded (see [`check_limits`]).
//!
//! ```toml
//! name = "pv surplus"
//! start = "2024-06-03T00:00:00+02:00"   # RFC 3339; default 2024-06-03T00:00:00Z (a Monday)
//! seed = 1                               # default 0; `--seed` overrides
//! firmware = "056.2"                     # default: today's (060.5); `--firmware` overrides
//! duration = "24h"                       # or end = "+1d00:00"; default: the last event
//!
//! [config]                               # API writes before the run, in file order
//! lmo = 4
//! dwo = { json = "null" }                # raw JSON (TOML has no null)
//!
//! [[cars]]                               # custom car profiles (CarProfile fields)
//! name = "van"
//! capacity_wh = 60000
//! phases = 2
//! max_current_a = 16
//! taper_soc = 90
//!
//! [[event]]
//! at = "07:30"                           # local time on the first day; "+1d07:30" later
//! plug = { car = "van", soc = 20 }
//!
//! [[event]]
//! after = "2h"                           # relative to the start
//! within = "10m"                         # optional: the expectation must hold by then
//! expect = { car = 2, amp = { min = 6, max = 16 }, "nrg[11]" = { min = 1000 } }
//!
//! [[event]]
//! at = "09:00"
//! inverter = { every = "5s" }            # send `ids` from the meter every 5 s
//!
//! [[event]]
//! at = "09:20"
//! during = "10m"                         # the expectation holds at every second
//! expect = { acu = { min = 10, max = 11 } }
//! ```
//!
//! Actions (at most one per event): `plug = { car, soc }` (or `plug = true`),
//! `unplug = true`, `rfid = <slot>`, `button = true`, `grid = { pv, house,
//! battery }` (`battery` a fixed power), `battery = { capacity, soc, charge,
//! discharge, min_soc, max_soc }` (a home battery with its self-consumption
//! controller, as `/sim/battery`; `capacity = 0` removes it), `fault = <err>`, `temperature = <°C>`, `legacy-access = 0|2|3|"off"`,
//! `set = { key = value, … }`, `inverter = { every = "5s" }` (from then on,
//! every period, write `ids` as a home-energy bridge does: `pGrid` = house +
//! the charger's power now − PV − battery, `pPv`, `pAkku`; `inverter = false`
//! stops). The action runs first, then `expect` is checked
//! against `/api/status` as a client would read it; the logic reacts to an
//! action at the next simulated second. Checks: a scalar, array or object means
//! JSON equality (numbers compare by value); `during = "10m"` instead of
//! `within` requires the expectation at every simulated second from the event
//! for that long; `{ min, max }` a numeric range;
//! `{ in = [..] }` one of several values; `{ json = "…" }` a raw JSON value.
//! Keys take index and field suffixes: `nrg[11]`, `cll.requestedCurrent`.

use crate::profiles::Profiles;
use goe_engine::{CarProfile, Charger, DEFAULT_PROFILE, KeySet, SimTime};
use goe_keys::{KeyId, Value};
use serde::Deserialize;
use std::fmt::Write as _;
use std::path::Path;

/// Start of a scenario that names none: Monday 2024-06-03, 00:00 UTC.
pub const DEFAULT_START: &str = "2024-06-03T00:00:00Z";

/// Serial of the charger a scenario runs.
pub const SCENARIO_SERIAL: &str = "012345";

/// State of charge of a car plugged in without `soc`.
pub const DEFAULT_SOC: f64 = 20.0;

/// Tolerance on the current drawn above `acu` (A).
pub const CURRENT_TOLERANCE_A: f64 = 0.5;

const DAY_MS: i64 = 86_400_000;

/// A parsed scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Where simulated time begins.
    pub start: SimTime,
    /// Seed of the simulation.
    pub seed: u64,
    /// The firmware the charger runs (`firmware = "056.2"`, validated);
    /// `None`: the default firmware.
    pub firmware: Option<String>,
    /// API writes applied before the run: key and JSON text, in file order.
    pub config: Vec<(String, String)>,
    /// Custom car profiles.
    pub cars: Vec<CarProfile>,
    /// Events in file order.
    pub events: Vec<Event>,
    /// How long to run.
    pub end: End,
}

/// How long a scenario runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Until a local time (`end = "+1d00:00"`).
    At(TimeOfDay),
    /// For a duration after the start in ms (`duration = "24h"`).
    After(i64),
    /// Until the last event (and its `within` window).
    LastEvent,
}

/// A local simulated time: `day` days after the start's local date, at `secs`
/// seconds after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay {
    /// Days after the first day.
    pub day: i64,
    /// Seconds since local midnight.
    pub secs: i64,
}

/// When an event happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// At a local time (`at = "07:30"`).
    At(TimeOfDay),
    /// Milliseconds after the start (`after = "90s"`).
    After(i64),
}

/// One `[[event]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the file (1-based), for messages.
    pub number: usize,
    /// When it happens.
    pub when: When,
    /// Expectations must hold at some second within this many ms (else at once).
    pub within: Option<i64>,
    /// Expectations must hold at every second for this many ms from the event.
    pub during: Option<i64>,
    /// Free text shown in the timeline.
    pub note: Option<String>,
    /// What happens.
    pub action: Option<Action>,
    /// What must hold afterwards.
    pub expect: Vec<Expectation>,
}

/// A change to the world or the configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Plug in a car.
    Plug {
        /// Profile name (default [`DEFAULT_PROFILE`]).
        car: String,
        /// State of charge in percent.
        soc: f64,
    },
    /// Unplug the car.
    Unplug,
    /// Swipe the card of a slot.
    Rfid(usize),
    /// Press the button.
    Button,
    /// House meter and PV.
    Grid {
        /// PV production in W.
        pv: Option<f64>,
        /// House consumption in W.
        house: Option<f64>,
        /// Battery power in W.
        battery: Option<f64>,
    },
    /// Add, change or remove the home battery (`/sim/battery`).
    Battery(goe_engine::BatterySettings),
    /// Inject a fault.
    Fault(u8),
    /// Ambient temperature.
    Temperature(f64),
    /// Legacy access mode.
    LegacyAccess(Option<u8>),
    /// API writes: key and JSON text, in order.
    Set(Vec<(String, String)>),
    /// Send `ids` from the simulated meter every this many ms (`None`: stop).
    Inverter(Option<i64>),
}

/// One assertion on a key.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// The key path as written (`nrg[11]`).
    pub path: String,
    /// The key.
    pub key: String,
    /// Index and field steps into the key's value.
    pub steps: Vec<PathStep>,
    /// What must hold.
    pub check: Check,
}

/// A step into an array or object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// `[n]`
    Index(usize),
    /// `.field`
    Field(String),
}

/// What an expectation requires.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// JSON equality (numbers by value).
    Equals(serde_json::Value),
    /// A number within bounds (inclusive).
    Range {
        /// Lower bound.
        min: Option<f64>,
        /// Upper bound.
        max: Option<f64>,
    },
    /// Equal to one of these.
    OneOf(Vec<serde_json::Value>),
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Check::Equals(v) => write!(f, "{v}"),
            Check::Range { min, max } => match (min, max) {
                (Some(a), Some(b)) => write!(f, "in {a}..{b}"),
                (Some(a), None) => write!(f, ">= {a}"),
                (None, Some(b)) => write!(f, "<= {b}"),
                (None, None) => write!(f, "any number"),
            },
            Check::OneOf(list) => {
                let items: Vec<String> = list.iter().map(ToString::to_string).collect();
                write!(f, "one of {}", items.join(", "))
            }
        }
    }
}

impl Check {
    /// Whether `actual` (`None` = the path does not exist) satisfies the check.
    pub fn holds(&self, actual: Option<&serde_json::Value>) -> bool {
        let Some(actual) = actual else {
            return false;
        };
        match self {
            Check::Equals(want) => json_eq(actual, want),
            Check::OneOf(list) => list.iter().any(|want| json_eq(actual, want)),
            Check::Range { min, max } => actual
                .as_f64()
                .is_some_and(|n| min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)),
        }
    }
}

/// JSON equality where numbers compare by value (`12` equals `12.0`).
fn json_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------
// Parsing

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    description: Option<String>,
    start: Option<String>,
    seed: Option<u64>,
    firmware: Option<String>,
    #[allow(dead_code)]
    speed: Option<f64>,
    #[serde(default)]
    config: toml::Table,
    #[serde(default, alias = "car")]
    cars: Vec<CarProfile>,
    #[serde(default, alias = "events")]
    event: Vec<RawEvent>,
    end: Option<String>,
    duration: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    at: Option<String>,
    after: Option<toml::Value>,
    within: Option<toml::Value>,
    during: Option<toml::Value>,
    note: Option<String>,
    plug: Option<toml::Value>,
    unplug: Option<bool>,
    rfid: Option<i64>,
    button: Option<bool>,
    grid: Option<RawGrid>,
    battery: Option<RawBattery>,
    fault: Option<i64>,
    temperature: Option<f64>,
    #[serde(rename = "legacy-access", alias = "legacy_access")]
    legacy_access: Option<toml::Value>,
    set: Option<toml::Table>,
    inverter: Option<toml::Value>,
    expect: Option<toml::Table>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrid {
    pv: Option<f64>,
    house: Option<f64>,
    battery: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBattery {
    capacity: Option<f64>,
    soc: Option<f64>,
    charge: Option<f64>,
    discharge: Option<f64>,
    min_soc: Option<f64>,
    max_soc: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlug {
    car: Option<String>,
    soc: Option<f64>,
}

impl Scenario {
    /// Reads and parses a scenario file; errors name the file.
    pub fn load(path: &Path) -> Result<Scenario, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read scenario {}: {e}", path.display()))?;
        Scenario::parse(&text).map_err(|e| format!("bad scenario {}: {e}", path.display()))
    }

    /// Parses a scenario's TOML text.
    pub fn parse(text: &str) -> Result<Scenario, String> {
        let raw: RawScenario = toml::from_str(text).map_err(|e| e.to_string().trim().to_owned())?;
        let start_text = raw.start.as_deref().unwrap_or(DEFAULT_START);
        let start = parse_rfc3339(start_text).map_err(|e| format!("start: {e}"))?;
        let firmware = match &raw.firmware {
            Some(v) => Some(
                goe_keys::profile(v)
                    .map_err(|e| format!("firmware: {e}"))?
                    .firmware
                    .to_string(),
            ),
            None => None,
        };
        let config = raw
            .config
            .iter()
            .map(|(k, v)| writable_pair(k, v).map_err(|e| format!("config: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        for car in &raw.cars {
            car.validate().map_err(|e| format!("cars: {e}"))?;
        }
        let events = raw
            .event
            .iter()
            .enumerate()
            .map(|(i, e)| parse_event(i + 1, e).map_err(|msg| format!("event {}: {msg}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        let end = match (&raw.end, &raw.duration) {
            (Some(_), Some(_)) => return Err("give either end or duration, not both".into()),
            (Some(end), None) => End::At(parse_time_of_day(end).map_err(|e| format!("end: {e}"))?),
            (None, Some(d)) => {
                let ms = parse_duration(d).map_err(|e| format!("duration: {e}"))?;
                if ms <= 0 {
                    return Err("duration must be more than 0".into());
                }
                End::After(ms)
            }
            (None, None) if events.is_empty() => {
                return Err("a scenario needs events, an end or a duration".into());
            }
            (None, None) => End::LastEvent,
        };
        Ok(Scenario {
            name: raw.name,
            description: raw.description,
            start,
            seed: raw.seed.unwrap_or(0),
            firmware,
            config,
            cars: raw.cars,
            events,
            end,
        })
    }
}

/// Parses an RFC 3339 timestamp (`2024-06-03T06:00:00Z`, `…+02:00`).
pub fn parse_rfc3339(text: &str) -> Result<SimTime, String> {
    let ts: jiff::Timestamp = text
        .trim()
        .parse()
        .map_err(|e| format!("{text:?} is not an RFC 3339 time like 2024-06-03T06:00:00Z ({e})"))?;
    Ok(SimTime(ts.as_millisecond()))
}

fn parse_event(number: usize, raw: &RawEvent) -> Result<Event, String> {
    let when = match (&raw.at, &raw.after) {
        (Some(_), Some(_)) => return Err("give either at or after, not both".into()),
        (Some(at), None) => When::At(parse_time_of_day(at).map_err(|e| format!("at: {e}"))?),
        (None, Some(after)) => {
            let ms = parse_duration(after).map_err(|e| format!("after: {e}"))?;
            if ms < 0 {
                return Err("after must not be negative".into());
            }
            When::After(ms)
        }
        (None, None) => return Err("needs a time: at = \"07:30\" or after = \"90s\"".into()),
    };
    let within = raw
        .within
        .as_ref()
        .map(|w| parse_duration(w).map_err(|e| format!("within: {e}")))
        .transpose()?;
    let during = raw
        .during
        .as_ref()
        .map(|w| parse_duration(w).map_err(|e| format!("during: {e}")))
        .transpose()?;
    if within.is_some() && during.is_some() {
        return Err("give either within or during, not both".into());
    }
    let mut actions = Vec::new();
    if let Some(plug) = &raw.plug {
        actions.push(match plug {
            toml::Value::Boolean(true) => Action::Plug {
                car: DEFAULT_PROFILE.into(),
                soc: DEFAULT_SOC,
            },
            toml::Value::Table(t) => {
                let p: RawPlug = t
                    .clone()
                    .try_into()
                    .map_err(|e: toml::de::Error| format!("plug: {}", e.to_string().trim()))?;
                let soc = p.soc.unwrap_or(DEFAULT_SOC);
                if !(0.0..=100.0).contains(&soc) {
                    return Err(format!("plug: soc must be 0 to 100, got {soc}"));
                }
                Action::Plug {
                    car: p.car.unwrap_or_else(|| DEFAULT_PROFILE.into()),
                    soc,
                }
            }
            _ => return Err("plug must be true or { car = \"…\", soc = 20 }".into()),
        });
    }
    if let Some(flag) = raw.unplug {
        if !flag {
            return Err("unplug must be true".into());
        }
        actions.push(Action::Unplug);
    }
    if let Some(slot) = raw.rfid {
        if !(0..=9).contains(&slot) {
            return Err(format!("rfid must be a card slot 0 to 9, got {slot}"));
        }
        actions.push(Action::Rfid(slot as usize));
    }
    if let Some(flag) = raw.button {
        if !flag {
            return Err("button must be true".into());
        }
        actions.push(Action::Button);
    }
    if let Some(g) = &raw.grid {
        actions.push(Action::Grid {
            pv: g.pv,
            house: g.house,
            battery: g.battery,
        });
    }
    if let Some(b) = &raw.battery {
        actions.push(Action::Battery(goe_engine::BatterySettings {
            capacity_wh: b.capacity,
            soc: b.soc,
            max_charge_w: b.charge,
            max_discharge_w: b.discharge,
            min_soc: b.min_soc,
            max_soc: b.max_soc,
        }));
    }
    if let Some(err) = raw.fault {
        let err = u8::try_from(err).map_err(|_| format!("fault must be 0 to 255, got {err}"))?;
        actions.push(Action::Fault(err));
    }
    if let Some(c) = raw.temperature {
        actions.push(Action::Temperature(c));
    }
    if let Some(ast) = &raw.legacy_access {
        let ast = match ast {
            toml::Value::Integer(n @ (0 | 2 | 3)) => Some(*n as u8),
            toml::Value::String(s) if s == "off" => None,
            other => {
                return Err(format!(
                    "legacy-access must be 0, 2, 3 or \"off\", got {other}"
                ));
            }
        };
        actions.push(Action::LegacyAccess(ast));
    }
    if let Some(set) = &raw.set {
        if set.is_empty() {
            return Err("set needs at least one key".into());
        }
        let pairs = set
            .iter()
            .map(|(k, v)| writable_pair(k, v).map_err(|e| format!("set: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        actions.push(Action::Set(pairs));
    }
    if let Some(inverter) = &raw.inverter {
        let bad = || "inverter must be { every = \"5s\" } or false".to_owned();
        actions.push(match inverter {
            toml::Value::Boolean(false) => Action::Inverter(None),
            toml::Value::Table(t) if t.len() == 1 => {
                let every = t.get("every").ok_or_else(bad)?;
                let ms = parse_duration(every).map_err(|e| format!("inverter every: {e}"))?;
                if !(1000..=3_600_000).contains(&ms) || ms % 1000 != 0 {
                    return Err("inverter every must be whole seconds from 1 s to 1 h".into());
                }
                Action::Inverter(Some(ms))
            }
            _ => return Err(bad()),
        });
    }
    if actions.len() > 1 {
        return Err("has more than one action; use one event per action".into());
    }
    let expect = raw
        .expect
        .as_ref()
        .map(|t| {
            t.iter()
                .map(|(k, v)| parse_expectation(k, v).map_err(|e| format!("expect {k}: {e}")))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    if actions.is_empty() && expect.is_empty() {
        return Err("needs an action or an expect table".into());
    }
    if within.is_some() && expect.is_empty() {
        return Err("within needs an expect table".into());
    }
    if during.is_some() && expect.is_empty() {
        return Err("during needs an expect table".into());
    }
    Ok(Event {
        number,
        when,
        within,
        during,
        note: raw.note.clone(),
        action: actions.pop(),
        expect,
    })
}

/// `07:30`, `7:30:15`, `+1d07:30` (days after the first day).
pub fn parse_time_of_day(text: &str) -> Result<TimeOfDay, String> {
    let bad = || format!("{text:?} is not a time like \"07:30\", \"07:30:15\" or \"+1d07:30\"");
    let t = text.trim();
    let (day, clock) = match t.strip_prefix('+') {
        Some(rest) => {
            let (d, clock) = rest.split_once('d').ok_or_else(bad)?;
            (d.trim().parse::<i64>().map_err(|_| bad())?, clock.trim())
        }
        None => (0, t),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if !(2..=3).contains(&parts.len()) || !(0..=3660).contains(&day) {
        return Err(bad());
    }
    let num = |s: &str, max: i64| -> Result<i64, String> {
        if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: i64 = s.parse().map_err(|_| bad())?;
        if n > max { Err(bad()) } else { Ok(n) }
    };
    let h = num(parts[0], 23)?;
    let m = num(parts[1], 59)?;
    let s = parts.get(2).map(|s| num(s, 59)).transpose()?.unwrap_or(0);
    Ok(TimeOfDay {
        day,
        secs: h * 3600 + m * 60 + s,
    })
}

/// A duration: an integer (seconds) or text like `90s`, `2h`, `1h30m`, `1d`, `500ms`.
pub fn parse_duration(value: &toml::Value) -> Result<i64, String> {
    match value {
        toml::Value::Integer(s) => s
            .checked_mul(1000)
            .ok_or_else(|| format!("{s} seconds is too long")),
        toml::Value::String(text) => parse_duration_text(text),
        other => Err(format!(
            "{other} is not a duration like \"90s\", \"2h\" or \"1h30m\""
        )),
    }
}

fn parse_duration_text(text: &str) -> Result<i64, String> {
    let bad = || format!("{text:?} is not a duration like \"90s\", \"2h\" or \"1h30m\"");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let factor = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => DAY_MS,
            _ => return Err(bad()),
        };
        rest = rest[unit_len..].trim_start();
        total = n
            .checked_mul(factor)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    Ok(total)
}

/// Converts a TOML value to JSON; a table `{ json = "…" }` is raw JSON text.
pub fn toml_to_json(value: &toml::Value) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match value {
        toml::Value::String(s) => J::String(s.clone()),
        toml::Value::Integer(i) => J::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .ok_or_else(|| format!("{f} is not a JSON number"))?,
        toml::Value::Boolean(b) => J::Bool(*b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(items) => J::Array(
            items
                .iter()
                .map(toml_to_json)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        toml::Value::Table(t) => {
            if t.len() == 1
                && let Some(toml::Value::String(raw)) = t.get("json")
            {
                return serde_json::from_str(raw)
                    .map_err(|e| format!("json = {raw:?} is not valid JSON: {e}"));
            }
            J::Object(
                t.iter()
                    .map(|(k, v)| Ok((k.clone(), toml_to_json(v)?)))
                    .collect::<Result<serde_json::Map<_, _>, String>>()?,
            )
        }
    })
}

fn writable_pair(key: &str, value: &toml::Value) -> Result<(String, String), String> {
    let def = goe_keys::key(key).ok_or_else(|| format!("unknown key {key}"))?;
    if !def.access.writable() {
        return Err(format!("{key} is read-only"));
    }
    let json = toml_to_json(value).map_err(|e| format!("{key}: {e}"))?;
    Ok((key.to_owned(), json.to_string()))
}

fn parse_path(path: &str) -> Result<(String, Vec<PathStep>), String> {
    let bad = || format!("{path:?} is not a key path like amp, nrg[11] or cll.requestedCurrent");
    let end = path.find(['[', '.']).unwrap_or(path.len());
    let key = &path[..end];
    let def = goe_keys::key(key).ok_or_else(|| format!("unknown key {key}"))?;
    if !def.access.readable() {
        return Err(format!("{key} is write-only"));
    }
    let mut steps = Vec::new();
    let mut rest = &path[end..];
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']').ok_or_else(bad)?;
            let n: usize = r[..close].trim().parse().map_err(|_| bad())?;
            steps.push(PathStep::Index(n));
            rest = &r[close + 1..];
        } else if let Some(r) = rest.strip_prefix('.') {
            let len = r.find(['[', '.']).unwrap_or(r.len());
            if len == 0 {
                return Err(bad());
            }
            steps.push(PathStep::Field(r[..len].to_owned()));
            rest = &r[len..];
        } else {
            return Err(bad());
        }
    }
    Ok((key.to_owned(), steps))
}

fn parse_expectation(path: &str, value: &toml::Value) -> Result<Expectation, String> {
    let (key, steps) = parse_path(path)?;
    let check = match value {
        toml::Value::Table(t) if !t.is_empty() && t.keys().all(|k| k == "min" || k == "max") => {
            let bound = |name: &str| -> Result<Option<f64>, String> {
                match t.get(name) {
                    None => Ok(None),
                    Some(toml::Value::Integer(i)) => Ok(Some(*i as f64)),
                    Some(toml::Value::Float(f)) => Ok(Some(*f)),
                    Some(other) => Err(format!("{name} must be a number, got {other}")),
                }
            };
            let (min, max) = (bound("min")?, bound("max")?);
            if let (Some(a), Some(b)) = (min, max)
                && a > b
            {
                return Err(format!("min {a} is above max {b}"));
            }
            Check::Range { min, max }
        }
        toml::Value::Table(t) if t.len() == 1 && t.contains_key("in") => {
            let Some(toml::Value::Array(items)) = t.get("in") else {
                return Err("in must be an array of values".into());
            };
            if items.is_empty() {
                return Err("in needs at least one value".into());
            }
            Check::OneOf(items.iter().map(toml_to_json).collect::<Result<_, _>>()?)
        }
        other => Check::Equals(toml_to_json(other)?),
    };
    Ok(Expectation {
        path: path.to_owned(),
        key,
        steps,
        check,
    })
}

// ---------------------------------------------------------------------------
// Running

/// Options of a run beyond the scenario file.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed (`--seed`).
    pub seed: Option<u64>,
    /// Overrides the scenario's firmware (`--firmware`).
    pub firmware: Option<&'static goe_keys::Profile>,
    /// Extra custom profiles (`--cars`).
    pub profiles: Profiles,
    /// A bar over the simulated duration: the run sets its length to the
    /// simulated seconds from start to end and its position to the seconds
    /// done, every [`PROGRESS_EVERY_S`] simulated seconds and at the end; the
    /// caller creates, styles and finishes it. `None`: no progress.
    pub progress: Option<indicatif::ProgressBar>,
}

/// How often (in simulated seconds) a run moves [`RunOptions::progress`].
pub const PROGRESS_EVERY_S: i64 = 1024;

/// What went wrong in a run.
#[derive(Debug, Clone, PartialEq)]
pub enum FailureKind {
    /// The scenario could not be set up (configuration, times, profiles).
    Setup,
    /// An action was refused.
    Action,
    /// An expectation did not hold.
    Expectation {
        /// The key path.
        key: String,
        /// What was expected.
        expected: String,
        /// What the charger showed (`<missing>` when the path does not exist).
        got: String,
    },
    /// A limit was exceeded.
    Invariant,
}

/// One failure of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Simulated local time (`07:30:00`, `+1d07:30:00`).
    pub time: String,
    /// What failed.
    pub kind: FailureKind,
    /// The complete message.
    pub message: String,
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// Scenario name.
    pub name: String,
    /// The timeline, one line per event, assertion and failure.
    pub lines: Vec<String>,
    /// Failures (empty = passed).
    pub failures: Vec<Failure>,
    /// Assertions evaluated.
    pub checks: usize,
    /// Simulated seconds stepped.
    pub seconds: i64,
}

impl Report {
    /// Whether every assertion held and no limit was exceeded.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The closing line.
    pub fn summary(&self) -> String {
        let duration = format_duration(self.seconds * 1000);
        match self.failures.first() {
            None => format!(
                "PASS {}: {} checks held, no limit exceeded, {} simulated",
                self.name, self.checks, duration
            ),
            Some(first) => format!(
                "FAIL {}: {} failure(s) in {} checks over {} simulated; first at {}: {}",
                self.name,
                self.failures.len(),
                self.checks,
                duration,
                first.time,
                first.message
            ),
        }
    }
}

fn format_duration(ms: i64) -> String {
    let s = ms / 1000;
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    let mut out = String::new();
    if d > 0 {
        let _ = write!(out, "{d}d");
    }
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if m > 0 {
        let _ = write!(out, "{m}m");
    }
    if sec > 0 || out.is_empty() {
        let _ = write!(out, "{sec}s");
    }
    out
}

/// Ids of the keys the limit check reads.
#[derive(Debug, Clone, Copy)]
struct LimitIds {
    alw: KeyId,
    acu: KeyId,
    cll: KeyId,
    nrg: KeyId,
}

impl LimitIds {
    fn resolve() -> Option<LimitIds> {
        Some(LimitIds {
            alw: goe_keys::key_id("alw")?,
            acu: goe_keys::key_id("acu")?,
            cll: goe_keys::key_id("cll")?,
            nrg: goe_keys::key_id("nrg")?,
        })
    }
}

/// The current a car may draw now: `acu` while `alw`, else 0.
fn offered_current(charger: &Charger, ids: LimitIds) -> f64 {
    let alw = charger.value_by_id(ids.alw).as_bool().unwrap_or(false);
    match charger.value_by_id(ids.acu).as_f64() {
        Some(acu) if alw => acu,
        _ => 0.0,
    }
}

/// The invariant "no limit exceeded" at one second: `acu` (when not null) is at
/// most every numeric field of `cll` except `minChargingCurrent`, and the
/// current drawn (the largest of `nrg[4..7]`) is at most the current offered
/// now or a second ago (`acu` while `alw`, else 0) plus
/// [`CURRENT_TOLERANCE_A`]. Returns what is violated.
pub fn check_limits(charger: &Charger, previous_offer: f64) -> Result<(), String> {
    let Some(ids) = LimitIds::resolve() else {
        return Ok(());
    };
    check_limits_with(charger, ids, previous_offer)
}

fn check_limits_with(charger: &Charger, ids: LimitIds, previous_offer: f64) -> Result<(), String> {
    if let Some(acu) = charger.value_by_id(ids.acu).as_f64()
        && let Value::Object(limits) = charger.value_by_id(ids.cll)
    {
        for (name, limit) in limits {
            if name == "minChargingCurrent" {
                continue;
            }
            if let Some(limit) = limit.as_f64()
                && acu > limit + 1e-9
            {
                return Err(format!(
                    "acu {acu} A exceeds the limit cll.{name} = {limit} A"
                ));
            }
        }
    }
    if let Value::Array(nrg) = charger.value_by_id(ids.nrg) {
        let drawn = nrg
            .iter()
            .skip(4)
            .take(3)
            .filter_map(Value::as_f64)
            .fold(0.0_f64, f64::max);
        let offer = offered_current(charger, ids);
        let allowed = offer.max(previous_offer) + CURRENT_TOLERANCE_A;
        if drawn > allowed + 1e-9 {
            return Err(format!(
                "the car draws {drawn} A but only {} A is offered (acu {}, alw {}; a second ago {previous_offer} A) plus {CURRENT_TOLERANCE_A} A tolerance",
                offer.max(previous_offer),
                charger.value_by_id(ids.acu).to_json(),
                charger.value_by_id(ids.alw).to_json(),
            ));
        }
    }
    Ok(())
}

/// Local wall-clock arithmetic for the charger's `tof`/`tds`.
#[derive(Debug, Clone, Copy)]
struct LocalClock {
    tof: i64,
    tds: i64,
    /// Local midnight of the first day, as local ms.
    day0_local_ms: i64,
}

impl LocalClock {
    fn new(charger: &Charger, start: SimTime) -> LocalClock {
        let int = |k: &str| charger.value(k).and_then(Value::as_i64).unwrap_or(0);
        let (tof, tds) = (int("tof"), int("tds"));
        let local = start.millis() + Self::offset_ms(start.millis(), tof, tds);
        LocalClock {
            tof,
            tds,
            day0_local_ms: local.div_euclid(DAY_MS) * DAY_MS,
        }
    }

    fn offset_ms(utc_ms: i64, tof: i64, tds: i64) -> i64 {
        goe_engine::clock::local_offset_minutes(utc_ms, tof, tds) * 60_000
    }

    /// Simulated time of a local time of day.
    fn resolve(&self, t: TimeOfDay) -> SimTime {
        let local = self.day0_local_ms + t.day * DAY_MS + t.secs * 1000;
        let guess = local - self.tof * 60_000;
        let utc = local - Self::offset_ms(guess, self.tof, self.tds);
        SimTime(local - Self::offset_ms(utc, self.tof, self.tds))
    }

    /// `07:30:00` on the first day, `+1d07:30:00` later (the `at` syntax).
    fn label(&self, now: SimTime) -> String {
        let local = now.millis() + Self::offset_ms(now.millis(), self.tof, self.tds);
        let since = local - self.day0_local_ms;
        let (day, ms) = (since.div_euclid(DAY_MS), since.rem_euclid(DAY_MS));
        let s = ms / 1000;
        let clock = format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
        if day == 0 {
            clock
        } else {
            format!("+{day}d{clock}")
        }
    }
}

/// A rendered key value as a client sees it, navigated along `steps`.
fn observed(charger: &mut Charger, now: SimTime, exp: &Expectation) -> Option<serde_json::Value> {
    let kid = goe_keys::key_id(&exp.key)?;
    let mut set = KeySet::new();
    set.insert(kid);
    let mut out = String::new();
    charger.write_status(now, Some(&set), &mut out);
    let status: serde_json::Value = serde_json::from_str(&out).ok()?;
    let mut value = status.get(&exp.key)?.clone();
    for step in &exp.steps {
        value = match step {
            PathStep::Index(i) => value.get(*i)?.clone(),
            PathStep::Field(f) => value.get(f.as_str())?.clone(),
        };
    }
    Some(value)
}

fn show(value: Option<&serde_json::Value>) -> String {
    match value {
        None => "<missing>".into(),
        Some(v) => {
            let text = v.to_string();
            if text.chars().count() > 80 {
                let short: String = text.chars().take(77).collect();
                format!("{short}...")
            } else {
                text
            }
        }
    }
}

fn describe(action: &Action) -> String {
    match action {
        Action::Plug { car, soc } => format!("plug {car} at {soc} % SoC"),
        Action::Unplug => "unplug".into(),
        Action::Rfid(slot) => format!("swipe RFID card {slot}"),
        Action::Button => "press the button".into(),
        Action::Grid { pv, house, battery } => {
            let mut parts = Vec::new();
            for (name, v) in [("pv", pv), ("house", house), ("battery", battery)] {
                if let Some(v) = v {
                    parts.push(format!("{name} {v} W"));
                }
            }
            format!("grid {}", parts.join(", "))
        }
        Action::Battery(b) => {
            let mut parts = Vec::new();
            for (name, v, unit) in [
                ("capacity", b.capacity_wh, "Wh"),
                ("soc", b.soc, "%"),
                ("charge", b.max_charge_w, "W"),
                ("discharge", b.max_discharge_w, "W"),
                ("min_soc", b.min_soc, "%"),
                ("max_soc", b.max_soc, "%"),
            ] {
                if let Some(v) = v {
                    parts.push(format!("{name} {v} {unit}"));
                }
            }
            format!("home battery {}", parts.join(", "))
        }
        Action::Fault(err) => format!("fault err={err}"),
        Action::Temperature(c) => format!("ambient {c} °C"),
        Action::LegacyAccess(Some(a)) => format!("legacy access ast={a}"),
        Action::LegacyAccess(None) => "legacy access off".into(),
        Action::Set(pairs) => {
            let parts: Vec<String> = pairs
                .iter()
                .map(|(k, v)| {
                    if v.chars().count() > 60 {
                        let short: String = v.chars().take(57).collect();
                        format!("{k}={short}...")
                    } else {
                        format!("{k}={v}")
                    }
                })
                .collect();
            format!("set {}", parts.join(" "))
        }
        Action::Inverter(Some(ms)) => format!("inverter data (ids) every {}", format_duration(*ms)),
        Action::Inverter(None) => "inverter data (ids) off".into(),
    }
}

/// An expectation that must hold at every second until `until` (`during`).
struct Holding {
    event: usize,
    expectation: Expectation,
    since: SimTime,
    until: SimTime,
}

/// `ids` sent from the simulated meter every `every` ms, next at `next`.
#[derive(Debug, Clone, Copy)]
struct Inverter {
    every: i64,
    next: SimTime,
}

/// Writes `ids` as a home-energy bridge does: what the meter sees now.
fn send_inverter_data(charger: &mut Charger, now: SimTime) -> Result<(), String> {
    let state = charger.sim_state(now);
    let g = state.grid;
    let pgrid = g.house_w + state.power_w - g.pv_w - g.battery_w;
    let json = serde_json::json!({ "pGrid": pgrid, "pPv": g.pv_w, "pAkku": g.battery_w });
    let text = json.to_string();
    charger
        .set(now, "ids", &text)
        .map(|_| ())
        .map_err(|e| e.http_text("ids", &text))
}

/// An expectation waiting for its `within` window.
struct Pending {
    event: usize,
    expectation: Expectation,
    since: SimTime,
    deadline: SimTime,
}

struct Run<'a> {
    report: Report,
    on_line: &'a mut dyn FnMut(&str),
}

impl Run<'_> {
    fn line(&mut self, text: String) {
        (self.on_line)(&text);
        self.report.lines.push(text);
    }

    fn fail(&mut self, time: String, kind: FailureKind, message: String) {
        self.line(format!("{time:>12}  FAIL {message}"));
        self.report.failures.push(Failure {
            time,
            kind,
            message,
        });
    }
}

/// Runs `scenario` and returns its report.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Report {
    run_with(scenario, options, &mut |_| {})
}

/// Runs `scenario`, passing each timeline line to `on_line` as it happens.
pub fn run_with(
    scenario: &Scenario,
    options: &RunOptions,
    on_line: &mut dyn FnMut(&str),
) -> Report {
    let mut run = Run {
        report: Report {
            name: scenario.name.clone(),
            ..Report::default()
        },
        on_line,
    };
    let seed = options.seed.unwrap_or(scenario.seed);
    let start = scenario.start;
    let setup = |run: &mut Run<'_>, msg: String| {
        run.fail("setup".into(), FailureKind::Setup, msg);
        let summary = run.report.summary();
        run.line(summary);
    };
    let mut profiles = options.profiles.clone();
    for car in &scenario.cars {
        if let Err(e) = profiles.add(car.clone()) {
            setup(&mut run, format!("cars: {e}"));
            return run.report;
        }
    }
    let Some(ids) = LimitIds::resolve() else {
        setup(&mut run, "the key table lacks alw/acu/cll/nrg".into());
        return run.report;
    };
    let profile = match (options.firmware, &scenario.firmware) {
        (Some(p), _) => p,
        (None, Some(v)) => match goe_keys::profile(v) {
            Ok(p) => p,
            Err(e) => {
                setup(&mut run, format!("firmware: {e}"));
                return run.report;
            }
        },
        (None, None) => goe_keys::default_profile(),
    };
    let mut charger = match Charger::boot_on(profile, SCENARIO_SERIAL, None, start, seed) {
        Ok(c) => c,
        Err(e) => {
            setup(&mut run, format!("boot: {e}"));
            return run.report;
        }
    };
    for (key, json) in &scenario.config {
        match charger.set(start, key, json) {
            Ok(outcome) if outcome.restart => charger.restart(start),
            Ok(_) => {}
            Err(e) => {
                setup(&mut run, format!("config: {}", e.http_text(key, json)));
                return run.report;
            }
        }
    }
    let clock = LocalClock::new(&charger, start);
    // resolve event times; stable order for equal times
    let mut timed: Vec<(SimTime, &Event)> = scenario
        .events
        .iter()
        .map(|e| {
            let at = match e.when {
                When::At(t) => clock.resolve(t),
                When::After(ms) => start.plus_ms(ms),
            };
            (at, e)
        })
        .collect();
    timed.sort_by_key(|(at, _)| *at);
    let end = match scenario.end {
        End::At(t) => clock.resolve(t),
        End::After(ms) => start.plus_ms(ms),
        End::LastEvent => timed
            .iter()
            .map(|(at, e)| at.plus_ms(e.within.or(e.during).unwrap_or(0)))
            .max()
            .unwrap_or(start),
    };
    if end < start {
        setup(
            &mut run,
            format!("the end {} is before the start", clock.label(end)),
        );
        return run.report;
    }
    for (at, e) in &timed {
        if *at < start || *at > end {
            let which = if *at < start {
                "before the start"
            } else {
                "after the end"
            };
            setup(
                &mut run,
                format!(
                    "event {} at {} is {which} ({} .. {})",
                    e.number,
                    clock.label(*at),
                    clock.label(start),
                    clock.label(end)
                ),
            );
            return run.report;
        }
    }
    let progress = options.progress.as_ref();
    if let Some(bar) = progress {
        bar.set_length(((end.millis() - start.millis()) / 1000).unsigned_abs());
    }
    let start_text = jiff::Timestamp::from_millisecond(start.millis())
        .map(|t| t.to_string())
        .unwrap_or_default();
    let weekday = jiff::Timestamp::from_millisecond(
        start.millis() + LocalClock::offset_ms(start.millis(), clock.tof, clock.tds),
    )
    .map(|t| format!("{:?}", jiff::tz::Offset::UTC.to_datetime(t).weekday()))
    .unwrap_or_default();
    run.line(format!(
        "scenario {}: start {start_text} (local {} {weekday}, tof {} tds {}), seed {seed}, until {}",
        scenario.name,
        clock.label(start),
        clock.tof,
        clock.tds,
        clock.label(end)
    ));
    if let Some(d) = &scenario.description {
        run.line(format!("  {}", d.trim()));
    }

    let mut now = start;
    let mut next_event = 0;
    let mut pending: Vec<Pending> = Vec::new();
    let mut holding: Vec<Holding> = Vec::new();
    let mut inverter: Option<Inverter> = None;
    let _ = charger.step(now); // no store: nothing to persist
    let mut previous_offer = offered_current(&charger, ids);
    loop {
        let label = clock.label(now);
        if let Err(msg) = check_limits_with(&charger, ids, previous_offer) {
            run.fail(
                label,
                FailureKind::Invariant,
                format!("limit exceeded at {}: {msg}", clock.label(now)),
            );
            break;
        }
        previous_offer = offered_current(&charger, ids);
        // expectations waiting for their window
        let mut still = Vec::with_capacity(pending.len());
        for p in pending.drain(..) {
            let got = observed(&mut charger, now, &p.expectation);
            if p.expectation.check.holds(got.as_ref()) {
                run.report.checks += 1;
                run.line(format!(
                    "{label:>12}    {} = {} reached (event {}, after {})",
                    p.expectation.path,
                    show(got.as_ref()),
                    p.event,
                    format_duration(now.millis() - p.since.millis())
                ));
            } else if now >= p.deadline {
                run.report.checks += 1;
                let expected = p.expectation.check.to_string();
                let got = show(got.as_ref());
                run.fail(
                    label.clone(),
                    FailureKind::Expectation {
                        key: p.expectation.path.clone(),
                        expected: expected.clone(),
                        got: got.clone(),
                    },
                    format!(
                        "event {}: {} expected {expected} within {} from {}, got {got} at {label}",
                        p.event,
                        p.expectation.path,
                        format_duration(p.deadline.millis() - p.since.millis()),
                        clock.label(p.since)
                    ),
                );
            } else {
                still.push(p);
            }
        }
        pending = still;
        // expectations that must hold at every second
        let mut still = Vec::with_capacity(holding.len());
        for h in holding.drain(..) {
            let got = observed(&mut charger, now, &h.expectation);
            if !h.expectation.check.holds(got.as_ref()) {
                run.report.checks += 1;
                let expected = h.expectation.check.to_string();
                let got = show(got.as_ref());
                run.fail(
                    label.clone(),
                    FailureKind::Expectation {
                        key: h.expectation.path.clone(),
                        expected: expected.clone(),
                        got: got.clone(),
                    },
                    format!(
                        "event {}: {} expected {expected} during {} from {}, got {got} at {label}",
                        h.event,
                        h.expectation.path,
                        format_duration(h.until.millis() - h.since.millis()),
                        clock.label(h.since)
                    ),
                );
            } else if now >= h.until {
                run.report.checks += 1;
                run.line(format!(
                    "{label:>12}    {} held for {} (event {})",
                    h.expectation.path,
                    format_duration(h.until.millis() - h.since.millis()),
                    h.event
                ));
            } else {
                still.push(h);
            }
        }
        holding = still;
        // events due now
        while let Some(&(at, event)) = timed.get(next_event) {
            if at > now {
                break;
            }
            next_event += 1;
            if let Some(Action::Inverter(every)) = event.action {
                inverter = every.map(|every| Inverter { every, next: now });
            }
            process_event(
                &mut run,
                &mut charger,
                &profiles,
                now,
                &label,
                event,
                &mut pending,
                &mut holding,
            );
        }
        if let Some(inv) = inverter.as_mut()
            && now >= inv.next
        {
            inv.next = now.plus_ms(inv.every);
            if let Err(e) = send_inverter_data(&mut charger, now) {
                run.fail(
                    label.clone(),
                    FailureKind::Action,
                    format!("ids refused: {e}"),
                );
                inverter = None;
            }
        }
        if now >= end {
            break;
        }
        now = now.plus_ms(1000).min(end);
        let _ = charger.step(now);
        run.report.seconds = (now.millis() - start.millis()) / 1000;
        if let Some(bar) = progress
            && run.report.seconds % PROGRESS_EVERY_S == 0
        {
            bar.set_position(run.report.seconds.unsigned_abs());
        }
    }
    if let Some(bar) = progress {
        bar.set_position(run.report.seconds.unsigned_abs());
    }
    for h in holding.drain(..) {
        run.report.checks += 1;
        let label = clock.label(now);
        run.fail(
            label.clone(),
            FailureKind::Expectation {
                key: h.expectation.path.clone(),
                expected: h.expectation.check.to_string(),
                got: "<run ended>".into(),
            },
            format!(
                "event {}: {} had to hold until {}, but the run ended at {label}",
                h.event,
                h.expectation.path,
                clock.label(h.until)
            ),
        );
    }
    for p in pending.drain(..) {
        run.report.checks += 1;
        let got = observed(&mut charger, now, &p.expectation);
        let expected = p.expectation.check.to_string();
        let got = show(got.as_ref());
        let label = clock.label(now);
        run.fail(
            label.clone(),
            FailureKind::Expectation {
                key: p.expectation.path.clone(),
                expected: expected.clone(),
                got: got.clone(),
            },
            format!(
                "event {}: {} expected {expected} within {} from {}, got {got} when the run ended at {label}",
                p.event,
                p.expectation.path,
                format_duration(p.deadline.millis() - p.since.millis()),
                clock.label(p.since)
            ),
        );
    }
    let summary = run.report.summary();
    run.line(summary);
    run.report
}

#[allow(clippy::too_many_arguments)] // the run loop's state, passed apart
fn process_event(
    run: &mut Run<'_>,
    charger: &mut Charger,
    profiles: &Profiles,
    now: SimTime,
    label: &str,
    event: &Event,
    pending: &mut Vec<Pending>,
    holding: &mut Vec<Holding>,
) {
    if let Some(note) = &event.note {
        run.line(format!("{label:>12}  # {note}"));
    }
    if let Some(action) = &event.action {
        let result = apply(charger, profiles, now, action);
        match result {
            Ok(()) => run.line(format!("{label:>12}  {}", describe(action))),
            Err(e) => {
                run.fail(
                    label.to_owned(),
                    FailureKind::Action,
                    format!("event {}: {} failed: {e}", event.number, describe(action)),
                );
            }
        }
    }
    for exp in &event.expect {
        let got = observed(charger, now, exp);
        if let Some(during) = event.during {
            run.line(format!(
                "{label:>12}  expect {} {} during {}",
                exp.path,
                exp.check,
                format_duration(during)
            ));
            holding.push(Holding {
                event: event.number,
                expectation: exp.clone(),
                since: now,
                until: now.plus_ms(during),
            });
            continue;
        }
        if let Some(within) = event.within {
            if exp.check.holds(got.as_ref()) {
                run.report.checks += 1;
                run.line(format!(
                    "{label:>12}  expect {} {} within {}: ok ({})",
                    exp.path,
                    exp.check,
                    format_duration(within),
                    show(got.as_ref())
                ));
            } else {
                run.line(format!(
                    "{label:>12}  expect {} {} within {}: waiting (now {})",
                    exp.path,
                    exp.check,
                    format_duration(within),
                    show(got.as_ref())
                ));
                pending.push(Pending {
                    event: event.number,
                    expectation: exp.clone(),
                    since: now,
                    deadline: now.plus_ms(within),
                });
            }
            continue;
        }
        run.report.checks += 1;
        if exp.check.holds(got.as_ref()) {
            run.line(format!(
                "{label:>12}  expect {} {}: ok ({})",
                exp.path,
                exp.check,
                show(got.as_ref())
            ));
        } else {
            let expected = exp.check.to_string();
            let got = show(got.as_ref());
            run.fail(
                label.to_owned(),
                FailureKind::Expectation {
                    key: exp.path.clone(),
                    expected: expected.clone(),
                    got: got.clone(),
                },
                format!(
                    "event {}: {} expected {expected}, got {got} at {label}",
                    event.number, exp.path
                ),
            );
        }
    }
}

fn apply(
    charger: &mut Charger,
    profiles: &Profiles,
    now: SimTime,
    action: &Action,
) -> Result<(), String> {
    let sim = |r: Result<(), goe_engine::SimError>| r.map_err(|e| e.to_string());
    match action {
        Action::Plug { car, soc } => {
            let profile = profiles.get(car)?;
            sim(charger.plug(now, profile, *soc))
        }
        Action::Unplug => sim(charger.unplug(now)),
        Action::Rfid(slot) => sim(charger.swipe_card(now, *slot)),
        Action::Button => {
            charger.press_button(now);
            Ok(())
        }
        Action::Grid { pv, house, battery } => sim(charger.set_grid(now, *pv, *house, *battery)),
        Action::Battery(settings) => sim(charger.set_battery(now, settings)),
        Action::Fault(err) => sim(charger.inject_fault(now, *err)),
        Action::Temperature(c) => sim(charger.set_ambient(now, *c)),
        Action::LegacyAccess(ast) => sim(charger.set_legacy_access(now, *ast)),
        // the run loop sends the data (it keeps the period)
        Action::Inverter(_) => Ok(()),
        Action::Set(pairs) => {
            for (key, json) in pairs {
                match charger.set(now, key, json) {
                    Ok(outcome) if outcome.restart => charger.restart(now),
                    Ok(_) => {}
                    Err(e) => return Err(e.http_text(key, json)),
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_durations() {
        assert_eq!(
            parse_time_of_day("07:30").unwrap(),
            TimeOfDay {
                day: 0,
                secs: 27_000
            }
        );
        assert_eq!(
            parse_time_of_day("+1d00:00:05").unwrap(),
            TimeOfDay { day: 1, secs: 5 }
        );
        assert!(parse_time_of_day("24:00").is_err());
        assert!(parse_time_of_day("7h").is_err());
        let d = |s: &str| parse_duration(&toml::Value::String(s.into()));
        assert_eq!(d("90s"), Ok(90_000));
        assert_eq!(d("1h30m"), Ok(5_400_000));
        assert_eq!(d("1d 2h"), Ok(DAY_MS + 7_200_000));
        assert_eq!(d("250ms"), Ok(250));
        assert!(d("2 hours").is_err());
        assert!(d("").is_err());
        assert_eq!(parse_duration(&toml::Value::Integer(5)), Ok(5000));
        assert_eq!(format_duration(DAY_MS + 61_000), "1d1m1s");
    }

    #[test]
    fn parses_a_scenario() {
        let s = Scenario::parse(
            r#"
            name = "t"
            seed = 7
            duration = "2h"
            [config]
            amp = 10
            dwo = { json = "null" }
            [[event]]
            at = "01:00"
            plug = { car = "ev-1p-16a" }
            [[event]]
            after = "90m"
            within = "5m"
            expect = { car = { in = [2, 3] }, "nrg[11]" = { min = 0 }, "cll.requestedCurrent" = 10, modelStatus = 15 }
            "#,
        )
        .unwrap();
        assert_eq!(s.seed, 7);
        assert_eq!(
            s.config,
            vec![("amp".into(), "10".into()), ("dwo".into(), "null".into())]
        );
        assert_eq!(s.end, End::After(7_200_000));
        assert_eq!(
            s.events[0].action,
            Some(Action::Plug {
                car: "ev-1p-16a".into(),
                soc: DEFAULT_SOC
            })
        );
        let exp = &s.events[1].expect;
        assert_eq!(exp.len(), 4);
        assert_eq!(exp[1].steps, vec![PathStep::Index(11)]);
        assert_eq!(
            exp[2].steps,
            vec![PathStep::Field("requestedCurrent".into())]
        );
        assert!(matches!(exp[0].check, Check::OneOf(_)));
        assert!(exp[3].check.holds(Some(&serde_json::json!(15.0))));
    }

    #[test]
    fn the_firmware_field_picks_the_profile() {
        // rfb is a key of the 2021 firmware only
        let text =
            "name = \"fw\"\nfirmware = \"51.4\"\n[[event]]\nafter = 1\nexpect = { rfb = 0 }\n";
        let s = Scenario::parse(text).unwrap();
        assert_eq!(s.firmware.as_deref(), Some("051.4"));
        assert!(run(&s, &RunOptions::default()).passed());
        // --firmware overrides the file; today's firmware has no rfb
        let newer = RunOptions {
            firmware: Some(goe_keys::default_profile()),
            ..RunOptions::default()
        };
        assert!(!run(&s, &newer).passed());
        let plain = Scenario::parse(&text.replace("firmware = \"51.4\"\n", "")).unwrap();
        assert_eq!(plain.firmware, None);
        assert!(!run(&plain, &RunOptions::default()).passed());
        let err = Scenario::parse(&text.replace("51.4", "57.0")).unwrap_err();
        assert!(err.contains("firmware") && err.contains("060.5"), "{err}");
    }

    /// `inverter` sends `ids` from the meter periodically; `during` requires
    /// an expectation at every second of its window and fails at the first
    /// second it does not hold.
    #[test]
    fn inverter_data_and_during() {
        let text = |band: &str| {
            format!(
                "name = \"ids\"\nduration = \"2m\"\n\
                 [[event]]\nafter = 0\ngrid = {{ pv = 3000, house = 500 }}\n\
                 [[event]]\nafter = 0\ninverter = {{ every = \"5s\" }}\n\
                 [[event]]\nafter = \"30s\"\nduring = \"1m\"\nexpect = {{ pgrid = {band}, inva = {{ min = 0, max = 5000 }} }}\n"
            )
        };
        let s = Scenario::parse(&text("-2500")).unwrap();
        assert_eq!(s.events[1].action, Some(Action::Inverter(Some(5000))));
        assert_eq!(s.events[2].during, Some(60_000));
        let report = run(&s, &RunOptions::default());
        assert!(report.passed(), "{:#?}", report.lines);
        assert!(report.lines.iter().any(|l| l.contains("held for 1m")));
        let report = run(
            &Scenario::parse(&text("-2400")).unwrap(),
            &RunOptions::default(),
        );
        assert_eq!(report.failures.len(), 1, "{:#?}", report.lines);
        assert_eq!(report.failures[0].time, "02:00:31"); // local time (tof 60, tds 1)
        let err = |t: &str| Scenario::parse(t).unwrap_err();
        let bad = "name = \"x\"\n[[event]]\nafter = 0\ninverter = { every = \"1500ms\" }\n";
        assert!(err(bad).contains("whole seconds"));
        let both =
            "name = \"x\"\n[[event]]\nafter = 0\nwithin = 5\nduring = 5\nexpect = { car = 1 }\n";
        assert!(err(both).contains("either within or during"));
    }

    /// `battery = {…}` adds the home battery (#13); unknown fields are refused
    /// when parsing, bad values when the action runs.
    #[test]
    fn home_battery_action() {
        let text = "name = \"bat\"\nduration = \"1m\"\n\
                    [[event]]\nafter = 0\ngrid = { pv = 3000, house = 500 }\n\
                    [[event]]\nafter = 0\nbattery = { capacity = 5000, soc = 40, charge = 2000 }\n\
                    [[event]]\nafter = \"10s\"\nduring = \"30s\"\nexpect = { pakku = -2000, pgrid = -500 }\n";
        let s = Scenario::parse(text).unwrap();
        let Some(Action::Battery(b)) = s.events[1].action else {
            panic!("{:?}", s.events[1].action);
        };
        assert_eq!(
            (b.capacity_wh, b.soc, b.max_charge_w),
            (Some(5000.0), Some(40.0), Some(2000.0))
        );
        let report = run(&s, &RunOptions::default());
        assert!(report.passed(), "{:#?}", report.lines);
        assert!(
            report
                .lines
                .iter()
                .any(|l| l.contains("home battery capacity 5000 Wh"))
        );
        let err = Scenario::parse("name = \"x\"\n[[event]]\nafter = 0\nbattery = { volts = 48 }\n")
            .unwrap_err();
        assert!(err.contains("volts"), "{err}");
        let missing =
            Scenario::parse("name = \"x\"\n[[event]]\nafter = 0\nbattery = { soc = 50 }\n")
                .unwrap();
        let report = run(&missing, &RunOptions::default());
        assert!(!report.passed());
        assert!(
            report.lines.iter().any(|l| l.contains("capacity")),
            "{:#?}",
            report.lines
        );
    }

    #[test]
    fn parse_errors_are_clear() {
        let err = |text: &str| Scenario::parse(text).unwrap_err();
        assert!(err("name = \"x\"\n").contains("needs events"));
        assert!(err("name = \"x\"\n[[event]]\nat = \"7\"\nbutton = true\n").contains("at:"));
        assert!(
            err("name = \"x\"\n[[event]]\nat = \"07:00\"\nbutton = true\nunplug = true\n")
                .contains("more than one action")
        );
        assert!(
            err("name = \"x\"\n[[event]]\nat = \"07:00\"\nexpect = { nope = 1 }\n")
                .contains("unknown key nope")
        );
        assert!(err("name = \"x\"\n[config]\nrbt = 1\n").contains("read-only"));
        assert!(err("name = \"x\"\nbogus = 1\n").contains("bogus"));
        assert!(err("name = \"x\"\nstart = \"yesterday\"\nduration = 5\n").contains("RFC 3339"));
    }

    #[test]
    fn runs_on_the_engine_without_sockets() {
        let s = Scenario::parse(
            r#"
            name = "tiny"
            start = "2024-06-03T06:00:00Z"
            duration = "10m"
            [[event]]
            after = "0s"
            expect = { rbt = 3000 }
            [[event]]
            after = "5m"
            expect = { rbt = 303000, utc = "2024-06-03T06:05:00.000" }
            [[event]]
            at = "08:10"
            expect = { "nrg[11]" = { min = 0 }, rbt = { min = 603000, max = 603000 } }
            "#,
        )
        .unwrap();
        let mut lines = Vec::new();
        let report = run_with(&s, &RunOptions::default(), &mut |l| {
            lines.push(l.to_owned())
        });
        assert!(report.passed(), "{:#?}", report.lines);
        assert_eq!(report.checks, 5);
        assert_eq!(report.seconds, 600);
        assert_eq!(lines, report.lines);
        assert!(
            report.lines[0].contains("local 08:00:00 Monday"),
            "{}",
            report.lines[0]
        );
        assert!(report.summary().starts_with("PASS tiny"));

        let bad = Scenario::parse("name = \"bad\"\n[[event]]\nafter = 3\nexpect = { rbt = 1 }\n")
            .unwrap();
        let report = run(&bad, &RunOptions::default());
        assert!(!report.passed());
        let FailureKind::Expectation { key, got, .. } = &report.failures[0].kind else {
            panic!("{:?}", report.failures);
        };
        // 3 s after boot: rbt counts from API_UP_RBT_MS (3000)
        assert_eq!((key.as_str(), got.as_str()), ("rbt", "6000"));
        assert!(
            report
                .summary()
                .contains("rbt expected 1, got 6000 at 02:00:03")
        );
    }
}
