//! One virtual charger: its key values, boot state, the effects of writes and
//! the control of its simulated world.
//!
//! Sans-I/O: every method that depends on time takes `now`; nothing here reads
//! a clock, touches a socket or a file. The server persists
//! [`Charger::persisted_values`] whenever a write reports [`SetOutcome::persist`]
//! or a step reports [`StepOutcome::persist`]. The once-a-second logic lives in
//! [`crate::logic`].

use crate::car::{Car, CarProfile};
use crate::clock::{
    DstWindow, SimTime, format_utc, utc_text_to_ms, write_loc_at_offset, write_utc,
};
use crate::ids::k;
use crate::keyset::KeySet;
use crate::logic::LogicState;
use crate::secrets::password_hash;
use crate::values::Values;
use crate::world::{SimError, SimState, World};
use goe_keys::{KEYS, KeyDef, KeyId, Printed, Profile, Value, key_id, render, set};
use goe_keys::{Lookup, SetError};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

/// Inverter data older than this no longer counts (`pgrid`/`ppv`/`pakku` → null).
pub const INVERTER_DATA_TIMEOUT_MS: i64 = 10_000;

/// A temporary current limit (`tcl`) expires this long after its last write.
pub const TCL_TIMEOUT_MS: i64 = 600_000;

/// A transaction started without a car ends after this long.
pub const TRX_WITHOUT_CAR_MS: i64 = 60_000;

/// `rbt` when the charger's API first answers after a boot or restart (ms):
/// after the Wi-Fi station connected (`lsstc`, 2000 in the 2021 table), so
/// that `rbt` is never 0 and no timestamp lies in the future (#13).
pub const API_UP_RBT_MS: i64 = 3000;

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
    /// after applying the request.
    pub restart: bool,
}

/// What a call to [`Charger::step`] implies for the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepOutcome {
    /// Persisted counters changed (energy, card energies): save soon.
    pub persist: bool,
}

/// A virtual go-eCharger's state.
#[derive(Debug, Clone)]
pub struct Charger {
    pub(crate) serial: String,
    /// The firmware this charger is: its keys, types, defaults and order.
    pub(crate) profile: &'static Profile,
    pub(crate) values: Values,
    /// Simulated time of the last boot; `rbt` counts from here.
    pub(crate) boot_at: SimTime,
    /// Added to simulated time for `utc`/`loc` after a client set `utc`.
    pub(crate) clock_adjust_ms: i64,
    /// When the last inverter data (`ids`) arrived through the API.
    pub(crate) inverter_data_at: Option<SimTime>,
    /// The simulated world.
    pub(crate) world: World,
    /// The logic's memory between ticks.
    pub(crate) logic: LogicState,
    /// What the OCPP backend decided, the last swipe (kept across restarts).
    pub(crate) ocpp: crate::ocpp::OcppState,
    /// The seeded source of every random choice.
    pub(crate) rng: ChaCha8Rng,
    /// Where new cloud tokens (`cak`) come from (not the simulation's `rng`).
    pub(crate) tokens: crate::cloud_token::TokenSource,
    pub(crate) seed: u64,
    /// Time of the last logic tick (whole seconds after boot).
    pub(crate) last_tick: Option<SimTime>,
    /// Per key: the generation in which its value last changed.
    pub(crate) changed_in: Vec<u64>,
    /// Values of a captured profile's verbatim entries that changed since
    /// the capture (a replay's timeline: [`Charger::put_verbatim`]), with the
    /// generation of the change; empty while every entry is as captured.
    verbatim_values: Vec<Option<(String, u64)>>,
    /// Counts ticks and writes; see [`Charger::changes_since`].
    pub(crate) generation: u64,
    /// A reused buffer for texts written every second (`utc`, `loc`).
    scratch: String,
    /// This year's daylight-saving window for the current `tof`/`tds`.
    dst: std::cell::Cell<DstWindow>,
    /// The last hour of power flows, one sample per 10 s (#16's chart).
    pub(crate) history: crate::history::PowerHistory,
}

impl Charger {
    /// Boots a charger: factory defaults, overlaid with `stored` persisted values,
    /// then `rbc` incremented. Persist [`Charger::persisted_values`] before serving.
    /// `seed` makes every random choice reproducible.
    pub fn boot(
        serial: &str,
        stored: Option<&serde_json::Map<String, serde_json::Value>>,
        now: SimTime,
        seed: u64,
    ) -> Result<Charger, EngineError> {
        Charger::boot_on(goe_keys::default_profile(), serial, stored, now, seed)
    }

    /// Boots a charger of firmware `profile` (see [`Charger::boot`]). `stored`
    /// is this firmware's store: every value in its type and within its
    /// rules (a store another firmware wrote goes through [`migrate_stored`]
    /// first, as a firmware update converts it); keys this firmware does not
    /// know are ignored.
    pub fn boot_on(
        profile: &'static Profile,
        serial: &str,
        stored: Option<&serde_json::Map<String, serde_json::Value>>,
        now: SimTime,
        seed: u64,
    ) -> Result<Charger, EngineError> {
        let mut values = Values::factory(serial, profile);
        let first_boot = stored.is_none();
        if let Some(stored) = stored {
            for (name, json) in stored {
                let Some((kid, def)) = profile.key(name) else {
                    continue; // a key another build or firmware persisted; ignore
                };
                if !def.persisted() {
                    continue;
                }
                // strictly in this firmware's type: a store of another
                // firmware is converted by [`migrate_stored`] first
                values.set(kid, load_stored(def, json)?);
            }
            // Then the API's rules (one rule source for writes and loads),
            // each key against its own limits (`goe_keys::stored`).
            for (name, json) in stored {
                let Some((_, def)) = profile.key(name) else {
                    continue;
                };
                if def.persisted() {
                    goe_keys::stored::validate_stored(def, json, serial, &values as &dyn Lookup)
                        .map_err(|e| EngineError::BadStoredValue {
                            key: def.name.to_owned(),
                            reason: e.to_string(),
                        })?;
                }
            }
        }
        let mut charger = Charger {
            serial: serial.to_owned(),
            profile,
            values,
            boot_at: now,
            clock_adjust_ms: 0,
            inverter_data_at: None,
            world: World::default(),
            logic: LogicState::default(),
            ocpp: crate::ocpp::OcppState::default(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            tokens: crate::cloud_token::TokenSource::from_seed(seed, serial),
            seed,
            last_tick: None,
            changed_in: vec![1; KEYS.len()],
            verbatim_values: Vec::new(),
            generation: 1,
            scratch: String::with_capacity(32),
            dst: std::cell::Cell::new(DstWindow::default()),
            history: crate::history::PowerHistory::default(),
        };
        charger.logic.reset_measurements(&charger.values);
        // `cards` is what the engine keeps; the per-card keys follow it
        charger.mirror_cards();
        charger.count_boot(if first_boot { 1 } else { 3 });
        charger.refresh_clock(now);
        charger.tick(now);
        charger.last_tick = Some(now);
        Ok(charger)
    }

    fn count_boot(&mut self, reset_reason: i64) {
        let rbc = self.values[k().rbc].as_i64().unwrap_or(0);
        self.put(k().rbc, Value::Int(rbc.saturating_add(1)));
        self.put(k().rr, Value::Int(reset_reason));
        // the RTC reset reason of both cores: POWERON_RESET=1, SW_CPU_RESET=12
        let rtc = if reset_reason == 1 { 1 } else { 12 };
        self.put(
            k().esr,
            Value::Array(vec![Value::Int(rtc), Value::Int(rtc)]),
        );
    }

    /// Stores a value, recording the change when it differs from the current one.
    /// Scalars (most of what the logic writes every second) are compared and
    /// stored in place without touching the allocator.
    #[inline(always)]
    pub(crate) fn put(&mut self, kid: KeyId, value: Value) {
        let changed = match self.values.owned_mut(kid) {
            Some(slot) => match (slot, value) {
                (Value::Int(old), Value::Int(new)) => replace_if_differs(old, new),
                (Value::Float(old), Value::Float(new)) => replace_if_differs(old, new),
                (Value::Double(old), Value::Double(new)) => replace_if_differs(old, new),
                (Value::Bool(old), Value::Bool(new)) => replace_if_differs(old, new),
                (Value::Null, Value::Null) => false,
                (slot, value) => {
                    let differs = *slot != value;
                    if differs {
                        self.values.set(kid, value);
                    }
                    differs
                }
            },
            None => {
                let differs = self.values[kid] != value;
                if differs {
                    self.values.set(kid, value);
                }
                differs
            }
        };
        if changed {
            self.changed_in[kid] = self.generation;
        }
    }

    /// Stores the text `write` produces, reusing the key's string buffer, and
    /// records a change when it differs (the clock keys, every second).
    fn put_text(&mut self, kid: KeyId, write: impl FnOnce(&mut String)) {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        write(&mut text);
        let changed = match &mut self.values[kid] {
            Value::Str(old) if *old == text => false,
            Value::Str(old) => {
                old.clear();
                old.push_str(&text);
                true
            }
            slot => {
                *slot = Value::Str(text.clone());
                true
            }
        };
        self.scratch = text;
        if changed {
            self.changed_in[kid] = self.generation;
        }
    }

    /// Mutable access to a value, recorded as changed.
    pub(crate) fn put_mut(&mut self, kid: KeyId) -> &mut Value {
        self.changed_in[kid] = self.generation;
        &mut self.values[kid]
    }

    /// Stores an array of floats (shown as 32-bit) in place, recording a change.
    pub(crate) fn put_floats(&mut self, kid: KeyId, new: &[f64]) {
        let mut changed = false;
        if let Value::Array(items) = &mut self.values[kid] {
            for (slot, v) in items.iter_mut().zip(new) {
                let v = *v as f32;
                changed |= match slot {
                    Value::Float(old) => replace_if_differs(old, v),
                    other => {
                        *other = Value::Float(v);
                        true
                    }
                };
            }
        }
        if changed {
            self.changed_in[kid] = self.generation;
        }
    }

    /// Stores an array of bools in place, recording a change.
    pub(crate) fn put_bools(&mut self, kid: KeyId, new: &[bool]) {
        let generation = self.generation;
        if let Value::Array(items) = &mut self.values[kid] {
            for (slot, v) in items.iter_mut().zip(new) {
                if slot.as_bool() != Some(*v) {
                    *slot = Value::Bool(*v);
                    self.changed_in[kid] = generation;
                }
            }
        }
    }

    /// The current generation: take it after publishing, pass it to
    /// [`Charger::changes_since`] next time to get what changed in between.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The keys whose value changed after generation `since` (readable ones only).
    /// Every consumer (MQTT, each WebSocket) keeps its own `since`, so
    /// publishing is driven by changes, not by timers per key.
    pub fn changes_since(&self, since: u64) -> KeySet {
        let mut set = KeySet::new();
        for (kid, generation) in self.changed_in.iter().enumerate() {
            if *generation > since && self.profile.readable(kid) {
                set.insert(kid);
            }
        }
        for (i, changed) in self.verbatim_values.iter().enumerate() {
            if changed.as_ref().is_some_and(|(_, g)| *g > since) {
                set.insert_verbatim(i);
            }
        }
        set
    }

    /// The JSON text of verbatim entry `index` of the captured profile: as
    /// captured, or as [`Charger::put_verbatim`] last set it.
    pub fn verbatim_json(&self, index: usize) -> &str {
        match self.verbatim_values.get(index) {
            Some(Some((json, _))) => json,
            _ => &self.profile.verbatim(index).json,
        }
    }

    /// Sets the value of a verbatim entry (a key the table does not know,
    /// printed as captured) to `json`, as a change of this generation, so
    /// status renderings, WebSocket deltas and MQTT follow it: what a replay
    /// of a real unit's trace needs. Returns whether `name` is such an entry.
    pub fn put_verbatim(&mut self, name: &str, json: &str) -> bool {
        let Some(index) = self.profile.verbatim_id(name) else {
            return false;
        };
        if self.verbatim_json(index) == json {
            return true;
        }
        self.generation += 1;
        if self.verbatim_values.len() <= index {
            self.verbatim_values
                .resize(self.profile.verbatim_count(), None);
        }
        self.verbatim_values[index] = Some((json.to_owned(), self.generation));
        true
    }

    /// The charger's serial number.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// When the logic last ran (whole seconds after boot), if ever.
    pub fn last_tick(&self) -> Option<SimTime> {
        self.last_tick
    }

    /// The seed of the simulation's random choices.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Restarts like `rst=true`: configuration kept, live state back to defaults,
    /// `rbc` + 1, `rbt` from 0. Persist afterwards (`rbc` changed).
    /// The car stays plugged in (a reboot does not unplug it).
    pub fn restart(&mut self, now: SimTime) {
        self.generation += 1;
        let energy_wh = self.logic.energy_total_wh;
        for kid in 0..KEYS.len() {
            if !self.def(kid).persisted() {
                let factory = self.factory_value(kid);
                if self.values[kid] != factory {
                    self.values.reset(kid, &self.serial);
                    self.changed_in[kid] = self.generation;
                }
            }
        }
        self.boot_at = now;
        self.inverter_data_at = None;
        self.logic = LogicState::default();
        self.logic.reset_measurements(&self.values);
        self.logic.energy_total_wh = energy_wh;
        // clients connected across the reboot see the charge controller start
        self.logic.restarted = true;
        if let Some(car) = &mut self.world.car {
            car.current_a = 0.0;
            car.wake_delay_s = 0;
        }
        // `trx` is back to null: the backend's authorization ended with it;
        // `osr`: charging does not resume after a reboot while OCPP is on
        self.ocpp_session_ended();
        let osr = self
            .profile
            .key("osr")
            .is_some_and(|(kid, _)| self.values[kid].as_bool() == Some(true));
        self.ocpp.stopped = osr && self.ocpp_on() && self.world.car.is_some();
        self.count_boot(3);
        self.refresh_clock(now);
        self.tick(now);
        self.last_tick = Some(now);
    }

    /// Runs the charger's once-a-second logic for every whole second since the
    /// last tick up to `now`, then brings the clock keys to `now`.
    pub fn step(&mut self, now: SimTime) -> StepOutcome {
        let mut outcome = StepOutcome::default();
        let mut next = self.last_tick.map_or(now, |t| t.plus_ms(1000));
        while next <= now {
            outcome.persist |= self.tick(next);
            self.record_history(next);
            self.last_tick = Some(next);
            next = next.plus_ms(1000);
        }
        self.refresh_clock(now);
        outcome
    }

    /// Samples the tick at `now` into the power history (first tick of each
    /// 10 s bucket only: [`crate::history`]).
    fn record_history(&mut self, now: SimTime) {
        let (logic, grid) = (&self.logic, &self.world.grid);
        self.history.record(now, || {
            [
                logic.power_w,
                grid.pv_w,
                grid.house_w,
                logic.meter_pgrid,
                grid.battery_w,
            ]
            .map(|w| w.round() as i32)
        });
    }

    /// The last hour of power flows at the charger, one sample per 10 s of
    /// simulated time (the dashboard's chart).
    pub fn power_history(&self) -> &crate::history::PowerHistory {
        &self.history
    }

    /// The charger's wall clock (UTC ms, as `utc` shows it) at simulated time `t`.
    pub fn wall_clock_ms(&self, t: SimTime) -> i64 {
        self.wall_ms(t)
    }

    /// Milliseconds since boot at `now` (the `rbt` time base).
    /// `rbt` starts at [`API_UP_RBT_MS`], not 0: a real unit's API answers
    /// only after its boot and Wi-Fi connection (`lsstc` 2000 in the 2021 table).
    pub(crate) fn since_boot(&self, now: SimTime) -> i64 {
        (now.millis() - self.boot_at.millis()).max(0) + API_UP_RBT_MS
    }

    /// Minutes east of UTC of the charger's local time at wall time `wall_ms`.
    pub(crate) fn local_offset_minutes(&self, wall_ms: i64) -> i64 {
        let tof = self.values[k().tof].as_i64().unwrap_or(0);
        let tds = self.values[k().tds].as_i64().unwrap_or(0);
        DstWindow::offset_minutes(&self.dst, wall_ms, tof, tds)
    }

    /// The charger's wall clock (UTC ms) at `now`.
    pub(crate) fn wall_ms(&self, now: SimTime) -> i64 {
        now.millis() + self.clock_adjust_ms
    }

    /// Brings the time-derived keys (`rbt`, `utc`, `loc`, `tab`, `lto`, `inva`) to `now`.
    pub fn refresh_clock(&mut self, now: SimTime) {
        self.generation += 1;
        let rbt = self.since_boot(now);
        self.put(k().rbt, Value::Int(rbt));
        let wall = self.wall_ms(now);
        self.put_text(k().utc, |out| write_utc(wall, out));
        let offset = self.local_offset_minutes(wall);
        self.put_text(k().loc, |out| write_loc_at_offset(wall, offset, out));
        // 60.x: boot time in UTC and the local offset (tab + rbt + lto = local time)
        self.put(k().tab, Value::Int(wall - rbt));
        self.put(k().lto, Value::Int(offset * 60_000));
        if let Some(at) = self.inverter_data_at {
            self.put(k().inva, Value::Int(now.millis() - at.millis()));
        }
    }

    /// The current value of a key (as stored; secrets unmasked — never send these).
    pub fn value(&self, name: &str) -> Option<&Value> {
        key_id(name).map(|kid| &self.values[kid])
    }

    /// The firmware this charger is.
    pub fn profile(&self) -> &'static Profile {
        self.profile
    }

    /// The definition the charger holds a key by: its firmware's, or the
    /// table's main one for a key that firmware does not have (never printed).
    pub fn def(&self, kid: KeyId) -> &'static KeyDef {
        self.profile.def(kid).unwrap_or(&KEYS[kid])
    }

    /// The factory value of a key on this charger's firmware.
    pub(crate) fn factory_value(&self, kid: KeyId) -> Value {
        goe_keys::default_value_with(self.def(kid), &self.serial, self.profile.fwv)
    }

    /// The current value by id.
    pub fn value_by_id(&self, kid: KeyId) -> &Value {
        &self.values[kid]
    }

    /// Appends the status JSON at `now`: every readable key (or those in
    /// `filter`), in registration order, secrets masked.
    pub fn write_status(&mut self, now: SimTime, filter: Option<&KeySet>, out: &mut String) {
        self.refresh_clock(now);
        self.write_status_template(filter, &KeySet::new(), out, &mut Vec::new());
    }

    /// The keys whose value depends on the moment of reading (`rbt`, `utc`,
    /// `loc`, `inva`): [`Charger::refresh_clock`] rewrites them, so a cached
    /// status leaves holes for them (see [`Charger::write_status_template`]).
    pub fn clock_keys() -> KeySet {
        let mut set = KeySet::new();
        for kid in [k().rbt, k().utc, k().loc, k().inva] {
            set.insert(kid);
        }
        set
    }

    /// Whether any key of `filter` (every key with `None`) outside `skip`
    /// changed after generation `since`: tells a cached rendering it is stale.
    pub fn changed_after(&self, filter: Option<&KeySet>, since: u64, skip: &KeySet) -> bool {
        let changed = |kid: KeyId| self.changed_in[kid] > since && self.profile.readable(kid);
        let verbatim_changed = self.verbatim_values.iter().enumerate().any(|(i, v)| {
            v.as_ref().is_some_and(|(_, g)| *g > since)
                && filter.is_none_or(|f| f.contains_verbatim(i))
        });
        verbatim_changed
            || match filter {
                // a filter names a few keys: visit only those
                Some(f) => f.without(skip).iter().any(changed),
                None => (0..KEYS.len()).any(|kid| !skip.contains(kid) && changed(kid)),
            }
    }

    /// Ends the current generation and returns it: whatever changes from now
    /// on is newer than a rendering made before this call. Callers caching
    /// renderings keep the returned number.
    pub fn seal_generation(&mut self) -> u64 {
        let sealed = self.generation;
        self.generation += 1;
        sealed
    }

    /// Appends the status JSON like [`Charger::write_status`] (without
    /// refreshing the clock), but leaves the values of the keys in `holes_for`
    /// out, recording `(offset in out, key)` for each, so a cache can splice
    /// fresh values in with [`Charger::write_key`].
    pub fn write_status_template(
        &self,
        filter: Option<&KeySet>,
        holes_for: &KeySet,
        out: &mut String,
        holes: &mut Vec<(usize, KeyId)>,
    ) {
        out.push('{');
        let mut first = true;
        let profile = self.profile;
        for &entry in profile.printed() {
            let kid = match entry {
                Printed::Key(kid) => kid,
                Printed::Verbatim(i) => {
                    // a captured profile's key: as the capture showed it
                    if filter.is_some_and(|f| !f.contains_verbatim(i)) {
                        continue;
                    }
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    goe_keys::value::write_string(&profile.verbatim(i).name, out);
                    out.push(':');
                    out.push_str(self.verbatim_json(i));
                    continue;
                }
            };
            if filter.is_some_and(|f| !f.contains(kid)) {
                continue;
            }
            let Some(def) = profile.def(kid) else {
                continue;
            };
            if !first {
                out.push(',');
            }
            first = false;
            out.push('"');
            out.push_str(def.name);
            out.push_str("\":");
            if holes_for.contains(kid) {
                holes.push((out.len(), kid));
            } else {
                render::write_value(def, &self.values[kid], out);
            }
        }
        out.push('}');
    }

    /// Sets a status key the server owns (MQTT state `mcs`/`mcc`/`mcca`/`mlr`/
    /// `mlra`, client counters `wccw`/`wcch`). Only read-only keys may be set
    /// this way; returns whether the key exists and is one.
    pub fn set_status(&mut self, name: &str, value: Value) -> bool {
        match self.profile.key(name) {
            Some((kid, def)) if def.access == goe_keys::Access::Read => {
                self.generation += 1;
                self.put(kid, value);
                true
            }
            _ => false,
        }
    }

    /// Puts a recorded value of any key this firmware prints, bypassing the
    /// write validation and its side effects: a replay (`goe-charger
    /// --replay`, #17) shows what the unit showed. Numbers are narrowed to
    /// the key's type; returns whether the key exists on this firmware.
    pub fn put_replayed(&mut self, name: &str, json: &serde_json::Value) -> bool {
        match self.profile.key(name) {
            Some((kid, def)) => {
                self.generation += 1;
                self.put(kid, goe_keys::narrow(def, Value::from_json(json)));
                true
            }
            None => false,
        }
    }

    /// Milliseconds since boot at `now` (the time base of `mcca`, `lbp`, …).
    pub fn millis_since_boot(&self, now: SimTime) -> i64 {
        self.since_boot(now)
    }

    /// Appends the JSON of one key as clients see it (secrets masked).
    pub fn write_key(&self, kid: KeyId, out: &mut String) {
        render::write_value(self.def(kid), &self.values[kid], out);
    }

    /// Seeds the generator of cloud tokens with entropy the server took from
    /// the OS, so tokens cannot be predicted from the serial or the seed.
    pub fn seed_cloud_tokens(&mut self, entropy: [u8; 32]) {
        self.tokens = crate::cloud_token::TokenSource::from_entropy(entropy);
    }

    /// Gives a charger whose firmware has `cak` a token if it has none (the
    /// first boot); `true` when it generated one (persist it before serving).
    pub fn ensure_cloud_token(&mut self) -> bool {
        let Some((kid, _)) = self.profile.key("cak") else {
            return false;
        };
        if crate::cloud_token::has_token(&self.values[kid]) {
            return false;
        }
        self.generation += 1;
        let token = self.tokens.next_token();
        self.put(kid, Value::Str(token));
        true
    }

    /// Applies one write of JSON text `raw` to key `name` at `now`.
    pub fn set(&mut self, now: SimTime, name: &str, raw: &str) -> Result<SetOutcome, SetError> {
        self.generation += 1;
        if self.profile.verbatim_id(name).is_some() {
            // a key a clone prints as captured: shown, never written
            return Err(SetError::NoSetter);
        }
        let (kid, def) = self.profile.key(name).ok_or(SetError::UnknownKey)?;
        if !def.access.writable() {
            return Err(SetError::NoSetter);
        }
        let json = set::parse_json(raw).map_err(SetError::InvalidJson)?;
        let value = set::validate(def, &json, &self.values as &dyn Lookup)?;
        let mut outcome = SetOutcome {
            persist: def.persisted(),
            restart: false,
        };
        let rbt = self.since_boot(now);
        match def.name {
            "rst" => outcome.restart = restart_requested(&value),
            "cak" => {
                // any value: a new token, the old one is void (cloudapi-en.md)
                let token = self.tokens.next_token();
                self.put(kid, Value::Str(token));
            }
            "pass" => {
                let pw = value.as_str().unwrap_or_default();
                self.put(kid, Value::Str(password_hash(pw, &self.serial)));
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
            "mtp" | "mht" if value.is_null() => {
                self.put(kid, goe_keys::default_value(def, &self.serial));
            }
            "trx" => {
                if let Some(n) = value.as_i64()
                    && n > 0
                    && !self.card_learned((n - 1) as usize)
                {
                    return Err(SetError::Invalid(format!("card {} not learned", n - 1)));
                }
                if !value.is_null() && self.world.car.is_none() {
                    self.logic.trx_without_car_since = Some(rbt);
                }
                self.put(kid, value);
            }
            "tcl" => {
                self.logic.tcl_set_at = (!value.is_null()).then_some(rbt);
                self.put(kid, value);
            }
            "del" => {
                let slot = value.as_i64().unwrap_or(0) as usize;
                self.clear_card(slot);
                self.mirror_cards();
                outcome.persist = true;
            }
            "delw" => {
                let slot = value.as_i64().unwrap_or(0) as usize;
                self.clear_wifi(slot);
                outcome.persist = true;
            }
            "lrn" => {
                // Learns the card last swiped at the charger (see `swipe_card`);
                // with none read, there is nothing to learn.
                let slot = value.as_i64().unwrap_or(0) as usize;
                if let Some(id) = self.logic.last_read_card.clone() {
                    self.set_card_id(slot, &id);
                    self.mirror_cards();
                    outcome.persist = true;
                }
            }
            "oct" => {
                let branch = value.as_str().unwrap_or_default();
                let known = matches!(&self.values[k().ocu], Value::Array(list)
                    if list.iter().any(|b| b.as_str() == Some(branch)));
                if !known {
                    return Err(SetError::Invalid(format!("unknown branch {branch}")));
                }
                self.put(
                    k().ocm,
                    Value::Str("virtual charger: firmware update not performed".into()),
                );
            }
            "ids" => self.apply_inverter_data(now, &value),
            "frc" => {
                self.put(kid, value);
            }
            "fsp" => {
                // writable since 055.2: forces single phase until written false
                self.logic.fsp_forced = value == Value::Bool(true);
                self.put(kid, value);
            }
            "cards" => {
                self.put(kid, value);
                self.mirror_cards();
            }
            name if crate::cards::per_card_key(name).is_some() => {
                if let Some((slot, field)) = crate::cards::per_card_key(name) {
                    self.set_per_card_key(slot, field, value);
                }
            }
            _ => self.put(kid, value),
        }
        Ok(outcome)
    }

    pub(crate) fn card_id(&self, slot: usize) -> Option<&str> {
        match &self.values[k().cards] {
            Value::Array(cards) => cards
                .get(slot)
                .and_then(|c| c.field("cardId"))
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty()),
            _ => None,
        }
    }

    fn card_learned(&self, slot: usize) -> bool {
        self.card_id(slot).is_some()
    }

    fn set_card_id(&mut self, slot: usize, id: &str) {
        if let Value::Array(cards) = self.put_mut(k().cards)
            && let Some(Value::Object(fields)) = cards.get_mut(slot)
        {
            match fields.iter_mut().find(|(name, _)| name == "cardId") {
                Some((_, v)) => *v = Value::Str(id.to_owned()),
                None => fields.push(("cardId".into(), Value::Str(id.to_owned()))),
            }
        }
    }

    fn clear_card(&mut self, slot: usize) {
        if let Value::Array(cards) = self.put_mut(k().cards)
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
        let Value::Array(factory) = self.factory_value(k().wifis) else {
            return;
        };
        let blank = factory.last().cloned().unwrap_or(Value::Null);
        if let Value::Array(wifis) = self.put_mut(k().wifis)
            && let Some(entry) = wifis.get_mut(slot)
        {
            *entry = blank;
        }
    }

    fn apply_inverter_data(&mut self, now: SimTime, value: &Value) {
        let field = |name: &str| value.field(name).cloned().unwrap_or(Value::Null);
        if value.is_null() {
            for kid in [k().pgrid, k().ppv, k().pakku, k().inva] {
                self.put(kid, Value::Null);
            }
            self.inverter_data_at = None;
            self.logic.surplus_known = self.world.grid.metered;
            return;
        }
        self.put(k().pgrid, field("pGrid"));
        self.put(k().ppv, field("pPv"));
        self.put(k().pakku, field("pAkku"));
        self.put(k().inva, Value::Int(0));
        // the reading's pGrid contains what the charger drew at this moment
        self.logic.ids_power_w = self.logic.power_w;
        self.inverter_data_at = Some(now);
    }

    /// Every persisted key and its exact value, for the durable store.
    pub fn persisted_values(&self) -> serde_json::Map<String, serde_json::Value> {
        self.profile
            .keys()
            .filter(|(_, def)| def.persisted())
            .map(|(kid, def)| (def.name.to_owned(), self.values[kid].to_serde_exact()))
            .collect()
    }
}

/// Load balancing (driven by the fleet's group coordinator).
impl Charger {
    /// What this charger asks of its load-balancing group, when `loe` is on.
    pub fn load_demand(&self) -> Option<crate::loadbalance::Demand> {
        if self.values[k().loe].as_bool() != Some(true) {
            return None;
        }
        Some(crate::loadbalance::Demand {
            serial: self.serial.clone(),
            priority: self.values[k().lop].as_i64().unwrap_or(50),
            wanted_a: self.logic.wanted_a,
            min_a: self.values[k().mca].as_i64().unwrap_or(6),
        })
    }

    /// The group id (`log`) this charger balances in, when `loe` is on.
    pub fn load_group(&self) -> Option<&str> {
        (self.values[k().loe].as_bool() == Some(true))
            .then(|| self.values[k().log].as_str().unwrap_or_default())
    }

    /// Hands the coordinator's allotment to the charger (applied at the next
    /// second); `None` = the coordinator is lost, the charger falls back to `lof`.
    pub fn set_load_allocation(&mut self, allocation: Option<crate::loadbalance::Allocation>) {
        self.logic.load = allocation;
    }
}

/// Control of the simulated world (the `/sim/` API).
impl Charger {
    /// Plugs in a car of `profile` at `soc` percent.
    pub fn plug(&mut self, now: SimTime, profile: CarProfile, soc: f64) -> Result<(), SimError> {
        self.generation += 1;
        if self.world.car.is_some() {
            return Err(SimError::AlreadyPlugged);
        }
        profile.validate().map_err(SimError::BadParameter)?;
        if !(0.0..=100.0).contains(&soc) {
            return Err(SimError::BadParameter(format!(
                "soc must be 0..100, got {soc}"
            )));
        }
        self.world.car = Some(Car::new(profile, soc));
        self.begin_session(now);
        Ok(())
    }

    /// Unplugs the car: `frc` back to Neutral, the transaction ends (its
    /// energy is booked on the card), `wh` stays readable until the next plug-in.
    pub fn unplug(&mut self, now: SimTime) -> Result<(), SimError> {
        self.generation += 1;
        if self.world.car.take().is_none() {
            return Err(SimError::NotPlugged);
        }
        self.end_session(now);
        self.ocpp_session_ended();
        self.logic.errors.replug = 0;
        Ok(())
    }

    /// Swipes the RFID card of slot `slot` (0..=9). A learned card starts a
    /// transaction (`trx` = slot + 1); an unknown one is remembered for `lrn`.
    /// Either is recorded as the last swipe ([`Charger::last_swipe`]) with
    /// the card's id (`cards[slot].cardId`, or the unknown card's own);
    /// while `ocppe` is on the OCPP backend decides, not the charger.
    pub fn swipe_card(&mut self, now: SimTime, slot: usize) -> Result<(), SimError> {
        self.generation += 1;
        if slot > 9 {
            return Err(SimError::BadParameter(format!(
                "card must be 0..9, got {slot}"
            )));
        }
        let learned = self.card_id(slot).map(str::to_owned);
        // an unknown card: its id is what `lrn` would learn
        let id = learned
            .clone()
            .unwrap_or_else(|| format!("SIM{:08X}", 0xC0DE_0000u32 + slot as u32));
        self.record_swipe(&id);
        self.logic.last_read_card = Some(id);
        if learned.is_some() && !self.ocpp_on() {
            self.authorize_card(now, slot);
        }
        Ok(())
    }

    /// A learned card starts a transaction: `trx` = slot + 1.
    pub(crate) fn authorize_card(&mut self, now: SimTime, slot: usize) {
        self.put(k().trx, Value::Int(slot as i64 + 1));
        if self.world.car.is_none() {
            self.logic.trx_without_car_since = Some(self.since_boot(now));
        }
    }

    /// Presses the charger's button: where `bac` allows it now, steps `amp`
    /// to the next current preset of `clp` (wrapping around).
    pub fn press_button(&mut self, now: SimTime) {
        self.generation += 1;
        let rbt = self.since_boot(now);
        self.put(k().lbp, Value::Int(rbt));
        let car = self.values[k().car].as_i64();
        if !button_unlocked(&self.values[k().bac], car) {
            return;
        }
        let Value::Array(presets) = &self.values[k().clp] else {
            return;
        };
        let mut presets: Vec<i64> = presets.iter().filter_map(Value::as_i64).collect();
        presets.sort_unstable();
        presets.dedup();
        let amp = self.values[k().amp].as_i64().unwrap_or(6);
        let ama = self.values[k().ama].as_i64().unwrap_or(16);
        let next = presets
            .iter()
            .copied()
            .find(|p| *p > amp && *p <= ama)
            .or_else(|| presets.first().copied());
        if let Some(next) = next {
            self.put(k().amp, Value::Int(next.min(ama)));
        }
    }

    /// The load-balancing total of this charger's `lot` (see
    /// [`crate::loadbalance::lot_amps`]): `lot.dyn` when `loty` is dynamic.
    pub fn load_total(&self) -> i64 {
        let dynamic = self.values[k().loty].as_i64() == Some(1);
        crate::loadbalance::lot_amps(&self.values[k().lot], dynamic)
    }

    /// Sets what the house meter sees; `None` keeps a value. From then on the
    /// charger's PV logic receives this meter's data every second. A fixed
    /// `battery_w` is refused while the world has a [`crate::HomeBattery`]: its
    /// controller sets the battery's power.
    pub fn set_grid(
        &mut self,
        _now: SimTime,
        pv_w: Option<f64>,
        house_w: Option<f64>,
        battery_w: Option<f64>,
    ) -> Result<(), SimError> {
        let check = |name: &str, v: Option<f64>, min: f64| -> Result<(), SimError> {
            match v {
                Some(x) if !(x.is_finite() && x >= min && x.abs() <= 1e7) => Err(
                    SimError::BadParameter(format!("{name} must be a number of W >= {min}")),
                ),
                _ => Ok(()),
            }
        };
        check("pv", pv_w, 0.0)?;
        check("house", house_w, 0.0)?;
        check("battery", battery_w, -1e7)?;
        if battery_w.is_some() && self.world.battery.is_some() {
            return Err(SimError::BadParameter(
                "battery: a home battery is configured (/sim/battery); its controller \
                 sets the battery power (remove it with capacity=0 to set a fixed power)"
                    .into(),
            ));
        }
        let grid = &mut self.world.grid;
        grid.pv_w = pv_w.unwrap_or(grid.pv_w);
        grid.house_w = house_w.unwrap_or(grid.house_w);
        grid.battery_w = battery_w.unwrap_or(grid.battery_w);
        grid.metered = true;
        Ok(())
    }

    /// Adds, changes or (capacity 0) removes the home battery. From the next
    /// second its self-consumption controller sets the battery power the
    /// meter sees (`pAkku`); removing it leaves the battery at 0 W.
    pub fn set_battery(
        &mut self,
        _now: SimTime,
        settings: &crate::battery::BatterySettings,
    ) -> Result<(), SimError> {
        let battery =
            crate::battery::HomeBattery::configure(self.world.battery.as_ref(), settings)?;
        if battery.is_none() {
            self.world.grid.battery_w = 0.0;
        }
        self.world.battery = battery;
        Ok(())
    }

    /// One second of the home battery's controller: it sees the grid point's
    /// balance without itself (house + the charger's power − PV), as the
    /// meter sees it this second, and sets the world's battery power.
    pub(crate) fn step_home_battery(&mut self) {
        let grid = self.world.grid;
        if let Some(battery) = &mut self.world.battery {
            let deficit = grid.house_w + self.logic.power_w - grid.pv_w;
            self.world.grid.battery_w = battery.step(deficit, 1.0);
        }
    }

    /// Injects a fault (`err` code): a lasting condition (0 ends it) or, for
    /// the codes that need a replug, a trip that stays until the car is
    /// unplugged. How each code clears: [`crate::errors::clearing`].
    pub fn inject_fault(&mut self, _now: SimTime, err: u8) -> Result<(), SimError> {
        let def = self.def(k().err);
        if err != 0 && def.enum_name(i64::from(err)).is_none() {
            let known: Vec<String> = def.enums.iter().map(|(v, n)| format!("{v} {n}")).collect();
            return Err(SimError::BadParameter(format!(
                "unknown err code {err}; known: {}",
                known.join(", ")
            )));
        }
        // a trip that needs a replug is an event: it stays latched after the
        // injection, `err=0` ends lasting conditions only (crate::errors)
        if crate::errors::clearing(err) == crate::errors::Clearing::Replug {
            self.logic.errors.replug = err;
        } else {
            self.world.fault = err;
        }
        Ok(())
    }

    /// Sets the ambient temperature in °C; the sensors settle at once.
    pub fn set_ambient(&mut self, _now: SimTime, celsius: f64) -> Result<(), SimError> {
        if !(-40.0..=100.0).contains(&celsius) {
            return Err(SimError::BadParameter(format!(
                "celsius must be -40..100, got {celsius}"
            )));
        }
        self.world.ambient_c = celsius;
        self.logic.settle_temperatures(&self.world);
        Ok(())
    }

    /// Switches the legacy (API v1) access mode `ast` (0 open, 2 price, 3
    /// scheduler) on, or off with `None`.
    pub fn set_legacy_access(&mut self, _now: SimTime, ast: Option<u8>) -> Result<(), SimError> {
        if let Some(a) = ast
            && !matches!(a, 0 | 2 | 3)
        {
            return Err(SimError::BadParameter(format!(
                "ast must be 0 (open), 2 (price) or 3 (scheduler), got {a}"
            )));
        }
        self.logic.legacy_ast = ast;
        Ok(())
    }

    /// A snapshot of the world and the charger's view of it.
    pub fn sim_state(&self, now: SimTime) -> SimState {
        let car = self.world.car.as_ref();
        let wall = self.wall_ms(now);
        SimState {
            serial: self.serial.clone(),
            time_ms: wall,
            time: format!("{}Z", format_utc(wall)),
            plugged: car.is_some(),
            car_profile: car.map(|c| c.profile.name.clone()),
            soc: car.map(|c| c.soc),
            capacity_wh: car.map(|c| c.profile.capacity_wh),
            car_full: car.map(|c| c.full),
            car_asleep: car.map(|c| c.asleep),
            car_current_a: car.map_or(0.0, |c| c.current_a),
            phases: self.logic.contactor_phases,
            power_w: self.logic.power_w,
            energy_total_wh: self.logic.energy_total_wh,
            grid: self.world.grid,
            battery: self.world.battery,
            grid_power_w: self.logic.meter_pgrid,
            ambient_c: self.world.ambient_c,
            fault: self.world.fault,
            model_status: self.values[k().model_status].as_i64().unwrap_or(0) as u8,
            car_state: self.values[k().car].as_i64().map(|c| c as u8),
            simulated_unplug_until: self.logic.sim_unplug_until,
            phase_switch_until: self.logic.phase_switch.map(|p| p.until),
            seed: self.seed,
        }
    }
}

/// Overwrites `old` with `new` when they differ (by `==`, like `Value`'s own
/// comparison); returns whether it did.
#[inline]
fn replace_if_differs<T: PartialEq>(old: &mut T, new: T) -> bool {
    let differs = *old != new;
    if differs {
        *old = new;
    }
    differs
}

/// Converts a stored JSON value back into the key's representation.
/// The stored values another firmware wrote, reduced to what a charger of
/// `profile` loads without complaint (its persisted keys, of its types,
/// within its rules), and the names of the settings left out: booting on
/// another firmware is a firmware update, which keeps what it can.
pub fn migrate_stored(
    profile: &'static Profile,
    serial: &str,
    stored: &serde_json::Map<String, serde_json::Value>,
) -> (serde_json::Map<String, serde_json::Value>, Vec<String>) {
    let mut values = Values::factory(serial, profile);
    let mut kept = serde_json::Map::new();
    let mut dropped = Vec::new();
    for (name, json) in stored {
        match profile.key(name) {
            Some((kid, def)) if def.persisted() => {
                // in this firmware's type, or an older firmware's value taken
                // over in it (`bac: true`), as `boot_on` loads it
                let value = load_stored(def, json).or_else(|_| {
                    goe_keys::stored::validate_stored(def, json, serial, &values as &dyn Lookup)
                });
                match value {
                    Ok(value) => {
                        kept.insert(name.clone(), value.to_serde_exact());
                        values.set(kid, value);
                    }
                    Err(_) => dropped.push(name.clone()),
                }
            }
            _ => dropped.push(name.clone()),
        }
    }
    kept.retain(|name, json| {
        let (_, def) = profile.key(name).expect("kept keys exist");
        let ok =
            goe_keys::stored::validate_stored(def, json, serial, &values as &dyn Lookup).is_ok();
        if !ok {
            dropped.push(name.clone());
        }
        ok
    });
    (kept, dropped)
}

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

/// Whether the button may act now under a `bac`/`sdp` setting: the 2021 bool
/// (`true` = always), or since 055.2 the lock mode 0 AlwaysLock,
/// 1 LockWhenCarIsConnected, 2 LockWhenCarIsCharging, 3 NeverLock (the
/// key's type says which; `car` is the car state: 1 idle, 2 charging).
pub fn button_unlocked(setting: &Value, car: Option<i64>) -> bool {
    match setting {
        Value::Bool(b) => *b,
        Value::Int(0) => false,
        Value::Int(1) => car == Some(1),
        Value::Int(2) => car != Some(2),
        Value::Int(3) => true,
        _ => false,
    }
}

/// Whether a value written to `rst` restarts the charger: `true`, a non-zero
/// number or a string other than `""`, `"0"` and `"false"` (Home Assistant
/// sends the string `"true"`); `false`, `0`, `null` and structures are
/// accepted without restarting.
pub fn restart_requested(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Str(s) => !matches!(s.trim(), "" | "0" | "false"),
        Value::Null | Value::Array(_) | Value::Object(_) => false,
        other => other.as_f64().is_some_and(|f| f != 0.0),
    }
}
