//! Typed values: JSON from the charger decoded by the key table.
//!
//! [`decode`] turns a key's JSON into a [`TypedValue`]: enum values carry their
//! names, `nrg` becomes per-phase [`Energy`] readings, time-typed keys become
//! durations, `utc`/`loc` become timestamps. [`TypedValue`]'s `Display` is the
//! human form; [`with_unit`] appends the key's unit.

use goe_keys::{Base, KeyDef};
use jiff::{SignedDuration, Timestamp, ZonedDateTime};
use std::fmt;

/// A value of an enumeration key: the number on the wire and its name from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumValue {
    /// The number the charger sent.
    pub value: i64,
    /// The table's name for it, if the table knows the number.
    pub name: Option<&'static str>,
}

impl fmt::Display for EnumValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name {
            Some(name) => write!(f, "{name} ({})", self.value),
            None => write!(f, "{} (unknown)", self.value),
        }
    }
}

/// One phase of the `nrg` array.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PhaseReading {
    /// Voltage in V.
    pub voltage: f64,
    /// Current in A.
    pub current: f64,
    /// Power in W.
    pub power: f64,
    /// Power factor in %.
    pub power_factor: f64,
}

/// The `nrg` array: `[U1,U2,U3,UN, I1,I2,I3, P1,P2,P3,PN,P, pf1,pf2,pf3,pfN]`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Energy {
    /// L1, L2, L3.
    pub phases: [PhaseReading; 3],
    /// Voltage on N in V.
    pub neutral_voltage: f64,
    /// Power on N in W.
    pub neutral_power: f64,
    /// Power factor on N in %.
    pub neutral_power_factor: f64,
    /// Total power in W (`nrg[11]`, what evcc reads).
    pub total_power: f64,
}

/// Names of the 16 `nrg` fields, in array order (for CSV columns and docs).
pub const NRG_FIELDS: [&str; 16] = [
    "U1", "U2", "U3", "UN", "I1", "I2", "I3", "P1", "P2", "P3", "PN", "P", "pf1", "pf2", "pf3",
    "pfN",
];

impl Energy {
    /// Decodes an `nrg` array; `None` unless it has at least 12 numbers
    /// (power factors default to 0 when missing).
    pub fn from_json(json: &serde_json::Value) -> Option<Energy> {
        let items = json.as_array()?;
        if items.len() < 12 {
            return None;
        }
        let n = |i: usize| -> Option<f64> {
            match items.get(i) {
                None | Some(serde_json::Value::Null) => Some(0.0),
                Some(v) => v.as_f64(),
            }
        };
        let phase = |p: usize| -> Option<PhaseReading> {
            Some(PhaseReading {
                voltage: n(p)?,
                current: n(4 + p)?,
                power: n(7 + p)?,
                power_factor: n(12 + p)?,
            })
        };
        Some(Energy {
            phases: [phase(0)?, phase(1)?, phase(2)?],
            neutral_voltage: n(3)?,
            neutral_power: n(10)?,
            neutral_power_factor: n(15)?,
            total_power: n(11)?,
        })
    }
}

impl fmt::Display for Energy {
    /// One line: total power, then voltage/current/power per phase.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} W", number(self.total_power))?;
        for (i, p) in self.phases.iter().enumerate() {
            write!(
                f,
                "{} L{}: {} V {} A {} W",
                if i == 0 { ";" } else { "," },
                i + 1,
                number(p.voltage),
                number(p.current),
                number(p.power)
            )?;
        }
        Ok(())
    }
}

/// A key's value, typed by the key table.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedValue {
    /// `null` (unset optional value).
    Null,
    /// A bool.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// An integer above `i64::MAX` (only `uint64` keys).
    UInt(u64),
    /// A float or double.
    Number(f64),
    /// A value of an enumeration key, with its name.
    Enum(EnumValue),
    /// A time-typed key (`milliseconds`, `seconds`, `minutes`, …), e.g. `rbt`.
    Duration(SignedDuration),
    /// `utc`: the charger's UTC clock.
    Timestamp(Timestamp),
    /// `loc`: the charger's local time with its UTC offset.
    LocalTime(ZonedDateTime),
    /// `nrg`: voltages, currents, powers and power factors.
    Energy(Energy),
    /// A string.
    Text(String),
    /// Arrays, objects and anything that does not match the declared type.
    Json(serde_json::Value),
}

/// Decodes `json` as the value of `def` (the key table drives the type).
pub fn decode(def: &KeyDef, json: &serde_json::Value) -> TypedValue {
    use serde_json::Value as J;
    if json.is_null() {
        return TypedValue::Null;
    }
    if !def.enums.is_empty()
        && let Some(v) = json.as_i64()
    {
        return TypedValue::Enum(EnumValue {
            value: v,
            name: def.enum_name(v),
        });
    }
    match (def.name, json) {
        ("nrg", _) => {
            if let Some(e) = Energy::from_json(json) {
                return TypedValue::Energy(e);
            }
        }
        ("utc", J::String(s)) => {
            if let Some(t) = parse_utc(s) {
                return TypedValue::Timestamp(t);
            }
        }
        ("loc", J::String(s)) => {
            if let Some(z) = parse_local(s) {
                return TypedValue::LocalTime(z);
            }
        }
        _ => {}
    }
    let unit_ms: Option<i64> = match def.base() {
        Base::Millis => Some(1),
        Base::Seconds => Some(1000),
        Base::Minutes => Some(60_000),
        _ => None,
    };
    if let Some(i) = json.as_i64() {
        if let Some(scale) = unit_ms {
            return TypedValue::Duration(SignedDuration::from_millis(i.saturating_mul(scale)));
        }
        if def.base() == Base::Micros {
            return TypedValue::Duration(SignedDuration::from_micros(i));
        }
    }
    generic(json)
}

/// Decodes JSON without a key definition (keys the table does not know).
pub fn generic(json: &serde_json::Value) -> TypedValue {
    use serde_json::Value as J;
    match json {
        J::Null => TypedValue::Null,
        J::Bool(b) => TypedValue::Bool(*b),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                TypedValue::Int(i)
            } else if let Some(u) = n.as_u64() {
                TypedValue::UInt(u)
            } else {
                TypedValue::Number(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        J::String(s) => TypedValue::Text(s.clone()),
        other => TypedValue::Json(other.clone()),
    }
}

/// Parses the `utc` format `2024-09-18T07:31:23.457` (no zone; UTC).
pub fn parse_utc(s: &str) -> Option<Timestamp> {
    let dt: jiff::civil::DateTime = s.trim().parse().ok()?;
    jiff::tz::Offset::UTC.to_timestamp(dt).ok()
}

/// Parses the `loc` format `2024-09-18T09:31:23.460 +02:00`.
pub fn parse_local(s: &str) -> Option<ZonedDateTime> {
    let (time, offset) = s.trim().rsplit_once(' ')?;
    let ts: Timestamp = format!("{time}{offset}").parse().ok()?;
    let as_utc = parse_utc(time)?;
    let seconds = i32::try_from(as_utc.as_second() - ts.as_second()).ok()?;
    let offset = jiff::tz::Offset::from_seconds(seconds).ok()?;
    Some(ts.to_zoned_datetime(jiff::tz::TimeZone::fixed(offset)))
}

impl TypedValue {
    /// The value as a float, if it is a number (integers included).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            TypedValue::Int(i) => Some(i as f64),
            TypedValue::UInt(u) => Some(u as f64),
            TypedValue::Number(n) => Some(n),
            TypedValue::Enum(e) => Some(e.value as f64),
            _ => None,
        }
    }

    /// The value as an integer, if it is one (enum values included).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            TypedValue::Int(i) => Some(i),
            TypedValue::UInt(u) => i64::try_from(u).ok(),
            TypedValue::Enum(e) => Some(e.value),
            _ => None,
        }
    }

    /// Whether the value is a plain number (units apply to it).
    pub fn is_number(&self) -> bool {
        matches!(
            self,
            TypedValue::Int(_) | TypedValue::UInt(_) | TypedValue::Number(_)
        )
    }
}

impl fmt::Display for TypedValue {
    /// The human form: enum names, friendly durations, rounded numbers, unquoted strings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypedValue::Null => f.write_str("null"),
            TypedValue::Bool(b) => write!(f, "{b}"),
            TypedValue::Int(i) => write!(f, "{i}"),
            TypedValue::UInt(u) => write!(f, "{u}"),
            TypedValue::Number(n) => f.write_str(&number(*n)),
            TypedValue::Enum(e) => write!(f, "{e}"),
            TypedValue::Duration(d) => f.write_str(&duration(*d)),
            TypedValue::Timestamp(t) => write!(f, "{}", t.strftime("%Y-%m-%d %H:%M:%S%.3f UTC")),
            TypedValue::LocalTime(z) => write!(f, "{}", z.strftime("%Y-%m-%d %H:%M:%S%.3f %:z")),
            TypedValue::Energy(e) => write!(f, "{e}"),
            TypedValue::Text(s) => f.write_str(s),
            TypedValue::Json(j) => write!(f, "{j}"),
        }
    }
}

/// A number for people: at most 3 decimals, trailing zeros removed.
pub fn number(n: f64) -> String {
    if !n.is_finite() {
        return "null".to_owned();
    }
    let s = format!("{n:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// A duration for people: `3d 4h 5m 6s`, with milliseconds only below a minute.
pub fn duration(d: SignedDuration) -> String {
    let negative = d.is_negative();
    let total_ms = d.as_millis().unsigned_abs();
    let (days, rest) = (total_ms / 86_400_000, total_ms % 86_400_000);
    let (hours, rest) = (rest / 3_600_000, rest % 3_600_000);
    let (minutes, rest) = (rest / 60_000, rest % 60_000);
    let (seconds, millis) = (rest / 1000, rest % 1000);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days}d"));
    }
    if hours > 0 {
        parts.push(format!("{hours}h"));
    }
    if minutes > 0 {
        parts.push(format!("{minutes}m"));
    }
    if total_ms < 1000 {
        parts.push(format!("{millis}ms"));
    } else if total_ms < 60_000 && millis > 0 {
        parts.push(format!("{seconds}.{millis:03}s"));
    } else if seconds > 0 || parts.is_empty() {
        parts.push(format!("{seconds}s"));
    }
    let text = parts.join(" ");
    if negative { format!("-{text}") } else { text }
}

/// The value followed by the key's unit where one applies (`16 A`,
/// `22.5 °C, 26.75 °C` for arrays of numbers).
pub fn with_unit(def: Option<&KeyDef>, value: &TypedValue) -> String {
    let unit = def.and_then(|d| d.unit);
    match (unit, value) {
        (Some(unit), v) if v.is_number() => format!("{v} {unit}"),
        (Some(unit), TypedValue::Json(serde_json::Value::Array(items)))
            if !items.is_empty() && items.iter().all(serde_json::Value::is_number) =>
        {
            items
                .iter()
                .map(|i| format!("{} {unit}", number(i.as_f64().unwrap_or(f64::NAN))))
                .collect::<Vec<_>>()
                .join(", ")
        }
        (_, v) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dec(key: &str, json: serde_json::Value) -> TypedValue {
        decode(goe_keys::key(key).unwrap(), &json)
    }

    #[test]
    fn enums_carry_their_names() {
        assert_eq!(
            dec("car", json!(2)),
            TypedValue::Enum(EnumValue {
                value: 2,
                name: Some("Charging")
            })
        );
        assert_eq!(dec("car", json!(2)).to_string(), "Charging (2)");
        assert_eq!(dec("car", json!(77)).to_string(), "77 (unknown)");
        assert_eq!(dec("car", json!(null)), TypedValue::Null);
        assert_eq!(dec("lmo", json!(4)).to_string(), "Awattar (4)");
    }

    #[test]
    fn nrg_is_per_phase() {
        let v = dec(
            "nrg",
            json!([
                228, 227, 229, 0, 5.9, 5.9, 5.9, 1300, 1300, 1300, 0, 4140, 100, 100, 100, 9
            ]),
        );
        let TypedValue::Energy(e) = v else {
            panic!("{v:?}")
        };
        assert_eq!(e.total_power, 4140.0);
        assert_eq!(e.phases[1].voltage, 227.0);
        assert_eq!(e.phases[2].current, 5.9);
        assert_eq!(e.phases[0].power, 1300.0);
        assert_eq!(e.phases[0].power_factor, 100.0);
        assert_eq!(e.neutral_power_factor, 9.0);
        assert_eq!(
            e.to_string(),
            "4140 W; L1: 228 V 5.9 A 1300 W, L2: 227 V 5.9 A 1300 W, L3: 229 V 5.9 A 1300 W"
        );
        // too short: left as JSON
        assert!(matches!(dec("nrg", json!([1, 2])), TypedValue::Json(_)));
    }

    #[test]
    fn times() {
        assert_eq!(
            dec("rbt", json!(3_723_456)),
            TypedValue::Duration(SignedDuration::from_millis(3_723_456))
        );
        assert_eq!(dec("rbt", json!(3_723_456)).to_string(), "1h 2m 3s");
        assert_eq!(dec("rbt", json!(1_500)).to_string(), "1.500s");
        assert_eq!(dec("rbt", json!(500)).to_string(), "500ms");
        assert_eq!(dec("rbt", json!(0)).to_string(), "0ms");
        assert_eq!(dec("tof", json!(-60)).to_string(), "-1h");
        let TypedValue::Timestamp(t) = dec("utc", json!("2024-09-18T07:31:23.457")) else {
            panic!()
        };
        assert_eq!(t.as_millisecond(), 1_726_644_683_457);
        let TypedValue::LocalTime(z) = dec("loc", json!("2024-09-18T09:31:23.460 +02:00")) else {
            panic!()
        };
        assert_eq!(z.timestamp().as_millisecond(), 1_726_644_683_460);
        assert_eq!(z.offset().seconds(), 7200);
        assert_eq!(
            TypedValue::LocalTime(z).to_string(),
            "2024-09-18 09:31:23.460 +02:00"
        );
        // unparsable times stay text
        assert_eq!(dec("utc", json!("")), TypedValue::Text(String::new()));
    }

    #[test]
    fn units_and_numbers() {
        let amp = goe_keys::key("amp");
        assert_eq!(with_unit(amp, &TypedValue::Int(16)), "16 A");
        let tma = goe_keys::key("tma");
        assert_eq!(
            with_unit(tma, &dec("tma", json!([22.5, 26.75]))),
            "22.5 °C, 26.75 °C"
        );
        assert_eq!(number(233.429_992_7), "233.43");
        assert_eq!(number(1.240_000_01), "1.24");
        assert_eq!(number(-0.0001), "0");
        assert_eq!(dec("fna", json!("garage")).to_string(), "garage");
        // secrets come as bools although the key is a string
        assert_eq!(dec("wak", json!(false)), TypedValue::Bool(false));
    }
}
