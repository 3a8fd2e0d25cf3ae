//! Wall-clock formatting of simulated time: `utc`, `loc`, time zone and DST.
//!
//! Pure functions of a timestamp: the engine never reads a clock. Local time is
//! `tof` minutes east of UTC plus one hour in daylight saving time as chosen by
//! `tds` (0 none, 1 European rules, 2 US rules).

use jiff::civil::{Date, Weekday, date};
use jiff::tz::Offset;
use jiff::{Timestamp, civil::DateTime};

/// A point in simulated time: milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub i64);

impl SimTime {
    /// Milliseconds since the Unix epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// This time plus `ms` milliseconds.
    pub const fn plus_ms(self, ms: i64) -> SimTime {
        SimTime(self.0.saturating_add(ms))
    }
}

fn civil(ms: i64) -> DateTime {
    let ts = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
    Offset::UTC.to_datetime(ts)
}

fn push_datetime(dt: DateTime, out: &mut String) {
    use std::fmt::Write as _;
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.millisecond()
    );
}

/// The `utc` key's text: `2024-09-18T07:31:23.457` (no zone).
pub fn format_utc(ms: i64) -> String {
    let mut s = String::with_capacity(23);
    push_datetime(civil(ms), &mut s);
    s
}

/// The `loc` key's text: `2024-09-18T09:31:23.457 +02:00`.
pub fn format_loc(ms: i64, tof_minutes: i64, tds: i64) -> String {
    let offset = local_offset_minutes(ms, tof_minutes, tds);
    let mut s = String::with_capacity(30);
    push_datetime(civil(ms + offset * 60_000), &mut s);
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.abs();
    use std::fmt::Write as _;
    let _ = write!(s, " {sign}{:02}:{:02}", abs / 60, abs % 60);
    s
}

/// Minutes east of UTC at `ms` for the charger's `tof` and `tds` settings.
pub fn local_offset_minutes(ms: i64, tof_minutes: i64, tds: i64) -> i64 {
    if in_dst(ms, tof_minutes, tds) {
        tof_minutes + 60
    } else {
        tof_minutes
    }
}

/// Milliseconds since the epoch of `day` at `hour`:00 UTC.
fn utc_ms(day: Date, hour: i8) -> i64 {
    Offset::UTC
        .to_timestamp(day.at(hour, 0, 0, 0))
        .map(Timestamp::as_millisecond)
        .unwrap_or(0)
}

fn nth_sunday(year: i16, month: i8, nth: i8) -> Date {
    date(year, month, 1)
        .nth_weekday_of_month(nth, Weekday::Sunday)
        .unwrap_or(date(year, month, 1))
}

/// Whether daylight saving time applies at `ms`.
fn in_dst(ms: i64, tof_minutes: i64, tds: i64) -> bool {
    let year = civil(ms).year();
    match tds {
        // EU: last Sunday of March 01:00 UTC to last Sunday of October 01:00 UTC.
        1 => {
            let start = utc_ms(nth_sunday(year, 3, -1), 1);
            let end = utc_ms(nth_sunday(year, 10, -1), 1);
            (start..end).contains(&ms)
        }
        // US: second Sunday of March 02:00 standard time to first Sunday of
        // November 02:00 daylight time (= 01:00 standard time).
        2 => {
            let start = utc_ms(nth_sunday(year, 3, 2), 2) - tof_minutes * 60_000;
            let end = utc_ms(nth_sunday(year, 11, 1), 1) - tof_minutes * 60_000;
            (start..end).contains(&ms)
        }
        _ => false,
    }
}

/// Milliseconds since the epoch for a parsed `utc` text.
pub fn utc_text_to_ms(parts: (i32, u8, u8, u8, u8, u8, u16)) -> Option<i64> {
    let (y, mo, d, h, mi, s, ms) = parts;
    let dt = jiff::civil::datetime(
        i16::try_from(y).ok()?,
        mo as i8,
        d as i8,
        h as i8,
        mi as i8,
        s as i8,
        i32::from(ms) * 1_000_000,
    );
    Offset::UTC
        .to_timestamp(dt)
        .ok()
        .map(Timestamp::as_millisecond)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUMMER: i64 = 1_726_644_683_457; // 2024-09-18T07:31:23.457Z
    const WINTER: i64 = 1_705_305_600_000; // 2024-01-15T08:00:00Z

    #[test]
    fn utc_has_milliseconds_and_no_zone() {
        assert_eq!(format_utc(SUMMER), "2024-09-18T07:31:23.457");
    }

    #[test]
    fn european_summer_and_winter_time() {
        assert_eq!(format_loc(SUMMER, 60, 1), "2024-09-18T09:31:23.457 +02:00");
        assert_eq!(format_loc(WINTER, 60, 1), "2024-01-15T09:00:00.000 +01:00");
        assert_eq!(format_loc(SUMMER, 60, 0), "2024-09-18T08:31:23.457 +01:00");
        // 2024-03-31 01:00 UTC is the switch.
        let switch = utc_ms(date(2024, 3, 31), 1);
        assert_eq!(local_offset_minutes(switch - 1, 60, 1), 60);
        assert_eq!(local_offset_minutes(switch, 60, 1), 120);
    }

    #[test]
    fn us_rules_and_negative_offsets() {
        // New York: -300 min; 2024-03-10 07:00 UTC is the switch.
        let switch = utc_ms(date(2024, 3, 10), 7);
        assert_eq!(local_offset_minutes(switch - 1, -300, 2), -300);
        assert_eq!(local_offset_minutes(switch, -300, 2), -240);
        assert_eq!(
            format_loc(WINTER, -300, 2),
            "2024-01-15T03:00:00.000 -05:00"
        );
        // 2024-11-03 06:00 UTC ends it.
        let end = utc_ms(date(2024, 11, 3), 6);
        assert_eq!(local_offset_minutes(end - 1, -300, 2), -240);
        assert_eq!(local_offset_minutes(end, -300, 2), -300);
    }

    #[test]
    fn utc_text_round_trip() {
        let parts = goe_keys::set::parse_utc("2024-09-18T07:31:23.457").unwrap();
        assert_eq!(utc_text_to_ms(parts), Some(SUMMER));
    }
}
