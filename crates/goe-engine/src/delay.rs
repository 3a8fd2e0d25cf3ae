//! Random delays of a charge start (grid codes, firmware 59.0+).
//!
//! Units sold where a grid code asks for it (the UK's smart charge point
//! regulations) hold a charge start back by a random time: after power returns
//! (`rdre`, "randomDelayReconnection") and after a car is plugged in (`rdpl`,
//! "randomDelayWhenPluggingCar"). Each window is in seconds; the time drawn
//! in it is shown as the end of the wait in the matching "…EndsAt" key
//! (`rdree`, `rdple`, ms since boot like `mcpea`), which a client sets to null
//! to abort the wait. While one runs, a charge the cascade allows waits with
//! `modelStatus` 29 (NotChargingBecauseReconnectDelay). The draw comes from
//! the charger's seeded generator, so a run is reproducible.
//!
//! The scheduler's and the flexible tariff's windows have their own delays:
//! `rdbs`/`rdes` move the start/stop of a scheduler window, `rdbf`/`rdef`
//! those of a cheap tariff slot (EndsAt keys `rdbse rdese rdbfe rdefe`); a
//! delayed start keeps the waiting code (5, 16/17), a delayed stop keeps
//! charging with the code of before. Decisions and sources: `docs/compat.md`,
//! "Random delays (#13)".

use crate::charger::Charger;
use goe_keys::{KeyId, Value, key_id};
use rand_core::Rng;
use std::sync::LazyLock;

/// `modelStatus` while a random delay holds the charge start back
/// (NotChargingBecauseReconnectDelay).
pub const RANDOM_DELAY_STATUS: i64 = 29;

/// The keys of the delays this module runs (resolved once).
struct DelayKeys {
    rdbs: KeyId,
    rdbse: KeyId,
    rdes: KeyId,
    rdese: KeyId,
    rdbf: KeyId,
    rdbfe: KeyId,
    rdef: KeyId,
    rdefe: KeyId,
    rdre: KeyId,
    rdree: KeyId,
    rdpl: KeyId,
    rdple: KeyId,
}

static KEYS: LazyLock<DelayKeys> = LazyLock::new(|| {
    let id =
        |name: &str| key_id(name).unwrap_or_else(|| panic!("key {name} missing from the table"));
    DelayKeys {
        rdbs: id("rdbs"),
        rdbse: id("rdbse"),
        rdes: id("rdes"),
        rdese: id("rdese"),
        rdbf: id("rdbf"),
        rdbfe: id("rdbfe"),
        rdef: id("rdef"),
        rdefe: id("rdefe"),
        rdre: id("rdre"),
        rdree: id("rdree"),
        rdpl: id("rdpl"),
        rdple: id("rdple"),
    }
});

/// What the random delays remember between ticks (not visible as keys).
#[derive(Debug, Clone, Default)]
pub struct DelayState {
    /// The reconnection delay of this boot has been drawn.
    booted: bool,
    /// A car was plugged in at the last tick (a plug-in is the change).
    car_seen: bool,
    /// The cascade's own decision of the last tick (status, charge), before
    /// any delay changed it: a window opening or closing is its change.
    cascade_before: Option<(i64, bool)>,
    /// The status a stop delay keeps charging with.
    kept_status: i64,
}

/// A schedule or tariff window delay's verdict for this second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Held {
    /// `modelStatus` to show.
    pub status: i64,
    /// Whether charging is allowed.
    pub charge: bool,
}

/// `modelStatus` codes of the eco mode's tariff wait (16, 17) and its cheap slot (7).
const TARIFF_WAIT: [i64; 2] = [16, 17];
const TARIFF_CHEAP: i64 = 7;
/// `modelStatus` NotChargingBecauseScheduler.
const SCHEDULER_BLOCKS: i64 = 5;

impl Charger {
    /// Starts the delay of an event seen this second (power return: the first
    /// tick of a boot; plug-in), ends the delays whose time is up or whose
    /// car left, and tells whether one still holds a charge start back.
    /// Profiles without the keys (before 59.0) never wait.
    pub(crate) fn random_delay_waits(&mut self, rbt: i64) -> bool {
        let ids = &*KEYS;
        if self.profile.def(ids.rdpl).is_none() || self.profile.def(ids.rdre).is_none() {
            return false;
        }
        let plugged = self.world.car.is_some();
        if !self.logic.delay.booted {
            // power returned: a stored "…EndsAt" of the last boot means nothing now
            self.logic.delay.booted = true;
            self.put(ids.rdple, Value::Null);
            self.start_delay(rbt, ids.rdre, ids.rdree);
        } else if plugged && !self.logic.delay.car_seen {
            self.start_delay(rbt, ids.rdpl, ids.rdple);
        } else if !plugged {
            self.put(ids.rdple, Value::Null);
        }
        self.logic.delay.car_seen = plugged;
        let mut waiting = false;
        for ends_at in [ids.rdree, ids.rdple] {
            if let Some(end) = self.values[ends_at].as_i64() {
                if rbt >= end {
                    self.put(ends_at, Value::Null);
                } else {
                    waiting = true;
                }
            }
        }
        waiting
    }

    /// The delays of the scheduler's and the flexible tariff's windows: a
    /// start (`rdbs` when the scheduler stops blocking, `rdbf` when the price
    /// gets cheap) waits with the status of before; a stop (`rdes` when the
    /// scheduler starts blocking, `rdef` when the cheap slot ends) keeps
    /// charging with the status of before. `status`/`charge` is the cascade's
    /// decision of this second; `Some` replaces it while a wait runs.
    pub(crate) fn window_delay(&mut self, rbt: i64, status: i64, charge: bool) -> Option<Held> {
        let ids = &*KEYS;
        if self.profile.def(ids.rdbs).is_none() || self.profile.def(ids.rdbf).is_none() {
            return None;
        }
        let before = self.logic.delay.cascade_before.replace((status, charge));
        let ends = [ids.rdbse, ids.rdese, ids.rdbfe, ids.rdefe];
        if before.is_none() {
            // the first second of a boot: waits stored by a previous boot are over
            for kid in ends {
                self.put(kid, Value::Null);
            }
        }
        if let Some((was, was_charging)) = before
            && (was, was_charging) != (status, charge)
        {
            // a window changed: what ran for the old state is over
            for kid in ends {
                self.put(kid, Value::Null);
            }
            if was == SCHEDULER_BLOCKS && charge {
                self.start_delay(rbt, ids.rdbs, ids.rdbse);
            } else if was_charging && status == SCHEDULER_BLOCKS {
                self.logic.delay.kept_status = was;
                self.start_delay(rbt, ids.rdes, ids.rdese);
            } else if TARIFF_WAIT.contains(&was) && status == TARIFF_CHEAP {
                self.logic.delay.kept_status = was;
                self.start_delay(rbt, ids.rdbf, ids.rdbfe);
            } else if was == TARIFF_CHEAP && TARIFF_WAIT.contains(&status) {
                self.logic.delay.kept_status = was;
                self.start_delay(rbt, ids.rdef, ids.rdefe);
            }
        }
        let mut held = None;
        for (kid, verdict) in [
            (ids.rdbse, (SCHEDULER_BLOCKS, false)),
            (ids.rdese, (self.logic.delay.kept_status, true)),
            (ids.rdbfe, (self.logic.delay.kept_status, false)),
            (ids.rdefe, (TARIFF_CHEAP, true)),
        ] {
            if let Some(end) = self.values[kid].as_i64() {
                if rbt >= end {
                    self.put(kid, Value::Null);
                } else {
                    held = Some(Held {
                        status: verdict.0,
                        charge: verdict.1,
                    });
                }
            }
        }
        held
    }

    /// Draws the wait of `window` (whole seconds, uniform in 0…window) and
    /// shows its end in `ends_at`; a window of 0 means no delay (null).
    fn start_delay(&mut self, rbt: i64, window: KeyId, ends_at: KeyId) {
        let max_s = self.values[window].as_i64().unwrap_or(0);
        let end = if max_s > 0 {
            let drawn = (self.rng.next_u64() % (max_s as u64 + 1)) as i64;
            Value::Int(rbt + drawn * 1000)
        } else {
            Value::Null
        };
        self.put(ends_at, end);
    }
}
