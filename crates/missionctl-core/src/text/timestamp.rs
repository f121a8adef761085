//! Formatting of timestamps the way Spec Kitty stores them. Time enters the core as a number;
//! the shell reads the clock.

/// Returns the time `unix_micros` microseconds after the Unix epoch exactly as Python's
/// `datetime.now(UTC).isoformat()` writes it, the shape of every timestamp Spec Kitty stores
/// (`created_at` in `meta.json`, `at` in the event log): `2026-07-25T13:51:30.644518+00:00`.
///
/// Like Python, the fraction is left out when the microseconds are zero
/// (`2026-07-25T13:51:30+00:00`).
pub fn isoformat_utc(unix_micros: u64) -> String {
    let micros = unix_micros % 1_000_000;
    let seconds = unix_micros / 1_000_000;
    let days = seconds / 86_400;
    let second_of_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
    );
    let fraction = if micros == 0 {
        String::new()
    } else {
        format!(".{micros:06}")
    };
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}+00:00")
}

/// Converts days since 1970-01-01 into a proleptic Gregorian `(year, month, day)`.
///
/// Howard Hinnant's `civil_from_days`, restricted to dates after the epoch:
/// <https://howardhinnant.github.io/date_algorithms.html#civil_from_days>.
const fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// Parses an ISO 8601 date-time as Python's `datetime.fromisoformat` reads Spec Kitty's
/// timestamps — `YYYY-MM-DD`, then `T` or a space and `HH:MM[:SS[.ffffff]]`, then `Z` or an
/// offset `±HH:MM[:SS]`; no offset is UTC — and returns microseconds since the Unix epoch.
pub fn parse_iso_micros(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        if part.is_empty() || !part.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut micros_of_day = 0_i64;
    let mut rest = &text[10..];
    if let Some(time) = rest.strip_prefix(['T', ' ']) {
        let hour = number_in(time, 0..2)?;
        if time.as_bytes().get(2) != Some(&b':') {
            return None;
        }
        let minute = number_in(time, 3..5)?;
        let mut index = 5;
        let mut second = 0;
        let mut fraction = 0;
        if time.as_bytes().get(5) == Some(&b':') {
            second = number_in(time, 6..8)?;
            index = 8;
            if time.as_bytes().get(8) == Some(&b'.') {
                let digits = time[9..].bytes().take_while(u8::is_ascii_digit).count();
                if digits == 0 {
                    return None;
                }
                let mut padded = time[9..9 + digits].to_owned();
                padded.truncate(6);
                while padded.len() < 6 {
                    padded.push('0');
                }
                fraction = padded.parse::<i64>().ok()?;
                index = 9 + digits;
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        micros_of_day = ((hour * 60 + minute) * 60 + second) * 1_000_000 + fraction;
        rest = &time[index..];
    }
    let offset_micros = match rest {
        "" | "Z" => 0,
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let offset = &rest[1..];
            let hours = number_in(offset, 0..2)?;
            if offset.as_bytes().get(2) != Some(&b':') {
                return None;
            }
            let minutes = number_in(offset, 3..5)?;
            let seconds = match offset.len() {
                5 => 0,
                8 if offset.as_bytes()[5] == b':' => number_in(offset, 6..8)?,
                _ => return None,
            };
            sign * ((hours * 60 + minutes) * 60 + seconds) * 1_000_000
        }
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400_000_000 + micros_of_day - offset_micros)
}

fn number_in(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = text.get(range)?;
    if part.is_empty() || !part.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// Converts a proleptic Gregorian date into days since 1970-01-01 (Howard Hinnant's
/// `days_from_civil`).
const fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = if year >= 0 { year } else { year - 399 } / 400;
    let year_of_era = year - era * 400;
    let shifted_month = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_python_isoformat() {
        // datetime.fromtimestamp(1784987490.644518, UTC).isoformat()
        assert_eq!(
            isoformat_utc(1_784_987_490_644_518),
            "2026-07-25T13:51:30.644518+00:00"
        );
        assert_eq!(isoformat_utc(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(isoformat_utc(1), "1970-01-01T00:00:00.000001+00:00");
        assert_eq!(
            isoformat_utc(951_782_400_000_000),
            "2000-02-29T00:00:00+00:00"
        );
        assert_eq!(
            isoformat_utc(1_798_761_599_999_999),
            "2026-12-31T23:59:59.999999+00:00"
        );
    }

    #[test]
    fn every_day_round_trips_through_the_calendar() {
        // Walk 200 years day by day and check the calendar never skips or repeats a day.
        let mut previous = civil_from_days(0);
        for days in 1..73_000 {
            let (year, month, day) = civil_from_days(days);
            let (last_year, last_month, last_day) = previous;
            let next_day = (year, month, day) == (last_year, last_month, last_day + 1);
            let next_month = day == 1 && (year, month) == (last_year, last_month + 1);
            let next_year = (month, day) == (1, 1) && year == last_year + 1;
            assert!(next_day || next_month || next_year, "{days}: {previous:?}");
            previous = (year, month, day);
        }
    }

    #[test]
    fn parses_what_python_fromisoformat_reads() {
        assert_eq!(
            parse_iso_micros("2026-07-25T13:51:30.644518+00:00"),
            Some(1_784_987_490_644_518)
        );
        assert_eq!(
            parse_iso_micros("2026-07-25T13:51:30Z"),
            Some(1_784_987_490_000_000)
        );
        assert_eq!(
            parse_iso_micros("2026-07-25 15:51:30+02:00"),
            Some(1_784_987_490_000_000)
        );
        assert_eq!(
            parse_iso_micros("2026-07-25T13:51"),
            Some(1_784_987_460_000_000)
        );
        assert_eq!(parse_iso_micros("2026-07-25"), Some(1_784_937_600_000_000));
        assert_eq!(parse_iso_micros("1970-01-01T00:00:00.5"), Some(500_000));
        assert_eq!(parse_iso_micros("yesterday"), None);
        assert_eq!(parse_iso_micros("2026-13-01"), None);
    }
}
