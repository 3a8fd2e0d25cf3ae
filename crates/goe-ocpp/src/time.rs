//! OCPP timestamps: written in UTC with milliseconds like a real go-e
//! (`2023-07-02T20:27:40.908Z`), read leniently (any offset, fractional
//! seconds, and no offset at all = UTC, which some backends send).

use jiff::Timestamp;

/// Formats simulated UTC milliseconds as an OCPP timestamp.
pub fn format_ms(utc_ms: i64) -> String {
    match Timestamp::from_millisecond(utc_ms) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}

/// Parses an OCPP timestamp to UTC milliseconds (`None` if it is not one).
pub fn parse_ms(text: &str) -> Option<i64> {
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Some(ts.as_millisecond());
    }
    let civil: jiff::civil::DateTime = text.parse().ok()?;
    jiff::tz::TimeZone::UTC
        .to_timestamp(civil)
        .ok()
        .map(|t| t.as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_milliseconds_and_z() {
        assert_eq!(format_ms(1_688_329_660_908), "2023-07-02T20:27:40.908Z");
        assert_eq!(format_ms(1_677_831_676_000), "2023-03-03T08:21:16.000Z");
    }

    #[test]
    fn reads_offsets_fractions_and_missing_offsets() {
        assert_eq!(
            parse_ms("2023-07-02T20:27:40.908Z"),
            Some(1_688_329_660_908)
        );
        assert_eq!(
            parse_ms("2023-07-02T22:27:40.908+02:00"),
            Some(1_688_329_660_908)
        );
        assert_eq!(parse_ms("2023-07-02T20:27:40"), Some(1_688_329_660_000));
        assert_eq!(parse_ms("yesterday"), None);
        assert_eq!(parse_ms(""), None);
    }
}
