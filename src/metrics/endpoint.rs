//! What one endpoint did over an interval or a run: the two latency views
//! of decision 3, and counts by status and by error kind.

use std::time::Duration;

use super::latency::Latency;
use super::outcome::{ErrorKind, Outcome};

/// Status codes 100 to 999 each get a slot, so counting one is an index.
/// Anything outside that range (never valid HTTP) is counted as 999.
const FIRST_STATUS: u16 = 100;
const LAST_STATUS: u16 = 999;
const STATUS_SLOTS: usize = (LAST_STATUS - FIRST_STATUS + 1) as usize;

/// Samples and counters of one endpoint.
#[derive(Debug, Clone)]
pub struct EndpointStats {
    /// From the intended start to the end of the response.
    pub response: Latency,
    /// From the moment the request was sent to the end of the response.
    pub service: Latency,
    /// Requests, failed ones included.
    pub count: u64,
    /// Requests that count as errors of any kind.
    pub errors: u64,
    by_kind: [u64; ErrorKind::ALL.len()],
    by_status: [u64; STATUS_SLOTS],
}

impl Default for EndpointStats {
    fn default() -> Self {
        EndpointStats {
            response: Latency::default(),
            service: Latency::default(),
            count: 0,
            errors: 0,
            by_kind: [0; ErrorKind::ALL.len()],
            by_status: [0; STATUS_SLOTS],
        }
    }
}

impl EndpointStats {
    /// Records one request. Failed requests are timed too: a timeout is a
    /// wait the customer had, and leaving it out would flatter the figures.
    #[inline]
    pub fn record(&mut self, response: Duration, service: Duration, outcome: Outcome) {
        self.count += 1;
        self.response.record(response);
        self.service.record(service);

        if let Outcome::Status(status) | Outcome::AfterEnd(status) = outcome {
            self.by_status[status_slot(status)] += 1;
        }
        if let Some(kind) = outcome.error_kind() {
            self.errors += 1;
            self.by_kind[kind.index()] += 1;
        }
    }

    /// Counts a response that arrived with a good status but could not be
    /// used (a body that does not parse). The request itself was already
    /// recorded; this adds the error without a second latency sample.
    pub fn protocol_error(&mut self) {
        self.errors += 1;
        self.by_kind[ErrorKind::Protocol.index()] += 1;
    }

    /// Adds `n` responses with status `code`, as read back from a summary.
    pub fn add_status(&mut self, code: u16, n: u64) {
        self.by_status[status_slot(code)] += n;
    }

    /// Adds `n` errors of `kind`, as read back from a summary.
    pub fn add_errors(&mut self, kind: ErrorKind, n: u64) {
        self.errors += n;
        self.by_kind[kind.index()] += n;
    }

    /// Adds the samples and counts of `other`.
    pub fn merge(&mut self, other: &EndpointStats) {
        self.response.merge(&other.response);
        self.service.merge(&other.service);
        self.count += other.count;
        self.errors += other.errors;
        add_counts(&mut self.by_kind, &other.by_kind);
        add_counts(&mut self.by_status, &other.by_status);
    }

    /// Errors of one kind.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.by_kind[kind.index()]
    }

    /// Responses per status code, smallest code first, codes never seen
    /// left out.
    pub fn statuses(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        (FIRST_STATUS..=LAST_STATUS)
            .zip(self.by_status.iter().copied())
            .filter(|&(_, count)| count > 0)
    }

    /// Empty stats whose histograms already span the ranges of these, for
    /// the next interval.
    pub fn empty_like(&self) -> EndpointStats {
        EndpointStats {
            response: self.response.empty_like(),
            service: self.service.empty_like(),
            ..EndpointStats::default()
        }
    }
}

fn status_slot(status: u16) -> usize {
    usize::from(status.clamp(FIRST_STATUS, LAST_STATUS) - FIRST_STATUS)
}

fn add_counts(target: &mut [u64], source: &[u64]) {
    for (t, s) in target.iter_mut().zip(source) {
        *t += s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn statuses_and_error_kinds_are_counted_apart() {
        let mut stats = EndpointStats::default();
        stats.record(MS, MS, Outcome::Status(200));
        stats.record(MS, MS, Outcome::Status(200));
        stats.record(MS, MS, Outcome::Status(503));
        stats.record(MS * 30, MS, Outcome::Error(ErrorKind::Timeout));

        assert_eq!((stats.count, stats.errors), (4, 2));
        assert_eq!(
            stats.statuses().collect::<Vec<_>>(),
            vec![(200, 2), (503, 1)]
        );
        assert_eq!(stats.errors_of(ErrorKind::Http5xx), 1);
        assert_eq!(stats.errors_of(ErrorKind::Timeout), 1);
        assert_eq!(stats.response.len(), 4);
    }

    #[test]
    fn impossible_statuses_land_in_the_last_slot() {
        let mut stats = EndpointStats::default();
        stats.record(MS, MS, Outcome::Status(0));
        stats.record(MS, MS, Outcome::Status(1200));
        assert_eq!(
            stats.statuses().collect::<Vec<_>>(),
            vec![(100, 1), (999, 1)]
        );
    }

    #[test]
    fn merging_adds_counts_and_samples() {
        let mut a = EndpointStats::default();
        let mut b = EndpointStats::default();
        a.record(MS, MS, Outcome::Status(200));
        b.record(MS, MS, Outcome::Status(404));

        a.merge(&b);
        assert_eq!((a.count, a.errors), (2, 1));
        assert_eq!(a.errors_of(ErrorKind::Http4xx), 1);
        assert_eq!(a.service.len(), 2);
        assert_eq!(a.statuses().count(), 2);
    }
}
