//! A charger's status: the JSON object of `/api/status` with typed accessors.

use crate::error::ClientError;
use crate::value::{self, Energy, EnumValue, TypedValue};
use jiff::Timestamp;
use std::time::Duration;

/// A status answer, in the charger's key order. [`Status::get`] decodes any
/// key through the key table; the other accessors give the common readings typed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Status {
    values: serde_json::Map<String, serde_json::Value>,
}

macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $key:literal {
            $($(#[$vmeta:meta])* $variant:ident = $code:literal => $words:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A number this client does not know.
            Other(u8),
        }

        impl $name {
            /// The value for a number on the wire.
            pub fn from_code(code: u8) -> Self {
                match code {
                    $($code => $name::$variant,)*
                    other => $name::Other(other),
                }
            }

            /// The number on the wire.
            pub fn code(self) -> u8 {
                match self {
                    $($name::$variant => $code,)*
                    $name::Other(c) => c,
                }
            }

            /// The key table's name of the value, if it has one.
            pub fn name(self) -> Option<&'static str> {
                goe_keys::key($key).and_then(|d| d.enum_name(i64::from(self.code())))
            }

            /// What the value means, in words.
            pub fn describe(self) -> &'static str {
                match self {
                    $($name::$variant => $words,)*
                    $name::Other(_) => "unknown value",
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}", self.code()),
                }
            }
        }
    };
}

code_enum! {
    /// `car`: the state of the vehicle connection.
    CarState, "car" {
        /// 0: unknown or error.
        Unknown = 0 => "unknown or internal error",
        /// 1: no car connected.
        Idle = 1 => "no car connected",
        /// 2: the car is charging.
        Charging = 2 => "charging",
        /// 3: a car is connected and waits (for the car, an authorization or the logic).
        WaitCar = 3 => "car connected, not charging",
        /// 4: charging finished, car still connected.
        Complete = 4 => "charging complete, car still connected",
        /// 5: error.
        Error = 5 => "error",
        /// 6: initializing (firmware 60.x).
        Initializing = 6 => "initializing",
    }
}

code_enum! {
    /// `frc`: the force state set by the user.
    ForceState, "frc" {
        /// 0: the logic decides.
        Neutral = 0 => "the charging logic decides",
        /// 1: charging forbidden.
        Off = 1 => "charging forced off",
        /// 2: charging forced on.
        On = 2 => "charging forced on",
    }
}

code_enum! {
    /// `lmo`: the logic mode.
    LogicMode, "lmo" {
        /// 3: default (basic) mode.
        Default = 3 => "default: charge right away",
        /// 4: Eco mode (cheap prices, PV surplus).
        Eco = 4 => "eco: charge when the price is low or with PV surplus",
        /// 5: next trip (automatic stop).
        NextTrip = 5 => "next trip: charge the set energy by the set time",
    }
}

code_enum! {
    /// `psm`: the phase switch mode.
    PhaseSwitchMode, "psm" {
        /// 0: automatic.
        Auto = 0 => "automatic",
        /// 1: force one phase.
        Force1 = 1 => "always one phase",
        /// 2: force three phases.
        Force3 = 2 => "always three phases",
    }
}

/// `modelStatus`: why the charger allows charging right now, or why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelStatus(pub u8);

impl ModelStatus {
    /// The key table's name (`ChargingBecauseFallbackDefault`, …), if it has one.
    pub fn name(self) -> Option<&'static str> {
        goe_keys::key("modelStatus").and_then(|d| d.enum_name(i64::from(self.0)))
    }

    /// Whether this reason allows charging (`Charging…`) or not (`NotCharging…`).
    pub fn allows_charging(self) -> Option<bool> {
        if let Some(name) = self.name() {
            return Some(name.starts_with("ChargingBecause"));
        }
        model_reason(self.0).map(|(allows, _)| allows)
    }

    /// The reason in words, e.g. "not charging: forced off (frc=Off)".
    pub fn reason(self) -> String {
        if let Some((allows, words)) = model_reason(self.0) {
            let head = if allows { "charging" } else { "not charging" };
            return format!("{head}: {words}");
        }
        match self.name() {
            Some(name) => split_words(name),
            None => format!("unknown reason {}", self.0),
        }
    }
}

impl std::fmt::Display for ModelStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason())
    }
}

/// Reasons of the firmware export (60.4); `true` = charging allowed.
fn model_reason(code: u8) -> Option<(bool, &'static str)> {
    Some(match code {
        0 => (false, "no data from the charge controller"),
        1 => (false, "over temperature"),
        2 => (false, "waiting for authorization (RFID card or app)"),
        3 => (true, "forced on (frc=On)"),
        4 => (false, "forced off (frc=Off)"),
        5 => (false, "blocked by the scheduler"),
        6 => (false, "energy limit reached (dwo)"),
        7 => (true, "electricity price is low (Eco mode)"),
        8 => (true, "next trip: test charge"),
        9 => (true, "next trip: not enough time left, charging now"),
        10 => (true, "next trip mode"),
        11 => (true, "next trip mode without a clock"),
        12 => (true, "PV surplus"),
        13 => (true, "fallback: go-e default"),
        14 => (true, "fallback: go-e scheduler"),
        15 => (true, "default mode, nothing prevents it"),
        16 => (false, "fallback: go-e Eco mode"),
        17 => (false, "Eco mode: price too high"),
        18 => (false, "next trip: enough time left, waiting"),
        19 => (true, "keeping the car awake (compatibility)"),
        20 => (true, "a charge pause is not allowed"),
        22 => (false, "simulating unplugging"),
        23 => (false, "switching phases"),
        24 => (false, "minimum pause between charges"),
        26 => (false, "error"),
        27 => (false, "load management"),
        28 => (false, "OCPP backend"),
        29 => (false, "reconnect delay"),
        30 => (false, "adapter blocking"),
        31 => (false, "underfrequency control"),
        32 => (false, "unbalanced load"),
        33 => (false, "discharging the PV battery"),
        34 => (false, "grid monitoring"),
        35 => (false, "OCPP fallback"),
        36 => (false, "floor detected"),
        37 => (false, "OCPP inoperable"),
        38 => (false, "undervoltage control"),
        39 => (false, "zero setpoint"),
        40 => (false, "initializing"),
        41 => (false, "failsafe limit"),
        _ => return None,
    })
}

/// `NotChargingBecauseFooBar` → `not charging because foo bar`.
fn split_words(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl Status {
    /// Wraps a JSON object; anything else is a [`ClientError::Decode`].
    pub fn from_json(json: serde_json::Value) -> Result<Status, ClientError> {
        match json {
            serde_json::Value::Object(values) => Ok(Status { values }),
            other => Err(ClientError::Decode {
                reason: format!("expected a JSON object, got {}", kind(&other)),
            }),
        }
    }

    /// Parses a status body.
    pub fn parse(body: &str) -> Result<Status, ClientError> {
        let json: serde_json::Value =
            serde_json::from_str(body).map_err(|e| ClientError::Decode {
                reason: format!("not JSON ({e}): {}", crate::error::short_body(body)),
            })?;
        Status::from_json(json)
    }

    /// The JSON object as the charger sent it (key order kept).
    pub fn json(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.values
    }

    /// The JSON object, consumed.
    pub fn into_json(self) -> serde_json::Map<String, serde_json::Value> {
        self.values
    }

    /// Takes over the values of `delta` (a WebSocket `deltaStatus`, or any newer
    /// partial status): keys present here get the new value in place, others are appended.
    pub fn merge(&mut self, delta: &Status) {
        for (key, value) in &delta.values {
            self.values.insert(key.clone(), value.clone());
        }
    }

    /// The raw JSON of `key`, if the charger sent it.
    pub fn raw(&self, key: &str) -> Option<&serde_json::Value> {
        self.values.get(key)
    }

    /// Whether the charger sent `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// The keys in the charger's order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the status has no keys.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `key` decoded through the key table (keys it does not know are decoded by JSON type).
    pub fn get(&self, key: &str) -> Option<TypedValue> {
        let json = self.values.get(key)?;
        Some(match goe_keys::key(key) {
            Some(def) => value::decode(def, json),
            None => value::generic(json),
        })
    }

    fn int(&self, key: &str) -> Option<i64> {
        self.values.get(key)?.as_i64()
    }

    fn code(&self, key: &str) -> Option<u8> {
        self.int(key).and_then(|i| u8::try_from(i).ok())
    }

    /// `car`; `None` when absent or `null` (no connection to the charge controller).
    pub fn car_state(&self) -> Option<CarState> {
        self.code("car").map(CarState::from_code)
    }

    /// `modelStatus`: why charging is allowed or not.
    pub fn model_status(&self) -> Option<ModelStatus> {
        self.code("modelStatus").map(ModelStatus)
    }

    /// `frc`.
    pub fn force_state(&self) -> Option<ForceState> {
        self.code("frc").map(ForceState::from_code)
    }

    /// `lmo`.
    pub fn logic_mode(&self) -> Option<LogicMode> {
        self.code("lmo").map(LogicMode::from_code)
    }

    /// `psm`.
    pub fn phase_switch_mode(&self) -> Option<PhaseSwitchMode> {
        self.code("psm").map(PhaseSwitchMode::from_code)
    }

    /// `err` with its name (`None` value 0 means no error).
    pub fn error(&self) -> Option<EnumValue> {
        match self.get("err")? {
            TypedValue::Enum(e) => Some(e),
            _ => None,
        }
    }

    /// `nrg` per phase.
    pub fn energy(&self) -> Option<Energy> {
        Energy::from_json(self.values.get("nrg")?)
    }

    /// `alw`: whether the car may charge right now.
    pub fn charging_allowed(&self) -> Option<bool> {
        self.values.get("alw")?.as_bool()
    }

    /// `acu`: the current the car may draw right now, in A (`None` when not allowed or absent).
    pub fn allowed_current(&self) -> Option<u32> {
        self.int("acu").and_then(|i| u32::try_from(i).ok())
    }

    /// `amp`: the requested current in A.
    pub fn requested_current(&self) -> Option<u32> {
        self.int("amp").and_then(|i| u32::try_from(i).ok())
    }

    /// `wh`: energy since the car was connected, in Wh.
    pub fn session_energy_wh(&self) -> Option<f64> {
        self.values.get("wh")?.as_f64()
    }

    /// `eto`: total energy, in Wh.
    pub fn total_energy_wh(&self) -> Option<u64> {
        self.values.get("eto")?.as_u64()
    }

    /// `tma`: temperature sensors in °C.
    pub fn temperatures(&self) -> Option<Vec<f64>> {
        self.values
            .get("tma")?
            .as_array()?
            .iter()
            .map(serde_json::Value::as_f64)
            .collect()
    }

    /// `rbt`: time since boot.
    pub fn uptime(&self) -> Option<Duration> {
        self.int("rbt")
            .and_then(|ms| u64::try_from(ms).ok())
            .map(Duration::from_millis)
    }

    /// `utc`: the charger's clock.
    pub fn utc(&self) -> Option<Timestamp> {
        value::parse_utc(self.values.get("utc")?.as_str()?)
    }

    /// `sse`: the serial number.
    pub fn serial(&self) -> Option<&str> {
        self.values.get("sse")?.as_str()
    }

    /// `fna`: the friendly name.
    pub fn friendly_name(&self) -> Option<&str> {
        self.values.get("fna")?.as_str()
    }

    /// `fwv`: the firmware version.
    pub fn firmware(&self) -> Option<&str> {
        self.values.get("fwv")?.as_str()
    }
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a bool",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHARGING: &str = r#"{"alw":true,"acu":16,"eto":120000,"car":2,"amp":16,"frc":2,"lmo":4,"psm":0,
        "rbt":3723000,"utc":"2024-09-18T07:31:23.457","wh":1234.5,"err":0,"tma":[32.75,37.75],
        "nrg":[228,227,229,0,5.9,5.9,5.9,1300,1300,1300,0,4140,100,100,100,9],"modelStatus":3,"sse":"012345"}"#;

    #[test]
    fn typed_accessors() {
        let s = Status::parse(CHARGING).unwrap();
        assert_eq!(s.car_state(), Some(CarState::Charging));
        assert_eq!(s.car_state().unwrap().name(), Some("Charging"));
        assert_eq!(s.force_state(), Some(ForceState::On));
        assert_eq!(s.logic_mode(), Some(LogicMode::Eco));
        assert_eq!(s.logic_mode().unwrap().to_string(), "Awattar");
        assert_eq!(s.phase_switch_mode(), Some(PhaseSwitchMode::Auto));
        assert_eq!(s.allowed_current(), Some(16));
        assert_eq!(s.requested_current(), Some(16));
        assert_eq!(s.charging_allowed(), Some(true));
        assert_eq!(s.total_energy_wh(), Some(120_000));
        assert_eq!(s.session_energy_wh(), Some(1234.5));
        assert_eq!(s.temperatures(), Some(vec![32.75, 37.75]));
        assert_eq!(s.uptime(), Some(Duration::from_millis(3_723_000)));
        assert_eq!(s.utc().unwrap().as_millisecond(), 1_726_644_683_457);
        assert_eq!(s.energy().unwrap().total_power, 4140.0);
        assert_eq!(s.error().unwrap().name, Some("None"));
        assert_eq!(s.serial(), Some("012345"));
        let m = s.model_status().unwrap();
        assert_eq!(m.name(), Some("ChargingBecauseForceStateOn"));
        assert_eq!(m.allows_charging(), Some(true));
        assert_eq!(m.reason(), "charging: forced on (frc=On)");
        assert_eq!(
            ModelStatus(15).reason(),
            "charging: default mode, nothing prevents it"
        );
        assert_eq!(ModelStatus(200).reason(), "unknown reason 200");
        assert_eq!(CarState::from_code(9), CarState::Other(9));
        assert_eq!(CarState::Other(9).to_string(), "9");
    }

    #[test]
    fn missing_and_null() {
        let s = Status::parse(r#"{"car":null,"acu":null}"#).unwrap();
        assert_eq!(s.car_state(), None);
        assert_eq!(s.allowed_current(), None);
        assert_eq!(s.get("car"), Some(TypedValue::Null));
        assert_eq!(s.get("amp"), None);
        assert_eq!(s.get("zzz"), None);
        let s = Status::parse(r#"{"newKey":[1]}"#).unwrap();
        assert_eq!(
            s.get("newKey"),
            Some(TypedValue::Json(serde_json::json!([1])))
        );
    }

    #[test]
    fn not_an_object() {
        assert!(matches!(
            Status::parse("[1]"),
            Err(ClientError::Decode { .. })
        ));
        let e = Status::parse("<html>").unwrap_err();
        assert!(e.to_string().contains("not JSON"), "{e}");
    }
}
