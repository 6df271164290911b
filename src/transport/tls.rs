//! The rustls client settings of a run: which roots are trusted, whether
//! certificates are checked at all, and what ALPN offers.

use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use super::TransportConfig;
use super::insecure::AcceptAnyCertificate;
use crate::exit::usage;
use crate::scenario::HttpVersion;

/// Builds the client TLS settings for `cfg`. `is_tls` is false for a plain
/// `http://` target: then no roots are needed, but a CA file given anyway
/// is still checked, so a wrong file is reported whatever the scheme.
pub(super) fn client_config(cfg: &TransportConfig, is_tls: bool) -> anyhow::Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("the ring provider supports no default TLS version")?;

    let mut config = if cfg.insecure {
        let verifier = AcceptAnyCertificate::new(provider.signature_verification_algorithms);
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    } else {
        let roots = root_store(cfg, is_tls)?;
        builder.with_root_certificates(roots).with_no_client_auth()
    };

    config.alpn_protocols = alpn_offer(cfg.http);
    Ok(config)
}

/// The protocols offered in the handshake. HTTP/1.1 is named explicitly
/// rather than left to the no-ALPN default, so a server that needs ALPN to
/// pick a protocol picks the one the scenario asked for.
fn alpn_offer(http: HttpVersion) -> Vec<Vec<u8>> {
    match http {
        HttpVersion::Http1 => vec![b"http/1.1".to_vec()],
        HttpVersion::Http2 => vec![b"h2".to_vec()],
        HttpVersion::Auto => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
    }
}

fn root_store(cfg: &TransportConfig, is_tls: bool) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    if let Some(pem) = &cfg.ca_cert_pem {
        add_pem_roots(&mut roots, pem)?;
    }
    if cfg.use_system_roots && is_tls {
        add_system_roots(&mut roots);
    }

    if roots.is_empty() && is_tls {
        anyhow::bail!(
            "no trusted root certificate for {}: give a CA file or allow the system roots",
            cfg.base_url
        );
    }
    Ok(roots)
}

fn add_pem_roots(roots: &mut RootCertStore, pem: &[u8]) -> anyhow::Result<()> {
    if pem.iter().all(u8::is_ascii_whitespace) {
        return Err(usage(
            "the CA certificate file is empty; give a PEM file holding the certificates to trust",
        ));
    }

    let certs = parse_pem_certs(pem)?;
    if certs.is_empty() {
        return Err(usage(
            "the CA certificate file holds no certificate (no BEGIN CERTIFICATE block); \
             give a PEM file of trusted certificates",
        ));
    }

    for (index, cert) in certs.into_iter().enumerate() {
        roots.add(cert).map_err(|err| {
            usage(format!(
                "certificate {} of the CA certificate file cannot be trusted: {err}; \
                 give a valid X.509 certificate in PEM form",
                index + 1
            ))
        })?;
    }
    Ok(())
}

fn parse_pem_certs(pem: &[u8]) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| {
            usage(format!(
                "the CA certificate file is not valid PEM ({err}); give a PEM file of trusted \
             certificates"
            ))
        })
}

/// Adds the operating system's roots, or the bundled Mozilla roots when the
/// system has none (a slim container image often ships without them).
fn add_system_roots(roots: &mut RootCertStore) {
    let native = rustls_native_certs::load_native_certs();
    for err in &native.errors {
        tracing::debug!(%err, "skipped part of the system certificate store");
    }

    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(added, ignored, "system root certificates");
    if added == 0 {
        tracing::warn!("no system root certificate found; trusting the bundled Mozilla roots");
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::exit::is_usage;

    fn config(pem: Option<&[u8]>) -> TransportConfig {
        TransportConfig {
            base_url: "https://127.0.0.1:8443".to_owned(),
            http: HttpVersion::Auto,
            ca_cert_pem: pem.map(<[u8]>::to_vec),
            use_system_roots: false,
            insecure: false,
            request_timeout: Duration::from_secs(5),
            max_connections: None,
            source_addrs: Vec::new(),
        }
    }

    fn self_signed_pem() -> String {
        let key = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        key.cert.pem()
    }

    #[test]
    fn alpn_follows_the_http_policy() {
        assert_eq!(alpn_offer(HttpVersion::Http1), vec![b"http/1.1".to_vec()]);
        assert_eq!(alpn_offer(HttpVersion::Http2), vec![b"h2".to_vec()]);
        assert_eq!(
            alpn_offer(HttpVersion::Auto),
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }

    #[test]
    fn a_pem_certificate_becomes_the_only_root() {
        let pem = self_signed_pem();
        let tls = client_config(&config(Some(pem.as_bytes())), true).unwrap();
        assert_eq!(tls.alpn_protocols.len(), 2);
    }

    #[test]
    fn an_empty_ca_file_is_a_usage_error() {
        let err = client_config(&config(Some(b"  \n")), true).unwrap_err();
        assert!(is_usage(&err));
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn a_ca_file_without_certificates_is_a_usage_error() {
        let err = client_config(&config(Some(b"just some text\n")), true).unwrap_err();
        assert!(is_usage(&err));
        assert!(err.to_string().contains("no certificate"), "{err}");
    }

    #[test]
    fn no_roots_at_all_is_refused_over_tls() {
        let err = client_config(&config(None), true).unwrap_err();
        assert!(err.to_string().contains("no trusted root"), "{err}");
    }

    #[test]
    fn insecure_needs_no_roots() {
        let mut cfg = config(None);
        cfg.insecure = true;
        assert!(client_config(&cfg, true).is_ok());
    }
}
