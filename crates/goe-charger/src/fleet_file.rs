//! The fleet file (`--fleet FILE`): per-charger settings and daily car schedules.
//!
//! ```toml
//! base_serial = 200001            # optional, default 100001
//! firmware = "056.2"              # optional, default --firmware's
//! [[charger]]
//! count = 10                      # this entry describes 10 chargers (default 1)
//! firmware = "060.5"              # optional, this entry's firmware
//! config = { loe = true, log = "garage", lot = 32, lmo = 3 }   # API writes at start
//! modbus_port = 1502              # optional: Modbus TCP on --listen's IP, port + i (sets men)
//! [[charger.schedule]]            # a daily commute
//! plug = "18:00"                  # local time (tof/tds of the charger)
//! unplug = "07:30"
//! car = "ev-3p-11kw"              # optional, default profile
//! soc = 30                        # optional, default 20
//! ```

use serde::Deserialize;
use std::path::Path;

/// A parsed fleet file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetFile {
    /// Serial of the first charger.
    #[serde(default = "default_base")]
    pub base_serial: u64,
    /// The firmware of every charger whose entry names none (`--firmware` if unset).
    #[serde(default)]
    pub firmware: Option<String>,
    /// Groups of identical chargers, in serial order.
    #[serde(default, rename = "charger")]
    pub chargers: Vec<ChargerSpec>,
}

fn default_base() -> u64 {
    100_001
}

/// One or more chargers with the same settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChargerSpec {
    /// How many chargers this entry describes.
    #[serde(default = "one")]
    pub count: usize,
    /// These chargers' firmware (`060.5`, `56.2`, …).
    #[serde(default)]
    pub firmware: Option<String>,
    /// Keys written through the API at start (values as in TOML).
    #[serde(default)]
    pub config: toml::Table,
    /// Daily car schedules.
    #[serde(default)]
    pub schedule: Vec<Schedule>,
    /// Modbus TCP port of this entry's first charger (the others count up);
    /// the slave is switched on (#15).
    #[serde(default)]
    pub modbus_port: Option<u16>,
}

fn one() -> usize {
    1
}

/// A car that arrives and leaves every day.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Arrival, local `HH:MM`.
    pub plug: String,
    /// Departure, local `HH:MM`.
    pub unplug: String,
    /// Car profile name.
    pub car: Option<String>,
    /// State of charge on arrival, percent.
    pub soc: Option<f64>,
}

/// A schedule with its times in seconds after local midnight.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyCar {
    /// Arrival, seconds after local midnight.
    pub plug_s: i64,
    /// Departure, seconds after local midnight.
    pub unplug_s: i64,
    /// Profile name (`None` = default).
    pub car: Option<String>,
    /// SoC on arrival.
    pub soc: f64,
}

fn hhmm(s: &str) -> Result<i64, String> {
    let (h, m) = s
        .split_once(':')
        .ok_or_else(|| format!("time {s:?} is not HH:MM"))?;
    let h: i64 = h.parse().map_err(|_| format!("time {s:?} is not HH:MM"))?;
    let m: i64 = m.parse().map_err(|_| format!("time {s:?} is not HH:MM"))?;
    if !(0..24).contains(&h) || !(0..60).contains(&m) {
        return Err(format!("time {s:?} is out of range"));
    }
    Ok(h * 3600 + m * 60)
}

impl FleetFile {
    /// Reads and checks a fleet file; errors name the file and the problem.
    pub fn load(path: &Path) -> Result<FleetFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read fleet file {}: {e}", path.display()))?;
        let file: FleetFile =
            toml::from_str(&text).map_err(|e| format!("fleet file {}: {e}", path.display()))?;
        if file.count() == 0 {
            return Err(format!("fleet file {}: no chargers", path.display()));
        }
        for version in file
            .chargers
            .iter()
            .filter_map(|c| c.firmware.as_ref())
            .chain(file.firmware.as_ref())
        {
            goe_keys::profile(version)
                .map_err(|e| format!("fleet file {}: {e}", path.display()))?;
        }
        for spec in &file.chargers {
            for s in &spec.schedule {
                s.daily()
                    .map_err(|e| format!("fleet file {}: {e}", path.display()))?;
            }
        }
        Ok(file)
    }

    /// Number of chargers described.
    pub fn count(&self) -> usize {
        self.chargers.iter().map(|c| c.count).sum()
    }

    /// The Modbus port the `i`-th charger's entry gives it (`modbus_port` +
    /// its place in the entry), if any; `None` also past port 65535.
    pub fn modbus_port(&self, mut i: usize) -> Option<u16> {
        for spec in &self.chargers {
            if i < spec.count {
                let base = spec.modbus_port?;
                return u16::try_from(usize::from(base) + i).ok();
            }
            i -= spec.count;
        }
        None
    }

    /// The spec of the `i`-th charger.
    pub fn spec(&self, mut i: usize) -> Option<&ChargerSpec> {
        for spec in &self.chargers {
            if i < spec.count {
                return Some(spec);
            }
            i -= spec.count;
        }
        None
    }
}

impl Schedule {
    /// The schedule in seconds.
    pub fn daily(&self) -> Result<DailyCar, String> {
        let soc = self.soc.unwrap_or(20.0);
        if !(0.0..=100.0).contains(&soc) {
            return Err(format!("soc {soc} is not 0..100"));
        }
        Ok(DailyCar {
            plug_s: hhmm(&self.plug)?,
            unplug_s: hhmm(&self.unplug)?,
            car: self.car.clone(),
            soc,
        })
    }
}

impl ChargerSpec {
    /// The `config` table as API writes (key, JSON text).
    pub fn writes(&self) -> Vec<(String, String)> {
        self.config
            .iter()
            .map(|(k, v)| {
                let json = serde_json::to_string(v).unwrap_or_else(|_| "null".into());
                (k.clone(), json)
            })
            .collect()
    }
}

/// Whether local time moved across `at` (seconds after midnight) between
/// `before` and `after` (one second apart, wrapping at midnight).
pub fn crossed(before: i64, after: i64, at: i64) -> bool {
    if before <= after {
        before < at && at <= after
    } else {
        at > before || at <= after
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_expands() {
        let f: FleetFile = toml::from_str(
            r#"
            base_serial = 200001
            [[charger]]
            count = 3
            config = { loe = true, log = "g", lot = 32 }
            [[charger.schedule]]
            plug = "18:00"
            unplug = "07:30"
            car = "ev-1p-16a"
            [[charger]]
            "#,
        )
        .unwrap();
        assert_eq!(f.count(), 4);
        assert_eq!(f.spec(2).unwrap().schedule.len(), 1);
        assert!(f.spec(3).unwrap().schedule.is_empty());
        assert!(f.spec(4).is_none());
        let writes = f.spec(0).unwrap().writes();
        assert!(writes.contains(&("log".to_owned(), "\"g\"".to_owned())));
        let d = f.spec(0).unwrap().schedule[0].daily().unwrap();
        assert_eq!((d.plug_s, d.unplug_s, d.soc), (64_800, 27_000, 20.0));
    }

    #[test]
    fn crossing_midnight() {
        assert!(crossed(64_799, 64_800, 64_800));
        assert!(!crossed(64_800, 64_801, 64_800));
        assert!(crossed(86_399, 0, 0));
        assert!(!crossed(86_398, 86_399, 0));
        assert!(hhmm("25:00").is_err());
    }
}
