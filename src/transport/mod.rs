//! The HTTP client side of a run over rustls, with the connection policy of
//! the scenario made explicit (DESIGN.md decision 6): HTTP/1.1 by a client
//! of its own (`h1.rs`), HTTP/2 by hyper's.
//!
//! A run parses its target and builds its TLS settings once, into a
//! [`TransportShared`]. Each worker thread, or each virtual client in
//! per-client mode, then builds a [`Transport`] from it: its own connection
//! pool, its own cap on HTTP/1.1 requests in flight. [`Transport::send`]
//! turns one request into an [`Exchange`] or a [`TransportError`], both
//! timed, so that failures are measurements like any response.

mod classify;
mod client;
mod config;
mod connector;
mod dial;
mod exchange;
mod fd_limit;
mod h1;
mod insecure;
mod lease;
mod pool;
mod request;
mod shared;
mod tls;
mod waiters;

pub use crate::metrics::ErrorKind;
pub use client::{Transport, WarmFailure, Warmed};
pub use config::TransportConfig;
pub use exchange::{Exchange, ResponseHeaders, TransportError};
pub use fd_limit::raise_fd_limit;
pub use request::Headers;
pub use shared::TransportShared;
