//! Counters of what the mock has done, served as JSON at [`STATS_PATH`] so
//! tests and users can check a run from the server's side.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::store::ClientKey;

/// Most distinct clients counted; [`StatsSnapshot::distinct_exact`] turns
/// false once a client beyond it is seen. About 4 MiB of hashes.
pub const SEEN_CAP: usize = 250_000;

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
    pub distinct_clients: AtomicU64,
    pub uuid_clients: AtomicU64,
    /// A client came after the set was full, so the counts are a floor.
    seen_overflow: AtomicBool,
    /// Hashes of the clients that ever made a chat, up to [`SEEN_CAP`] of
    /// them. Eight bytes a client rather than the key itself; a collision
    /// among a few hundred thousand 64-bit hashes is too rare to matter for
    /// a count. Past the cap new clients are no longer counted, so that a
    /// day-long open-model run cannot grow the set without bound.
    seen_clients: Mutex<HashSet<u64>>,
    /// Live chats of each client that has any, counted apart from the
    /// store's one-chat index so that a break of that rule shows up in
    /// [`StatsSnapshot::max_chats_per_client`]. One entry per live chat
    /// at most, so it is bounded by `max_chats`.
    live_per_client: Mutex<HashMap<ClientKey, u64>>,
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
    /// Different clients that have made at least one chat since start.
    #[serde(default)]
    pub distinct_clients: u64,
    /// Of those, the ones whose `clientId` is a UUID, as the API asks of
    /// real clients.
    #[serde(default)]
    pub uuid_clients: u64,
    /// True while every client was counted; false once more than
    /// [`SEEN_CAP`] came, when the two counts above stop at the cap.
    #[serde(default = "exact_by_default")]
    pub distinct_exact: bool,
}

fn exact_by_default() -> bool {
    true
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

    /// Counts `client` among the distinct clients if it is new.
    pub fn client_seen(&self, client: &ClientKey) {
        let mut hasher = DefaultHasher::new();
        client.hash(&mut hasher);
        let hash = hasher.finish();
        // A panic elsewhere may have poisoned the set; the count is only a
        // statistic, so it goes on with the data as it stands.
        let mut seen = self
            .seen_clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= SEEN_CAP && !seen.contains(&hash) {
            self.seen_overflow.store(true, Ordering::Relaxed);
            return;
        }
        let new = seen.insert(hash);
        drop(seen);
        if new {
            Stats::up(&self.distinct_clients);
            if uuid::Uuid::parse_str(client.client_id()).is_ok() {
                Stats::up(&self.uuid_clients);
            }
        }
    }

    /// Counts a new live chat of `client`, and raises the most any client
    /// has had at once if this one now has more.
    pub fn chat_opened(&self, client: &ClientKey) {
        // Only counts live here, so a poisoned map is used as it stands.
        let mut live = self
            .live_per_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = live.entry(client.clone()).or_insert(0);
        *count += 1;
        let count = *count;
        drop(live);
        self.max_chats_per_client
            .fetch_max(count, Ordering::Relaxed);
    }

    /// Counts the end of one of `client`'s live chats.
    pub fn chat_closed(&self, client: &ClientKey) {
        let mut live = self
            .live_per_client
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = live.get_mut(client) {
            *count -= 1;
            if *count == 0 {
                live.remove(client);
            }
        }
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
            distinct_clients: read(&self.distinct_clients),
            uuid_clients: read(&self.uuid_clients),
            distinct_exact: !self.seen_overflow.load(Ordering::Relaxed),
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

    #[test]
    fn a_client_is_counted_once_however_many_chats_it_makes() {
        let stats = Stats::default();
        let uuid = "3f2c9a1e-2d4b-4c7e-9f00-1a2b3c4d5e6f";
        stats.client_seen(&ClientKey::new("t", "app", uuid));
        stats.client_seen(&ClientKey::new("t", "app", "not-a-uuid"));
        stats.client_seen(&ClientKey::new("t", "app", uuid));
        let snapshot = stats.snapshot();
        assert_eq!((snapshot.distinct_clients, snapshot.uuid_clients), (2, 1));
        assert!(snapshot.distinct_exact);
    }

    #[test]
    fn the_most_live_chats_of_one_client_is_counted_for_real() {
        let stats = Stats::default();
        let (one, other) = (ClientKey::new("t", "a", "1"), ClientKey::new("t", "a", "2"));
        stats.chat_opened(&one);
        stats.chat_opened(&other);
        stats.chat_closed(&one);
        stats.chat_opened(&one);
        assert_eq!(stats.snapshot().max_chats_per_client, 1);

        // What a broken one-chat rule would look like.
        stats.chat_opened(&one);
        assert_eq!(stats.snapshot().max_chats_per_client, 2);
        stats.chat_closed(&one);
        stats.chat_closed(&one);
        stats.chat_closed(&other);
        assert!(stats.live_per_client.lock().unwrap().is_empty());
    }

    #[test]
    fn clients_past_the_cap_are_not_kept_and_the_count_says_so() {
        let stats = Stats::default();
        for n in 0..SEEN_CAP + 10 {
            stats.client_seen(&ClientKey::new("t", "app", &n.to_string()));
        }
        stats.client_seen(&ClientKey::new("t", "app", "0"));
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.distinct_clients, SEEN_CAP as u64);
        assert!(!snapshot.distinct_exact);
        let kept = stats.seen_clients.lock().unwrap().len();
        assert_eq!(kept, SEEN_CAP);
    }
}
