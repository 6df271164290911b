//! One latency distribution: an HdrHistogram of microseconds that costs
//! nothing until its first sample, and the figures reports print from it.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Precision of every histogram: three significant figures, so a value is
/// known to within 0.1 %.
pub const SIGNIFICANT_FIGURES: u8 = 3;

/// Largest value recorded, in microseconds (one hour). Longer samples are
/// recorded as this value rather than dropped, so the count stays true.
pub const MAX_MICROS: u64 = 3_600_000_000;

/// A latency histogram in microseconds, allocated on first use.
#[derive(Debug, Clone, Default)]
pub struct Latency {
    histogram: Option<Histogram<u64>>,
}

impl Latency {
    /// Records one sample, clamped to [`MAX_MICROS`].
    #[inline]
    pub fn record(&mut self, value: Duration) {
        let micros = u64::try_from(value.as_micros())
            .unwrap_or(MAX_MICROS)
            .min(MAX_MICROS);
        let histogram = self.histogram.get_or_insert_with(|| empty_histogram(2));

        // With auto-resize on and the value clamped, recording cannot fail;
        // the saturating fallback keeps the sample counted even so.
        if histogram.record(micros).is_err() {
            histogram.saturating_record(micros);
        }
    }

    /// Adds every sample of `other` to this one.
    pub fn merge(&mut self, other: &Latency) {
        let Some(source) = other.histogram.as_ref().filter(|h| !h.is_empty()) else {
            return;
        };
        match &mut self.histogram {
            Some(target) => add_or_warn(target, source),
            None => self.histogram = Some(source.clone()),
        }
    }

    /// Adds every sample of a histogram read back from a log; exact, since
    /// both sides count at the same precision.
    pub fn add_histogram(&mut self, source: &Histogram<u64>) {
        if source.is_empty() {
            return;
        }
        match &mut self.histogram {
            Some(target) => add_or_warn(target, source),
            None => {
                let mut copy = source.clone();
                copy.auto(true);
                self.histogram = Some(copy);
            }
        }
    }

    /// Moves the samples out and leaves an empty histogram of the same
    /// range, so that the next interval records without growing it again.
    /// A histogram with no samples stays where it is.
    pub fn take_primed(&mut self) -> Latency {
        if self.is_empty() {
            return Latency::default();
        }
        let fresh = self.empty_like();
        std::mem::replace(self, fresh)
    }

    /// An empty latency that holds values up to this one's largest without
    /// growing; unallocated if this one is.
    pub fn empty_like(&self) -> Latency {
        Latency {
            histogram: self.histogram.as_ref().map(|h| empty_histogram(h.high())),
        }
    }

    /// The histogram, when a sample was ever recorded or merged into it.
    pub fn histogram(&self) -> Option<&Histogram<u64>> {
        self.histogram.as_ref()
    }

    /// Number of samples.
    pub fn len(&self) -> u64 {
        self.histogram.as_ref().map_or(0, Histogram::len)
    }

    /// True if and only if there is no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The summary figures, or `None` without samples.
    pub fn stats(&self) -> Option<LatencyStats> {
        self.histogram
            .as_ref()
            .filter(|h| !h.is_empty())
            .map(LatencyStats::of)
    }

    /// The value at `quantile` (0 to 1) in milliseconds, or `None` without
    /// samples.
    pub fn quantile_ms(&self, quantile: f64) -> Option<f64> {
        let histogram = self.histogram.as_ref().filter(|h| !h.is_empty())?;
        Some(micros_to_ms(histogram.value_at_quantile(quantile)))
    }
}

/// An auto-resizing histogram that can hold values up to `high` without
/// growing. Growth past it reallocates, which is why primed histograms
/// inherit the range of the interval before.
fn empty_histogram(high: u64) -> Histogram<u64> {
    // Bounds of 1..=high (high >= 2) with 3 figures are always a valid shape.
    let mut histogram = Histogram::new_with_bounds(1, high.max(2), SIGNIFICANT_FIGURES)
        .expect("1..high at 3 significant figures is a valid histogram shape");
    histogram.auto(true);
    histogram
}

fn add_or_warn(target: &mut Histogram<u64>, source: &Histogram<u64>) {
    // Only a resize beyond usize could fail, which clamped values never need.
    if let Err(err) = target.add(source) {
        tracing::warn!(%err, samples = source.len(), "latency samples could not be merged");
    }
}

/// Microseconds as fractional milliseconds.
pub fn micros_to_ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// The figures of one distribution, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyStats {
    /// Smallest sample.
    pub min: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest sample.
    pub max: f64,
}

impl LatencyStats {
    /// The figures of a histogram of microseconds.
    pub fn of(histogram: &Histogram<u64>) -> LatencyStats {
        let at = |q: f64| micros_to_ms(histogram.value_at_quantile(q));
        LatencyStats {
            min: micros_to_ms(histogram.min()),
            mean: histogram.mean() / 1000.0,
            p50: at(0.5),
            p90: at(0.9),
            p95: at(0.95),
            p99: at(0.99),
            p999: at(0.999),
            max: micros_to_ms(histogram.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= expected * 0.001 + 0.001
    }

    #[test]
    fn unused_latency_holds_no_histogram() {
        let latency = Latency::default();
        assert!(latency.histogram().is_none());
        assert_eq!(latency.stats(), None);
        assert_eq!(latency.quantile_ms(0.99), None);
    }

    #[test]
    fn percentiles_of_one_to_a_thousand_milliseconds_are_known() {
        let mut latency = Latency::default();
        for value in 1..=1000 {
            latency.record(ms(value));
        }

        let stats = latency.stats().unwrap();
        assert_eq!(latency.len(), 1000);
        assert!(close(stats.min, 1.0), "{stats:?}");
        assert!(close(stats.p50, 500.0), "{stats:?}");
        assert!(close(stats.p90, 900.0), "{stats:?}");
        assert!(close(stats.p99, 990.0), "{stats:?}");
        assert!(close(stats.p999, 999.0), "{stats:?}");
        assert!(close(stats.max, 1000.0), "{stats:?}");
        assert!(close(stats.mean, 500.5), "{stats:?}");
    }

    #[test]
    fn overlong_samples_are_clamped_not_dropped() {
        let mut latency = Latency::default();
        latency.record(Duration::from_secs(5 * 3600));
        latency.record(Duration::MAX);

        assert_eq!(latency.len(), 2);
        let max = latency.histogram().unwrap().max();
        assert!(latency.histogram().unwrap().equivalent(max, MAX_MICROS));
    }

    #[test]
    fn merging_adds_the_samples_of_both_sides() {
        let mut a = Latency::default();
        let mut b = Latency::default();
        a.record(ms(1));
        b.record(ms(100));
        b.record(ms(200));

        a.merge(&b);
        a.merge(&Latency::default());
        assert_eq!(a.len(), 3);
        assert!(close(a.stats().unwrap().max, 200.0));

        let mut empty = Latency::default();
        empty.merge(&b);
        assert_eq!(empty.len(), 2);
    }

    #[test]
    fn taking_leaves_an_empty_histogram_of_the_same_range() {
        let mut latency = Latency::default();
        latency.record(ms(2000));
        let high = latency.histogram().unwrap().high();

        let taken = latency.take_primed();
        assert_eq!(taken.len(), 1);
        assert!(latency.is_empty());
        assert!(latency.histogram().unwrap().high() >= high);

        let again = latency.take_primed();
        assert!(again.histogram().is_none());
        assert!(latency.histogram().is_some());
    }
}
