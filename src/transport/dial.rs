//! Opening one connection: TCP from the source-address rotation, TLS when
//! the target is https, then the HTTP/1.1 or HTTP/2 handshake.
//!
//! Over TLS with `auto`, ALPN picks the protocol of each connection. The
//! connection's driver runs as a local task of the calling thread (its
//! `LocalSet`), beside the requests it carries, so nothing here needs to be
//! `Send` and no task hops between threads.

use std::future::Future;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::TokioIo;
use tokio_rustls::TlsConnector;
use tower_service::Service;

use super::TransportShared;
use super::connector::TcpConnectError;
use crate::scenario::HttpVersion;

/// The body type of every request the transport sends.
pub(super) type ReqBody = Full<Bytes>;

/// A new connection, ready for its first request.
pub(super) enum Conn {
    /// One exchange at a time.
    Http1(http1::SendRequest<ReqBody>),
    /// Many exchanges at once, one stream each.
    Http2(http2::SendRequest<ReqBody>),
}

/// Why a connection could not be opened.
#[derive(Debug, thiserror::Error)]
pub(super) enum DialError {
    /// No TCP connection.
    #[error(transparent)]
    Tcp(#[from] TcpConnectError),
    /// The TLS handshake failed, on a certificate or on the wire.
    #[error("TLS handshake failed: {0}")]
    Tls(#[source] io::Error),
    /// hyper could not set the connection up; for HTTP/2, the connection
    /// preface could not be sent.
    #[error("HTTP handshake failed: {0}")]
    Handshake(#[source] hyper::Error),
}

/// Opens connections to one target.
pub(super) struct Dialer {
    shared: Arc<TransportShared>,
    tls: Option<TlsConnector>,
}

impl Dialer {
    /// A dialer for the target of `shared`.
    pub(super) fn new(shared: Arc<TransportShared>) -> Dialer {
        let tls = shared
            .server_name
            .is_some()
            .then(|| TlsConnector::from(shared.tls.clone()));
        Dialer { shared, tls }
    }

    /// Opens a connection and starts its driver on this thread.
    pub(super) async fn dial(&self) -> Result<Conn, DialError> {
        let mut tcp = self.shared.tcp.clone();
        let stream = tcp.call(self.shared.dial_uri.clone()).await?;

        let (Some(tls), Some(name)) = (&self.tls, &self.shared.server_name) else {
            let http2 = self.shared.http == HttpVersion::Http2;
            return handshake(stream, http2).await;
        };
        let stream = tls
            .connect(name.clone(), stream.into_inner())
            .await
            .map_err(DialError::Tls)?;

        let http2 = match self.shared.http {
            HttpVersion::Http1 => false,
            HttpVersion::Http2 => true,
            HttpVersion::Auto => stream.get_ref().1.alpn_protocol() == Some(b"h2"),
        };
        tracing::debug!(http2, "TLS connection open");
        handshake(TokioIo::new(stream), http2).await
    }
}

async fn handshake<T>(io: T, http2: bool) -> Result<Conn, DialError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
{
    if http2 {
        // Boxed: hyper spawns a task for every request in flight, sized for
        // the largest of its task kinds, the connection's own, which would
        // hold the stream inline. A TLS stream is over a kilobyte, paid
        // again by every held long poll.
        let (sender, connection) = http2::handshake(LocalExec, Box::new(io))
            .await
            .map_err(DialError::Handshake)?;
        tokio::task::spawn_local(drive(connection));
        return Ok(Conn::Http2(sender));
    }

    // An HTTP/1.1 handshake only sets up hyper's state; it cannot fail
    // before the first request is written, which is where errors show.
    let (sender, connection) = http1::handshake(io).await.map_err(DialError::Handshake)?;
    tokio::task::spawn_local(drive(connection));
    Ok(Conn::Http1(sender))
}

/// Runs a connection until it closes. Its failures reach the request that
/// was using it, which counts them; here they are only traced.
async fn drive<F>(connection: F)
where
    F: Future<Output = hyper::Result<()>>,
{
    if let Err(err) = connection.await {
        tracing::trace!(%err, "connection closed with an error");
    }
}

/// Runs hyper's HTTP/2 background tasks as local tasks of this thread.
#[derive(Clone, Copy)]
struct LocalExec;

impl<F> hyper::rt::Executor<F> for LocalExec
where
    F: Future + 'static,
{
    fn execute(&self, future: F) {
        tokio::task::spawn_local(future);
    }
}
