//! TLS for the Query API listener.
//!
//! Owns: installing rustls's **ring** crypto provider as the process
//! default (never aws-lc), and building the rustls server configuration
//! — offering HTTP/2 and HTTP/1.1 by ALPN — around a [`CertReloader`]
//! (`reload`), which serves the PEM certificate chain and private key and
//! swaps in a new pair when the files change, without a restart; and,
//! with a client CA bundle, the optional client-certificate verification
//! of mTLS callers (`client`).

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

mod client;
mod reload;

pub use client::{identify, verifier};
pub use reload::{CertReloader, watch};

/// Why the TLS configuration cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate file is unreadable, not PEM, or holds no certificate.
    #[error("{path}: cannot load the certificate chain: {reason}")]
    Certificate {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The key file is unreadable, not PEM, or holds no private key.
    #[error("{path}: cannot load the private key: {reason}")]
    Key {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The client CA bundle is unreadable, not PEM, holds no certificate,
    /// or rustls cannot verify clients with it.
    #[error("{path}: cannot load the client CA bundle: {reason}")]
    ClientCa {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// rustls refused the pair (e.g. the key does not match the certificate).
    #[error("the certificate and key cannot be used together: {0}")]
    Config(#[from] rustls::Error),
}

/// Installs the ring provider as rustls's process default. Idempotent: a
/// provider already installed (by an earlier call) is kept.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A server configuration serving the pair `certificates` holds (and
/// whatever pair it reloads later), asking for a client certificate
/// issued by a CA of `client_ca_file` when set (optional for the client).
///
/// # Errors
///
/// A [`TlsError`] when rustls refuses the protocol versions or the client
/// CA bundle is unusable.
pub fn server_config(
    certificates: Arc<CertReloader>,
    client_ca_file: Option<&Path>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder =
        ServerConfig::builder_with_provider(provider).with_safe_default_protocol_versions()?;
    let builder = match client_ca_file {
        Some(ca) => builder.with_client_cert_verifier(verifier(ca)?),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(certificates);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The certificate chain and key in `cert_file` and `key_file`, checked to
/// belong together.
fn load_pair(
    cert_file: &Path,
    key_file: &Path,
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<rustls::sign::CertifiedKey, TlsError> {
    let cert_err = |reason: String| TlsError::Certificate {
        path: cert_file.display().to_string(),
        reason,
    };
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_err(e.to_string()))?;
    if certs.is_empty() {
        return Err(cert_err("no CERTIFICATE block found".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Key {
        path: key_file.display().to_string(),
        reason: e.to_string(),
    })?;
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider.key_provider.load_private_key(key)?;
    let certified = rustls::sign::CertifiedKey::new(certs, signing);
    certified.keys_match()?;
    Ok(certified)
}
