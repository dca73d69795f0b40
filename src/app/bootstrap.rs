//! Applying the bootstrap documents at start.
//!
//! Owns: reading the files `[bootstrap] documents` names (in order, merged
//! into one desired state so an entity may be described once only) and
//! applying them to the default account as its root, through
//! `service::iam::bootstrap`, after the store opens and before the daemon
//! listens. A failure stops the start; notes (what the documents ask for
//! that stsd leaves out) are logged as warnings.

use crate::config::Config;
use crate::domain::ids::AccessKeyId;
use crate::service::authn::{Caller, Identity};
use crate::service::authz::{AuthzCaller, Transport};
use crate::service::iam::Iam;
use crate::service::iam::bootstrap::{self, BootstrapError, Desired, Target};

/// The documents of `config`, read, validated and merged.
///
/// # Errors
///
/// The first unreadable file, syntax error, invalid entity or entity
/// described twice.
pub(super) fn load(config: &Config) -> Result<Desired, BootstrapError> {
    let target = Target {
        account: config.accounts.default,
        partition: config.partition.clone(),
    };
    let mut desired = Desired::default();
    for path in &config.bootstrap {
        let file = path.display().to_string();
        // Small files read once at start, before anything is served.
        let text = std::fs::read_to_string(path).map_err(|e| BootstrapError::Read {
            file: file.clone(),
            message: e.to_string(),
        })?;
        desired.merge(Desired::parse(&file, &text, &target)?)?;
    }
    Ok(desired)
}

/// Applies the documents of `config` to the default account, whose root
/// signs with `root_key`.
///
/// # Errors
///
/// As [`load`], or the change that failed, by file, entity and field.
pub(super) async fn apply(
    config: &Config,
    iam: &Iam,
    root_key: &AccessKeyId,
) -> Result<(), BootstrapError> {
    if config.bootstrap.is_empty() {
        return Ok(());
    }
    let desired = load(config)?;
    let caller = Caller {
        account: config.accounts.default,
        identity: Identity::Root,
        access_key_id: Some(root_key.clone()),
        region: None,
    };
    let root = AuthzCaller::load(
        &*iam.store,
        &*iam.clock,
        &iam.partition,
        &caller,
        &Transport::default(),
    )
    .await?;
    let report = bootstrap::apply(iam, &root, &desired).await?;
    for note in &report.notes {
        tracing::warn!(note = %note, "bootstrap: left out");
    }
    tracing::info!(
        documents = config.bootstrap.len(),
        changes = report.changes,
        "bootstrap applied"
    );
    Ok(())
}
