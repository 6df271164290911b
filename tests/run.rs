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
pre_chat = ["availability", "version", "configuration", "parameters", "iceservers"]
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
        "configuration",
        "parameters",
        "iceservers",
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
    // … 2.0 s, never more. A worker stops starting chats at the end of the
    // plan, so one that a loaded machine holds back may skip the last few:
    // the floor leaves it half a second.
    let started = summary["chats"]["started"].as_u64().unwrap();
    assert!((15..=20).contains(&started), "{summary:#}");
    assert_eq!(
        summary["chats"]["dropped"].as_u64().unwrap_or(0),
        0,
        "{summary:#}"
    );
}

#[test]
fn a_resumed_chat_fetches_its_history_and_goes_on() {
    // Abandoned chats stay active on the server, so each client's next
    // Request Chat gets its old chat back (is_new_chat false). The agent
    // joined in the chat's first life, so only History tells of it: a
    // client waiting for a fresh join would fail each resumed chat after
    // agent_timeout, well inside the grace.
    let text = r#"
name = "it-resume"
[load]
model = "closed"
stages = [{ duration = "2s", clients = 4 }]
pause = "50ms"
grace = "4s"
[conversation]
messages = { count = "1", think = "10ms", length = "10" }
agent_timeout = "1s"
end = "abandon"
[mock]
reply_delay = "10ms"
poll_hold = "1s"
"#;
    let tmp = tempfile::tempdir().unwrap();
    let (_, summary) = run_text(text, tmp.path());
    assert!(count(&summary, "history") >= 1, "{summary:#}");

    let chats = &summary["chats"];
    assert_eq!(chats["failed"].as_u64(), Some(0), "{summary:#}");
    assert_eq!(chats["completed"], chats["started"], "{summary:#}");
}

#[test]
fn a_probe_run_calls_one_method_in_a_closed_loop() {
    let text = r#"
name = "it-probe"
[load]
model = "closed"
stages = [{ duration = "0s", clients = 4 }, { duration = "1s", clients = 4 }]
grace = "1s"
[conversation]
probe = "availability"
"#;
    let tmp = tempfile::tempdir().unwrap();
    let (_, summary) = run_text(text, tmp.path());
    // A closed loop: each client calls again as soon as its answer comes,
    // so the 4 clients make many calls each in a second, not one. The floor
    // is low enough for a loaded machine (a call every 200 ms).
    let clients = summary["clients"]["started"].as_u64().unwrap();
    assert_eq!(clients, 4, "{summary:#}");
    assert!(
        count(&summary, "availability") >= 5 * clients,
        "{summary:#}"
    );
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

    // The one-chat rule seen from the client side: with no chat resumed,
    // each chat the clients started is one the mock created, so no client
    // requested a second chat while it had one.
    assert_eq!(count(&summary, "history"), 0, "{summary:#}");
    assert_eq!(
        summary["chats"]["started"].as_u64(),
        stats["chats_created"].as_u64(),
        "{summary:#} {stats}"
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

#[test]
fn chats_the_embedded_mock_ends_complete_under_end_agent() {
    // The mock ends a chat after idle_end of customer silence; the client
    // waits agent_timeout for that end. idle_end is left out on purpose:
    // its default (120 s) would outlast agent_timeout and fail every chat.
    let text = r#"
name = "it-agent-end"
[load]
model = "closed"
stages = [{ duration = "0s", clients = 4 }, { duration = "1s", clients = 4 }]
pause = "50ms"
grace = "8s"
[conversation]
messages = { count = "1", think = "10ms", length = "10" }
agent_timeout = "2s"
end = "agent"
[mock]
reply_delay = "10ms"
poll_hold = "1s"
"#;
    let tmp = tempfile::tempdir().unwrap();
    let (_, summary) = run_text(text, tmp.path());

    let chats = &summary["chats"];
    assert!(chats["completed"].as_u64().unwrap() >= 4, "{summary:#}");
    assert_eq!(chats["failed"].as_u64(), Some(0), "{summary:#}");
    // The end waited for is a completion, not an early end by the server.
    assert_eq!(chats["ended_by_server"].as_u64(), Some(0), "{summary:#}");
}

#[test]
fn a_ca_file_given_with_the_embedded_mock_is_reported_unused() {
    // The mock's own certificate is trusted; a CA file named beside it
    // does nothing, which the run says instead of passing over it.
    let text = r#"
name = "it-ca-unused"
[target]
ca_cert = "unused-ca.pem"
[load]
model = "closed"
stages = [{ duration = "0s", clients = 1 }, { duration = "300ms", clients = 1 }]
grace = "1s"
[conversation]
probe = "availability"
"#;
    let tmp = tempfile::tempdir().unwrap();
    let (_, summary) = run_text(text, tmp.path());
    assert!(count(&summary, "availability") > 0, "{summary:#}");
    let warnings = summary["warnings"].to_string();
    assert!(warnings.contains("unused-ca.pem"), "{warnings}");
    assert!(warnings.contains("was not used"), "{warnings}");
}

#[test]
fn chats_complete_with_each_client_policy() {
    // Per-client connections, WebChat cookie identities, and customers who
    // do not wait for answers: each a different path through the client,
    // each short and bounded.
    let variants = [
        (
            "per-client",
            "[target]\nconnections = { mode = \"per_client\" }\n",
            "",
        ),
        ("webchat", "[target]\nwebchat = true\n", ""),
        ("no-wait", "", "wait_for_reply = false\n"),
    ];
    for (name, target, conversation) in variants {
        let text = format!(
            r#"
name = "it-{name}"
{target}
[load]
model = "closed"
stages = [{{ duration = "0s", clients = 4 }}, {{ duration = "1s", clients = 4 }}]
pause = "50ms"
grace = "4s"
[conversation]
messages = {{ count = "2", think = "20ms", length = "10" }}
agent_timeout = "3s"
{conversation}
[mock]
reply_delay = "10ms"
poll_hold = "1s"
"#
        );
        let tmp = tempfile::tempdir().unwrap();
        let (_, summary) = run_text(&text, tmp.path());
        let chats = &summary["chats"];
        assert!(
            chats["completed"].as_u64().unwrap() >= 4,
            "{name}: {summary:#}"
        );
        assert_eq!(chats["failed"].as_u64(), Some(0), "{name}: {summary:#}");
        assert_eq!(
            summary["requests"]["errors"].as_u64(),
            Some(0),
            "{name}: {summary:#}"
        );
    }
}
