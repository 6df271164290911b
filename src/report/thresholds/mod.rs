//! Thresholds: pass/fail conditions on a run's final figures, written in
//! the scenario's `[thresholds]` table (`"request_chat.p99" = "< 800ms"`)
//! or with `--threshold 'request_chat.p99 < 800ms'`.
//!
//! A name is `<metric>.<statistic>`: an endpoint or chat measure with p50,
//! p90, p95, p99, p999, min, max, mean, rate, count (and error_rate and
//! errors for endpoints), or a run-level group (`requests`, `errors`,
//! `chats`), or the bare `dropped`. Every threshold is parsed before the
//! run starts, so a misspelt name is a usage error (exit 2) naming the
//! nearest valid one. They are evaluated on the [`Summary`] at the end (on
//! the merged figures for a merged run), reported beside the table and in
//! summary.json, and any failure makes the exit code 1.
//!
//! [`Summary`]: crate::report::Summary

mod abort;
mod evaluate;
mod limit;
mod metric;
mod print;

pub use abort::{AbortOnFail, parse_delay};
pub use evaluate::{evaluate, verdict};
pub use limit::{Limit, Op, Unit};
pub use metric::{Metric, Quantity, Statistic};
pub use print::{observed_unit, print_thresholds};

use crate::exit::usage;
use crate::scenario::suggest;

use metric::{bare_named, metric_named, metric_names, statistic_named, statistics};

/// One parsed threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// What it watches.
    pub metric: Metric,
    /// Which figure of it.
    pub statistic: Statistic,
    /// How the figure must compare to the limit.
    pub op: Op,
    /// The limit, with the unit it was written in.
    pub limit: Limit,
    /// The threshold as reported, such as `request_chat.p99 < 800ms`.
    pub name: String,
}

impl Threshold {
    /// True if and only if both watch the same figure, whatever the
    /// condition.
    pub fn watches_same(&self, other: &Threshold) -> bool {
        self.metric == other.metric && self.statistic == other.statistic
    }
}

/// Parses one threshold in the scenario's form: the name as the key
/// (`request_chat.p99`) and the condition as the value (`< 800ms`). An
/// unknown metric or statistic is a usage error naming the nearest valid
/// name and the valid choices.
pub fn parse(key: &str, condition: &str) -> anyhow::Result<Threshold> {
    parse_parts(key.trim(), condition).map_err(|e| usage(format!("threshold \"{key}\": {e}")))
}

/// Parses one threshold in the command-line form, such as
/// `send_events.p99 < 300ms`.
pub fn parse_cli(text: &str) -> anyhow::Result<Threshold> {
    let Some(at) = text.find(['<', '>']) else {
        return Err(usage(format!(
            "--threshold \"{text}\": expected a name, a comparison and a limit, such as \
             'send_events.p99 < 300ms'"
        )));
    };
    let (key, condition) = text.split_at(at);
    parse_parts(key.trim(), condition).map_err(|e| usage(format!("--threshold \"{text}\": {e}")))
}

/// Parses a scenario's thresholds and the command line's, all of them,
/// before the run starts. A command-line threshold replaces the
/// scenario's thresholds on the same figure, so a CI job can tighten or
/// loosen one without editing the file. Every problem is reported at once,
/// one per line.
pub fn parse_all(scenario: &[(String, String)], cli: &[String]) -> anyhow::Result<Vec<Threshold>> {
    let mut problems = Vec::new();
    let mut from_file: Vec<Threshold> = keep_ok(
        scenario.iter().map(|(key, cond)| parse(key, cond)),
        &mut problems,
    );
    let from_cli = keep_ok(cli.iter().map(|text| parse_cli(text)), &mut problems);

    if !problems.is_empty() {
        return Err(usage(problems.join("\n")));
    }
    from_file.retain(|t| !from_cli.iter().any(|c| c.watches_same(t)));
    from_file.extend(from_cli);
    Ok(from_file)
}

/// The thresholds as a scenario's `[thresholds]` table holds them, name
/// and condition, so that the scenario stored beside the results carries
/// the command line's thresholds too and a merge judges by the same ones.
/// A table holds one condition per name: two on one name are a usage
/// error, since the stored scenario could not say both.
pub fn table_entries(thresholds: &[Threshold]) -> anyhow::Result<Vec<(String, String)>> {
    let mut entries: Vec<(String, String)> = Vec::with_capacity(thresholds.len());
    for threshold in thresholds {
        let at = threshold
            .name
            .find(['<', '>'])
            .unwrap_or(threshold.name.len());
        let (key, condition) = threshold.name.split_at(at);
        let key = key.trim();
        if let Some((_, earlier)) = entries.iter().find(|(k, _)| k == key) {
            return Err(usage(format!(
                "threshold \"{key}\" is given twice (\"{earlier}\" and \"{}\"); keep one \
                 condition per name",
                condition.trim()
            )));
        }
        entries.push((key.to_owned(), condition.trim().to_owned()));
    }
    Ok(entries)
}

/// What `chatload run` needs, checked before the run starts: the
/// scenario's and the command line's thresholds, and with
/// `--abort-on-fail` the watch the engine consults each second.
pub fn for_run(
    scenario: &[(String, String)],
    cli: &[String],
    abort_on_fail: Option<&str>,
) -> anyhow::Result<(Vec<Threshold>, Option<AbortOnFail>)> {
    let thresholds = parse_all(scenario, cli)?;
    let Some(delay) = abort_on_fail else {
        return Ok((thresholds, None));
    };

    let delay = parse_delay(delay)?;
    if thresholds.is_empty() {
        return Err(usage(
            "--abort-on-fail has no threshold to watch; add one with --threshold or in the \
             scenario's [thresholds], or drop the flag",
        ));
    }
    let abort = AbortOnFail::new(&thresholds, delay);
    if abort.is_idle() {
        tracing::warn!("--abort-on-fail: every threshold is a floor on a count, judged at the end");
    }
    Ok((thresholds, Some(abort)))
}

fn keep_ok(
    parsed: impl Iterator<Item = anyhow::Result<Threshold>>,
    problems: &mut Vec<String>,
) -> Vec<Threshold> {
    let mut kept = Vec::new();
    for result in parsed {
        match result {
            Ok(threshold) => kept.push(threshold),
            Err(err) => problems.push(err.to_string()),
        }
    }
    kept
}

fn parse_parts(key: &str, condition: &str) -> Result<Threshold, String> {
    let (metric, statistic) = resolve_name(key)?;
    let (op, limit_text) = limit::split_op(condition).ok_or_else(|| {
        format!("condition \"{condition}\" must start with <, <=, > or >=, as in \"< 800ms\"")
    })?;
    let limit = limit::parse_limit(limit_text, statistic.quantity())?;

    Ok(Threshold {
        metric,
        statistic,
        op,
        limit,
        name: format!("{key} {op} {limit_text}"),
    })
}

/// Resolves `metric.statistic`, or a bare name, with suggestions.
fn resolve_name(key: &str) -> Result<(Metric, Statistic), String> {
    let Some((metric_text, statistic_text)) = key.split_once('.') else {
        return bare_named(key).ok_or_else(|| {
            let hint = suggest::hint(key, &metric_names());
            format!(
                "expected <metric>.<statistic>, such as \"request_chat.p99\"; unknown name \
                 \"{key}\"{hint}"
            )
        });
    };

    let metric = metric_named(metric_text).ok_or_else(|| {
        let names = metric_names();
        let near = nearest_part(metric_text, &names);
        format!(
            "unknown metric \"{metric_text}\"{near} (valid: {})",
            names.join(", ")
        )
    })?;
    let statistic = statistic_named(metric, statistic_text).ok_or_else(|| {
        let names: Vec<&str> = statistics(metric).into_iter().map(|(n, _)| n).collect();
        let near = nearest_statistic(statistic_text, &names);
        format!(
            "unknown statistic \"{statistic_text}\"{near} (valid: {})",
            names.join(", ")
        )
    })?;
    Ok((metric, statistic))
}

/// `; did you mean "x"?` when a candidate is close, else nothing, since
/// the full list follows anyway.
fn nearest_part(word: &str, candidates: &[&str]) -> String {
    suggest::nearest(word, candidates)
        .map(|near| format!("; did you mean \"{near}\"?"))
        .unwrap_or_default()
}

/// For a percentile such as `p98`, the offered percentile nearest in
/// value (`p99`), which spelling distance cannot tell from `p90`; for
/// anything else, the nearest spelling.
fn nearest_statistic(word: &str, candidates: &[&str]) -> String {
    let Some(wanted) = percentile_of(word) else {
        return nearest_part(word, candidates);
    };
    let by_value = candidates
        .iter()
        .filter_map(|c| percentile_of(c).map(|p| (c, (p - wanted).abs())))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    match by_value {
        Some((near, _)) => format!("; did you mean \"{near}\"?"),
        None => nearest_part(word, candidates),
    }
}

/// `p50` → 50, `p999` → 99.9, `p99.5` → 99.5: digits after the first two
/// are decimals, as in the usual short names.
fn percentile_of(name: &str) -> Option<f64> {
    let digits = name.strip_prefix('p')?;
    if digits.contains('.') {
        return digits.parse().ok();
    }
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    format!("{}.{}", &digits[..2], &digits[2..]).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Endpoint;
    use crate::exit::is_usage;
    use crate::metrics::{ErrorKind, Measure};

    fn message(result: anyhow::Result<Threshold>) -> String {
        let err = result.unwrap_err();
        assert!(is_usage(&err), "{err:#}");
        err.to_string()
    }

    #[test]
    fn scenario_form_reads_name_op_and_limit() {
        let t = parse("request_chat.p99", "< 800ms").unwrap();
        assert_eq!(t.metric, Metric::Endpoint(Endpoint::RequestChat));
        assert_eq!(t.statistic, Statistic::P99);
        assert_eq!(t.op, Op::Lt);
        assert_eq!(t.limit.value, 800.0);
        assert_eq!(t.name, "request_chat.p99 < 800ms");
    }

    #[test]
    fn command_line_form_splits_at_the_comparison() {
        let t = parse_cli("send_events.p99<=300ms").unwrap();
        assert_eq!(t.metric, Metric::Endpoint(Endpoint::SendEvents));
        assert_eq!((t.op, t.limit.value), (Op::Le, 300.0));
        assert_eq!(t.name, "send_events.p99 <= 300ms");

        let t = parse_cli("queue_wait.p95 >= 1s").unwrap();
        assert_eq!(t.metric, Metric::Measure(Measure::QueueWait));
        assert_eq!((t.op, t.limit.value), (Op::Ge, 1000.0));
    }

    #[test]
    fn run_level_names_parse() {
        let t = parse("errors.rate", "< 1%").unwrap();
        assert_eq!(
            (t.metric, t.statistic),
            (Metric::Errors, Statistic::ErrorRate)
        );
        assert_eq!(t.limit.value, 0.01);

        let t = parse_cli("chats.failed_rate < 0.02").unwrap();
        assert_eq!(t.statistic, Statistic::FailedRate);
        let t = parse_cli("dropped < 1").unwrap();
        assert_eq!((t.metric, t.statistic), (Metric::Chats, Statistic::Dropped));
        let t = parse_cli("errors.timeout < 5").unwrap();
        assert_eq!(t.statistic, Statistic::ErrorsOf(ErrorKind::Timeout));
        let t = parse_cli("requests.rate > 100/s").unwrap();
        assert_eq!(t.limit.unit, Unit::PerSecond);
    }

    #[test]
    fn unknown_statistic_names_the_nearest_and_the_valid_ones() {
        let text = message(parse("request_chat.p98", "< 800ms"));
        assert!(text.starts_with("threshold \"request_chat.p98\": unknown statistic \"p98\""));
        assert!(text.contains("; did you mean \"p99\"? (valid:"), "{text}");
        assert!(
            text.contains("(valid: p50, p90, p95, p99, p999, min, max, mean, rate, error_rate,"),
            "{text}"
        );
    }

    #[test]
    fn percentile_suggestions_go_by_value() {
        assert_eq!(percentile_of("p999"), Some(99.9));
        assert_eq!(percentile_of("p50"), Some(50.0));
        assert_eq!(percentile_of("p99.5"), Some(99.5));
        assert_eq!(percentile_of("mean"), None);
        let text = message(parse("queue_wait.p9999", "< 1s"));
        assert!(text.contains("did you mean \"p999\"?"), "{text}");
        let text = message(parse("queue_wait.maxx", "< 1s"));
        assert!(text.contains("did you mean \"max\"?"), "{text}");
    }

    #[test]
    fn unknown_metric_names_the_nearest() {
        let text = message(parse_cli("request_chta.p99 < 1s"));
        assert!(
            text.starts_with("--threshold \"request_chta.p99 < 1s\""),
            "{text}"
        );
        assert!(text.contains("did you mean \"request_chat\"?"), "{text}");
        assert!(text.contains("queue_wait"), "{text}");
    }

    #[test]
    fn bad_conditions_and_shapes_are_usage_errors() {
        assert!(message(parse("request_chat.p99", "800ms")).contains("must start with <"));
        assert!(message(parse("request_chat.p99", "< 800")).contains("needs a unit"));
        assert!(message(parse_cli("request_chat.p99 800ms")).contains("such as"));
        let text = message(parse("droped", "< 1"));
        assert!(text.contains("did you mean \"dropped\"?"), "{text}");
    }

    #[test]
    fn parse_all_reports_every_problem_at_once() {
        let file = [
            ("request_chat.p98".to_owned(), "< 1s".to_owned()),
            ("queue_wait.p95".to_owned(), "< 30s".to_owned()),
        ];
        let cli = ["bogus.p99 < 1s".to_owned()];
        let err = parse_all(&file, &cli).unwrap_err();
        assert!(is_usage(&err));
        let text = err.to_string();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains("p98") && text.contains("bogus"), "{text}");
    }

    #[test]
    fn a_run_gets_its_thresholds_and_abort_watch_checked_up_front() {
        let file = [("errors.rate".to_owned(), "< 1%".to_owned())];
        let (thresholds, abort) = for_run(&file, &[], Some("5m")).unwrap();
        assert_eq!(thresholds.len(), 1);
        assert!(!abort.unwrap().is_idle());

        assert!(is_usage(&for_run(&file, &[], Some("later")).unwrap_err()));
        let err = for_run(&[], &[], Some("5m")).unwrap_err();
        assert!(
            is_usage(&err) && err.to_string().contains("no threshold"),
            "{err}"
        );
        assert!(for_run(&file, &[], None).unwrap().1.is_none());
    }

    #[test]
    fn resolved_thresholds_go_back_into_a_scenario_table() {
        let file = [
            ("request_chat.p99".to_owned(), "< 800ms".to_owned()),
            ("errors.rate".to_owned(), "< 1%".to_owned()),
        ];
        let cli = [
            "request_chat.p99<=300ms".to_owned(),
            "dropped < 1".to_owned(),
        ];
        let entries = table_entries(&parse_all(&file, &cli).unwrap()).unwrap();
        let pairs: Vec<(&str, &str)> = entries
            .iter()
            .map(|(k, c)| (k.as_str(), c.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("errors.rate", "< 1%"),
                ("request_chat.p99", "<= 300ms"),
                ("dropped", "< 1")
            ]
        );

        let range = [
            "queue_wait.p99 > 1ms".to_owned(),
            "queue_wait.p99 < 9s".to_owned(),
        ];
        let err = table_entries(&parse_all(&[], &range).unwrap()).unwrap_err();
        assert!(is_usage(&err) && err.to_string().contains("twice"), "{err}");
    }

    #[test]
    fn command_line_thresholds_replace_the_scenario_ones_on_the_same_figure() {
        let file = [
            ("request_chat.p99".to_owned(), "< 800ms".to_owned()),
            ("errors.rate".to_owned(), "< 1%".to_owned()),
        ];
        let cli = ["request_chat.p99 < 300ms".to_owned()];
        let all = parse_all(&file, &cli).unwrap();
        let names: Vec<&str> = all.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["errors.rate < 1%", "request_chat.p99 < 300ms"]);
    }
}
