//! The TLS client configuration of discovery and JWKS fetches.
//!
//! Owns: the trusted roots — the system's CA store
//! (`rustls-native-certs`: `/etc/ssl/certs` on Debian, so a CA the
//! operator installed with `update-ca-certificates` is trusted as by every
//! other program, and updates come with the OS rather than with a rebuild,
//! which `webpki-roots` would need) plus the PEM bundle of `[federation]
//! ca_file` / `STSD_FEDERATION_CA_FILE` for IdPs behind a private CA —
//! and the rustls client on the ring provider (no aws-lc).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use rustls::{ClientConfig, RootCertStore};

/// Why the client configuration cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// The CA file is unreadable, not PEM, or holds no usable certificate.
    #[error("{path}: cannot load the federation CA bundle: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// No root at all: no system store and no CA file.
    #[error(
        "no trusted CA certificate: the system store is empty and no federation CA file is set"
    )]
    NoRoots,
    /// rustls refused the configuration.
    #[error("tls: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The client configuration: system roots plus `ca_file`'s certificates.
///
/// # Errors
///
/// [`TlsSetupError`].
pub fn client_config(ca_file: Option<&Path>) -> Result<ClientConfig, TlsSetupError> {
    let roots = root_store(ca_file)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The trusted roots: the system's plus `ca_file`'s certificates (also
/// the agent's, whose client may add a client certificate).
///
/// # Errors
///
/// [`TlsSetupError`].
pub fn root_store(ca_file: Option<&Path>) -> Result<RootCertStore, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        tracing::warn!(error = %e, "a system CA certificate cannot be read");
    }
    let (system, _) = roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let fail = |reason: String| TlsSetupError::CaFile {
            path: path.display().to_string(),
            reason,
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| fail(e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| fail(e.to_string()))?;
        if certs.is_empty() {
            return Err(fail("no CERTIFICATE block found".into()));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| fail(format!("a certificate is unusable as a root: {e}")))?;
        }
    }
    if roots.is_empty() {
        return Err(TlsSetupError::NoRoots);
    }
    tracing::debug!(system, total = roots.len(), "TLS roots loaded");
    Ok(roots)
}
