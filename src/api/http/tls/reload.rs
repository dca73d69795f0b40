//! TLS certificate reload without restart.
//!
//! Owns: [`CertReloader`], the rustls certificate resolver of the listener
//! (HTTPS and gRPC alike): it serves the current pair and
//! [`CertReloader::reload`]s the certificate and key files, swapping in
//! the new pair only when the files changed and the pair is usable (PEM
//! parses, the key matches the certificate); otherwise the current pair
//! stays, with a warning that names the file, never the key. [`watch`]
//! reloads every interval; SIGHUP and `POST /admin/reload` reload it with
//! the rest of the configuration (`app::reload`). Handshakes already done
//! keep their certificate; new connections get the new one.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use super::{TlsError, load_pair};

/// The listener's certificate, reloadable.
pub struct CertReloader {
    cert_file: PathBuf,
    key_file: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
    /// SHA-256 over the bytes of both files last loaded (or refused), so
    /// unchanged files are not parsed again and a bad pair warns once.
    seen: Mutex<[u8; 32]>,
}

// === impl CertReloader ===

impl CertReloader {
    /// Loads the pair in `cert_file` and `key_file`.
    ///
    /// # Errors
    ///
    /// A [`TlsError`] naming the file at fault.
    pub fn load(cert_file: &Path, key_file: &Path) -> Result<Arc<Self>, TlsError> {
        let (cert_pem, key_pem, digest) = read(cert_file, key_file)?;
        let pair = load_pair(cert_file, key_file, &cert_pem, &key_pem)?;
        Ok(Arc::new(Self {
            cert_file: cert_file.to_owned(),
            key_file: key_file.to_owned(),
            current: RwLock::new(Arc::new(pair)),
            seen: Mutex::new(digest),
        }))
    }

    /// Reads the files again; swaps in their pair when they changed.
    /// `Ok(true)` when a new pair now serves, `Ok(false)` when the files
    /// are unchanged.
    ///
    /// # Errors
    ///
    /// The new pair's [`TlsError`]; the current pair keeps serving.
    pub fn reload(&self) -> Result<bool, TlsError> {
        let (cert_pem, key_pem, digest) = read(&self.cert_file, &self.key_file)?;
        {
            let mut seen = self.seen.lock();
            if *seen == digest {
                return Ok(false);
            }
            *seen = digest;
        }
        let pair = load_pair(&self.cert_file, &self.key_file, &cert_pem, &key_pem)?;
        *self.current.write() = Arc::new(pair);
        Ok(true)
    }
}

impl ResolvesServerCert for CertReloader {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.current.read()))
    }
}

impl fmt::Debug for CertReloader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertReloader")
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .finish_non_exhaustive()
    }
}

/// The certificate file's bytes, the key file's (zeroized on drop), and
/// the digest of both.
type Files = (Vec<u8>, Zeroizing<Vec<u8>>, [u8; 32]);

/// Both files' bytes and their digest.
fn read(cert_file: &Path, key_file: &Path) -> Result<Files, TlsError> {
    let cert = std::fs::read(cert_file).map_err(|e| TlsError::Certificate {
        path: cert_file.display().to_string(),
        reason: e.to_string(),
    })?;
    let key = Zeroizing::new(std::fs::read(key_file).map_err(|e| TlsError::Key {
        path: key_file.display().to_string(),
        reason: e.to_string(),
    })?);
    let mut hasher = Sha256::new();
    hasher.update(&cert);
    hasher.update(&key[..]);
    Ok((cert, key, hasher.finalize().into()))
}

/// Reloads `certificates` every `interval`, until dropped (the
/// composition root aborts it at shutdown).
pub async fn watch(certificates: Arc<CertReloader>, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match certificates.reload() {
            Ok(true) => tracing::info!("tls certificate reloaded"),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot reload the tls certificate; keeping the current one");
            }
        }
    }
}
