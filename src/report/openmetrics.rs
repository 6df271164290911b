//! Live metrics during a run: `--metrics-addr ADDR` serves the run's
//! figures so far at `http://ADDR/metrics` in OpenMetrics text, for
//! Prometheus to scrape and Grafana to show (see deploy/grafana/).
//!
//! The harvester hands each interval's merged snapshot to
//! [`LiveMetrics::update`] once a second; a scrape renders the cumulative
//! state. Neither touches the workers' hot path.

mod exposition;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};

use crate::metrics::Snapshot;

/// Content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The path scrapes are served on.
pub const PATH: &str = "/metrics";

/// Time open scrapes get to finish once the run ends.
const DRAIN: Duration = Duration::from_secs(2);

/// Pause after a failed accept (such as running out of file descriptors)
/// so that the loop does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Live state the engine updates once per interval (from the harvest loop):
/// cumulative counters and histograms.
///
/// A mutex is enough: it is taken once a second by the harvester and once
/// per scrape, never by a worker.
#[derive(Debug, Default)]
pub struct LiveMetrics {
    totals: Mutex<Snapshot>,
}

impl LiveMetrics {
    /// Empty state, shared between the harvester and the server.
    pub fn new() -> Arc<LiveMetrics> {
        Arc::new(LiveMetrics::default())
    }

    /// Adds one interval's merged snapshot. Counters and histograms add
    /// up; the gauges take the interval's values, since they describe now.
    pub fn update(&self, interval: &Snapshot) {
        let mut totals = self.totals.lock().unwrap_or_else(PoisonError::into_inner);
        totals.merge(interval);
        totals.active_clients = interval.active_clients;
        totals.active_chats = interval.active_chats;
    }

    /// The OpenMetrics text of everything so far, ending with `# EOF`.
    pub fn render(&self) -> String {
        // A panic elsewhere while holding the lock leaves figures that are
        // still whole snapshots merged, so they are served rather than lost.
        let totals = self.totals.lock().unwrap_or_else(PoisonError::into_inner);
        exposition::render(&totals)
    }
}

/// Serves GET /metrics in OpenMetrics text (Content-Type:
/// application/openmetrics-text; version=1.0.0; charset=utf-8), ends with
/// "# EOF".
///
/// Runs until `shutdown` completes, then gives open scrapes a moment to
/// finish. Errors only if the listener's address cannot be read; a
/// failed connection is logged and the server goes on.
pub async fn serve(
    listener: TcpListener,
    live: Arc<LiveMetrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!("live metrics at http://{addr}{PATH}");
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);

    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => spawn_connection(stream, peer, &live, &graceful),
                Err(err) => {
                    tracing::warn!(%addr, %err, "metrics server could not accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            () = &mut shutdown => break,
        }
    }

    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!("metrics scrapes still open at the end were cut off");
    }
    Ok(())
}

fn spawn_connection(
    stream: TcpStream,
    peer: SocketAddr,
    live: &Arc<LiveMetrics>,
    graceful: &GracefulShutdown,
) {
    tracing::debug!(%peer, "metrics scrape connection");
    let live = Arc::clone(live);
    let service = service_fn(move |req| answer(req, Arc::clone(&live)));
    let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        if let Err(err) = conn.await {
            tracing::debug!(%peer, %err, "metrics connection ended with an error");
        }
    });
}

async fn answer(
    req: Request<Incoming>,
    live: Arc<LiveMetrics>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = if req.uri().path() != PATH {
        plain(
            StatusCode::NOT_FOUND,
            format!("not found; metrics are at {PATH}\n"),
        )
    } else if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "use GET\n".to_owned());
        let allow = header::HeaderValue::from_static("GET, HEAD");
        response.headers_mut().insert(header::ALLOW, allow);
        response
    } else {
        metrics(&live)
    };
    Ok(response)
}

fn metrics(live: &LiveMetrics) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(live.render())));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(CONTENT_TYPE),
    );
    response
}

fn plain(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::api::Endpoint;
    use crate::metrics::{Outcome, WorkerMetrics};

    fn interval(requests: u64, clients: u64) -> Snapshot {
        let now = Instant::now();
        let mut worker = WorkerMetrics::new();
        for _ in 0..requests {
            let done = now + Duration::from_millis(3);
            worker.record_request(Endpoint::SendEvents, now, now, done, Outcome::Status(200));
        }
        worker.set_active(clients, clients / 2);
        worker.take()
    }

    #[test]
    fn counters_accumulate_and_gauges_follow_the_last_interval() {
        let live = LiveMetrics::new();
        live.update(&interval(4, 10));
        live.update(&interval(6, 3));
        let text = live.render();

        let sent = "chatload_requests_total{endpoint=\"send_events\",status=\"200\"} 10";
        assert!(text.contains(sent), "{text}");
        assert!(text.contains("chatload_active_clients 3\n"), "{text}");
        assert!(text.contains("chatload_active_chats 1\n"), "{text}");
    }

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn live_metrics_can_be_shared_across_threads() {
        assert_send_sync::<LiveMetrics>();
    }
}
