//! Opening the identity store at start-up.
//!
//! Owns: choosing and opening the backend named by `[store]` (the embedded
//! redb file in the data directory for now; Redis joins in issue 7), and
//! making sure every configured account exists, idempotently. Bootstrap
//! documents are applied next, by `app::bootstrap`.

use std::sync::Arc;

use crate::adapters::embedded::EmbeddedStore;
use crate::config::{Config, StoreBackend};
use crate::domain::clock::Clock;
use crate::service::store::model::AccountRecord;
use crate::service::store::{IamStore, StoreError, Timestamp};

/// Opens the store and ensures the configured accounts.
///
/// # Errors
///
/// The store's error when it cannot be opened (e.g. another process holds
/// the file) or written.
pub(super) async fn open(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn IamStore>, StoreError> {
    let store: Arc<dyn IamStore> = match config.store.backend {
        StoreBackend::Embedded => {
            let dir = config.store.data_dir.clone();
            let store_clock = Arc::clone(&clock);
            // Opening blocks on file I/O and recovery.
            let opened =
                tokio::task::spawn_blocking(move || EmbeddedStore::open(&dir, store_clock))
                    .await
                    .map_err(StoreError::failure)??;
            tracing::info!(path = %opened.path().display(), "store opened");
            Arc::new(opened)
        }
    };
    let accounts =
        std::iter::once(config.accounts.default).chain(config.accounts.additional.iter().copied());
    for id in accounts {
        let record = AccountRecord {
            id,
            alias: None,
            root_access_keys: Vec::new(),
            root_mfa_devices: Vec::new(),
            create_date: Timestamp::now(clock.as_ref()),
        };
        store.ensure_account(record).await?;
    }
    Ok(store)
}
