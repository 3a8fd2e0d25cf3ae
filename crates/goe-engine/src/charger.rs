//! One virtual charger: its key values, boot state and the effects of writes.
//!
//! Sans-I/O: every method that depends on time takes `now`; nothing here reads
//! a clock, touches a socket or a file. The server persists
//! [`Charger::persisted_values`] whenever a write reports [`SetOutcome::persist`].

use crate::car::CarProfile;
use crate::clock::{SimTime, format_loc, format_utc, utc_text_to_ms};
use crate::keyset::KeySet;
use crate::secrets::password_hash;
use crate::world::{SimError, SimState};
use goe_keys::{KEYS, KeyDef, KeyId, Value, key_id, render, set};
use goe_keys::{Lookup, SetError};

/// Inverter data older than this no longer counts (`pgrid`/`ppv`/`pakku` → null).
pub const INVERTER_DATA_TIMEOUT_MS: i64 = 10_000;

/// Why stored configuration could not be loaded into a charger.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A persisted value does not fit its key's type any more.
    #[error("stored value of {key} is invalid: {reason}")]
    BadStoredValue {
        /// The key.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

/// What a successful write implies for the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetOutcome {
    /// A persisted key changed: save before acknowledging.
    pub persist: bool,
    /// The charger was asked to restart (`rst`); call [`Charger::restart`]
    /// after answering the request.
    pub restart: bool,
}

/// Precomputed ids of keys the engine itself reads or writes.
#[derive(Debug, Clone, Copy)]
struct Ids {
    rbt: KeyId,
    rbc: KeyId,
    rr: KeyId,
    utc: KeyId,
    loc: KeyId,
    tof: KeyId,
    tds: KeyId,
    cards: KeyId,
    wifis: KeyId,
    pgrid: KeyId,
    ppv: KeyId,
    pakku: KeyId,
    inva: KeyId,
    ocu: KeyId,
    ocm: KeyId,
}

fn id(name: &str) -> KeyId {
    key_id(name).unwrap_or_else(|| panic!("key {name} missing from the table"))
}

impl Ids {
    fn resolve() -> Ids {
        Ids {
            rbt: id("rbt"),
            rbc: id("rbc"),
            rr: id("rr"),
            utc: id("utc"),
            loc: id("loc"),
            tof: id("tof"),
            tds: id("tds"),
            cards: id("cards"),
            wifis: id("wifis"),
            pgrid: id("pgrid"),
            ppv: id("ppv"),
            pakku: id("pakku"),
            inva: id("inva"),
            ocu: id("ocu"),
            ocm: id("ocm"),
        }
    }
}

/// A virtual go-eCharger's state.
#[derive(Debug, Clone)]
pub struct Charger {
    serial: String,
    values: Vec<Value>,
    ids: Ids,
    /// Simulated time of the last boot; `rbt` counts from here.
    boot_at: SimTime,
    /// Added to simulated time for `utc`/`loc` after a client set `utc`.
    clock_adjust_ms: i64,
    /// When the last inverter data (`ids`) arrived.
    inverter_data_at: Option<SimTime>,
}

impl Charger {
    /// Boots a charger: factory defaults, overlaid with `stored` persisted values,
    /// then `rbc` incremented. Persist [`Charger::persisted_values`] before serving.
    pub fn boot(
        serial: &str,
        stored: Option<&serde_json::Map<String, serde_json::Value>>,
        now: SimTime,
        seed: u64,
    ) -> Result<Charger, EngineError> {
        let mut values: Vec<Value> = KEYS
            .iter()
            .map(|def| goe_keys::default_value(def, serial))
            .collect();
        let first_boot = stored.is_none();
        if let Some(stored) = stored {
            for (name, json) in stored {
                let Some(kid) = key_id(name) else {
                    continue; // a key a newer build persisted; ignore
                };
                let def = &KEYS[kid];
                if !def.persisted() {
                    continue;
                }
                values[kid] = load_stored(def, json)?;
            }
        }
        let ids = Ids::resolve();
        let mut charger = Charger {
            serial: serial.to_owned(),
            values,
            ids,
            boot_at: now,
            clock_adjust_ms: 0,
            inverter_data_at: None,
        };
        charger.count_boot(if first_boot { 1 } else { 3 });
        charger.refresh_clock(now);
        Ok(charger)
    }

    fn count_boot(&mut self, reset_reason: i64) {
        let rbc = self.values[self.ids.rbc].as_i64().unwrap_or(0);
        self.values[self.ids.rbc] = Value::Int(rbc.saturating_add(1));
        self.values[self.ids.rr] = Value::Int(reset_reason);
    }

    /// The charger's serial number.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// Restarts like `rst=true`: configuration kept, live state back to defaults,
    /// `rbc` + 1, `rbt` from 0. Persist afterwards (`rbc` changed).
    pub fn restart(&mut self, now: SimTime) {
        for (kid, def) in KEYS.iter().enumerate() {
            if !def.persisted() {
                self.values[kid] = goe_keys::default_value(def, &self.serial);
            }
        }
        self.boot_at = now;
        self.inverter_data_at = None;
        self.count_boot(3);
        self.refresh_clock(now);
    }

    /// Runs the charger's once-a-second logic for every whole second up to `now`.
    pub fn step(&mut self, now: SimTime) -> StepOutcome {
        self.refresh_clock(now);
        self.expire_inverter_data(now);
        StepOutcome::default()
    }

    /// Brings the time-derived keys (`rbt`, `utc`, `loc`) to `now`.
    pub fn refresh_clock(&mut self, now: SimTime) {
        let ids = self.ids;
        let rbt = (now.millis() - self.boot_at.millis()).max(0);
        self.values[ids.rbt] = Value::Int(rbt);
        let wall = now.millis() + self.clock_adjust_ms;
        self.values[ids.utc] = Value::Str(format_utc(wall));
        let tof = self.values[ids.tof].as_i64().unwrap_or(0);
        let tds = self.values[ids.tds].as_i64().unwrap_or(0);
        self.values[ids.loc] = Value::Str(format_loc(wall, tof, tds));
        if let Some(at) = self.inverter_data_at {
            self.values[ids.inva] = Value::Int(now.millis() - at.millis());
        }
    }

    fn expire_inverter_data(&mut self, now: SimTime) {
        if let Some(at) = self.inverter_data_at
            && now.millis() - at.millis() > INVERTER_DATA_TIMEOUT_MS
        {
            let ids = self.ids;
            for kid in [ids.pgrid, ids.ppv, ids.pakku, ids.inva] {
                self.values[kid] = Value::Null;
            }
            self.inverter_data_at = None;
        }
    }

    /// The current value of a key (as stored; secrets unmasked — never send these).
    pub fn value(&self, name: &str) -> Option<&Value> {
        key_id(name).map(|kid| &self.values[kid])
    }

    /// The current value by id.
    pub fn value_by_id(&self, kid: KeyId) -> &Value {
        &self.values[kid]
    }

    /// Appends the status JSON at `now`: every readable key (or those in
    /// `filter`), in registration order, secrets masked.
    pub fn write_status(&mut self, now: SimTime, filter: Option<&KeySet>, out: &mut String) {
        self.refresh_clock(now);
        out.push('{');
        let mut first = true;
        for (kid, def) in KEYS.iter().enumerate() {
            if !def.access.readable() || filter.is_some_and(|f| !f.contains(kid)) {
                continue;
            }
            if !first {
                out.push(',');
            }
            first = false;
            out.push('"');
            out.push_str(def.name);
            out.push_str("\":");
            render::write_value(def, &self.values[kid], out);
        }
        out.push('}');
    }

    /// Applies one write of JSON text `raw` to key `name` at `now`.
    pub fn set(&mut self, now: SimTime, name: &str, raw: &str) -> Result<SetOutcome, SetError> {
        let kid = key_id(name).ok_or(SetError::UnknownKey)?;
        let def = &KEYS[kid];
        if !def.access.writable() {
            return Err(SetError::NoSetter);
        }
        let json = set::parse_json(raw).map_err(SetError::InvalidJson)?;
        let value = set::validate(def, &json, &self.values as &dyn Lookup)?;
        let mut outcome = SetOutcome {
            persist: def.persisted(),
            restart: false,
        };
        match def.name {
            "rst" => outcome.restart = value == Value::Bool(true),
            "pass" => {
                let pw = value.as_str().unwrap_or_default();
                self.values[kid] = Value::Str(password_hash(pw, &self.serial));
            }
            "utc" => {
                let parts = value
                    .as_str()
                    .and_then(set::parse_utc)
                    .and_then(utc_text_to_ms)
                    .ok_or_else(|| SetError::Invalid("bad time".into()))?;
                self.clock_adjust_ms = parts - now.millis();
                self.refresh_clock(now);
            }
            "mtp" if value.is_null() => {
                self.values[kid] = goe_keys::default_value(def, &self.serial);
            }
            "trx" => {
                if let Some(n) = value.as_i64()
                    && n > 0
                    && !self.card_learned((n - 1) as usize)
                {
                    return Err(SetError::Invalid(format!("card {} not learned", n - 1)));
                }
                self.values[kid] = value;
            }
            "del" => {
                let slot = value.as_i64().unwrap_or(0) as usize;
                self.clear_card(slot);
                outcome.persist = true;
            }
            "delw" => {
                let slot = value.as_i64().unwrap_or(0) as usize;
                self.clear_wifi(slot);
                outcome.persist = true;
            }
            "lrn" => {
                // Learning needs a card swiped at the charger (the control API
                // simulates swipes); with none read, there is nothing to learn.
            }
            "oct" => {
                let branch = value.as_str().unwrap_or_default();
                let known = matches!(&self.values[self.ids.ocu], Value::Array(list)
                    if list.iter().any(|b| b.as_str() == Some(branch)));
                if !known {
                    return Err(SetError::Invalid(format!("unknown branch {branch}")));
                }
                self.values[self.ids.ocm] =
                    Value::Str("virtual charger: firmware update not performed".into());
            }
            "ids" => self.apply_inverter_data(now, &value),
            _ => self.values[kid] = value,
        }
        Ok(outcome)
    }

    fn card_learned(&self, slot: usize) -> bool {
        match &self.values[self.ids.cards] {
            Value::Array(cards) => cards
                .get(slot)
                .and_then(|c| c.field("cardId"))
                .and_then(Value::as_str)
                .is_some_and(|id| !id.is_empty()),
            _ => false,
        }
    }

    fn clear_card(&mut self, slot: usize) {
        if let Value::Array(cards) = &mut self.values[self.ids.cards]
            && let Some(card) = cards.get_mut(slot)
        {
            *card = Value::Object(vec![
                ("name".into(), Value::Str(String::new())),
                ("energy".into(), Value::Int(0)),
                ("cardId".into(), Value::Str(String::new())),
            ]);
        }
    }

    fn clear_wifi(&mut self, slot: usize) {
        let def = &KEYS[self.ids.wifis];
        let Value::Array(factory) = goe_keys::default_value(def, "") else {
            return;
        };
        let blank = factory.last().cloned().unwrap_or(Value::Null);
        if let Value::Array(wifis) = &mut self.values[self.ids.wifis]
            && let Some(entry) = wifis.get_mut(slot)
        {
            *entry = blank;
        }
    }

    fn apply_inverter_data(&mut self, now: SimTime, value: &Value) {
        let ids = self.ids;
        let field = |name: &str| value.field(name).cloned().unwrap_or(Value::Null);
        if value.is_null() {
            for kid in [ids.pgrid, ids.ppv, ids.pakku, ids.inva] {
                self.values[kid] = Value::Null;
            }
            self.inverter_data_at = None;
            return;
        }
        self.values[ids.pgrid] = field("pGrid");
        self.values[ids.ppv] = field("pPv");
        self.values[ids.pakku] = field("pAkku");
        self.values[ids.inva] = Value::Int(0);
        self.inverter_data_at = Some(now);
    }

    /// Every persisted key and its exact value, for the durable store.
    pub fn persisted_values(&self) -> serde_json::Map<String, serde_json::Value> {
        KEYS.iter()
            .enumerate()
            .filter(|(_, def)| def.persisted())
            .map(|(kid, def)| (def.name.to_owned(), self.values[kid].to_serde_exact()))
            .collect()
    }
}

/// Converts a stored JSON value back into the key's representation.
fn load_stored(def: &KeyDef, json: &serde_json::Value) -> Result<Value, EngineError> {
    let bad = |reason: &str| EngineError::BadStoredValue {
        key: def.name.to_owned(),
        reason: reason.to_owned(),
    };
    let value = goe_keys::narrow(def, Value::from_json(json));
    let ok = match (&value, def.base().json_kind()) {
        (Value::Null, _) => def.ty.optional || def.access == goe_keys::Access::Write,
        (Value::Bool(_), goe_keys::JsonKind::Bool) => true,
        (Value::Int(_) | Value::UInt(_), goe_keys::JsonKind::Integer) => true,
        (
            Value::Float(_) | Value::Double(_) | Value::Int(_) | Value::UInt(_),
            goe_keys::JsonKind::Number,
        ) => true,
        (Value::Str(_), goe_keys::JsonKind::String) => true,
        (Value::Array(_), goe_keys::JsonKind::Array) => true,
        (Value::Object(_), goe_keys::JsonKind::Object) => true,
        _ => false,
    };
    if !ok {
        return Err(bad(&format!("expected {}", def.ty)));
    }
    Ok(value)
}

/// What a call to [`Charger::step`] implies for the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepOutcome {
    /// Persisted counters changed (energy, card energies): save soon.
    pub persist: bool,
}

/// Control of the simulated world (the `/sim/` API). Stubs until the world model lands.
impl Charger {
    /// Plugs in a car of `profile` at `soc` percent.
    pub fn plug(&mut self, _now: SimTime, _profile: CarProfile, _soc: f64) -> Result<(), SimError> {
        Ok(())
    }

    /// Unplugs the car. Persist afterwards (card energies).
    pub fn unplug(&mut self, _now: SimTime) -> Result<(), SimError> {
        Ok(())
    }

    /// Swipes the RFID card of slot `slot` (0..=9) at the charger.
    pub fn swipe_card(&mut self, _now: SimTime, _slot: usize) -> Result<(), SimError> {
        Ok(())
    }

    /// Presses the charger's button.
    pub fn press_button(&mut self, _now: SimTime) {}

    /// Sets what the house meter sees; `None` keeps a value.
    pub fn set_grid(
        &mut self,
        _now: SimTime,
        _pv_w: Option<f64>,
        _house_w: Option<f64>,
        _battery_w: Option<f64>,
    ) -> Result<(), SimError> {
        Ok(())
    }

    /// Injects a fault (`err` code), 0 clears it.
    pub fn inject_fault(&mut self, _now: SimTime, _err: u8) -> Result<(), SimError> {
        Ok(())
    }

    /// Sets the ambient temperature in °C.
    pub fn set_ambient(&mut self, _now: SimTime, _celsius: f64) -> Result<(), SimError> {
        Ok(())
    }

    /// Switches the legacy (API v1) access mode `ast` (0 open, 2 price, 3 scheduler) or off.
    pub fn set_legacy_access(&mut self, _now: SimTime, _ast: Option<u8>) -> Result<(), SimError> {
        Ok(())
    }

    /// A snapshot of the world and the charger's view of it.
    pub fn sim_state(&self, now: SimTime) -> SimState {
        SimState {
            serial: self.serial.clone(),
            time_ms: now.millis(),
            time: String::new(),
            plugged: false,
            car_profile: None,
            soc: None,
            capacity_wh: None,
            car_full: None,
            car_asleep: None,
            car_current_a: 0.0,
            phases: 0,
            power_w: 0.0,
            energy_total_wh: 0.0,
            grid: Default::default(),
            grid_power_w: 0.0,
            ambient_c: 20.0,
            fault: 0,
            model_status: 15,
            car_state: Some(1),
            simulated_unplug_until: None,
            phase_switch_until: None,
            seed: 0,
        }
    }
}
