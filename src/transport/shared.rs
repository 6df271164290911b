//! What every transport of a run shares: the parsed target, the TLS
//! settings and the source-address rotation. Built once, before any load,
//! so a bad URL or CA file stops the run at the start with a usage error.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::uri::{Authority, Scheme};
use http::{HeaderValue, Uri};
use rustls::ClientConfig;
use rustls::pki_types::ServerName;

use super::connector::SourceConnector;
use super::{TransportConfig, tls};
use crate::exit::usage;
use crate::scenario::HttpVersion;

/// Built once per run and shared (`Arc`) by every
/// [`Transport`](super::Transport): the parsed base URL, the rustls client
/// settings with their ALPN offer, and the connector settings.
pub struct TransportShared {
    pub(super) scheme: Scheme,
    pub(super) authority: Authority,
    pub(super) http: HttpVersion,
    pub(super) tls: Arc<ClientConfig>,
    pub(super) tcp: SourceConnector,
    /// What the TCP connector is given: the scheme and authority alone.
    pub(super) dial_uri: Uri,
    /// The name the server's certificate must carry; `None` on plain HTTP.
    pub(super) server_name: Option<ServerName<'static>>,
    /// The `Host` header of every HTTP/1.1 request.
    pub(super) host: HeaderValue,
    pub(super) request_timeout: Duration,
    pub(super) max_connections: Option<usize>,
}

impl TransportShared {
    /// Checks `cfg` and prepares what the transports need. A bad URL, an
    /// unreadable or empty CA PEM, or a zero connection cap is a usage
    /// error naming the value.
    pub fn new(cfg: &TransportConfig) -> anyhow::Result<Arc<TransportShared>> {
        let (scheme, authority) = parse_base_url(&cfg.base_url)?;
        if cfg.max_connections == Some(0) {
            return Err(usage(
                "the connection cap is 0; allow at least 1 connection",
            ));
        }

        let is_tls = scheme == Scheme::HTTPS;
        let tls = tls::client_config(cfg, is_tls)?;
        let server_name = if is_tls {
            Some(server_name(&authority)?)
        } else {
            None
        };
        let dial_uri = dial_uri(&scheme, &authority)?;
        let host = host_header(&authority)?;
        tracing::debug!(
            target = %cfg.base_url,
            http = ?cfg.http,
            insecure = cfg.insecure,
            max_connections = ?cfg.max_connections,
            source_addrs = cfg.source_addrs.len(),
            "transport settings"
        );

        Ok(Arc::new(TransportShared {
            scheme,
            authority,
            http: cfg.http,
            tls: Arc::new(tls),
            tcp: SourceConnector::new(&cfg.source_addrs),
            dial_uri,
            server_name,
            host,
            request_timeout: cfg.request_timeout,
            max_connections: cfg.max_connections,
        }))
    }

    /// True when every connection speaks HTTP/2 without negotiation: by
    /// ALPN `h2` alone over TLS, by prior knowledge on plain HTTP.
    pub(super) fn is_http2_only(&self) -> bool {
        self.http == HttpVersion::Http2
    }
}

impl fmt::Debug for TransportShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportShared")
            .field("scheme", &self.scheme)
            .field("authority", &self.authority)
            .field("http", &self.http)
            .field("request_timeout", &self.request_timeout)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

/// Splits a base URL into scheme and authority. A path prefix is refused
/// because the API paths are absolute (`/clientweb/...`) and joining them
/// to a prefix is not supported.
fn parse_base_url(url: &str) -> anyhow::Result<(Scheme, Authority)> {
    let uri: Uri = url.parse().map_err(|err| {
        usage(format!(
            "target url {url:?} is not a valid URL ({err}); write https://host[:port]"
        ))
    })?;

    let scheme = match uri.scheme() {
        Some(s) if *s == Scheme::HTTPS || *s == Scheme::HTTP => s.clone(),
        _ => {
            return Err(usage(format!(
                "target url {url:?} must start with https:// or http://"
            )));
        }
    };
    let Some(authority) = uri.authority().cloned() else {
        return Err(usage(format!(
            "target url {url:?} has no host; write https://host[:port]"
        )));
    };

    let path = uri.path_and_query().map_or("", |pq| pq.as_str());
    if !path.is_empty() && path != "/" {
        return Err(usage(format!(
            "target url {url:?} has a path or query {path:?}, which is not supported; \
             give only the scheme, host and port"
        )));
    }
    Ok((scheme, authority))
}

/// The TLS server name of the target's host, brackets of an IPv6 literal
/// taken off.
fn server_name(authority: &Authority) -> anyhow::Result<ServerName<'static>> {
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    ServerName::try_from(host.to_owned()).map_err(|err| {
        usage(format!(
            "target host {host:?} is not a valid TLS server name ({err}); give a DNS name \
             or an IP address"
        ))
    })
}

fn dial_uri(scheme: &Scheme, authority: &Authority) -> anyhow::Result<Uri> {
    Uri::builder()
        .scheme(scheme.clone())
        .authority(authority.clone())
        .path_and_query("/")
        .build()
        .map_err(|err| {
            usage(format!(
                "target {scheme}://{authority} is not a valid URL: {err}"
            ))
        })
}

fn host_header(authority: &Authority) -> anyhow::Result<HeaderValue> {
    HeaderValue::from_str(authority.as_str()).map_err(|err| {
        usage(format!(
            "target authority {:?} cannot be a Host header: {err}",
            authority.as_str()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::is_usage;

    #[test]
    fn a_scheme_and_authority_parse() {
        let (scheme, authority) = parse_base_url("https://127.0.0.1:8443").unwrap();
        assert_eq!(scheme, Scheme::HTTPS);
        assert_eq!(authority.as_str(), "127.0.0.1:8443");

        let (scheme, authority) = parse_base_url("http://chat.example.com/").unwrap();
        assert_eq!(scheme, Scheme::HTTP);
        assert_eq!(authority.host(), "chat.example.com");
    }

    #[test]
    fn a_path_prefix_is_refused_with_the_url_named() {
        let err = parse_base_url("https://chat.example.com/clientweb").unwrap_err();
        assert!(is_usage(&err));
        assert!(
            err.to_string()
                .contains("\"https://chat.example.com/clientweb\""),
            "{err}"
        );
    }

    #[test]
    fn other_schemes_and_bare_hosts_are_refused() {
        for url in [
            "ftp://chat.example.com",
            "chat.example.com:443",
            "https://",
            "not a url",
        ] {
            let err = parse_base_url(url).unwrap_err();
            assert!(is_usage(&err), "{url}: {err}");
        }
    }
}
