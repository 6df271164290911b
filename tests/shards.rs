//! Runs spread over shards: one scenario run whole and as three segments
//! against one mock, the exact merge of interval logs, rates over the
//! union of wall-clock spans, the refusals, and the Kubernetes manifests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use chatload::api::Endpoint;
use chatload::engine::{self, RunOptions};
use chatload::exit::is_usage;
use chatload::metrics::hlog::{parse_hlog, start_time, write_hlog};
use chatload::metrics::{Harvester, Outcome, RunData, WorkerMetrics};
use chatload::mock::{MockConfig, StatsSnapshot, start_embedded};
use chatload::report::merge::{self, Shard, merge_shards, shard::parse_timeline};
use chatload::report::timeline::render_timeline;
use chatload::report::{RunInfo, Summary, summarize, write_results};
use chatload::scenario;
use hdrhistogram::Histogram;
use proptest::prelude::*;

/// Closed model, 9 clients from the first instant for 2 s. The pause is
/// longer than the run, so each client makes exactly one chat and the plan
/// is exact: 9 clients, 9 chats.
fn scenario_text(url: &str) -> String {
    format!(
        r#"
name = "it-shards"

[target]
url = "{url}"

[load]
model = "closed"
stages = [{{ duration = "0s", clients = 9 }}, {{ duration = "2s", clients = 9 }}]
pause = "30s"
grace = "2s"

[conversation]
messages = {{ count = "1", think = "20ms", length = "10" }}
typing = false
receipts = false
agent_timeout = "5s"
"#
    )
}

fn run(text: &str, out: PathBuf, segment: Option<&str>, start_at: Option<SystemTime>) -> Summary {
    run_judged(text, out, segment, start_at, &[])
}

/// Runs one shard per directory, segment k of `dirs.len()`, at once on
/// threads sharing a start 1.5 s from now, with command-line `thresholds`.
fn run_shards(text: &str, dirs: &[PathBuf], thresholds: &[&str]) -> Vec<Summary> {
    let start_at = SystemTime::now() + Duration::from_millis(1500);
    std::thread::scope(|scope| {
        let handles: Vec<_> = dirs
            .iter()
            .enumerate()
            .map(|(i, dir)| {
                let segment = format!("{}/{}", i + 1, dirs.len());
                scope.spawn(move || {
                    run_judged(
                        text,
                        dir.clone(),
                        Some(&segment),
                        Some(start_at),
                        thresholds,
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// [`run`] with command-line thresholds (`--threshold`).
fn run_judged(
    text: &str,
    out: PathBuf,
    segment: Option<&str>,
    start_at: Option<SystemTime>,
    thresholds: &[&str],
) -> Summary {
    let mut scenario = scenario::parse(text, "shards.toml").expect("scenario parses");
    if let Some(segment) = segment {
        scenario.load.segment = segment.parse().expect("segment parses");
    }
    let options = RunOptions {
        out: Some(out),
        quiet: true,
        workers: Some(2),
        start_at,
        thresholds: thresholds.iter().map(|t| t.to_string()).collect(),
        ..RunOptions::default()
    };
    engine::run(scenario, &options)
        .expect("run completes")
        .summary
}

/// GET /mock/stats over a bare HTTP/1.1 connection.
async fn mock_stats(url: &str) -> StatsSnapshot {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = "GET /mock/stats HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let (_, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    serde_json::from_str(body).expect("stats are JSON")
}

/// A shard that begins a second after the shared start misses the open
/// model's arrivals of that second: they count as dropped and as missed,
/// and the warning names the late start, not the client cap.
#[test]
fn a_late_shard_counts_the_arrivals_it_missed() {
    let tmp = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime
        .block_on(start_embedded(MockConfig::default(), false))
        .unwrap();
    let text = format!(
        r#"
name = "it-late-shard"
[target]
url = "{}"
[load]
model = "open"
stages = [{{ duration = "0s", rate = 20 }}, {{ duration = "3s", rate = 20 }}]
max_clients = 100
grace = "1s"
[conversation]
probe = "availability"
"#,
        mock.url
    );

    let start_at = SystemTime::now() - Duration::from_secs(1);
    let summary = run(&text, tmp.path().join("late"), None, Some(start_at));
    runtime.block_on(mock.stop());

    let chats = &summary.chats;
    // The shard is late by the second given plus its target setup, which a
    // loaded machine can stretch: expect the arrivals of the lateness it
    // recorded, 20 a second evenly spaced, not of the nominal second.
    let expected = (20.0 * lateness(&summary, start_at)).round() as u64;
    let expected = expected.min(60);
    assert!(
        chats.missed.abs_diff(expected) <= 3,
        "expected about {expected} missed: {chats:?}"
    );
    assert_eq!(chats.dropped, chats.missed, "{chats:?}");
    let warnings = summary.warnings.join("\n");
    assert!(warnings.contains("chats.missed"), "{warnings}");
    assert!(!warnings.contains("every client was busy"), "{warnings}");
}

/// How late the shard began, in seconds: its recorded actual start after
/// the shared start. The summary's `started_at` is that shared start cut
/// to the second, so the exact instant comes from the caller.
fn lateness(summary: &Summary, start_at: SystemTime) -> f64 {
    let planned = humantime::format_rfc3339_seconds(start_at).to_string();
    assert_eq!(
        summary.started_at, planned,
        "started_at is the shared start"
    );

    let actual = summary
        .actual_start
        .as_deref()
        .expect("a late start is recorded");
    let actual = humantime::parse_rfc3339(actual).expect("actual_start is RFC 3339");
    let late = actual
        .duration_since(start_at)
        .expect("actual_start after the start");
    late.as_secs_f64()
}

#[test]
fn three_segments_add_up_to_one_whole_run_with_no_client_shared() {
    let tmp = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime
        .block_on(start_embedded(MockConfig::default(), false))
        .unwrap();
    let text = scenario_text(&mock.url);

    let whole = run(&text, tmp.path().join("whole"), None, None);
    let after_whole = runtime.block_on(mock_stats(&mock.url));

    let dirs: Vec<PathBuf> = (1..=3).map(|k| tmp.path().join(format!("s{k}"))).collect();
    let shards = run_shards(&text, &dirs, &[]);
    let after_shards = runtime.block_on(mock_stats(&mock.url));
    runtime.block_on(mock.stop());

    // The plan, whole and summed over the shards.
    assert_eq!(
        (whole.clients.started, whole.chats.started),
        (9, 9),
        "{whole:#?}"
    );
    for (k, shard) in shards.iter().enumerate() {
        assert_eq!(shard.segment, format!("{}/3", k + 1));
        assert_eq!(shard.clients.started, 3, "{shard:#?}");
        assert_eq!(shard.started_at, shards[0].started_at);
        assert_eq!(shard.seed, shards[0].seed);
    }

    // Every client the mock saw was new: none repeats across the shards.
    assert_eq!(after_whole.distinct_clients, 9);
    assert_eq!(
        after_shards.distinct_clients - after_whole.distinct_clients,
        9
    );
    assert_eq!(after_shards.chats_created - after_whole.chats_created, 9);

    let out = tmp.path().join("merged");
    let merged = merge::merge(&dirs, &out, &[]).expect("merge succeeds");
    let summary = merged.summary;
    assert_eq!(summary.segment, "1,2,3/3");
    assert_eq!(summary.clients.started, whole.clients.started);
    assert_eq!(summary.chats.started, whole.chats.started);
    assert_eq!(summary.endpoints["request_chat"].count, 9, "{summary:#?}");
    assert!(!summary.warnings.iter().any(|w| w.contains("missing")));
    for file in [
        "summary.json",
        "latency.hlog",
        "timeline.csv",
        "scenario.toml",
        "report.html",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
}

/// `--threshold` given to the shards is stored in their scenario.toml, so
/// the merge judges by it; a merge's own `--threshold` replaces it.
#[test]
fn command_line_thresholds_of_the_shards_reach_the_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mock = runtime
        .block_on(start_embedded(MockConfig::default(), false))
        .unwrap();
    let text = scenario_text(&mock.url);
    let dirs: Vec<PathBuf> = (1..=2).map(|k| tmp.path().join(format!("s{k}"))).collect();
    run_shards(&text, &dirs, &["request_chat.count > 1000"]);
    runtime.block_on(mock.stop());

    for dir in &dirs {
        let stored = std::fs::read_to_string(dir.join("scenario.toml")).unwrap();
        assert!(
            stored.contains("[thresholds]\n\"request_chat.count\" = \"> 1000\""),
            "{stored}"
        );
    }
    let merged = merge::merge(&dirs, &tmp.path().join("judged"), &[]).unwrap();
    let names: Vec<&str> = merged
        .summary
        .thresholds
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, ["request_chat.count > 1000"]);
    assert!(!merged.summary.thresholds[0].passed);

    let out = tmp.path().join("relaxed");
    let output = Command::new(env!("CARGO_BIN_EXE_chatload"))
        .arg("merge")
        .args(&dirs)
        .args([
            "--json",
            "--threshold",
            "request_chat.count < 1000",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let summary: Summary = serde_json::from_slice(&output.stdout).unwrap();
    let verdicts: Vec<(&str, bool)> = summary
        .thresholds
        .iter()
        .map(|t| (t.name.as_str(), t.passed))
        .collect();
    assert_eq!(verdicts, [("request_chat.count < 1000", true)]);
    let stored = std::fs::read_to_string(out.join("scenario.toml")).unwrap();
    assert!(
        stored.contains("\"request_chat.count\" = \"< 1000\""),
        "{stored}"
    );
}

#[test]
fn a_misspelt_merge_threshold_exits_2_before_reading_the_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_chatload"))
        .args([
            "merge",
            "no-such-shard",
            "--threshold",
            "request_chta.p99 < 1s",
        ])
        .arg("--out")
        .arg(tmp.path().join("merged"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("did you mean \"request_chat\"?"),
        "{stderr}"
    );
}

/// A shard of one endpoint's samples (microseconds), `seconds` long, all
/// samples in its first second, started at `started_at`.
fn shard(name: &str, segment: &str, started_at: SystemTime, seconds: u64, us: &[u64]) -> Shard {
    let mut harvester = Harvester::new(started_at);
    let mut worker = WorkerMetrics::new();
    let now = Instant::now();
    for &value in us {
        let done = now + Duration::from_micros(value);
        worker.record_request(Endpoint::RequestChat, now, now, done, Outcome::Status(200));
        worker.client_started();
    }
    for second in 0..seconds {
        harvester.add_interval(second, Duration::from_secs(1), worker.take());
    }
    let data = harvester.finish();
    let info = RunInfo {
        scenario: name.into(),
        target: "http://127.0.0.1:1".into(),
        started_at,
        duration: Duration::from_secs(seconds),
        segment: segment.into(),
        insecure: false,
        http: "auto".into(),
        connections: "shared".into(),
        scenario_toml: format!(
            "name = \"{name}\"\n[load]\nstages = [{{ duration = \"3s\", clients = 1 }}]\n"
        ),
    };
    as_shard(
        &info,
        &data,
        PathBuf::from(format!("results/{name}-{segment}")),
    )
}

/// What `read_shard` would find had `write_results` written the run.
fn as_shard(info: &RunInfo, data: &RunData, dir: PathBuf) -> Shard {
    let mut hlog = Vec::new();
    write_hlog(&mut hlog, data.started_at, &data.hlog).unwrap();
    Shard {
        dir,
        summary: summarize(info, data),
        started_at: start_time(&hlog).unwrap(),
        intervals: parse_hlog(&hlog).unwrap(),
        rows: parse_timeline(&render_timeline(data)).unwrap(),
        scenario_toml: info.scenario_toml.clone(),
    }
}

fn recorded(histogram: &Histogram<u64>) -> Vec<(u64, u64)> {
    histogram
        .iter_recorded()
        .map(|v| (v.value_iterated_to(), v.count_at_value()))
        .collect()
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_796_320_800 + seconds)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_merge_of_two_logs_is_the_histogram_of_all_their_values(
        a in prop::collection::vec(1u64..50_000_000, 1..200),
        b in prop::collection::vec(1u64..50_000_000, 1..200),
    ) {
        let shards = [
            shard("p", "1/2", at(0), 1, &a),
            shard("p", "2/2", at(0), 1, &b),
        ];
        let (_, data, summary) = merge_shards(&shards, &[]).unwrap();

        let mut all = Histogram::<u64>::new(3).unwrap();
        all.auto(true);
        for &value in a.iter().chain(&b) {
            all.record(value).unwrap();
        }
        let merged = data.totals.endpoint(Endpoint::RequestChat).unwrap();
        let response = merged.response.histogram().unwrap();
        prop_assert_eq!(recorded(response), recorded(&all));
        prop_assert_eq!(response.len(), (a.len() + b.len()) as u64);
        prop_assert_eq!(summary.clients.started, (a.len() + b.len()) as u64);
    }
}

#[test]
fn merging_in_any_order_gives_the_same_result() {
    let shards = [
        shard("o", "1/3", at(0), 3, &[10, 20, 30_000]),
        shard("o", "2/3", at(0), 2, &[5, 7_000_000]),
        shard("o", "3/3", at(1), 3, &[400, 400, 401]),
    ];
    let orders = [[0, 1, 2], [2, 1, 0], [1, 2, 0]];
    let results: Vec<String> = orders
        .iter()
        .map(|order| {
            let picked: Vec<Shard> = order.iter().map(|&i| shards[i].clone()).collect();
            let (_, data, summary) = merge_shards(&picked, &[]).unwrap();
            format!(
                "{}{}",
                serde_json::to_string(&summary).unwrap(),
                render_timeline(&data)
            )
        })
        .collect();
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

#[test]
fn rates_are_taken_over_the_union_of_the_wall_clock_spans() {
    // A runs [0 s, 3 s), B [1 s, 4 s): together 4 s, not 3 s nor 6 s.
    let a = shard("u", "1/2", at(0), 3, &[1_000; 30]);
    let b = shard("u", "2/2", at(1), 3, &[2_000; 30]);
    let (info, data, summary) = merge_shards(&[a, b], &[]).unwrap();

    assert_eq!(info.started_at, at(0));
    assert_eq!(summary.duration_s, 4.0);
    assert_eq!(summary.requests.count, 60);
    assert_eq!(summary.requests.rps, 15.0);
    assert_eq!(summary.endpoints["request_chat"].rps, 15.0);

    // B's first second is the merged run's second 1.
    let per_second: Vec<(u64, u64)> = data
        .intervals
        .iter()
        .map(|r| (r.index, r.requests))
        .collect();
    assert_eq!(per_second, [(0, 30), (1, 30), (2, 0), (3, 0)]);
}

#[test]
fn shards_of_different_runs_or_the_same_segment_are_refused() {
    let one = shard("first", "1/2", at(0), 1, &[1]);
    let other = shard("second", "2/2", at(0), 1, &[1]);
    let err = merge_shards(&[one.clone(), other.clone()], &[]).unwrap_err();
    assert!(is_usage(&err));
    let message = err.to_string();
    assert!(
        message.contains(&one.dir.display().to_string()),
        "{message}"
    );
    assert!(
        message.contains(&other.dir.display().to_string()),
        "{message}"
    );

    let mut twin = one.clone();
    twin.dir = PathBuf::from("results/twin");
    let err = merge_shards(&[one.clone(), twin], &[]).unwrap_err();
    assert!(err.to_string().contains("both segment 1/2"), "{err}");

    let wider = shard("first", "2/3", at(0), 1, &[1]);
    let err = merge_shards(&[one, wider], &[]).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("merge only the shards of one run"),
        "{message}"
    );
    // Each directory is named with its own segment and shard count.
    assert!(
        message.contains("is segment 1/2 of a 2-shard run but"),
        "{message}"
    );
    assert!(
        message.contains("is segment 2/3 of a 3-shard run; merge only"),
        "{message}"
    );
}

#[test]
fn missing_segments_are_warned_about_and_the_rest_merged() {
    let shards = [
        shard("m", "1/3", at(0), 1, &[1, 2]),
        shard("m", "3/3", at(0), 1, &[3]),
    ];
    let (_, _, summary) = merge_shards(&shards, &[]).unwrap();
    assert_eq!(summary.segment, "1,3/3");
    assert_eq!(summary.requests.count, 3);
    assert!(
        summary.warnings[0].starts_with("segment 2/3 missing"),
        "{:?}",
        summary.warnings
    );
}

fn write_shard(root: &Path, name: &str, segment: &str) -> PathBuf {
    let shard = shard(name, segment, at(0), 1, &[1_000]);
    let dir = root.join(format!("{name}-{}", segment.replace('/', "of")));
    let mut harvester = Harvester::new(at(0));
    let mut worker = WorkerMetrics::new();
    worker.client_started();
    harvester.add_interval(0, Duration::from_secs(1), worker.take());
    let info = RunInfo {
        scenario: name.into(),
        target: shard.summary.target.clone(),
        started_at: at(0),
        duration: Duration::from_secs(1),
        segment: segment.into(),
        insecure: false,
        http: "auto".into(),
        connections: "shared".into(),
        scenario_toml: shard.scenario_toml.clone(),
    };
    let data = harvester.finish();
    write_results(&dir, &info, &data, &summarize(&info, &data)).unwrap();
    dir
}

#[test]
fn the_merge_command_exits_2_naming_both_directories_of_different_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write_shard(tmp.path(), "alpha", "1/2");
    let b = write_shard(tmp.path(), "beta", "2/2");
    let output = Command::new(env!("CARGO_BIN_EXE_chatload"))
        .arg("merge")
        .args([&a, &b])
        .arg("--out")
        .arg(tmp.path().join("merged"))
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&a.display().to_string()), "{stderr}");
    assert!(stderr.contains(&b.display().to_string()), "{stderr}");
    assert!(!tmp.path().join("merged").exists());

    let c = write_shard(tmp.path(), "alpha", "2/2");
    let output = Command::new(env!("CARGO_BIN_EXE_chatload"))
        .args(["merge", "--json", "--out"])
        .arg(tmp.path().join("merged"))
        .args([&a, &c])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let summary: Summary = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (summary.segment.as_str(), summary.clients.started),
        ("1,2/2", 2)
    );
}

/// One shard's scenario.toml edited to run 5000 clients instead of 1: the
/// names match but the runs do not, and the merge says where they differ.
#[test]
fn the_merge_command_refuses_shards_whose_scenarios_differ() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write_shard(tmp.path(), "alpha", "1/2");
    let b = write_shard(tmp.path(), "alpha", "2/2");
    let path = b.join("scenario.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("clients = 1 ", "clients = 5000 ")).unwrap();

    let out = tmp.path().join("merged");
    let output = Command::new(env!("CARGO_BIN_EXE_chatload"))
        .arg("merge")
        .args([&a, &b])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&a.display().to_string()), "{stderr}");
    assert!(stderr.contains(&b.display().to_string()), "{stderr}");
    assert!(stderr.contains("ran different scenarios"), "{stderr}");
    assert!(stderr.contains("clients = 5000"), "{stderr}");
    assert!(!out.exists());
}

fn manifest(name: &str) -> serde_yaml_ng::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/kubernetes")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_yaml_ng::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// The first container of a Job or Pod.
fn container(object: &serde_yaml_ng::Value) -> &serde_yaml_ng::Value {
    let pod = match object["kind"].as_str() {
        Some("Job") => &object["spec"]["template"]["spec"],
        _ => &object["spec"],
    };
    &pod["containers"][0]
}

/// The value source of an environment variable: its literal value or the
/// `valueFrom` mapping.
fn env<'a>(container: &'a serde_yaml_ng::Value, name: &str) -> &'a serde_yaml_ng::Value {
    let vars = container["env"].as_sequence().expect("an env list");
    let var = vars.iter().find(|v| v["name"] == name);
    let var = var.unwrap_or_else(|| panic!("no {name} in the container's env"));
    if var["value"].is_null() {
        &var["valueFrom"]
    } else {
        &var["value"]
    }
}

fn script(container: &serde_yaml_ng::Value) -> &str {
    container["args"][0].as_str().expect("a shell script")
}

fn claim(object: &serde_yaml_ng::Value, mount: &str) -> (String, String) {
    let pod = &object["spec"]["template"]["spec"];
    let mounts = container(object)["volumeMounts"].as_sequence().unwrap();
    let mounted = mounts.iter().find(|m| m["mountPath"] == mount).unwrap();
    let volumes = pod["volumes"].as_sequence().unwrap();
    let volume = volumes
        .iter()
        .find(|v| v["name"] == mounted["name"])
        .unwrap();
    let claim = volume["persistentVolumeClaim"]["claimName"]
        .as_str()
        .unwrap();
    (mount.to_owned(), claim.to_owned())
}

/// Runs a shard pod's script in `sh` for pod `index` of `shards`, with a
/// stand-in `chatload` that prints its arguments one per line and exits
/// `code`; returns those arguments.
fn run_shard_script(script: &str, index: u64, shards: u64, code: i32) -> Vec<String> {
    let output = shard_script(script, index, shards, code);
    let stdout = String::from_utf8(output.stdout).unwrap();
    stdout.lines().map(str::to_owned).collect()
}

fn shard_script_succeeds(script: &str, code: i32) -> bool {
    shard_script(script, 0, 3, code).status.success()
}

fn shard_script(script: &str, index: u64, shards: u64, code: i32) -> std::process::Output {
    let stand_in = format!("chatload() {{ printf '%s\\n' \"$@\"; return {code}; }}\n");
    Command::new("sh")
        .arg("-c")
        .arg(stand_in + script)
        .env("JOB_COMPLETION_INDEX", index.to_string())
        .env("SHARDS", shards.to_string())
        .env("START_AT", "1796320800")
        .env("RUN_ID", "run-7")
        .output()
        .expect("sh runs")
}

/// The value after `name` in a printed argument list.
fn flag<'a>(args: &'a [String], name: &str) -> &'a str {
    let at = args.iter().position(|a| a == name);
    let at = at.unwrap_or_else(|| panic!("no {name} in {args:?}"));
    &args[at + 1]
}

/// The ConfigMap and key behind the file at `path` in the first container
/// of `object`, followed through its volume mount and volume.
fn configmap_file(object: &serde_yaml_ng::Value, path: &str) -> (String, String) {
    let pod = &object["spec"]["template"]["spec"];
    let mounts = container(object)["volumeMounts"].as_sequence().unwrap();
    let (mount, file) = mounts
        .iter()
        .find_map(|m| {
            let dir = m["mountPath"].as_str()?.trim_end_matches('/');
            let file = path.strip_prefix(dir)?.strip_prefix('/')?;
            Some((m, file))
        })
        .unwrap_or_else(|| panic!("nothing is mounted where {path} is read"));
    let volumes = pod["volumes"].as_sequence().unwrap();
    let volume = volumes.iter().find(|v| v["name"] == mount["name"]).unwrap();
    let map = &volume["configMap"];
    let name = map["name"].as_str().expect("a ConfigMap volume").to_owned();
    // With `items`, a key is projected to a path of its choosing.
    let key = match map["items"].as_sequence() {
        Some(items) => items
            .iter()
            .find(|i| i["path"] == file)
            .and_then(|i| i["key"].as_str())
            .unwrap_or_else(|| panic!("no item projects {file}"))
            .to_owned(),
        None => file.to_owned(),
    };
    (name, key)
}

#[test]
fn the_indexed_job_wires_index_segment_count_and_start_consistently() {
    let job = manifest("run-job.yaml");
    let spec = &job["spec"];
    let shard = container(&job);
    assert_eq!(spec["completionMode"], "Indexed");

    let shards: u64 = env(shard, "SHARDS").as_str().unwrap().parse().unwrap();
    assert_eq!(spec["completions"].as_u64(), Some(shards));
    assert_eq!(spec["parallelism"].as_u64(), Some(shards));

    // A failed shard is neither retried nor allowed to stop the others: no
    // Job-wide backoffLimit, none per index, and every index may fail.
    assert!(spec["backoffLimit"].is_null(), "{:?}", spec["backoffLimit"]);
    assert_eq!(spec["backoffLimitPerIndex"].as_u64(), Some(0));
    assert_eq!(spec["maxFailedIndexes"].as_u64(), Some(shards));
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");

    // The 0-based pod index becomes the 1-based segment of SHARDS.
    let index = &env(shard, "JOB_COMPLETION_INDEX")["fieldRef"]["fieldPath"];
    let annotation = "metadata.annotations['batch.kubernetes.io/job-completion-index']";
    assert_eq!(index.as_str(), Some(annotation));
    let run = script(shard);
    for index in 0..shards {
        let args = run_shard_script(run, index, shards, 0);
        let segment = flag(&args, "--segment")
            .parse::<scenario::Segment>()
            .unwrap();
        assert_eq!(
            (segment.index(), segment.count()),
            (index, shards),
            "{args:?}"
        );
        let out = format!("/results/run-7/segment-{}", index + 1);
        assert_eq!(flag(&args, "--out"), out);
    }

    // Exit 1 (a threshold missed by one shard) passes the pod; 2 fails it.
    assert!(shard_script_succeeds(run, 1));
    assert!(!shard_script_succeeds(run, 2));

    // Every pod reads the same start from the same ConfigMap key.
    assert!(run.contains("--start-at \"$START_AT\""), "{run}");
    let start = &env(shard, "START_AT")["configMapKeyRef"];
    let run_config = manifest("run-configmap.yaml");
    assert_eq!(start["name"], run_config["metadata"]["name"]);
    let start_at = run_config["data"][start["key"].as_str().unwrap()]
        .as_str()
        .unwrap();
    engine::segment::parse_start_at(start_at).expect("the placeholder start parses");
}

#[test]
fn the_shards_read_the_scenario_configmap_and_the_merge_reads_their_volume() {
    let job = manifest("run-job.yaml");
    let merge = manifest("merge-job.yaml");
    let (shard, merger) = (container(&job), container(&merge));

    // The file the command reads is the ConfigMap's key, mounted there.
    let args = run_shard_script(script(shard), 0, 3, 0);
    assert_eq!(args[0], "run", "{args:?}");
    let (map_name, key) = configmap_file(&job, &args[1]);
    let scenario_map = manifest("scenario-configmap.yaml");
    assert_eq!(
        scenario_map["metadata"]["name"].as_str(),
        Some(map_name.as_str())
    );
    let text = scenario_map["data"][key.as_str()].as_str();
    let text = text.unwrap_or_else(|| panic!("the ConfigMap has no key {key}"));
    scenario::parse(text, "scenario-configmap.yaml").expect("the shipped scenario is valid");

    let results = claim(&job, "/results");
    assert_eq!(claim(&merge, "/results"), results);
    assert_eq!(
        results.1,
        manifest("results-pvc.yaml")["metadata"]["name"]
            .as_str()
            .unwrap()
    );
    assert_eq!(env(shard, "RUN_ID"), env(merger, "RUN_ID"));
    assert!(script(shard).contains("--out \"/results/$RUN_ID/segment-$K\""));
    let merging = script(merger);
    assert!(
        merging.contains("chatload merge /results/\"$RUN_ID\"/segment-*"),
        "{merging}"
    );
    assert!(
        merging.contains("--out \"/results/$RUN_ID/merged\""),
        "{merging}"
    );
}
