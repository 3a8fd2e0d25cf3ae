//! Cars: profiles (battery, onboard charger, taper, power factor) and the
//! state of the car plugged into a charger.

use serde::{Deserialize, Serialize};

/// What a car model is like. Built-ins come from [`CarProfile::builtin`];
/// custom ones are deserialized from TOML by the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarProfile {
    /// Name used to pick the profile (`/sim/plug?car=<name>`).
    pub name: String,
    /// Usable battery capacity in Wh.
    pub capacity_wh: f64,
    /// Phases of the onboard charger (1, 2 or 3).
    pub phases: u8,
    /// Highest current per phase the onboard charger draws, in A.
    pub max_current_a: f64,
    /// State of charge (percent) above which the current tapers off.
    pub taper_soc: f64,
    /// Current per phase (A) at which the car stops and reports full.
    #[serde(default = "default_full_current")]
    pub full_current_a: f64,
    /// Power factor in percent by current: `[[amps, pf], …]`, interpolated.
    #[serde(default = "default_pf_curve")]
    pub pf_curve: Vec<[f64; 2]>,
    /// Whether the car resumes charging by itself after the charger paused it.
    /// Cars that do not (VAG, Zoe, …) need a (simulated) unplug.
    #[serde(default = "default_true")]
    pub resumes_after_pause: bool,
    /// Charging efficiency from grid to battery (0..1).
    #[serde(default = "default_efficiency")]
    pub efficiency: f64,
}

fn default_full_current() -> f64 {
    1.0
}

fn default_pf_curve() -> Vec<[f64; 2]> {
    vec![[6.0, 97.0], [10.0, 99.0], [32.0, 99.5]]
}

fn default_true() -> bool {
    true
}

fn default_efficiency() -> f64 {
    0.92
}

/// The profile used when a plug-in names none.
pub const DEFAULT_PROFILE: &str = "ev-3p-11kw";

impl CarProfile {
    /// Names of the built-in profiles.
    pub const BUILTIN: &'static [&'static str] = &[
        "ev-1p-16a",
        "ev-2p-16a",
        "ev-3p-11kw",
        "ev-3p-22kw",
        "zoe-like",
    ];

    /// A built-in profile by name.
    pub fn builtin(name: &str) -> Option<CarProfile> {
        let base =
            |name: &str, capacity_wh: f64, phases: u8, max_current_a: f64, taper: f64| CarProfile {
                name: name.to_owned(),
                capacity_wh,
                phases,
                max_current_a,
                taper_soc: taper,
                full_current_a: default_full_current(),
                pf_curve: default_pf_curve(),
                resumes_after_pause: true,
                efficiency: default_efficiency(),
            };
        Some(match name {
            // A compact car with a single-phase 16 A (3.7 kW) onboard charger.
            "ev-1p-16a" => base(name, 40_000.0, 1, 16.0, 85.0),
            // e-Golf / e-up!-like: two phases at 16 A.
            "ev-2p-16a" => base(name, 36_000.0, 2, 16.0, 85.0),
            // The common case: three phases at 16 A (11 kW).
            "ev-3p-11kw" => base(name, 77_000.0, 3, 16.0, 80.0),
            // Three phases at 32 A (22 kW).
            "ev-3p-22kw" => base(name, 90_000.0, 3, 32.0, 80.0),
            // Renault Zoe-like: poor power factor at low current, no resume after a pause.
            "zoe-like" => CarProfile {
                pf_curve: vec![[6.0, 7.0], [7.0, 45.0], [8.0, 91.0], [16.0, 98.0]],
                resumes_after_pause: false,
                ..base(name, 52_000.0, 3, 32.0, 85.0)
            },
            _ => return None,
        })
    }

    /// Checks a custom profile for physically meaningful values.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() {
            return Err("name must not be empty".into());
        }
        if !(1..=3).contains(&self.phases) {
            return Err(format!("{}: phases must be 1, 2 or 3", self.name));
        }
        if !(self.capacity_wh > 0.0 && self.capacity_wh < 1e6) {
            return Err(format!("{}: capacity_wh must be in (0, 1e6)", self.name));
        }
        if !(6.0..=80.0).contains(&self.max_current_a) {
            return Err(format!("{}: max_current_a must be in 6..80", self.name));
        }
        if !(0.0..=100.0).contains(&self.taper_soc) {
            return Err(format!("{}: taper_soc must be in 0..100", self.name));
        }
        if !(0.0..6.0).contains(&self.full_current_a) {
            return Err(format!("{}: full_current_a must be in 0..6", self.name));
        }
        if !(self.efficiency > 0.0 && self.efficiency <= 1.0) {
            return Err(format!("{}: efficiency must be in (0, 1]", self.name));
        }
        if self.pf_curve.is_empty()
            || self
                .pf_curve
                .iter()
                .any(|[a, pf]| !(0.0..=100.0).contains(pf) || *a < 0.0)
        {
            return Err(format!(
                "{}: pf_curve needs [amps, percent] points",
                self.name
            ));
        }
        Ok(())
    }

    /// Power factor (percent) at `amps`, linearly interpolated.
    pub fn power_factor(&self, amps: f64) -> f64 {
        let curve = &self.pf_curve;
        if amps <= curve[0][0] {
            return curve[0][1];
        }
        for w in curve.windows(2) {
            let ([a0, p0], [a1, p1]) = (w[0], w[1]);
            if amps <= a1 {
                let t = if a1 > a0 {
                    (amps - a0) / (a1 - a0)
                } else {
                    1.0
                };
                return p0 + t * (p1 - p0);
            }
        }
        curve[curve.len() - 1][1]
    }

    /// The most current per phase the car accepts at `soc` percent.
    pub fn accepted_current(&self, soc: f64) -> f64 {
        if soc >= 100.0 {
            return 0.0;
        }
        if soc <= self.taper_soc {
            return self.max_current_a;
        }
        let left = (100.0 - soc) / (100.0 - self.taper_soc).max(1e-9);
        (self.max_current_a * left).max(self.full_current_a)
    }
}

/// A car connected to the charger.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Car {
    /// Its profile.
    pub profile: CarProfile,
    /// State of charge in percent.
    pub soc: f64,
    /// Current per phase the car draws now, in A.
    pub current_a: f64,
    /// Whether the battery is full (the car stopped by itself).
    pub full: bool,
    /// Whether the car is waiting for an unplug before it charges again
    /// (paused cars without `resumes_after_pause`).
    pub asleep: bool,
    /// Seconds the charger has been offering current without the car drawing yet.
    pub wake_delay_s: u32,
}

impl Car {
    /// A car of `profile` at `soc` percent, just plugged in.
    pub fn new(profile: CarProfile, soc: f64) -> Car {
        let soc = soc.clamp(0.0, 100.0);
        Car {
            full: soc >= 100.0,
            profile,
            soc,
            current_a: 0.0,
            asleep: false,
            wake_delay_s: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_valid() {
        for name in CarProfile::BUILTIN {
            let p = CarProfile::builtin(name).unwrap();
            p.validate().unwrap();
            assert_eq!(p.name, *name);
        }
        assert!(CarProfile::builtin(DEFAULT_PROFILE).is_some());
        assert!(CarProfile::builtin("tesla-roadster-1908").is_none());
    }

    #[test]
    fn taper_and_power_factor() {
        let p = CarProfile::builtin("ev-3p-11kw").unwrap();
        assert_eq!(p.accepted_current(50.0), 16.0);
        assert!(p.accepted_current(90.0) < 16.0);
        assert!(p.accepted_current(99.99) >= p.full_current_a);
        assert_eq!(p.accepted_current(100.0), 0.0);
        let z = CarProfile::builtin("zoe-like").unwrap();
        assert!(z.power_factor(6.0) < 10.0);
        assert!(z.power_factor(16.0) > 95.0);
        assert!((z.power_factor(6.5) - 26.0).abs() < 1e-9);
    }
}
