//! One virtual client's way of calling the API: its identity and headers,
//! the worker it lives on, and a `call` that sends a request and records
//! the measurement, whatever the outcome.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use rand::rngs::SmallRng;
use tokio::sync::watch;
use tokio::time::Instant;

use super::control::Phase;
use crate::api::paths::Verb;
use crate::api::{ApiVersion, Credentials, Endpoint, WEBCHAT_CLIENT_ID};
use crate::metrics::{Measure, Outcome, WorkerMetrics};
use crate::scenario::{Connections, Scenario};
use crate::transport::{Exchange, Headers, ResponseHeaders, Transport, TransportShared};

/// What every client on one worker thread shares. Lives in an `Rc`: a
/// worker is one thread, so nothing here needs a lock.
pub struct WorkerCtx {
    /// The run's scenario.
    pub scenario: Arc<Scenario>,
    /// This worker's recorder; borrowed for the length of one record call.
    pub metrics: RefCell<WorkerMetrics>,
    /// Connection settings shared by all transports of the run.
    pub shared: Arc<TransportShared>,
    /// The worker's pool, in shared-connection mode.
    pub pool: Option<Rc<Transport>>,
    /// `?tenantUrl=…`, encoded once.
    pub tenant_query: String,
    /// Clients alive on this worker.
    pub active_clients: Cell<u64>,
    /// Chats alive on this worker.
    pub active_chats: Cell<u64>,
    /// The run's phase, as last published by the worker's driver.
    pub phase: watch::Receiver<Phase>,
    /// Think times, lengths and counts are drawn from here.
    pub rng: RefCell<SmallRng>,
    /// The probe method's path, when the scenario is a probe, made once.
    pub probe_path: Option<(Endpoint, String)>,
    /// The headers every client of the worker sends alike; each request
    /// sends them beside its client's own. Held once per worker rather than
    /// per client, which saves most of a kilobyte a client.
    pub common_headers: HeaderMap,
}

impl WorkerCtx {
    /// The API generation in use.
    pub fn api(&self) -> ApiVersion {
        self.scenario.target.api
    }

    /// The transport for a new client: the worker's pool, or a pool of the
    /// client's own in per-client mode.
    pub fn transport_for_client(&self) -> Rc<Transport> {
        match (&self.pool, self.scenario.target.connections) {
            (Some(pool), Connections::Shared { .. }) => pool.clone(),
            _ => Rc::new(Transport::new(self.shared.clone())),
        }
    }

    /// The phase now.
    pub fn phase(&self) -> Phase {
        *self.phase.borrow()
    }
}

/// A sent request's result as the conversation sees it.
pub enum Reply {
    /// A response arrived; its status may still be an error status.
    Response(Exchange),
    /// No response: the failure was recorded under its kind.
    Failed,
}

impl Reply {
    /// The exchange, if the status is 2xx.
    pub fn ok(self) -> Option<Exchange> {
        match self {
            Reply::Response(ex) if (200..300).contains(&ex.status) => Some(ex),
            _ => None,
        }
    }
}

/// One virtual client's caller.
pub struct Caller {
    /// The worker the client lives on.
    pub ctx: Rc<WorkerCtx>,
    transport: Rc<Transport>,
    /// The client's identity, `MOBILE-API-140-327-PLAIN appId=…`; `None`
    /// only if the scenario's app id cannot be a header value.
    authorization: Option<HeaderValue>,
    webchat_cookie: RefCell<Option<HeaderValue>>,
}

impl Caller {
    /// A caller for a new client with its own `clientId`.
    pub fn new(ctx: Rc<WorkerCtx>) -> Caller {
        let target = &ctx.scenario.target;
        let client_id = if target.webchat {
            WEBCHAT_CLIENT_ID.to_owned()
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        let creds = Credentials::new(target.app_id.clone(), client_id);
        // The app id was validated as header text; an invalid one is left
        // out rather than failing every request.
        let authorization = HeaderValue::from_str(&creds.header_value()).ok();
        let transport = ctx.transport_for_client();
        Caller {
            ctx,
            transport,
            authorization,
            webchat_cookie: RefCell::new(None),
        }
    }

    /// Sends one request to `endpoint` and records it. `intended` is when
    /// the plan wanted it sent; the gap to the actual send is part of the
    /// response time.
    ///
    /// The request's future is boxed, and returned as it is rather than
    /// awaited in an `async fn` of its own: its state is large and lives
    /// only while the request is in flight, while the futures that await
    /// it (a whole chat's) live as long as the client. Inline, or behind
    /// one more `async fn` (which keeps a copy of each argument), every
    /// client would carry it even when asleep.
    pub fn call<'a>(
        &'a self,
        endpoint: Endpoint,
        intended: Instant,
        path: &str,
        body: Body,
    ) -> Pin<Box<impl Future<Output = Reply> + use<'a>>> {
        let path_and_query = self.with_tenant(path);
        Box::pin(async move {
            self.exchange(endpoint, intended, &path_and_query, body, Plain)
                .await
        })
    }

    /// [`Caller::call`] for a path already joined to the tenant query by
    /// [`Caller::with_tenant`], as loops that send one path again and
    /// again hold it.
    pub fn call_joined<'a>(
        &'a self,
        endpoint: Endpoint,
        intended: Instant,
        path_and_query: &'a str,
        body: Body,
    ) -> Pin<Box<impl Future<Output = Reply> + 'a>> {
        let kind = Plain;
        Box::pin(self.exchange(endpoint, intended, path_and_query, body, kind))
    }

    /// [`Caller::call_joined`] for a request that already `waited` for a
    /// free connection before it reached the transport: a probe arrival
    /// queued while every prober, one per connection, was busy. That wait
    /// is recorded as pool wait, as the transport's own queue would be.
    pub fn call_waited<'a>(
        &'a self,
        endpoint: Endpoint,
        intended: Instant,
        waited: Duration,
        path_and_query: &'a str,
    ) -> Pin<Box<impl Future<Output = Reply> + 'a>> {
        let kind = Waited(waited);
        Box::pin(self.exchange(endpoint, intended, path_and_query, Body::empty(), kind))
    }

    /// A long poll of `path_and_query` (from [`Caller::with_tenant`]).
    /// `ending` is the chat's flag that the customer is ending it: a 404
    /// that arrives once it is set is the poll having crossed the end, not
    /// a failure. Boxed as [`Caller::call`] is.
    pub fn poll<'a>(
        &'a self,
        intended: Instant,
        path_and_query: &'a str,
        ending: &'a Cell<bool>,
    ) -> Pin<Box<impl Future<Output = Reply> + 'a>> {
        let endpoint = Endpoint::PollEvents;
        let kind = Poll(ending);
        Box::pin(self.exchange(endpoint, intended, path_and_query, Body::empty(), kind))
    }

    /// `path` with the worker's `?tenantUrl=…` query after it.
    pub fn with_tenant(&self, path: &str) -> String {
        [path, &self.ctx.tenant_query].concat()
    }

    /// One request, sent and recorded. Its future is held for as long as
    /// the server holds a long poll, so it is an `async` block, not an
    /// `async fn` (see the engine's module docs).
    #[allow(
        clippy::manual_async_fn,
        reason = "an async fn stores its arguments twice (engine module docs)"
    )]
    fn exchange<'a>(
        &'a self,
        endpoint: Endpoint,
        intended: Instant,
        path_and_query: &'a str,
        body: Body,
        kind: impl Kind + 'a,
    ) -> impl Future<Output = Reply> + 'a {
        async move {
            let method = match endpoint.verb() {
                Verb::Get => Method::GET,
                Verb::Post => Method::POST,
            };
            // Cloned out of its cell: the response may replace it while this
            // request still borrows it.
            let cookie = self.webchat_cookie.borrow().clone();
            let own = self.own_headers(body.content_type.as_ref(), cookie.as_ref());
            let headers = Headers {
                shared: &self.ctx.common_headers,
                own: own.as_slice(),
            };

            let result = self
                .transport
                .send(method, path_and_query, headers, body.bytes)
                .await;
            let (sent, done, pool_wait, outcome) = match &result {
                Ok(ex) if ex.status == 404 && kind.ended_by_us() => {
                    (ex.sent, ex.done, ex.pool_wait, Outcome::AfterEnd(ex.status))
                }
                Ok(ex) => (ex.sent, ex.done, ex.pool_wait, Outcome::Status(ex.status)),
                Err(err) => (err.sent, err.done, err.pool_wait, Outcome::Error(err.kind)),
            };
            let pool_wait = pool_wait + kind.waited();
            self.record(
                endpoint,
                intended.into_std(),
                sent,
                done,
                pool_wait,
                outcome,
            );

            match result {
                Ok(ex) => {
                    self.keep_cookie(&ex.headers);
                    Reply::Response(ex)
                }
                Err(err) => {
                    let (kind, detail) = (err.kind.name(), &err.detail);
                    tracing::debug!(endpoint = endpoint.name(), kind, %detail, "request failed");
                    Reply::Failed
                }
            }
        }
    }

    /// Records a request with the generator's side of its timing: the lag
    /// from the intended start to the send, and its two parts, the wait for
    /// a connection and the generator's own lateness before it.
    fn record(
        &self,
        endpoint: Endpoint,
        intended: std::time::Instant,
        sent: std::time::Instant,
        done: std::time::Instant,
        pool_wait: std::time::Duration,
        outcome: Outcome,
    ) {
        let mut metrics = self.ctx.metrics.borrow_mut();
        metrics.record_request(endpoint, intended, sent, done, outcome);
        let send_lag = sent.saturating_duration_since(intended);
        metrics.record_measure(Measure::PoolWait, pool_wait);
        metrics.record_measure(Measure::SchedLag, send_lag.saturating_sub(pool_wait));
        metrics.record_measure(Measure::SendLag, send_lag);
    }

    /// Records a protocol error found in a response that arrived: a body
    /// that does not parse, an id missing.
    pub fn protocol_error(&self, endpoint: Endpoint, detail: &str) {
        tracing::debug!(endpoint = endpoint.name(), detail, "unexpected response");
        self.ctx.metrics.borrow_mut().protocol_error(endpoint);
    }

    /// This request's own headers besides the worker's common ones: the
    /// client's identity, and the body's content type and a WebChat cookie
    /// when there are.
    fn own_headers<'a>(
        &'a self,
        content_type: Option<&'a HeaderValue>,
        cookie: Option<&'a HeaderValue>,
    ) -> OwnHeaders<'a> {
        let mut own = OwnHeaders::new();
        if let Some(identity) = &self.authorization {
            own.push(&AUTHORIZATION, identity);
        }
        if let Some(kind) = content_type {
            own.push(&CONTENT_TYPE, kind);
        }
        if let Some(cookie) = cookie {
            own.push(&COOKIE, cookie);
        }
        own
    }

    /// In `WebChat` mode the server knows the client by its cookie: keep
    /// the latest one and send it back, as a browser would.
    fn keep_cookie(&self, headers: &ResponseHeaders) {
        if !self.ctx.scenario.target.webchat {
            return;
        }
        let Some(set) = headers.get(&header::SET_COOKIE) else {
            return;
        };
        let Ok(set) = set.to_str() else {
            return;
        };
        let pair = set.split(';').next().unwrap_or("").trim();
        if let Ok(value) = HeaderValue::from_str(pair) {
            *self.webchat_cookie.borrow_mut() = Some(value);
        }
    }
}

/// What sets a request apart, beside its endpoint: whether it is a long
/// poll, or a request that waited for a connection before it was sent.
/// A type for each rather than an enum, because a held poll's future keeps
/// the value for the whole hold: a poll keeps only its flag, a plain call
/// nothing.
trait Kind: Copy {
    /// Whether a 404 now is the poll having crossed the customer's end.
    fn ended_by_us(self) -> bool {
        false
    }

    /// How long the request waited for a free connection before the
    /// transport saw it.
    fn waited(self) -> Duration {
        Duration::ZERO
    }
}

/// Any request but a poll or a queued probe.
#[derive(Clone, Copy)]
struct Plain;

impl Kind for Plain {}

/// A long poll, with its chat's flag that the customer is ending it.
#[derive(Clone, Copy)]
struct Poll<'a>(&'a Cell<bool>);

impl Kind for Poll<'_> {
    fn ended_by_us(self) -> bool {
        self.0.get()
    }
}

/// A request that waited this long for a free connection before the
/// transport saw it.
#[derive(Clone, Copy)]
struct Waited(Duration);

impl Kind for Waited {
    fn waited(self) -> Duration {
        self.0
    }
}

/// A request's own headers, at most one each of identity, content type and
/// cookie: references on the stack, not a map of their own, because a
/// request's future keeps them for as long as the server holds a poll.
struct OwnHeaders<'a> {
    slots: [(&'static HeaderName, &'a HeaderValue); 3],
    len: usize,
}

/// What the unused slots hold; never sent.
static UNUSED: HeaderValue = HeaderValue::from_static("");
static AUTHORIZATION: HeaderName = header::AUTHORIZATION;
static CONTENT_TYPE: HeaderName = header::CONTENT_TYPE;
static COOKIE: HeaderName = header::COOKIE;

impl<'a> OwnHeaders<'a> {
    fn new() -> Self {
        OwnHeaders {
            slots: [(&AUTHORIZATION, &UNUSED); 3],
            len: 0,
        }
    }

    fn push(&mut self, name: &'static HeaderName, value: &'a HeaderValue) {
        self.slots[self.len] = (name, value);
        self.len += 1;
    }

    fn as_slice(&self) -> &[(&HeaderName, &'a HeaderValue)] {
        &self.slots[..self.len]
    }
}

/// A request body with its content type.
pub struct Body {
    bytes: Bytes,
    content_type: Option<HeaderValue>,
}

impl Body {
    /// No body.
    pub fn empty() -> Body {
        Body {
            bytes: Bytes::new(),
            content_type: None,
        }
    }

    /// A JSON body.
    pub fn json(bytes: Vec<u8>) -> Body {
        let kind = HeaderValue::from_static("application/json; charset=utf-8");
        Body {
            bytes: Bytes::from(bytes),
            content_type: Some(kind),
        }
    }

    /// A multipart body holding one file of `size` bytes.
    pub fn file_upload(size: u64) -> Body {
        const BOUNDARY: &str = "chatload-boundary-7d1c";
        let mut bytes = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"chatload.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        bytes.resize(bytes.len() + size as usize, b'x');
        bytes.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let kind = format!("multipart/form-data; boundary={BOUNDARY}");
        let content_type = HeaderValue::from_str(&kind).ok();
        Body {
            bytes: Bytes::from(bytes),
            content_type,
        }
    }
}

/// The headers all of a worker's clients send alike. Room is left for the
/// ones each request adds (identity, content type, cookie), so that adding
/// them to a copy does not grow it.
pub fn common_headers(user_agent: &str) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(6);
    // The value comes from the scenario, already validated as header text;
    // an invalid one is dropped rather than failing every request.
    if let Ok(value) = HeaderValue::from_str(user_agent) {
        headers.insert(header::USER_AGENT, value);
    }
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    // Both SDKs send it so that proxies never cache a poll.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers
}

/// `?tenantUrl=<value>` with the value percent-encoded.
pub fn tenant_query(tenant: &str) -> String {
    let mut out = format!("?{}=", crate::api::TENANT_QUERY);
    for byte in tenant.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_query_encodes_reserved_characters() {
        assert_eq!(
            tenant_query("acme.example.com"),
            "?tenantUrl=acme.example.com"
        );
        assert_eq!(
            tenant_query("https://a b/"),
            "?tenantUrl=https%3A%2F%2Fa%20b%2F"
        );
    }

    #[test]
    fn upload_body_is_multipart_with_the_requested_size() {
        let body = Body::file_upload(1000);
        let text = String::from_utf8_lossy(&body.bytes);
        assert!(text.contains("name=\"file\""));
        assert_eq!(text.matches('x').count(), 1000);
        let kind = body.content_type.unwrap();
        assert!(
            kind.to_str()
                .unwrap()
                .starts_with("multipart/form-data; boundary=")
        );
    }
}
