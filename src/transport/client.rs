//! One connection pool and the requests sent through it, timed.
//!
//! A transport belongs to one thread: a worker's (shared pool mode) or a
//! virtual client's (per-client mode). The wait for a connection is timed
//! apart as `pool_wait`; the request timeout starts once the request has
//! a connection or the right to open one, so it bounds connecting, the
//! exchange and reading the whole body. The pool is in `pool.rs`; this
//! file turns one request into an [`Exchange`] or a [`TransportError`],
//! and opens a pool's connections ahead of the load ([`Transport::warm`]).

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::uri::{InvalidUri, PathAndQuery};
use http::{Method, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::classify::{self, refused_unprocessed};
use super::dial::ReqBody;
use super::exchange::ResponseHeaders;
use super::exchange::now;
use super::h1::{H1Error, H1Request};
use super::lease::{Checkout, Live};
use super::pool::Pool;
use super::request::{Headers, Outgoing};
use super::{ErrorKind, Exchange, TransportError, TransportShared};

/// A pool of connections to the target and the timing of each request sent
/// through it. Used from one thread: HTTP/2 connections are driven by local
/// tasks, so [`Transport::send`] must run inside a `tokio::task::LocalSet`
/// (HTTP/1.1 ones are driven by the requests themselves).
pub struct Transport {
    shared: Arc<TransportShared>,
    pool: Pool,
    /// The last path parsed. A worker's clients mostly repeat the same
    /// few paths, and a copy of a parsed one costs no allocation.
    last_target: RefCell<Option<PathAndQuery>>,
}

/// Connections a warm-up opens at once, at most: enough to open a few
/// hundred in a few round trips, few enough that a large cap does not
/// flood the server's accept queue with handshakes.
const WARM_CONCURRENCY: usize = 128;

/// What [`Transport::warm`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Warmed {
    /// Connections opened and left idle in the pool.
    pub opened: usize,
    /// Connections it tried to open: the count asked for, or fewer when
    /// the cap or HTTP/2 (one connection is enough) allowed no more, or a
    /// failure stopped it from starting the rest.
    pub tried: usize,
    /// The first connect that failed, if any.
    pub failure: Option<WarmFailure>,
}

/// A connect of a warm-up that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarmFailure {
    /// The kind a request failing this way is counted under.
    pub kind: ErrorKind,
    /// What went wrong, as a request's error would say it.
    pub detail: String,
}

impl Warmed {
    /// Adds another pool's warm-up: the counts add up, the first failure
    /// is kept.
    pub fn merge(&mut self, other: Warmed) {
        self.opened += other.opened;
        self.tried += other.tried;
        if self.failure.is_none() {
            self.failure = other.failure;
        }
    }
}

/// Why an exchange failed, before the times are attached.
struct Failure {
    kind: ErrorKind,
    detail: String,
}

/// A whole response: its status, headers and body.
struct Whole {
    status: u16,
    headers: ResponseHeaders,
    body: Bytes,
}

impl Transport {
    /// A pool of connections under the run's cap. Opens nothing until the
    /// first request.
    pub fn new(shared: Arc<TransportShared>) -> Transport {
        let cap = shared.max_connections;
        Transport::with_cap(shared, cap)
    }

    /// The same with a cap of its own instead of the shared one: a run's
    /// cap is split among its workers, each with its own pool.
    pub fn with_cap(shared: Arc<TransportShared>, cap: Option<usize>) -> Transport {
        Transport {
            pool: Pool::new(shared.clone(), cap),
            shared,
            last_target: RefCell::new(None),
        }
    }

    /// Opens up to `count` connections before any request, a bounded
    /// number at a time, and leaves them idle in the pool.
    /// They are opened as a request's would be (cap, source addresses,
    /// TLS and ALPN apply), each within the request timeout. Over HTTP/2
    /// one is opened whatever `count` is. After a failed connect no new
    /// one is started: the pool then opens the rest on demand, as it
    /// does without a warm-up. Must run inside a `tokio::task::LocalSet`,
    /// like [`Transport::send`].
    pub async fn warm(&self, count: usize) -> Warmed {
        let limit = self.shared.request_timeout;
        let mut warmed = Warmed::default();
        let mut dials = Vec::new();
        poll_fn(|cx| {
            loop {
                while warmed.failure.is_none()
                    && warmed.tried < count
                    && dials.len() < WARM_CONCURRENCY
                {
                    let Some(permit) = self.pool.spare_dial() else {
                        break;
                    };
                    warmed.tried += 1;
                    let connect = Checkout::Dial(permit).connect();
                    dials.push(Box::pin(tokio::time::timeout(limit, connect)));
                }
                let before = dials.len();
                dials.retain_mut(|dial| match dial.as_mut().poll(cx) {
                    Poll::Ready(outcome) => {
                        warm_outcome(&mut warmed, outcome, limit);
                        false
                    }
                    Poll::Pending => true,
                });
                if dials.is_empty() {
                    return Poll::Ready(());
                }
                // A connect that ended may have freed the way for more:
                // the first of an `auto` pool has learnt the protocol.
                if dials.len() == before {
                    return Poll::Pending;
                }
            }
        })
        .await;
        warmed
    }

    /// Sends one request; `path_and_query` like
    /// `"/clientweb/api/v2/chats?tenantUrl=x"`. Measures the wait for a
    /// connection (`pool_wait`) separately from the exchange, which the
    /// request timeout bounds. Any status is an [`Exchange`]; only a
    /// missing or broken response is an error.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        headers: Headers<'_>,
        body: Bytes,
    ) -> Result<Exchange, TransportError> {
        let asked = now();
        // Only a GET is sent again after the server refused it: it has no
        // body to keep, and repeating it changes nothing on the server.
        let repeatable = method == Method::GET;
        let target = match self.target(path_and_query) {
            Ok(target) => target,
            Err(err) => return Err(invalid_path(path_and_query, &err, asked)),
        };
        let (checkout, sent) = self.checkout(asked).await;
        let pool_wait = sent.saturating_duration_since(asked);
        let fail = move |failure: Failure| failed(failure, sent, pool_wait);

        // One timer bounds connecting, the exchange and reading the body,
        // and every step is awaited here rather than in a function of its
        // own: what a step uses up (the checkout, the request) is then not
        // kept beside the steps after it, and a held long poll holds little
        // more than its connection, the response future and the timer.
        let limit = self.shared.request_timeout;
        let deadline = tokio::time::Instant::from_std(sent) + limit;
        let mut timer = pin!(tokio::time::sleep_until(deadline));
        macro_rules! within {
            ($step:expr) => {
                tokio::select! {
                    biased;
                    outcome = $step => outcome,
                    () = timer.as_mut() => return Err(fail(timed_out(limit))),
                }
            };
        }

        let mut live = within!(checkout.connect()).map_err(|err| fail(dial_failure(err)))?;
        let whole = if let Some(conn) = live.http1() {
            let request = H1Request {
                method: &method,
                target: target.as_str(),
                host: &self.shared.host,
                headers,
                body: &body,
            };
            within!(http1_exchange(conn, &request)).map_err(fail)?
        } else {
            let outgoing = Outgoing {
                method,
                target,
                headers,
                body,
            };
            let request = outgoing
                .into_http2(&self.shared)
                .map_err(|err| fail(unbuildable(err)))?;
            match within!(live.send_http2(request)) {
                Ok(response) => within!(whole_http2(response)).map_err(fail)?,
                Err(mut refused) => {
                    let request = match refused.take_message() {
                        // The reused connection closed as the request reached
                        // it and none of it left: it may go again, once.
                        Some(request) if live.is_reused() => request,
                        // The server turned it away unprocessed, most often as
                        // it rotates the connection: a real client sends it
                        // again, once, on another connection.
                        None if refused_unprocessed(refused.error(), repeatable) => {
                            live.going_away();
                            self.refused_again(path_and_query, headers).map_err(fail)?
                        }
                        _ => return Err(fail(exchange_failure(refused.error()))),
                    };
                    drop(refused);
                    drop(live);
                    let (whole, again) = within!(Box::pin(self.resend(request))).map_err(fail)?;
                    live = again;
                    whole
                }
            }
        };

        let done = now();
        // After `done`: a request queued for this connection starts no
        // earlier than this one ended.
        live.release(done);
        Ok(Exchange {
            sent,
            done,
            pool_wait,
            status: whole.status,
            headers: whole.headers,
            body: whole.body,
        })
    }

    /// A connection and the instant it was granted. Most checkouts finish
    /// at once, and then the clock is not read again.
    async fn checkout(&self, asked: Instant) -> (Checkout<'_>, Instant) {
        let mut checkout = pin!(self.pool.checkout(asked));
        let first = poll_fn(|cx| Poll::Ready(checkout.as_mut().poll(cx))).await;
        match first {
            Poll::Ready(checkout) => (checkout, asked),
            Poll::Pending => (checkout.await, now()),
        }
    }

    fn target(&self, path_and_query: &str) -> Result<PathAndQuery, InvalidUri> {
        let mut last = self.last_target.borrow_mut();
        if let Some(target) = last.as_ref().filter(|t| t.as_str() == path_and_query) {
            return Ok(target.clone());
        }
        let target = PathAndQuery::try_from(path_and_query)?;
        *last = Some(target.clone());
        Ok(target)
    }

    /// A GET the server refused unprocessed, made again from its parts.
    fn refused_again(
        &self,
        path_and_query: &str,
        headers: Headers<'_>,
    ) -> Result<Request<ReqBody>, Failure> {
        let target = self
            .target(path_and_query)
            .map_err(|err| unbuildable_target(path_and_query, &err))?;
        let outgoing = Outgoing {
            method: Method::GET,
            target,
            headers,
            body: Bytes::new(),
        };
        outgoing.into_http2(&self.shared).map_err(unbuildable)
    }

    /// Sends a request again on another connection. Boxed by the caller:
    /// it is rare, and inline it would enlarge every request's future.
    async fn resend(&self, request: Request<ReqBody>) -> Result<(Whole, Live<'_>), Failure> {
        tracing::trace!("a reused connection closed before the request left; sending it again");
        let checkout = self.pool.checkout(now()).await;
        let mut live = checkout.connect().await.map_err(dial_failure)?;

        if live.http1().is_some() {
            // Only HTTP/2 refuses a request unsent, and a pool that saw
            // HTTP/2 keeps to it: this cannot happen.
            return Err(Failure {
                kind: ErrorKind::Protocol,
                detail: "an HTTP/2 request was given an HTTP/1.1 connection".to_owned(),
            });
        }
        let response = live
            .send_http2(request)
            .await
            .map_err(|refused| exchange_failure(refused.error()))?;
        Ok((whole_http2(response).await?, live))
    }
}

/// Books one warm-up connect: an opened connection goes back to the pool
/// idle, a failure is kept if it is the first.
fn warm_outcome(
    warmed: &mut Warmed,
    outcome: Result<Result<Live<'_>, super::dial::DialError>, tokio::time::error::Elapsed>,
    limit: Duration,
) {
    let failure = match outcome {
        Ok(Ok(live)) => {
            warmed.opened += 1;
            live.release(now());
            return;
        }
        Ok(Err(err)) => dial_failure(err),
        Err(_) => Failure {
            kind: ErrorKind::Timeout,
            detail: format!("no connection within {}", humantime::format_duration(limit)),
        },
    };
    tracing::debug!(kind = %failure.kind, detail = %failure.detail, "a warm-up connect failed");
    if warmed.failure.is_none() {
        warmed.failure = Some(WarmFailure {
            kind: failure.kind,
            detail: failure.detail,
        });
    }
}

async fn http1_exchange(
    conn: &mut super::h1::H1Conn,
    request: &H1Request<'_>,
) -> Result<Whole, Failure> {
    let (head, body) = conn
        .exchange(request)
        .await
        .map_err(|err| h1_failure(&err))?;
    Ok(Whole {
        status: head.status,
        headers: ResponseHeaders::head(head.bytes),
        body,
    })
}

async fn whole_http2(response: Response<Incoming>) -> Result<Whole, Failure> {
    let (head, body) = response.into_parts();
    let body = read_body(body)
        .await
        .map_err(|err| exchange_failure(&err))?;
    Ok(Whole {
        status: head.status.as_u16(),
        headers: ResponseHeaders::map(head.headers),
        body,
    })
}

/// The whole body. A body in one piece, the usual case, is passed on as is.
async fn read_body(mut body: Incoming) -> Result<Bytes, hyper::Error> {
    let mut first = Bytes::new();
    let mut joined: Option<BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        match &mut joined {
            Some(all) => all.extend_from_slice(&data),
            None if first.is_empty() => first = data,
            None => {
                let mut all = BytesMut::from(&first[..]);
                all.extend_from_slice(&data);
                joined = Some(all);
            }
        }
    }
    Ok(joined.map_or(first, BytesMut::freeze))
}

/// A failed exchange with its times: it ends now.
fn failed(failure: Failure, sent: Instant, pool_wait: Duration) -> TransportError {
    let Failure { kind, detail } = failure;
    tracing::trace!(%kind, %detail, "request failed");
    TransportError {
        kind,
        sent,
        done: now(),
        pool_wait,
        detail,
    }
}

fn timed_out(limit: Duration) -> Failure {
    Failure {
        kind: ErrorKind::Timeout,
        detail: format!(
            "no complete response within {}",
            humantime::format_duration(limit)
        ),
    }
}

fn dial_failure(err: super::dial::DialError) -> Failure {
    Failure {
        kind: classify::dial_failure(&err),
        detail: classify::describe(&err),
    }
}

fn exchange_failure(err: &hyper::Error) -> Failure {
    Failure {
        kind: classify::exchange_failure(err),
        detail: classify::describe(err),
    }
}

fn h1_failure(err: &H1Error) -> Failure {
    Failure {
        kind: classify::h1_failure(err),
        detail: classify::describe(err),
    }
}

fn unbuildable(err: http::Error) -> Failure {
    Failure {
        kind: ErrorKind::Protocol,
        detail: format!("the request could not be built: {err}"),
    }
}

fn invalid_path(path_and_query: &str, err: &InvalidUri, at: Instant) -> TransportError {
    let Failure { kind, detail } = unbuildable_target(path_and_query, err);
    TransportError {
        kind,
        sent: at,
        done: at,
        pool_wait: Duration::ZERO,
        detail,
    }
}

fn unbuildable_target(path_and_query: &str, err: &InvalidUri) -> Failure {
    Failure {
        kind: ErrorKind::Protocol,
        detail: format!("request path {path_and_query:?} is not a valid URI path: {err}"),
    }
}
