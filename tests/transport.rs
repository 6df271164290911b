//! The transport against tiny servers written here: plain and TLS, HTTP/1.1
//! and HTTP/2, and servers that misbehave on purpose (refuse, stall, reset).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chatload::scenario::HttpVersion;
use chatload::transport::{
    ErrorKind, Exchange, Headers, Transport, TransportConfig, TransportError, TransportShared,
    raise_fd_limit,
};
use http::{HeaderMap, Method, Request, Response, Version};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const BODY: &[u8] = b"hello from the test server";
/// Server hold and request timeout for the tests about waiting. These run
/// on the real clock: tokio's paused clock jumps to the next timer whenever
/// the runtime waits on a socket, so with real loopback I/O it fires
/// timeouts that never happened.
const SHORT: Duration = Duration::from_millis(250);
const PATH: &str = "/clientweb/api/v2/availability?tenantUrl=test.example";

/// What a test server saw, shared with the test.
#[derive(Clone, Default)]
struct Seen {
    connections: Arc<AtomicUsize>,
    peers: Arc<Mutex<Vec<IpAddr>>>,
    versions: Arc<Mutex<Vec<Version>>>,
}

/// A server on a loopback port of the system's choosing, stopped on drop.
struct Server {
    addr: SocketAddr,
    seen: Seen,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A self-signed certificate for 127.0.0.1 and its PEM.
struct Identity {
    cert: CertificateDer<'static>,
    key: Vec<u8>,
    pem: String,
}

fn identity() -> Identity {
    let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
    let certified = rcgen::generate_simple_self_signed(names).unwrap();
    Identity {
        cert: certified.cert.der().clone(),
        key: certified.signing_key.serialize_der(),
        pem: certified.cert.pem(),
    }
}

fn server_tls(identity: &Identity) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key.clone()));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![identity.cert.clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// An HTTP server answering every request with [`BODY`] after `hold`,
/// over TLS when `tls` is given; HTTP/1.1 or HTTP/2 as the client speaks.
async fn http_server(tls: Option<Arc<ServerConfig>>, hold: Duration) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Seen::default();

    let state = seen.clone();
    let task = tokio::spawn(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            state.connections.fetch_add(1, Ordering::SeqCst);
            state.peers.lock().unwrap().push(peer.ip());
            tokio::spawn(serve_connection(stream, tls.clone(), state.clone(), hold));
        }
    });
    Server { addr, seen, task }
}

async fn serve_connection(
    stream: TcpStream,
    tls: Option<Arc<ServerConfig>>,
    seen: Seen,
    hold: Duration,
) {
    let service = service_fn(move |request: Request<Incoming>| {
        seen.versions.lock().unwrap().push(request.version());
        async move {
            tokio::time::sleep(hold).await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(BODY))))
        }
    });

    let builder = auto::Builder::new(TokioExecutor::new());
    match tls {
        Some(config) => {
            let Ok(stream) = tokio_rustls::TlsAcceptor::from(config).accept(stream).await else {
                return;
            };
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
        None => {
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    }
}

/// A raw TCP server running `behaviour` on each connection.
async fn raw_server<F, Fut>(behaviour: F) -> Server
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Seen::default();

    let state = seen.clone();
    let task = tokio::spawn(async move {
        while let Ok((stream, _peer)) = listener.accept().await {
            state.connections.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(behaviour(stream));
        }
    });
    Server { addr, seen, task }
}

async fn read_request_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
}

fn config(scheme: &str, addr: SocketAddr, http: HttpVersion) -> TransportConfig {
    TransportConfig {
        base_url: format!("{scheme}://{addr}"),
        http,
        ca_cert_pem: None,
        use_system_roots: false,
        insecure: false,
        request_timeout: Duration::from_secs(10),
        max_connections: None,
        source_addrs: Vec::new(),
    }
}

/// Runs a test inside a `LocalSet`: the transport drives its connections
/// as local tasks of the calling thread.
async fn local<F: Future>(test: F) -> F::Output {
    tokio::task::LocalSet::new().run_until(test).await
}

fn transport(cfg: &TransportConfig) -> Transport {
    Transport::new(TransportShared::new(cfg).unwrap())
}

async fn get(transport: &Transport) -> Result<Exchange, TransportError> {
    transport
        .send(
            Method::GET,
            PATH,
            Headers::shared(&HeaderMap::new()),
            Bytes::new(),
        )
        .await
}

/// Sends one request under `http` and returns the version the server saw.
async fn version_seen(http: HttpVersion, over_tls: bool) -> Version {
    let identity = identity();
    let server = http_server(over_tls.then(|| server_tls(&identity)), Duration::ZERO).await;
    let mut cfg = config(if over_tls { "https" } else { "http" }, server.addr, http);
    cfg.ca_cert_pem = Some(identity.pem.into_bytes());

    let exchange = get(&transport(&cfg)).await.unwrap();
    assert_eq!(exchange.status, 200);
    assert_eq!(&exchange.body[..], BODY);
    assert!(exchange.done >= exchange.sent);

    let versions = server.seen.versions.lock().unwrap().clone();
    assert_eq!(versions.len(), 1);
    versions[0]
}

#[tokio::test]
async fn plain_http1_gets_the_body() {
    local(async {
        assert_eq!(
            version_seen(HttpVersion::Http1, false).await,
            Version::HTTP_11
        );
    })
    .await
}

#[tokio::test]
async fn plain_http2_uses_prior_knowledge() {
    local(async {
        assert_eq!(
            version_seen(HttpVersion::Http2, false).await,
            Version::HTTP_2
        );
    })
    .await
}

#[tokio::test]
async fn plain_auto_speaks_http1() {
    local(async {
        assert_eq!(
            version_seen(HttpVersion::Auto, false).await,
            Version::HTTP_11
        );
    })
    .await
}

#[tokio::test]
async fn tls_http1_offers_only_http1() {
    local(async {
        assert_eq!(
            version_seen(HttpVersion::Http1, true).await,
            Version::HTTP_11
        );
    })
    .await
}

#[tokio::test]
async fn tls_http2_gets_the_body() {
    local(async {
        assert_eq!(
            version_seen(HttpVersion::Http2, true).await,
            Version::HTTP_2
        );
    })
    .await
}

#[tokio::test]
async fn tls_auto_takes_http2_when_the_server_offers_it() {
    local(async {
        assert_eq!(version_seen(HttpVersion::Auto, true).await, Version::HTTP_2);
    })
    .await
}

#[tokio::test]
async fn a_ca_file_that_does_not_match_is_a_tls_error() {
    local(async {
        let server = http_server(Some(server_tls(&identity())), Duration::ZERO).await;
        let mut cfg = config("https", server.addr, HttpVersion::Auto);
        cfg.ca_cert_pem = Some(identity().pem.into_bytes());

        let err = get(&transport(&cfg)).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Tls, "{err}");
        assert!(
            err.detail.to_lowercase().contains("certificate"),
            "{}",
            err.detail
        );
    })
    .await
}

#[tokio::test]
async fn insecure_accepts_a_certificate_nobody_trusts() {
    local(async {
        let server = http_server(Some(server_tls(&identity())), Duration::ZERO).await;
        let mut cfg = config("https", server.addr, HttpVersion::Auto);
        cfg.insecure = true;

        let exchange = get(&transport(&cfg)).await.unwrap();
        assert_eq!(exchange.status, 200);
        assert_eq!(&exchange.body[..], BODY);
    })
    .await
}

#[tokio::test]
async fn a_refused_connection_is_a_connect_error() {
    local(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);

        for scheme in ["http", "https"] {
            let mut cfg = config(scheme, addr, HttpVersion::Auto);
            cfg.insecure = true;
            let err = get(&transport(&cfg)).await.unwrap_err();
            assert_eq!(err.kind, ErrorKind::Connect, "{scheme}: {err}");
        }
    })
    .await
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_on_time() {
    local(async {
        let server = raw_server(|mut stream| async move {
            let mut buf = [0u8; 1024];
            while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
        })
        .await;
        let mut cfg = config("http", server.addr, HttpVersion::Http1);
        cfg.request_timeout = SHORT;

        let err = get(&transport(&cfg)).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
        let took = err.done - err.sent;
        assert!(
            took >= SHORT && took < SHORT + Duration::from_secs(2),
            "{took:?}"
        );
    })
    .await
}

#[tokio::test]
async fn a_reset_in_the_middle_of_the_body_is_a_protocol_error() {
    local(async {
        let server = raw_server(|mut stream| async move {
            read_request_head(&mut stream).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nonly part of it";
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.flush().await;
            // Zero linger turns the close into a reset.
            let _ = stream.set_zero_linger();
        })
        .await;
        let cfg = config("http", server.addr, HttpVersion::Http1);

        let err = get(&transport(&cfg)).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol, "{err}");
    })
    .await
}

#[tokio::test]
async fn a_malformed_response_is_a_protocol_error() {
    local(async {
        let server = raw_server(|mut stream| async move {
            read_request_head(&mut stream).await;
            let _ = stream.write_all(b"this is not http\r\n\r\n").await;
        })
        .await;
        let cfg = config("http", server.addr, HttpVersion::Http1);

        let err = get(&transport(&cfg)).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol, "{err}");
    })
    .await
}

#[tokio::test]
async fn the_request_over_the_cap_waits_and_reports_it_as_pool_wait() {
    local(async {
        let hold = SHORT;
        let server = http_server(None, hold).await;
        let mut cfg = config("http", server.addr, HttpVersion::Http1);
        cfg.max_connections = Some(1);
        let transport = transport(&cfg);

        let (first, second) = tokio::join!(get(&transport), get(&transport));
        let (first, second) = (first.unwrap(), second.unwrap());

        assert!(
            first.pool_wait < Duration::from_secs(1),
            "{:?}",
            first.pool_wait
        );
        assert!(second.pool_wait >= hold, "{:?}", second.pool_wait);
        assert!(second.sent >= first.done);
        assert_eq!(server.seen.connections.load(Ordering::SeqCst), 1);
    })
    .await
}

#[tokio::test]
async fn connections_are_reused() {
    local(async {
        let identity = identity();
        let server = http_server(Some(server_tls(&identity)), Duration::ZERO).await;
        let mut cfg = config("https", server.addr, HttpVersion::Http1);
        cfg.ca_cert_pem = Some(identity.pem.into_bytes());
        let transport = transport(&cfg);

        for _ in 0..3 {
            assert_eq!(get(&transport).await.unwrap().status, 200);
        }
        assert_eq!(server.seen.connections.load(Ordering::SeqCst), 1);
        assert_eq!(server.seen.versions.lock().unwrap().len(), 3);
    })
    .await
}

#[tokio::test]
async fn new_connections_take_the_source_addresses_in_turn() {
    local(async {
        let server = http_server(None, Duration::ZERO).await;
        let mut cfg = config("http", server.addr, HttpVersion::Http1);
        cfg.source_addrs = vec!["127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap()];
        let shared = TransportShared::new(&cfg).unwrap();

        // Two transports are two pools: each must open its own connection, and
        // the rotation is shared, so the second one binds the second address.
        for _ in 0..2 {
            let transport = Transport::new(shared.clone());
            assert_eq!(get(&transport).await.unwrap().status, 200);
        }

        let mut peers = server.seen.peers.lock().unwrap().clone();
        peers.sort();
        let expected: Vec<IpAddr> =
            vec!["127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap()];
        assert_eq!(peers, expected);
    })
    .await
}

#[test]
fn a_base_url_with_a_path_is_a_usage_error() {
    let mut cfg = config(
        "https",
        "127.0.0.1:8443".parse().unwrap(),
        HttpVersion::Auto,
    );
    cfg.base_url = "https://127.0.0.1:8443/clientweb".to_owned();
    cfg.insecure = true;

    let err = TransportShared::new(&cfg).unwrap_err();
    assert!(chatload::exit::is_usage(&err), "{err:#}");
}

#[test]
fn raising_the_fd_limit_never_lowers_it() {
    let (soft, hard) = rlimit::Resource::NOFILE.get().unwrap();

    let raised = raise_fd_limit(soft.saturating_add(1));
    assert!(raised >= soft);
    assert_eq!(raised, soft.saturating_add(1).min(hard).max(soft));

    assert!(raise_fd_limit(1) >= raised);
}

/// Sends three requests at once; all must get a response.
async fn three_at_once(transport: &Transport) -> [Exchange; 3] {
    let (a, b, c) = tokio::join!(get(transport), get(transport), get(transport));
    [a.unwrap(), b.unwrap(), c.unwrap()]
}

#[tokio::test]
async fn the_cap_does_not_hold_back_http2_requests() {
    local(async {
        let hold = SHORT;
        let server = http_server(None, hold).await;
        let mut cfg = config("http", server.addr, HttpVersion::Http2);
        cfg.max_connections = Some(1);

        for exchange in three_at_once(&transport(&cfg)).await {
            assert!(exchange.pool_wait < hold / 2, "{:?}", exchange.pool_wait);
        }
        assert_eq!(server.seen.connections.load(Ordering::SeqCst), 1);
    })
    .await
}

#[tokio::test]
async fn the_cap_is_lifted_once_alpn_chose_http2() {
    local(async {
        let identity = identity();
        let hold = SHORT;
        let server = http_server(Some(server_tls(&identity)), hold).await;
        let mut cfg = config("https", server.addr, HttpVersion::Auto);
        cfg.ca_cert_pem = Some(identity.pem.into_bytes());
        cfg.max_connections = Some(1);
        let transport = transport(&cfg);

        get(&transport).await.unwrap();
        for exchange in three_at_once(&transport).await {
            assert!(exchange.pool_wait < hold / 2, "{:?}", exchange.pool_wait);
        }
        assert_eq!(server.seen.connections.load(Ordering::SeqCst), 1);
        assert!(
            server
                .seen
                .versions
                .lock()
                .unwrap()
                .iter()
                .all(|v| *v == Version::HTTP_2)
        );
    })
    .await
}

#[tokio::test]
async fn concurrent_first_requests_share_one_negotiated_http2_connection() {
    local(async {
        let identity = identity();
        let server = http_server(Some(server_tls(&identity)), Duration::ZERO).await;
        let mut cfg = config("https", server.addr, HttpVersion::Auto);
        cfg.ca_cert_pem = Some(identity.pem.into_bytes());

        for exchange in three_at_once(&transport(&cfg)).await {
            assert_eq!(exchange.status, 200);
        }
        assert_eq!(server.seen.versions.lock().unwrap().len(), 3);
    })
    .await
}

#[tokio::test]
async fn http2_opens_another_connection_once_one_carries_a_hundred_streams() {
    local(async {
        let server = http_server(None, SHORT).await;
        let cfg = config("http", server.addr, HttpVersion::Http2);
        let transport = std::rc::Rc::new(transport(&cfg));

        // One more than a connection carries: the last one needs a second.
        let mut requests = tokio::task::JoinSet::new();
        for _ in 0..101 {
            let transport = transport.clone();
            requests.spawn_local(async move { get(&transport).await.map(|ex| ex.status) });
        }
        while let Some(status) = requests.join_next().await {
            assert_eq!(status.unwrap().unwrap(), 200);
        }
        assert_eq!(server.seen.connections.load(Ordering::SeqCst), 2);
    })
    .await
}

#[tokio::test]
async fn a_connection_the_server_closed_after_answering_is_not_reused() {
    local(async {
        let server = raw_server(|mut stream| async move {
            read_request_head(&mut stream).await;
            let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
            let _ = stream.write_all(answer.as_bytes()).await;
            // Then the server closes without saying so in a header.
        })
        .await;
        let transport = transport(&config("http", server.addr, HttpVersion::Http1));

        for _ in 0..2 {
            let exchange = get(&transport).await.unwrap();
            assert_eq!(&exchange.body[..], b"ok");
        }
        assert_eq!(server.seen.connections.load(Ordering::SeqCst), 2);
    })
    .await
}

#[tokio::test]
async fn a_warm_up_opens_connections_up_to_the_cap_and_sends_nothing() {
    local(async {
        let identity = identity();
        let server = http_server(Some(server_tls(&identity)), Duration::ZERO).await;
        let mut cfg = config("https", server.addr, HttpVersion::Http1);
        cfg.ca_cert_pem = Some(identity.pem.into_bytes());
        let transport = Transport::with_cap(TransportShared::new(&cfg).unwrap(), Some(3));

        let warmed = transport.warm(5).await;
        assert_eq!((warmed.opened, warmed.tried), (3, 3), "{warmed:?}");
        assert_eq!(warmed.failure, None);
        assert_eq!(server.seen.connections.load(Ordering::SeqCst), 3);
        assert!(server.seen.versions.lock().unwrap().is_empty());

        // The requests find them idle: nothing more is opened.
        for _ in 0..3 {
            assert_eq!(get(&transport).await.unwrap().status, 200);
        }
        assert_eq!(server.seen.connections.load(Ordering::SeqCst), 3);
    })
    .await
}

#[tokio::test]
async fn a_warm_up_under_auto_that_finds_http2_opens_one_connection() {
    local(async {
        let identity = identity();
        let server = http_server(Some(server_tls(&identity)), Duration::ZERO).await;
        let mut cfg = config("https", server.addr, HttpVersion::Auto);
        cfg.ca_cert_pem = Some(identity.pem.into_bytes());
        let transport = Transport::with_cap(TransportShared::new(&cfg).unwrap(), Some(8));

        let warmed = transport.warm(8).await;
        assert_eq!((warmed.opened, warmed.tried), (1, 1), "{warmed:?}");
        let exchange = get(&transport).await.unwrap();
        assert_eq!(exchange.status, 200);
        assert_eq!(server.seen.connections.load(Ordering::SeqCst), 1);
        assert_eq!(server.seen.versions.lock().unwrap()[..], [Version::HTTP_2]);
    })
    .await
}

#[tokio::test]
async fn a_warm_up_that_is_refused_says_why_and_leaves_the_pool_usable() {
    local(async {
        let addr = {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            listener.local_addr().unwrap()
        };
        let cfg = config("http", addr, HttpVersion::Http1);
        let transport = Transport::with_cap(TransportShared::new(&cfg).unwrap(), Some(4));

        let warmed = transport.warm(4).await;
        assert_eq!(warmed.opened, 0, "{warmed:?}");
        let failure = warmed.failure.expect("the first failure");
        assert_eq!(failure.kind, ErrorKind::Connect, "{}", failure.detail);
        // The failed connects gave their places under the cap back: four
        // requests at once each try to connect rather than queue forever.
        let all = async {
            tokio::join!(
                get(&transport),
                get(&transport),
                get(&transport),
                get(&transport)
            )
        };
        let (a, b, c, d) = tokio::time::timeout(Duration::from_secs(10), all)
            .await
            .expect("no request is left queued");
        for result in [a, b, c, d] {
            assert_eq!(result.unwrap_err().kind, ErrorKind::Connect);
        }
    })
    .await
}

/// The first connection of [`a_graceful_goaway_sends_the_refused_requests_again`]:
/// HTTP/2 framed by hand, because a server library names every stream it
/// has received as processed. It reads the requests of streams 1, 3 and
/// 5, says GOAWAY with stream 1 as the last it will process, answers
/// stream 1 and closes.
async fn goaway_after_the_first_stream(mut stream: TcpStream) {
    const SETTINGS: u8 = 0x4;
    const HEADERS: u8 = 0x1;
    const GOAWAY: u8 = 0x7;
    const END_STREAM_AND_HEADERS: u8 = 0x5;
    let frame = |kind: u8, flags: u8, id: u32, payload: &[u8]| {
        let mut out = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        out.extend([kind, flags]);
        out.extend(id.to_be_bytes());
        out.extend(payload);
        out
    };

    let mut preface = [0u8; 24];
    if stream.read_exact(&mut preface).await.is_err() {
        return;
    }
    let _ = stream.write_all(&frame(SETTINGS, 0, 0, &[])).await;
    let mut streams = Vec::new();
    while streams.len() < 3 {
        let mut head = [0u8; 9];
        if stream.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0u8; len];
        if stream.read_exact(&mut payload).await.is_err() {
            return;
        }
        let id = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
        match head[3] {
            HEADERS => streams.push(id),
            SETTINGS if head[4] & 1 == 0 => {
                let _ = stream.write_all(&frame(SETTINGS, 1, 0, &[])).await;
            }
            _ => {}
        }
    }

    // Last stream 1, no error: streams 3 and 5 were never processed.
    let goaway = frame(GOAWAY, 0, 0, &[0, 0, 0, 1, 0, 0, 0, 0]);
    // ":status: 200" is entry 8 of HPACK's static table.
    let answer = frame(HEADERS, END_STREAM_AND_HEADERS, streams[0], &[0x88]);
    let _ = stream.write_all(&[goaway, answer].concat()).await;
    let _ = stream.flush().await;
    tokio::time::sleep(SHORT).await;
}

/// A plain HTTP/2 server whose first connection ends in a GOAWAY (see
/// [`goaway_after_the_first_stream`]) and whose later ones answer.
async fn goaway_server() -> Server {
    let first = Arc::new(AtomicUsize::new(0));
    raw_server(move |stream| {
        let first = first.fetch_add(1, Ordering::SeqCst) == 0;
        async move {
            if first {
                goaway_after_the_first_stream(stream).await;
            } else {
                serve_connection(stream, None, Seen::default(), Duration::ZERO).await;
            }
        }
    })
    .await
}

#[tokio::test]
async fn a_graceful_goaway_sends_the_refused_requests_again() {
    local(async {
        let server = goaway_server().await;
        let cfg = config("http", server.addr, HttpVersion::Http2);

        // Three GETs on the first connection: the server answers one and
        // turns the other two away; each goes again, once, on a new one.
        let exchanges = three_at_once(&transport(&cfg)).await;
        let statuses: Vec<u16> = exchanges.iter().map(|e| e.status).collect();
        assert_eq!(statuses, [200, 200, 200]);
        let bodies = exchanges.iter().filter(|e| &e.body[..] == BODY).count();
        assert_eq!(bodies, 2, "two answered by the second connection");
        assert_eq!(server.seen.connections.load(Ordering::SeqCst), 2);
    })
    .await
}

#[tokio::test]
async fn a_post_turned_away_by_a_goaway_is_a_protocol_error_not_sent_twice() {
    local(async {
        let server = goaway_server().await;
        let transport = transport(&config("http", server.addr, HttpVersion::Http2));
        let none = HeaderMap::new();
        let post = || {
            let body = Bytes::from_static(b"{}");
            transport.send(Method::POST, PATH, Headers::shared(&none), body)
        };

        let (a, b, c) = tokio::join!(post(), post(), post());
        let refused: Vec<_> = [a, b, c].into_iter().filter_map(Result::err).collect();
        assert_eq!(refused.len(), 2, "the two streams above the last one");
        for err in refused {
            assert_eq!(err.kind, ErrorKind::Protocol, "{}", err.detail);
        }
        assert_eq!(server.seen.connections.load(Ordering::SeqCst), 1);
    })
    .await
}
