//! The warm-up: a run opens its shared pool's connections before the plan's
//! clock starts, so the first arrivals do not wait for them. A raw HTTP/1.1
//! server on loopback records when each connection was accepted and when
//! its first request arrived.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use chatload::engine::{self, RunOptions};
use chatload::scenario;
use serde_json::Value;

const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
    Content-Length: 20\r\n\r\n{\"chat\":\"available\"}";

/// One accepted connection as the server saw it.
#[derive(Debug, Clone, Copy)]
struct Seen {
    accepted: Instant,
    first_request: Option<Instant>,
    requests: u64,
}

/// A loopback server answering every request with Check Availability's
/// answer, keeping a record of its connections in accept order.
struct Recorder {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    accepting: Option<JoinHandle<()>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let accepting = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || accept(&listener, &seen, &stop))
        };
        Recorder {
            url,
            seen,
            stop,
            accepting: Some(accepting),
        }
    }

    /// The connections seen so far.
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the blocked accept so that it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
    }
}

fn accept(listener: &TcpListener, seen: &Arc<Mutex<Vec<Seen>>>, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let index = {
            let mut seen = seen.lock().unwrap();
            seen.push(Seen {
                accepted: Instant::now(),
                first_request: None,
                requests: 0,
            });
            seen.len() - 1
        };
        let seen = seen.clone();
        std::thread::spawn(move || answer(stream, index, &seen));
    }
}

/// Answers each request head as it arrives; GETs carry no body.
fn answer(mut stream: TcpStream, index: usize, seen: &Mutex<Vec<Seen>>) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = stream.read(&mut buf) {
        if pending.is_empty() {
            let mut seen = seen.lock().unwrap();
            seen[index].first_request.get_or_insert_with(Instant::now);
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            seen.lock().unwrap()[index].requests += 1;
            if stream.write_all(ANSWER).is_err() {
                return;
            }
        }
    }
}

/// A probe at 2 arrivals a second for one second over at most four
/// connections: the first arrival is due half a second after the start,
/// and one connection is enough for all of them.
fn probe(url: &str, extra: &str) -> String {
    format!(
        r#"
name = "warm-up"

[target]
url = "{url}"
http = "1.1"
connections = {{ mode = "shared", max = 4 }}
request_timeout = "5s"
{extra}

[load]
model = "open"
stages = [{{ duration = "0s", rate = 2 }}, {{ duration = "1s", rate = 2 }}]
arrival = "even"
max_clients = 10
grace = "2s"

[conversation]
probe = "availability"
"#
    )
}

fn run(text: &str) -> (std::path::PathBuf, Value, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = scenario::parse(text, "warm.toml").expect("scenario parses");
    let options = RunOptions {
        out: Some(tmp.path().join("out")),
        quiet: true,
        workers: Some(1),
        ..RunOptions::default()
    };
    let outcome = engine::run(scenario, &options).expect("the run completes");
    let text = std::fs::read_to_string(outcome.dir.join("summary.json")).expect("summary.json");
    let summary = serde_json::from_str(&text).expect("summary.json is JSON");
    (outcome.dir, summary, tmp)
}

/// The run's connections, the preflight's left out (the first accepted:
/// it is made and closed before any worker starts), and how many of them
/// were accepted before the first request reached any.
fn before_first_request(seen: &[Seen]) -> (Vec<Seen>, usize) {
    let run: Vec<Seen> = seen.iter().skip(1).copied().collect();
    let first = run
        .iter()
        .filter_map(|s| s.first_request)
        .min()
        .expect("a request of the run arrived");
    let before = run.iter().filter(|s| s.accepted < first).count();
    (run, before)
}

fn endpoint_count(summary: &Value) -> u64 {
    summary["endpoints"]["availability"]["count"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn the_capped_pool_is_open_before_the_first_request() {
    let server = Recorder::start();
    let (_, summary, _tmp) = run(&probe(&server.url, ""));
    let seen = server.seen();
    let (run, before) = before_first_request(&seen);

    assert_eq!(
        before, 4,
        "every connection open before the first request: {seen:?}"
    );
    assert_eq!(run.len(), 4, "no more than the cap: {seen:?}");
    // Warm-up connects are not requests: the summary counts exactly the
    // requests the server answered, the preflight's aside.
    let answered: u64 = run.iter().map(|s| s.requests).sum();
    assert!(answered >= 2, "{seen:?}");
    assert_eq!(endpoint_count(&summary), answered, "{summary:#}");
    assert_eq!(
        summary["errors"]["connect"].as_u64(),
        Some(0),
        "{summary:#}"
    );
    let warnings = summary["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .all(|w| !w.as_str().unwrap().contains("warm-up")),
        "{warnings:?}"
    );
}

#[test]
fn without_warm_up_the_first_request_opens_its_own_connection() {
    let server = Recorder::start();
    let (_, summary, _tmp) = run(&probe(&server.url, "warm_up = false"));
    let seen = server.seen();
    let (_, before) = before_first_request(&seen);

    // Only the connection carrying the first request, accepted just
    // before the request itself.
    assert_eq!(before, 1, "{seen:?}");
    assert!(endpoint_count(&summary) >= 2, "{summary:#}");
}

#[test]
fn a_target_that_refuses_after_the_preflight_gives_a_warning_and_the_run_goes_on() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let preflight = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        // Closed before the answer: every connect after the preflight is
        // refused, the warm-up's included.
        drop(listener);
        let _ = stream.write_all(ANSWER);
    });
    let (dir, summary, _tmp) = run(&probe(&url, ""));
    preflight.join().unwrap();

    let warnings: Vec<&str> = summary["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let warm_up = warnings
        .iter()
        .find(|w| w.starts_with("warm-up opened 0 of "))
        .unwrap_or_else(|| panic!("a warm-up warning: {warnings:?}"));
    assert!(
        warm_up.contains(&format!("connections to {url}: connect: ")),
        "{warm_up}"
    );
    let connect = summary["errors"]["connect"].as_u64().unwrap_or(0);
    assert!(connect >= 2, "the requests failed to connect: {summary:#}");
    assert_eq!(endpoint_count(&summary), connect, "{summary:#}");
    for file in ["summary.json", "timeline.csv", "report.html"] {
        assert!(dir.join(file).is_file(), "{file} written");
    }
}
