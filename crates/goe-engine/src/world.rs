//! The physical world around one charger: the car, the house and PV, the
//! home battery, the ambient temperature, injected faults. Changed through [`crate::Charger`]'s
//! control methods (`plug`, `unplug`, `set_grid`, …), never by the API keys.

use crate::battery::HomeBattery;
use crate::car::{Car, CarProfile};
use serde::Serialize;

/// Why a control action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// A car is already plugged in.
    #[error("a car is already plugged in; unplug it first")]
    AlreadyPlugged,
    /// No car is plugged in.
    #[error("no car is plugged in")]
    NotPlugged,
    /// A parameter is outside its range; the text says which.
    #[error("{0}")]
    BadParameter(String),
}

/// House consumption and PV production as the charger's energy meter sees them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Grid {
    /// PV production in W (≥ 0).
    pub pv_w: f64,
    /// House consumption without the car in W (≥ 0).
    pub house_w: f64,
    /// Home battery power in W (negative = charging, as `pAkku`): fixed by
    /// `set_grid`, or the [`HomeBattery`]'s controller output when the world
    /// has one.
    pub battery_w: f64,
    /// Whether the simulated meter feeds the charger's PV logic (set by `set_grid`).
    pub metered: bool,
}

/// Everything outside the charger's keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct World {
    /// The plugged-in car, if any.
    pub car: Option<Car>,
    /// House, PV and battery.
    pub grid: Grid,
    /// The home battery with its self-consumption controller, if any
    /// (without one, `grid.battery_w` is a fixed power).
    pub battery: Option<HomeBattery>,
    /// Ambient temperature in °C.
    pub ambient_c: f64,
    /// Injected fault code (`err`), 0 = none.
    pub fault: u8,
}

impl Default for World {
    fn default() -> Self {
        World {
            car: None,
            grid: Grid::default(),
            battery: None,
            ambient_c: 20.0,
            fault: 0,
        }
    }
}

/// A snapshot for `/sim/state`: the world plus the charger's view of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimState {
    /// Serial of the charger.
    pub serial: String,
    /// Simulated UTC time in ms since the epoch.
    pub time_ms: i64,
    /// Simulated UTC time as RFC 3339.
    pub time: String,
    /// Whether a car is plugged in.
    pub plugged: bool,
    /// Profile name of the plugged car.
    pub car_profile: Option<String>,
    /// State of charge of the plugged car in percent.
    pub soc: Option<f64>,
    /// Battery capacity of the plugged car in Wh.
    pub capacity_wh: Option<f64>,
    /// Whether the car's battery is full.
    pub car_full: Option<bool>,
    /// Whether the car waits for an unplug before it charges again.
    pub car_asleep: Option<bool>,
    /// Current per phase the car draws, in A.
    pub car_current_a: f64,
    /// Phases the charger's contactor connects (0 when open).
    pub phases: u8,
    /// Total charging power in W.
    pub power_w: f64,
    /// Energy delivered since the charger's first boot, in Wh (unrounded).
    pub energy_total_wh: f64,
    /// House, PV and battery.
    pub grid: Grid,
    /// The home battery (capacity, state of charge, limits, power), if any.
    pub battery: Option<HomeBattery>,
    /// Grid power at the meter in W (negative = export).
    pub grid_power_w: f64,
    /// Ambient temperature in °C.
    pub ambient_c: f64,
    /// Injected fault code, 0 = none.
    pub fault: u8,
    /// `modelStatus` now.
    pub model_status: u8,
    /// The car's state (`car`) now.
    pub car_state: Option<u8>,
    /// Simulated-unplug end, ms since boot, while one is running.
    pub simulated_unplug_until: Option<i64>,
    /// Phase switch end, ms since boot, while one is running.
    pub phase_switch_until: Option<i64>,
    /// Random seed of the simulation.
    pub seed: u64,
}

/// Built-in profile names plus their profile, for listing.
pub fn builtin_profiles() -> Vec<CarProfile> {
    CarProfile::BUILTIN
        .iter()
        .filter_map(|n| CarProfile::builtin(n))
        .collect()
}
