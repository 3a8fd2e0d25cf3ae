//! Firmware versions and the ranges of firmware in which a key exists.
//!
//! Real units print their version as `fwv` (`"051.4"` on the 2021 firmware,
//! `"56.2"` and `"60.5"` later). The key table says, per key, from which
//! version on and until which version a key (or one definition of it) exists;
//! a [`crate::profile::Profile`] resolves the table for one version.

use std::fmt;

/// A firmware version `major.minor` (`060.5` is major 60, minor 5), ordered
/// as the firmware numbers its releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Firmware {
    /// The major release (`60` for `060.5`).
    pub major: u16,
    /// The minor release (`5` for `060.5`).
    pub minor: u16,
}

/// Shorthand for the key table: `fw(55, 2)` is firmware 055.2.
pub const fn fw(major: u16, minor: u16) -> Firmware {
    Firmware { major, minor }
}

impl Firmware {
    /// The lowest version: a range starting here has no lower bound.
    pub const MIN: Firmware = fw(0, 0);

    /// Parses `060.5`, `60.5` or `60` (leading zeros and a missing minor are accepted).
    pub fn parse(text: &str) -> Option<Firmware> {
        let (major, minor) = text.trim().split_once('.').unwrap_or((text.trim(), "0"));
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(major) || !digits(minor) {
            return None;
        }
        Some(fw(major.parse().ok()?, minor.parse().ok()?))
    }

    /// Whether `self` lies in `since..until` (`until` exclusive, `None` open-ended).
    pub const fn within(self, since: Firmware, until: Option<Firmware>) -> bool {
        let key = self.major as u32 * 1000 + self.minor as u32;
        let low = since.major as u32 * 1000 + since.minor as u32;
        if key < low {
            return false;
        }
        match until {
            Some(u) => key < u.major as u32 * 1000 + u.minor as u32,
            None => true,
        }
    }
}

impl fmt::Display for Firmware {
    /// The three-digit spelling of the docs and `--firmware` (`060.5`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}.{}", self.major, self.minor)
    }
}

/// The firmware versions in which a key definition applies: `since..until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FwRange {
    /// The first version that has it.
    pub since: Firmware,
    /// The first version that no longer has it (`None`: still there today).
    pub until: Option<Firmware>,
}

impl FwRange {
    /// Every firmware version.
    pub const ALL: FwRange = FwRange {
        since: Firmware::MIN,
        until: None,
    };

    /// No firmware version (a key never published over MQTT).
    pub const NONE: FwRange = FwRange {
        since: Firmware::MIN,
        until: Some(Firmware::MIN),
    };

    /// Whether the range contains `version`.
    pub const fn contains(&self, version: Firmware) -> bool {
        version.within(self.since, self.until)
    }
}

impl fmt::Display for FwRange {
    /// `all`, `≥ 055.2`, `< 055.2` or `055.2 – < 060.0`, as `docs/KEYS.md` shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == FwRange::NONE {
            return f.write_str("none");
        }
        match (self.since == Firmware::MIN, self.until) {
            (true, None) => f.write_str("all"),
            (false, None) => write!(f, "≥ {}", self.since),
            (true, Some(u)) => write!(f, "< {u}"),
            (false, Some(u)) => write!(f, "{} – < {u}", self.since),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(Firmware::parse("060.5"), Some(fw(60, 5)));
        assert_eq!(Firmware::parse("60.5"), Some(fw(60, 5)));
        assert_eq!(Firmware::parse("56"), Some(fw(56, 0)));
        for bad in ["", "x", "60.", ".5", "60.5.1", "-1.0", "60.5 beta"] {
            assert_eq!(Firmware::parse(bad), None, "{bad}");
        }
        assert_eq!(fw(56, 2).to_string(), "056.2");
    }

    #[test]
    fn ranges() {
        let r = FwRange {
            since: fw(55, 2),
            until: Some(fw(60, 0)),
        };
        assert!(!r.contains(fw(55, 1)));
        assert!(r.contains(fw(55, 2)));
        assert!(r.contains(fw(59, 9)));
        assert!(!r.contains(fw(60, 0)));
        assert!(FwRange::ALL.contains(fw(51, 4)));
        assert_eq!(r.to_string(), "055.2 – < 060.0");
    }
}
