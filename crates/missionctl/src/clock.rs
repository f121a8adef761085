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
        missionctl_core::text::timestamp::isoformat_utc(self.unix_micros)
    }
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
    fn next_micro_is_strictly_later() {
        let time = Timestamp::from_unix_micros(41);
        assert!(time.next_micro() > time);
        assert_eq!(time.next_micro().to_isoformat(), iso(42));
    }
}
