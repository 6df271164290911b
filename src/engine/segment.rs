//! Runs that outgrow one machine: one process runs a [`Segment`] of the
//! plan, and every shard starts its schedule at one shared wall-clock
//! instant (`--start-at`).
//!
//! Shares are arithmetic, as between the workers of one process: the
//! closed model's clients are split first among the shards and then among
//! a shard's workers with [`profile::share`], so shards add up to the whole
//! exactly; the open model's arrival schedule is drawn once from a seed
//! every shard derives alike, and shard `k` of `n` keeps every `n`-th
//! arrival from the `k`-th on. A shard that starts after the shared instant
//! joins the schedule where it stands rather than replaying it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::profile::{self, Arrivals};
use crate::exit::usage;
use crate::report::Summary;
use crate::report::summary::utc_millis;
use crate::scenario::{Arrival, Scenario, Segment, Stage};

/// Lateness below this is clock noise, not worth a warning.
const ON_TIME: Duration = Duration::from_millis(50);

/// Largest seed a scenario file can hold: TOML integers are signed.
const SEED_MASK: u64 = i64::MAX as u64;

/// Reads `--start-at`: RFC 3339 in UTC (`2026-12-03T18:00:00Z`, fractions
/// allowed) or Unix seconds (`1796320800`, fractions allowed).
pub fn parse_start_at(text: &str) -> anyhow::Result<SystemTime> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        if seconds.is_finite() && seconds >= 0.0 {
            return Ok(UNIX_EPOCH + Duration::from_secs_f64(seconds));
        }
    }
    humantime::parse_rfc3339_weak(text).map_err(|err| {
        usage(format!(
            "--start-at {text}: {err}; give RFC 3339 in UTC such as 2026-12-03T18:00:00Z, \
             or Unix seconds such as 1796320800"
        ))
    })
}

/// When this process's plan starts.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    /// The plan's time zero on this machine's monotonic clock; in the past
    /// when the shard is late.
    pub instant: Instant,
    /// The same instant on the wall clock: the start every shard shares.
    pub wall: SystemTime,
    /// How far behind the shared start this process began; zero when it
    /// began on time or had no shared start.
    pub late: Duration,
}

impl Start {
    /// The start of a run with no shared instant: now.
    pub fn now() -> Start {
        Start {
            instant: Instant::now(),
            wall: SystemTime::now(),
            late: Duration::ZERO,
        }
    }

    /// The start at the shared instant `at`, for a plan lasting `planned`.
    /// A start already past is accepted while the plan still runs; one past
    /// the plan's end is a usage error, since nothing would be left to do.
    pub fn at(at: SystemTime, planned: Duration) -> anyhow::Result<Start> {
        let (now, wall_now) = (Instant::now(), SystemTime::now());
        if let Ok(ahead) = at.duration_since(wall_now) {
            return Ok(Start {
                instant: now + ahead,
                wall: at,
                late: Duration::ZERO,
            });
        }

        let late = wall_now.duration_since(at).unwrap_or_default();
        let stamp = humantime::format_rfc3339_seconds(at);
        if late >= planned {
            return Err(usage(format!(
                "--start-at {stamp} is {} ago, after the whole {} plan; give a later start",
                humantime::format_duration(round_ms(late)),
                humantime::format_duration(planned)
            )));
        }
        let instant = now.checked_sub(late).ok_or_else(|| {
            usage(format!(
                "--start-at {stamp} lies before this machine's clock began; give a later start"
            ))
        })?;
        Ok(Start {
            instant,
            wall: at,
            late,
        })
    }

    /// Waits until `lead` before the start, when the warm-up begins; at
    /// once if that is past.
    pub async fn wait_for_lead(&self, lead: Duration) {
        let at = self.instant.checked_sub(lead).unwrap_or(self.instant);
        tokio::time::sleep_until(at).await;
    }

    /// The same start once the workers are ready, with its lateness
    /// measured again: a warm-up may have run past the shared instant.
    /// Says how late this shard is when it is.
    pub fn settled(self) -> Start {
        let late = Instant::now().saturating_duration_since(self.instant);
        if late > ON_TIME {
            tracing::warn!(
                late = %humantime::format_duration(round_ms(late)),
                "this shard starts after the shared start; it joins the schedule where it \
                 stands and counts the open model's missed arrivals as dropped (chats.missed)"
            );
        }
        Start { late, ..self }
    }
}

/// What a shard adds to its summary: the seed its schedule came from and,
/// when it started late, when it really started.
#[derive(Debug, Clone, Copy)]
pub struct ShardRecord {
    /// The schedule seed, the same on every shard of one run.
    pub seed: u64,
    /// The start, planned and real.
    pub start: Start,
}

impl ShardRecord {
    /// Writes the seed and any late start into `summary`.
    pub fn annotate(&self, summary: &mut Summary) {
        summary.seed = Some(self.seed);
        if self.start.late <= ON_TIME {
            return;
        }
        let actual = self.start.wall + self.start.late;
        summary.actual_start = Some(utc_millis(actual));
        summary.warnings.push(format!(
            "this shard started {} after the shared start; the open model's arrivals it \
             missed are among the dropped chats (chats.missed); give --start-at more lead time",
            humantime::format_duration(round_ms(self.start.late))
        ));
    }
}

/// The seed of the run's schedule: the scenario's `seed` when it has one,
/// otherwise a hash of the resolved scenario and the shared start, which
/// every shard computes alike from the same file and flags.
pub fn schedule_seed(scenario: &Scenario, start_at: Option<SystemTime>) -> u64 {
    if let Some(seed) = scenario.load.seed {
        return seed;
    }
    // Thresholds judge the run but do not shape it; leaving them out keeps
    // shards given different --threshold flags on one schedule.
    let mut shaping = scenario.clone();
    shaping.thresholds.clear();
    let start_ms = start_at
        .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis());
    derive_seed(&shaping.to_toml(), start_ms)
}

/// The hash behind [`schedule_seed`], of the scenario's TOML and the start
/// in Unix milliseconds.
fn derive_seed(scenario_toml: &str, start_ms: Option<u128>) -> u64 {
    let mut hash = Fnv1a::new();
    hash.write(scenario_toml.as_bytes());
    // 0xff never occurs in UTF-8, so no scenario text can pass for
    // another's text followed by a start.
    hash.write(&[0xff]);
    if let Some(ms) = start_ms {
        hash.write(&ms.to_le_bytes());
    }
    hash.finish() & SEED_MASK
}

/// The seed of one worker's own draws (think times, message counts), kept
/// apart from the schedule seed so that shards do not draw alike.
pub fn worker_seed(seed: u64, segment: Segment, worker: usize) -> u64 {
    let mut hash = Fnv1a::new();
    hash.write(&seed.to_le_bytes());
    hash.write(&segment.index().to_le_bytes());
    hash.write(&(worker as u64).to_le_bytes());
    hash.finish()
}

/// 64-bit FNV-1a, spelled out rather than std's `DefaultHasher`, whose
/// algorithm may change between Rust releases: shards built with different
/// toolchains must still draw one schedule.
struct Fnv1a(u64);

impl Fnv1a {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Fnv1a {
        Fnv1a(Self::OFFSET)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(Self::PRIME);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A worker's part of a whole-run `total` (clients, connections, a client
/// cap): the shard's share first, then the worker's share of that.
pub fn split(total: u64, segment: Segment, worker: usize, workers: usize) -> u64 {
    let shard = profile::share(total, segment.index(), segment.count());
    profile::share(shard, worker as u64, workers as u64)
}

/// A worker's arrival offsets: the shard's share of the whole schedule,
/// then every `workers`-th of those from the `worker`-th on.
pub fn arrivals(
    stages: &[Stage],
    arrival: Arrival,
    seed: u64,
    segment: Segment,
    (worker, workers): (usize, usize),
) -> impl Iterator<Item = Duration> {
    Arrivals::new(stages, arrival, seed)
        .shard(segment.index(), segment.count())
        .skip(worker)
        .step_by(workers.max(1))
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the scenario in the pinning test hashes to. A change here
    /// changes every derived schedule: shards of old and new builds would
    /// no longer partition one run.
    const PINNED_SEED: u64 = 2_255_867_793_306_097_771;
    const PINNED_WORKER_SEED: u64 = 2_225_846_777_028_077_537;

    fn stage(seconds: u64, target: f64) -> Stage {
        Stage {
            duration: Duration::from_secs(seconds),
            target,
        }
    }

    fn segment(k: u64, n: u64) -> Segment {
        Segment::new(k, n).unwrap()
    }

    #[test]
    fn start_at_reads_unix_seconds_and_rfc_3339() {
        let at = UNIX_EPOCH + Duration::from_secs(1_796_320_800);
        assert_eq!(parse_start_at("1796320800").unwrap(), at);
        assert_eq!(parse_start_at("2026-12-03T18:00:00Z").unwrap(), at);
        let half = parse_start_at("1796320800.5").unwrap();
        assert_eq!(half, at + Duration::from_millis(500));

        let err = parse_start_at("tomorrow").unwrap_err();
        assert!(crate::exit::is_usage(&err));
        assert!(err.to_string().starts_with("--start-at tomorrow"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_future_start_is_waited_for_up_to_the_warm_up_lead() {
        let at = SystemTime::now() + Duration::from_secs(5);
        let start = Start::at(at, Duration::from_secs(60)).unwrap();
        assert_eq!(start.late, Duration::ZERO);
        assert_eq!(start.wall, at);

        let before = Instant::now();
        start.wait_for_lead(Duration::from_secs(2)).await;
        let waited = before.elapsed();
        assert!(waited >= Duration::from_millis(2900), "{waited:?}");
        assert!(waited < Duration::from_millis(3100), "{waited:?}");
        assert_eq!(start.settled().late, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_warm_up_that_ends_after_the_shared_start_makes_the_shard_late() {
        let at = SystemTime::now() + Duration::from_secs(1);
        let start = Start::at(at, Duration::from_secs(60)).unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let late = start.settled().late;
        assert!(late >= Duration::from_millis(1900), "{late:?}");
        assert!(late < Duration::from_millis(2100), "{late:?}");
    }

    #[test]
    fn a_past_start_is_late_and_one_past_the_plan_is_refused() {
        let at = SystemTime::now() - Duration::from_secs(3);
        let start = Start::at(at, Duration::from_secs(60)).unwrap();
        assert!(start.late >= Duration::from_secs(3), "{:?}", start.late);
        assert!(start.instant <= Instant::now() - Duration::from_secs(3));

        let err = Start::at(at, Duration::from_secs(2)).unwrap_err();
        assert!(crate::exit::is_usage(&err));
        assert!(err.to_string().contains("after the whole 2s plan"), "{err}");
    }

    #[test]
    fn closed_shares_add_up_over_shards_and_workers() {
        for total in [0, 1, 9, 10, 101] {
            for shards in 1..=4 {
                let mut sum = 0;
                for k in 0..shards {
                    sum += (0..3)
                        .map(|w| split(total, segment(k, shards), w, 3))
                        .sum::<u64>();
                }
                assert_eq!(sum, total, "{total} over {shards} shards");
            }
        }
    }

    #[test]
    fn shard_and_worker_arrivals_partition_the_schedule() {
        let stages = [stage(5, 20.0), stage(5, 3.0)];
        for arrival in [Arrival::Even, Arrival::Poisson] {
            let whole: Vec<Duration> = Arrivals::new(&stages, arrival, 11).collect();
            let mut parts: Vec<Duration> = (0..3)
                .flat_map(|k| (0..2).map(move |w| (k, w)))
                .flat_map(|(k, w)| arrivals(&stages, arrival, 11, segment(k, 3), (w, 2)))
                .collect();
            parts.sort();
            assert_eq!(parts, whole, "{arrival:?}");
        }
    }

    #[test]
    fn the_derived_seed_is_shared_by_shards_and_changes_with_the_start() {
        let mut scenario = crate::scenario::parse(crate::scenario::QUICKSTART, "q").unwrap();
        let at = Some(UNIX_EPOCH + Duration::from_secs(100));
        let first = schedule_seed(&scenario, at);
        scenario.load.segment = segment(2, 3);
        assert_eq!(schedule_seed(&scenario, at), first);
        assert_ne!(schedule_seed(&scenario, None), first);
        assert!(first <= SEED_MASK);

        scenario.thresholds = vec![("errors.rate".into(), "< 1%".into())];
        assert_eq!(
            schedule_seed(&scenario, at),
            first,
            "thresholds shape nothing"
        );

        scenario.load.seed = Some(7);
        assert_eq!(schedule_seed(&scenario, at), 7);
        assert_ne!(
            worker_seed(7, segment(0, 3), 0),
            worker_seed(7, segment(1, 3), 0)
        );
    }

    #[test]
    fn fnv_1a_gives_the_published_values() {
        let hash = |text: &str| {
            let mut hash = Fnv1a::new();
            hash.write(text.as_bytes());
            hash.finish()
        };
        assert_eq!(hash(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn the_derived_seed_is_pinned_across_toolchains() {
        // The hash alone: to_toml's text changes with the defaults.
        let text = "name = \"pinned\"\n";
        assert_eq!(derive_seed(text, Some(1_796_320_800_000)), PINNED_SEED);
        assert_ne!(derive_seed(text, None), PINNED_SEED);
        assert_eq!(worker_seed(7, segment(1, 3), 2), PINNED_WORKER_SEED);
    }
}
