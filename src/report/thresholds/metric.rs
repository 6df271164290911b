//! What a threshold can name: an endpoint, a chat measure or a run-level
//! group, and the statistics each of them offers. The tables here are the
//! single list that parsing, suggestions and evaluation all read.

use crate::api::Endpoint;
use crate::metrics::{ErrorKind, Measure};

/// The thing a threshold watches, the part of its name before the dot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// One API endpoint, by its result name.
    Endpoint(Endpoint),
    /// One chat-level measure, by its result name.
    Measure(Measure),
    /// Every request together (`requests`).
    Requests,
    /// Request errors over the run (`errors`).
    Errors,
    /// Chats over the run (`chats`).
    Chats,
}

/// What a statistic is measured in, which decides the units its limit may
/// be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// A duration, kept in milliseconds.
    Time,
    /// A share from 0 to 1, written as a percentage or a fraction.
    Fraction,
    /// Events per second.
    PerSecond,
    /// A plain number of events.
    Count,
}

/// The part of a threshold's name after the dot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
    /// 99.9th percentile.
    P999,
    /// Smallest sample.
    Min,
    /// Largest sample.
    Max,
    /// Arithmetic mean.
    Mean,
    /// Events per second over the run.
    Rate,
    /// Errored requests as a share of requests.
    ErrorRate,
    /// Requests or samples.
    Count,
    /// Errored requests.
    Errors,
    /// Errored requests of one kind.
    ErrorsOf(ErrorKind),
    /// Chats requested.
    Started,
    /// Chats that ended normally.
    Completed,
    /// Chats that ended in an error.
    Failed,
    /// Chats the server ended before the customer was done.
    EndedByServer,
    /// Open-model arrivals that never started: no free client, or a late
    /// shard's start.
    Dropped,
    /// Of the dropped, the arrivals reached after their time had passed.
    Missed,
    /// Failed chats as a share of chats started.
    FailedRate,
    /// Dropped arrivals as a share of all arrivals, started or dropped.
    DroppedRate,
}

impl Statistic {
    /// The unit family of this statistic.
    pub fn quantity(self) -> Quantity {
        use Statistic::*;
        match self {
            P50 | P90 | P95 | P99 | P999 | Min | Max | Mean => Quantity::Time,
            Rate => Quantity::PerSecond,
            ErrorRate | FailedRate | DroppedRate => Quantity::Fraction,
            Count | Errors | ErrorsOf(_) | Started | Completed | Failed | EndedByServer
            | Dropped | Missed => Quantity::Count,
        }
    }
}

/// Statistics of a latency distribution, as thresholds spell them.
const LATENCY: [(&str, Statistic); 8] = [
    ("p50", Statistic::P50),
    ("p90", Statistic::P90),
    ("p95", Statistic::P95),
    ("p99", Statistic::P99),
    ("p999", Statistic::P999),
    ("min", Statistic::Min),
    ("max", Statistic::Max),
    ("mean", Statistic::Mean),
];

const ENDPOINT_EXTRA: [(&str, Statistic); 4] = [
    ("rate", Statistic::Rate),
    ("error_rate", Statistic::ErrorRate),
    ("count", Statistic::Count),
    ("errors", Statistic::Errors),
];

const MEASURE_EXTRA: [(&str, Statistic); 2] =
    [("rate", Statistic::Rate), ("count", Statistic::Count)];

const REQUESTS: [(&str, Statistic); 4] = [
    ("rate", Statistic::Rate),
    ("count", Statistic::Count),
    ("errors", Statistic::Errors),
    ("error_rate", Statistic::ErrorRate),
];

/// `errors.rate` is the share of requests that failed, as the issue and
/// the scenario examples write it, not errors per second.
const ERRORS: [(&str, Statistic); 8] = [
    ("rate", Statistic::ErrorRate),
    ("count", Statistic::Errors),
    ("connect", Statistic::ErrorsOf(ErrorKind::Connect)),
    ("tls", Statistic::ErrorsOf(ErrorKind::Tls)),
    ("timeout", Statistic::ErrorsOf(ErrorKind::Timeout)),
    ("http_4xx", Statistic::ErrorsOf(ErrorKind::Http4xx)),
    ("http_5xx", Statistic::ErrorsOf(ErrorKind::Http5xx)),
    ("protocol", Statistic::ErrorsOf(ErrorKind::Protocol)),
];

const CHATS: [(&str, Statistic); 8] = [
    ("started", Statistic::Started),
    ("completed", Statistic::Completed),
    ("failed", Statistic::Failed),
    ("ended_by_server", Statistic::EndedByServer),
    ("dropped", Statistic::Dropped),
    ("missed", Statistic::Missed),
    ("failed_rate", Statistic::FailedRate),
    ("dropped_rate", Statistic::DroppedRate),
];

/// Names that stand alone, without a statistic.
const BARE: [(&str, Metric, Statistic); 1] = [("dropped", Metric::Chats, Statistic::Dropped)];

/// The run-level group names.
const GROUPS: [(&str, Metric); 3] = [
    ("requests", Metric::Requests),
    ("errors", Metric::Errors),
    ("chats", Metric::Chats),
];

/// The metric with this name, if there is one.
pub fn metric_named(name: &str) -> Option<Metric> {
    if let Some(endpoint) = Endpoint::from_name(name) {
        return Some(Metric::Endpoint(endpoint));
    }
    if let Some(measure) = Measure::from_name(name) {
        return Some(Metric::Measure(measure));
    }
    GROUPS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
}

/// Every name that may stand before the dot, and the bare names.
pub fn metric_names() -> Vec<&'static str> {
    let endpoints = Endpoint::ALL.iter().map(|e| e.name());
    let measures = Measure::ALL.iter().map(|m| m.name());
    let groups = GROUPS.iter().map(|(n, _)| *n);
    let bare = BARE.iter().map(|(n, _, _)| *n);
    endpoints
        .chain(measures)
        .chain(groups)
        .chain(bare)
        .collect()
}

/// A name written without a dot, such as `dropped`.
pub fn bare_named(name: &str) -> Option<(Metric, Statistic)> {
    BARE.iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, metric, statistic)| (*metric, *statistic))
}

/// The statistics `metric` offers, with their spelling.
pub fn statistics(metric: Metric) -> Vec<(&'static str, Statistic)> {
    match metric {
        Metric::Endpoint(_) => LATENCY.iter().chain(&ENDPOINT_EXTRA).copied().collect(),
        Metric::Measure(_) => LATENCY.iter().chain(&MEASURE_EXTRA).copied().collect(),
        Metric::Requests => REQUESTS.to_vec(),
        Metric::Errors => ERRORS.to_vec(),
        Metric::Chats => CHATS.to_vec(),
    }
}

/// The statistic of `metric` spelt `name`. `p99.9` is accepted for
/// `p999`, since that is how the table heads it.
pub fn statistic_named(metric: Metric, name: &str) -> Option<Statistic> {
    let name = if name == "p99.9" { "p999" } else { name };
    statistics(metric)
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_and_measure_is_a_metric() {
        for endpoint in Endpoint::ALL {
            assert_eq!(
                metric_named(endpoint.name()),
                Some(Metric::Endpoint(endpoint))
            );
        }
        for measure in Measure::ALL {
            assert_eq!(metric_named(measure.name()), Some(Metric::Measure(measure)));
        }
        assert_eq!(metric_named("errors"), Some(Metric::Errors));
        assert_eq!(metric_named("request_chats"), None);
    }

    #[test]
    fn errors_rate_is_a_share_and_requests_rate_is_per_second() {
        let errors = statistic_named(Metric::Errors, "rate").unwrap();
        let requests = statistic_named(Metric::Requests, "rate").unwrap();
        assert_eq!(errors.quantity(), Quantity::Fraction);
        assert_eq!(requests.quantity(), Quantity::PerSecond);
    }

    #[test]
    fn measures_have_no_error_rate_and_endpoints_spell_p999_both_ways() {
        let measure = Metric::Measure(Measure::QueueWait);
        assert_eq!(statistic_named(measure, "error_rate"), None);
        let endpoint = Metric::Endpoint(Endpoint::SendEvents);
        assert_eq!(statistic_named(endpoint, "p99.9"), Some(Statistic::P999));
        assert_eq!(statistic_named(endpoint, "p999"), Some(Statistic::P999));
    }

    #[test]
    fn dropped_stands_alone() {
        assert_eq!(
            bare_named("dropped"),
            Some((Metric::Chats, Statistic::Dropped))
        );
        assert!(metric_names().contains(&"dropped"));
    }
}
