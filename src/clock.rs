//! Time values given on the command line, and how tlsprobe prints them.
//!
//! The evaluation time is always an argument (`--at`), never read inside a check.

use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Seconds since the Unix epoch: the evaluation time every check receives.
pub type UnixSeconds = i64;

/// The current time, for when `--at` is not given.
pub fn now() -> UnixSeconds {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Parses `--at`: RFC 3339 (`2024-06-01T00:00:00Z`) or Unix seconds.
/// The range of `--at`: years 0000 to 9999, as in certificates.
const TIME_RANGE: std::ops::RangeInclusive<i64> = -62_167_219_200..=253_402_300_799;

/// The longest duration accepted (`--timeout`, `--wait`, `--interval`).
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

pub fn parse_time(s: &str) -> Result<UnixSeconds, TimeError> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        if !TIME_RANGE.contains(&secs) {
            return Err(TimeError::OutOfRange { secs });
        }
        return Ok(secs);
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| TimeError::Invalid { text: s.into() })
}

/// Parses a duration such as `10s`, `500ms`, `2m` (a bare number means seconds).
pub fn parse_duration(s: &str) -> Result<Duration, DurationError> {
    let d = parse_any_duration(s)?;
    if d > MAX_DURATION {
        return Err(DurationError::TooLong {
            text: s.trim().into(),
        });
    }
    Ok(d)
}

fn parse_any_duration(s: &str) -> Result<Duration, DurationError> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        if secs.is_finite() && (0.0..1e9).contains(&secs) {
            return Ok(Duration::from_secs_f64(secs));
        }
    }
    humantime::parse_duration(s).map_err(|_| DurationError::Invalid { text: s.into() })
}

/// Why a time (`--at`) was refused; displayed as clap and the inventories print it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// Unix seconds outside the years 0000 to 9999.
    #[error("time {secs} is outside the years 0000 to 9999")]
    OutOfRange { secs: i64 },
    /// Neither RFC 3339 nor an integer (the trimmed text).
    #[error("invalid time {text:?}: expected RFC 3339 (2024-06-01T00:00:00Z) or Unix seconds")]
    Invalid { text: String },
}

/// Why a duration (`--timeout`, `--wait`, `--interval`, `timeout =`) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a number of seconds nor a humantime duration (the trimmed text).
    #[error("invalid duration {text:?}: expected e.g. 10s, 500ms, 2m")]
    Invalid { text: String },
    /// Longer than [`MAX_DURATION`] (the trimmed text).
    #[error("duration {text:?} is longer than the 7 days tlsprobe accepts")]
    TooLong { text: String },
}

/// Formats Unix seconds as RFC 3339 in UTC (`2124-01-01T00:00:00Z`).
pub fn rfc3339(t: UnixSeconds) -> String {
    match OffsetDateTime::from_unix_timestamp(t) {
        Ok(dt) => dt.format(&Rfc3339).unwrap_or_else(|_| t.to_string()),
        Err(_) => t.to_string(),
    }
}

/// Whole days from `now` until `t`, rounded toward negative infinity (expired: negative).
pub fn days_until(t: UnixSeconds, now: UnixSeconds) -> i64 {
    t.saturating_sub(now).div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_time_forms() {
        assert_eq!(parse_time("2024-06-01T00:00:00Z"), Ok(1_717_200_000));
        assert_eq!(parse_time("1717200000"), Ok(1_717_200_000));
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("500000000000y").is_err());
        assert!(parse_duration("8d").is_err());
        assert!(parse_time("-9223372036854775808").is_err());
        assert!(parse_time("253402300800").is_err());
    }

    #[test]
    fn errors_display_todays_lines() {
        assert_eq!(
            parse_time(" 253402300800 ").unwrap_err().to_string(),
            "time 253402300800 is outside the years 0000 to 9999"
        );
        assert_eq!(
            parse_time(" yesterday ").unwrap_err(),
            TimeError::Invalid {
                text: "yesterday".into()
            }
        );
        assert_eq!(
            parse_time("yesterday").unwrap_err().to_string(),
            "invalid time \"yesterday\": expected RFC 3339 (2024-06-01T00:00:00Z) or Unix seconds"
        );
        assert_eq!(
            parse_duration(" soon ").unwrap_err().to_string(),
            "invalid duration \"soon\": expected e.g. 10s, 500ms, 2m"
        );
        assert_eq!(
            parse_duration(" 8d ").unwrap_err(),
            DurationError::TooLong { text: "8d".into() }
        );
        assert_eq!(
            parse_duration("8d").unwrap_err().to_string(),
            "duration \"8d\" is longer than the 7 days tlsprobe accepts"
        );
    }

    #[test]
    fn days_round_down() {
        assert_eq!(days_until(86_400 * 2, 0), 2);
        assert_eq!(days_until(86_399, 0), 0);
        assert_eq!(days_until(-1, 0), -1);
    }
}
