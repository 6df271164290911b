//! Run phases, shared by the workers: the clock of the plan decides when a
//! run stops starting chats and when it ends the rest, and a signal can move
//! the phase forward early.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Starting chats along the plan.
    Running = 0,
    /// No new chats; running ones may finish.
    Draining = 1,
    /// Running chats are ended now with `chat_session_end`.
    Ending = 2,
    /// Clients stop at once; nothing more is sent.
    Stopped = 3,
}

impl Phase {
    fn from_u8(value: u8) -> Phase {
        match value {
            0 => Phase::Running,
            1 => Phase::Draining,
            2 => Phase::Ending,
            _ => Phase::Stopped,
        }
    }
}

/// The phase every worker reads. Moves only forward.
#[derive(Debug, Clone, Default)]
pub struct Control {
    phase: Arc<AtomicU8>,
}

impl Control {
    /// A control in [`Phase::Running`].
    pub fn new() -> Control {
        Control::default()
    }

    /// The phase now.
    pub fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::Acquire))
    }

    /// Moves to `phase` unless the run is already further along.
    pub fn advance(&self, phase: Phase) {
        self.phase.fetch_max(phase as u8, Ordering::AcqRel);
    }
}

/// The planned instants of a run: when the plan starts, when it stops
/// starting chats, and when the grace period is over.
#[derive(Debug, Clone, Copy)]
pub struct Timeline {
    /// The plan's time zero, the same on every worker.
    pub start: Instant,
    /// End of the last stage.
    pub drain_at: Instant,
    /// End of the grace period.
    pub end_at: Instant,
}

impl Timeline {
    /// The timeline of a plan of `planned` length with `grace` after it.
    pub fn new(start: Instant, planned: Duration, grace: Duration) -> Timeline {
        let drain_at = start + planned;
        Timeline {
            start,
            drain_at,
            end_at: drain_at + grace,
        }
    }

    /// The phase the clock alone says the run is in at `now`.
    pub fn phase_at(&self, now: Instant) -> Phase {
        if now < self.drain_at {
            Phase::Running
        } else if now < self.end_at {
            Phase::Draining
        } else {
            Phase::Ending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_only_moves_forward() {
        let control = Control::new();
        control.advance(Phase::Ending);
        control.advance(Phase::Draining);
        assert_eq!(control.phase(), Phase::Ending);
        control.advance(Phase::Stopped);
        assert_eq!(control.phase(), Phase::Stopped);
    }

    #[test]
    fn timeline_phases_follow_the_clock() {
        let start = Instant::now();
        let line = Timeline::new(start, Duration::from_secs(10), Duration::from_secs(5));
        assert_eq!(line.phase_at(start), Phase::Running);
        assert_eq!(
            line.phase_at(start + Duration::from_secs(10)),
            Phase::Draining
        );
        assert_eq!(
            line.phase_at(start + Duration::from_secs(15)),
            Phase::Ending
        );
    }
}
