//! Sorting failed exchanges into the kinds the report counts.
//!
//! Opening a connection fails at a known step (TCP, TLS, handshake), but
//! once a connection is up, a TLS failure reaches hyper wrapped in I/O
//! errors, so the kind is read from the whole cause chain.
//! `std::io::Error::source` skips the error it wraps, which is where rustls
//! puts its own; the walk below looks inside I/O errors itself for that
//! reason.

use std::error::Error;
use std::io;

use super::ErrorKind;
use super::dial::DialError;
use super::h1::H1Error;

/// Deepest cause looked at; real chains are a handful of links long.
const MAX_CHAIN: usize = 16;

/// The kind of a failure to open a connection.
pub(super) fn dial_failure(err: &DialError) -> ErrorKind {
    match err {
        DialError::Tcp(_) => ErrorKind::Connect,
        DialError::Tls(_) => ErrorKind::Tls,
        DialError::Handshake(err) => exchange_failure(err),
    }
}

/// The kind of a failure on an open connection: sending the request, or
/// reading the response head or body.
pub(super) fn exchange_failure(err: &hyper::Error) -> ErrorKind {
    if has_cause::<rustls::Error>(err) {
        ErrorKind::Tls
    } else {
        ErrorKind::Protocol
    }
}

/// Whether an HTTP/2 server turned the request away before processing it,
/// so that it may go again on another connection: a stream it reset with
/// `REFUSED_STREAM`, or one above the last stream of a graceful GOAWAY,
/// which servers send as they rotate a connection (nginx after its
/// `keepalive_requests`). Only a request that may be repeated is said to
/// be refused by a GOAWAY: should the server close before it finished
/// the streams below its last one, those fail the same way.
pub(super) fn refused_unprocessed(err: &hyper::Error, repeatable: bool) -> bool {
    causes(err)
        .filter_map(|cause| cause.downcast_ref::<h2::Error>())
        .any(|err| {
            err.is_remote()
                && match err.reason() {
                    Some(h2::Reason::REFUSED_STREAM) => true,
                    Some(h2::Reason::NO_ERROR) => err.is_go_away() && repeatable,
                    _ => false,
                }
        })
}

/// The kind of a failure of an HTTP/1.1 exchange: TLS when rustls is
/// among the causes, else a broken response or connection.
pub(super) fn h1_failure(err: &H1Error) -> ErrorKind {
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
