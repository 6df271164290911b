//! `chatload serve`: the mock as a program of its own, until Ctrl-C or
//! SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rustls::ServerConfig;
use tokio::net::TcpListener;

use crate::cli::ServeArgs;

use super::config::MockConfig;
use super::server::serve;
use super::tls::{from_pem_files, self_signed};

/// Longest wait for the runtime's threads once the server has stopped.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);

/// Runs `chatload serve` until Ctrl-C or SIGTERM. Prints the base URL on
/// stdout once the listener accepts connections.
pub fn serve_command(args: ServeArgs) -> anyhow::Result<()> {
    let config = MockConfig::from_args(&args)?;
    let tls = tls_config(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;

    let served = runtime.block_on(async move {
        // Listening before the URL is printed: whoever reads the URL may
        // signal at once, and without a handler SIGTERM kills the process.
        let stop = StopSignals::install();
        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on --listen {}", args.listen))?;
        let address = listener
            .local_addr()
            .context("cannot read the listening address")?;
        println!("{}", base_url(address, tls.is_some()));
        tracing::info!(?config, "mock configuration");
        serve(listener, config, tls, stop.recv())
            .await
            .context("the mock server failed")
    });
    // Connections are drained by now; a task stuck in a blocking call must
    // not keep the process alive after Ctrl-C.
    runtime.shutdown_timeout(SHUTDOWN_TIMEOUT);
    served
}

/// TLS as the flags ask: none, the given files, or a fresh self-signed
/// certificate written to `--cert-out`.
fn tls_config(args: &ServeArgs) -> anyhow::Result<Option<Arc<ServerConfig>>> {
    if args.plain {
        return Ok(None);
    }
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        return from_pem_files(cert, key).map(Some);
    }

    let made = self_signed()?;
    if let Some(path) = &args.cert_out {
        std::fs::write(path, &made.cert_pem)
            .with_context(|| format!("cannot write --cert-out {}", path.display()))?;
    }
    Ok(Some(made.server_config))
}

fn base_url(address: SocketAddr, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{address}")
}

/// Ctrl-C and SIGTERM, caught from [`StopSignals::install`] on.
#[cfg(unix)]
struct StopSignals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl StopSignals {
    /// Installs the handlers now, rather than when first awaited. A signal
    /// that cannot be caught is logged, and keeps its default action.
    fn install() -> StopSignals {
        use tokio::signal::unix::{SignalKind, signal};
        let catch = |kind: SignalKind, name: &str| match signal(kind) {
            Ok(caught) => Some(caught),
            Err(err) => {
                tracing::warn!(%err, "cannot listen for {name}");
                None
            }
        };
        StopSignals {
            interrupt: catch(SignalKind::interrupt(), "Ctrl-C"),
            terminate: catch(SignalKind::terminate(), "SIGTERM"),
        }
    }

    /// Resolves at the first of the two signals.
    async fn recv(mut self) {
        tokio::select! {
            () = next(&mut self.interrupt) => {}
            () = next(&mut self.terminate) => {}
        }
    }
}

#[cfg(unix)]
async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending::<()>().await,
    }
}

/// Ctrl-C only, off Unix.
#[cfg(not(unix))]
struct StopSignals;

#[cfg(not(unix))]
impl StopSignals {
    fn install() -> StopSignals {
        StopSignals
    }

    async fn recv(self) {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signals this very process: the handlers must be in place as soon as
    /// `install` returns, before anything awaits, or SIGTERM's default
    /// action ends the test binary.
    #[cfg(unix)]
    #[tokio::test]
    async fn sigterm_is_caught_from_the_moment_the_handlers_are_installed() {
        let stop = StopSignals::install();
        let me = std::process::id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &me])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -TERM {me} failed");

        let caught = tokio::time::timeout(Duration::from_secs(30), stop.recv()).await;
        assert!(caught.is_ok(), "SIGTERM did not stop the wait");
    }

    #[test]
    fn the_base_url_names_scheme_and_address() {
        let address: SocketAddr = "127.0.0.1:8443".parse().unwrap();
        assert_eq!(base_url(address, true), "https://127.0.0.1:8443");
        assert_eq!(base_url(address, false), "http://127.0.0.1:8443");
    }
}
