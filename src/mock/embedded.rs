//! The mock started inside another program: `chatload run` with no target,
//! and the tests.

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::config::MockConfig;
use super::server::serve;
use super::stats::STATS_PATH;
use super::tls::self_signed;

/// A mock serving on a loopback port of the current runtime.
#[derive(Debug)]
pub struct EmbeddedMock {
    /// Base URL, such as `https://127.0.0.1:PORT` (or `http://` when plain).
    pub url: String,
    /// The self-signed certificate to trust, when serving TLS.
    pub cert_pem: Option<String>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Binds 127.0.0.1:0 and spawns `serve` on the current tokio runtime.
pub async fn start_embedded(config: MockConfig, tls: bool) -> anyhow::Result<EmbeddedMock> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot bind the embedded mock to a loopback port")?;
    let address = listener
        .local_addr()
        .context("cannot read the embedded mock's address")?;
    let (cert_pem, tls_config, scheme) = if tls {
        let made = self_signed()?;
        (Some(made.cert_pem), Some(made.server_config), "https")
    } else {
        (None, None, "http")
    };

    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let task = tokio::spawn(serve(listener, config, tls_config, shutdown));
    Ok(EmbeddedMock {
        url: format!("{scheme}://{address}"),
        cert_pem,
        stop,
        task,
    })
}

impl EmbeddedMock {
    /// The URL of the mock's counters.
    pub fn stats_url(&self) -> String {
        format!("{}{STATS_PATH}", self.url)
    }

    /// Stops the mock and waits until it has closed its connections.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(%err, "embedded mock stopped with an error"),
            Err(err) => tracing::warn!(%err, "embedded mock task failed"),
        }
    }
}
