//! The outcome of one request, timed either way.
//!
//! Times are taken from tokio's clock and converted to `std` instants, so
//! that under a paused test clock they move with the paused time instead
//! of the wall clock; in a normal run both clocks agree.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;

use super::ErrorKind;

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
    pub headers: HeaderMap,
    /// The whole response body.
    pub body: Bytes,
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
