//! The comparison itself: one row per endpoint or measure and statistic,
//! base beside current, judged by the tolerance and the noise tests of
//! [`super::stats`].

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::api::Endpoint;
use crate::exit::Verdict;
use crate::metrics::Measure;
use crate::metrics::latency::micros_to_ms;

use super::input::Results;
use super::stats::{Z_ONE_SIDED_99, error_rise_z, quantile_interval, rate_drop_z};
use super::tolerance::Tolerance;

/// A statistic compared between runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompareStat {
    /// Median response time.
    P50,
    /// 99th percentile of the response time.
    P99,
    /// 99.9th percentile of the response time.
    P999,
    /// Requests (or samples) per second; lower is worse.
    Rate,
    /// Errored requests as a share; higher is worse.
    ErrorRate,
}

impl CompareStat {
    /// Every statistic, in report order.
    pub const ALL: [CompareStat; 5] = [
        CompareStat::P50,
        CompareStat::P99,
        CompareStat::P999,
        CompareStat::Rate,
        CompareStat::ErrorRate,
    ];

    /// The name used in output and in `--max-regression`.
    pub fn name(self) -> &'static str {
        match self {
            CompareStat::P50 => "p50",
            CompareStat::P99 => "p99",
            CompareStat::P999 => "p999",
            CompareStat::Rate => "rate",
            CompareStat::ErrorRate => "error_rate",
        }
    }

    /// The statistic with this name.
    pub fn from_name(name: &str) -> Option<CompareStat> {
        CompareStat::ALL.into_iter().find(|s| s.name() == name)
    }

    fn quantile(self) -> Option<f64> {
        match self {
            CompareStat::P50 => Some(0.5),
            CompareStat::P99 => Some(0.99),
            CompareStat::P999 => Some(0.999),
            CompareStat::Rate | CompareStat::ErrorRate => None,
        }
    }
}

/// How a row came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    /// Not worse than the base by more than the tolerance.
    Ok,
    /// Worse by more than the tolerance, but within what noise explains.
    Noise,
    /// Worse by more than the tolerance, and unlikely to be noise.
    Regression,
    /// One of the runs has nothing to compare.
    Missing,
}

/// One statistic of one endpoint or measure in both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// Endpoint or measure name.
    pub name: String,
    /// Which statistic.
    pub statistic: CompareStat,
    /// Base value: milliseconds, per second, or a share from 0 to 1.
    pub base: Option<f64>,
    /// Current value, in the same unit.
    pub current: Option<f64>,
    /// `(current - base) / base`; `None` when either is missing or the
    /// base is 0.
    pub change: Option<f64>,
    /// The verdict.
    pub judgement: Judgement,
}

/// Both runs side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Scenario of the current run.
    pub scenario: String,
    /// Where the base came from.
    pub base: String,
    /// Where the current run came from.
    pub current: String,
    /// The tolerances applied.
    pub tolerance: Tolerance,
    /// Endpoints in API order, then measures, each with its statistics.
    pub rows: Vec<Row>,
}

impl Comparison {
    /// The rows judged regressions.
    pub fn regressions(&self) -> impl Iterator<Item = &Row> {
        self.rows
            .iter()
            .filter(|r| r.judgement == Judgement::Regression)
    }

    /// [`Verdict::Failed`] if and only if any row is a regression.
    pub fn verdict(&self) -> Verdict {
        if self.regressions().next().is_some() {
            Verdict::Failed
        } else {
            Verdict::Passed
        }
    }
}

/// Compares every endpoint and measure that either run recorded.
pub fn compare(base: &Results, current: &Results, tolerance: &Tolerance) -> Comparison {
    let mut rows = Vec::new();
    for endpoint in Endpoint::ALL.map(Endpoint::name) {
        if either_has(base, current, |r| {
            r.summary.endpoints.contains_key(endpoint)
        }) {
            rows.extend(endpoint_rows(endpoint, base, current, tolerance));
        }
    }
    for measure in Measure::ALL.map(Measure::name) {
        if either_has(base, current, |r| r.summary.measures.contains_key(measure)) {
            rows.extend(measure_rows(measure, base, current, tolerance));
        }
    }

    Comparison {
        scenario: current.summary.scenario.clone(),
        base: base.dir.display().to_string(),
        current: current.dir.display().to_string(),
        tolerance: tolerance.clone(),
        rows,
    }
}

fn either_has(base: &Results, current: &Results, has: impl Fn(&Results) -> bool) -> bool {
    has(base) || has(current)
}

fn endpoint_rows(name: &str, base: &Results, current: &Results, tol: &Tolerance) -> Vec<Row> {
    let mut rows = latency_rows(name, base, current, tol);
    let counts = |r: &Results| {
        let e = r.summary.endpoints.get(name);
        let (count, errors) = e.map_or((0, 0), |e| (e.count, e.errors));
        (count, errors, r.summary.duration_s)
    };
    let (b, c) = (counts(base), counts(current));

    rows.push(rate_row(
        name,
        (b.0, b.2),
        (c.0, c.2),
        tol.of(CompareStat::Rate),
    ));
    rows.push(error_rate_row(
        name,
        (b.1, b.0),
        (c.1, c.0),
        tol.of(CompareStat::ErrorRate),
    ));
    rows
}

fn measure_rows(name: &str, base: &Results, current: &Results, tol: &Tolerance) -> Vec<Row> {
    let mut rows = latency_rows(name, base, current, tol);
    let count = |r: &Results| {
        let samples = r.summary.measures.get(name).map_or(0, |m| m.count);
        (samples, r.summary.duration_s)
    };
    rows.push(rate_row(
        name,
        count(base),
        count(current),
        tol.of(CompareStat::Rate),
    ));
    rows
}

fn latency_rows(name: &str, base: &Results, current: &Results, tol: &Tolerance) -> Vec<Row> {
    [CompareStat::P50, CompareStat::P99, CompareStat::P999]
        .into_iter()
        .map(|stat| {
            let b = base.latency(name);
            let c = current.latency(name);
            latency_row(name, stat, (b, c), (tol.of(stat), tol.min_change_ms))
        })
        .collect()
}

/// Percentiles: worse past the tolerance and by at least the floor in
/// milliseconds, and the two 99 % intervals apart. `runs` is base and
/// current, `limits` the relative tolerance and the floor.
fn latency_row(
    name: &str,
    stat: CompareStat,
    runs: (Option<&Histogram<u64>>, Option<&Histogram<u64>>),
    limits: (f64, f64),
) -> Row {
    let ((base, current), (tolerance, floor_ms)) = (runs, limits);
    let q = stat.quantile().unwrap_or(0.5);
    let point = |h: Option<&Histogram<u64>>| h.map(|h| micros_to_ms(h.value_at_quantile(q)));
    let mut row = new_row(name, stat, point(base), point(current));

    let intervals = base
        .and_then(|h| quantile_interval(h, q))
        .zip(current.and_then(|h| quantile_interval(h, q)));
    let rise_ms = row.current.zip(row.base).map_or(0.0, |(c, b)| c - b);
    row.judgement = match (row.change, intervals) {
        (Some(change), Some((b, c))) => {
            judge(change > tolerance && rise_ms >= floor_ms, c.low > b.high)
        }
        _ => Judgement::Missing,
    };
    row
}

/// Rates: lower past the tolerance, and the Poisson test at 1 %. A run
/// with no request of an endpoint has a rate of 0, so an endpoint that
/// stopped being called shows as a regression.
fn rate_row(name: &str, base: (u64, f64), current: (u64, f64), tolerance: f64) -> Row {
    let ((count_b, secs_b), (count_c, secs_c)) = (base, current);
    if secs_b <= 0.0 || secs_c <= 0.0 {
        return new_row(name, CompareStat::Rate, None, None);
    }
    let rate = |count: u64, secs: f64| Some(count as f64 / secs);
    let mut row = new_row(
        name,
        CompareStat::Rate,
        rate(count_b, secs_b),
        rate(count_c, secs_c),
    );

    let worse = row.change.is_some_and(|change| change < -tolerance);
    let z = rate_drop_z(count_b, secs_b, count_c, secs_c);
    row.judgement = judge(worse, z >= Z_ONE_SIDED_99);
    row
}

/// Error rates as `(errors, requests)`: higher past the tolerance (any
/// rise from a base of 0), and the two-proportion test at 1 %.
fn error_rate_row(name: &str, base: (u64, u64), current: (u64, u64), tolerance: f64) -> Row {
    let ((errors_b, n_b), (errors_c, n_c)) = (base, current);
    let share = |errors: u64, n: u64| (n > 0).then(|| errors as f64 / n as f64);
    let mut row = new_row(
        name,
        CompareStat::ErrorRate,
        share(errors_b, n_b),
        share(errors_c, n_c),
    );

    let (Some(b), Some(c)) = (row.base, row.current) else {
        return row;
    };
    let worse = if b == 0.0 {
        c > 0.0
    } else {
        (c - b) / b > tolerance
    };
    row.judgement = judge(
        worse,
        error_rise_z(errors_b, n_b, errors_c, n_c) >= Z_ONE_SIDED_99,
    );
    row
}

fn judge(worse: bool, significant: bool) -> Judgement {
    match (worse, significant) {
        (false, _) => Judgement::Ok,
        (true, false) => Judgement::Noise,
        (true, true) => Judgement::Regression,
    }
}

/// A row judged [`Judgement::Missing`] until its caller judges it.
fn new_row(name: &str, statistic: CompareStat, base: Option<f64>, current: Option<f64>) -> Row {
    let change = match (base, current) {
        (Some(b), Some(c)) if b > 0.0 => Some((c - b) / b),
        _ => None,
    };
    Row {
        name: name.to_owned(),
        statistic,
        base,
        current,
        change,
        judgement: Judgement::Missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_that_halves_over_many_requests_regresses() {
        let row = rate_row("send_events", (10_000, 100.0), (5_000, 100.0), 0.1);
        assert_eq!(row.judgement, Judgement::Regression);
        assert_eq!(row.change, Some(-0.5));
    }

    #[test]
    fn a_rate_that_drops_over_few_requests_is_noise() {
        let row = rate_row("send_events", (10, 10.0), (7, 10.0), 0.1);
        assert_eq!(row.judgement, Judgement::Noise);
        let row = rate_row("send_events", (10, 10.0), (12, 10.0), 0.1);
        assert_eq!(row.judgement, Judgement::Ok);
    }

    #[test]
    fn errors_appearing_from_none_regress_when_there_are_enough() {
        let row = error_rate_row("request_chat", (0, 10_000), (50, 10_000), 0.1);
        assert_eq!(row.judgement, Judgement::Regression);
        assert_eq!(row.change, None);
        let row = error_rate_row("request_chat", (0, 100), (1, 100), 0.1);
        assert_eq!(row.judgement, Judgement::Noise);
        let row = error_rate_row("request_chat", (0, 0), (1, 100), 0.1);
        assert_eq!(row.judgement, Judgement::Missing);
    }

    #[test]
    fn a_latency_missing_on_one_side_is_not_judged() {
        let mut h = Histogram::<u64>::new(3).unwrap();
        h.record(1000).unwrap();
        let row = latency_row("history", CompareStat::P99, (Some(&h), None), (0.1, 1.0));
        assert_eq!(row.judgement, Judgement::Missing);
        assert_eq!(row.base, Some(1.0));
    }

    /// `count` samples of `us` microseconds each.
    fn histogram(count: u64, us: u64) -> Histogram<u64> {
        let mut h = Histogram::<u64>::new(3).unwrap();
        h.record_n(us, count).unwrap();
        h
    }

    #[test]
    fn a_latency_rise_below_the_floor_is_never_a_regression() {
        // 10 us to 1.39 ms over many samples: +13800 %, and far outside
        // noise, but only 1.38 ms slower.
        let (base, current) = (histogram(10_000, 10), histogram(10_000, 1_390));
        let runs = (Some(&base), Some(&current));
        let row = latency_row("pool_wait", CompareStat::P99, runs, (0.1, 1.5));
        assert_eq!(row.judgement, Judgement::Ok, "{row:?}");
        assert!(row.change.unwrap() > 100.0);

        let row = latency_row("pool_wait", CompareStat::P99, runs, (0.1, 1.0));
        assert_eq!(row.judgement, Judgement::Regression, "{row:?}");
        let row = latency_row("pool_wait", CompareStat::P99, runs, (0.1, 0.0));
        assert_eq!(row.judgement, Judgement::Regression, "{row:?}");
    }
}
