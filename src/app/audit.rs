//! Building the audit trail from `[audit]`.
//!
//! Owns: reading the digest signing key (a 0600 PKCS#8 Ed25519 file),
//! starting the writer (`adapters::audit`) and wrapping it in the
//! `service::audit::Audit` every transport shares; a disabled trail is
//! `Audit::off`. Imports config, adapters, service and domain.

use std::os::unix::fs::PermissionsExt as _;
use std::sync::Arc;

use super::AppError;
use crate::adapters::audit::{AuditWriter, WriterSettings};
use crate::config::Config;
use crate::config::audit::AuthorizeModeName;
use crate::domain::audit::chain::DigestKey;
use crate::domain::clock::Clock;
use crate::service::audit::{Audit, AuditMode, AuditSink, AuthorizeAudit};

/// The trail and, when on, its writer (to be closed at shutdown).
pub(super) fn build(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<(Arc<Audit>, Option<Arc<AuditWriter>>), AppError> {
    let a = &config.audit;
    if !a.enabled {
        return Ok((Arc::new(Audit::off(clock)), None));
    }
    let key = match &a.signing_key_file {
        Some(path) => Some(read_key(path)?),
        None => None,
    };
    let writer = AuditWriter::start(
        WriterSettings {
            dir: a.dir.clone(),
            stdout: a.stdout,
            rotate_bytes: a.rotate_bytes,
            rotate_age: a.rotate_age,
            queue: a.queue,
            key,
        },
        Arc::clone(&clock),
    )
    .map_err(|e| AppError::Audit(format!("cannot open the audit trail: {e}")))?;
    let authorize = match a.authorize {
        AuthorizeModeName::All => AuthorizeAudit::All,
        AuthorizeModeName::Denials => AuthorizeAudit::Denials,
        AuthorizeModeName::Sample => AuthorizeAudit::Sample(a.sample_rate),
    };
    let mode = if a.sync {
        AuditMode::Sync
    } else {
        AuditMode::Async
    };
    let sink: Arc<dyn AuditSink> = Arc::clone(&writer) as _;
    tracing::info!(
        dir = ?a.dir,
        stdout = a.stdout,
        sync = a.sync,
        signed = a.signing_key_file.is_some(),
        "audit trail on"
    );
    let audit = Audit::new(
        Some(sink),
        clock,
        config.region.to_string(),
        mode,
        authorize,
    );
    Ok((Arc::new(audit), Some(writer)))
}

/// The signing key, from a file only its owner may read.
pub(super) fn read_key(path: &std::path::Path) -> Result<DigestKey, AppError> {
    let fail =
        |why: String| AppError::Audit(format!("audit.signing_key_file {}: {why}", path.display()));
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(fail(
            "must not be readable by group or others (chmod 600)".into(),
        ));
    }
    let bytes = zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| fail(e.to_string()))?);
    DigestKey::from_pkcs8(&bytes).map_err(|e| fail(e.to_string()))
}
