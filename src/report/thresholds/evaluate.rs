//! Thresholds against a run's figures.
//!
//! The rule for figures that do not exist: a latency threshold (p50 to
//! max, mean) on an endpoint never called, or a measure never sampled,
//! fails with no observed value and a note. Whoever sets a threshold on an
//! endpoint expects the run to exercise it, and a silent pass would hide a
//! scenario that never reaches it. Counts, rates and shares of nothing are
//! 0, and are compared as such: `errors.rate < 1%` holds on a run with no
//! request, whose warnings already say so.

use crate::exit::Verdict;
use crate::metrics::LatencyStats;
use crate::report::summary::{Summary, ThresholdResult};

use super::Threshold;
use super::metric::{Metric, Statistic};

/// What a threshold found in the figures.
enum Observed {
    /// A value in the statistic's canonical unit.
    Value(f64),
    /// Nothing to compare, and why.
    Missing(String),
}

/// Evaluates each threshold on `summary`, in order.
pub fn evaluate(thresholds: &[Threshold], summary: &Summary) -> Vec<ThresholdResult> {
    thresholds
        .iter()
        .map(|t| evaluate_one(t, summary))
        .collect()
}

/// [`Verdict::Failed`] if any threshold failed.
pub fn verdict(results: &[ThresholdResult]) -> Verdict {
    if results.iter().all(|r| r.passed) {
        Verdict::Passed
    } else {
        Verdict::Failed
    }
}

fn evaluate_one(threshold: &Threshold, summary: &Summary) -> ThresholdResult {
    match observe(threshold.metric, threshold.statistic, summary) {
        Observed::Value(value) => ThresholdResult {
            name: threshold.name.clone(),
            passed: threshold.op.holds(value, threshold.limit.value),
            observed: Some(round(threshold.limit.unit.from_canonical(value))),
            unit: threshold.limit.unit.name().to_owned(),
            note: None,
        },
        Observed::Missing(note) => ThresholdResult {
            name: threshold.name.clone(),
            passed: false,
            observed: None,
            unit: threshold.limit.unit.name().to_owned(),
            note: Some(note),
        },
    }
}

/// Parsing pairs each metric only with its own statistics (see
/// `metric::statistics`), so each helper's last arm is the one statistic
/// left to it rather than a fallback for nonsense.
fn observe(metric: Metric, statistic: Statistic, summary: &Summary) -> Observed {
    match metric {
        Metric::Endpoint(endpoint) => observe_endpoint(endpoint.name(), statistic, summary),
        Metric::Measure(measure) => observe_measure(measure.name(), statistic, summary),
        Metric::Requests | Metric::Errors => Observed::Value(run_figure(statistic, summary)),
        Metric::Chats => Observed::Value(chat_figure(statistic, summary)),
    }
}

fn observe_endpoint(name: &str, statistic: Statistic, summary: &Summary) -> Observed {
    let called = summary.endpoints.get(name).filter(|e| e.count > 0);
    if let Some(ms) = latency(statistic, called.map(|e| &e.response_time_ms)) {
        return ms.map_or_else(
            || Observed::Missing(format!("{name} was never called, so it has no latency")),
            Observed::Value,
        );
    }

    let (count, errors, rps) = called.map_or((0, 0, 0.0), |e| (e.count, e.errors, e.rps));
    Observed::Value(match statistic {
        Statistic::Rate => rps,
        Statistic::ErrorRate => share(errors, count),
        Statistic::Errors => errors as f64,
        _ => count as f64,
    })
}

fn observe_measure(name: &str, statistic: Statistic, summary: &Summary) -> Observed {
    let sampled = summary.measures.get(name).filter(|m| m.count > 0);
    if let Some(ms) = latency(statistic, sampled.map(|m| &m.time_ms)) {
        return ms.map_or_else(
            || Observed::Missing(format!("{name} has no samples in this run")),
            Observed::Value,
        );
    }

    let (count, rate) = sampled.map_or((0, 0.0), |m| (m.count, m.rate));
    Observed::Value(match statistic {
        Statistic::Rate => rate,
        _ => count as f64,
    })
}

/// `Some` for a latency statistic: the value in milliseconds, or `None`
/// without samples. `None` for any other statistic.
fn latency(statistic: Statistic, stats: Option<&LatencyStats>) -> Option<Option<f64>> {
    let pick: fn(&LatencyStats) -> f64 = match statistic {
        Statistic::P50 => |s| s.p50,
        Statistic::P90 => |s| s.p90,
        Statistic::P95 => |s| s.p95,
        Statistic::P99 => |s| s.p99,
        Statistic::P999 => |s| s.p999,
        Statistic::Min => |s| s.min,
        Statistic::Max => |s| s.max,
        Statistic::Mean => |s| s.mean,
        _ => return None,
    };
    Some(stats.map(pick))
}

fn run_figure(statistic: Statistic, summary: &Summary) -> f64 {
    let requests = &summary.requests;
    match statistic {
        Statistic::Rate => requests.rps,
        Statistic::ErrorRate => requests.error_rate,
        Statistic::Errors => requests.errors as f64,
        Statistic::ErrorsOf(kind) => summary.errors.get(kind.name()).copied().unwrap_or(0) as f64,
        _ => requests.count as f64,
    }
}

fn chat_figure(statistic: Statistic, summary: &Summary) -> f64 {
    let chats = &summary.chats;
    match statistic {
        Statistic::Started => chats.started as f64,
        Statistic::Completed => chats.completed as f64,
        Statistic::Failed => chats.failed as f64,
        Statistic::EndedByServer => chats.ended_by_server as f64,
        Statistic::FailedRate => share(chats.failed, chats.started),
        Statistic::DroppedRate => share(chats.dropped, chats.started + chats.dropped),
        Statistic::Missed => chats.missed as f64,
        _ => chats.dropped as f64,
    }
}

/// `part / whole`, or 0 when there is no whole.
fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Six decimals: past the precision of any figure in the summary.
fn round(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::thresholds::{parse_all, parse_cli};
    use crate::report::{summarize, test_data};

    fn summary() -> Summary {
        let (info, data) = test_data::run();
        summarize(&info, &data)
    }

    fn result(text: &str, summary: &Summary) -> ThresholdResult {
        let threshold = parse_cli(text).unwrap();
        evaluate(&[threshold], summary).remove(0)
    }

    #[test]
    fn latency_thresholds_compare_in_the_written_unit() {
        let s = summary();
        let held = result("request_chat.max < 8ms", &s);
        assert!(held.passed, "{held:?}");
        assert!((held.observed.unwrap() - 7.0).abs() < 0.01, "{held:?}");

        let failed = result("request_chat.max < 0.005s", &s);
        assert!(!failed.passed);
        assert!(
            (failed.observed.unwrap() - 0.007).abs() < 0.0001,
            "{failed:?}"
        );
        assert!(result("queue_wait.p50 >= 299ms", &s).passed);
    }

    #[test]
    fn each_result_names_the_unit_of_its_observed_value() {
        let s = summary();
        let units: Vec<String> = [
            "request_chat.max < 8ms",
            "request_chat.max < 0.005s",
            "errors.rate < 1%",
            "chats.failed_rate < 0.02",
            "requests.rate > 1/s",
            "dropped < 1",
            "history.p99 < 1s",
        ]
        .iter()
        .map(|text| result(text, &s).unit)
        .collect();
        assert_eq!(units, ["ms", "s", "%", "fraction", "/s", "count", "s"]);
    }

    #[test]
    fn an_endpoint_never_called_fails_a_latency_threshold_with_a_note() {
        let r = result("history.p99 < 1s", &summary());
        assert!(!r.passed);
        assert_eq!(r.observed, None);
        assert!(r.note.unwrap().contains("history was never called"));

        let r = result("pool_wait.p99 < 1s", &summary());
        assert!(!r.passed && r.observed.is_none());
        assert!(r.note.unwrap().contains("no samples"));
    }

    #[test]
    fn counts_and_shares_of_an_endpoint_never_called_are_zero() {
        let s = summary();
        for text in [
            "history.count < 1",
            "history.error_rate < 1%",
            "history.rate <= 0",
        ] {
            let r = result(text, &s);
            assert!(r.passed, "{text}: {r:?}");
            assert_eq!(r.observed, Some(0.0), "{text}");
        }
        assert!(!result("history.count > 0", &s).passed);
        assert_eq!(result("pool_wait.count < 1", &s).observed, Some(0.0));
    }

    #[test]
    fn run_level_figures_are_observed() {
        let s = summary();
        let errors = result("errors.rate < 20%", &s);
        assert_eq!((errors.passed, errors.observed), (false, Some(25.0)));
        assert_eq!(result("errors.rate < 0.3", &s).observed, Some(0.25));
        assert_eq!(result("errors.timeout <= 1", &s).observed, Some(1.0));
        assert_eq!(result("requests.count >= 8", &s).observed, Some(8.0));
        assert_eq!(result("chats.failed_rate < 60%", &s).observed, Some(50.0));
        assert_eq!(result("dropped < 1", &s).observed, Some(1.0));
        let mut ended = s.clone();
        ended.chats.ended_by_server = 3;
        let r = result("chats.ended_by_server < 1", &ended);
        assert_eq!((r.passed, r.observed), (false, Some(3.0)));
        let dropped = result("chats.dropped_rate < 50%", &s);
        assert!((dropped.observed.unwrap() - 100.0 / 3.0).abs() < 1e-3);
        assert_eq!(
            result("poll_events.error_rate > 0.5", &s).observed,
            Some(1.0)
        );
    }

    #[test]
    fn a_run_with_no_requests_has_zero_rates_and_failing_latencies() {
        let mut s = summary();
        s.endpoints.clear();
        s.measures.clear();
        s.requests.count = 0;
        s.requests.errors = 0;
        s.requests.error_rate = 0.0;
        s.chats.started = 0;

        assert!(result("errors.rate < 1%", &s).passed);
        assert!(result("chats.failed_rate < 1%", &s).passed);
        assert!(!result("request_chat.p50 < 1s", &s).passed);
    }

    #[test]
    fn the_verdict_fails_when_any_threshold_fails() {
        let s = summary();
        let all = parse_all(&[], &["request_chat.max < 8ms".into()]).unwrap();
        assert_eq!(verdict(&evaluate(&all, &s)), Verdict::Passed);
        let all = parse_all(
            &[],
            &["request_chat.max < 8ms".into(), "dropped < 1".into()],
        );
        assert_eq!(verdict(&evaluate(&all.unwrap(), &s)), Verdict::Failed);
        assert_eq!(verdict(&[]), Verdict::Passed);
    }
}
