//! `chatload compare` on results directories written by the real report
//! writer from constructed runs whose answer is known: two samples of one
//! distribution are no regression, a distribution shifted up is one, and
//! unusable input is exit 2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime};

use chatload::api::Endpoint;
use chatload::exit::{Verdict, is_usage};
use chatload::metrics::{Harvester, Measure, Outcome, RunData, WorkerMetrics};
use chatload::report::compare::{Judgement, Results, Tolerance, compare};
use chatload::report::{RunInfo, summarize, write_results};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SECONDS: u64 = 10;
const PER_SECOND: u64 = 1500;

/// How a constructed run behaves.
#[derive(Clone, Copy)]
struct Shape {
    seed: u64,
    /// Multiplies every latency.
    scale: f64,
    /// One request in this many fails with a 5xx; 0 for none.
    error_every: u64,
}

const BASE: Shape = Shape {
    seed: 1,
    scale: 1.0,
    error_every: 0,
};

/// Ten seconds of send_events and queue_wait samples: 2 ms plus an
/// exponential tail of mean 8 ms, scaled.
fn run(shape: Shape) -> RunData {
    let started_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_320_800);
    let mut rng = StdRng::seed_from_u64(shape.seed);
    let mut harvester = Harvester::new(started_at);
    let mut worker = WorkerMetrics::new();

    for second in 0..SECONDS {
        for i in 0..PER_SECOND {
            let ms = (2.0 + exponential(&mut rng, 8.0)) * shape.scale;
            let outcome = if shape.error_every > 0 && i % shape.error_every == 0 {
                Outcome::Status(503)
            } else {
                Outcome::Status(200)
            };
            record(&mut worker, Endpoint::SendEvents, ms, outcome);
        }
        worker.record_measure(Measure::QueueWait, Duration::from_millis(300));
        harvester.add_interval(second, Duration::from_secs(1), worker.take());
    }
    harvester.finish()
}

fn exponential(rng: &mut StdRng, mean: f64) -> f64 {
    let u: f64 = rng.random();
    -(1.0 - u).ln() * mean
}

fn record(worker: &mut WorkerMetrics, endpoint: Endpoint, ms: f64, outcome: Outcome) {
    let start = Instant::now();
    let done = start + Duration::from_secs_f64(ms / 1000.0);
    worker.record_request(endpoint, start, start, done, outcome);
}

fn info(scenario: &str) -> RunInfo {
    RunInfo {
        scenario: scenario.into(),
        target: "https://127.0.0.1:8443".into(),
        started_at: SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_320_800),
        duration: Duration::from_secs(SECONDS),
        segment: "1/1".into(),
        insecure: false,
        http: "auto".into(),
        connections: "shared".into(),
        scenario_toml: format!("name = \"{scenario}\"\n"),
    }
}

/// Writes a results directory under `root` and returns its path.
fn written(root: &Path, name: &str, scenario: &str, shape: Shape) -> PathBuf {
    let dir = root.join(name);
    let (info, data) = (info(scenario), run(shape));
    write_results(&dir, &info, &data, &summarize(&info, &data)).unwrap();
    dir
}

fn compared(base: &Path, current: &Path) -> chatload::report::compare::Comparison {
    let base = Results::load("base", base).unwrap();
    let current = Results::load("current", current).unwrap();
    compare(&base, &current, &Tolerance::default())
}

fn judgement(c: &chatload::report::compare::Comparison, name: &str, stat: &str) -> Judgement {
    let row = c
        .rows
        .iter()
        .find(|r| r.name == name && r.statistic.name() == stat);
    row.unwrap_or_else(|| panic!("no row {name} {stat}"))
        .judgement
}

fn chatload(args: &[&Path], extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chatload"))
        .arg("compare")
        .args(args)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn two_samples_of_one_distribution_are_no_regression() {
    let root = tempfile::tempdir().unwrap();
    let base = written(root.path(), "a", "bench", BASE);
    let current = written(root.path(), "b", "bench", Shape { seed: 2, ..BASE });

    let comparison = compared(&base, &current);
    assert_eq!(comparison.verdict(), Verdict::Passed, "{comparison:#?}");
    assert!(
        comparison
            .rows
            .iter()
            .all(|r| r.judgement != Judgement::Regression)
    );
    assert_eq!(judgement(&comparison, "queue_wait", "p50"), Judgement::Ok);

    let same = compared(&base, &base);
    assert!(
        same.rows.iter().all(|r| r.judgement == Judgement::Ok),
        "{same:#?}"
    );
}

#[test]
fn a_distribution_shifted_up_regresses_at_every_percentile() {
    let root = tempfile::tempdir().unwrap();
    let base = written(root.path(), "a", "bench", BASE);
    let slow = Shape {
        seed: 2,
        scale: 1.5,
        ..BASE
    };
    let current = written(root.path(), "b", "bench", slow);

    let comparison = compared(&base, &current);
    assert_eq!(comparison.verdict(), Verdict::Failed);
    for stat in ["p50", "p99", "p999"] {
        assert_eq!(
            judgement(&comparison, "send_events", stat),
            Judgement::Regression,
            "{stat}"
        );
    }
    assert_eq!(judgement(&comparison, "send_events", "rate"), Judgement::Ok);
    let change = comparison.rows[0].change.unwrap();
    assert!((change - 0.5).abs() < 0.1, "{change}");
}

#[test]
fn a_shift_inside_the_tolerance_is_no_regression() {
    let root = tempfile::tempdir().unwrap();
    let base = written(root.path(), "a", "bench", BASE);
    let current = written(
        root.path(),
        "b",
        "bench",
        Shape {
            scale: 1.05,
            ..BASE
        },
    );

    let comparison = compared(&base, &current);
    assert_eq!(judgement(&comparison, "send_events", "p50"), Judgement::Ok);
    assert_eq!(comparison.verdict(), Verdict::Passed);
}

#[test]
fn errors_that_appear_are_an_error_rate_regression() {
    let root = tempfile::tempdir().unwrap();
    let base = written(root.path(), "a", "bench", BASE);
    let failing = Shape {
        error_every: 50,
        ..BASE
    };
    let current = written(root.path(), "b", "bench", failing);

    let comparison = compared(&base, &current);
    let row = comparison
        .rows
        .iter()
        .find(|r| r.statistic.name() == "error_rate")
        .unwrap();
    assert_eq!(row.judgement, Judgement::Regression);
    assert!((row.current.unwrap() - 0.02).abs() < 1e-9);
}

#[test]
fn the_binary_exits_zero_one_and_two() {
    let root = tempfile::tempdir().unwrap();
    let base = written(root.path(), "a", "bench", BASE);
    let same = written(root.path(), "b", "bench", Shape { seed: 2, ..BASE });
    let slow = written(root.path(), "c", "bench", Shape { scale: 2.0, ..BASE });
    let other = written(root.path(), "d", "other", BASE);

    let out = chatload(&[&base, &same], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("no regression"));

    let out = chatload(&[&base, &slow], &["--format", "markdown"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.starts_with("### ❌ chatload compare:"), "{md}");
    assert!(md.contains("| ❌ | send_events | p50 |"), "{md}");
    // The regressions come first; the full table is folded away.
    let (head, folded) = md.split_once("<details>").expect("a folded table");
    assert!(head.contains("#### Regressions"), "{md}");
    assert!(!head.contains("| ✅ |"), "{md}");
    assert!(folded.contains("| ✅ | queue_wait |"), "{md}");

    let out = chatload(&[&base, &root.path().join("missing")], &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));

    let out = chatload(&[&base, &other], &["--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    let out = chatload(&[&base, &other], &["--format", "json", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verdict"], "passed");
}

#[test]
fn a_missing_or_broken_latency_log_is_a_usage_error_naming_it() {
    let root = tempfile::tempdir().unwrap();
    let base = written(root.path(), "a", "bench", BASE);
    let broken = written(root.path(), "b", "bench", BASE);

    std::fs::write(broken.join("latency.hlog"), "Tag=x,0.0,1.0,1.0,!!!\n").unwrap();
    let err = Results::load("current", &broken).unwrap_err();
    assert!(is_usage(&err), "{err:#}");
    assert!(format!("{err:#}").contains("latency.hlog"), "{err:#}");

    std::fs::remove_file(base.join("latency.hlog")).unwrap();
    let err = Results::load("base", &base).unwrap_err();
    assert!(
        is_usage(&err) && err.to_string().starts_with("base run:"),
        "{err:#}"
    );
}

/// Latencies of a few microseconds growing a hundredfold to under a
/// millisecond: enormous relative rises, far outside noise, and below the
/// 1 ms floor, so no regression unless `--min-change 0s` drops the floor.
#[test]
fn a_rise_below_the_latency_floor_is_no_regression() {
    let root = tempfile::tempdir().unwrap();
    let tiny = Shape {
        scale: 0.001,
        ..BASE
    };
    let small = Shape {
        seed: 2,
        scale: 0.01,
        ..BASE
    };
    let base = written(root.path(), "a", "bench", tiny);
    let current = written(root.path(), "b", "bench", small);

    let output = chatload(&[&base, &current], &["--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let p99 = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "send_events" && r["statistic"] == "p99")
        .unwrap();
    assert!(p99["change"].as_f64().unwrap() > 5.0, "{p99}");
    assert_eq!(json["tolerance"]["min_change_ms"], 1.0);

    let output = chatload(&[&base, &current], &["--min-change", "0s"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("send_events p99"), "{text}");

    let output = chatload(&[&base, &current], &["--min-change", "soon"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}
