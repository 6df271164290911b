//! The recorder a worker thread owns. Recording is plain `&mut` access,
//! a few array indexes and two histogram increments, because it runs once
//! per request on the hot path (decision 4); the harvest happens once per
//! second through [`WorkerMetrics::take`].

use std::time::{Duration, Instant};

use crate::api::Endpoint;

use super::endpoint::EndpointStats;
use super::measure::Measure;
use super::outcome::Outcome;
use super::snapshot::Snapshot;

/// Per-worker histograms, counters and gauges for the current interval.
#[derive(Debug, Default)]
pub struct WorkerMetrics {
    current: Snapshot,
}

impl WorkerMetrics {
    /// An empty recorder; nothing is allocated until something is recorded.
    pub fn new() -> WorkerMetrics {
        WorkerMetrics::default()
    }

    /// Records one request. Response time is `done - intended`, service
    /// time `done - sent`; an `intended` later than `sent` (a request sent
    /// early) counts as no lag rather than a negative one.
    #[inline]
    pub fn record_request(
        &mut self,
        endpoint: Endpoint,
        intended: Instant,
        sent: Instant,
        done: Instant,
        outcome: Outcome,
    ) {
        let response = done.saturating_duration_since(intended);
        let service = done.saturating_duration_since(sent);
        let slot = &mut self.current.endpoints[endpoint.index()];
        slot.get_or_insert_with(Box::default)
            .record(response, service, outcome);
    }

    /// Records one sample of a chat-level measure.
    #[inline]
    pub fn record_measure(&mut self, measure: Measure, value: Duration) {
        self.current.measures[measure.index()].record(value);
    }

    /// Counts a virtual client started.
    pub fn client_started(&mut self) {
        self.current.counters.clients_started += 1;
    }

    /// Counts a chat requested.
    pub fn chat_started(&mut self) {
        self.current.counters.chats_started += 1;
    }

    /// Counts a chat that ended normally.
    pub fn chat_completed(&mut self) {
        self.current.counters.chats_completed += 1;
    }

    /// Counts a chat that ended in an error.
    pub fn chat_failed(&mut self) {
        self.current.counters.chats_failed += 1;
    }

    /// Counts a chat the server ended before the customer was done with it.
    pub fn chat_ended_by_server(&mut self) {
        self.current.counters.chats_ended_by_server += 1;
    }

    /// Counts a chat the run ended itself, at its end or on an interrupt.
    pub fn chat_interrupted(&mut self) {
        self.current.counters.chats_interrupted += 1;
    }

    /// Counts an answer from `endpoint` that arrived but was unusable.
    pub fn protocol_error(&mut self, endpoint: Endpoint) {
        let slot = &mut self.current.endpoints[endpoint.index()];
        slot.get_or_insert_with(Box::default).protocol_error();
    }

    /// Counts a chat the open model could not start (no free client).
    pub fn chat_dropped(&mut self) {
        self.current.counters.chats_dropped += 1;
    }

    /// Counts an arrival whose time had passed when its worker reached it
    /// (a late shard, or a worker that fell behind): dropped, and told
    /// apart from the ones that found no free client.
    pub fn chat_missed(&mut self) {
        self.current.counters.chats_dropped += 1;
        self.current.counters.chats_missed += 1;
    }

    /// Counts a server event the protocol model did not know.
    pub fn unknown_event(&mut self) {
        self.current.counters.unknown_events += 1;
    }

    /// Sets this worker's gauges: clients and chats active right now.
    pub fn set_active(&mut self, clients: u64, chats: u64) {
        self.current.active_clients = clients;
        self.current.active_chats = chats;
    }

    /// Hands over the interval's data and starts the next one empty.
    ///
    /// Gauges carry over, since they describe the present, not the
    /// interval. Endpoints and measures used in this interval get empty
    /// histograms of the same range right away, so the next interval's
    /// requests neither allocate nor grow them.
    pub fn take(&mut self) -> Snapshot {
        let mut taken = Snapshot {
            counters: std::mem::take(&mut self.current.counters),
            active_clients: self.current.active_clients,
            active_chats: self.current.active_chats,
            ..Snapshot::default()
        };

        for (slot, out) in self.current.endpoints.iter_mut().zip(&mut taken.endpoints) {
            *out = take_endpoint(slot);
        }
        for (latency, out) in self.current.measures.iter_mut().zip(&mut taken.measures) {
            *out = latency.take_primed();
        }
        taken
    }
}

fn take_endpoint(slot: &mut Option<Box<EndpointStats>>) -> Option<Box<EndpointStats>> {
    let stats = slot.as_mut().filter(|s| s.count > 0)?;
    let fresh = Box::new(stats.empty_like());
    Some(std::mem::replace(stats, fresh))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::ErrorKind;

    const MS: Duration = Duration::from_millis(1);

    /// Within the histogram's 0.1 % resolution.
    fn near(actual: Option<f64>, expected: f64) -> bool {
        actual.is_some_and(|a| (a - expected).abs() <= expected * 0.001)
    }

    #[test]
    fn response_time_includes_the_wait_before_sending() {
        let intended = Instant::now();
        let sent = intended + MS * 40;
        let done = sent + MS * 10;
        let mut metrics = WorkerMetrics::new();
        metrics.record_request(
            Endpoint::SendEvents,
            intended,
            sent,
            done,
            Outcome::Status(200),
        );

        let snapshot = metrics.take();
        let stats = snapshot.endpoint(Endpoint::SendEvents).unwrap();
        assert!(
            near(stats.response.quantile_ms(1.0), 50.0),
            "{:?}",
            stats.response.stats()
        );
        assert!(
            near(stats.service.quantile_ms(1.0), 10.0),
            "{:?}",
            stats.service.stats()
        );
    }

    #[test]
    fn a_request_sent_before_its_intended_time_shows_no_negative_lag() {
        let sent = Instant::now();
        let mut metrics = WorkerMetrics::new();
        let outcome = Outcome::Error(ErrorKind::Connect);
        metrics.record_request(Endpoint::Version, sent + MS, sent, sent + MS, outcome);
        let snapshot = metrics.take();
        let stats = snapshot.endpoint(Endpoint::Version).unwrap();
        assert_eq!(stats.response.quantile_ms(1.0), Some(0.0));
        assert_eq!(stats.errors_of(ErrorKind::Connect), 1);
    }

    #[test]
    fn take_empties_counts_and_samples_but_keeps_gauges() {
        let now = Instant::now();
        let mut metrics = WorkerMetrics::new();
        metrics.client_started();
        metrics.chat_started();
        metrics.chat_completed();
        metrics.chat_failed();
        metrics.chat_dropped();
        metrics.unknown_event();
        metrics.set_active(5, 2);
        metrics.record_measure(Measure::QueueWait, MS * 300);
        metrics.record_request(
            Endpoint::PollEvents,
            now,
            now,
            now + MS,
            Outcome::Status(200),
        );

        let first = metrics.take();
        assert_eq!(first.counters.unknown_events, 1);
        assert_eq!(first.counters.chats_dropped, 1);
        assert_eq!(first.measure(Measure::QueueWait).len(), 1);
        assert_eq!(first.requests(), 1);

        let second = metrics.take();
        assert_eq!(second.counters, Default::default());
        assert_eq!(second.requests(), 0);
        assert!(second.measure(Measure::QueueWait).is_empty());
        assert_eq!((second.active_clients, second.active_chats), (5, 2));
    }

    #[test]
    fn worker_snapshots_merge_into_one_interval() {
        let now = Instant::now();
        let mut workers = [WorkerMetrics::new(), WorkerMetrics::new()];
        for (n, worker) in workers.iter_mut().enumerate() {
            worker.set_active(10, 4);
            for _ in 0..=n {
                let done = now + MS * 20;
                worker.record_request(Endpoint::RequestChat, now, now, done, Outcome::Status(200));
            }
        }

        let mut merged = Snapshot::default();
        for worker in &mut workers {
            merged.merge(&worker.take());
        }
        assert_eq!(merged.endpoint(Endpoint::RequestChat).unwrap().count, 3);
        assert_eq!((merged.active_clients, merged.active_chats), (20, 8));
    }

    fn assert_send<T: Send>() {}

    #[test]
    fn snapshots_can_cross_threads() {
        assert_send::<Snapshot>();
    }
}
