//! The schedule of a periodic stall.
//!
//! Stalls are aligned to the wall clock (the Unix epoch), not to the
//! mock's start: every mock, embedded or not, on any machine, stalls at
//! the same instants, and any window of a whole number of periods holds
//! exactly that many stalls wherever it starts, which is what a test's
//! arithmetic needs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long a request arriving at `wall_time` (since the Unix epoch) must
/// wait: the rest of the stall it falls in, or zero between stalls.
pub(super) fn wait(wall_time: Duration, every: Duration, hold: Duration) -> Duration {
    let period = every.as_nanos();
    if period == 0 {
        return Duration::ZERO;
    }
    let phase = wall_time.as_nanos() % period;
    let held = hold.as_nanos();
    if phase >= held {
        return Duration::ZERO;
    }
    // The remainder is below `hold`, itself a Duration, so it fits in u64.
    Duration::from_nanos(u64::try_from(held - phase).unwrap_or(u64::MAX))
}

/// The wall-clock time now, since the Unix epoch; zero on a clock set
/// before 1970, which only shifts the schedule.
pub(super) fn wall_time() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);
    const QUARTER: Duration = Duration::from_millis(250);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_request_in_a_stall_waits_for_its_end() {
        assert_eq!(wait(ms(5_000), SECOND, QUARTER), QUARTER);
        assert_eq!(wait(ms(5_100), SECOND, QUARTER), ms(150));
        assert_eq!(wait(ms(5_249), SECOND, QUARTER), ms(1));
    }

    #[test]
    fn a_request_between_stalls_goes_through() {
        assert_eq!(wait(ms(5_250), SECOND, QUARTER), Duration::ZERO);
        assert_eq!(wait(ms(5_999), SECOND, QUARTER), Duration::ZERO);
    }

    #[test]
    fn a_zero_period_never_stalls() {
        assert_eq!(wait(ms(5_000), Duration::ZERO, QUARTER), Duration::ZERO);
    }
}
