//! How a request ended: a status from the server, or a failure on the way.
//! Failures are measurements, counted by kind, never reasons to stop.

use std::fmt;

/// Why a request counts as an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The TCP connection could not be opened.
    Connect,
    /// The TLS handshake failed.
    Tls,
    /// No complete response within the request timeout.
    Timeout,
    /// The server answered with a 4xx status.
    Http4xx,
    /// The server answered with a 5xx status.
    Http5xx,
    /// The response broke HTTP or the API: a reset, a bad body, a wrong
    /// event shape.
    Protocol,
}

impl ErrorKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [ErrorKind; 6] = [
        ErrorKind::Connect,
        ErrorKind::Tls,
        ErrorKind::Timeout,
        ErrorKind::Http4xx,
        ErrorKind::Http5xx,
        ErrorKind::Protocol,
    ];

    /// The stable name used in results.
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

    /// Position in [`ErrorKind::ALL`], for array-indexed counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response arrived with this HTTP status. A 4xx or 5xx one also
    /// counts as an `http_4xx` or `http_5xx` error.
    Status(u16),
    /// A 404 for a chat the client had itself just ended: a poll that
    /// crossed the customer's `chat_session_end` on its way. Counted under
    /// its status, not as an error, since every real client meets it too.
    AfterEnd(u16),
    /// No usable response.
    Error(ErrorKind),
}

impl Outcome {
    /// The error this outcome counts as, if any.
    pub fn error_kind(self) -> Option<ErrorKind> {
        match self {
            Outcome::Status(400..=499) => Some(ErrorKind::Http4xx),
            Outcome::Status(500..=599) => Some(ErrorKind::Http5xx),
            Outcome::Status(_) | Outcome::AfterEnd(_) => None,
            Outcome::Error(kind) => Some(kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_and_server_statuses_count_as_errors_and_others_do_not() {
        assert_eq!(Outcome::Status(200).error_kind(), None);
        assert_eq!(Outcome::Status(304).error_kind(), None);
        assert_eq!(Outcome::Status(429).error_kind(), Some(ErrorKind::Http4xx));
        assert_eq!(Outcome::Status(503).error_kind(), Some(ErrorKind::Http5xx));
        let timeout = Outcome::Error(ErrorKind::Timeout);
        assert_eq!(timeout.error_kind(), Some(ErrorKind::Timeout));
    }

    #[test]
    fn kinds_index_into_all() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::ALL[kind.index()], kind);
        }
        assert_eq!(ErrorKind::Http5xx.name(), "http_5xx");
    }
}
