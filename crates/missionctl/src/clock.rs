//! The wall clock, read only here: time enters the core as already formatted strings.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::command_error::CliError;

/// A point in time with microsecond precision, counted from the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timestamp {
    unix_micros: u64,
}

impl Timestamp {
    /// Returns the current time.
    pub(crate) fn now() -> Result<Timestamp, CliError> {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| CliError::internal("The system clock is set before 1970"))?;
        let unix_micros = u64::try_from(since_epoch.as_micros())
            .map_err(|_| CliError::internal("The system clock is set too far in the future"))?;
        Ok(Timestamp { unix_micros })
    }

    /// Returns the time `unix_micros` microseconds after the Unix epoch.
    #[cfg(test)]
    pub(crate) const fn from_unix_micros(unix_micros: u64) -> Timestamp {
        Timestamp { unix_micros }
    }

    /// Returns the next microsecond.
    pub(crate) const fn next_micro(self) -> Timestamp {
        Timestamp {
            unix_micros: self.unix_micros.saturating_add(1),
        }
    }

    /// Returns the time as a [`SystemTime`] (for minting ULIDs).
    pub(crate) fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(self.unix_micros)
    }

    /// Returns the time exactly as Python's `datetime.now(UTC).isoformat()` writes it, the
    /// shape of every timestamp Spec Kitty stores: `2026-07-25T13:51:30.644518+00:00`.
    ///
    /// Like Python, the fraction is left out when the microseconds are zero
    /// (`2026-07-25T13:51:30+00:00`); both shapes still sort correctly as strings.
    pub(crate) fn to_isoformat(self) -> String {
        let micros = self.unix_micros % 1_000_000;
        let seconds = self.unix_micros / 1_000_000;
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

    fn iso(unix_micros: u64) -> String {
        Timestamp::from_unix_micros(unix_micros).to_isoformat()
    }

    #[test]
    fn formats_like_python_isoformat() {
        // datetime.fromtimestamp(1784987490.644518, UTC).isoformat()
        assert_eq!(
            iso(1_784_987_490_644_518),
            "2026-07-25T13:51:30.644518+00:00"
        );
        assert_eq!(iso(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(iso(1), "1970-01-01T00:00:00.000001+00:00");
        // A leap day and the last microsecond of a year.
        assert_eq!(iso(951_782_400_000_000), "2000-02-29T00:00:00+00:00");
        assert_eq!(
            iso(1_798_761_599_999_999),
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
    fn next_micro_is_strictly_later() {
        let time = Timestamp::from_unix_micros(41);
        assert!(time.next_micro() > time);
        assert_eq!(time.next_micro().to_isoformat(), iso(42));
    }
}
