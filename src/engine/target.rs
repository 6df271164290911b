//! The target of a run: a URL from the scenario, or the embedded mock
//! started on a loopback port with a fresh certificate that the run trusts,
//! and nothing else (never `--insecure`).

use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::api::Endpoint;
use crate::metrics::ErrorKind;
use crate::mock::{self, EmbeddedMock, MockConfig};
use crate::scenario::Scenario;
use crate::transport::{Headers, Transport, TransportConfig, TransportShared};

/// The server a run talks to.
pub struct Target {
    /// Its base URL.
    pub url: String,
    /// Transport settings for it.
    pub transport: Arc<TransportShared>,
    /// Settings the run could not honour, for the summary's warnings.
    pub warnings: Vec<String>,
    /// The mock, when the run started one.
    mock: Option<EmbeddedMock>,
}

impl Target {
    /// Stops the embedded mock, if any.
    pub async fn stop(self) {
        if let Some(mock) = self.mock {
            mock.stop().await;
        }
    }
}

/// Starts the embedded mock if the scenario names no target, builds the
/// transport settings, and checks that the target answers at all: a run
/// against a target that is down or whose certificate fails is not
/// started (exit 3), while failures during a run are data.
pub async fn prepare(scenario: &Scenario) -> anyhow::Result<Target> {
    let target = &scenario.target;
    let (url, mock, ca) = match &target.url {
        Some(url) => (url.clone(), None, read_ca(scenario)?),
        None => {
            let config = MockConfig::from_settings(&scenario.mock);
            let mock = mock::start_embedded(config, true)
                .await
                .context("starting the embedded mock")?;
            let ca = mock.cert_pem.clone().map(String::into_bytes);
            (mock.url.clone(), Some(mock), ca)
        }
    };

    let config = TransportConfig {
        base_url: url.clone(),
        http: target.http,
        ca_cert_pem: ca,
        use_system_roots: mock.is_none(),
        insecure: target.insecure,
        request_timeout: target.request_timeout,
        max_connections: None,
        source_addrs: target.source_addrs.clone(),
    };
    // The transport reads the CA file's contents, not its path: name the
    // file here so that the message says which one is wrong.
    let transport = TransportShared::new(&config).with_context(|| match &target.ca_cert {
        Some(path) if mock.is_none() => format!("--ca-cert {}", path.display()),
        _ => format!("setting up TLS for {url}"),
    })?;
    if target.insecure {
        tracing::warn!(url, "TLS certificates are not verified (--insecure)");
    }
    let warnings = ignored_ca_cert(scenario).into_iter().collect();
    preflight(&transport, scenario).await?;
    Ok(Target {
        url,
        transport,
        warnings,
        mock,
    })
}

/// The embedded mock makes its own certificate and the run trusts it, so a
/// CA file given with it is not used; said aloud, since a user who passed
/// one likely meant to aim at a real target and forgot its URL.
fn ignored_ca_cert(scenario: &Scenario) -> Option<String> {
    let target = &scenario.target;
    let path = target.ca_cert.as_ref().filter(|_| target.url.is_none())?;
    let warning = format!(
        "the CA file {} (--ca-cert or target.ca_cert) was not used: the embedded mock's \
         own certificate is trusted; give target.url or --target to aim at a real server",
        path.display()
    );
    tracing::warn!("{warning}");
    Some(warning)
}

fn read_ca(scenario: &Scenario) -> anyhow::Result<Option<Vec<u8>>> {
    let Some(path) = &scenario.target.ca_cert else {
        return Ok(None);
    };
    std::fs::read(path).map(Some).map_err(|err| {
        crate::exit::usage(format!(
            "--ca-cert {}: cannot read it: {err}; give the path of a PEM file",
            path.display()
        ))
    })
}

/// One Check Availability call: connection and TLS problems stop the run
/// here, with the reason; any HTTP answer means the target is there.
async fn preflight(transport: &Arc<TransportShared>, scenario: &Scenario) -> anyhow::Result<()> {
    let client = Transport::new(transport.clone());
    let path = Endpoint::Availability.path(scenario.target.api, "", "");
    let query = super::caller::tenant_query(&scenario.target.tenant_url);
    let path_and_query = format!("{path}{query}");
    let none = HeaderMap::new();
    let call = client.send(
        Method::GET,
        &path_and_query,
        Headers::shared(&none),
        Bytes::new(),
    );
    // The transport drives HTTP/2 connections as local tasks; the LocalSet
    // closes them when the call is done.
    let result = tokio::task::LocalSet::new().run_until(call).await;
    let Err(err) = result else {
        return Ok(());
    };
    match unreachable_hint(err.kind) {
        Some(hint) => anyhow::bail!(
            "the target {} cannot be reached: {}; {hint}",
            transport_url(scenario),
            err.detail
        ),
        None => {
            tracing::warn!(detail = %err.detail, "the target's first answer was malformed");
            Ok(())
        }
    }
}

/// What to check when the first call fails this way; `None` for failures
/// that still prove the target is there.
fn unreachable_hint(kind: ErrorKind) -> Option<&'static str> {
    match kind {
        ErrorKind::Connect => Some("check the URL and that the server is up"),
        ErrorKind::Tls => Some(
            "check that the certificate is made for the URL's host name, and trust its \
             issuer with --ca-cert (or, for a test server only, --insecure)",
        ),
        ErrorKind::Timeout => Some("it did not answer within target.request_timeout"),
        _ => None,
    }
}

fn transport_url(scenario: &Scenario) -> &str {
    scenario.target.url.as_deref().unwrap_or("(embedded mock)")
}
