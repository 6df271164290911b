//! Thresholds end to end: parsed from a scenario table and the command
//! line, evaluated on a run written by the real report writer, and read
//! back by `chatload report`, whose exit code is the recorded verdict.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime};

use chatload::api::Endpoint;
use chatload::cli::{Cli, Command as Sub};
use chatload::exit::{Verdict, is_usage};
use chatload::metrics::{Harvester, Outcome, RunData, WorkerMetrics};
use chatload::report::thresholds::{evaluate, parse_all, verdict};
use chatload::report::{RunInfo, Summary, summarize, write_results};
use clap::Parser;

/// Two seconds of request chats taking 1 to 100 ms, one in ten a 503.
fn run() -> (RunInfo, RunData) {
    let started_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_320_800);
    let mut harvester = Harvester::new(started_at);
    let mut worker = WorkerMetrics::new();
    for second in 0..2 {
        for ms in 1..=100u64 {
            let start = Instant::now();
            let done = start + Duration::from_millis(ms);
            let outcome = Outcome::Status(if ms % 10 == 0 { 503 } else { 200 });
            worker.record_request(Endpoint::RequestChat, start, start, done, outcome);
        }
        harvester.add_interval(second, Duration::from_secs(1), worker.take());
    }
    let info = RunInfo {
        scenario: "thresholds".into(),
        target: "https://127.0.0.1:8443".into(),
        started_at,
        duration: Duration::from_secs(2),
        segment: "1/1".into(),
        insecure: false,
        http: "auto".into(),
        connections: "shared".into(),
        scenario_toml: "name = \"thresholds\"\n".into(),
    };
    (info, harvester.finish())
}

/// The summary of [`run`] with `cli` thresholds evaluated on it.
fn judged(file: &[(&str, &str)], cli: &[&str]) -> Summary {
    let file: Vec<(String, String)> = file
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let cli: Vec<String> = cli.iter().map(|t| t.to_string()).collect();
    let thresholds = parse_all(&file, &cli).unwrap();

    let (info, data) = run();
    let mut summary = summarize(&info, &data);
    summary.thresholds = evaluate(&thresholds, &summary);
    summary
}

fn written(root: &Path, summary: &Summary) -> PathBuf {
    let (info, data) = run();
    let dir = root.join("run");
    write_results(&dir, &info, &data, summary).unwrap();
    dir
}

fn report(dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chatload"))
        .arg("report")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn scenario_and_command_line_thresholds_are_judged_on_the_final_figures() {
    let summary = judged(
        &[("request_chat.p99", "< 200ms"), ("errors.rate", "< 5%")],
        &["request_chat.p50 < 30ms", "history.p99 < 1s"],
    );
    let verdicts: Vec<(&str, bool)> = summary
        .thresholds
        .iter()
        .map(|r| (r.name.as_str(), r.passed))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("request_chat.p99 < 200ms", true),
            ("errors.rate < 5%", false),
            ("request_chat.p50 < 30ms", false),
            ("history.p99 < 1s", false),
        ]
    );
    let errors = &summary.thresholds[1];
    assert_eq!(errors.observed, Some(10.0));
    assert_eq!(summary.thresholds[3].observed, None);
    assert_eq!(verdict(&summary.thresholds), Verdict::Failed);
}

#[test]
fn summary_json_keeps_the_documented_threshold_shape() {
    let root = tempfile::tempdir().unwrap();
    let summary = judged(&[("request_chat.p99", "< 200ms")], &["history.p99 < 1s"]);
    let dir = written(root.path(), &summary);

    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let first = &json["thresholds"][0];
    assert_eq!(first["name"], "request_chat.p99 < 200ms");
    assert_eq!(first["passed"], true);
    assert!(
        (first["observed"].as_f64().unwrap() - 99.0).abs() < 0.2,
        "{first}"
    );
    assert!(first.get("note").is_none());
    assert_eq!(first["unit"], "ms");
    let never = &json["thresholds"][1];
    assert!(never["observed"].is_null(), "{never}");
    assert_eq!(never["unit"], "s");
    assert!(never["note"].as_str().unwrap().contains("never called"));
}

#[test]
fn report_reprints_the_table_and_verdicts_with_the_stored_exit_code() {
    let root = tempfile::tempdir().unwrap();
    let held = judged(&[], &["request_chat.p99 < 200ms"]);
    let dir = written(root.path(), &held);

    let out = report(&dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("request_chat")),
        "{text}"
    );
    assert!(
        text.contains("pass  request_chat.p99 < 200ms  observed"),
        "{text}"
    );

    let failed = judged(&[], &["errors.rate < 1%"]);
    let other = tempfile::tempdir().unwrap();
    let dir = written(other.path(), &failed);
    let out = report(&dir, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["thresholds"][0]["passed"], false);
}

#[test]
fn report_on_a_missing_directory_exits_two_naming_it() {
    let root = tempfile::tempdir().unwrap();
    let out = report(&root.path().join("nowhere"), &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere"));
}

#[test]
fn a_misspelt_threshold_is_refused_before_the_run() {
    let file = [("request_chat.p98".to_owned(), "< 800ms".to_owned())];
    let err = parse_all(&file, &[]).unwrap_err();
    assert!(is_usage(&err));
    assert_eq!(
        err.to_string(),
        "threshold \"request_chat.p98\": unknown statistic \"p98\"; did you mean \"p99\"? \
         (valid: p50, p90, p95, p99, p999, min, max, mean, rate, error_rate, count, errors)"
    );
}

#[test]
fn run_takes_repeated_thresholds_and_an_abort_delay() {
    let cli = Cli::try_parse_from([
        "chatload",
        "run",
        "--threshold",
        "send_events.p99 < 300ms",
        "--threshold",
        "errors.rate < 1%",
        "--abort-on-fail",
        "10m",
    ])
    .unwrap();
    let Sub::Run(args) = cli.command else {
        panic!("not a run");
    };
    assert_eq!(args.thresholds.len(), 2);
    assert_eq!(args.abort_on_fail.as_deref(), Some("10m"));
    assert_eq!(parse_all(&[], &args.thresholds).unwrap().len(), 2);
}

#[test]
fn every_shipped_scenario_has_valid_thresholds() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let scenario = chatload::scenario::parse(&text, "shipped").unwrap();
            let parsed = parse_all(&scenario.thresholds, &[]);
            assert!(
                parsed.is_ok(),
                "{}: {:#}",
                path.display(),
                parsed.unwrap_err()
            );
        }
    }
}

/// A 30 s plan that fails its threshold from the first request: with
/// `--abort-on-fail 1s` it ends within seconds, exits 1, and its results
/// say that it was aborted, when and on which thresholds.
#[test]
fn an_aborted_run_stops_early_and_records_why() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("abort.toml");
    std::fs::write(
        &scenario,
        r#"
name = "it-abort"
[load]
model = "closed"
stages = [{ duration = "0s", clients = 2 }, { duration = "30s", clients = 2 }]
pause = "100ms"
grace = "1s"
[conversation]
probe = "availability"
"#,
    )
    .unwrap();
    let out = tmp.path().join("run");
    let output = Command::new(env!("CARGO_BIN_EXE_chatload"))
        .arg("run")
        .arg(&scenario)
        .args(["--quiet", "--abort-on-fail", "1s"])
        .args(["--threshold", "availability.count < 1"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("ABORTED"), "{table}");

    let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    let summary: Summary = serde_json::from_str(&text).unwrap();
    assert!(summary.duration_s < 20.0, "ran {} s", summary.duration_s);
    let aborted = summary.aborted.as_ref().expect("the abort is recorded");
    assert!(aborted.after_s >= 1.0, "{aborted:?}");
    assert_eq!(aborted.thresholds, ["availability.count < 1"]);
    assert!(summary.warnings[0].contains("aborted by --abort-on-fail"));

    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("<p class=\"banner\">aborted by --abort-on-fail"));
    assert!(page.contains("duration (aborted)"));
}

#[test]
fn a_summary_without_an_abort_record_still_reads() {
    let (info, data) = run();
    let mut json = serde_json::to_value(summarize(&info, &data)).unwrap();
    assert!(json.get("aborted").is_none(), "absent unless aborted");
    json.as_object_mut().unwrap().remove("aborted");
    let summary: Summary = serde_json::from_value(json).unwrap();
    assert!(summary.aborted.is_none());
}
