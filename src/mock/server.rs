//! The accept loop: TLS or plain, HTTP/1.1 and HTTP/2 on every connection,
//! and a graceful stop.
//!
//! Each connection runs in its own task; hyper_util's auto builder reads
//! the first bytes to pick HTTP/1.1 or HTTP/2, so h2 works by ALPN over TLS
//! and by prior knowledge over plain TCP. A `watchdog` under hyper limits
//! the time a head may take and a connection may sit idle, HTTP/2 pings
//! find peers that went silent with streams open, and request bodies have
//! their own limit (see `request`). On shutdown the listener closes, held
//! polls answer at once, and connections get a short drain.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;

use super::center::Center;
use super::config::MockConfig;
use super::faults;
use super::watchdog::{Activity, Limits, Tracked, Watchdog};

/// Longest wait for a TLS handshake; a silent client must not hold a task.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest drain of open connections at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Pause after an accept error such as running out of file descriptors,
/// so the loop does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Largest HTTP/1.1 read buffer, and so the largest request head; a longer
/// head gets 431. Our own requests' heads are well under 1 KiB.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Largest HTTP/2 header list, the same bound as on HTTP/1.1.
const MAX_HEADER_LIST: u32 = 64 * 1024;

/// Most connections served at once; beyond it the listener is not read,
/// so further clients wait in the kernel's backlog instead of costing
/// memory. Room for a per-client run of 100 000 clients, each holding a
/// poll and a send connection.
const MAX_CONNECTIONS: usize = 200_000;

/// Long polls stay open for seconds each, so one HTTP/2 connection of a
/// shared pool must carry many more streams than hyper's default of 200.
const MAX_STREAMS: u32 = 10_000;

/// Serves until `shutdown` resolves; `tls` None = plain HTTP. Both HTTP/1.1
/// and HTTP/2 (h2 via ALPN on TLS, prior knowledge on plain).
pub async fn serve(
    listener: TcpListener,
    config: MockConfig,
    tls: Option<Arc<ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let builder = Arc::new(connection_builder(&config));
    let limits = Limits {
        head: config.header_timeout,
        idle: config.idle_timeout,
    };
    let center = Arc::new(Center::new(config));
    let timers = tokio::spawn(center.clone().run_timers());
    let acceptor = tls.map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tracing::info!(address = ?listener.local_addr().ok(), tls = acceptor.is_some(), "mock serving");

    tokio::pin!(shutdown);
    loop {
        let (stream, peer, slot) = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener, &slots) => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(%err, "accept failed; retrying");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        tracing::trace!(%peer, "connection");
        let connection = Connection {
            center: center.clone(),
            builder: builder.clone(),
            watcher: graceful.watcher(),
            limits,
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            connection.run(stream, acceptor).await;
            drop(slot);
        });
    }

    drop(listener);
    stop(&center, graceful).await;
    timers.abort();
    tracing::info!("mock stopped");
    Ok(())
}

/// Waits for a free connection slot, then for a connection.
async fn accept(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
) -> std::io::Result<(TcpStream, SocketAddr, OwnedSemaphorePermit)> {
    let slot = slots
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| std::io::Error::other("the connection limit was closed"))?;
    let (stream, peer) = listener.accept().await?;
    Ok((stream, peer, slot))
}

async fn stop(center: &Center, graceful: GracefulShutdown) {
    tracing::info!("mock stopping");
    center.close();
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; closing them");
    }
}

fn connection_builder(config: &MockConfig) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    // hyper's header timer runs from the moment it waits for a head, idle
    // time included, so at the head limit it would close every kept-alive
    // connection after that long. The watchdog keeps both limits; hyper's
    // timer only backs it up, set past the two together.
    let backstop = config.idle_timeout + config.header_timeout;
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(backstop)
        .max_buf_size(MAX_HEAD_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(config.h2_ping_interval)
        .keep_alive_timeout(config.h2_ping_timeout)
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(MAX_HEADER_LIST);
    builder
}

/// What one connection's task needs.
struct Connection {
    center: Arc<Center>,
    builder: Arc<Builder<TokioExecutor>>,
    watcher: Watcher,
    limits: Limits,
}

impl Connection {
    async fn run(self, stream: TcpStream, acceptor: Option<TlsAcceptor>) {
        // Small responses must not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let Some(acceptor) = acceptor else {
            return self.serve_http(stream).await;
        };

        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => self.serve_http(tls).await,
            Ok(Err(err)) => tracing::debug!(%err, "TLS handshake failed"),
            Err(_) => tracing::debug!("TLS handshake timed out"),
        }
    }

    async fn serve_http<S>(self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Activity::new();
        let stream = Watchdog::new(stream, activity.clone(), self.limits);
        let center = self.center;
        let service = service_fn(move |request| {
            let in_flight = activity.begin();
            let handled = faults::handle(center.clone(), request);
            async move {
                let response = handled.await?;
                Ok::<_, faults::InjectedReset>(response.map(|body| Tracked::new(body, in_flight)))
            }
        });
        let connection = self.builder.serve_connection(TokioIo::new(stream), service);
        if let Err(err) = self.watcher.watch(connection.into_owned()).await {
            tracing::debug!(%err, "connection ended with an error");
        }
    }
}
