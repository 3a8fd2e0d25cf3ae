//! The charge controller's errors (`err`) as the firmware handles them (#13):
//! which code clears by itself, which needs a replug, which a restart.
//!
//! The simulated world injects a fault (`/sim/fault?err=N`): a *condition*
//! (a lasting state of the installation, cleared with `err=0`) or, for the
//! codes that need a replug, an *event* (a trip that happened). The charger
//! shows the error until its clearing rule allows it to go; the table and its
//! sources are in `docs/compat.md` ("Errors and session details (#13)").

/// What makes an error go away on a real unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clearing {
    /// Clears as soon as its cause is gone (the charger re-checks every second).
    ByItself,
    /// A trip latched until the car is unplugged (residual current, over-current,
    /// diode): the sim injects it as an event.
    Replug,
    /// Latched until the charger restarts (ground check, welded contactor):
    /// the condition is re-checked at boot.
    Restart,
}

/// `err` code of the ground check that Norway mode (`nmo`) switches off.
pub const GND_INVALID: u8 = 8;

/// The clearing rule of one `err` code (the 59.4+/060.x numbering of the key table).
pub fn clearing(err: u8) -> Clearing {
    match err {
        // FiAc, FiDc, Overamp, Diode, FiUnknown
        1 | 2 | 5 | 6 | 14 => Clearing::Replug,
        // GndInvalid, ContactorStuck
        8 | 9 => Clearing::Restart,
        _ => Clearing::ByItself,
    }
}

/// The error state the logic keeps between seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorState {
    /// A replug-latched trip (0 = none).
    pub replug: u8,
    /// A restart-latched error (0 = none).
    pub restart: u8,
    /// `nmo` as read at boot: Norway mode takes effect after a restart.
    pub norway_at_boot: Option<bool>,
    /// The error shown this second (0 = none).
    pub shown: u8,
}

impl ErrorState {
    /// One second: `condition` is the world's lasting fault (0 = none),
    /// `norway` the current `nmo`, `plugged` whether a car is plugged in.
    /// Returns the `err` to show.
    pub fn update(&mut self, condition: u8, norway: bool, plugged: bool) -> u8 {
        let norway = *self.norway_at_boot.get_or_insert(norway);
        let condition = if condition == GND_INVALID && norway {
            0
        } else {
            condition
        };
        if condition != 0 && clearing(condition) == Clearing::Restart {
            self.restart = condition;
        }
        if !plugged {
            self.replug = 0;
        }
        self.shown = [condition, self.restart, self.replug]
            .into_iter()
            .find(|&e| e != 0)
            .unwrap_or(0);
        self.shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_clears_by_its_rule() {
        let mut e = ErrorState::default();
        assert_eq!(e.update(16, false, true), 16);
        assert_eq!(e.update(0, false, true), 0, "overtemp clears by itself");
        e.replug = 5;
        assert_eq!(e.update(0, false, true), 5);
        assert_eq!(e.update(0, false, false), 0, "over-current: replug");
        assert_eq!(e.update(8, false, true), 8);
        assert_eq!(e.update(0, false, false), 8, "ground: restart");
        let mut booted = ErrorState::default();
        assert_eq!(booted.update(8, true, true), 0, "Norway mode at boot");
    }
}
