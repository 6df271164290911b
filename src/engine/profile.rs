//! Load-profile arithmetic: the value a profile asks for at any instant,
//! the split of a whole number of clients among workers, and the arrival
//! times of the open model. Pure functions with no I/O or clock, so the
//! scheduler can be tested without running anything.
//!
//! A profile is a list of stages, each ramping linearly from the value the
//! previous stage ended at (zero before the first) to its own target; a
//! stage of zero length is a step. For the open model the value is a rate
//! r(t), and Λ(t), the integral of r from the start, is the expected number
//! of arrivals by `t`. Under linear ramps Λ is piecewise quadratic, so it
//! is inverted exactly rather than by search.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::scenario::{Arrival, Stage};

/// Value (clients or rate) at elapsed `t`. Each stage ramps linearly from
/// the previous stage's end value (0 before the first) to its own. Past the
/// last stage the last value is returned: the engine stops at the end, and
/// a caller sampling a moment late should see the final level, not a drop.
pub fn value_at(stages: &[Stage], t: Duration) -> f64 {
    let t = t.as_secs_f64();
    let mut start = 0.0;
    let mut from = 0.0;

    for stage in stages {
        let length = stage.duration.as_secs_f64();
        if t < start + length {
            let progress = (t - start) / length;
            return from + (stage.target - from) * progress;
        }
        start += length;
        from = stage.target;
    }
    from
}

/// Splits an integer `total` into `parts` shares that add up exactly, and
/// returns share `index`. The first `total % parts` shares get one extra,
/// so no two shares differ by more than one. With no parts, or an index
/// out of range, the share is 0.
pub fn share(total: u64, index: u64, parts: u64) -> u64 {
    if parts == 0 || index >= parts {
        return 0;
    }
    total / parts + u64::from(index < total % parts)
}

/// Expected number of arrivals over the whole profile: Λ at the end.
pub fn expected_arrivals(stages: &[Stage]) -> f64 {
    Curve::new(stages).total
}

/// Open model: arrival offsets from the start of the run, in order.
///
/// Even spacing puts arrival `i` (from 1) at Λ⁻¹(i), the moment the
/// expected count reaches a whole number, so a stage at rate zero never
/// gets an arrival and a constant rate `r` gives `i / r`. Poisson spacing
/// runs a unit-rate Poisson process in Λ-space (exponential gaps of mean
/// one) and maps each point back through Λ⁻¹: a non-homogeneous Poisson
/// process whose intensity follows the profile. The random stream is
/// seeded, so the same seed repeats a run's schedule exactly.
///
/// The iterator ends after the last stage.
#[derive(Debug, Clone)]
pub struct Arrivals {
    curve: Curve,
    arrival: Arrival,
    rng: SmallRng,
    position: f64,
    count: u64,
    segment: usize,
}

impl Arrivals {
    /// The arrival schedule of `stages` (rates, per second) with the given
    /// spacing; `seed` fixes the Poisson draws and is unused for even.
    pub fn new(stages: &[Stage], arrival: Arrival, seed: u64) -> Arrivals {
        Arrivals {
            curve: Curve::new(stages),
            arrival,
            rng: SmallRng::seed_from_u64(seed),
            position: 0.0,
            count: 0,
            segment: 0,
        }
    }

    /// Only every `parts`-th arrival starting at `index` (counted from 0):
    /// one worker's or one shard's share. The shares for `index` in
    /// `0..parts` together hold every arrival exactly once. `parts` of 0
    /// is taken as 1; an index of `parts` or more yields nothing.
    pub fn shard(self, index: u64, parts: u64) -> impl Iterator<Item = Duration> {
        let parts = parts.max(1);
        let skip = if index < parts { index } else { u64::MAX };
        self.skip(to_usize(skip)).step_by(to_usize(parts))
    }

    fn next_position(&mut self) -> f64 {
        match self.arrival {
            Arrival::Even => self.count as f64,
            Arrival::Poisson => {
                // 1 - U lies in (0, 1], so the logarithm is finite.
                let u: f64 = self.rng.random();
                self.position - (1.0 - u).ln()
            }
        }
    }
}

impl Iterator for Arrivals {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.count += 1;
        let y = self.next_position();
        self.position = y;

        // Even positions land exactly on Λ(end) for whole totals; a little
        // slack keeps rounding in Λ from dropping that last arrival.
        if y > self.curve.total * (1.0 + 1e-12) + 1e-9 {
            self.position = f64::INFINITY;
            return None;
        }
        let (t, segment) = self.curve.invert(y.min(self.curve.total), self.segment);
        self.segment = segment;
        Some(Duration::from_secs_f64(t))
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// One stage seen as a piece of Λ.
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: f64,
    length: f64,
    from: f64,
    to: f64,
    before: f64,
}

impl Piece {
    fn area(&self) -> f64 {
        (self.from + self.to) / 2.0 * self.length
    }

    /// Time into the piece at which Λ has grown by `delta` since its start:
    /// the root of `from·τ + (to − from)/(2·length)·τ² = delta`, in the
    /// form that loses no precision when `to` is close to `from`.
    fn invert(&self, delta: f64) -> f64 {
        let slope = (self.to - self.from) / self.length;
        let discriminant = (self.from * self.from + 2.0 * slope * delta).max(0.0);
        let denominator = self.from + discriminant.sqrt();
        if denominator <= 0.0 {
            return 0.0;
        }
        (2.0 * delta / denominator).clamp(0.0, self.length)
    }
}

/// Λ for a whole profile: its pieces and the total.
#[derive(Debug, Clone)]
struct Curve {
    pieces: Vec<Piece>,
    total: f64,
}

impl Curve {
    fn new(stages: &[Stage]) -> Curve {
        let mut pieces = Vec::with_capacity(stages.len());
        let (mut start, mut from, mut before) = (0.0, 0.0, 0.0);

        for stage in stages {
            let length = stage.duration.as_secs_f64();
            let to = stage.target.max(0.0);
            if length > 0.0 {
                let piece = Piece {
                    start,
                    length,
                    from,
                    to,
                    before,
                };
                before += piece.area();
                pieces.push(piece);
            }
            start += length;
            from = to;
        }
        Curve {
            pieces,
            total: before,
        }
    }

    /// The earliest `t` with Λ(t) = `y`, searching from piece `hint` on
    /// (positions only grow); returns the piece it was found in.
    fn invert(&self, y: f64, hint: usize) -> (f64, usize) {
        let mut index = hint;
        while index + 1 < self.pieces.len() {
            let piece = &self.pieces[index];
            if y <= piece.before + piece.area() && piece.area() > 0.0 {
                break;
            }
            index += 1;
        }
        match self.pieces.get(index) {
            Some(piece) => (piece.start + piece.invert(y - piece.before), index),
            None => (0.0, index),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(seconds: u64, target: f64) -> Stage {
        Stage {
            duration: Duration::from_secs(seconds),
            target,
        }
    }

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn value_ramps_up_holds_and_ramps_down_to_zero() {
        let stages = [stage(10, 100.0), stage(20, 100.0), stage(10, 0.0)];
        assert_eq!(value_at(&stages, secs(0.0)), 0.0);
        assert_eq!(value_at(&stages, secs(5.0)), 50.0);
        assert_eq!(value_at(&stages, secs(10.0)), 100.0);
        assert_eq!(value_at(&stages, secs(25.0)), 100.0);
        assert_eq!(value_at(&stages, secs(35.0)), 50.0);
        assert_eq!(value_at(&stages, secs(40.0)), 0.0);
    }

    #[test]
    fn value_after_the_last_stage_is_its_value() {
        let stages = [stage(10, 40.0)];
        assert_eq!(value_at(&stages, secs(99.0)), 40.0);
        assert_eq!(value_at(&[], secs(1.0)), 0.0);
    }

    #[test]
    fn zero_length_stage_is_a_step() {
        let stages = [stage(0, 200.0), stage(30, 200.0)];
        assert_eq!(value_at(&stages, secs(0.0)), 200.0);
        assert_eq!(value_at(&stages, secs(15.0)), 200.0);
    }

    #[test]
    fn shares_add_up_to_the_total_and_differ_by_at_most_one() {
        for total in [0, 1, 7, 100, 1001, 5000, u64::MAX] {
            for parts in 1..=17 {
                let shares: Vec<u64> = (0..parts).map(|i| share(total, i, parts)).collect();
                let sum: u128 = shares.iter().map(|&s| u128::from(s)).sum();
                assert_eq!(sum, u128::from(total), "total {total} parts {parts}");
                let (min, max) = (shares.iter().min(), shares.iter().max());
                assert!(max.unwrap() - min.unwrap() <= 1);
            }
        }
        assert_eq!(share(10, 0, 0), 0);
        assert_eq!(share(10, 3, 3), 0);
    }

    #[test]
    fn even_arrivals_at_a_constant_rate_are_i_over_r() {
        let stages = [stage(0, 4.0), stage(10, 4.0)];
        let times: Vec<Duration> = Arrivals::new(&stages, Arrival::Even, 0).collect();
        assert_eq!(times.len(), 40);
        for (i, t) in times.iter().enumerate() {
            let expected = (i + 1) as f64 / 4.0;
            assert!(
                (t.as_secs_f64() - expected).abs() < 1e-9,
                "arrival {i} at {t:?}"
            );
        }
    }

    #[test]
    fn even_arrivals_on_a_ramp_follow_the_square_root() {
        // Rate from 0 to R over D: Λ(t) = R·t²/(2D), so t_i = √(2·D·i/R).
        let (rate, length) = (10.0, 20.0);
        let stages = [stage(20, rate)];
        let times: Vec<Duration> = Arrivals::new(&stages, Arrival::Even, 0).collect();
        assert_eq!(times.len(), 100);
        for (i, t) in times.iter().enumerate() {
            let expected = (2.0 * length * (i + 1) as f64 / rate).sqrt();
            assert!(
                (t.as_secs_f64() - expected).abs() < 1e-9,
                "arrival {i} at {t:?}"
            );
        }
    }

    #[test]
    fn even_arrivals_on_a_ramp_down_stay_in_order_and_in_range() {
        let stages = [stage(0, 10.0), stage(10, 10.0), stage(10, 0.0)];
        let times: Vec<Duration> = Arrivals::new(&stages, Arrival::Even, 0).collect();
        assert_eq!(times.len(), 150);
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
        assert!(times.iter().all(|t| *t <= secs(20.0)));
        // Λ(15s) = 100 + (10 + 5)/2·5 = 137.5, so the 137th is just before.
        assert!(times[136] < secs(15.0) && times[137] > secs(15.0));
    }

    #[test]
    fn zero_rate_stages_get_no_arrivals() {
        let stages = [stage(10, 0.0), stage(0, 2.0), stage(5, 2.0)];
        let times: Vec<Duration> = Arrivals::new(&stages, Arrival::Even, 0).collect();
        assert_eq!(times.len(), 10);
        assert!(times.iter().all(|t| *t > secs(10.0)));
    }

    #[test]
    fn expected_arrivals_integrates_the_rate() {
        let stages = [stage(10, 10.0), stage(20, 10.0), stage(10, 0.0)];
        assert!((expected_arrivals(&stages) - 300.0).abs() < 1e-9);
        assert_eq!(expected_arrivals(&[]), 0.0);
    }

    #[test]
    fn poisson_counts_are_near_the_expectation() {
        let stages = [stage(60, 50.0), stage(600, 50.0)];
        let expected = expected_arrivals(&stages);
        let n = Arrivals::new(&stages, Arrival::Poisson, 7).count() as f64;
        // The count is Poisson: standard deviation √expected (about 179).
        assert!(
            (n - expected).abs() < 4.0 * expected.sqrt(),
            "{n} vs {expected}"
        );
    }

    #[test]
    fn poisson_gaps_have_the_exponential_mean() {
        let rate = 20.0;
        let stages = [stage(0, rate), stage(500, rate)];
        let times: Vec<f64> = Arrivals::new(&stages, Arrival::Poisson, 42)
            .map(|t| t.as_secs_f64())
            .collect();
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        // Exponential gaps: standard error of the mean is (1/r)/√n.
        let error = (1.0 / rate) / (gaps.len() as f64).sqrt();
        assert!((mean - 1.0 / rate).abs() < 4.0 * error, "mean gap {mean}");
        assert!(gaps.iter().all(|g| *g >= 0.0));
    }

    #[test]
    fn poisson_schedule_repeats_with_the_same_seed() {
        let stages = [stage(10, 5.0)];
        let a: Vec<Duration> = Arrivals::new(&stages, Arrival::Poisson, 3).collect();
        let b: Vec<Duration> = Arrivals::new(&stages, Arrival::Poisson, 3).collect();
        let c: Vec<Duration> = Arrivals::new(&stages, Arrival::Poisson, 4).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn shards_partition_the_schedule_exactly() {
        let stages = [stage(10, 30.0), stage(10, 5.0)];
        for arrival in [Arrival::Even, Arrival::Poisson] {
            let full: Vec<Duration> = Arrivals::new(&stages, arrival, 9).collect();
            for parts in [1, 2, 3, 7] {
                let mut merged: Vec<Duration> = (0..parts)
                    .flat_map(|i| Arrivals::new(&stages, arrival, 9).shard(i, parts))
                    .collect();
                merged.sort();
                assert_eq!(merged, full, "{arrival:?} in {parts} parts");
            }
        }
    }

    #[test]
    fn shard_index_out_of_range_is_empty() {
        let stages = [stage(10, 3.0)];
        assert_eq!(
            Arrivals::new(&stages, Arrival::Even, 0).shard(2, 2).count(),
            0
        );
        assert_eq!(
            Arrivals::new(&stages, Arrival::Even, 0).shard(0, 0).count(),
            15
        );
    }
}
