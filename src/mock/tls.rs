//! TLS for the mock: a self-signed certificate made at start, or a
//! certificate and key read from PEM files.
//!
//! Configs are built with an explicit ring provider rather than a
//! process-wide default, so nothing depends on who installed one first.
//! ALPN offers h2 before http/1.1; the server speaks both either way.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate made for this run, with the server config that uses it.
#[derive(Debug, Clone)]
pub struct SelfSigned {
    /// The certificate as PEM, for a client's root store.
    pub cert_pem: String,
    /// Its private key as PEM.
    pub key_pem: String,
    /// A server config presenting the certificate, ALPN h2 and http/1.1.
    pub server_config: Arc<ServerConfig>,
}

/// Makes a certificate for `localhost` and `127.0.0.1`.
pub fn self_signed() -> anyhow::Result<SelfSigned> {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let made = rcgen::generate_simple_self_signed(names)
        .context("cannot make a self-signed certificate")?;
    let cert = made.cert.der().clone();
    let key = PrivateKeyDer::try_from(made.signing_key.serialize_der())
        .map_err(|err| anyhow::anyhow!("cannot use the generated key: {err}"))?;

    Ok(SelfSigned {
        cert_pem: made.cert.pem(),
        key_pem: made.signing_key.serialize_pem(),
        server_config: server_config(vec![cert], key)?,
    })
}

/// A server config from a PEM certificate chain and a PEM private key.
pub fn from_pem_files(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read certificates from --cert {}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!(
            "--cert {} holds no PEM certificate; pass a PEM chain",
            cert.display()
        );
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read a private key from --key {}", key.display()))?;
    server_config(chain, key)
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> anyhow::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("the ring provider supports no safe TLS version")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and key do not form a usable pair")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_round_trips_through_pem_files() {
        let made = self_signed().unwrap();
        assert!(made.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(made.server_config.alpn_protocols[0], b"h2");

        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&cert, &made.cert_pem).unwrap();
        std::fs::write(&key, &made.key_pem).unwrap();
        assert!(from_pem_files(&cert, &key).is_ok());
    }

    #[test]
    fn a_file_without_certificates_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let err = from_pem_files(&empty, &empty).unwrap_err();
        assert!(format!("{err:#}").contains("--cert"), "{err:#}");
    }
}
