//! The results directory written to disk and read back: summary.json,
//! latency.hlog through the reader, timeline.csv, and the refusal to
//! overwrite an earlier run.

use std::collections::BTreeMap;
use std::fs;
use std::time::{Duration, Instant, SystemTime};

use chatload::api::Endpoint;
use chatload::metrics::hlog::service_tag;
use chatload::metrics::{ErrorKind, Harvester, Measure, Outcome, RunData, Snapshot, WorkerMetrics};
use chatload::report::{RunInfo, default_dir, read_hlog, summarize, write_results};
use hdrhistogram::Histogram;

const MS: Duration = Duration::from_millis(1);

/// Tag and second → the histogram fed to the harvester.
type Written = BTreeMap<(String, u64), Histogram<u64>>;

/// Three seconds of two workers, keeping a copy of every histogram that
/// should land in the log.
fn run() -> (RunInfo, RunData, Written) {
    let started_at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_320_800_123);
    let mut harvester = Harvester::new(started_at);
    let mut workers = [WorkerMetrics::new(), WorkerMetrics::new()];
    let mut written = Written::new();

    for second in 0..3u64 {
        let mut merged = Snapshot::default();
        for (n, worker) in workers.iter_mut().enumerate() {
            record_second(worker, second, n as u64);
            merged.merge(&worker.take());
        }
        remember(&mut written, second, &merged);
        harvester.add_interval(second, Duration::from_secs(1), merged);
    }

    (info(started_at), harvester.finish(), written)
}

fn record_second(worker: &mut WorkerMetrics, second: u64, worker_no: u64) {
    let start = Instant::now();
    for i in 0..(10 + second * 5 + worker_no) {
        let sent = start + MS * (i % 3) as u32;
        let done = sent + MS * (5 + i * 7) as u32;
        worker.record_request(
            Endpoint::SendEvents,
            start,
            sent,
            done,
            Outcome::Status(200),
        );
    }
    if second == 1 {
        let done = start + Duration::from_secs(10);
        let outcome = Outcome::Error(ErrorKind::Timeout);
        worker.record_request(Endpoint::PollEvents, start, start, done, outcome);
        worker.record_measure(Measure::AgentReply, MS * (400 + worker_no as u32));
    }
    worker.set_active(5, 4);
}

fn remember(written: &mut Written, second: u64, merged: &Snapshot) {
    for (endpoint, stats) in merged.called() {
        let response = stats.response.histogram().unwrap().clone();
        written.insert((endpoint.name().to_owned(), second), response);
        let service = stats.service.histogram().unwrap().clone();
        written.insert((service_tag(endpoint), second), service);
    }
    for measure in Measure::ALL {
        if let Some(h) = merged
            .measure(measure)
            .histogram()
            .filter(|h| !h.is_empty())
        {
            written.insert((measure.name().to_owned(), second), h.clone());
        }
    }
}

fn info(started_at: SystemTime) -> RunInfo {
    RunInfo {
        scenario: "quickstart".into(),
        target: "https://127.0.0.1:8443".into(),
        started_at,
        duration: Duration::from_secs(3),
        segment: "1/1".into(),
        insecure: false,
        http: "auto".into(),
        connections: "shared".into(),
        scenario_toml: "name = \"quickstart\"\n[load]\nmodel = \"closed\"\n".into(),
    }
}

#[test]
fn results_directory_reads_back_whole() {
    let root = tempfile::tempdir().unwrap();
    let (info, data, _) = run();
    let dir = default_dir(root.path(), info.started_at, &info.scenario);
    write_results(&dir, &info, &data, &summarize(&info, &data)).unwrap();

    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "latency.hlog",
            "scenario.toml",
            "summary.json",
            "timeline.csv"
        ]
    );
    assert_eq!(
        fs::read_to_string(dir.join("scenario.toml")).unwrap(),
        info.scenario_toml
    );
    assert!(
        dir.ends_with("20261203T180000Z-quickstart"),
        "{}",
        dir.display()
    );
}

#[test]
fn summary_json_on_disk_has_the_documented_keys() {
    let root = tempfile::tempdir().unwrap();
    let (info, data, _) = run();
    let dir = root.path().join("run");
    write_results(&dir, &info, &data, &summarize(&info, &data)).unwrap();

    let text = fs::read_to_string(dir.join("summary.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in [
        "schema",
        "scenario",
        "target",
        "started_at",
        "duration_s",
        "segment",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(json["schema"], 1);
    assert_eq!(json["clients"]["peak_active"], 10);
    assert_eq!(json["endpoints"]["send_events"]["count"], 93);
    assert_eq!(json["endpoints"]["poll_events"]["errors"], 2);
    assert_eq!(json["errors"]["timeout"], 2);
    assert_eq!(json["measures"]["agent_reply"]["count"], 2);
    assert!(json["endpoints"]["send_events"]["service_time_ms"]["p99"].is_f64());
}

#[test]
fn latency_log_reads_back_the_histograms_written() {
    let root = tempfile::tempdir().unwrap();
    let (info, data, written) = run();
    let dir = root.path().join("run");
    write_results(&dir, &info, &data, &summarize(&info, &data)).unwrap();

    let read = read_hlog(&dir.join("latency.hlog")).unwrap();
    let base = info.started_at;
    let mut seen = Written::new();
    for interval in read {
        let second = interval.start.duration_since(base).unwrap().as_secs();
        assert_eq!(interval.duration, Duration::from_secs(1));
        seen.insert((interval.tag, second), interval.histogram);
    }

    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        written.keys().collect::<Vec<_>>()
    );
    for (key, histogram) in &written {
        assert_eq!(&seen[key], histogram, "{key:?}");
    }
    assert!(seen.contains_key(&("poll_events.service".to_owned(), 1)));
    assert!(
        !seen.contains_key(&("poll_events".to_owned(), 0)),
        "empty intervals are left out"
    );
}

#[test]
fn timeline_has_a_row_per_second() {
    let root = tempfile::tempdir().unwrap();
    let (info, data, _) = run();
    let dir = root.path().join("run");
    write_results(&dir, &info, &data, &summarize(&info, &data)).unwrap();

    let csv = fs::read_to_string(dir.join("timeline.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        rows[0][..5],
        [
            "t_s",
            "active_clients",
            "active_chats",
            "requests",
            "errors"
        ]
    );
    assert_eq!(
        rows[0][5..],
        ["send_events_p50_ms", "send_events_p99_ms"]
            .into_iter()
            .chain(["poll_events_p50_ms", "poll_events_p99_ms"])
            .collect::<Vec<_>>()
    );
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[1][..5], ["0", "10", "8", "21", "0"]);
    assert_eq!(rows[2][..5], ["1", "10", "8", "33", "2"]);
    assert_eq!(rows[1][7..], ["", ""]);
    assert!(rows[2][8].parse::<f64>().unwrap() >= 10_000.0);
}

#[test]
fn an_earlier_run_is_never_overwritten() {
    let root = tempfile::tempdir().unwrap();
    let (info, data, _) = run();
    let summary = summarize(&info, &data);
    let dir = root.path().join("run");
    write_results(&dir, &info, &data, &summary).unwrap();
    let before = fs::read(dir.join("summary.json")).unwrap();

    let err = write_results(&dir, &info, &data, &summary).unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains(&dir.display().to_string()), "{message}");
    assert!(message.contains("already exists"), "{message}");
    assert_eq!(fs::read(dir.join("summary.json")).unwrap(), before);
}

#[test]
fn a_run_claims_its_directory_once() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("results").join("same-second");
    chatload::report::claim_results_dir(&dir).unwrap();
    let err = chatload::report::claim_results_dir(&dir).unwrap_err();
    assert!(chatload::exit::is_usage(&err), "{err:#}");
    assert!(err.to_string().contains("another run"), "{err:#}");
}

#[test]
fn an_empty_directory_made_in_advance_is_used() {
    let root = tempfile::tempdir().unwrap();
    let (info, data, _) = run();
    let dir = root.path().join("prepared");
    chatload::report::create_results_dir(&dir).unwrap();

    write_results(&dir, &info, &data, &summarize(&info, &data)).unwrap();
    assert!(dir.join("summary.json").is_file());
    let leftovers = fs::read_dir(&dir).unwrap().filter(|e| {
        e.as_ref()
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")
    });
    assert_eq!(leftovers.count(), 0);
}
