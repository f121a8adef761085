//! Bounded retry with jitter, for git's lock files held by another process for a moment (an
//! editor refreshing `git status`, a commit on the same branch).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a write keeps retrying a busy git lock file or a branch that moved under it.
pub(crate) const GIT_LOCK_PATIENCE: Duration = Duration::from_secs(4);

/// The first delay; it doubles up to [`MAX_DELAY`], each one scaled by a random factor in
/// `[0.5, 1.5)`.
const FIRST_DELAY: Duration = Duration::from_millis(2);
const MAX_DELAY: Duration = Duration::from_millis(120);

/// The retries of one operation.
#[derive(Debug)]
pub(crate) struct Backoff {
    started: Instant,
    patience: Duration,
    delay: Duration,
    state: u64,
}

impl Backoff {
    /// Starts retrying for at most `patience`.
    pub(crate) fn new(patience: Duration) -> Backoff {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let state = (u64::from(std::process::id()) << 32 | u64::from(nanos)) | 1;
        Backoff {
            started: Instant::now(),
            patience,
            delay: FIRST_DELAY,
            state,
        }
    }

    /// Sleeps before the next attempt and returns true, or returns false without sleeping
    /// when the patience is spent.
    pub(crate) fn wait(&mut self) -> bool {
        let elapsed = self.started.elapsed();
        if elapsed >= self.patience {
            return false;
        }
        // xorshift64*: a jitter that differs between processes retrying at the same time.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let random = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
        let factor = 0.5 + (random as f64) / f64::from(1u32 << 24);
        let delay = self
            .delay
            .mul_f64(factor)
            .min(self.patience.saturating_sub(elapsed));
        std::thread::sleep(delay);
        self.delay = (self.delay * 2).min(MAX_DELAY);
        true
    }
}

/// Waits before another attempt on a git lock file held by someone else; returns false (give
/// up) when the patience is spent, or at once when the lock is already older than the
/// patience: a lock that old is left by a dead process, or held by one that will not let go
/// soon (an editor opened by `git commit`), and waiting would not help.
pub(crate) fn wait_for_lock(backoff: &mut Backoff, lock: &std::path::Path) -> bool {
    if super::lock_age(lock).is_some_and(|age| age >= GIT_LOCK_PATIENCE) {
        return false;
    }
    backoff.wait()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_stop_after_the_patience() {
        let mut backoff = Backoff::new(Duration::from_millis(30));
        let mut attempts = 0;
        while backoff.wait() {
            attempts += 1;
            assert!(attempts < 1000);
        }
        assert!(attempts >= 1);
        assert!(!Backoff::new(Duration::ZERO).wait());
    }
}
