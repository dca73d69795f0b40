//! Opening the identity store at start-up.
//!
//! Owns: choosing and opening the backend named by `[store]` (the embedded
//! redb file in the data directory, or Redis from `[store.redis]`, whose
//! CA file is read here), and making sure every configured account exists,
//! idempotently. Bootstrap documents are applied next, by `app::bootstrap`.

use std::sync::Arc;

use crate::adapters::embedded::EmbeddedStore;
use crate::adapters::redis::{RedisMode, RedisSettings, RedisStore};
use crate::config::redis::{RedisConfig, RedisTopology};
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
        StoreBackend::Redis => {
            let redis = config.store.redis.as_ref().ok_or_else(|| {
                StoreError::failure("backend \"redis\" without [store.redis] settings")
            })?;
            let settings = redis_settings(redis).await?;
            let opened = RedisStore::open(&settings, Arc::clone(&clock)).await?;
            tracing::info!(target = opened.target(), "redis store opened");
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

/// The adapter's settings from the validated `[store.redis]`, with the CA
/// file read.
async fn redis_settings(redis: &RedisConfig) -> Result<RedisSettings, StoreError> {
    let ca_pem = match &redis.ca_file {
        Some(path) => {
            let path = path.clone();
            let read =
                tokio::task::spawn_blocking(move || std::fs::read(&path).map_err(|e| (path, e)))
                    .await
                    .map_err(StoreError::failure)?;
            Some(read.map_err(|(path, e)| {
                StoreError::failure(format!(
                    "cannot read store.redis.ca_file {}: {e}",
                    path.display()
                ))
            })?)
        }
        None => None,
    };
    let mode = match &redis.topology {
        RedisTopology::Standalone { url } => RedisMode::Standalone { url: url.clone() },
        RedisTopology::Sentinel {
            sentinels,
            master,
            url,
        } => RedisMode::Sentinel {
            sentinels: sentinels.clone(),
            master: master.clone(),
            url: url.clone(),
        },
        RedisTopology::Cluster { seeds } => RedisMode::Cluster {
            seeds: seeds.clone(),
        },
    };
    Ok(RedisSettings {
        mode,
        prefix: redis.prefix.clone(),
        connect_timeout: redis.connect_timeout,
        response_timeout: redis.response_timeout,
        invalidation_poll: redis.invalidation_poll,
        ca_pem,
    })
}
