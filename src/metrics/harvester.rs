//! The harvester: takes the merged snapshot of each one-second interval,
//! adds it to the run's totals, keeps the interval's timeline row and log
//! lines, and answers the progress display.

use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use crate::api::Endpoint;

use super::hlog::{HlogLines, HlogRecorder, service_tag};
use super::measure::Measure;
use super::snapshot::Snapshot;

/// How many endpoints the live view names.
const BUSIEST: usize = 3;

/// One endpoint's figures over one interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EndpointPoint {
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// Requests completed in the interval.
    pub requests: u64,
    /// Response-time median, in milliseconds.
    pub p50_ms: f64,
    /// Response-time 99th percentile, in milliseconds.
    pub p99_ms: f64,
}

/// One interval's row of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalRecord {
    /// Interval number k, covering [k s, k+1 s) after the start.
    pub index: u64,
    /// Its length; the last interval may be shorter than a second.
    pub length: Duration,
    /// Active virtual clients at its end.
    pub active_clients: u64,
    /// Active chats at its end.
    pub active_chats: u64,
    /// Requests completed in it.
    pub requests: u64,
    /// Of which errors.
    pub errors: u64,
    /// Endpoints called in it, in [`Endpoint::ALL`] order.
    pub endpoints: Vec<EndpointPoint>,
}

/// Figures for the progress display.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveStats {
    /// Time since the start, to the end of the last interval.
    pub elapsed: Duration,
    /// Active virtual clients now.
    pub active_clients: u64,
    /// Active chats now.
    pub active_chats: u64,
    /// Requests per second in the last interval.
    pub requests_per_s: f64,
    /// Errors per second in the last interval.
    pub errors_per_s: f64,
    /// Requests since the start.
    pub requests: u64,
    /// Errors since the start.
    pub errors: u64,
    /// Response-time p99 in milliseconds of the endpoints with the most
    /// requests in the last interval, busiest first; long polls left out.
    pub busiest: Vec<(Endpoint, f64)>,
    /// Chats requested since the start.
    pub chats_started: u64,
    /// Chats that ended normally since the start.
    pub chats_completed: u64,
    /// Chats that failed since the start.
    pub chats_failed: u64,
}

/// Everything a finished run measured, for the summary and the files.
#[derive(Debug)]
pub struct RunData {
    /// Wall-clock start; interval k began k seconds after it.
    pub started_at: SystemTime,
    /// The whole run's samples and counters. Its gauges are those of the
    /// last interval.
    pub totals: Snapshot,
    /// Highest active clients summed over workers, over all intervals.
    pub peak_active_clients: u64,
    /// Highest active chats summed over workers, over all intervals.
    pub peak_active_chats: u64,
    /// One row per harvested interval, in order.
    pub intervals: Vec<IntervalRecord>,
    /// The encoded interval histograms of `latency.hlog`.
    pub hlog: HlogLines,
}

impl RunData {
    /// Time covered by the harvested intervals.
    pub fn elapsed(&self) -> Duration {
        self.intervals.last().map_or(Duration::ZERO, interval_end)
    }
}

/// Accumulates intervals into totals, timeline rows and log lines.
pub struct Harvester {
    started_at: SystemTime,
    totals: Snapshot,
    peak_active_clients: u64,
    peak_active_chats: u64,
    intervals: Vec<IntervalRecord>,
    hlog: HlogRecorder,
}

impl Harvester {
    /// A harvester for a run that started at `started_at`.
    pub fn new(started_at: SystemTime) -> Harvester {
        Harvester {
            started_at,
            totals: Snapshot::default(),
            peak_active_clients: 0,
            peak_active_chats: 0,
            intervals: Vec::new(),
            hlog: HlogRecorder::new(),
        }
    }

    /// Takes interval `index`, which covers [index s, index s + `length`)
    /// after the start, merged over every worker.
    pub fn add_interval(&mut self, index: u64, length: Duration, merged: Snapshot) {
        self.log_histograms(index, length, &merged);
        self.intervals.push(interval_record(index, length, &merged));

        self.peak_active_clients = self.peak_active_clients.max(merged.active_clients);
        self.peak_active_chats = self.peak_active_chats.max(merged.active_chats);
        self.totals.merge(&merged);

        // Gauges describe the present, so the totals keep the latest ones
        // rather than a sum over time.
        self.totals.active_clients = merged.active_clients;
        self.totals.active_chats = merged.active_chats;
    }

    /// The figures for the progress display, as of the last interval.
    pub fn live(&self) -> LiveStats {
        let counters = &self.totals.counters;
        let mut live = LiveStats {
            active_clients: self.totals.active_clients,
            active_chats: self.totals.active_chats,
            requests: self.totals.requests(),
            errors: self.totals.errors(),
            chats_started: counters.chats_started,
            chats_completed: counters.chats_completed,
            chats_failed: counters.chats_failed,
            ..LiveStats::default()
        };
        if let Some(last) = self.intervals.last() {
            live.elapsed = interval_end(last);
            live.requests_per_s = per_second(last.requests, last.length);
            live.errors_per_s = per_second(last.errors, last.length);
            live.busiest = busiest(last);
        }
        live
    }

    /// The run's samples and counters so far, for checks made while the
    /// run goes on (thresholds with abort-on-fail).
    pub fn totals(&self) -> &Snapshot {
        &self.totals
    }

    /// Ends the harvest.
    pub fn finish(self) -> RunData {
        RunData {
            started_at: self.started_at,
            totals: self.totals,
            peak_active_clients: self.peak_active_clients,
            peak_active_chats: self.peak_active_chats,
            intervals: self.intervals,
            hlog: self.hlog.finish(),
        }
    }

    fn log_histograms(&mut self, index: u64, length: Duration, merged: &Snapshot) {
        let start = Duration::from_secs(index);
        for (endpoint, stats) in merged.called() {
            self.log_one(endpoint.name(), start, length, stats.response.histogram());
            self.log_one(
                &service_tag(endpoint),
                start,
                length,
                stats.service.histogram(),
            );
        }
        for measure in Measure::ALL {
            self.log_one(
                measure.name(),
                start,
                length,
                merged.measure(measure).histogram(),
            );
        }
    }

    /// Logs a histogram that has samples; intervals without any are left
    /// out of the log for that tag.
    fn log_one(&mut self, tag: &str, start: Duration, len: Duration, h: Option<&Histogram<u64>>) {
        let Some(histogram) = h.filter(|h| !h.is_empty()) else {
            return;
        };
        if let Err(err) = self.hlog.push(tag, start, len, histogram) {
            tracing::warn!(tag, ?start, "interval left out of latency.hlog: {err:#}");
        }
    }
}

fn interval_record(index: u64, length: Duration, merged: &Snapshot) -> IntervalRecord {
    let endpoints = merged
        .called()
        .map(|(endpoint, stats)| EndpointPoint {
            endpoint,
            requests: stats.count,
            p50_ms: stats.response.quantile_ms(0.5).unwrap_or_default(),
            p99_ms: stats.response.quantile_ms(0.99).unwrap_or_default(),
        })
        .collect();

    IntervalRecord {
        index,
        length,
        active_clients: merged.active_clients,
        active_chats: merged.active_chats,
        requests: merged.requests(),
        errors: merged.errors(),
        endpoints,
    }
}

fn interval_end(record: &IntervalRecord) -> Duration {
    Duration::from_secs(record.index) + record.length
}

fn per_second(count: u64, length: Duration) -> f64 {
    if length.is_zero() {
        0.0
    } else {
        count as f64 / length.as_secs_f64()
    }
}

/// The endpoints with the most requests in the interval, long polls left
/// out: their p99 is the server's hold time, not a latency to watch.
fn busiest(record: &IntervalRecord) -> Vec<(Endpoint, f64)> {
    let mut points = record.endpoints.clone();
    points.retain(|p| p.endpoint != Endpoint::PollEvents);
    points.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then(a.endpoint.cmp(&b.endpoint))
    });
    points
        .iter()
        .take(BUSIEST)
        .map(|p| (p.endpoint, p.p99_ms))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::metrics::{ErrorKind, Outcome, WorkerMetrics};

    const SECOND: Duration = Duration::from_secs(1);

    fn interval(requests: &[(Endpoint, u64, Outcome)], clients: u64) -> Snapshot {
        let now = Instant::now();
        let mut worker = WorkerMetrics::new();
        worker.set_active(clients, clients / 2);
        for &(endpoint, ms, outcome) in requests {
            let done = now + Duration::from_millis(ms);
            worker.record_request(endpoint, now, now, done, outcome);
        }
        worker.take()
    }

    #[test]
    fn totals_add_up_and_peaks_take_the_highest_interval() {
        let ok = Outcome::Status(200);
        let mut harvester = Harvester::new(SystemTime::UNIX_EPOCH);
        harvester.add_interval(0, SECOND, interval(&[(Endpoint::RequestChat, 5, ok)], 40));
        harvester.add_interval(1, SECOND, interval(&[(Endpoint::RequestChat, 7, ok)], 90));
        let failed = Outcome::Error(ErrorKind::Timeout);
        let last = SECOND / 2;
        harvester.add_interval(2, last, interval(&[(Endpoint::PollEvents, 9, failed)], 10));

        let live = harvester.live();
        assert_eq!(live.elapsed, Duration::from_millis(2500));
        assert_eq!((live.requests, live.errors), (3, 1));
        assert_eq!(live.errors_per_s, 2.0);
        assert_eq!(live.active_clients, 10);

        let data = harvester.finish();
        assert_eq!(
            data.totals.endpoint(Endpoint::RequestChat).unwrap().count,
            2
        );
        assert_eq!((data.peak_active_clients, data.peak_active_chats), (90, 45));
        assert_eq!(data.intervals.len(), 3);
        assert_eq!(data.elapsed(), Duration::from_millis(2500));
        assert!(!data.hlog.is_empty());
    }

    #[test]
    fn live_names_the_busiest_endpoints_first_without_long_polls() {
        let ok = Outcome::Status(200);
        let mut requests = vec![(Endpoint::Availability, 1, ok)];
        requests.extend([(Endpoint::PollEvents, 3, ok); 3]);
        requests.extend([(Endpoint::SendEvents, 2, ok); 2]);
        requests.push((Endpoint::Version, 1, ok));
        let mut harvester = Harvester::new(SystemTime::UNIX_EPOCH);
        harvester.add_interval(0, SECOND, interval(&requests, 1));

        let live = harvester.live();
        let names: Vec<_> = live.busiest.iter().map(|(e, _)| *e).collect();
        assert_eq!(
            names,
            [
                Endpoint::SendEvents,
                Endpoint::Availability,
                Endpoint::Version
            ]
        );
        assert!((live.busiest[0].1 - 2.0).abs() < 0.01, "{:?}", live.busiest);
        assert_eq!(live.requests_per_s, 7.0);
    }

    #[test]
    fn an_empty_harvest_reports_nothing() {
        let harvester = Harvester::new(SystemTime::UNIX_EPOCH);
        assert_eq!(harvester.live(), LiveStats::default());
        let data = harvester.finish();
        assert!(data.hlog.is_empty());
        assert_eq!(data.elapsed(), Duration::ZERO);
    }
}
