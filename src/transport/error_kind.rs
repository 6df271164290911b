//! The kinds of failed request, as the report counts them.
//!
//! This enum belongs to `crate::metrics` and moves there once that module
//! defines it; it is kept identical so the move changes only import paths.

use std::fmt;

/// Why a request got no usable answer, or got an error status.
///
/// The transport yields only `Connect`, `Tls`, `Timeout` and `Protocol`;
/// the two HTTP kinds are given by the engine, which judges statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// No TCP connection: refused, unreachable, no route.
    Connect,
    /// The TLS handshake failed, certificate checks included.
    Tls,
    /// No complete response within the request timeout.
    Timeout,
    /// A response with a 4xx status.
    Http4xx,
    /// A response with a 5xx status.
    Http5xx,
    /// Anything else: a malformed response, a reset mid-body, an HTTP/2
    /// protocol error.
    Protocol,
}

impl ErrorKind {
    /// Every kind, in report order.
    pub const ALL: [ErrorKind; 6] = [
        ErrorKind::Connect,
        ErrorKind::Tls,
        ErrorKind::Timeout,
        ErrorKind::Http4xx,
        ErrorKind::Http5xx,
        ErrorKind::Protocol,
    ];

    /// The name used in summary.json and the report.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Tls => "tls",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Http4xx => "http_4xx",
            ErrorKind::Http5xx => "http_5xx",
            ErrorKind::Protocol => "protocol",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
