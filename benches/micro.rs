//! Micro-benchmarks of the hot paths: recording a request, formatting the
//! Authorization header, serialising a client event, parsing a poll
//! response, and the once-a-second harvest of a busy probe run. A plain
//! harness (no extra crate): each case runs for a fixed number of
//! iterations after a warm-up and prints nanoseconds per call.
//!
//! `cargo bench --bench micro`. For instruction counts that noise does not
//! disturb: `valgrind --tool=callgrind target/release/deps/micro-*`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use chatload::api::events::EventsRef;
use chatload::api::{ClientEvent, Credentials, Endpoint, EventsBody, ServerEvent};
use chatload::metrics::{Harvester, Measure, Outcome, Snapshot, WorkerMetrics};

const POLL_RESPONSE: &str = r#"{"events":[
 {"event":"chat_session_party_joined","party_id":"FA713225-A136-4EE4-AF5A-467019A84D67",
  "first_name":"Ann","last_name":"Smith","display_name":"Ann","type":"internal",
  "timestamp":"1614739600"},
 {"event":"chat_session_status","state":"connected","ewt":"0"},
 {"event":"chat_session_typing","party_id":"FA713225-A136-4EE4-AF5A-467019A84D67",
  "timestamp":"1614739605"},
 {"event":"chat_session_message","party_id":"FA713225-A136-4EE4-AF5A-467019A84D67",
  "msg_id":"4","msg":"Hello, how can I help?","msg_text":"Hello, how can I help?",
  "timestamp":"1614739607"}
]}"#;

fn bench(name: &str, iterations: u64, mut f: impl FnMut(u64)) {
    for i in 0..iterations / 10 {
        f(i);
    }
    let start = Instant::now();
    for i in 0..iterations {
        f(i);
    }
    let per_call = start.elapsed().as_nanos() as f64 / iterations as f64;
    println!("{name:<40} {per_call:>10.1} ns/call");
}

/// One second of the overhead benchmark's probe at 85 000 requests/s:
/// responses of 0.1 to 5 ms, send lags of up to a millisecond.
fn probe_interval(metrics: &mut WorkerMetrics, seed: u64) -> Snapshot {
    let base = Instant::now();
    for i in 0..85_000u64 {
        let spread = (i * 7919 + seed) % 4900;
        let sent = base + Duration::from_micros(spread % 1000);
        let done = sent + Duration::from_micros(100 + spread);
        metrics.record_request(
            Endpoint::Availability,
            base,
            sent,
            done,
            Outcome::Status(200),
        );
        metrics.record_measure(Measure::PoolWait, Duration::ZERO);
        metrics.record_measure(Measure::SchedLag, sent - base);
        metrics.record_measure(Measure::SendLag, sent - base);
    }
    metrics.take()
}

/// The harvester's share of each second, timed apart from recording it.
fn bench_harvest() {
    const SECONDS: u64 = 200;
    let mut metrics = WorkerMetrics::new();
    let mut harvester = Harvester::new(std::time::SystemTime::now());
    let mut spent = Duration::ZERO;
    for k in 0..SECONDS {
        let snapshot = probe_interval(&mut metrics, k);
        let start = Instant::now();
        harvester.add_interval(k, Duration::from_secs(1), snapshot);
        spent += start.elapsed();
    }
    black_box(harvester.finish());
    let per_call = spent.as_nanos() as f64 / SECONDS as f64;
    println!(
        "{:<40} {per_call:>10.1} ns/call",
        "harvest one probe interval"
    );
}

fn main() {
    bench_harvest();

    let mut metrics = WorkerMetrics::new();
    let base = Instant::now();
    bench("record_request + 3 measures", 5_000_000, |i| {
        let sent = base + Duration::from_micros(i % 1000);
        let done = sent + Duration::from_micros(100 + i % 5000);
        metrics.record_request(Endpoint::SendEvents, base, sent, done, Outcome::Status(200));
        metrics.record_measure(Measure::PoolWait, Duration::ZERO);
        metrics.record_measure(Measure::SchedLag, sent - base);
        metrics.record_measure(Measure::SendLag, sent - base);
    });
    black_box(metrics.take());

    let creds = Credentials::new("chatload", "3f2c9a1e-2d4b-4c7e-9f00-1a2b3c4d5e6f");
    bench("authorization header", 2_000_000, |_| {
        black_box(creds.header_value());
    });

    let event = ClientEvent::Message {
        msg_id: "d6c1adc2-385b-42e5-9e0a-1883c2bc5f81:1".into(),
        msg: "Hello, I have a question about my order.".into(),
        msg_text: None,
        channel: None,
    };
    bench("serialise a send-events body", 1_000_000, |_| {
        let body = EventsRef {
            events: std::slice::from_ref(&event),
        };
        black_box(serde_json::to_vec(&body).unwrap_or_default());
    });

    bench("parse a 4-event poll response", 200_000, |_| {
        let parsed: EventsBody<ServerEvent> =
            serde_json::from_str(black_box(POLL_RESPONSE)).expect("valid poll response");
        black_box(parsed);
    });

    bench("parse an empty poll response", 2_000_000, |_| {
        let parsed: EventsBody<ServerEvent> =
            serde_json::from_str(black_box(r#"{"events":[]}"#)).expect("valid");
        black_box(parsed);
    });
}
