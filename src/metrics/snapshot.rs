//! A snapshot: everything recorded over one interval by one worker, or by
//! all of them once merged, or over the whole run. Merging is addition,
//! so the three are the same type.

use crate::api::Endpoint;

use super::endpoint::EndpointStats;
use super::latency::Latency;
use super::measure::Measure;
use super::outcome::ErrorKind;

/// Run-level counters that are not tied to an endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Virtual clients started.
    pub clients_started: u64,
    /// Chats requested.
    pub chats_started: u64,
    /// Chats that ended normally.
    pub chats_completed: u64,
    /// Chats that ended in an error.
    pub chats_failed: u64,
    /// Chats the server ended before the customer was done with them (the
    /// end `end = "agent"` waits for counts as completed instead).
    pub chats_ended_by_server: u64,
    /// Chats the run ended itself: still going when the grace period ran
    /// out, or when the run was interrupted.
    pub chats_interrupted: u64,
    /// Open model: chats that could not start because every client slot
    /// was busy.
    pub chats_dropped: u64,
    /// Of the dropped chats, those whose arrival time had passed when the
    /// worker reached them: the shard started late, or the worker fell
    /// behind.
    pub chats_missed: u64,
    /// Server events the protocol model did not know.
    pub unknown_events: u64,
}

impl Counters {
    fn add(&mut self, other: &Counters) {
        self.clients_started += other.clients_started;
        self.chats_started += other.chats_started;
        self.chats_completed += other.chats_completed;
        self.chats_failed += other.chats_failed;
        self.chats_ended_by_server += other.chats_ended_by_server;
        self.chats_interrupted += other.chats_interrupted;
        self.chats_dropped += other.chats_dropped;
        self.chats_missed += other.chats_missed;
        self.unknown_events += other.unknown_events;
    }
}

/// Samples, counters and gauges; `Send`, so a worker can hand it over.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Indexed by [`Endpoint::index`]; `None` for an endpoint not called,
    /// which then costs one pointer.
    pub(super) endpoints: [Option<Box<EndpointStats>>; Endpoint::ALL.len()],
    /// Indexed by [`Measure::index`].
    pub(super) measures: [Latency; Measure::ALL.len()],
    /// Run-level counters.
    pub counters: Counters,
    /// Active virtual clients when the snapshot was taken; summed on merge.
    pub active_clients: u64,
    /// Active chats when the snapshot was taken; summed on merge.
    pub active_chats: u64,
}

impl Snapshot {
    /// Adds `other` into this one: samples and counters add up, and so do
    /// the gauges, since merged snapshots come from different workers.
    pub fn merge(&mut self, other: &Snapshot) {
        for (mine, theirs) in self.endpoints.iter_mut().zip(&other.endpoints) {
            match (mine, theirs) {
                (Some(mine), Some(theirs)) => mine.merge(theirs),
                (mine @ None, Some(theirs)) => *mine = Some(theirs.clone()),
                (_, None) => {}
            }
        }
        for (mine, theirs) in self.measures.iter_mut().zip(&other.measures) {
            mine.merge(theirs);
        }

        self.counters.add(&other.counters);
        self.active_clients += other.active_clients;
        self.active_chats += other.active_chats;
    }

    /// The stats of one endpoint, if it was called.
    pub fn endpoint(&self, endpoint: Endpoint) -> Option<&EndpointStats> {
        self.endpoints[endpoint.index()]
            .as_deref()
            .filter(|s| s.count > 0)
    }

    /// The endpoints that were called, in [`Endpoint::ALL`] order.
    pub fn called(&self) -> impl Iterator<Item = (Endpoint, &EndpointStats)> + '_ {
        Endpoint::ALL
            .into_iter()
            .filter_map(|e| self.endpoint(e).map(|s| (e, s)))
    }

    /// The stats of one endpoint to add to, made empty if it had none: for
    /// rebuilding a snapshot from files, such as a merge of shards.
    pub fn endpoint_mut(&mut self, endpoint: Endpoint) -> &mut EndpointStats {
        self.endpoints[endpoint.index()].get_or_insert_with(Box::default)
    }

    /// The samples of one chat-level measure, to add to.
    pub fn measure_mut(&mut self, measure: Measure) -> &mut Latency {
        &mut self.measures[measure.index()]
    }

    /// The samples of one chat-level measure.
    pub fn measure(&self, measure: Measure) -> &Latency {
        &self.measures[measure.index()]
    }

    /// Requests over all endpoints.
    pub fn requests(&self) -> u64 {
        self.called().map(|(_, s)| s.count).sum()
    }

    /// Errored requests over all endpoints.
    pub fn errors(&self) -> u64 {
        self.called().map(|(_, s)| s.errors).sum()
    }

    /// Errors of one kind over all endpoints.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.called().map(|(_, s)| s.errors_of(kind)).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::metrics::Outcome;

    fn with_request(endpoint: Endpoint, outcome: Outcome) -> Snapshot {
        let mut snapshot = Snapshot::default();
        let mut stats = EndpointStats::default();
        stats.record(Duration::from_millis(5), Duration::from_millis(4), outcome);
        snapshot.endpoints[endpoint.index()] = Some(Box::new(stats));
        snapshot
    }

    #[test]
    fn merging_adds_endpoints_counters_and_gauges() {
        let mut a = with_request(Endpoint::RequestChat, Outcome::Status(200));
        a.active_clients = 3;
        a.counters.chats_started = 1;
        let mut b = with_request(Endpoint::RequestChat, Outcome::Status(503));
        b.active_clients = 4;
        b.counters.chats_started = 2;
        let c = with_request(Endpoint::PollEvents, Outcome::Error(ErrorKind::Timeout));

        a.merge(&b);
        a.merge(&c);
        assert_eq!(a.endpoint(Endpoint::RequestChat).unwrap().count, 2);
        assert_eq!(a.endpoint(Endpoint::PollEvents).unwrap().count, 1);
        assert_eq!((a.requests(), a.errors()), (3, 2));
        assert_eq!(a.errors_of(ErrorKind::Timeout), 1);
        assert_eq!((a.active_clients, a.counters.chats_started), (7, 3));
    }

    #[test]
    fn endpoints_never_called_are_not_listed() {
        let snapshot = with_request(Endpoint::History, Outcome::Status(200));
        let called: Vec<_> = snapshot.called().map(|(e, _)| e).collect();
        assert_eq!(called, vec![Endpoint::History]);
        assert!(snapshot.endpoint(Endpoint::Version).is_none());
    }
}
