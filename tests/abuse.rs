//! The mock contact center under abuse: malformed HTTP, oversized heads and
//! bodies, clients that stall, floods of bogus requests and clients that
//! reach for other clients' chats. The mock must not fall over, must keep
//! its memory bounded and must keep answering well-behaved clients on time.
//!
//! The mock runs inside this test process, on a loopback port chosen by the
//! system, and is spoken to over raw sockets where the abuse is below HTTP.

use std::time::{Duration, Instant};

use chatload::api::{ApiVersion, Credentials, Endpoint, TENANT_QUERY};
use chatload::mock::{EmbeddedMock, MockConfig, start_embedded};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Every exchange here ends well inside this, or the test fails.
const ANSWER_LIMIT: Duration = Duration::from_secs(5);

/// The mock's limit on the time a client takes over a request's head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// What a well-behaved client may wait while others abuse the mock.
const TIMELY: Duration = Duration::from_secs(1);

async fn plain_mock() -> EmbeddedMock {
    start_embedded(MockConfig::default(), false)
        .await
        .expect("the mock starts")
}

fn address(mock: &EmbeddedMock) -> String {
    mock.url.trim_start_matches("http://").to_owned()
}

fn path(endpoint: Endpoint, chat: &str) -> String {
    let path = endpoint.path(ApiVersion::V2, chat, "");
    format!("{path}?{TENANT_QUERY}=abuse.example")
}

fn authorization(client: &str) -> String {
    Credentials::new("Abuse", client).header_value()
}

/// A whole HTTP/1.1 request that closes its connection after the answer.
fn request(method: &str, target: &str, client: &str, body: &str) -> String {
    format!(
        "{method} {target} HTTP/1.1\r\nHost: mock\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        authorization(client),
        body.len()
    )
}

/// Sends raw bytes on a new connection and reads until the mock closes it.
async fn exchange(addr: &str, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect to the mock");
    // A mock that closes early may reset the rest of the write; what it
    // answered before that is still read below.
    let _ = stream.write_all(bytes).await;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(ANSWER_LIMIT, stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the mock neither answered nor closed");
    String::from_utf8_lossy(&answer).into_owned()
}

fn status(answer: &str) -> Option<u16> {
    let line = answer.lines().next()?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A Check Availability call by a good client; returns its status and how
/// long it took on the real clock.
async fn well_behaved_call(addr: &str) -> (Option<u16>, Duration) {
    let started = Instant::now();
    let text = request("GET", &path(Endpoint::Availability, ""), "good-client", "");
    let answer = exchange(addr, text.as_bytes()).await;
    (status(&answer), started.elapsed())
}

/// The resident memory of this process, where the system tells it.
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_http_is_refused_and_the_mock_keeps_serving() {
    let mock = plain_mock().await;
    let addr = address(&mock);
    let garbage: [&[u8]; 7] = [
        b"NONSENSE\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /x HTTP/1.1\r\nHost mock\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: m\r\nContent-Length: -1\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: m\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"\x00\x01\x02\xff\xfe\r\n\r\n",
        b"GET /\x7f HTTP/1.1\r\n\r\n",
    ];
    for bytes in garbage {
        let answer = exchange(&addr, bytes).await;
        let code = status(&answer);
        assert!(
            code.is_none() || code.is_some_and(|c| (400..500).contains(&c) || c == 505),
            "{:?} got {answer:?}",
            String::from_utf8_lossy(bytes)
        );
    }

    let (code, _) = well_behaved_call(&addr).await;
    assert_eq!(code, Some(200));
    mock.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_head_gets_431_or_a_closed_connection() {
    let mock = plain_mock().await;
    let addr = address(&mock);
    let huge = "x".repeat(256 * 1024);
    let text = format!(
        "GET {} HTTP/1.1\r\nHost: mock\r\nX-Padding: {huge}\r\n\r\n",
        path(Endpoint::Availability, "")
    );

    let answer = exchange(&addr, text.as_bytes()).await;
    assert!(matches!(status(&answer), None | Some(431)), "{answer:.200}");
    let (code, _) = well_behaved_call(&addr).await;
    assert_eq!(code, Some(200));
    mock.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_json_body_is_refused_before_it_is_all_sent() {
    let mock = plain_mock().await;
    let addr = address(&mock);
    // Announces 64 MiB but sends 2 MiB, twice the JSON limit: an answer can
    // only come if the mock gave up reading at its limit.
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: mock\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        path(Endpoint::RequestChat, ""),
        authorization("big-body"),
        64 * 1024 * 1024
    );
    let stream = TcpStream::connect(&addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..32 {
            writer.write_all(&chunk).await?;
        }
        // Keep the connection open: the body is never finished.
        tokio::time::sleep(ANSWER_LIMIT).await;
        Ok::<_, std::io::Error>(writer)
    });

    let mut answer = vec![0; 4096];
    let read = tokio::time::timeout(ANSWER_LIMIT, reader.read(&mut answer)).await;
    let read = read.expect("an answer before the body ends").unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
    assert!(matches!(status(&answer), Some(400 | 413)), "{answer}");
    assert!(
        answer.contains("limit"),
        "the answer names the limit: {answer}"
    );
    sender.abort();
    mock.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_clients_do_not_delay_a_well_behaved_one() {
    let mock = plain_mock().await;
    let addr = address(&mock);
    let half = format!(
        "GET {} HTTP/1.1\r\nHost: mock\r\nAuthorization: ",
        path(Endpoint::Availability, "")
    );
    let mut stalled = Vec::new();
    for n in 0..200 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        // Some send half a head, some only a piece of the HTTP/2 preface,
        // some nothing at all.
        match n % 4 {
            0 | 1 => stream.write_all(half.as_bytes()).await.unwrap(),
            2 => stream.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap(),
            _ => {}
        }
        stalled.push(stream);
    }

    for _ in 0..5 {
        let (code, took) = well_behaved_call(&addr).await;
        assert_eq!(code, Some(200));
        assert!(took < TIMELY, "a good call took {took:?}");
    }
    drop(stalled);
    mock.stop().await;
}

/// Reads from a stalled connection until the mock closes it; returns how
/// long that took on the (paused) clock.
async fn time_to_close(mut stream: TcpStream) -> Duration {
    let started = tokio::time::Instant::now();
    let mut sink = Vec::new();
    let closed = tokio::time::timeout(HEADER_TIMEOUT * 6, stream.read_to_end(&mut sink)).await;
    assert!(closed.is_ok(), "a stalled connection was never closed");
    started.elapsed()
}

// The paused clock jumps to the next timer whenever the runtime waits on a
// socket, which is exactly what a test of a timeout on a silent socket
// wants: the mock's timer fires without the test waiting ten real seconds.
#[tokio::test(start_paused = true)]
async fn stalled_connections_are_closed_after_the_header_timeout() {
    let mock = plain_mock().await;
    let addr = address(&mock);
    let half = format!("GET {} HTTP/1.1\r\nHost: m", path(Endpoint::Version, ""));
    let preludes: [&[u8]; 3] = [half.as_bytes(), b"PRI * HTTP/2.0\r\n", b""];

    for prelude in preludes {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        stream.write_all(prelude).await.unwrap();
        let took = time_to_close(stream).await;
        assert!(
            took >= HEADER_TIMEOUT && took <= HEADER_TIMEOUT * 3,
            "closed after {took:?} for {:?}",
            String::from_utf8_lossy(prelude)
        );
    }
    mock.stop().await;
}

/// Sends `count` bogus requests one after another on one keep-alive
/// connection; returns how many got an authorization refusal.
async fn bogus_requests(addr: String, count: usize) -> usize {
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let text = format!(
        "GET {} HTTP/1.1\r\nHost: mock\r\nAuthorization: Bearer stolen\r\n\r\n",
        path(Endpoint::Version, "")
    );
    let mut refused = 0;
    let mut buf = vec![0; 8192];
    for _ in 0..count {
        stream.write_all(text.as_bytes()).await.unwrap();
        let read = tokio::time::timeout(ANSWER_LIMIT, stream.read(&mut buf)).await;
        let read = read.expect("the mock answers a bogus request").unwrap();
        let answer = String::from_utf8_lossy(&buf[..read]);
        if matches!(status(&answer), Some(401 | 403)) {
            refused += 1;
        }
    }
    refused
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bogus_requests_leaves_good_clients_served_and_memory_bounded() {
    let mock = plain_mock().await;
    let addr = address(&mock);
    let before = resident_kib();

    let flood: Vec<_> = (0..4)
        .map(|_| tokio::spawn(bogus_requests(addr.clone(), 1250)))
        .collect();
    let mut slowest = Duration::ZERO;
    while !flood.iter().all(|task| task.is_finished()) {
        let (code, took) = well_behaved_call(&addr).await;
        assert_eq!(code, Some(200));
        slowest = slowest.max(took);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut refused = 0;
    for task in flood {
        refused += task.await.unwrap();
    }

    assert_eq!(refused, 5000, "every bogus request was refused");
    assert!(slowest < TIMELY, "the slowest good call took {slowest:?}");
    if let (Some(before), Some(after)) = (before, resident_kib()) {
        // Generous: other tests share this process and its allocator.
        let grown = after.saturating_sub(before);
        assert!(grown < 256 * 1024, "memory grew by {grown} KiB");
    }
    mock.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_clients_chat_is_not_found_however_often_it_is_tried() {
    let mock = plain_mock().await;
    let addr = address(&mock);
    let body = r#"{"phone_number":"","from":"owner","parameters":{}}"#;
    let created = exchange(
        &addr,
        request("POST", &path(Endpoint::RequestChat, ""), "owner", body).as_bytes(),
    )
    .await;
    assert_eq!(status(&created), Some(200), "{created}");
    let json = created.split("\r\n\r\n").nth(1).unwrap_or_default();
    let chat: serde_json::Value = serde_json::from_str(json).expect("a chat_id body");
    let chat = chat["chat_id"].as_str().expect("chat_id").to_owned();

    let events = r#"{"events":[{"event":"chat_session_end"}]}"#;
    for n in 0..20 {
        let intruder = format!("intruder-{n}");
        let tries = [
            request("GET", &path(Endpoint::PollEvents, &chat), &intruder, ""),
            request("GET", &path(Endpoint::History, &chat), &intruder, ""),
            request(
                "POST",
                &path(Endpoint::SendEvents, &chat),
                &intruder,
                events,
            ),
        ];
        for text in tries {
            let answer = exchange(&addr, text.as_bytes()).await;
            assert_eq!(status(&answer), Some(404), "{answer}");
        }
    }

    // The owner's chat was not ended by any of that.
    let history = request("GET", &path(Endpoint::History, &chat), "owner", "");
    let answer = exchange(&addr, history.as_bytes()).await;
    assert_eq!(status(&answer), Some(200), "{answer}");
    mock.stop().await;
}

/// The HTTP/2 connection preface and an empty SETTINGS frame: a client
/// that has done its part of the handshake.
const H2_HELLO: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0";

/// A mock whose connection limits are short and distinct, so that the
/// time a connection lasted tells which limit closed it.
async fn strict_mock(tune: impl FnOnce(&mut MockConfig)) -> EmbeddedMock {
    let mut config = MockConfig {
        header_timeout: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(20),
        body_timeout: Duration::from_secs(5),
        h2_ping_interval: Duration::from_secs(600),
        h2_ping_timeout: Duration::from_secs(600),
        ..MockConfig::default()
    };
    tune(&mut config);
    start_embedded(config, false)
        .await
        .expect("the mock starts")
}

/// Opens a connection, sends `bytes` and returns how long (on the paused
/// clock) the mock kept it open, and what it sent.
async fn held_open(addr: &str, bytes: &[u8]) -> (Duration, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    open_for(stream).await
}

/// Reads until the mock closes the connection; returns how long that took
/// on the paused clock, and what the mock sent.
async fn open_for(mut stream: TcpStream) -> (Duration, Vec<u8>) {
    let started = tokio::time::Instant::now();
    let mut answer = Vec::new();
    let limit = Duration::from_secs(3600);
    let closed = tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await;
    assert!(closed.is_ok(), "the connection was never closed");
    (started.elapsed(), answer)
}

/// Reads one HTTP/1.1 answer with a `Content-Length` from a kept-alive
/// connection; returns its status.
async fn read_answer(stream: &mut TcpStream) -> Option<u16> {
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(str::to_owned)
                })
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return status(&text);
            }
        }
        let read = stream.read(&mut buf).await.ok()?;
        if read == 0 {
            return None;
        }
        got.extend_from_slice(&buf[..read]);
    }
}

// The paused clock stands still while requests are served and jumps over
// the idle minute, so these take no real time.
#[tokio::test(start_paused = true)]
async fn a_kept_alive_connection_outlives_the_client_pools_idle_time() {
    let mock = plain_mock().await;
    let addr = address(&mock);
    let ask = format!(
        "GET {} HTTP/1.1\r\nHost: mock\r\nAuthorization: {}\r\n\r\n",
        path(Endpoint::Availability, ""),
        authorization("pooled")
    );
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream.write_all(ask.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut stream).await, Some(200));

    // Longer than the head limit, and than the 55 s chatload's pool keeps
    // an idle connection.
    tokio::time::sleep(Duration::from_secs(60)).await;
    stream.write_all(ask.as_bytes()).await.unwrap();
    assert_eq!(
        read_answer(&mut stream).await,
        Some(200),
        "closed while idle"
    );

    let idle = MockConfig::default().idle_timeout;
    let (took, _) = open_for(stream).await;
    assert!(
        took >= idle && took <= idle + HEADER_TIMEOUT,
        "an idle connection closed after {took:?}"
    );
    mock.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_http2_connection_that_opens_no_stream_is_closed() {
    let mock = strict_mock(|_| {}).await;
    let addr = address(&mock);
    // HEADERS (type 1) with END_STREAM but no END_HEADERS, on stream 1:
    // a head whose CONTINUATION never comes.
    let unfinished: Vec<u8> = [H2_HELLO, b"\0\0\x01\x01\x01\0\0\0\x01\x82"].concat();

    for (case, bytes) in [
        ("idle after SETTINGS", H2_HELLO),
        ("HEADERS cut", &unfinished),
    ] {
        let (took, _) = held_open(&addr, bytes).await;
        let head = Duration::from_secs(2);
        assert!(took >= head && took < head * 3, "{case}: open for {took:?}");
    }
    mock.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_http2_peer_that_never_answers_pings_is_closed() {
    let mock = strict_mock(|config| {
        config.header_timeout = Duration::from_secs(3600);
        config.idle_timeout = Duration::from_secs(3600);
        config.h2_ping_interval = Duration::from_secs(5);
        config.h2_ping_timeout = Duration::from_secs(5);
    })
    .await;
    let (took, _) = held_open(&address(&mock), H2_HELLO).await;
    assert!(
        took >= Duration::from_secs(10) && took < Duration::from_secs(60),
        "open for {took:?}"
    );
    mock.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_request_body_that_stops_halfway_times_out() {
    let mock = strict_mock(|_| {}).await;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: mock\r\nAuthorization: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"from\":",
        path(Endpoint::RequestChat, ""),
        authorization("slow-body")
    );
    let (took, answer) = held_open(&address(&mock), head.as_bytes()).await;
    let body = Duration::from_secs(5);
    assert!(took >= body && took < body * 2, "open for {took:?}");
    let answer = String::from_utf8_lossy(&answer);
    assert_eq!(status(&answer), Some(400), "{answer}");
    assert!(answer.contains("did not arrive within"), "{answer}");
    mock.stop().await;
}
