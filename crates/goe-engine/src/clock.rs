//! Wall-clock formatting of simulated time: `utc`, `loc`, time zone and DST.
//!
//! Pure functions of a timestamp: the engine never reads a clock. Local time is
//! `tof` minutes east of UTC plus one hour in daylight saving time as chosen by
//! `tds` (0 none, 1 European rules, 2 US rules, 3 Australian rules).

use jiff::Timestamp;
use jiff::tz::Offset;

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

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`): integer math, so the once-a-second clock keys and the
/// DST rule cost a few nanoseconds instead of a calendar library's lookups.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month 1..=12, day 1..=31) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day of the week of a day count, Monday = 0 (1970-01-01 was a Thursday).
pub(crate) fn weekday_monday0(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// A timestamp broken into calendar fields (UTC, or local after adding the offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: i64,
    pub(crate) day: i64,
    /// Monday = 0.
    pub(crate) weekday: i64,
    /// Milliseconds since midnight.
    pub(crate) ms_of_day: i64,
}

pub(crate) fn civil(ms: i64) -> Civil {
    let days = ms.div_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        weekday: weekday_monday0(days),
        ms_of_day: ms.rem_euclid(MS_PER_DAY),
    }
}

/// Writes `value` (0..=99) as two ASCII digits at `at`.
fn put2(buf: &mut [u8], at: usize, value: i64) {
    buf[at] = b'0' + (value / 10 % 10) as u8;
    buf[at + 1] = b'0' + (value % 10) as u8;
}

/// Appends `YYYY-MM-DDTHH:MM:SS.mmm` (years clamped to 0..=9999).
fn push_datetime(ms: i64, out: &mut String) {
    let c = civil(ms);
    let t = c.ms_of_day;
    let year = c.year.clamp(0, 9999);
    let mut buf = *b"0000-00-00T00:00:00.000";
    put2(&mut buf, 0, year / 100);
    put2(&mut buf, 2, year % 100);
    put2(&mut buf, 5, c.month);
    put2(&mut buf, 8, c.day);
    put2(&mut buf, 11, t / 3_600_000);
    put2(&mut buf, 14, t / 60_000 % 60);
    put2(&mut buf, 17, t / 1000 % 60);
    buf[20] = b'0' + (t % 1000 / 100) as u8;
    put2(&mut buf, 21, t % 100);
    // only ASCII digits and separators were written
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

/// The `utc` key's text: `2024-09-18T07:31:23.457` (no zone).
pub fn format_utc(ms: i64) -> String {
    let mut s = String::with_capacity(23);
    write_utc(ms, &mut s);
    s
}

/// Appends the `utc` key's text to `out` (no allocation when it has room).
pub fn write_utc(ms: i64, out: &mut String) {
    push_datetime(ms, out);
}

/// The `loc` key's text: `2024-09-18T09:31:23.457 +02:00`.
pub fn format_loc(ms: i64, tof_minutes: i64, tds: i64) -> String {
    let mut s = String::with_capacity(30);
    write_loc(ms, tof_minutes, tds, &mut s);
    s
}

/// Appends the `loc` key's text to `out`.
pub fn write_loc(ms: i64, tof_minutes: i64, tds: i64, out: &mut String) {
    write_loc_at_offset(ms, local_offset_minutes(ms, tof_minutes, tds), out);
}

/// Appends the `loc` text of `ms` shown `offset` minutes east of UTC.
pub(crate) fn write_loc_at_offset(ms: i64, offset: i64, out: &mut String) {
    push_datetime(ms + offset * 60_000, out);
    let abs = offset.abs().min(99 * 60 + 59);
    let mut buf = *b" +00:00";
    if offset < 0 {
        buf[1] = b'-';
    }
    put2(&mut buf, 2, abs / 60);
    put2(&mut buf, 5, abs % 60);
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

/// One UTC year's daylight-saving window for one `tof`/`tds` setting, kept
/// by each charger so the once-a-second local time does not redo the
/// calendar rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DstWindow {
    year_from: i64,
    year_to: i64,
    tof: i64,
    tds: i64,
    start: i64,
    end: i64,
    /// Southern hemisphere (`tds` 3): daylight saving time lies *outside*
    /// `start..end` (it spans the new year).
    south: bool,
}

impl DstWindow {
    fn compute(ms: i64, tof_minutes: i64, tds: i64) -> DstWindow {
        let year = civil(ms).year;
        let (start, end) = match tds {
            1 => (
                day_hour_ms(nth_sunday(year, 3, -1), 1),
                day_hour_ms(nth_sunday(year, 10, -1), 1),
            ),
            2 => (
                day_hour_ms(nth_sunday(year, 3, 2), 2) - tof_minutes * 60_000,
                day_hour_ms(nth_sunday(year, 11, 1), 1) - tof_minutes * 60_000,
            ),
            3 => australian_standard_window(year, tof_minutes),
            _ => (0, 0),
        };
        DstWindow {
            south: tds == 3,
            year_from: days_from_civil(year, 1, 1) * MS_PER_DAY,
            year_to: days_from_civil(year + 1, 1, 1) * MS_PER_DAY,
            tof: tof_minutes,
            tds,
            start,
            end,
        }
    }

    /// Minutes east of UTC at `ms` (same rule as [`local_offset_minutes`]),
    /// recomputing the window only when the year or the settings change.
    pub(crate) fn offset_minutes(
        cache: &std::cell::Cell<DstWindow>,
        ms: i64,
        tof_minutes: i64,
        tds: i64,
    ) -> i64 {
        let mut w = cache.get();
        if w.tof != tof_minutes || w.tds != tds || !(w.year_from..w.year_to).contains(&ms) {
            w = DstWindow::compute(ms, tof_minutes, tds);
            cache.set(w);
        }
        if (w.start..w.end).contains(&ms) != w.south {
            tof_minutes + 60
        } else {
            tof_minutes
        }
    }
}

/// Minutes east of UTC at `ms` for the charger's `tof` and `tds` settings.
pub fn local_offset_minutes(ms: i64, tof_minutes: i64, tds: i64) -> i64 {
    if in_dst(ms, tof_minutes, tds) {
        tof_minutes + 60
    } else {
        tof_minutes
    }
}

/// Milliseconds since the epoch of `day` (days since 1970) at `hour`:00 UTC.
fn day_hour_ms(day: i64, hour: i64) -> i64 {
    day * MS_PER_DAY + hour * 3_600_000
}

/// The day (since 1970) of the `nth` Sunday of a month; `nth` = -1 is the last.
fn nth_sunday(year: i64, month: i64, nth: i64) -> i64 {
    if nth < 0 {
        let (ny, nm) = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        let last = days_from_civil(ny, nm, 1) - 1;
        last - (weekday_monday0(last) + 1) % 7
    } else {
        let first = days_from_civil(year, month, 1);
        first + (6 - weekday_monday0(first)) + 7 * (nth - 1)
    }
}

/// Whether daylight saving time applies at `ms`.
fn in_dst(ms: i64, tof_minutes: i64, tds: i64) -> bool {
    match tds {
        // EU: last Sunday of March 01:00 UTC to last Sunday of October 01:00 UTC.
        1 => {
            let year = civil(ms).year;
            let start = day_hour_ms(nth_sunday(year, 3, -1), 1);
            let end = day_hour_ms(nth_sunday(year, 10, -1), 1);
            (start..end).contains(&ms)
        }
        // US: second Sunday of March 02:00 standard time to first Sunday of
        // November 02:00 daylight time (= 01:00 standard time).
        2 => {
            let year = civil(ms).year;
            let start = day_hour_ms(nth_sunday(year, 3, 2), 2) - tof_minutes * 60_000;
            let end = day_hour_ms(nth_sunday(year, 11, 1), 1) - tof_minutes * 60_000;
            (start..end).contains(&ms)
        }
        // Australia (south): daylight time from the first Sunday of October
        // 02:00 standard time to the first Sunday of April 03:00 daylight
        // time (= 02:00 standard), i.e. outside the standard-time window.
        3 => {
            let (start, end) = australian_standard_window(civil(ms).year, tof_minutes);
            !(start..end).contains(&ms)
        }
        _ => false,
    }
}

/// One year's standard-time window under the Australian rule (UTC ms):
/// from the first Sunday of April 02:00 standard time to the first Sunday
/// of October 02:00 standard time.
fn australian_standard_window(year: i64, tof_minutes: i64) -> (i64, i64) {
    (
        day_hour_ms(nth_sunday(year, 4, 1), 2) - tof_minutes * 60_000,
        day_hour_ms(nth_sunday(year, 10, 1), 2) - tof_minutes * 60_000,
    )
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
    use jiff::civil::{Date, Weekday, date};

    /// Milliseconds since the epoch of `day` at `hour`:00 UTC (jiff, the oracle).
    fn utc_ms(day: Date, hour: i8) -> i64 {
        Offset::UTC
            .to_timestamp(day.at(hour, 0, 0, 0))
            .map(Timestamp::as_millisecond)
            .unwrap()
    }

    /// Australia (`tds` 3, AEST +10:00): daylight time ended 2024-04-07
    /// 03:00 AEDT (2024-04-06 16:00 UTC) and began 2024-10-06 02:00 AEST
    /// (2024-10-05 16:00 UTC).
    #[test]
    fn australian_daylight_saving() {
        let at = |d: Date, h: i8| utc_ms(d, h);
        assert_eq!(local_offset_minutes(at(date(2024, 1, 15), 0), 600, 3), 660);
        assert_eq!(local_offset_minutes(at(date(2024, 4, 6), 15), 600, 3), 660);
        assert_eq!(local_offset_minutes(at(date(2024, 4, 6), 16), 600, 3), 600);
        assert_eq!(local_offset_minutes(at(date(2024, 7, 1), 0), 600, 3), 600);
        assert_eq!(local_offset_minutes(at(date(2024, 10, 5), 15), 600, 3), 600);
        assert_eq!(local_offset_minutes(at(date(2024, 10, 5), 16), 600, 3), 660);
        assert_eq!(
            local_offset_minutes(at(date(2024, 12, 31), 23), 600, 3),
            660
        );
    }

    /// The integer calendar agrees with jiff on dates, weekdays and DST
    /// switches over four centuries (including before 1970 and leap rules).
    #[test]
    fn integer_calendar_matches_jiff() {
        let mut ms: i64 = -2_208_988_800_000; // 1900-01-01
        let step = 86_400_000 * 7 + 3_600_000 * 5 + 61_001; // drifts through every hour
        while ms < 10_413_792_000_000 {
            let dt = Offset::UTC.to_datetime(Timestamp::from_millisecond(ms).unwrap());
            let c = civil(ms);
            assert_eq!(
                (c.year, c.month, c.day),
                (
                    i64::from(dt.year()),
                    i64::from(dt.month()),
                    i64::from(dt.day())
                ),
                "{ms}"
            );
            assert_eq!(c.weekday, i64::from(dt.weekday().to_monday_zero_offset()));
            let expect = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
                dt.year(),
                dt.month(),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second(),
                dt.millisecond()
            );
            assert_eq!(format_utc(ms), expect);
            ms += step;
        }
        for year in 1990..2100i16 {
            for (month, nth) in [(3i8, -1i8), (10, -1), (3, 2), (11, 1)] {
                let want = date(year, month, 1)
                    .nth_weekday_of_month(nth, Weekday::Sunday)
                    .unwrap();
                let got = nth_sunday(i64::from(year), i64::from(month), i64::from(nth));
                assert_eq!(utc_ms(want, 0), got * MS_PER_DAY, "{year}-{month} {nth}");
            }
        }
    }

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

    /// The cached window gives the same offset as the rule at every hour of
    /// several years, in both directions and after a settings change.
    #[test]
    fn dst_window_cache_matches_rule() {
        let cache = std::cell::Cell::new(DstWindow::default());
        for (tof, tds) in [(60, 1), (-300, 2), (60, 0), (330, 1), (600, 3)] {
            let mut ms = 1_640_995_200_000; // 2022-01-01
            while ms < 1_767_225_600_000 {
                assert_eq!(
                    DstWindow::offset_minutes(&cache, ms, tof, tds),
                    local_offset_minutes(ms, tof, tds),
                    "{ms} {tof} {tds}"
                );
                ms += 3_600_000 - 1;
            }
        }
    }

    #[test]
    fn utc_text_round_trip() {
        let parts = goe_keys::set::parse_utc("2024-09-18T07:31:23.457").unwrap();
        assert_eq!(utc_text_to_ms(parts), Some(SUMMER));
    }
}
