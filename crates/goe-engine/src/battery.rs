//! The home battery of the simulated world (#13): an AC-coupled storage that
//! watches the grid meter and runs the usual self-consumption controller. It
//! charges from what would be exported and discharges to cover what would be
//! imported, within its power limits and its state-of-charge window, each
//! simulated second. The car's power is part of the balance it sees, as a
//! real battery's meter at the grid point sees the wallbox.
//!
//! Pure: stepped by the engine's logic with the balance of the second; no
//! clock. Lossless (no round-trip efficiency): the energy it charges is the
//! energy it can give back, which keeps the energy split easy to check.

use crate::world::SimError;
use serde::Serialize;

/// Largest capacity accepted, Wh (a big home storage is 30 kWh; 1 GWh is
/// far beyond any house and keeps the arithmetic well inside f64).
pub const MAX_CAPACITY_WH: f64 = 1e9;

/// Largest charge or discharge power accepted, W.
pub const MAX_POWER_W: f64 = 1e7;

/// A home battery and its controller's state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HomeBattery {
    /// Usable capacity in Wh (> 0).
    pub capacity_wh: f64,
    /// State of charge in percent.
    pub soc: f64,
    /// Largest charging power in W (≥ 0).
    pub max_charge_w: f64,
    /// Largest discharging power in W (≥ 0).
    pub max_discharge_w: f64,
    /// It does not discharge below this state of charge (percent).
    pub min_soc: f64,
    /// It does not charge above this state of charge (percent).
    pub max_soc: f64,
    /// Its power in the last second, W (positive = discharging, as `pAkku`).
    pub power_w: f64,
}

/// The settings of a `/sim/battery` request; `None` keeps a value (or takes
/// the default when there is no battery yet).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BatterySettings {
    /// Capacity in Wh; 0 removes the battery.
    pub capacity_wh: Option<f64>,
    /// State of charge in percent (default 50).
    pub soc: Option<f64>,
    /// Largest charging power in W (default 3000).
    pub max_charge_w: Option<f64>,
    /// Largest discharging power in W (default 3000).
    pub max_discharge_w: Option<f64>,
    /// Lowest state of charge in percent (default 0).
    pub min_soc: Option<f64>,
    /// Highest state of charge in percent (default 100).
    pub max_soc: Option<f64>,
}

/// Defaults of a new battery: a common 10 kWh, 3 kW storage.
pub const DEFAULT_CHARGE_W: f64 = 3000.0;
/// Default largest discharging power, W.
pub const DEFAULT_DISCHARGE_W: f64 = 3000.0;
/// Default state of charge of a new battery, percent.
pub const DEFAULT_SOC: f64 = 50.0;

impl HomeBattery {
    /// A battery from `settings` on top of `current` (the battery there is,
    /// if any). `Ok(None)`: the settings remove the battery (capacity 0).
    pub fn configure(
        current: Option<&HomeBattery>,
        s: &BatterySettings,
    ) -> Result<Option<HomeBattery>, SimError> {
        let bad = |text: String| Err(SimError::BadParameter(text));
        let capacity = match (s.capacity_wh, current) {
            (Some(c), _) => c,
            (None, Some(b)) => b.capacity_wh,
            (None, None) => {
                return bad("capacity (Wh) is required to add a home battery".into());
            }
        };
        if !(capacity.is_finite() && (0.0..=MAX_CAPACITY_WH).contains(&capacity)) {
            return bad(format!(
                "capacity must be a number of Wh from 0 (removes the battery) to {MAX_CAPACITY_WH}"
            ));
        }
        if capacity == 0.0 {
            return Ok(None);
        }
        let pick = |v: Option<f64>, old: Option<f64>, default: f64| v.or(old).unwrap_or(default);
        let b = HomeBattery {
            capacity_wh: capacity,
            soc: pick(s.soc, current.map(|b| b.soc), DEFAULT_SOC),
            max_charge_w: pick(
                s.max_charge_w,
                current.map(|b| b.max_charge_w),
                DEFAULT_CHARGE_W,
            ),
            max_discharge_w: pick(
                s.max_discharge_w,
                current.map(|b| b.max_discharge_w),
                DEFAULT_DISCHARGE_W,
            ),
            min_soc: pick(s.min_soc, current.map(|b| b.min_soc), 0.0),
            max_soc: pick(s.max_soc, current.map(|b| b.max_soc), 100.0),
            power_w: current.map_or(0.0, |b| b.power_w),
        };
        for (name, v) in [
            ("soc", b.soc),
            ("min_soc", b.min_soc),
            ("max_soc", b.max_soc),
        ] {
            if !(v.is_finite() && (0.0..=100.0).contains(&v)) {
                return bad(format!("{name} must be a percentage from 0 to 100"));
            }
        }
        if b.min_soc > b.max_soc {
            return bad("min_soc must not be above max_soc".into());
        }
        for (name, v) in [("charge", b.max_charge_w), ("discharge", b.max_discharge_w)] {
            if !(v.is_finite() && (0.0..=MAX_POWER_W).contains(&v)) {
                return bad(format!(
                    "{name} must be a number of W from 0 to {MAX_POWER_W}"
                ));
            }
        }
        Ok(Some(b))
    }

    /// One second of the self-consumption controller. `deficit_w` is what
    /// the grid point would show without the battery (house + car − PV;
    /// positive = import). The battery covers as much of it as its limits
    /// and state of charge allow, and returns its power (positive =
    /// discharging), which it also keeps in `power_w`.
    pub fn step(&mut self, deficit_w: f64, seconds: f64) -> f64 {
        let stored_wh = self.capacity_wh * self.soc / 100.0;
        let above_min_wh = (stored_wh - self.capacity_wh * self.min_soc / 100.0).max(0.0);
        let below_max_wh = (self.capacity_wh * self.max_soc / 100.0 - stored_wh).max(0.0);
        let hours = seconds / 3600.0;
        let discharge = self.max_discharge_w.min(above_min_wh / hours);
        let charge = self.max_charge_w.min(below_max_wh / hours);
        let power = if deficit_w.is_finite() {
            deficit_w.clamp(-charge, discharge)
        } else {
            0.0
        };
        let soc = (stored_wh - power * hours) / self.capacity_wh * 100.0;
        self.soc = soc.clamp(0.0, 100.0);
        self.power_w = power;
        power
    }
}

/// The part of a reading's `pAkku` (W, positive = discharging) that the PV
/// controller counts as the house's own flow, given the prio offset `po` (W):
/// the surplus it offers the car is `charger power − pGrid − counted`.
///
/// `po` is a target for `pAkku` (same sign convention): between `po` and 0
/// the battery's power is left to it. With the default −300 the battery
/// keeps charging with up to 300 W and the car may take the rest of its
/// charging power (car priority); a `po` below the battery's largest charging
/// power (e.g. −10000) leaves all of it to the battery (battery priority:
/// the car gets only what the battery cannot take); a positive `po` lets the
/// car take that much of the battery's discharge. Without a battery
/// (`pAkku` 0) nothing changes. Sources and reasoning: docs/compat.md,
/// "Home battery (#13)".
pub fn counted_battery_power(pakku: f64, po: f64) -> f64 {
    if !pakku.is_finite() {
        return 0.0;
    }
    let po = if po.is_finite() { po } else { 0.0 };
    pakku - pakku.clamp(po.min(0.0), po.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn po_leaves_the_battery_its_share() {
        // default −300: of a 2000 W charge the car may take 1700 W
        assert_eq!(counted_battery_power(-2000.0, -300.0), -1700.0);
        // a charge within the offset is the battery's
        assert_eq!(counted_battery_power(-200.0, -300.0), 0.0);
        // a discharge always counts against the car with po ≤ 0
        assert_eq!(counted_battery_power(800.0, -300.0), 800.0);
        // battery priority: none of its charge goes to the car
        assert_eq!(counted_battery_power(-3000.0, -10_000.0), 0.0);
        // po 0: the car may take all of the charge
        assert_eq!(counted_battery_power(-2000.0, 0.0), -2000.0);
        // po > 0: the car may take up to po W of discharge
        assert_eq!(counted_battery_power(800.0, 500.0), 300.0);
        assert_eq!(counted_battery_power(0.0, -300.0), 0.0);
    }

    fn battery(soc: f64) -> HomeBattery {
        HomeBattery::configure(
            None,
            &BatterySettings {
                capacity_wh: Some(10_000.0),
                soc: Some(soc),
                max_charge_w: Some(3000.0),
                max_discharge_w: Some(2000.0),
                ..BatterySettings::default()
            },
        )
        .unwrap()
        .unwrap()
    }

    #[test]
    fn charges_from_surplus_and_discharges_for_a_deficit_within_its_limits() {
        let mut b = battery(50.0);
        assert_eq!(b.step(-1200.0, 1.0), -1200.0, "absorbs an export");
        assert_eq!(b.step(-5000.0, 1.0), -3000.0, "at most max_charge");
        assert_eq!(b.step(800.0, 1.0), 800.0, "covers an import");
        assert_eq!(b.step(4000.0, 1.0), 2000.0, "at most max_discharge");
        assert_eq!(b.power_w, 2000.0);
    }

    #[test]
    fn the_state_of_charge_integrates_the_power() {
        let mut b = battery(50.0);
        for _ in 0..3600 {
            b.step(-1000.0, 1.0);
        }
        assert!((b.soc - 60.0).abs() < 1e-9, "1 kWh into 10 kWh: {}", b.soc);
        for _ in 0..1800 {
            b.step(2000.0, 1.0);
        }
        assert!((b.soc - 50.0).abs() < 1e-9, "{}", b.soc);
    }

    #[test]
    fn stops_at_its_state_of_charge_window() {
        let mut b = battery(99.995);
        // 0.5 Wh of room left: 1800 W for one second, then nothing
        assert!((b.step(-5000.0, 1.0) + 1800.0).abs() < 1e-6);
        assert_eq!(b.step(-5000.0, 1.0), 0.0, "full: no more charging");
        assert!((b.soc - 100.0).abs() < 1e-9);
        assert_eq!(b.step(500.0, 1.0), 500.0, "full still discharges");
        let mut b = HomeBattery::configure(
            Some(&battery(20.0)),
            &BatterySettings {
                min_soc: Some(20.0),
                ..BatterySettings::default()
            },
        )
        .unwrap()
        .unwrap();
        assert_eq!(b.step(1000.0, 1.0), 0.0, "at min_soc: no discharge");
        assert_eq!(b.step(-1000.0, 1.0), -1000.0, "at min_soc still charges");
    }

    #[test]
    fn settings_are_validated_and_capacity_0_removes() {
        let none = BatterySettings::default();
        assert!(
            HomeBattery::configure(None, &none).is_err(),
            "capacity needed"
        );
        let b = battery(50.0);
        let remove = BatterySettings {
            capacity_wh: Some(0.0),
            ..none
        };
        assert_eq!(HomeBattery::configure(Some(&b), &remove), Ok(None));
        for bad in [
            BatterySettings {
                soc: Some(101.0),
                ..none
            },
            BatterySettings {
                max_charge_w: Some(-1.0),
                ..none
            },
            BatterySettings {
                capacity_wh: Some(f64::NAN),
                ..none
            },
            BatterySettings {
                min_soc: Some(80.0),
                max_soc: Some(70.0),
                ..none
            },
        ] {
            assert!(HomeBattery::configure(Some(&b), &bad).is_err(), "{bad:?}");
        }
        // a partial update keeps the rest
        let soc = BatterySettings {
            soc: Some(10.0),
            ..none
        };
        let changed = HomeBattery::configure(Some(&b), &soc).unwrap().unwrap();
        assert_eq!((changed.soc, changed.capacity_wh), (10.0, 10_000.0));
    }
}
