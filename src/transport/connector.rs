//! Opening TCP connections, spread over several local source addresses.
//!
//! One source address reaches one server port through at most about
//! 28 000 ephemeral ports, so a big run binds its connections to several
//! addresses in turn. hyper-util's connector binds to a single address;
//! this one holds a connector per address and rotates between them. It also
//! marks its failures, so a failed TCP connect can be told apart from a
//! failed TLS handshake that the layer above adds.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The TCP connection could not be made; its source says why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct TcpConnectError(#[source] BoxError);

/// A TCP connector binding each new connection to the next source address.
///
/// Clones share the rotation, so every transport of a run spreads its
/// connections over all addresses, even when each one opens only a few.
#[derive(Clone)]
pub(super) struct SourceConnector {
    connectors: Arc<[HttpConnector]>,
    next: Arc<AtomicUsize>,
}

impl SourceConnector {
    /// A connector over `source_addrs`; empty lets the system choose.
    pub(super) fn new(source_addrs: &[IpAddr]) -> Self {
        let connectors: Arc<[HttpConnector]> = if source_addrs.is_empty() {
            Arc::new([tcp_connector(None)])
        } else {
            source_addrs
                .iter()
                .map(|&addr| tcp_connector(Some(addr)))
                .collect()
        };
        SourceConnector {
            connectors,
            next: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn pick(&self) -> HttpConnector {
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        self.connectors[turn % self.connectors.len()].clone()
    }
}

fn tcp_connector(source: Option<IpAddr>) -> HttpConnector {
    let mut connector = HttpConnector::new();
    // The TLS layer above handles https URLs; this one only opens sockets.
    connector.enforce_http(false);
    // Requests are small and latency is the measure: never wait to batch.
    connector.set_nodelay(true);
    connector.set_local_address(source);
    connector
}

impl Service<Uri> for SourceConnector {
    type Response = TokioIo<TcpStream>;
    type Error = TcpConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // hyper-util's connector is always ready; so is a rotation of them.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let mut connector = self.pick();
        Box::pin(async move {
            connector
                .call(dst)
                .await
                .map_err(|e| TcpConnectError(e.into()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_rotation() {
        let addrs = ["127.0.0.1".parse().unwrap(), "127.0.0.2".parse().unwrap()];
        let first = SourceConnector::new(&addrs);
        let second = first.clone();

        first.pick();
        second.pick();
        assert_eq!(first.next.load(Ordering::Relaxed), 2);
        assert_eq!(first.connectors.len(), 2);
    }

    #[test]
    fn no_source_address_means_one_system_connector() {
        assert_eq!(SourceConnector::new(&[]).connectors.len(), 1);
    }
}
