//! Opening one connection: TCP from the source-address rotation, TLS when
//! the target is https, then the HTTP/2 handshake where HTTP/2 is spoken.
//!
//! Over TLS with `auto`, ALPN picks the protocol of each connection. An
//! HTTP/1.1 connection needs no handshake and no task: the requests using
//! it drive it (`h1.rs`). An HTTP/2 connection's driver runs as a local task
//! of the calling thread (its `LocalSet`), beside the requests it carries,
//! so nothing here needs to be `Send` and no task hops between threads.

use std::future::Future;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http2;
use hyper_util::rt::TokioIo;
use tokio_rustls::TlsConnector;
use tower_service::Service;

use super::TransportShared;
use super::connector::TcpConnectError;
use super::h1::{H1Conn, Stream};
use crate::scenario::HttpVersion;

/// The body type of every request the transport sends.
pub(super) type ReqBody = Full<Bytes>;

/// A new connection, ready for its first request.
pub(super) enum Conn {
    /// One exchange at a time, driven by the request using it.
    Http1(Box<H1Conn>),
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
    /// hyper could not set an HTTP/2 connection up: the connection
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
            if self.shared.http == HttpVersion::Http2 {
                return http2_handshake(stream).await;
            }
            let conn = H1Conn::new(Stream::Plain(stream.into_inner()));
            return Ok(Conn::Http1(Box::new(conn)));
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
        if http2 {
            return http2_handshake(TokioIo::new(stream)).await;
        }
        Ok(Conn::Http1(Box::new(H1Conn::new(Stream::Tls(Box::new(
            stream,
        ))))))
    }
}

/// Sets up hyper's HTTP/2 connection and starts its driver on this thread.
async fn http2_handshake<T>(io: T) -> Result<Conn, DialError>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
{
    // Boxed: hyper spawns a task for every request in flight, sized for the
    // largest of its task kinds, the connection's own, which would hold the
    // stream inline. A TLS stream is over a kilobyte, paid again by every
    // held long poll.
    let (sender, connection) = http2::handshake(LocalExec, Box::new(io))
        .await
        .map_err(DialError::Handshake)?;
    tokio::task::spawn_local(drive(connection));
    Ok(Conn::Http2(sender))
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
