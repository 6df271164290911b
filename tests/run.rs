//! `chatload run` end to end, in process, against the mock on loopback.

use std::path::Path;
use std::time::Duration;

use chatload::engine::{self, RunOptions};
use chatload::scenario;
use serde_json::Value;

/// A short closed-model chat run: every step of a chat, a few seconds long.
const CHATS: &str = r#"
name = "it-chats"

[load]
model = "closed"
stages = [{ duration = "1s", clients = 12 }, { duration = "2s", clients = 12 }]
pause = "50ms"
grace = "3s"

[conversation]
pre_chat = ["availability", "version", "parameters"]
messages = { count = "2", think = "50ms..100ms", length = "10..40" }
typing = true
receipts = true
wait_for_reply = true
agent_timeout = "5s"
upload = 2048
end = "customer"

[mock]
reply_delay = "10ms..30ms"
poll_hold = "1s"
"#;

fn run_text(text: &str, dir: &Path) -> (engine::RunOutcome, Value) {
    let scenario = scenario::parse(text, "test.toml").expect("scenario parses");
    let options = RunOptions {
        out: Some(dir.join("out")),
        quiet: true,
        workers: Some(2),
        ..RunOptions::default()
    };
    let outcome = engine::run(scenario, &options).expect("run completes");
    let text = std::fs::read_to_string(outcome.dir.join("summary.json")).expect("summary.json");
    let summary: Value = serde_json::from_str(&text).expect("summary.json is JSON");
    (outcome, summary)
}

fn count(summary: &Value, endpoint: &str) -> u64 {
    summary["endpoints"][endpoint]["count"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn a_chat_run_completes_chats_and_writes_its_results() {
    let tmp = tempfile::tempdir().unwrap();
    let (outcome, summary) = run_text(CHATS, tmp.path());

    let started = summary["chats"]["started"].as_u64().unwrap();
    let completed = summary["chats"]["completed"].as_u64().unwrap();
    assert!(started >= 12, "every client started a chat: {summary:#}");
    assert!(completed >= 12, "chats completed: {summary:#}");
    assert_eq!(summary["chats"]["failed"].as_u64(), Some(0), "{summary:#}");

    // Every step of a chat was taken.
    for endpoint in [
        "availability",
        "version",
        "parameters",
        "request_chat",
        "send_events",
    ] {
        assert!(
            count(&summary, endpoint) >= started,
            "{endpoint}: {summary:#}"
        );
    }
    assert!(count(&summary, "poll_events") >= started, "{summary:#}");
    assert!(count(&summary, "upload_file") >= 1, "{summary:#}");
    let errors = &summary["errors"];
    for kind in [
        "connect", "tls", "timeout", "http_4xx", "http_5xx", "protocol",
    ] {
        assert_eq!(errors[kind].as_u64(), Some(0), "{kind}: {summary:#}");
    }

    // The chat measures were recorded.
    for measure in ["queue_wait", "agent_reply", "chat_duration"] {
        let figures = &summary["measures"][measure];
        assert!(
            figures["count"].as_u64().unwrap_or(0) > 0,
            "{measure}: {summary:#}"
        );
    }

    let files = [
        "summary.json",
        "latency.hlog",
        "timeline.csv",
        "scenario.toml",
        "report.html",
    ];
    for file in files {
        assert!(outcome.dir.join(file).is_file(), "{file} written");
    }
}

#[test]
fn an_open_model_run_starts_chats_at_the_planned_rate() {
    let text = r#"
name = "it-open"
[load]
model = "open"
stages = [{ duration = "0s", rate = 10 }, { duration = "2s", rate = 10 }]
arrival = "even"
max_clients = 100
grace = "3s"
[conversation]
messages = { count = "1", think = "10ms", length = "10" }
agent_timeout = "5s"
[mock]
reply_delay = "10ms"
poll_hold = "1s"
"#;
    let tmp = tempfile::tempdir().unwrap();
    let (_, summary) = run_text(text, tmp.path());

    // 10 chats per second for 2 s, evenly spaced: arrivals at 0.1 s, 0.2 s
    // … 2.0 s. The last falls on the end of the plan, where the run may
    // already have stopped starting chats.
    let started = summary["chats"]["started"].as_u64().unwrap();
    assert!((19..=20).contains(&started), "{summary:#}");
    assert_eq!(
        summary["chats"]["dropped"].as_u64().unwrap_or(0),
        0,
        "{summary:#}"
    );
}

#[test]
fn a_resumed_chat_fetches_its_history() {
    // Abandoned chats stay active on the server, so each client's next
    // Request Chat gets its old chat back (is_new_chat false).
    let text = r#"
name = "it-resume"
[load]
model = "closed"
stages = [{ duration = "2s", clients = 4 }]
pause = "50ms"
grace = "2s"
[conversation]
messages = { count = "1", think = "10ms", length = "10" }
agent_timeout = "5s"
end = "abandon"
[mock]
reply_delay = "10ms"
poll_hold = "1s"
"#;
    let tmp = tempfile::tempdir().unwrap();
    let (_, summary) = run_text(text, tmp.path());
    assert!(count(&summary, "history") >= 1, "{summary:#}");
}

#[test]
fn a_probe_run_calls_one_method_in_a_closed_loop() {
    let text = r#"
name = "it-probe"
[load]
model = "closed"
stages = [{ duration = "1s", clients = 4 }]
grace = "1s"
[conversation]
probe = "availability"
"#;
    let tmp = tempfile::tempdir().unwrap();
    let (_, summary) = run_text(text, tmp.path());
    assert!(count(&summary, "availability") > 100, "{summary:#}");
    assert_eq!(count(&summary, "request_chat"), 0, "{summary:#}");
}

#[test]
fn clients_keep_one_chat_and_one_poll_each_under_their_own_uuid() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = chatload::mock::MockConfig {
        reply_delay: chatload::scenario::DurationRange::fixed(Duration::from_millis(10)),
        poll_hold: Duration::from_secs(1),
        ..Default::default()
    };
    let mock = runtime
        .block_on(chatload::mock::start_embedded(config, false))
        .unwrap();

    let text = format!(
        r#"
name = "it-rules"
[target]
url = "{}"
[load]
stages = [{{ duration = "0s", clients = 16 }}, {{ duration = "2s", clients = 16 }}]
pause = "20ms"
grace = "3s"
[conversation]
messages = {{ count = "2", think = "20ms", length = "10" }}
agent_timeout = "5s"
"#,
        mock.url
    );
    let tmp = tempfile::tempdir().unwrap();
    let (_, summary) = run_text(&text, tmp.path());
    let stats = runtime.block_on(mock_stats(&mock.stats_url()));
    runtime.block_on(mock.stop());

    // One chat at a time per client, and never a second poll on a chat
    // (the mock would answer 429 with 5509).
    assert_eq!(stats["max_chats_per_client"], 1, "{stats}");
    let polls = &summary["endpoints"]["poll_events"]["status"];
    assert!(polls.get("429").is_none(), "{summary:#}");
    assert_eq!(
        summary["errors"]["http_4xx"].as_u64(),
        Some(0),
        "{summary:#}"
    );

    // Every client had its own clientId, and each was a UUID.
    let clients = summary["clients"]["started"].as_u64().unwrap();
    assert_eq!(stats["distinct_clients"].as_u64(), Some(clients), "{stats}");
    assert_eq!(stats["uuid_clients"].as_u64(), Some(clients), "{stats}");
}

/// The mock's counters, read over plain HTTP with a raw request.
async fn mock_stats(url: &str) -> Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("a plain mock");
    let (authority, path) = rest.split_once('/').expect("a path");
    let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let body = response.split_once("\r\n\r\n").expect("a body").1;
    serde_json::from_str(body).expect("stats are JSON")
}
