//! The periodic work of the session machinery.
//!
//! Owns: [`maintain`], a loop that reloads the revocation set when the
//! store's revocation counter moved (what other replicas revoked) every
//! `refresh` interval and whenever the store says another replica
//! revoked (`RevocationStore::revocations_changed`), and purges revocation rules past their retention
//! and expired issued sessions every `purge` interval. Errors are logged
//! and retried at the next tick. May import the parent's imports and
//! tokio's timer.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::clock::Clock;
use crate::service::store::{IamStore, Timestamp};

use super::Revocations;

/// Expired sessions purged per purge tick at most.
const PURGE_BATCH: usize = 10_000;

/// How often the loop works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaintenanceSettings {
    /// How often the revocation counter is read.
    pub refresh: Duration,
    /// How often expired rules and sessions are purged.
    pub purge: Duration,
}

impl Default for MaintenanceSettings {
    fn default() -> Self {
        Self {
            refresh: Duration::from_secs(1),
            purge: Duration::from_secs(60),
        }
    }
}

/// Runs forever (abort the task to stop it).
pub async fn maintain(
    store: Arc<dyn IamStore>,
    revocations: Arc<Revocations>,
    clock: Arc<dyn Clock>,
    settings: MaintenanceSettings,
) {
    let mut refresh = tokio::time::interval(settings.refresh);
    let mut purge = tokio::time::interval(settings.purge);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    purge.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = refresh.tick() => {
                if let Err(e) = revocations.refresh().await {
                    tracing::warn!(error = %e, "cannot refresh the revocation set");
                }
            }
            () = store.revocations_changed() => {
                if let Err(e) = revocations.refresh().await {
                    tracing::warn!(error = %e, "cannot refresh the revocation set");
                }
            }
            _ = purge.tick() => {
                let now = Timestamp::now(clock.as_ref());
                if let Err(e) = store.purge_revocations(now).await {
                    tracing::warn!(error = %e, "cannot purge revocation rules");
                }
                if let Err(e) = store.purge_sessions(now, PURGE_BATCH).await {
                    tracing::warn!(error = %e, "cannot purge issued sessions");
                }
            }
        }
    }
}
