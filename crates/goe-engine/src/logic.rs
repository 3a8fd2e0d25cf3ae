//! The charger's once-a-second logic and the physics it drives.
//!
//! Each `Charger::tick` (one simulated second) does, in order:
//! expire timers → read the meter → decide (`modelStatus`, whether and with how
//! many amps to charge) → phase switching and simulated unplugging → the car
//! reacts → electrical and thermal model → write the status keys.
//!
//! The decision cascade follows `charging-logic.md` §2.2: charge-controller
//! fault, overtemperature, access control, force state, legacy access mode,
//! scheduler, energy limit, logic mode (default / eco with flexible tariff and
//! PV surplus / next trip), then the post-processing codes 19, 20, 22, 23, 24.

use crate::charger::Charger;
use crate::clock::SimTime;
use crate::ids::k;
use crate::world::World;
use goe_keys::Value;
use jiff::civil::Weekday;
use rand_core::Rng;

/// Nominal grid voltage used by the PV controller's power-to-current conversion.
pub const NOMINAL_VOLTAGE: f64 = 230.0;

/// Test charge duration of the next-trip planner, in ms of drawing current.
pub const TEST_CHARGE_MS: i64 = 60_000;

/// How long the PV surplus must stay below the minimum before charging stops, in ms.
pub const PV_STOP_GRACE_MS: i64 = 60_000;

/// eto is persisted (and copied to `etop`) every this many Wh.
pub const ETO_PERSIST_STEP_WH: i64 = 100;

/// Car types (`ct`) that need a keep-alive current instead of a pause (code 19).
pub const KEEP_ALIVE_CAR_TYPES: &[&str] = &["renaultZoe", "daciaSpring", "smartEq"];

/// Temperature (°C) above which the current is derated.
pub const DERATE_FROM_C: f64 = 60.0;

/// Temperature (°C) above which charging stops (code 1).
pub const OVERTEMP_C: f64 = 80.0;

/// A phase switch in progress: the contactor stays open until `until` (ms since boot).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseSwitch {
    /// End of the pause, ms since boot.
    pub until: i64,
    /// Phases after the switch.
    pub to: u8,
}

/// What the logic remembers between ticks (not visible as keys).
#[derive(Debug, Clone)]
pub struct LogicState {
    /// Energy delivered since first boot, unrounded (`eto` is its floor).
    pub energy_total_wh: f64,
    /// `eto` at the last persist.
    pub persisted_eto: i64,
    /// Total charging power of the last tick, W.
    pub power_w: f64,
    /// Grid power the simulated meter saw last, W.
    pub meter_pgrid: f64,
    /// Phases the contactor connects to the car now (0 = open).
    pub contactor_phases: u8,
    /// Phases the charger is set to (1 or 3).
    pub selected_phases: u8,
    /// Wish of the PV logic (1 or 3) and since when (ms since boot).
    pub wish_phases: u8,
    /// Since when the wish differs from the selection.
    pub wish_since: Option<i64>,
    /// Last phase toggle, ms since boot.
    pub last_toggle: Option<i64>,
    /// A phase switch in progress.
    pub phase_switch: Option<PhaseSwitch>,
    /// A simulated unplug in progress until (ms since boot).
    pub sim_unplug_until: Option<i64>,
    /// The PV controller is in its charging state.
    pub pv_charging: bool,
    /// When PV charging started (for `fmt`).
    pub pv_since: i64,
    /// Since when the PV surplus is below the minimum.
    pub pv_below_since: Option<i64>,
    /// PV charging happened in this session (for code 20).
    pub pv_charged_in_session: bool,
    /// Smoothed meter values (W).
    pub avg_pgrid: f64,
    /// Smoothed PV power (W).
    pub avg_ppv: f64,
    /// Smoothed battery power (W).
    pub avg_pakku: f64,
    /// The charger's own power when the last `ids` reading arrived (W): the
    /// reading's `pGrid` includes this power, not the car's power of later
    /// seconds.
    pub ids_power_w: f64,
    /// Smoothed surplus the readings show (W): the charger's power at each
    /// reading minus its `pGrid` and `pAkku`. The PV controller follows this.
    pub avg_surplus: f64,
    /// A reading (inverter data or the simulated meter) is known: the
    /// averages hold data, not their zero start. The first reading seeds
    /// them, so the first decision is not made on a fraction of the surplus.
    pub surplus_known: bool,
    /// The phase count was decided in this plug session: the first decision
    /// after plug-in takes the wish at once (no `mpwst`), later ones wait.
    pub phases_decided: bool,
    /// Next trip: ms of test charge done, and whether it is finished.
    pub test_charge_ms: i64,
    /// Next trip: test charge finished.
    pub test_charge_done: bool,
    /// When `tcl` was last written (ms since boot).
    pub tcl_set_at: Option<i64>,
    /// A transaction started while no car was plugged (ms since boot).
    pub trx_without_car_since: Option<i64>,
    /// The id of the last card swiped (for `lrn`).
    pub last_read_card: Option<String>,
    /// Legacy API v1 access mode, when set.
    pub legacy_ast: Option<u8>,
    /// Per-phase voltage random walk (V).
    pub voltage_walk: [f64; 3],
    /// Grid frequency offset from 50 Hz.
    pub freq_offset: f64,
    /// Averaged grid frequency.
    pub avg_freq: f64,
    /// Socket and board temperatures (°C).
    pub temps: [f64; 2],
    /// Energy flowed in this plug session.
    pub session_energy_flowed: bool,
    /// The car drew current in the last tick.
    pub car_was_drawing: bool,
    /// When the car started drawing (for `mci`), ms since boot.
    pub charge_started: Option<i64>,
    /// Status code of the last tick.
    pub last_status: i64,
    /// LED state shown (to rebuild `led` only on change).
    pub led_shown: Option<(u8, String)>,
    /// `cll` inputs shown (to rebuild only on change).
    pub cll_shown: Option<[i64; 9]>,
    /// Price slot shown in `awcp` (start, end).
    pub awcp_shown: Option<(i64, i64)>,
    /// The load-balancing allotment from the group coordinator, if any.
    pub load: Option<crate::loadbalance::Allocation>,
    /// Current per phase the charger would use without load management (A).
    pub wanted_a: i64,
    /// `fsp=true` written (fw 055.2+, where `fsp` is R/W): single phase is
    /// forced like `psm`=1 until `fsp=false` or a restart.
    pub fsp_forced: bool,
    /// Idle voltages L1, L2, L3, N from the profile's `nrg` default, when the
    /// profile prints whole volts ([`goe_keys::Profile::whole_volts`]).
    pub idle_volts: Option<[f64; 4]>,
    /// This boot is an in-process restart (`rst`): `car` shows
    /// Initializing (6) in its first second where the firmware has it.
    pub restarted: bool,
    /// The random delays of a charge start (`rdre`, `rdpl`; `delay.rs`).
    pub delay: crate::delay::DelayState,
    /// The charge controller's error and its latches (#13, [`crate::errors`]).
    pub errors: crate::errors::ErrorState,
    /// The samples of `tpa`'s 30 s average.
    pub tpa_window: crate::average::PowerWindow,
}

impl Default for LogicState {
    fn default() -> Self {
        LogicState {
            energy_total_wh: 0.0,
            persisted_eto: 0,
            power_w: 0.0,
            meter_pgrid: 0.0,
            contactor_phases: 0,
            selected_phases: 3,
            wish_phases: 3,
            wish_since: None,
            last_toggle: None,
            phase_switch: None,
            sim_unplug_until: None,
            pv_charging: false,
            pv_since: 0,
            pv_below_since: None,
            pv_charged_in_session: false,
            avg_pgrid: 0.0,
            avg_ppv: 0.0,
            avg_pakku: 0.0,
            ids_power_w: 0.0,
            avg_surplus: 0.0,
            surplus_known: false,
            phases_decided: false,
            test_charge_ms: 0,
            test_charge_done: false,
            tcl_set_at: None,
            trx_without_car_since: None,
            last_read_card: None,
            legacy_ast: None,
            voltage_walk: [0.0; 3],
            freq_offset: 0.0,
            avg_freq: 50.0,
            temps: [22.5, 26.75],
            session_energy_flowed: false,
            car_was_drawing: false,
            charge_started: None,
            last_status: -1,
            led_shown: None,
            cll_shown: None,
            awcp_shown: None,
            fsp_forced: false,
            restarted: false,
            errors: crate::errors::ErrorState::default(),
            tpa_window: crate::average::PowerWindow::default(),
            load: None,
            wanted_a: 0,
            idle_volts: None,
            delay: crate::delay::DelayState::default(),
        }
    }
}

impl LogicState {
    /// Takes the counters from the (restored) key values.
    pub(crate) fn reset_measurements(&mut self, values: &crate::values::Values) {
        let eto = values[k().eto].as_i64().unwrap_or(0);
        self.energy_total_wh = eto as f64;
        self.persisted_eto = eto;
        self.settle_temperatures(&World::default());
    }

    /// Puts the temperature sensors at their equilibrium for the world now.
    pub fn settle_temperatures(&mut self, world: &World) {
        let amps = world.car.as_ref().map_or(0.0, |c| c.current_a);
        self.temps = temperature_targets(world.ambient_c, amps);
    }
}

fn temperature_targets(ambient: f64, amps: f64) -> [f64; 2] {
    [
        ambient + 2.5 + 0.04 * amps * amps,
        ambient + 6.75 + 0.02 * amps * amps,
    ]
}

/// The outcome of the decision cascade for one second.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Decision {
    /// `modelStatus`.
    status: i64,
    /// Whether charging is allowed.
    charge: bool,
    /// Requested current in A; `None` = `amp`.
    current: Option<i64>,
}

impl Decision {
    const fn charge(status: i64) -> Decision {
        Decision {
            status,
            charge: true,
            current: None,
        }
    }

    const fn stop(status: i64) -> Decision {
        Decision {
            status,
            charge: false,
            current: None,
        }
    }
}

/// Local civil time of the charger.
#[derive(Debug, Clone, Copy)]
struct LocalTime {
    weekday: Weekday,
    /// Seconds since local midnight.
    secs: i64,
    year: i16,
}

impl Charger {
    #[inline]
    fn int(&self, kid: usize) -> i64 {
        self.values[kid].as_i64().unwrap_or(0)
    }

    #[inline]
    fn float(&self, kid: usize) -> f64 {
        self.values[kid].as_f64().unwrap_or(0.0)
    }

    #[inline]
    fn flag(&self, kid: usize) -> bool {
        match self.values[kid] {
            Value::Bool(b) => b,
            Value::Int(i) => i != 0,
            _ => false,
        }
    }

    /// Seconds since local midnight at `now` (by `tof`/`tds`), for schedules.
    pub fn local_seconds_of_day(&self, now: SimTime) -> i64 {
        self.local_time(self.wall_ms(now)).secs
    }

    fn local_time(&self, wall_ms: i64) -> LocalTime {
        let offset = self.local_offset_minutes(wall_ms);
        let c = crate::clock::civil(wall_ms + offset * 60_000);
        LocalTime {
            weekday: Weekday::from_monday_zero_offset(c.weekday as i8).unwrap_or(Weekday::Monday),
            secs: c.ms_of_day / 1000,
            year: c.year as i16,
        }
    }

    /// Starts a plug session (called on plug-in and after a simulated unplug).
    pub(crate) fn begin_session(&mut self, now: SimTime) {
        let rbt = self.since_boot(now);
        self.put(k().wh, Value::Double(0.0));
        for kid in [k().whs, k().whg, k().whb, k().who] {
            self.put(kid, Value::Double(0.0));
        }
        self.put(k().lccfi, Value::Int(rbt));
        self.logic.session_energy_flowed = false;
        self.logic.test_charge_ms = 0;
        self.logic.test_charge_done = false;
        self.logic.pv_charged_in_session = false;
        self.logic.phases_decided = false;
        self.logic.trx_without_car_since = None;
        // `tls`: the 2021 bool, a timestamp (null until a test charge) on 59.4+
        let not_started = match self.def(k().tls).base() {
            goe_keys::Base::Bool => Value::Bool(false),
            _ => Value::Null,
        };
        self.put(k().tls, not_started);
        self.put(k().tlf, Value::Bool(false));
    }

    /// Ends a plug session (unplug, or the start of a simulated unplug):
    /// books the energy on the card, resets `frc` and `trx`.
    pub(crate) fn end_session(&mut self, now: SimTime) {
        let rbt = self.since_boot(now);
        if let Some(n) = self.values[k().trx].as_i64()
            && n > 0
        {
            let wh = self.float(k().wh);
            if let Value::Array(cards) = self.put_mut(k().cards)
                && let Some(Value::Object(fields)) = cards.get_mut((n - 1) as usize)
                && let Some((_, energy)) = fields.iter_mut().find(|(name, _)| name == "energy")
            {
                let before = energy.as_f64().unwrap_or(0.0);
                *energy = Value::Int((before + wh).round() as i64);
            }
            self.mirror_cards();
        }
        self.put(k().frc, Value::Int(0));
        self.put(k().trx, Value::Null);
        self.ocpp.authorized = None;
        if self.logic.car_was_drawing {
            self.put(k().lccfc, Value::Int(rbt));
            // unplugged mid-charge: the counter stops at the charge's duration
            let started = self.logic.charge_started.unwrap_or(rbt);
            self.put(
                k().cdi,
                Value::Object(vec![
                    ("type".into(), Value::Int(1)),
                    ("value".into(), Value::Int(rbt - started)),
                ]),
            );
        }
        self.logic.car_was_drawing = false;
        self.logic.charge_started = None;
        self.logic.pv_charging = false;
        self.logic.pv_below_since = None;
        self.logic.phase_switch = None;
        self.logic.contactor_phases = 0;
    }

    /// One simulated second. Returns whether persisted counters changed.
    pub(crate) fn tick(&mut self, now: SimTime) -> bool {
        self.generation += 1;
        let rbt = self.since_boot(now);
        let wall = self.wall_ms(now);
        self.expire_timers(now, rbt);
        self.read_meter(now, rbt);
        self.update_error();
        let local = self.local_time(wall);
        let mut decision = self.decide(rbt, wall, local);
        decision = self.post_process(decision, rbt);
        if let Some(held) = self.window_delay(rbt, decision.status, decision.charge) {
            decision = Decision {
                status: held.status,
                charge: held.charge,
                current: None,
            };
        }
        if self.random_delay_waits(rbt) && decision.charge {
            decision = Decision::stop(crate::delay::RANDOM_DELAY_STATUS);
        }
        self.update_phases(rbt);
        decision = self.simulated_unplug(now, rbt, decision);
        let load_limit = self.load_limit();
        let ocpp_limit = self.ocpp_current_limit();
        let acu = self.current_limits(decision, load_limit, ocpp_limit.map(|(amps, _)| amps));
        if decision.charge && acu.is_none() {
            // the limit below the minimum says why: OCPP's (35 fallback,
            // 28 charging profile) before load management's (27)
            let mca = self.int(k().mca);
            if let Some((amps, code)) = ocpp_limit
                && amps < mca
            {
                decision = Decision::stop(code);
            } else if load_limit.is_some_and(|l| l < mca) {
                decision = Decision::stop(27);
            }
        }
        let charge = decision.charge && acu.is_some();
        self.drive_car(rbt, charge, acu);
        self.electrical(rbt);
        self.write_decision(rbt, decision, charge, acu);
        self.write_car_state(rbt);
        self.write_peripherals();
        self.book_energy()
    }

    fn expire_timers(&mut self, now: SimTime, rbt: i64) {
        if let Some(at) = self.inverter_data_at
            && now.millis() - at.millis() > crate::charger::INVERTER_DATA_TIMEOUT_MS
        {
            for kid in [k().pgrid, k().ppv, k().pakku, k().inva] {
                self.put(kid, Value::Null);
            }
            self.inverter_data_at = None;
            self.logic.surplus_known = self.world.grid.metered;
        }
        if let Some(at) = self.logic.tcl_set_at
            && rbt - at >= crate::charger::TCL_TIMEOUT_MS
        {
            self.put(k().tcl, Value::Null);
            self.logic.tcl_set_at = None;
        }
        if self.world.car.is_some() {
            self.logic.trx_without_car_since = None;
        } else if let Some(at) = self.logic.trx_without_car_since
            && rbt - at >= self.trx_without_car_ms()
        {
            self.put(k().trx, Value::Null);
            self.logic.trx_without_car_since = None;
            self.ocpp.authorized = None;
        }
        if let Some(end) = self.values[k().mcpea].as_i64()
            && rbt >= end
        {
            self.put(k().mcpea, Value::Null);
        }
    }

    /// Grid, PV and battery power: from fresh `ids` writes if any, else from
    /// the simulated meter (when configured), smoothed for the PV controller.
    ///
    /// A reading describes the moment it was taken: its `pGrid` contains the
    /// charger's power at that moment (`ids_power_w` for `ids`, the last
    /// second's power for the meter). The surplus it shows is that power
    /// minus `pGrid` and `pAkku`, which does not change when the car's power
    /// changes later; so a reading reused between arrivals (every 5 or 10 s)
    /// is never combined with the car's newer power. `pvopt_averagePGrid` is
    /// the smoothed grid power corrected by the charger's own power change
    /// since the reading.
    fn read_meter(&mut self, now: SimTime, rbt: i64) {
        // the home battery (if any) reacts to this second's balance first,
        // as it does at the grid point; the meter then shows its power
        self.step_home_battery();
        let external = self.inverter_data_at.is_some();
        let grid = self.world.grid;
        let (pgrid, ppv, pakku, power_then) = if external {
            (
                self.values[k().pgrid].as_f64().unwrap_or(0.0),
                self.values[k().ppv].as_f64().unwrap_or(0.0),
                self.values[k().pakku].as_f64().unwrap_or(0.0),
                self.logic.ids_power_w,
            )
        } else if grid.metered {
            let pgrid = grid.house_w + self.logic.power_w - grid.pv_w - grid.battery_w;
            self.put(k().pgrid, Value::Float(pgrid as f32));
            self.put(k().ppv, Value::Float(grid.pv_w as f32));
            self.put(k().pakku, Value::Float(grid.battery_w as f32));
            self.put(k().inva, Value::Int(0));
            (pgrid, grid.pv_w, grid.battery_w, self.logic.power_w)
        } else {
            return;
        };
        self.logic.meter_pgrid = pgrid;
        // the first reading seeds the averages: smoothing it up from zero
        // would show a fraction of the surplus for the first seconds
        let alpha = if self.logic.surplus_known { 0.3 } else { 1.0 };
        self.logic.surplus_known = true;
        // `po`: how much of the battery's power is the car's (crate::battery)
        let surplus =
            power_then - pgrid - crate::battery::counted_battery_power(pakku, self.float(k().po));
        self.logic.avg_surplus += (surplus - self.logic.avg_surplus) * alpha;
        let pgrid_now = pgrid + self.logic.power_w - power_then;
        self.logic.avg_pgrid += (pgrid_now - self.logic.avg_pgrid) * alpha;
        self.logic.avg_ppv += (ppv - self.logic.avg_ppv) * alpha;
        self.logic.avg_pakku += (pakku - self.logic.avg_pakku) * alpha;
        self.put(k().avg_pgrid, Value::Float(self.logic.avg_pgrid as f32));
        self.put(k().avg_ppv, Value::Float(self.logic.avg_ppv as f32));
        self.put(k().avg_pakku, Value::Float(self.logic.avg_pakku as f32));
        let _ = now;
        self.put(k().lpsc, Value::Int(rbt));
    }

    /// Power the PV controller could give the car now, W.
    fn pv_available(&self) -> f64 {
        // without inverter data or a meter there is no surplus to follow (the
        // car's own power must not sustain "PV surplus" charging forever)
        if self.inverter_data_at.is_none() && !self.world.grid.metered {
            return 0.0;
        }
        // zero feed-in (`fzf`): the inverter curtails PV to avoid export, so
        // pGrid shows no surplus; aim `zfo` W above the target to find the
        // curtailed power (an import of up to `zfo` W shows there is none)
        let zero_feed_in = if self.flag(k().fzf) {
            self.float(k().zfo)
        } else {
            0.0
        };
        self.logic.avg_surplus + self.float(k().pgt) + zero_feed_in
    }

    /// The error shown this second: the world's fault through its clearing
    /// rule (`crate::errors`); Norway mode as it was at boot.
    fn update_error(&mut self) {
        let norway = self.flag(k().nmo);
        let plugged = self.world.car.is_some();
        self.logic.errors.update(self.world.fault, norway, plugged);
    }

    fn decide(&mut self, rbt: i64, wall: i64, local: LocalTime) -> Decision {
        if self.logic.errors.shown != 0 {
            // 26 NotChargingBecauseError where the firmware's enum has it,
            // the 2021 firmware's 0 (no charge controller data) before
            let code = if self.def(k().model_status).enum_name(26).is_some() {
                26
            } else {
                0
            };
            return Decision::stop(code);
        }
        let hottest = self.logic.temps[0].max(self.logic.temps[1]);
        if hottest > OVERTEMP_C {
            return Decision::stop(1);
        }
        // OCPP ChangeAvailability Inoperative (`ocppio`, crate::ocpp)
        if self.ocpp_inoperative() {
            return Decision::stop(self.ocpp_code(crate::ocpp::OCPP_INOPERABLE));
        }
        // Wait (1) and EVCMS (2, newer firmware: an external charge management
        // system authorises by setting `trx`) both wait for a transaction
        if self.int(k().acs) != 0 && self.values[k().trx].is_null() {
            return Decision::stop(2);
        }
        // the backend ended the session (RemoteStop) without access control
        if self.ocpp_stopped() {
            return Decision::stop(self.ocpp_code(crate::ocpp::OCPP_DOESNT_WANT));
        }
        match self.int(k().frc) {
            2 => return Decision::charge(3),
            1 => return Decision::stop(4),
            _ => {}
        }
        let price = self.current_price(wall);
        if let Some(ast) = self.logic.legacy_ast {
            return match ast {
                3 if !self.scheduler_allows(local) => Decision::stop(5),
                3 => Decision::charge(14),
                2 if price.is_some_and(|p| p < self.float(k().awp)) => Decision::charge(13),
                2 => Decision::stop(16),
                _ => Decision::charge(13),
            };
        }
        if !self.scheduler_allows(local) {
            return Decision::stop(5);
        }
        if let Some(limit) = self.values[k().dwo].as_f64()
            && self.float(k().wh) >= limit
        {
            return Decision::stop(6);
        }
        match self.int(k().lmo) {
            4 => self.eco(rbt, price),
            5 => self.next_trip(rbt, wall, local, price),
            _ => Decision::charge(15),
        }
    }

    /// Eco mode: cheap flexible tariff (7), PV surplus (12), otherwise 17.
    fn eco(&mut self, rbt: i64, price: Option<f64>) -> Decision {
        if self.flag(k().awe) && price.is_some_and(|p| p < self.float(k().awp)) {
            return Decision::charge(7);
        }
        if self.flag(k().fup) {
            if let Some(current) = self.pv_controller(rbt) {
                return Decision {
                    status: 12,
                    charge: true,
                    current: Some(current),
                };
            }
        } else {
            self.logic.pv_charging = false;
        }
        Decision::stop(17)
    }

    /// The PV surplus controller: `Some(amps)` while surplus charging runs.
    fn pv_controller(&mut self, rbt: i64) -> Option<i64> {
        let available = self.pv_available();
        let phases = f64::from(self.car_phases_on(self.logic.selected_phases).max(1));
        let mca = self.int(k().mca) as f64;
        let min_power = mca * NOMINAL_VOLTAGE * phases;
        self.put(
            k().deltap,
            Value::Float((available - self.logic.power_w) as f32),
        );
        self.put(
            k().deltaa,
            Value::Float(((available - self.logic.power_w) / (NOMINAL_VOLTAGE * phases)) as f32),
        );
        if self.world.car.is_none() {
            // nothing to charge: the controller does not latch on a surplus
            // while no car is plugged (a car plugged in later starts on the
            // surplus of its own time, after `fst`, not on an old latch)
            self.logic.pv_charging = false;
            self.logic.pv_below_since = None;
            return None;
        }
        if !self.logic.pv_charging {
            if available >= self.float(k().fst) && available >= min_power - self.float(k().sh) {
                self.logic.pv_charging = true;
                self.logic.pv_since = rbt;
                self.logic.pv_below_since = None;
            } else {
                return None;
            }
        } else if available < min_power - self.float(k().sh) {
            let since = *self.logic.pv_below_since.get_or_insert(rbt);
            let min_time = self.int(k().fmt);
            if rbt - since >= PV_STOP_GRACE_MS && rbt - self.logic.pv_since >= min_time {
                self.logic.pv_charging = false;
                self.logic.pv_below_since = None;
                return None;
            }
        } else {
            self.logic.pv_below_since = None;
        }
        self.logic.pv_charged_in_session |= self.world.car.is_some();
        let amps = available / (NOMINAL_VOLTAGE * phases);
        let amps = match self.int(k().frm) {
            0 => amps.ceil(),
            2 => amps.floor(),
            _ => amps.round(),
        } as i64;
        Some(amps.clamp(self.int(k().mca), self.int(k().amp)))
    }

    /// Next trip: test charge (8), not enough time (9), cheap slot (10),
    /// no clock (11), otherwise wait (18).
    fn next_trip(&mut self, rbt: i64, wall: i64, local: LocalTime, price: Option<f64>) -> Decision {
        let _ = rbt;
        if local.year < 2021 {
            return Decision::charge(11);
        }
        let wh = self.float(k().wh);
        let target = self.float(k().ate);
        if wh >= target {
            if self.flag(k().ara) && price.is_some_and(|p| p < self.float(k().awp)) {
                return Decision::charge(7);
            }
            return Decision::stop(18);
        }
        if self.world.car.is_none() {
            return Decision::stop(18);
        }
        if !self.logic.test_charge_done {
            return Decision::charge(8);
        }
        let power = self.float(k().mmp).max(mca_power(self.int(k().mca)));
        let required_s = ((target - wh) / power * 3600.0 * 1.1).ceil() as i64;
        let att = self.int(k().att);
        let remaining_s = if local.secs < att {
            att - local.secs
        } else {
            86_400 - local.secs + att
        };
        if remaining_s <= required_s {
            return Decision::charge(9);
        }
        let now_s = wall.div_euclid(1000);
        let departure = now_s + remaining_s;
        let mut slots: Vec<(i64, i64, f64)> = match price_list(&self.values[k().awpl]) {
            Some(list) => list
                .iter()
                .filter_map(|p| {
                    Some((
                        p.field("start")?.as_i64()?,
                        p.field("end")?.as_i64()?,
                        p.field("marketprice")?.as_f64()?,
                    ))
                })
                .filter(|(s, e, _)| *e > now_s && *s < departure)
                .collect(),
            _ => Vec::new(),
        };
        if slots.is_empty() {
            return Decision::stop(18);
        }
        slots.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0)));
        let mut covered = 0;
        for (start, end, _) in slots {
            if covered >= required_s {
                break;
            }
            let usable = end.min(departure) - start.max(now_s);
            if (start..end).contains(&now_s) {
                return Decision::charge(10);
            }
            covered += usable.max(0);
        }
        Decision::stop(18)
    }

    /// The market price of the slot containing `wall`, updating `awcp`.
    fn current_price(&mut self, wall: i64) -> Option<f64> {
        let now_s = wall.div_euclid(1000);
        let found = match price_list(&self.values[k().awpl]) {
            Some(list) => list.iter().find_map(|p| {
                let start = p.field("start")?.as_i64()?;
                let end = p.field("end")?.as_i64()?;
                ((start..end).contains(&now_s)).then(|| (start, end, p.clone()))
            }),
            _ => None,
        };
        match found {
            Some((start, end, slot)) => {
                if self.logic.awcp_shown != Some((start, end)) {
                    self.put(k().awcp, slot.clone());
                    self.logic.awcp_shown = Some((start, end));
                }
                slot.field("marketprice").and_then(Value::as_f64)
            }
            None => {
                if self.logic.awcp_shown.take().is_some() {
                    // no slot now: the firmware's idle value (an all-zero
                    // price object on 053.1+, null on the 2021 table)
                    let idle = self.factory_value(k().awcp);
                    self.put(k().awcp, idle);
                }
                None
            }
        }
    }

    /// Whether the scheduler of today's day type lets the car charge now.
    fn scheduler_allows(&self, local: LocalTime) -> bool {
        let kid = match local.weekday {
            Weekday::Saturday => k().sch_satur,
            Weekday::Sunday => k().sch_sund,
            _ => k().sch_week,
        };
        let day = &self.values[kid];
        let control = day.field("control").and_then(Value::as_i64).unwrap_or(0);
        if control == 0 {
            return true;
        }
        let second = local.secs;
        let inside = match day.field("ranges") {
            Some(Value::Array(ranges)) => ranges.iter().any(|r| {
                // seconds of the day; the 2021 objects have no `second` (0)
                let at = |name: &str| {
                    let part = |unit: &str| {
                        r.field(name)
                            .and_then(|t| t.field(unit))
                            .and_then(Value::as_i64)
                            .unwrap_or(0)
                    };
                    part("hour") * 3600 + part("minute") * 60 + part("second")
                };
                let (begin, end) = (at("begin"), at("end"));
                match begin.cmp(&end) {
                    std::cmp::Ordering::Less => (begin..end).contains(&second),
                    std::cmp::Ordering::Greater => second >= begin || second < end,
                    std::cmp::Ordering::Equal => false,
                }
            }),
            _ => false,
        };
        // 1 Allow / 3 AllowFromGrid: inside the ranges; 2 Block / 4 BlockFromGrid: outside
        match control {
            1 | 3 => inside,
            _ => !inside,
        }
    }

    /// Codes that override the cascade's result: keep-alive (19), pause not
    /// allowed (20), minimum pause (24), minimum charging interval.
    fn post_process(&mut self, mut d: Decision, rbt: i64) -> Decision {
        let car_mid_session =
            self.world.car.as_ref().is_some_and(|c| !c.full) && self.logic.session_energy_flowed;
        if !d.charge && car_mid_session && (16..=18).contains(&d.status) {
            let mca = Some(self.int(k().mca));
            if !self.flag(k().acp) && self.logic.pv_charged_in_session && d.status == 17 {
                d = Decision {
                    status: 20,
                    charge: true,
                    current: mca,
                };
            } else if let Some(ct) = self.values[k().ct].as_str()
                && KEEP_ALIVE_CAR_TYPES.contains(&ct)
            {
                d = Decision {
                    status: 19,
                    charge: true,
                    current: mca,
                };
            } else if let Some(started) = self.logic.charge_started
                && rbt - started < self.int(k().mci)
            {
                // minimum charging interval: keep going at the minimum current
                d = Decision {
                    status: self.logic.last_status,
                    charge: true,
                    current: mca,
                };
            }
        }
        if d.charge
            && let Some(end) = self.values[k().mcpea].as_i64()
            && rbt < end
        {
            return Decision::stop(24);
        }
        d
    }

    /// Phases the car uses when the charger offers `offered` phases.
    fn car_phases_on(&self, offered: u8) -> u8 {
        self.world
            .car
            .as_ref()
            .map_or(offered, |c| c.profile.phases.min(offered))
    }

    /// Phase selection (`psm`, PV wish) and the switching pause (code 23).
    fn update_phases(&mut self, rbt: i64) {
        if let Some(ps) = self.logic.phase_switch
            && rbt >= ps.until
        {
            self.logic.selected_phases = ps.to;
            self.logic.phase_switch = None;
        }
        // `fsp`, or an OCPP charging profile with numberPhases 1 (crate::ocpp)
        let psm = if self.logic.fsp_forced || self.ocpp_single_phase() {
            1
        } else {
            self.int(k().psm)
        };
        let pv_mode = self.int(k().lmo) == 4 && self.flag(k().fup);
        let (desired, pwm) = match psm {
            1 => (1, 1),
            2 => (3, 0),
            // the PV logic wishes a phase count only from a known surplus:
            // without a reading the wish stays as it was
            _ if pv_mode => {
                if self.logic.surplus_known {
                    let available = self.pv_available();
                    let spl3 = self.float(k().spl3);
                    let psh = self.float(k().psh);
                    if available >= spl3 + psh {
                        self.logic.wish_phases = 3;
                    } else if available < spl3 - psh {
                        self.logic.wish_phases = 1;
                    }
                }
                let w = self.logic.wish_phases;
                (w, if w == 1 { 1 } else { 2 })
            }
            _ => (3, 0),
        };
        self.put(k().pwm, Value::Int(pwm));
        if self.logic.phase_switch.is_some() || desired == self.logic.selected_phases {
            self.logic.wish_since = None;
            self.put(k().fsptws, Value::Null);
            self.settle_phase_decision(pv_mode);
            return;
        }
        let since = *self.logic.wish_since.get_or_insert(rbt);
        self.put(k().fsptws, Value::Int(since));
        if !self.phase_switch_allowed(psm, pv_mode, rbt, since) {
            return;
        }
        self.settle_phase_decision(pv_mode);
        self.logic.last_toggle = Some(rbt);
        self.logic.wish_since = None;
        self.put(k().lfspt, Value::Int(rbt));
        self.put(k().fsptws, Value::Null);
        if self.logic.contactor_phases > 0 {
            self.logic.phase_switch = Some(PhaseSwitch {
                until: rbt + self.int(k().psmd),
                to: desired,
            });
        } else {
            self.logic.selected_phases = desired;
        }
    }

    /// Whether the charger may switch to the phase count it wants now.
    ///
    /// A forced count (`psm` 1 or 2, `fsp`) switches at once. The automatic
    /// choice switches only after the wish held for `mpwst` and `mptwt` after
    /// the last toggle (the pause of a switch counts as part of it), whether
    /// current flows or not; there is no switching without a car. The one
    /// exception is the first decision of a plug session, once the surplus
    /// is known: it takes the wish at once, so a car starts on the phase
    /// count the surplus calls for.
    fn phase_switch_allowed(&self, psm: i64, pv_mode: bool, rbt: i64, since: i64) -> bool {
        if psm != 0 {
            return true;
        }
        if self.world.car.is_none() || (pv_mode && !self.logic.surplus_known) {
            return false;
        }
        let toggle_waited = self
            .logic
            .last_toggle
            .is_none_or(|t| rbt - t >= self.int(k().mptwt));
        let first = !self.logic.phases_decided
            && self.logic.contactor_phases == 0
            && (self.logic.surplus_known || !pv_mode);
        if first {
            return true;
        }
        toggle_waited && rbt - since >= self.int(k().mpwst)
    }

    /// Marks the plug session's first phase decision as made, once there is
    /// a car and (for the PV logic) a known surplus to decide on.
    fn settle_phase_decision(&mut self, pv_mode: bool) {
        if self.world.car.is_some() && (self.logic.surplus_known || !pv_mode) {
            self.logic.phases_decided = true;
        }
    }

    /// Simulated unplugging (`su` wakes a sleeping car, `sua` while charging is
    /// not allowed): the car sees an unplug for `sumd`, then a fresh plug-in.
    fn simulated_unplug(&mut self, now: SimTime, rbt: i64, d: Decision) -> Decision {
        if self.world.car.is_none() {
            self.logic.sim_unplug_until = None;
            return d;
        }
        if let Some(until) = self.logic.sim_unplug_until {
            if rbt < until || (self.flag(k().sua) && !d.charge) {
                return Decision::stop(22);
            }
            // the simulated plug-in
            self.logic.sim_unplug_until = None;
            if let Some(car) = &mut self.world.car {
                car.asleep = false;
                car.wake_delay_s = 0;
            }
            self.begin_session(now);
            return d;
        }
        let asleep = self.world.car.as_ref().is_some_and(|c| c.asleep);
        let start = (d.charge && asleep && self.flag(k().su))
            || (!d.charge && self.flag(k().sua) && self.logic.session_energy_flowed);
        if start {
            self.logic.sim_unplug_until = Some(rbt + self.int(k().sumd));
            self.end_session(now);
            return Decision::stop(22);
        }
        if self.logic.phase_switch.is_some() && d.charge {
            return Decision::stop(23);
        }
        d
    }

    /// The load-management limit (`loa`) when `loe` is on: the coordinator's
    /// allotment, or `lof` while no coordinator answers. Updates `loa`, `lom`, `los`.
    fn load_limit(&mut self) -> Option<i64> {
        if !self.flag(k().loe) {
            self.put(k().loa, Value::Null);
            self.put(k().lom, Value::Array(Vec::new()));
            self.put(k().los, Value::Null);
            return None;
        }
        let (amps, members, status) = match &self.logic.load {
            Some(a) => (a.amps, a.members.clone(), a.status.clone()),
            None => (
                self.int(k().lof),
                Vec::new(),
                "fallback: no group coordinator".to_owned(),
            ),
        };
        self.put(k().loa, Value::Int(amps));
        self.put(
            k().lom,
            Value::Array(members.into_iter().map(Value::Str).collect()),
        );
        self.put(k().los, Value::Str(status));
        Some(amps)
    }

    /// `acu` (or `None` when no current may flow) and `cll`.
    /// `ocpp_limit`: the OCPP limit (fallback current or charging profile).
    fn current_limits(
        &mut self,
        d: Decision,
        load_limit: Option<i64>,
        ocpp_limit: Option<i64>,
    ) -> Option<i64> {
        let var_max = if self.int(k().var) >= 22 { 32 } else { 16 };
        let requested = d.current.unwrap_or_else(|| self.int(k().amp));
        let plugged = self.world.car.is_some();
        let cable = if plugged { Some(32) } else { None };
        let adapter = if self.flag(k().adi) { 16 } else { 32 };
        let hottest = self.logic.temps[0].max(self.logic.temps[1]);
        let amt = if hottest <= DERATE_FROM_C {
            32
        } else {
            (32.0 - (hottest - DERATE_FROM_C) * 1.3).floor().max(0.0) as i64
        };
        self.put(k().amt, Value::Int(amt));
        self.put(k().cbl, cable.map_or(Value::Null, Value::Int));
        let tcl = self.values[k().tcl].as_i64();
        let ama = self.int(k().ama).min(var_max);
        let mca = self.int(k().mca);
        let mut limit = requested.min(ama).min(adapter).min(amt);
        if let Some(c) = cable {
            limit = limit.min(c);
        }
        if let Some(t) = tcl {
            limit = limit.min(t);
        }
        if let Some(o) = ocpp_limit {
            limit = limit.min(o);
        }
        self.logic.wanted_a = match &self.world.car {
            Some(car) if d.charge && !car.full && self.logic.sim_unplug_until.is_none() => limit,
            _ => 0,
        };
        if let Some(l) = load_limit {
            limit = limit.min(l);
        }
        let shown = [
            adapter,
            cable.unwrap_or(-1),
            ama,
            mca,
            requested,
            amt,
            tcl.unwrap_or(-1),
            load_limit.unwrap_or(-1),
            ocpp_limit.unwrap_or(-1),
        ];
        if self.logic.cll_shown != Some(shown) {
            let mut fields = vec![("adapterCurrentLimit".to_owned(), Value::Int(adapter))];
            if let Some(c) = cable {
                fields.push(("cableCurrentLimit".into(), Value::Int(c)));
            }
            fields.push(("currentLimitMax".into(), Value::Int(ama)));
            fields.push(("minChargingCurrent".into(), Value::Int(mca)));
            fields.push(("requestedCurrent".into(), Value::Int(requested)));
            fields.push(("temperatureCurrentLimit".into(), Value::Int(amt)));
            fields.push(("unsymetryCurrentLimit".into(), Value::Int(32)));
            if let Some(t) = tcl {
                fields.push(("temporaryCurrentLimit".into(), Value::Int(t)));
            }
            if let Some(l) = load_limit {
                fields.push(("loadLimit".into(), Value::Int(l)));
            }
            if let Some(o) = ocpp_limit {
                fields.push(("ocppCurrentLimit".into(), Value::Int(o)));
            }
            self.put(k().cll, Value::Object(fields));
            self.logic.cll_shown = Some(shown);
        }
        (d.charge && limit >= mca).then_some(limit)
    }

    /// The car reacts to the offered current; energy flows into its battery.
    fn drive_car(&mut self, rbt: i64, charge: bool, acu: Option<i64>) {
        let selected = self.logic.selected_phases;
        let fault = self.logic.errors.shown;
        let noise = (self.rng.next_u64() % 200) as f64 / 1000.0;
        let Some(car) = self.world.car.as_mut() else {
            self.logic.contactor_phases = 0;
            return;
        };
        let sim_unplugged = self.logic.sim_unplug_until.is_some();
        let offered = if charge && fault == 0 && !sim_unplugged {
            acu
        } else {
            None
        };
        match offered {
            Some(amps) if !car.full && !car.asleep => {
                if car.current_a <= 0.0 && car.wake_delay_s < 2 {
                    car.wake_delay_s += 1;
                    car.current_a = 0.0;
                } else {
                    let accepted = car.profile.accepted_current(car.soc);
                    if car.soc >= 100.0
                        || (car.soc > car.profile.taper_soc
                            && accepted <= car.profile.full_current_a)
                    {
                        car.full = true;
                        car.current_a = 0.0;
                    } else {
                        car.current_a = ((amps as f64).min(accepted) - noise).max(0.0);
                    }
                }
            }
            _ => {
                if car.current_a > 0.0
                    && !car.profile.resumes_after_pause
                    && offered.is_none()
                    && !sim_unplugged
                {
                    car.asleep = true;
                }
                car.current_a = 0.0;
                car.wake_delay_s = 0;
            }
        }
        let drawing = car.current_a > 0.0;
        let phases = car.profile.phases.min(selected);
        self.logic.contactor_phases = if drawing { selected } else { 0 };
        if drawing && !self.logic.car_was_drawing {
            self.logic.charge_started = Some(rbt);
            self.put(k().lcctc, Value::Int(rbt));
            self.put(
                k().cdi,
                Value::Object(vec![
                    ("type".into(), Value::Int(0)),
                    ("value".into(), Value::Int(rbt)),
                ]),
            );
        }
        if !drawing && self.logic.car_was_drawing {
            let started = self.logic.charge_started.unwrap_or(rbt);
            self.put(k().lccfc, Value::Int(rbt));
            self.put(
                k().cdi,
                Value::Object(vec![
                    ("type".into(), Value::Int(1)),
                    ("value".into(), Value::Int(rbt - started)),
                ]),
            );
            self.logic.charge_started = None;
            let mcpd = self.int(k().mcpd);
            if mcpd > 0 && !charge {
                self.put(k().mcpea, Value::Int(rbt + mcpd));
            }
        }
        self.logic.car_was_drawing = drawing;
        self.put(
            k().pnp,
            Value::Int(if drawing { i64::from(phases) } else { 0 }),
        );
    }

    /// Voltages, currents, power factor and power per phase (`nrg`, `pha`),
    /// energy counters, temperatures, grid frequency.
    fn electrical(&mut self, rbt: i64) {
        let mut r = || (self.rng.next_u64() % 10_001) as f64 / 10_000.0 - 0.5; // -0.5..0.5
        let mut walk = self.logic.voltage_walk;
        for w in &mut walk {
            *w = (*w + r() * 0.3).clamp(-3.0, 3.0);
        }
        let freq = (self.logic.freq_offset + r() * 0.008).clamp(-0.08, 0.08);
        let un = 1.0 + (r() + 0.5);
        self.logic.voltage_walk = walk;
        self.logic.freq_offset = freq;

        let selected = self.logic.selected_phases;
        let (amps, car_phases, pf) = match &self.world.car {
            Some(car) if car.current_a > 0.0 => {
                let n = car.profile.phases.min(selected);
                (car.current_a, n, car.profile.power_factor(car.current_a))
            }
            _ => (0.0, 0, 0.0),
        };
        let idle = self.idle_volts();
        let mut power = 0.0;
        let mut nrg = [0f64; 16];
        for i in 0..3 {
            let current = if (i as u8) < car_phases { amps } else { 0.0 };
            let volts = idle.map_or(230.0, |v| v[i]) + walk[i] - 0.12 * current;
            let p = volts * current * pf / 100.0;
            nrg[i] = if idle.is_some() {
                volts.round()
            } else {
                round2(volts)
            };
            nrg[4 + i] = round2(current);
            nrg[7 + i] = round2(p);
            nrg[12 + i] = if current > 0.0 { round2(pf) } else { 0.0 };
            power += p;
        }
        nrg[3] = idle.map_or(round2(un), |v| v[3]);
        nrg[11] = round2(power);
        self.put_floats(k().nrg, &nrg);
        let closed = self.logic.contactor_phases > 0;
        let pha = [
            closed,
            closed && selected > 1,
            closed && selected > 2,
            true,
            true,
            true,
        ];
        self.put_bools(k().pha, &pha);
        let power_before = self.logic.power_w;
        self.logic.power_w = power;
        let energy = power / 3600.0;
        self.split_by_source(power_before, power);
        self.logic.energy_total_wh += energy;
        if power > 0.0 {
            self.logic.session_energy_flowed = true;
            let wh = self.float(k().wh) + energy;
            self.put(k().wh, Value::Double(wh));
            if let Some(car) = &mut self.world.car {
                let stored = energy * car.profile.efficiency;
                car.soc = (car.soc + stored / car.profile.capacity_wh * 100.0).min(100.0);
            }
            if self.int(k().lmo) == 5 && !self.logic.test_charge_done {
                self.logic.test_charge_ms += 1000;
                let mmp = self.float(k().mmp).max(power);
                self.put(k().mmp, Value::Float(mmp as f32));
                let started = match self.def(k().tls).base() {
                    goe_keys::Base::Bool => Value::Bool(true),
                    // when the test charge started, ms since boot (kept while it runs)
                    _ if self.values[k().tls].is_null() => Value::Int(rbt),
                    _ => self.values[k().tls].clone(),
                };
                self.put(k().tls, started);
                if self.logic.test_charge_ms >= TEST_CHARGE_MS {
                    self.logic.test_charge_done = true;
                    self.put(k().tlf, Value::Bool(true));
                }
            }
        }
        let tpa = self.logic.tpa_window.push(power);
        self.put(k().tpa, Value::Float(tpa as f32));

        let target = temperature_targets(self.world.ambient_c, amps);
        for (t, goal) in self.logic.temps.iter_mut().zip(target) {
            *t += (goal - *t) / 300.0;
        }
        let tma = self.logic.temps.map(|t| (t * 8.0).round() / 8.0);
        self.put_floats(k().tma, &tma);
        let hz = 50.0 + freq;
        self.logic.avg_freq += (hz - self.logic.avg_freq) * 0.1;
        self.put(k().fhz, Value::Float(round3(hz) as f32));
        self.put(k().avgfhz, Value::Float(self.logic.avg_freq as f32));
    }

    fn write_decision(&mut self, rbt: i64, d: Decision, charge: bool, acu: Option<i64>) {
        if d.status != self.logic.last_status {
            self.put(k().lmsc, Value::Int(rbt));
            self.logic.last_status = d.status;
        }
        self.put(k().model_status, Value::Int(d.status));
        self.put(k().msi, Value::Int(d.status));
        self.put(k().alw, Value::Bool(charge));
        let acu_value = acu.map_or(Value::Null, Value::Int);
        self.put(k().acu, acu_value.clone());
        self.put(k().acui, acu_value);
        let single = self.logic.selected_phases == 1 || self.logic.fsp_forced;
        self.put(k().fsp, Value::Bool(single));
    }

    fn write_car_state(&mut self, rbt: i64) {
        let fault = self.logic.errors.shown;
        // Firmware whose `car` knows Initializing (6) shows it in the first
        // second after a restart, before the charge controller's first data.
        // (A started process is a unit whose API came up after its boot.)
        let initializing = self.logic.restarted
            && rbt < crate::charger::API_UP_RBT_MS + INITIALIZING_MS
            && self.def(k().car).enum_name(6).is_some();
        let state: Option<i64> = match &self.world.car {
            _ if initializing => Some(6),
            _ if fault == 17 => None,
            _ if fault != 0 => Some(5),
            None => Some(1),
            Some(_) if self.logic.sim_unplug_until.is_some() => Some(1),
            Some(car) if car.current_a > 0.0 => Some(2),
            Some(car) if car.full || self.logic.session_energy_flowed => Some(4),
            Some(_) => Some(3),
        };
        let previous = self.values[k().car].as_i64();
        if previous == Some(1) && state.is_some_and(|s| s != 1) {
            self.put(k().lccfi, Value::Int(rbt));
        }
        self.put(k().car, state.map_or(Value::Null, Value::Int));
        self.put(k().err, Value::Int(i64::from(fault)));
    }

    /// Cable lock and LED ring.
    fn write_peripherals(&mut self) {
        let ust = self.int(k().ust);
        self.put(k().lck, Value::Int(ust));
        let car = self.values[k().car].as_i64();
        let plugged = self.world.car.is_some();
        // UnlockConnector opens the lock until the car is unplugged (crate::ocpp)
        let locked = !self.ocpp.unlocked
            && match ust {
                2 => true,
                1 => plugged && car != Some(4),
                _ => plugged,
            };
        self.put(k().cus, Value::Int(if locked { 3 } else { 1 }));

        let (id, name, color_key) = match (self.logic.errors.shown, car) {
            (f, _) if f != 0 => (8u8, "Error", None),
            (_, Some(2)) => (4, "Charging", Some(k().cch)),
            (_, Some(3)) => (3, "WaitCar", Some(k().cwc)),
            (_, Some(4)) => (5, "Finished", Some(k().cfi)),
            _ => (2, "Idle", Some(k().cid)),
        };
        let color = color_key
            .and_then(|c| self.values[c].as_str())
            .unwrap_or("#FF8000")
            .to_owned();
        if self.logic.led_shown.as_ref() != Some(&(id, color.clone())) {
            self.put(
                k().led,
                Value::Object(vec![
                    ("id".into(), Value::Int(i64::from(id))),
                    ("name".into(), Value::Str(name.into())),
                    ("norwayOverlay".into(), Value::Bool(true)),
                    ("modeOverlay".into(), Value::Bool(true)),
                    ("subtype".into(), Value::Str("renderCmds".into())),
                    (
                        "ranges".into(),
                        Value::Array(vec![Value::Object(vec![
                            ("from".into(), Value::Int(0)),
                            ("to".into(), Value::Int(31)),
                            (
                                "colors".into(),
                                Value::Array(vec![Value::Str(color.clone())]),
                            ),
                        ])]),
                    ),
                ]),
            );
            self.logic.led_shown = Some((id, color));
        }
    }

    /// The idle voltages of profiles that print whole volts (cached).
    fn idle_volts(&mut self) -> Option<[f64; 4]> {
        if !self.profile.whole_volts {
            return None;
        }
        if self.logic.idle_volts.is_none() {
            let default = self.factory_value(k().nrg);
            let at = |i: usize| {
                match &default {
                    Value::Array(items) => items.get(i).and_then(Value::as_f64),
                    _ => None,
                }
                .unwrap_or(if i < 3 { 230.0 } else { 0.0 })
            };
            self.logic.idle_volts = Some([at(0), at(1), at(2), at(3)]);
        }
        self.logic.idle_volts
    }

    /// The car's power by source (`ws` solar, `wb` battery, `wg` grid, `wo`
    /// other) and the session's energy by source (`whs`, `whb`, `whg`, `who`,
    /// which add up to `wh`). With meter or inverter data the house is served
    /// first by PV, then by the battery; what PV and battery have left goes to
    /// the car, the rest of the car's power comes from the grid. Without meter
    /// data the source is unknown: `ws`/`wg`/`wb` are null, all of it is
    /// "other" (as syssi's 060.5 capture shows: `wo` 0, the others null).
    /// `power_before` is the car's power the meter reading of this second saw.
    fn split_by_source(&mut self, power_before: f64, power: f64) {
        let metered = self.inverter_data_at.is_some() || self.world.grid.metered;
        let (solar, battery, grid, other) = if metered {
            let pv = self.float(k().ppv).max(0.0);
            let bat = self.float(k().pakku);
            let house = (self.logic.meter_pgrid + pv + bat - power_before).max(0.0);
            let split = split_power(power, pv, bat, house);
            (Some(split[0]), Some(split[1]), Some(split[2]), 0.0)
        } else {
            (None, None, None, power)
        };
        let shown = |w: Option<f64>| w.map_or(Value::Null, |w| Value::Double(round2(w)));
        self.put(k().ws, shown(solar));
        self.put(k().wb, shown(battery));
        self.put(k().wg, shown(grid));
        self.put(k().wo, shown(Some(other)));
        if power > 0.0 {
            for (kid, w) in [
                (k().whs, solar),
                (k().whb, battery),
                (k().whg, grid),
                (k().who, Some(other)),
            ] {
                let wh = self.float(kid) + w.unwrap_or(0.0) / 3600.0;
                self.put(kid, Value::Double(wh));
            }
        }
    }

    /// Updates `eto` and reports whether it moved far enough to persist.
    fn book_energy(&mut self) -> bool {
        let eto = self.logic.energy_total_wh.floor() as i64;
        self.put(k().eto, Value::Int(eto));
        if eto - self.logic.persisted_eto >= ETO_PERSIST_STEP_WH {
            self.logic.persisted_eto = eto;
            self.put(k().etop, Value::Int(eto));
            return true;
        }
        false
    }
}

/// Splits the car's `power` (W) into [solar, battery, grid] given PV power,
/// battery power (positive = discharging) and the house's own load: the house
/// is served first (PV, then battery), the car gets what PV and battery have
/// left, the grid the rest. The parts are never negative and add up to `power`.
pub fn split_power(power: f64, pv: f64, battery: f64, house: f64) -> [f64; 3] {
    let power = power.max(0.0);
    let pv_left = (pv.max(0.0) - house).max(0.0);
    let solar = power.min(pv_left);
    let house_unserved = (house - pv.max(0.0)).max(0.0);
    let battery_left = (battery.max(0.0) - house_unserved).max(0.0);
    let from_battery = (power - solar).min(battery_left);
    [solar, from_battery, power - solar - from_battery]
}

fn mca_power(mca: i64) -> f64 {
    mca as f64 * NOMINAL_VOLTAGE
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The entries of an `awpl` price list: the 2021 array, or the v2 object's
/// `prices` (fw 60.x).
fn price_list(awpl: &Value) -> Option<&[Value]> {
    match awpl {
        Value::Array(list) => Some(list),
        Value::Object(_) => match awpl.field("prices") {
            Some(Value::Array(list)) => Some(list),
            _ => None,
        },
        _ => None,
    }
}

/// How long after a restart `car` shows Initializing (6) where the firmware
/// has it: the boot tick only (no evidence of the real duration; docs/compat.md).
const INITIALIZING_MS: i64 = 1000;
