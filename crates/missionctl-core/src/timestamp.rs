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
}
