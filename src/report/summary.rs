//! `summary.json`: the run's figures in one versioned document, built
//! from the harvested data. The terminal table, thresholds and comparisons
//! all read this type, so a re-read file reports exactly like a live run.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::metrics::{EndpointStats, ErrorKind, Latency, LatencyStats, Measure, RunData};

use super::run_info::RunInfo;
use super::warnings::warnings;

/// Version of the `summary.json` layout; bumped on any breaking change.
pub const SCHEMA: u32 = 1;

/// The figures of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Layout version, [`SCHEMA`].
    pub schema: u32,
    /// Scenario name.
    pub scenario: String,
    /// Base URL of the target.
    pub target: String,
    /// Wall-clock start, RFC 3339 in UTC to the second.
    pub started_at: String,
    /// Run length in seconds.
    pub duration_s: f64,
    /// `K/N` shard of the run.
    pub segment: String,
    /// True if and only if certificates were not verified.
    pub insecure: bool,
    /// HTTP version policy.
    pub http: String,
    /// Connection policy.
    pub connections: String,
    /// Virtual clients.
    pub clients: ClientFigures,
    /// Chats.
    pub chats: ChatFigures,
    /// All requests together.
    pub requests: RequestFigures,
    /// Per endpoint name, endpoints called at least once.
    pub endpoints: BTreeMap<String, EndpointSummary>,
    /// Per chat-level measure name, measures with at least one sample.
    pub measures: BTreeMap<String, MeasureSummary>,
    /// Errors per kind name; every kind is present.
    pub errors: BTreeMap<String, u64>,
    /// Server events of types the protocol model did not know.
    pub unknown_events: u64,
    /// Things the reader should know before trusting the figures.
    pub warnings: Vec<String>,
    /// Threshold verdicts, in scenario order.
    pub thresholds: Vec<ThresholdResult>,
    /// Seed of the run's random schedule; shards of one run share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// When a shard started later than the shared `started_at`: the moment
    /// it really started, RFC 3339 in UTC to the millisecond.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_start: Option<String>,
    /// When `--abort-on-fail` stopped the run before its plan ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted: Option<Aborted>,
}

/// An early end by `--abort-on-fail`: when, and which thresholds had failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aborted {
    /// Seconds after the start at which the run was told to end.
    pub after_s: f64,
    /// The thresholds that had failed on the figures of that moment.
    pub thresholds: Vec<String>,
}

impl Aborted {
    /// The line for the summary's warnings, the table and the report.
    pub fn describe(&self) -> String {
        format!(
            "aborted by --abort-on-fail {:.1} s after the start, the plan unfinished: \
             thresholds failed: {}",
            self.after_s,
            self.thresholds.join(", ")
        )
    }
}

/// Virtual-client figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClientFigures {
    /// Clients started over the run.
    pub started: u64,
    /// Most clients active at once, sampled each second.
    pub peak_active: u64,
}

/// Chat figures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChatFigures {
    /// Chats requested.
    pub started: u64,
    /// Chats that ended normally.
    pub completed: u64,
    /// Chats that ended in an error.
    pub failed: u64,
    /// Chats the server ended before the customer was done with them: an
    /// agent's end, an inactivity timeout, a failed state or a chat gone
    /// (404). Under `end = "agent"` the final end is a completion instead.
    #[serde(default)]
    pub ended_by_server: u64,
    /// Chats the run ended itself at its end or on an interrupt.
    #[serde(default)]
    pub interrupted: u64,
    /// Open model: arrivals that found no free client and never started.
    pub dropped: u64,
    /// Of the dropped, the arrivals whose time had passed by more than a
    /// second when their worker reached them (a late shard, or a generator
    /// that fell behind).
    #[serde(default)]
    pub missed: u64,
    /// Most chats active at once, sampled each second.
    pub peak_active: u64,
}

/// Figures over every request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RequestFigures {
    /// Requests made.
    pub count: u64,
    /// Of which errors.
    pub errors: u64,
    /// Requests per second over the run.
    pub rps: f64,
    /// Errors as a fraction of requests, 0 to 1.
    pub error_rate: f64,
}

/// One endpoint's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointSummary {
    /// Requests made.
    pub count: u64,
    /// Of which errors.
    pub errors: u64,
    /// Requests per second over the run.
    pub rps: f64,
    /// Responses per HTTP status code.
    pub status: BTreeMap<String, u64>,
    /// Errors per kind name, kinds seen only.
    pub error_kinds: BTreeMap<String, u64>,
    /// From the intended start to the end of the response.
    pub response_time_ms: LatencyStats,
    /// From the moment the request was sent to the end of the response.
    pub service_time_ms: LatencyStats,
}

/// One chat-level measure's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureSummary {
    /// Samples.
    pub count: u64,
    /// Samples per second over the run.
    pub rate: f64,
    /// The distribution.
    pub time_ms: LatencyStats,
}

/// One threshold's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    /// The threshold as written, such as `request_chat.p99 < 500ms`.
    pub name: String,
    /// True if and only if it held.
    pub passed: bool,
    /// The observed value, in the threshold's unit; `None` when there was
    /// nothing to observe (a latency of an endpoint never called).
    pub observed: Option<f64>,
    /// The unit of `observed`, the one the limit was written in: `ms`,
    /// `s`, `us`, `min`, `%`, `fraction`, `/s` or `count`. Empty in files
    /// written before it was recorded.
    #[serde(default)]
    pub unit: String,
    /// Why the verdict is not plain, such as no samples; left out of the
    /// JSON when there is nothing to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Builds the summary of a run. Thresholds are left empty for their
/// evaluator to fill.
pub fn summarize(info: &RunInfo, data: &RunData) -> Summary {
    let seconds = info.duration.as_secs_f64();
    let totals = &data.totals;
    let counters = &totals.counters;

    Summary {
        schema: SCHEMA,
        scenario: info.scenario.clone(),
        target: info.target.clone(),
        started_at: utc_seconds(info.started_at),
        duration_s: round3(seconds),
        segment: info.segment.clone(),
        insecure: info.insecure,
        http: info.http.clone(),
        connections: info.connections.clone(),
        clients: ClientFigures {
            started: counters.clients_started,
            peak_active: data.peak_active_clients,
        },
        chats: ChatFigures {
            started: counters.chats_started,
            completed: counters.chats_completed,
            failed: counters.chats_failed,
            ended_by_server: counters.chats_ended_by_server,
            interrupted: counters.chats_interrupted,
            dropped: counters.chats_dropped,
            missed: counters.chats_missed,
            peak_active: data.peak_active_chats,
        },
        requests: request_figures(totals.requests(), totals.errors(), seconds),
        endpoints: totals
            .called()
            .map(|(endpoint, stats)| (endpoint.name().to_owned(), endpoint_summary(stats, seconds)))
            .collect(),
        measures: measure_summaries(data, seconds),
        errors: ErrorKind::ALL
            .iter()
            .map(|k| (k.name().to_owned(), totals.errors_of(*k)))
            .collect(),
        unknown_events: counters.unknown_events,
        warnings: warnings(info, data),
        thresholds: Vec::new(),
        seed: None,
        actual_start: None,
        aborted: None,
    }
}

fn request_figures(count: u64, errors: u64, seconds: f64) -> RequestFigures {
    let error_rate = if count == 0 {
        0.0
    } else {
        errors as f64 / count as f64
    };
    RequestFigures {
        count,
        errors,
        rps: rate(count, seconds),
        error_rate: round6(error_rate),
    }
}

fn endpoint_summary(stats: &EndpointStats, seconds: f64) -> EndpointSummary {
    let error_kinds = ErrorKind::ALL
        .iter()
        .map(|k| (k.name().to_owned(), stats.errors_of(*k)))
        .filter(|(_, n)| *n > 0)
        .collect();

    EndpointSummary {
        count: stats.count,
        errors: stats.errors,
        rps: rate(stats.count, seconds),
        status: stats
            .statuses()
            .map(|(code, n)| (code.to_string(), n))
            .collect(),
        error_kinds,
        response_time_ms: figures(&stats.response),
        service_time_ms: figures(&stats.service),
    }
}

fn measure_summaries(data: &RunData, seconds: f64) -> BTreeMap<String, MeasureSummary> {
    let mut measures = BTreeMap::new();
    for measure in Measure::ALL {
        let latency = data.totals.measure(measure);
        if latency.is_empty() {
            continue;
        }
        let count = latency.len();
        let summary = MeasureSummary {
            count,
            rate: rate(count, seconds),
            time_ms: figures(latency),
        };
        measures.insert(measure.name().to_owned(), summary);
    }
    measures
}

/// The figures of a latency, rounded to the microsecond; all zero when it
/// has no samples, which only an endpoint that was never timed can have.
fn figures(latency: &Latency) -> LatencyStats {
    let s = latency.stats().unwrap_or_default();
    LatencyStats {
        min: round3(s.min),
        mean: round3(s.mean),
        p50: round3(s.p50),
        p90: round3(s.p90),
        p95: round3(s.p95),
        p99: round3(s.p99),
        p999: round3(s.p999),
        max: round3(s.max),
    }
}

fn rate(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        round3(count as f64 / seconds)
    } else {
        0.0
    }
}

fn round3(value: f64) -> f64 {
    (value * 1e3).round() / 1e3
}

fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// `2026-12-03T18:00:00Z`.
pub fn utc_seconds(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// `2026-12-03T18:00:00.250Z`.
pub fn utc_millis(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::report::test_data;

    #[test]
    fn summary_json_holds_the_documented_keys() {
        let (info, data) = test_data::run();
        let json = serde_json::to_value(summarize(&info, &data)).unwrap();

        for key in [
            "schema",
            "scenario",
            "target",
            "started_at",
            "duration_s",
            "segment",
            "clients",
            "chats",
            "endpoints",
            "errors",
            "thresholds",
            "insecure",
            "measures",
            "unknown_events",
            "warnings",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        let request_chat = &json["endpoints"]["request_chat"];
        for key in [
            "count",
            "errors",
            "rps",
            "status",
            "response_time_ms",
            "service_time_ms",
        ] {
            assert!(
                request_chat.get(key).is_some(),
                "missing endpoints.request_chat.{key}"
            );
        }
        for key in ["min", "mean", "p50", "p90", "p99", "p999", "max"] {
            assert!(
                request_chat["response_time_ms"][key].is_f64(),
                "missing {key}"
            );
        }
        assert_eq!(json["thresholds"], Value::Array(vec![]));
    }

    #[test]
    fn summary_values_follow_the_recorded_run() {
        let (info, data) = test_data::run();
        let summary = summarize(&info, &data);

        assert_eq!(summary.schema, 1);
        assert_eq!(summary.started_at, "2026-12-03T18:00:00Z");
        assert_eq!(summary.duration_s, 2.5);
        assert_eq!(
            (summary.clients.started, summary.clients.peak_active),
            (2, 2)
        );
        let chats = summary.chats;
        assert_eq!(
            (chats.started, chats.completed, chats.failed, chats.dropped),
            (2, 1, 1, 1)
        );
        assert_eq!(chats.peak_active, 2);
        assert_eq!((summary.requests.count, summary.requests.errors), (8, 2));
        assert_eq!(summary.requests.error_rate, 0.25);
        assert_eq!(summary.unknown_events, 1);
    }

    #[test]
    fn endpoint_figures_split_statuses_kinds_and_views() {
        let (info, data) = test_data::run();
        let summary = summarize(&info, &data);

        let request_chat = &summary.endpoints["request_chat"];
        assert_eq!((request_chat.count, request_chat.errors), (2, 0));
        assert_eq!(request_chat.rps, 0.8);
        assert_eq!(request_chat.status["200"], 2);
        assert!((request_chat.response_time_ms.max - 7.0).abs() < 0.01);

        let poll = &summary.endpoints["poll_events"];
        assert_eq!(poll.status.len(), 1);
        assert_eq!(poll.status["503"], 1);
        assert_eq!(poll.error_kinds["http_5xx"], 1);
        assert_eq!(poll.error_kinds["timeout"], 1);
        assert!(poll.response_time_ms.min > poll.service_time_ms.min);
        assert!(!summary.endpoints.contains_key("version"));

        assert_eq!(summary.errors.len(), ErrorKind::ALL.len());
        assert_eq!(
            (summary.errors["timeout"], summary.errors["connect"]),
            (1, 0)
        );
        let queue_wait = &summary.measures["queue_wait"];
        assert_eq!(queue_wait.count, 1);
        assert!((queue_wait.time_ms.p50 - 300.0).abs() < 0.5);
    }

    #[test]
    fn warnings_name_dropped_chats_and_unknown_events() {
        let (mut info, data) = test_data::run();
        info.insecure = true;
        let warnings = summarize(&info, &data).warnings;

        assert!(
            warnings.iter().any(|w| w.contains("not verified")),
            "{warnings:?}"
        );
        assert!(
            warnings.iter().any(|w| w.starts_with("1 chats could not")),
            "{warnings:?}"
        );
        assert!(
            warnings.iter().any(|w| w.contains("unknown types")),
            "{warnings:?}"
        );
        assert!(
            warnings.iter().any(|w| w.starts_with("poll_events:")),
            "{warnings:?}"
        );
    }

    #[test]
    fn summary_round_trips_through_json() {
        let (info, data) = test_data::run();
        let summary = summarize(&info, &data);
        let text = serde_json::to_string(&summary).unwrap();
        assert_eq!(serde_json::from_str::<Summary>(&text).unwrap(), summary);
    }
}
