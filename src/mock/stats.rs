//! Counters of what the mock has done, served as JSON at [`STATS_PATH`] so
//! tests and users can check a run from the server's side.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Path of the counters, outside the API prefix so no client mistakes it
/// for a method.
pub const STATS_PATH: &str = "/mock/stats";

/// Live counters; gauges go up and down, the rest only up.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub active_chats: AtomicU64,
    pub queued_chats: AtomicU64,
    pub chats_created: AtomicU64,
    pub polls_held: AtomicU64,
    pub events_sent: AtomicU64,
    pub max_chats_per_client: AtomicU64,
}

/// The counters at one instant, as `GET /mock/stats` returns them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// Chats not yet ended, queued ones included.
    pub active_chats: u64,
    /// Chats waiting for an agent.
    pub queued_chats: u64,
    /// Chats created since start.
    pub chats_created: u64,
    /// Long polls being held right now.
    pub polls_held: u64,
    /// Server events handed to clients by polls since start.
    pub events_sent: u64,
    /// The most active chats any one client has had at once; more than 1
    /// would mean the one-chat rule broke.
    pub max_chats_per_client: u64,
}

impl Stats {
    /// Adds one to a counter or gauge.
    pub fn up(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Takes one from a gauge; every call pairs with an earlier [`Stats::up`].
    pub fn down(counter: &AtomicU64) {
        counter.fetch_sub(1, Ordering::Relaxed);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            active_chats: read(&self.active_chats),
            queued_chats: read(&self.queued_chats),
            chats_created: read(&self.chats_created),
            polls_held: read(&self.polls_held),
            events_sent: read(&self.events_sent),
            max_chats_per_client: read(&self.max_chats_per_client),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_reads_gauges_after_ups_and_downs() {
        let stats = Stats::default();
        Stats::up(&stats.polls_held);
        Stats::up(&stats.polls_held);
        Stats::down(&stats.polls_held);
        Stats::up(&stats.chats_created);
        let snap = stats.snapshot();
        assert_eq!(
            (snap.polls_held, snap.chats_created, snap.active_chats),
            (1, 1, 0)
        );
    }
}
