//! Turns the interval histograms of latency.hlog into what the charts plot:
//! percentiles per second for one tag, the whole run's percentile spectrum
//! of one tag, and requests per second when no timeline is at hand.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use hdrhistogram::Histogram;

use crate::metrics::IntervalHistogram;
use crate::metrics::latency::micros_to_ms;

/// Deepest percentile the spectrum reaches: 99.999 %, written as 1/(1-q).
const DEEPEST: f64 = 1e5;

/// Spectrum points per decade of 1/(1-q): enough for a smooth line.
const STEPS_PER_DECADE: u32 = 24;

/// One second of one tag: where it sits on the time axis and its figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimePoint {
    /// Start of the interval, in seconds after the start of the run.
    pub second: f64,
    /// Samples in the interval.
    pub count: u64,
    /// Median, in milliseconds.
    pub p50: f64,
    /// 90th percentile, in milliseconds.
    pub p90: f64,
    /// 99th percentile, in milliseconds.
    pub p99: f64,
}

/// The intervals of every tag as time series, keyed by tag, each in time
/// order. Times count from `start`; an interval before it counts as 0.
pub fn by_tag(
    intervals: &[IntervalHistogram],
    start: SystemTime,
) -> BTreeMap<&str, Vec<TimePoint>> {
    let mut series: BTreeMap<&str, Vec<TimePoint>> = BTreeMap::new();
    for interval in intervals.iter().filter(|i| !i.histogram.is_empty()) {
        let point = time_point(interval, start);
        series.entry(interval.tag.as_str()).or_default().push(point);
    }
    for points in series.values_mut() {
        points.sort_by(|a, b| a.second.total_cmp(&b.second));
    }
    series
}

fn time_point(interval: &IntervalHistogram, start: SystemTime) -> TimePoint {
    let at = |q: f64| micros_to_ms(interval.histogram.value_at_quantile(q));
    TimePoint {
        second: seconds_after(start, interval.start),
        count: interval.histogram.len(),
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
    }
}

/// Whole seconds from `start` to `at`: intervals begin on whole seconds
/// after a start that the summary keeps only to the second.
fn seconds_after(start: SystemTime, at: SystemTime) -> f64 {
    at.duration_since(start).unwrap_or(Duration::ZERO).as_secs() as f64
}

/// Every sample of `tag` over the run, or `None` if it has none.
pub fn merged(intervals: &[IntervalHistogram], tag: &str) -> Option<Histogram<u64>> {
    let mut parts = intervals.iter().filter(|i| i.tag == tag);
    let mut total = parts.next()?.histogram.clone();
    for part in parts {
        // Read-back histograms resize themselves, so adding cannot run out
        // of range; a failure would mean a corrupt log, worth a warning.
        if let Err(err) = total.add(&part.histogram) {
            tracing::warn!(tag, %err, "an interval was left out of the spectrum");
        }
    }
    (!total.is_empty()).then_some(total)
}

/// The percentile spectrum: points of (1/(1-q), value in ms), q rising
/// from 0 as far as the samples can tell apart, ending at the maximum.
pub fn spectrum(histogram: &Histogram<u64>) -> Vec<(f64, f64)> {
    // Beyond 1/(1-q) = count, every quantile is the maximum already.
    let deepest = (histogram.len() as f64).clamp(10.0, DEEPEST);
    let steps = (deepest.log10() * f64::from(STEPS_PER_DECADE)).ceil() as u32;

    let mut points: Vec<(f64, f64)> = (0..steps)
        .map(|k| 10f64.powf(f64::from(k) / f64::from(STEPS_PER_DECADE)))
        .map(|x| (x, micros_to_ms(histogram.value_at_quantile(1.0 - 1.0 / x))))
        .collect();
    points.push((deepest, micros_to_ms(histogram.max())));
    points
}

/// Requests per second, summed over the response-time tags named in
/// `endpoints`: the fallback when no timeline says it directly.
pub fn requests_per_second(
    intervals: &[IntervalHistogram],
    endpoints: &[&str],
    start: SystemTime,
) -> Vec<(f64, f64)> {
    let mut per_second: BTreeMap<u64, f64> = BTreeMap::new();
    for interval in intervals
        .iter()
        .filter(|i| endpoints.contains(&i.tag.as_str()))
    {
        let second = seconds_after(start, interval.start) as u64;
        let length = interval.duration.as_secs_f64().max(1e-3);
        *per_second.entry(second).or_default() += interval.histogram.len() as f64 / length;
    }
    per_second
        .into_iter()
        .map(|(second, rate)| (second as f64, rate))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(tag: &str, second: u64, values: &[u64]) -> IntervalHistogram {
        let mut histogram = Histogram::new(3).unwrap();
        for &v in values {
            histogram.record(v).unwrap();
        }
        IntervalHistogram {
            tag: tag.into(),
            start: SystemTime::UNIX_EPOCH + Duration::from_millis(second * 1000 + 250),
            duration: Duration::from_secs(1),
            histogram,
        }
    }

    #[test]
    fn intervals_become_per_tag_series_on_whole_seconds() {
        let intervals = [
            interval("send_events", 1, &[2000, 4000]),
            interval("send_events", 0, &[1000]),
            interval("queue_wait", 1, &[300_000]),
        ];
        let series = by_tag(&intervals, SystemTime::UNIX_EPOCH);

        let send = &series["send_events"];
        assert_eq!(send.len(), 2);
        assert_eq!((send[0].second, send[1].second), (0.0, 1.0));
        assert_eq!(send[1].count, 2);
        assert!((send[1].p99 - 4.0).abs() < 0.01, "{send:?}");
        assert!((series["queue_wait"][0].p50 - 300.0).abs() < 0.5);
    }

    #[test]
    fn merging_joins_every_interval_of_a_tag_only() {
        let intervals = [
            interval("history", 0, &[10, 20]),
            interval("history.service", 0, &[5]),
            interval("history", 3, &[30]),
        ];
        assert_eq!(merged(&intervals, "history").unwrap().len(), 3);
        assert!(merged(&intervals, "version").is_none());
    }

    #[test]
    fn the_spectrum_rises_and_ends_at_the_maximum() {
        let values: Vec<u64> = (1..=1000).map(|v| v * 1000).collect();
        let histogram = interval("x", 0, &values).histogram;
        let points = spectrum(&histogram);

        assert_eq!(points[0].0, 1.0);
        assert!(
            points
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
        );
        let last = points[points.len() - 1];
        assert_eq!(last.0, 1000.0);
        assert!((last.1 - 1000.0).abs() < 1.0, "{last:?}");
    }

    #[test]
    fn requests_per_second_add_up_over_endpoints() {
        let intervals = [
            interval("request_chat", 0, &[1, 2]),
            interval("request_chat.service", 0, &[1, 2]),
            interval("send_events", 0, &[1]),
            interval("send_events", 2, &[1, 1, 1]),
        ];
        let rates = requests_per_second(
            &intervals,
            &["request_chat", "send_events"],
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(rates, vec![(0.0, 3.0), (2.0, 3.0)]);
    }
}
