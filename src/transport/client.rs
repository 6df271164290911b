//! One connection pool and the requests sent through it.
//!
//! A transport belongs to one worker thread (shared pool mode) or to one
//! virtual client (per-client mode). Its cap on HTTP/1.1 requests in flight
//! is a semaphore held for the whole exchange, so the wait for a permit is
//! the wait for a connection, recorded apart as `pool_wait`. HTTP/2 carries
//! many requests on one connection, so the cap stops applying as soon as
//! the target is seen to answer over HTTP/2.
//!
//! TODO(#3): hyper-util's pool keeps one HTTP/2 connection per target, so
//! once the server's stream limit (often 100 to 250) is taken by held long
//! polls, further requests queue inside that connection, unseen by
//! `pool_wait`; a pool that opens another HTTP/2 connection when the
//! streams run out would fix it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, Uri, Version};
use http_body_util::{BodyExt, Full};
use hyper_rustls::{DefaultServerNameResolver, HttpsConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::sync::{Semaphore, SemaphorePermit};

use super::classify;
use super::connector::SourceConnector;
use super::exchange::now;
use super::{ErrorKind, Exchange, TransportError, TransportShared};

type PoolClient = Client<HttpsConnector<SourceConnector>, Full<Bytes>>;

/// How long an idle connection is kept. Shorter than the keep-alive of
/// common servers (nginx closes after 75 s), so the pool seldom picks a
/// connection the server is closing at that moment.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(55);

/// A pool of connections to the target (hyper-util's client over a
/// hyper-rustls connector) and the timing of each request sent through it.
pub struct Transport {
    shared: Arc<TransportShared>,
    client: PoolClient,
    /// Present when a cap was set and HTTP/1.1 may be spoken.
    slots: Option<Semaphore>,
    /// Set once a response came over HTTP/2: the cap no longer applies.
    multiplexed: AtomicBool,
}

/// Why an exchange failed, before the times are attached.
struct Failure {
    kind: ErrorKind,
    detail: String,
}

impl Transport {
    /// A pool of connections (hyper_util legacy Client over hyper_rustls
    /// HttpsConnector). Opens nothing until the first request.
    pub fn new(shared: Arc<TransportShared>) -> Transport {
        let cap = shared.max_connections;
        Transport::with_cap(shared, cap)
    }

    /// The same with a cap of its own instead of the shared one: a run's
    /// cap is split among its workers, each with its own pool.
    pub fn with_cap(shared: Arc<TransportShared>, cap: Option<usize>) -> Transport {
        let client = pool_client(&shared);
        let slots = match cap {
            Some(cap) if !shared.is_http2_only() => {
                Some(Semaphore::new(cap.min(Semaphore::MAX_PERMITS)))
            }
            _ => None,
        };
        Transport {
            shared,
            client,
            slots,
            multiplexed: AtomicBool::new(false),
        }
    }

    /// Sends one request; `path_and_query` like
    /// `"/clientweb/api/v2/chats?tenantUrl=x"`. Measures the wait for a
    /// connection slot (`pool_wait`) separately from the exchange, which
    /// the request timeout bounds. Any status is an [`Exchange`]; only a
    /// missing or broken response is an error.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Exchange, TransportError> {
        let asked = now();
        let slot = self.slot().await;
        let sent = now();
        let pool_wait = sent.saturating_duration_since(asked);

        let outcome = match self.request(method, path_and_query, headers, body) {
            Ok(request) => self.exchange_within_timeout(request).await,
            Err(failure) => Err(failure),
        };
        let done = now();
        drop(slot);

        match outcome {
            Ok(response) => Ok(exchange(response, sent, done, pool_wait)),
            Err(Failure { kind, detail }) => {
                tracing::trace!(%kind, %detail, "request failed");
                Err(TransportError {
                    kind,
                    sent,
                    done,
                    pool_wait,
                    detail,
                })
            }
        }
    }

    /// Waits for a connection slot when the HTTP/1.1 cap applies.
    async fn slot(&self) -> Option<SemaphorePermit<'_>> {
        let slots = self.slots.as_ref()?;
        if self.multiplexed.load(Ordering::Relaxed) {
            return None;
        }
        // The semaphore is never closed, so acquiring cannot fail.
        slots.acquire().await.ok()
    }

    fn request(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<Request<Full<Bytes>>, Failure> {
        let uri = Uri::builder()
            .scheme(self.shared.scheme.clone())
            .authority(self.shared.authority.clone())
            .path_and_query(path_and_query)
            .build()
            .map_err(|err| Failure {
                kind: ErrorKind::Protocol,
                detail: format!("request path {path_and_query:?} is not a valid URI path: {err}"),
            })?;

        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers.clone();
        Ok(request)
    }

    async fn exchange_within_timeout(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Bytes>, Failure> {
        let limit = self.shared.request_timeout;
        match tokio::time::timeout(limit, self.exchange(request)).await {
            Ok(outcome) => outcome,
            Err(_elapsed) => Err(Failure {
                kind: ErrorKind::Timeout,
                detail: format!(
                    "no complete response within {}",
                    humantime::format_duration(limit)
                ),
            }),
        }
    }

    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<Response<Bytes>, Failure> {
        let response = self.client.request(request).await.map_err(|err| Failure {
            kind: classify::request_failure(&err),
            detail: classify::describe(&err),
        })?;
        self.note_version(response.version());

        let (head, body) = response.into_parts();
        let body = body.collect().await.map_err(|err| Failure {
            kind: classify::body_failure(&err),
            detail: classify::describe(&err),
        })?;
        Ok(Response::from_parts(head, body.to_bytes()))
    }

    fn note_version(&self, version: Version) {
        if version == Version::HTTP_2 && self.slots.is_some() {
            let first = !self.multiplexed.swap(true, Ordering::Relaxed);
            if first {
                tracing::debug!("target negotiated HTTP/2; the HTTP/1.1 connection cap is lifted");
            }
        }
    }
}

fn pool_client(shared: &TransportShared) -> PoolClient {
    let connector = HttpsConnector::new(
        shared.tcp.clone(),
        shared.tls.clone(),
        false,
        Arc::new(DefaultServerNameResolver::default()),
    );

    // No cap on idle connections: a long poll returns its connection to
    // the pool, and the next request must find it there rather than open
    // a new one, however many polls are out.
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_max_idle_per_host(usize::MAX)
        .http2_only(shared.is_http2_only())
        .build(connector)
}

fn exchange(
    response: Response<Bytes>,
    sent: std::time::Instant,
    done: std::time::Instant,
    pool_wait: Duration,
) -> Exchange {
    let (head, body) = response.into_parts();
    Exchange {
        sent,
        done,
        pool_wait,
        status: head.status.as_u16(),
        headers: head.headers,
        body,
    }
}
