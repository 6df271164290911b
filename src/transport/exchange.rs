//! The outcome of one request, timed either way.
//!
//! Times are taken from tokio's clock and converted to `std` instants, so
//! that under a paused test clock they move with the paused time instead
//! of the wall clock; in a normal run both clocks agree.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::{ErrorKind, h1};

/// A response received in full, whatever its status.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// When the request left: after the connection slot was granted.
    pub sent: Instant,
    /// When the last byte of the body arrived.
    pub done: Instant,
    /// Time spent waiting for a connection slot before `sent`.
    pub pool_wait: Duration,
    /// The HTTP status code.
    pub status: u16,
    /// The response headers.
    pub headers: ResponseHeaders,
    /// The whole response body.
    pub body: Bytes,
}

/// A response's headers. Over HTTP/1.1 the head is kept as it arrived and
/// a header is looked up when asked for: most responses are never asked,
/// and building a map for each cost more than the rest of reading it.
#[derive(Debug, Clone)]
pub struct ResponseHeaders(Kept);

#[derive(Debug, Clone)]
enum Kept {
    Map(HeaderMap),
    Head(Bytes),
}

impl ResponseHeaders {
    /// Headers already in a map, as HTTP/2 delivers them.
    pub(super) fn map(map: HeaderMap) -> Self {
        ResponseHeaders(Kept::Map(map))
    }

    /// The headers of an HTTP/1.1 head read by this transport.
    pub(super) fn head(head: Bytes) -> Self {
        ResponseHeaders(Kept::Head(head))
    }

    /// The first value of header `name`, if any.
    pub fn get(&self, name: &HeaderName) -> Option<HeaderValue> {
        match &self.0 {
            Kept::Map(map) => map.get(name).cloned(),
            Kept::Head(head) => h1::header_in(head, name),
        }
    }

    /// Every header, as a map.
    pub fn to_map(&self) -> HeaderMap {
        match &self.0 {
            Kept::Map(map) => map.clone(),
            Kept::Head(head) => h1::header_map(head),
        }
    }
}

/// A request that got no complete response. It is a measurement, not an
/// abort: the engine counts it under `kind`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind} error: {detail}")]
pub struct TransportError {
    /// What went wrong, as the report counts it.
    pub kind: ErrorKind,
    /// When the request left (or would have left).
    pub sent: Instant,
    /// When the failure was seen.
    pub done: Instant,
    /// Time spent waiting for a connection slot before `sent`.
    pub pool_wait: Duration,
    /// The cause chain in words, for diagnostics; never holds a body.
    pub detail: String,
}

/// The current instant on tokio's clock, as a `std` instant.
pub(super) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}
