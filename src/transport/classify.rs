//! Sorting failed exchanges into the kinds the report counts.
//!
//! hyper-util flattens every connector failure into one "connect" error,
//! and the TLS layer wraps rustls errors in I/O errors, so the kind is read
//! from the whole cause chain. `std::io::Error::source` skips the error it
//! wraps, which is where rustls puts its own; the walk below looks inside
//! I/O errors itself for that reason.

use std::error::Error;
use std::io;

use super::ErrorKind;
use super::connector::TcpConnectError;

/// Deepest cause looked at; real chains are a handful of links long.
const MAX_CHAIN: usize = 16;

/// The kind of a failed request, before any response head arrived.
pub(super) fn request_failure(err: &hyper_util::client::legacy::Error) -> ErrorKind {
    if has_cause::<TcpConnectError>(err) {
        ErrorKind::Connect
    } else if has_cause::<rustls::Error>(err) || err.is_connect() {
        // The connector does two things, TCP then TLS; the TCP failures are
        // marked, so what is left of a connect error is the handshake.
        ErrorKind::Tls
    } else {
        ErrorKind::Protocol
    }
}

/// The kind of a failure while the body was read.
pub(super) fn body_failure(err: &hyper::Error) -> ErrorKind {
    if has_cause::<rustls::Error>(err) {
        ErrorKind::Tls
    } else {
        ErrorKind::Protocol
    }
}

/// The cause chain in one line, repeated messages left out.
pub(super) fn describe(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in causes(err) {
        let text = cause.to_string();
        if parts.last() != Some(&text) && !text.is_empty() {
            parts.push(text);
        }
    }
    parts.join(": ")
}

fn has_cause<E: Error + 'static>(err: &(dyn Error + 'static)) -> bool {
    causes(err).any(|cause| cause.is::<E>())
}

fn causes<'a>(err: &'a (dyn Error + 'static)) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    std::iter::successors(Some(err), |&cause| next_cause(cause)).take(MAX_CHAIN)
}

fn next_cause<'a>(err: &'a (dyn Error + 'static)) -> Option<&'a (dyn Error + 'static)> {
    if let Some(inner) = err.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
        return Some(inner);
    }
    err.source()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustls_errors_are_found_inside_io_errors() {
        let tls = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let inner = io::Error::new(io::ErrorKind::InvalidData, tls);
        let outer = io::Error::other(inner);
        assert!(has_cause::<rustls::Error>(&outer));
    }

    #[test]
    fn descriptions_drop_repeated_messages() {
        let inner = io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer");
        let outer = io::Error::other(inner);
        assert_eq!(describe(&outer), "reset by peer");
    }
}
