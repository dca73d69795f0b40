//! Client certificates (mTLS) on the listener.
//!
//! Owns: the rustls client-certificate verifier built from the
//! `client_ca_file` PEM bundle (`WebPkiClientVerifier`, ring provider),
//! which **allows unauthenticated clients** so SigV4 keeps working without
//! a certificate, but fails the handshake of a certificate that does not
//! chain to the bundle (or lacks the client-auth usage); and
//! [`identify`], which reads the SANs of the verified **leaf** certificate
//! (with `rustls-webpki`, the parser rustls itself uses) and resolves them
//! against the configured table once per connection. Only names are read
//! or logged, never key material.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;

use super::TlsError;
use crate::domain::client_cert::{ClientMatch, ClientPrincipals};

/// A verifier of client certificates issued by the CAs in `ca_file`;
/// clients without a certificate are let through.
///
/// # Errors
///
/// [`TlsError::ClientCa`] when the file is unreadable, holds no
/// certificate, or a certificate cannot be a trust anchor.
pub fn verifier(ca_file: &Path) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let fail = |reason: String| TlsError::ClientCa {
        path: ca_file.display().to_string(),
        reason,
    };
    let pem = std::fs::read(ca_file).map_err(|e| fail(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(e.to_string()))?;
    if certs.is_empty() {
        return Err(fail("no CERTIFICATE block found".into()));
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| fail(e.to_string()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .allow_unauthenticated()
        .build()
        .map_err(|e| fail(e.to_string()))
}

/// What the connection's client certificate is: `None` without one,
/// otherwise its leaf's SANs resolved against `principals`. Call only
/// after the handshake, when rustls has verified the chain.
pub fn identify(
    peer_certificates: Option<&[CertificateDer<'_>]>,
    principals: &ClientPrincipals,
) -> Option<ClientMatch> {
    let leaf = peer_certificates?.first()?;
    let found = match webpki::EndEntityCert::try_from(leaf) {
        Ok(cert) => principals.resolve(cert.valid_uri_names(), cert.valid_dns_names()),
        // rustls parsed it while verifying, so this is unexpected; the
        // certificate then authenticates nobody.
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the client certificate's names");
            ClientMatch::Unmapped
        }
    };
    match &found {
        ClientMatch::Mapped { principal, san } => {
            tracing::debug!(%san, %principal, "client certificate mapped");
        }
        ClientMatch::Unmapped => tracing::debug!("client certificate not mapped"),
        ClientMatch::Ambiguous => {
            tracing::debug!("client certificate mapped to more than one principal");
        }
    }
    Some(found)
}
