//! Time and identity, injected: the store never reads the clock or mints an id on its own, so
//! tests can fix both and get the same bytes (and the same commit ids) on every run.
//!
//! [`Clock`] is the one seam for both: every write that stamps a time or mints an id (an event
//! row's `at` and `event_id`, a commit's date, a new mission's `created_at` and `mission_id`)
//! takes a `&dyn Clock`. [`SystemClock`] is the real one; [`FixedClock`] is stopped at one
//! instant and mints predictable ids, for tests and reproducible runs.

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use missionctl_core::mission::meta::MissionId;
use missionctl_core::mission::run::run_id_from_random;
use missionctl_core::text::timestamp::isoformat_utc;

/// A source of the current time and of new ids.
pub trait Clock {
    /// Returns the current time.
    fn now(&self) -> SystemTime;

    /// Returns a new, unique event id: an uppercase ULID.
    fn new_event_id(&self) -> String;

    /// Returns a new mission id for a mission created at `created_at`.
    fn new_mission_id(&self, created_at: SystemTime) -> MissionId;

    /// Returns a new run id: a UUID4 in Spec Kitty's spelling (32 lowercase hex digits).
    fn new_run_id(&self) -> String;
}

/// The system's wall clock and random ULIDs.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn new_event_id(&self) -> String {
        ulid::Ulid::generate().to_string()
    }

    /// Mints a random ULID whose time part is the creation time.
    fn new_mission_id(&self, created_at: SystemTime) -> MissionId {
        mission_id(ulid::Ulid::from_datetime(created_at))
    }

    fn new_run_id(&self) -> String {
        // Two ULIDs give 160 random bits; a UUID4 needs 122 of them.
        let high = ulid::Ulid::generate().random();
        let low = ulid::Ulid::generate().random();
        run_id_from_random((high << 48) ^ low)
    }
}

/// A clock stopped at one instant whose ids are predictable (for tests and reproducible runs).
///
/// Event ids are ULIDs of that instant whose random part counts up from 1, so each is new and
/// they sort in the order they were minted. The mission id is the one given to
/// [`with_mission_id`](FixedClock::with_mission_id), or else minted like an event id.
#[derive(Debug, Clone)]
pub struct FixedClock {
    at: SystemTime,
    mission_id: Option<MissionId>,
    minted: Cell<u128>,
}

impl FixedClock {
    /// Returns a clock stopped at `at`.
    pub fn new(at: SystemTime) -> FixedClock {
        FixedClock {
            at,
            mission_id: None,
            minted: Cell::new(0),
        }
    }

    /// Returns a clock stopped `unix_micros` microseconds after the Unix epoch.
    pub fn from_unix_micros(unix_micros: u64) -> FixedClock {
        FixedClock::new(UNIX_EPOCH + Duration::from_micros(unix_micros))
    }

    /// Returns this clock, minting `mission_id` for every new mission.
    #[must_use]
    pub fn with_mission_id(self, mission_id: MissionId) -> FixedClock {
        FixedClock {
            mission_id: Some(mission_id),
            ..self
        }
    }

    /// Returns the next ULID of `at`.
    fn next_ulid(&self, at: SystemTime) -> ulid::Ulid {
        let count = self.minted.get() + 1;
        self.minted.set(count);
        ulid::Ulid::from_parts(unix_micros(at) / 1000, count)
    }
}

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.at
    }

    fn new_event_id(&self) -> String {
        self.next_ulid(self.at).to_string()
    }

    fn new_mission_id(&self, created_at: SystemTime) -> MissionId {
        match &self.mission_id {
            Some(id) => id.clone(),
            None => mission_id(self.next_ulid(created_at)),
        }
    }

    /// Returns the UUID4 whose random bits are the count of ids minted so far.
    fn new_run_id(&self) -> String {
        run_id_from_random(self.next_ulid(self.at).random())
    }
}

/// Returns a ULID as a mission id.
fn mission_id(ulid: ulid::Ulid) -> MissionId {
    // `Ulid::to_string` always writes 26 uppercase Crockford base32 characters.
    MissionId::parse(&ulid.to_string()).expect("a ulid crate ULID is a valid mission id")
}

/// Returns the whole microseconds since the Unix epoch (0 for a time before it).
pub fn unix_micros(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Returns the whole seconds since the epoch of the clock's now (a commit's time).
pub fn unix_seconds(clock: &dyn Clock) -> i64 {
    i64::try_from(unix_micros(clock.now()) / 1_000_000).unwrap_or(i64::MAX)
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
        let id = SystemClock.new_mission_id(clock.now());
        assert_eq!(id.as_str().len(), 26);
        let decoded = ulid::Ulid::from_string(id.as_str()).expect("ULID");
        assert_eq!(unix_micros(decoded.datetime()) / 1000, 1_784_987_490_644);
        assert_eq!(isoformat(clock.now()), "2026-07-25T13:51:30.644518+00:00");
    }

    #[test]
    fn a_fixed_clock_mints_new_ids_in_order_and_the_given_mission_id() {
        let clock = FixedClock::from_unix_micros(1_784_987_490_644_518);
        let first = clock.new_event_id();
        let second = clock.new_event_id();
        assert!(first < second, "{first} then {second}");
        for id in [&first, &second] {
            let decoded = ulid::Ulid::from_string(id).expect("ULID");
            assert_eq!(decoded.to_string(), *id, "uppercase");
            assert_eq!(decoded.timestamp_ms(), 1_784_987_490_644);
        }
        let minted = clock.new_mission_id(clock.now());
        assert_ne!(minted.as_str(), second);

        let given = MissionId::parse("01KQ7WJ3ZP0000000000000000").expect("a mission id");
        let clock = clock.with_mission_id(given.clone());
        assert_eq!(clock.new_mission_id(clock.now()), given);
        assert_eq!(clock.new_mission_id(clock.now()), given);
    }

    #[test]
    fn run_ids_are_new_uuid4s_on_both_clocks() {
        let fixed = FixedClock::from_unix_micros(1_784_987_490_644_518);
        for clock in [&fixed as &dyn Clock, &SystemClock] {
            let (first, second) = (clock.new_run_id(), clock.new_run_id());
            assert_ne!(first, second);
            for id in [&first, &second] {
                assert!(missionctl_core::mission::run::is_valid_run_id(id), "{id}");
                assert_eq!(id.as_bytes()[12], b'4', "UUID version 4: {id}");
            }
        }
    }
}
