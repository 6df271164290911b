//! The generator against a mock that injects faults: every run completes,
//! every failure is counted under its kind, clients whose chat failed go
//! on to new chats, memory stays bounded; and a periodic stall proves that
//! response times show coordinated omission while service times do not.
//!
//! The runs take real seconds on the real clock (the engine runs its own
//! threads and runtimes), so they take turns: on a shared 2-core machine,
//! two runs at once would blur each other's timings.

use std::sync::{Mutex, PoisonError};

use chatload::engine::{self, RunOptions};
use chatload::scenario;
use serde_json::Value;

/// One fault run at a time; see the module comment.
static TURN: Mutex<()> = Mutex::new(());

/// Peak resident memory of this test process allowed after a run. Runs here
/// need tens of MiB; the bound is loose so that only a leak that grows with
/// requests (a kept body, a sample list) can break it.
const MAX_PEAK_RSS_KIB: u64 = 1024 * 1024;

/// Eight clients chat in a closed loop for two seconds: a pre-chat call,
/// one message answered by the agent, the end.
const CHATS: &str = r#"
name = "faults"

[target]
request_timeout = "2s"

[load]
model = "closed"
stages = [{ duration = "0s", clients = 8 }, { duration = "2s", clients = 8 }]
pause = "20ms"
grace = "1s"

[conversation]
pre_chat = ["version"]
messages = { count = "1", think = "10ms..30ms", length = "10..20" }
typing = false
receipts = false
wait_for_reply = true
agent_timeout = "2s"
end = "customer"

[mock]
reply_delay = "10ms..20ms"
poll_hold = "500ms"
"#;

const CLIENTS: u64 = 8;

fn run(text: &str, workers: usize) -> Value {
    let _turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let tmp = tempfile::tempdir().expect("temporary directory");
    let scenario = scenario::parse(text, "t.toml").expect("scenario parses");
    let options = RunOptions {
        out: Some(tmp.path().join("out")),
        quiet: true,
        workers: Some(workers),
        ..RunOptions::default()
    };
    let outcome = engine::run(scenario, &options).expect("the run completes");
    let text = std::fs::read_to_string(outcome.dir.join("summary.json")).expect("summary.json");
    let summary: Value = serde_json::from_str(&text).expect("summary.json is JSON");

    assert_complete(&summary);
    assert!(
        peak_rss_kib() < MAX_PEAK_RSS_KIB,
        "peak RSS {} KiB",
        peak_rss_kib()
    );
    summary
}

/// A chat run with `faults` (TOML) appended.
fn chats_with(faults: &str) -> Value {
    run(&format!("{CHATS}\n{faults}"), 2)
}

/// Every section is there and the error counts add up: the per-kind
/// totals equal the sum over endpoints, and equal the request error count.
fn assert_complete(summary: &Value) {
    for key in [
        "clients",
        "chats",
        "requests",
        "endpoints",
        "measures",
        "errors",
    ] {
        assert!(summary.get(key).is_some(), "summary lacks {key}: {summary}");
    }
    let kinds = [
        "connect", "tls", "timeout", "http_4xx", "http_5xx", "protocol",
    ];
    let mut total = 0;
    for kind in kinds {
        let counted = errors(summary, kind);
        let by_endpoint: u64 = endpoints(summary)
            .map(|(_, e)| e["error_kinds"][kind].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(counted, by_endpoint, "{kind} errors, total and by endpoint");
        total += counted;
    }
    assert_eq!(summary["requests"]["errors"].as_u64(), Some(total));

    let warnings = summary["warnings"].to_string();
    assert!(!warnings.contains("panics inside chatload"), "{warnings}");
}

fn endpoints(summary: &Value) -> impl Iterator<Item = (&String, &Value)> {
    summary["endpoints"]
        .as_object()
        .expect("endpoints is an object")
        .iter()
}

fn errors(summary: &Value, kind: &str) -> u64 {
    summary["errors"][kind]
        .as_u64()
        .expect("every error kind is present")
}

fn kind_at(summary: &Value, endpoint: &str, kind: &str) -> u64 {
    summary["endpoints"][endpoint]["error_kinds"][kind]
        .as_u64()
        .unwrap_or(0)
}

fn status_at(summary: &Value, endpoint: &str, status: &str) -> u64 {
    summary["endpoints"][endpoint]["status"][status]
        .as_u64()
        .unwrap_or(0)
}

fn chats(summary: &Value, key: &str) -> u64 {
    summary["chats"][key].as_u64().expect("chat figure")
}

fn ms(summary: &Value, endpoint: &str, view: &str, stat: &str) -> f64 {
    summary["endpoints"][endpoint][view][stat]
        .as_f64()
        .expect("latency figure")
}

fn measure_ms(summary: &Value, measure: &str, stat: &str) -> f64 {
    summary["measures"][measure]["time_ms"][stat]
        .as_f64()
        .expect("measure figure")
}

/// Errors of every kind. A poll that crossed the customer's own end and
/// got 404 (5005) is not among them: the engine counts it under its status
/// only, as the expected answer it is.
fn request_errors(summary: &Value) -> u64 {
    summary["requests"]["errors"].as_u64().unwrap_or(0)
}

/// Chats that failed or that the server cut short did not stop their
/// clients: there were such chats, and more chats began than there are
/// clients.
fn assert_clients_went_on(summary: &Value) {
    assert_eq!(summary["clients"]["started"].as_u64(), Some(CLIENTS));
    assert!(chats(summary, "started") > CLIENTS, "{}", summary["chats"]);
    let cut_short = chats(summary, "failed") + chats(summary, "ended_by_server");
    assert!(cut_short > 0, "{}", summary["chats"]);
}

/// The peak resident set of this process (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn added_latency_slows_both_views_and_fails_nothing() {
    let summary = chats_with(
        r#"
[[mock.faults]]
kind = "latency"
endpoints = ["version"]
delay = "40ms..60ms"
"#,
    );
    assert_eq!(request_errors(&summary), 0, "{summary:#}");
    for view in ["response_time_ms", "service_time_ms"] {
        let p50 = ms(&summary, "version", view, "p50");
        assert!((40.0..90.0).contains(&p50), "version {view} p50 {p50}");
        assert!(ms(&summary, "version", view, "min") >= 40.0);
    }
    assert!(ms(&summary, "request_chat", "service_time_ms", "p50") < 40.0);
    assert!(chats(&summary, "completed") > CLIENTS);
}

#[test]
fn error_responses_count_as_5xx_and_failed_chats_make_way_for_new_ones() {
    let summary = chats_with(
        r#"
[[mock.faults]]
kind = "error"
endpoints = ["request_chat"]
rate = 0.4
status = 503
code = 5001

[[mock.faults]]
kind = "error"
endpoints = ["version"]
rate = 0.3
status = 500
code = 5500
"#,
    );
    let refused = status_at(&summary, "request_chat", "503");
    let broken = status_at(&summary, "version", "500");
    assert!(refused > 0 && broken > 0, "{}", summary["endpoints"]);
    assert_eq!(errors(&summary, "http_5xx"), refused + broken);
    assert_eq!(kind_at(&summary, "request_chat", "http_5xx"), refused);
    // A chat whose Request Chat was refused is a failed chat; a failed
    // pre-chat call is not.
    assert_eq!(chats(&summary, "failed"), refused);
    assert_clients_went_on(&summary);
}

#[test]
fn client_error_responses_count_as_4xx_apart_from_5xx() {
    let summary = chats_with(
        r#"
[[mock.faults]]
kind = "error"
endpoints = ["version"]
rate = 0.5
status = 429
code = 5509
"#,
    );
    let refused = status_at(&summary, "version", "429");
    assert!(refused > 0, "{}", summary["endpoints"]);
    assert_eq!(errors(&summary, "http_4xx"), refused);
    assert_eq!(kind_at(&summary, "version", "http_4xx"), refused);
    assert_eq!(errors(&summary, "http_5xx"), 0);
    // A pre-chat call that failed does not fail the chat after it.
    assert_eq!(chats(&summary, "failed"), 0);
    assert!(
        chats(&summary, "completed") > CLIENTS,
        "{}",
        summary["chats"]
    );
}

/// Over TLS, as the embedded mock serves, and either HTTP version.
const VERSIONS: [&str; 2] = ["1.1", "2"];

fn with_http(faults: &str, http: &str) -> Value {
    let text = CHATS.replace("[target]\n", &format!("[target]\nhttp = \"{http}\"\n"));
    run(&format!("{text}\n{faults}"), 2)
}

// A reset is seen by hyper's client as a connection (HTTP/1.1) or stream
// (HTTP/2) that ended before the answer was complete. The transport reads
// that as a protocol error: no rustls error is in the chain, because the
// TLS session itself was sound up to the moment the peer went away
// (src/transport/classify.rs).
#[test]
fn resets_before_the_answer_are_protocol_errors() {
    for http in VERSIONS {
        let summary = with_http(
            r#"
[[mock.faults]]
kind = "reset"
endpoints = ["request_chat"]
rate = 0.3
at = "request"
"#,
            http,
        );
        let reset = kind_at(&summary, "request_chat", "protocol");
        assert!(reset > 0, "HTTP/{http}: {}", summary["endpoints"]);
        assert_eq!(errors(&summary, "protocol"), reset, "HTTP/{http}");
        assert_eq!(errors(&summary, "tls"), 0, "HTTP/{http}");
        assert_eq!(chats(&summary, "failed"), reset, "HTTP/{http}");
        assert_clients_went_on(&summary);
    }
}

#[test]
fn resets_in_the_middle_of_the_answer_are_protocol_errors() {
    for http in VERSIONS {
        let summary = with_http(
            r#"
[[mock.faults]]
kind = "reset"
endpoints = ["request_chat"]
rate = 0.3
at = "response"
"#,
            http,
        );
        let reset = kind_at(&summary, "request_chat", "protocol");
        assert!(reset > 0, "HTTP/{http}: {}", summary["endpoints"]);
        assert_eq!(errors(&summary, "protocol"), reset, "HTTP/{http}");
        assert_eq!(chats(&summary, "failed"), reset, "HTTP/{http}");
        assert_clients_went_on(&summary);
    }
}

#[test]
fn bodies_that_are_not_json_are_protocol_errors() {
    let summary = chats_with(
        r#"
[[mock.faults]]
kind = "malformed"
endpoints = ["request_chat"]
rate = 0.3
"#,
    );
    let malformed = kind_at(&summary, "request_chat", "protocol");
    assert!(malformed > 0, "{}", summary["endpoints"]);
    assert_eq!(errors(&summary, "protocol"), malformed);
    // The answer itself was a 200: every Request Chat has that status.
    let count = summary["endpoints"]["request_chat"]["count"].as_u64();
    assert_eq!(Some(status_at(&summary, "request_chat", "200")), count);
    assert_eq!(chats(&summary, "failed"), malformed);
    assert_clients_went_on(&summary);
}

#[test]
fn truncated_bodies_are_protocol_errors() {
    for http in VERSIONS {
        let summary = with_http(
            r#"
[[mock.faults]]
kind = "truncate"
endpoints = ["request_chat"]
rate = 0.3
"#,
            http,
        );
        let truncated = kind_at(&summary, "request_chat", "protocol");
        assert!(truncated > 0, "HTTP/{http}: {}", summary["endpoints"]);
        assert_eq!(errors(&summary, "protocol"), truncated, "HTTP/{http}");
        assert_eq!(chats(&summary, "failed"), truncated, "HTTP/{http}");
        assert_clients_went_on(&summary);
    }
}

#[test]
fn slow_bodies_past_the_request_timeout_are_timeouts() {
    // Request Chat's answer is over 50 bytes: at 20 ms a byte it needs
    // more than a second, twice the timeout set here.
    let text = CHATS
        .replace("request_timeout = \"2s\"", "request_timeout = \"500ms\"")
        .replace("poll_hold = \"500ms\"", "poll_hold = \"200ms\"");
    let faults = r#"
[[mock.faults]]
kind = "slow_body"
endpoints = ["request_chat"]
rate = 0.3
byte_every = "20ms"
"#;
    let summary = run(&format!("{text}\n{faults}"), 2);
    let slow = kind_at(&summary, "request_chat", "timeout");
    assert!(slow > 0, "{}", summary["endpoints"]);
    assert_eq!(errors(&summary, "timeout"), slow);
    let max = ms(&summary, "request_chat", "service_time_ms", "max");
    assert!((500.0..700.0).contains(&max), "timed out after {max} ms");
    assert_clients_went_on(&summary);
}

#[test]
fn chats_the_server_ends_are_counted_apart_and_clients_start_new_ones() {
    for how in ["agent", "inactivity", "failed"] {
        let summary = chats_with(&format!(
            r#"
[[mock.faults]]
kind = "end_chat"
endpoints = ["send_events"]
how = "{how}"
"#
        ));
        // The chat ends as its one message is sent, before the agent can
        // answer: the wait for the reply sees the end. The server's end
        // is an outcome of its own, not a failure.
        let ended = chats(&summary, "ended_by_server");
        assert!(ended > CLIENTS, "{how}: {}", summary["chats"]);
        assert_eq!(chats(&summary, "failed"), 0, "{how}");
        assert_eq!(chats(&summary, "completed"), 0, "{how}");
        assert_eq!(summary["requests"]["errors"].as_u64(), Some(0), "{how}");
        assert_eq!(summary["unknown_events"].as_u64(), Some(0), "{how}");
        assert_clients_went_on(&summary);
    }
}

/// An open-model probe at a fixed rate over two capped HTTP/1.1
/// connections on one worker, so that a held request keeps the next ones
/// waiting for a connection, as a real server's stall would.
fn probe(rate: u32, seconds: u32, faults: &str) -> String {
    format!(
        r#"
name = "co-probe"

[target]
http = "1.1"
connections = {{ mode = "shared", max = 2 }}

[load]
model = "open"
stages = [{{ duration = "0s", rate = {rate} }}, {{ duration = "{seconds}s", rate = {rate} }}]
arrival = "even"
grace = "2s"

[conversation]
probe = "availability"
{faults}
"#
    )
}

// The arithmetic. Arrivals come every 2.5 ms (R = 400/s) for T = 3 s:
// 1200 requests. Every P = 1 s the mock holds each request arriving in
// the first D = 250 ms until those 250 ms are over. Any 3 s window holds
// exactly 3 s x D/P = 750 ms of stall, wherever the wall clock puts it.
//
// Response time (from the scheduled arrival): an arrival s ms into a
// stall is answered about D - s later. The two connections are taken by
// the first two requests of the stall; the others wait in the pool and
// go out at its end. So the share of response times above x, for
// 0 < x < D, is (D - x)/P:
//   p90: (250 - x)/1000 = 0.10 -> x = 150 ms
//   p99: (250 - x)/1000 = 0.01 -> x = 240 ms
// The 100 requests that queue in a stall go out over two connections
// when it ends, which adds a few ms to each; hence the tolerance.
//
// Service time (from the actual send): only the two requests that hold
// the two connections when a stall begins wait in the mock: 2 per 400
// arrivals, 0.5 %. Everything else is a normal exchange of a few ms, so
// the p99 (the 1 % tail) holds none of the stall, while the max does.
const RATE: u32 = 400;
const SECONDS: u32 = 3;
const STALL: &str = r#"
[[mock.faults]]
kind = "stall"
every = "1s"
hold = "250ms"
"#;

#[test]
fn a_stall_shows_in_response_times_and_not_in_service_times() {
    let summary = run(&probe(RATE, SECONDS, STALL), 1);

    // Held, not dropped: every arrival was answered, none failed.
    let count = summary["endpoints"]["availability"]["count"]
        .as_u64()
        .unwrap();
    let planned = u64::from(RATE * SECONDS);
    assert!(count.abs_diff(planned) <= 2, "{count} of {planned}");
    assert_eq!(summary["requests"]["errors"].as_u64(), Some(0));

    let response = |stat| ms(&summary, "availability", "response_time_ms", stat);
    let service = |stat| ms(&summary, "availability", "service_time_ms", stat);
    let (p90, p99) = (response("p90"), response("p99"));
    assert!(
        (150.0 - 25.0..150.0 + 25.0).contains(&p90),
        "response p90 {p90}"
    );
    assert!(
        (240.0 - 25.0..240.0 + 25.0).contains(&p99),
        "response p99 {p99}"
    );
    assert!(service("p99") < 50.0, "service p99 {}", service("p99"));
    assert!(service("max") > 150.0, "service max {}", service("max"));

    // The arrivals held back are waiting for one of the two connections:
    // that is pool wait, the target's doing, while the generator itself
    // was on time. Every request has one sample of each part.
    let measure = |name, stat| measure_ms(&summary, name, stat);
    let pool_p99 = measure("pool_wait", "p99");
    assert!(
        (240.0 - 25.0..240.0 + 25.0).contains(&pool_p99),
        "pool_wait p99 {pool_p99}"
    );
    assert!(measure("send_lag", "p99") >= pool_p99);
    let sched_p99 = measure("sched_lag", "p99");
    assert!(sched_p99 < 50.0, "sched_lag p99 {sched_p99}");
    for name in ["pool_wait", "sched_lag", "send_lag"] {
        assert_eq!(
            summary["measures"][name]["count"].as_u64(),
            Some(count),
            "{name}"
        );
    }
    let warnings = summary["warnings"].to_string();
    assert!(
        warnings.contains("waited for a free connection"),
        "{warnings}"
    );
}

#[test]
fn without_a_stall_response_and_service_times_agree() {
    let summary = run(&probe(RATE, SECONDS, ""), 1);

    assert_eq!(summary["requests"]["errors"].as_u64(), Some(0));
    let view = |name, stat| ms(&summary, "availability", name, stat);
    // The p99 is the slowest 12 requests: one 30 ms pause of the generator
    // on a busy machine (or the two TLS handshakes at the start) delays
    // that many arrivals, and the response time rightly shows it. 50 ms
    // still tells this run from the stalled one, 200 ms apart.
    for (stat, tolerance) in [("p50", 5.0), ("p99", 50.0)] {
        let response = view("response_time_ms", stat);
        let service = view("service_time_ms", stat);
        assert!(
            response >= service && response - service < tolerance,
            "{stat}: response {response} ms, service {service} ms"
        );
    }
    assert!(view("response_time_ms", "p99") < 100.0);
    let pool_p99 = measure_ms(&summary, "pool_wait", "p99");
    assert!(pool_p99 < 50.0, "pool_wait p99 {pool_p99}");
}

#[test]
fn every_fault_survives_the_trip_through_to_toml() {
    let faults = r#"
[[mock.faults]]
kind = "latency"
endpoints = ["version", "poll_events"]
rate = 0.5
delay = "10ms..20ms"

[[mock.faults]]
kind = "error"
status = 500
code = 5500

[[mock.faults]]
kind = "stall"
every = "2s"
hold = "100ms"

[[mock.faults]]
kind = "reset"
at = "response"
rate = 0.01

[[mock.faults]]
kind = "malformed"

[[mock.faults]]
kind = "truncate"

[[mock.faults]]
kind = "slow_body"
byte_every = "5ms"

[[mock.faults]]
kind = "end_chat"
how = "inactivity"
rate = 0.25
"#;
    let s = scenario::parse(&format!("{CHATS}\n{faults}"), "t.toml").unwrap();
    assert_eq!(s.mock.faults.len(), 8);
    assert_eq!(scenario::parse(&s.to_toml(), "again").unwrap(), s);
}

#[test]
fn a_fault_of_an_unknown_kind_is_placed_and_named() {
    let text = format!("{CHATS}\n[[mock.faults]]\nkind = \"stal\"\n");
    let err = scenario::parse(&text, "t.toml").unwrap_err().to_string();
    assert!(err.starts_with("t.toml:"), "{err}");
    assert!(err.contains("mock.faults[0].kind"), "{err}");
    assert!(err.contains("\"stall\""), "{err}");
}
