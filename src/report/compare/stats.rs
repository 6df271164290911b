//! The tests that tell a regression from noise.
//!
//! - A percentile's confidence interval from one histogram, by order
//!   statistics: among n independent samples, the number below the true
//!   q-quantile is Binomial(n, q), so the sample of rank
//!   nq ± z·√(nq(1−q)) brackets it with the binomial's normal
//!   approximation. No assumption about the shape of the distribution is
//!   made, which matters for latencies with long tails. Two runs differ at
//!   a percentile when their 99 % intervals do not overlap, which is
//!   stricter than a test at 1 %, so a flagged change is rarely noise.
//! - Request rates: the two counts are Poisson over their run lengths; the
//!   difference of the rates over its standard error is a z score.
//! - Error rates: the two-proportion z-test with the pooled share.

use hdrhistogram::Histogram;

use crate::metrics::latency::micros_to_ms;

/// z of a two-sided 99 % interval.
pub const Z_TWO_SIDED_99: f64 = 2.575_829;

/// z of a one-sided test at 1 %.
pub const Z_ONE_SIDED_99: f64 = 2.326_348;

/// Where a percentile lies, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lowest value it can have.
    pub low: f64,
    /// Highest value it can have.
    pub high: f64,
}

/// The 99 % confidence interval of the `q` quantile of the population
/// `histogram` was sampled from; `None` without samples. Ranks past either
/// end are clamped to the smallest and largest sample, which widens the
/// interval when there are too few samples to know the quantile.
pub fn quantile_interval(histogram: &Histogram<u64>, q: f64) -> Option<Interval> {
    let n = histogram.len();
    if n == 0 {
        return None;
    }
    let expected = n as f64 * q;
    let spread = Z_TWO_SIDED_99 * (expected * (1.0 - q)).sqrt();

    let low_rank = ((expected - spread).floor() as u64).clamp(1, n);
    let high_rank = ((expected + spread).ceil() as u64).clamp(1, n);
    let low = histogram.lowest_equivalent(value_at_rank(histogram, low_rank));
    let high = histogram.highest_equivalent(value_at_rank(histogram, high_rank));
    Some(Interval {
        low: micros_to_ms(low),
        high: micros_to_ms(high),
    })
}

/// The value of the sample of 1-based `rank`, counted in integers so that
/// no rounding of a quantile moves it by one.
fn value_at_rank(histogram: &Histogram<u64>, rank: u64) -> u64 {
    let mut seen = 0;
    for step in histogram.iter_recorded() {
        seen += step.count_at_value();
        if seen >= rank {
            return step.value_iterated_to();
        }
    }
    histogram.max()
}

/// How many standard errors the rate `count_b / seconds_b` lies below
/// `count_a / seconds_a`, with Poisson counts. Positive when b is slower.
pub fn rate_drop_z(count_a: u64, seconds_a: f64, count_b: u64, seconds_b: f64) -> f64 {
    let rate_a = count_a as f64 / seconds_a;
    let rate_b = count_b as f64 / seconds_b;
    let variance =
        count_a as f64 / (seconds_a * seconds_a) + count_b as f64 / (seconds_b * seconds_b);
    if variance == 0.0 {
        return 0.0;
    }
    (rate_a - rate_b) / variance.sqrt()
}

/// How many standard errors the share `errors_b / n_b` lies above
/// `errors_a / n_a`, by the two-proportion z-test with the pooled share.
/// Positive when b fails more often.
pub fn error_rise_z(errors_a: u64, n_a: u64, errors_b: u64, n_b: u64) -> f64 {
    let (na, nb) = (n_a as f64, n_b as f64);
    let pooled = (errors_a + errors_b) as f64 / (na + nb);
    let variance = pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb);
    if variance.is_nan() || variance <= 0.0 {
        return 0.0;
    }
    (errors_b as f64 / nb - errors_a as f64 / na) / variance.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::new(3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= expected.abs() * 0.002 + 1e-9
    }

    #[test]
    fn the_median_of_a_thousand_uniform_samples_has_the_binomial_interval() {
        // n q = 500, sqrt(n q (1 - q)) = 15.81, times 2.5758 = 40.73:
        // ranks 459 and 541, and the sample of rank r is r ms.
        let h = histogram((1..=1000).map(|ms| ms * 1000));
        let interval = quantile_interval(&h, 0.5).unwrap();
        assert!(close(interval.low, 459.0), "{interval:?}");
        assert!(close(interval.high, 541.0), "{interval:?}");
    }

    #[test]
    fn a_tail_quantile_of_few_samples_reaches_the_largest_one() {
        // n q (1 - q) = 0.999: the upper rank passes n, so the interval
        // runs to the maximum and cannot be told apart from much.
        let h = histogram((1..=1000).map(|ms| ms * 1000));
        let interval = quantile_interval(&h, 0.999).unwrap();
        assert!(close(interval.high, 1000.0), "{interval:?}");
        assert!(close(interval.low, 996.0), "{interval:?}");
        assert_eq!(quantile_interval(&histogram([]), 0.5), None);
    }

    #[test]
    fn intervals_narrow_as_samples_grow() {
        let small = histogram((1..=1000).map(|ms| ms * 1000));
        let large = histogram((1..=100_000).map(|i| i * 10));
        let width = |h: &Histogram<u64>| {
            let i = quantile_interval(h, 0.99).unwrap();
            (i.high - i.low) / h.value_at_quantile(0.99) as f64 * 1000.0
        };
        assert!(width(&large) < width(&small) / 5.0);
    }

    #[test]
    fn rate_drop_z_follows_the_poisson_standard_error() {
        // 100/s against 80/s over 10 s: sqrt(1000/100 + 800/100) = 4.243.
        assert!(close(
            rate_drop_z(1000, 10.0, 800, 10.0),
            20.0 / 18f64.sqrt()
        ));
        assert!(rate_drop_z(800, 10.0, 1000, 10.0) < 0.0);
        assert_eq!(rate_drop_z(0, 10.0, 0, 5.0), 0.0);
    }

    #[test]
    fn error_rise_z_is_the_two_proportion_test() {
        // 1 % against 3 % of 1000: pooled 2 %, se = sqrt(0.02 0.98 0.002).
        let expected = 0.02 / (0.02f64 * 0.98 * 0.002).sqrt();
        assert!(close(error_rise_z(10, 1000, 30, 1000), expected));
        assert!(close(expected, 3.194));
        assert_eq!(error_rise_z(0, 1000, 0, 1000), 0.0);
        assert_eq!(error_rise_z(5, 5, 9, 9), 0.0);
    }
}
