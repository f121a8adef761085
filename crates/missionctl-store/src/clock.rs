//! Time and identity, injected: the store never reads the clock or mints an id on its own, so
//! tests can fix both and get the same bytes (and the same commit ids) on every run.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use missionctl_core::meta::MissionId;
use missionctl_core::timestamp::isoformat_utc;

/// A source of the current time.
pub trait Clock {
    /// Returns the current time.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock stopped at one instant (for tests and reproducible runs).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub SystemTime);

impl FixedClock {
    /// Returns a clock stopped `unix_micros` microseconds after the Unix epoch.
    pub fn from_unix_micros(unix_micros: u64) -> FixedClock {
        FixedClock(UNIX_EPOCH + Duration::from_micros(unix_micros))
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// A source of new mission ids.
pub trait MissionIdSource {
    /// Returns a new mission id for a mission created at `now`.
    fn mint(&self, now: SystemTime) -> MissionId;
}

/// Mints random ULIDs whose time part is the creation time.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomMissionIds;

impl MissionIdSource for RandomMissionIds {
    fn mint(&self, now: SystemTime) -> MissionId {
        let text = ulid::Ulid::from_datetime(now).to_string();
        // `Ulid::to_string` always writes 26 uppercase Crockford base32 characters.
        MissionId::parse(&text).expect("a ulid crate ULID is a valid mission id")
    }
}

/// Always returns the same mission id (for tests and reproducible runs).
#[derive(Debug, Clone)]
pub struct FixedMissionId(pub MissionId);

impl MissionIdSource for FixedMissionId {
    fn mint(&self, _now: SystemTime) -> MissionId {
        self.0.clone()
    }
}

/// Returns the whole microseconds since the Unix epoch (0 for a time before it).
pub fn unix_micros(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Returns the time in Python's `isoformat()` shape, as Spec Kitty stores timestamps.
pub fn isoformat(time: SystemTime) -> String {
    isoformat_utc(unix_micros(time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_are_mission_ids_carrying_the_time() {
        let clock = FixedClock::from_unix_micros(1_784_987_490_644_518);
        let id = RandomMissionIds.mint(clock.now());
        assert_eq!(id.as_str().len(), 26);
        let decoded = ulid::Ulid::from_string(id.as_str()).expect("ULID");
        assert_eq!(unix_micros(decoded.datetime()) / 1000, 1_784_987_490_644);
        assert_eq!(isoformat(clock.now()), "2026-07-25T13:51:30.644518+00:00");
    }
}
