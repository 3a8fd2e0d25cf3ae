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
//! the charger's seeded generator, so a run is reproducible. Decisions and
//! sources: `docs/compat.md`, "Random delays (#13)".

use crate::charger::Charger;
use goe_keys::{KeyId, Value, key_id};
use rand_core::Rng;
use std::sync::LazyLock;

/// `modelStatus` while a random delay holds the charge start back
/// (NotChargingBecauseReconnectDelay).
pub const RANDOM_DELAY_STATUS: i64 = 29;

/// The keys of the delays this module runs (resolved once).
struct DelayKeys {
    rdre: KeyId,
    rdree: KeyId,
    rdpl: KeyId,
    rdple: KeyId,
}

static KEYS: LazyLock<DelayKeys> = LazyLock::new(|| {
    let id =
        |name: &str| key_id(name).unwrap_or_else(|| panic!("key {name} missing from the table"));
    DelayKeys {
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
}

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
