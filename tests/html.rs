//! report.html rendered from results directories: one recorded from a
//! real quickstart run against the embedded mock (tests/data), and one
//! written here the way a run writes it. Checked for structure and
//! self-containment and, where Chromium is installed, in a real browser.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use chatload::api::Endpoint;
use chatload::metrics::{ErrorKind, Harvester, Measure, Outcome, RunData, WorkerMetrics};
use chatload::report::html::{self, REPORT_FILE};
use chatload::report::summary::ThresholdResult;
use chatload::report::{RunInfo, Summary, read_hlog, summarize, write_results};

const MS: Duration = Duration::from_millis(1);
const SECONDS: u64 = 30;
const CHROMIUM: &str = "/usr/bin/chromium";

/// The results of `chatload run scenarios/quickstart.toml --duration 8s`.
const RECORDED_RUN: &str = "tests/data/quickstart-run";

/// The endpoints the quickstart scenario calls.
const QUICKSTART: [Endpoint; 8] = [
    Endpoint::Version,
    Endpoint::Availability,
    Endpoint::Parameters,
    Endpoint::RequestChat,
    Endpoint::SendEvents,
    Endpoint::PollEvents,
    Endpoint::UploadFile,
    Endpoint::History,
];

/// A cheap deterministic spread of values, so the charts have shape.
fn wobble(n: u64, spread: u64) -> u64 {
    n.wrapping_mul(2_654_435_761) % spread.max(1)
}

/// A quickstart-shaped run: a 5 s ramp to 200 clients, then a hold, with
/// every chat step, a few 503s and timeouts, and the chat measures.
fn quickstart_run() -> (RunInfo, RunData) {
    let started_at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_320_800_250);
    let mut harvester = Harvester::new(started_at);
    let mut worker = WorkerMetrics::new();

    for second in 0..SECONDS {
        let clients = (second * 40).min(200);
        record_second(&mut worker, second, clients);
        harvester.add_interval(second, Duration::from_secs(1), worker.take());
    }
    (info(started_at), harvester.finish())
}

fn record_second(worker: &mut WorkerMetrics, second: u64, clients: u64) {
    let now = Instant::now();
    for n in 0..clients {
        let endpoint = QUICKSTART[(n % QUICKSTART.len() as u64) as usize];
        let service = match endpoint {
            Endpoint::PollEvents => 200 + wobble(n + second, 4800),
            Endpoint::UploadFile => 20 + wobble(n, 30),
            _ => 2 + wobble(n * 7 + second, 12),
        };
        let lag = if second > 20 { wobble(n, 40) } else { 0 };
        let outcome = match n % 89 {
            13 => Outcome::Status(503),
            30 => Outcome::Status(404),
            45 if endpoint == Endpoint::PollEvents => Outcome::Error(ErrorKind::Timeout),
            _ => Outcome::Status(200),
        };
        let sent = now + MS * lag as u32;
        worker.record_request(endpoint, now, sent, sent + MS * service as u32, outcome);
    }
    record_chats(worker, second, clients);
}

fn record_chats(worker: &mut WorkerMetrics, second: u64, clients: u64) {
    for n in 0..clients / 10 {
        worker.client_started();
        worker.chat_started();
        worker.record_measure(
            Measure::QueueWait,
            MS * (50 + wobble(n + second, 400)) as u32,
        );
        worker.record_measure(Measure::AgentReply, MS * (100 + wobble(n, 200)) as u32);
        worker.record_measure(Measure::PoolWait, MS * wobble(n, 3) as u32);
        if second > 5 {
            worker.chat_completed();
            let length = Duration::from_secs(8 + wobble(n, 6));
            worker.record_measure(Measure::ChatDuration, length);
        }
    }
    worker.set_active(clients, clients * 9 / 10);
}

fn info(started_at: SystemTime) -> RunInfo {
    RunInfo {
        scenario: "quickstart".into(),
        target: "https://127.0.0.1:40123".into(),
        started_at,
        duration: Duration::from_secs(SECONDS),
        segment: "1/1".into(),
        insecure: false,
        http: "auto".into(),
        connections: "shared, max 2000".into(),
        scenario_toml: "name = \"quickstart\"\n\n[load]\nmodel = \"closed\"\n".into(),
    }
}

/// Writes the run's results as a run would, thresholds included.
fn write_quickstart(dir: &Path) -> Summary {
    let (info, data) = quickstart_run();
    let mut summary = summarize(&info, &data);
    summary.thresholds = vec![
        ThresholdResult {
            name: "request_chat.p99 < 500ms".into(),
            passed: true,
            observed: Some(13.0),
            unit: "ms".into(),
            note: None,
        },
        ThresholdResult {
            name: "errors.rate < 1%".into(),
            passed: false,
            observed: Some(1.03),
            unit: "%".into(),
            note: None,
        },
    ];
    write_results(dir, &info, &data, &summary).expect("results written");
    summary
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn the_report_of_a_quickstart_run_is_one_self_contained_page() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let summary = write_quickstart(&dir);

    let path = html::write_report(&dir).expect("report rendered");
    assert_eq!(path, dir.join(REPORT_FILE));
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp") || name.ends_with(".html") && name != REPORT_FILE)
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let page = fs::read_to_string(&path).unwrap();
    assert_eq!(summary.endpoints.len(), QUICKSTART.len());
    assert_structure(&page, &summary);
    assert!(!page.contains("no data recorded"), "every chart has data");
    assert!(
        page.contains("errors.rate &lt; 1%"),
        "thresholds are listed, escaped"
    );
    assert!(page.contains("FAILED") && page.contains("passed"));
    assert!(
        page.contains("<td>13 ms</td>"),
        "observed values carry units"
    );
    assert!(
        page.contains("<td>1.03 %</td>"),
        "observed values carry units"
    );
    assert_eq!(
        count(&page, "<h2>Thresholds</h2>"),
        1,
        "the thresholds appear once, near the top"
    );
    assert!(
        page.contains("[load]\nmodel = &quot;closed&quot;"),
        "scenario.toml is shown"
    );
    assert!(page.contains("shared, max 2000"));
    // Response time is drawn wider under service time, so that where the
    // two are equal the red line still shows around the blue.
    assert!(page.contains("stroke=\"#C42C34\" stroke-width=\"5\""));

    screenshot_if_possible(&path);
}

/// A whole page, with nothing fetched from elsewhere, a chart for each
/// endpoint and measure and a table row for each.
fn assert_structure(page: &str, summary: &Summary) {
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    assert_no_external_resources(page);

    // Two load charts, then a percentile and a spectrum chart for each
    // endpoint and each measure with samples.
    let charts = 2 + 2 * summary.endpoints.len() + 2 * summary.measures.len();
    assert_eq!(count(page, "<svg"), charts, "one <svg> per chart");
    assert_eq!(count(page, "<figure>"), charts, "every chart is a figure");

    for name in summary.endpoints.keys().chain(summary.measures.keys()) {
        assert!(
            page.contains(&format!("<tr><td>{name}</td>")),
            "{name} has a table row"
        );
        assert!(
            page.contains(&format!("<h3>{name}</h3>")),
            "{name} has charts"
        );
    }
}

#[test]
fn the_report_of_a_recorded_quickstart_run_renders_and_reads_in_a_browser() {
    let tmp = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(RECORDED_RUN).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
    }
    let text = fs::read_to_string(tmp.path().join("summary.json")).unwrap();
    let summary: Summary = serde_json::from_str(&text).unwrap();
    assert!(
        summary.endpoints.contains_key("poll_events"),
        "a chat run was recorded"
    );

    let path = html::write_report(tmp.path()).expect("report rendered");
    let page = fs::read_to_string(&path).unwrap();
    assert_structure(&page, &summary);
    assert!(!page.contains("no data recorded"), "every chart has data");
    assert!(page.contains("request_chat.p99 &lt; 500ms"));
    // Recorded before units were: the unit is read from the limit.
    assert!(page.contains("<td>16.383 ms</td>"), "units for old files");
    assert!(page.contains("<td>0 %</td>"), "units for old files");
    assert!(page.contains("[load]"), "scenario.toml is shown");

    screenshot_if_possible(&path);
}

/// Nothing that a browser would fetch: no script, style sheet, image or
/// frame from elsewhere, and no CSS import.
fn assert_no_external_resources(page: &str) {
    let lower = page.to_lowercase();
    for forbidden in ["<script src", "<link", "<img", "<iframe", "@import", "url("] {
        assert!(!lower.contains(forbidden), "found `{forbidden}`");
    }
    for attribute in ["src=", "href="] {
        for quote in ["\"", "'"] {
            for scheme in ["http:", "https:", "//"] {
                let needle = format!("{attribute}{quote}{scheme}");
                assert!(!lower.contains(&needle), "found `{needle}`");
            }
        }
    }
}

#[test]
fn a_report_renders_without_timeline_or_scenario_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let summary = write_quickstart(&dir);
    fs::remove_file(dir.join("timeline.csv")).unwrap();
    fs::remove_file(dir.join("scenario.toml")).unwrap();

    let page = fs::read_to_string(html::write_report(&dir).unwrap()).unwrap();
    assert!(page.contains("timeline.csv was not available"));
    assert!(page.contains("scenario.toml was not found"));
    // Requests per second still come from the histograms; the active
    // clients chart has nothing to draw and says so.
    assert_eq!(count(&page, "no data recorded"), 1);

    let intervals = read_hlog(&dir.join("latency.hlog")).unwrap();
    let from_memory = html::render(&summary, &intervals).unwrap();
    assert_eq!(count(&from_memory, "<svg"), count(&page, "<svg"));
}

#[test]
fn a_directory_without_a_summary_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let err = html::write_report(tmp.path()).unwrap_err();
    let message = format!("{err:#}");
    assert!(message.contains("summary.json"), "{message}");
    assert!(!tmp.path().join(REPORT_FILE).exists());
}

/// Takes a screenshot in headless Chromium and checks that it is not
/// blank. Skipped, with a note, where Chromium is not installed.
fn screenshot_if_possible(report: &Path) {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("note: {CHROMIUM} not found; browser check skipped");
        return;
    }
    let profile = tempfile::tempdir().unwrap();
    let png = profile.path().join("report.png");
    let status = run_chromium(report, &png, profile.path());
    assert!(status, "chromium exited with an error");

    let size = fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    // A blank 1280x2400 page compresses to a few kilobytes; text, tables
    // and charts take far more.
    assert!(size > 60_000, "screenshot of {size} bytes looks blank");
}

fn run_chromium(report: &Path, png: &Path, profile: &Path) -> bool {
    let url = format!("file://{}", absolute(report).display());
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
        ])
        .args([
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1280,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");

    // A real process on the real clock: poll it, with a bound.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium took over 90 s to take a screenshot");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn absolute(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}
